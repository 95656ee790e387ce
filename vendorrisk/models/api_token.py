"""API tokens: a personal access token of a staff user, or a service account's token."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, enum_column, utcnow
from vendorrisk.models.mixins import HashedTokenMixin, hash_token
from vendorrisk.models.user import User


class TokenKind(enum.StrEnum):
    #: Created by a staff user for themselves (the tokens page).
    personal = "personal"
    #: Created by an admin for a service account (a purchasing system, a script).
    service = "service"


class TokenScope(enum.StrEnum):
    #: GET (and HEAD) only.
    read = "read"
    #: Every method the user's role allows.
    write = "write"


#: The recognisable start of each kind of token (secret scanners and people spot it).
PREFIXES = {TokenKind.personal: "vr_pat_", TokenKind.service: "vr_svc_"}
#: Characters of a token kept for display: the kind's prefix and a few random characters.
DISPLAY_LENGTH = 12


class ApiToken(HashedTokenMixin, db.Model):
    """A bearer token for /api: 256 random bits, shown once; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __audited__ = True
    __audit_redacted__ = frozenset({"token_hash"})
    #: Each use would only repeat the request itself.
    __audit_ignored__ = frozenset({"last_used_at"})
    __table_args__ = (sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose rights the token carries (a staff user or a service account).
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Personal (its user made it) or service (an admin made it for a service account).
    kind: Mapped[TokenKind] = mapped_column(enum_column(TokenKind, "api_token_kind"))
    #: What it is for, as its maker named it.
    name: Mapped[str] = mapped_column(sa.String(100))
    #: "read" (GET only) or "write".
    scope: Mapped[TokenScope] = mapped_column(enum_column(TokenScope, "api_token_scope"))
    #: The start of the token (its kind's prefix and a few characters), to recognise it by.
    display_prefix: Mapped[str] = mapped_column(sa.String(DISPLAY_LENGTH))
    #: When it was made (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who made it (the user, or the admin for a service account).
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: It is refused from this moment on (UTC); every token expires.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When it was revoked (UTC); a revoked token is never accepted again.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last request made with it (UTC), kept to the minute.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def issue_token(self) -> str:
        """A fresh token of this row's kind: stores its hash and display prefix, returns it."""
        token = PREFIXES[self.kind] + secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.display_prefix = token[:DISPLAY_LENGTH]
        return token

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def __repr__(self) -> str:
        return f"<ApiToken {self.display_prefix}… {self.kind} {self.scope}>"
