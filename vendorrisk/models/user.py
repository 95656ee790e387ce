"""Users, their roles, and their server-side login sessions."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from vendorrisk.models.mixins import HashedTokenMixin


class Role(enum.StrEnum):
    admin = "admin"
    ciso = "ciso"
    procurement = "procurement"
    reviewer = "reviewer"
    auditor = "auditor"


class AuthSource(enum.StrEnum):
    """How a user proves who they are: a local password, or the company's OpenID provider."""

    password = "password"  # noqa: S105 (a name, not a secret)  # nosec B105
    oidc = "oidc"


class User(TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        #: One account per person at the provider: its `sub` is unique only within its issuer.
        sa.UniqueConstraint("oidc_issuer", "oidc_subject"),
        sa.CheckConstraint(
            "auth_source <> 'oidc' OR (oidc_issuer IS NOT NULL AND oidc_subject IS NOT NULL)",
            name="oidc_has_subject",
        ),
        sa.CheckConstraint(
            "auth_source = 'oidc' OR password_hash IS NOT NULL", name="password_has_hash"
        ),
    )
    __audited__ = True
    __audit_redacted__ = frozenset({"password_hash", "mfa_secret"})
    #: Logins have their own events; the timestamp would only repeat them.
    __audit_ignored__ = frozenset(
        {"last_login_at", "mfa_last_step", "mfa_failures", "mfa_locked_until"}
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name, stored lower-case.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    #: Display name.
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Argon2id hash of the password; None for a user who signs in through the OpenID provider.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    #: How the user signs in: a local password, or single sign-on (vendorrisk/sso.py).
    auth_source: Mapped[AuthSource] = mapped_column(
        enum_column(AuthSource, "user_auth_source"),
        default=AuthSource.password,
        server_default=AuthSource.password.value,
    )
    #: The OpenID provider's issuer URL this user is known to (single sign-on users only).
    oidc_issuer: Mapped[str | None] = mapped_column(sa.String(255))
    #: The provider's stable subject identifier (`sub`) of this user, within `oidc_issuer`.
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255))
    #: What the user may do.
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    #: Preferred UI language (a vocab.Locale); None follows the browser.
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    #: Inactive users cannot log in.
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: Set for one-time passwords: the user must choose a new one at next login.
    must_change_password: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: A one-time password stops working after this (UTC); None for a password the user chose.
    password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: TOTP secret (services.users.second_factor), encrypted with a key derived from SECRET_KEY;
    #: set at enrolment, in force once mfa_enabled_at is set.
    mfa_secret: Mapped[str | None] = mapped_column(sa.String(255))
    #: When the second factor (TOTP) was switched on (UTC); None: the password alone.
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last TOTP time-step accepted: a code of that step or an earlier one is refused.
    mfa_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: Wrong second-factor codes since the last right one.
    mfa_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    #: No second-factor code is checked before this (UTC), after too many wrong ones.
    mfa_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A service account (a purchasing system, a script): no password, no interactive login;
    #: it acts through the API tokens an admin gives it, with its role like any user.
    service_account: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Last successful login (UTC).
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    #: The token of the login session this object was loaded through (not a column).
    session_token = None

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        """Flask-Login keeps the session token, never the user id, in the cookie."""
        return self.session_token

    @property
    def uses_sso(self) -> bool:
        """Signs in through the OpenID provider: no local password, no local second factor."""
        return self.auth_source is AuthSource.oidc

    @property
    def label(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(HashedTokenMixin, db.Model):
    """A server-side login session: logout or expiry ends it whatever the cookie says."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The user logged in.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: When the login happened (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: After this the session is no longer accepted (UTC).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set by logout (or by an admin); a revoked session is never accepted again.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Address the login came from.
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    #: Browser that logged in (truncated).
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    #: Last request seen on it (UTC), kept to the minute; idle too long, it is no longer accepted.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="sessions")


class RecoveryCode(HashedTokenMixin, db.Model):
    """A one-time code that stands in for the TOTP code when the authenticator is lost.

    Ten are shown once at enrolment; each carries 120 random bits, so its SHA-256 is stored (a
    slow salted hash is for secrets that can be guessed: ASVS 6.5.2).
    """

    __tablename__ = "recovery_codes"
    __audit_redacted__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose code it is.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: When it was issued (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was used (UTC); a used code is never accepted again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
