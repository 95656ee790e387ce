"""API tokens: issue (shown once), authenticate a bearer, revoke; and service accounts.

A token carries 256 random bits behind a recognisable prefix (vr_pat_ for a person's, vr_svc_
for a service account's), so its SHA-256 is enough at rest (a slow salted hash is for secrets
that can be guessed). Every token expires (at most API_TOKEN_MAX_DAYS after it is made); its
last use is kept to the minute. Creation and revocation are audited with the row (never the
token itself: its hash is redacted).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from vendorrisk import clock
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import ApiToken, Role, TokenKind, TokenScope, User
from vendorrisk.services.users.accounts import UserError, find_by_email

#: last_used_at moves on at most this often: one write a minute, not one a request.
USED_EVERY = timedelta(minutes=1)
#: A service account's password hash: no password verifies against it (not an argon2 hash).
NO_PASSWORD = "!service-account"  # noqa: S105  # nosec B105 no hash: never verifies


class TokenError(ServiceError):
    """A token refused at creation (its expiry out of range), with a message for the user."""


def expiry_of(day: date) -> datetime:
    """A token chosen to expire on `day` stops at the start of that day, the company's time."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def max_expiry(now: datetime) -> datetime:
    """The latest expiry a token made at `now` may have."""
    return now + timedelta(days=current_app.config["API_TOKEN_MAX_DAYS"])


def issue(
    user: User,
    name: str,
    scope: TokenScope | str,
    expires_at: datetime,
    created_by: User,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for `user` (personal if they made it, else a service token); the token is
    returned once and never stored."""
    now = now or clock.now()
    if not now < expires_at <= max_expiry(now):
        raise TokenError(
            _l(
                "Choose an expiry after today and at most %(days)d days ahead.",
                days=current_app.config["API_TOKEN_MAX_DAYS"],
            )
        )
    kind = TokenKind.service if user.service_account else TokenKind.personal
    row = ApiToken(
        user=user,
        kind=kind,
        name=name.strip()[:100],
        scope=TokenScope(scope),
        created_at=now,
        created_by=created_by,
        expires_at=expires_at,
    )
    token = row.issue_token()
    db.session.add(row)
    db.session.flush()
    return row, token


def authenticate(token: str, now: datetime | None = None) -> ApiToken | None:
    """The live token row for a presented bearer token, with its user; None when unknown,
    expired, revoked, or its user deactivated. Its last use moves on (the caller commits)."""
    now = now or clock.now()
    row = db.session.scalar(ApiToken.with_token(token).options(sa.orm.joinedload(ApiToken.user)))
    if row is None or not row.usable_at(now) or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= USED_EVERY:
        row.last_used_at = now
    return row


def revoke(row: ApiToken, now: datetime | None = None) -> bool:
    """Revoke a token; False if it already was."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now or clock.now()
    db.session.flush()
    return True


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, live ones first, the newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


def own_token(user: User, token_id: int) -> ApiToken | None:
    """One of the user's own tokens (an id from elsewhere is no token)."""
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def service_accounts() -> list[User]:
    return list(
        db.session.scalars(sa.select(User).where(User.service_account).order_by(User.email))
    )


def create_service_account(email: str, name: str, role: Role | str) -> User:
    """A service account: a role like any user, no password, never an interactive login."""
    email = email.strip().lower()
    if find_by_email(email) is not None:
        raise UserError(_l("A user with this email address already exists."))
    user = User(
        email=email,
        name=name.strip(),
        role=Role(role),
        password_hash=NO_PASSWORD,
        must_change_password=False,
        service_account=True,
    )
    db.session.add(user)
    db.session.flush()
    return user
