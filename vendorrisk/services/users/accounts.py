"""Users, passwords (argon2id) and server-side login sessions."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import Role, User, UserSession
from vendorrisk.models.base import utcnow
from vendorrisk.services import audit

#: argon2id with argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4),
#: above OWASP's floor (m=19 MiB, t=2, p=1).
_hasher = PasswordHasher()
#: Verified against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-timing")
MIN_PASSWORD_LENGTH = 12


class UserError(ServiceError):
    """A user-facing error; its message is translated."""


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            _l("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH)
        )


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in constant-ish time whether or not the user exists."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def one_time_password() -> str:
    return secrets.token_urlsafe(15)


def create_user(
    email: str, role: Role | str, name: str = "", locale: str | None = None
) -> tuple[User, str]:
    """Create a user with a one-time password that must be changed at first login."""
    email = email.strip().lower()
    if find_by_email(email) is not None:
        raise UserError(_l("A user with this email address already exists."))
    password = one_time_password()
    user = User(
        email=email,
        name=name,
        role=Role(role),
        locale=locale,
        password_hash=hash_password(password),
        must_change_password=True,
    )
    db.session.add(user)
    db.session.flush()
    return user, password


def reset_password(user: User) -> str:
    """Give the user a new one-time password and end all their sessions."""
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    revoke_sessions(user)
    return password


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise UserError(_l("The current password is not correct."))
    if new == current:
        raise UserError(_l("Choose a password different from the current one."))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    revoke_sessions(user)  # every other login with the old password ends; the caller opens anew


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = find_by_email(email)
    if verify_password(user, password) and user is not None and user.active:
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user
    return None


def start_session(user: User, lifetime_hours: int, ip: str | None, user_agent: str | None) -> str:
    """Open a new server-side session and return its token (kept only in the cookie)."""
    now = utcnow()
    session = UserSession(
        user=user,
        created_at=now,
        expires_at=now + timedelta(hours=lifetime_hours),
        ip=ip,
        user_agent=(user_agent or "")[:255],
    )
    token = session.issue_token()
    db.session.add(session)
    user.last_login_at = now
    user.session_token = token
    actor = audit.Actor(type="user", label=user.email, user_id=user.id, ip=ip)
    with audit.acting_as(actor):
        audit.record("login", user, summary=user.email)
    return token


def load_session(token: str) -> User | None:
    """The user of a live session token, or None when unknown, expired or revoked."""
    row = db.session.scalar(
        UserSession.with_token(token).options(sa.orm.joinedload(UserSession.user))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    if not row.user.active:
        return None
    row.user.session_token = token
    return row.user


def end_session(token: str | None) -> None:
    """Revoke one session (logout)."""
    if not token:
        return
    row = db.session.scalar(UserSession.with_token(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("logout", row.user, summary=row.user.email)


def revoke_sessions(user: User) -> None:
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
