"""Password reset links mailed to staff: single use, short-lived, stored only as a hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, utcnow
from vendorrisk.models.mixins import HashedTokenMixin
from vendorrisk.models.user import User


class PasswordReset(HashedTokenMixin, db.Model):
    """One "forgot your password" link (services.users.reset)."""

    __tablename__ = "password_resets"
    __audit_redacted__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose password the link sets.
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: When it was asked for and mailed (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The link stops working after this (UTC); a newer link cuts an older one short.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the link set a password (UTC); a used link never works again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Address the request came from.
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    user: Mapped[User] = relationship()

    def usable_at(self, now: datetime) -> bool:
        """Whether the link may still set a password at `now`."""
        return self.used_at is None and now < self.expires_at and self.user.active
