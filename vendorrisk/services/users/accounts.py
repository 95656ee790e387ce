"""Users, passwords (argon2id) and server-side login sessions."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

from vendorrisk import clock
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import Role, User
from vendorrisk.services.users import passwords
from vendorrisk.services.users.sessions import revoke_sessions

#: argon2id with argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4),
#: above OWASP's floor (m=19 MiB, t=2, p=1).
_hasher = PasswordHasher()
#: Verified against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-timing")
MIN_PASSWORD_LENGTH = passwords.MIN_PASSWORD_LENGTH


class UserError(ServiceError):
    """A user-facing error; its message is translated."""


def hash_password(password: str, email: str = "", name: str = "") -> str:
    """The argon2id hash of a password the policy accepts for this user."""
    check_password_policy(password, email, name)
    return _hasher.hash(password)


def check_password_policy(password: str, email: str = "", name: str = "") -> None:
    """Refuse a short, common or guessable password, or one holding the user's email."""
    problem = passwords.problem(password, email, name)
    if problem is not None:
        raise UserError(problem)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in constant-ish time whether or not the user exists."""
    known = user is not None and user.password_hash is not None  # None: single sign-on only
    try:
        return _hasher.verify(user.password_hash if known else _DUMMY_HASH, password) and known
    except (VerificationError, InvalidHashError):
        return False


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def one_time_password() -> str:
    return secrets.token_urlsafe(15)


def one_time_password_expiry(now: datetime) -> datetime:
    """When a one-time password issued at `now` stops working (ONE_TIME_PASSWORD_HOURS)."""
    return now + timedelta(hours=current_app.config["ONE_TIME_PASSWORD_HOURS"])


def password_expired(user: User, now: datetime) -> bool:
    """Whether the user's password is a one-time password past its expiry."""
    return user.password_expires_at is not None and user.password_expires_at <= now


def create_user(
    email: str,
    role: Role | str,
    name: str = "",
    locale: str | None = None,
    now: datetime | None = None,
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
        password_hash=hash_password(password, email, name),
        must_change_password=True,
        password_expires_at=one_time_password_expiry(now or clock.now()),
    )
    db.session.add(user)
    db.session.flush()
    return user, password


def reset_password(user: User, now: datetime | None = None) -> str:
    """Give the user a new one-time password and end all their sessions."""
    if user.uses_sso:
        raise UserError(_l("This user signs in through single sign-on and has no password here."))
    password = one_time_password()
    user.password_hash = hash_password(password, user.email, user.name)
    user.must_change_password = True
    user.password_expires_at = one_time_password_expiry(now or clock.now())
    revoke_sessions(user)
    return password


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user, current):
        raise UserError(_l("The current password is not correct."))
    if new == current:
        raise UserError(_l("Choose a password different from the current one."))
    set_password(user, new)  # every other login with the old password ends; the caller opens anew


def set_password(user: User, new: str) -> None:
    """The user's own new password (policy applied); every session of theirs ends."""
    user.password_hash = hash_password(new, user.email, user.name)
    user.must_change_password = False
    user.password_expires_at = None
    revoke_sessions(user)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (a service account never logs in:
    it has no password)."""
    user = find_by_email(email)
    if verify_password(user, password) and user is not None and user.active:
        if user.service_account:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return user
    return None
