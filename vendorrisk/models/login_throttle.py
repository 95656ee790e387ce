"""Failed logins counted per account, per address and per both: the progressive login delay."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, enum_column


class ThrottleScope(enum.StrEnum):
    """What a count of failed logins is kept for."""

    #: One account, from any address (guessing one password from many places).
    account = "account"
    #: One address, for any account (one place guessing many accounts).
    address = "address"
    #: One account from one address (the plain guessing attack).
    pair = "pair"


class LoginThrottle(db.Model):
    """Failed logins in a row for one account, address or both (services.users.throttle)."""

    __tablename__ = "login_throttles"
    __table_args__ = (sa.UniqueConstraint("scope", "account", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What is counted.
    scope: Mapped[ThrottleScope] = mapped_column(enum_column(ThrottleScope, "throttle_scope"))
    #: The email typed (lower-case), known account or not; "" for an address count.
    account: Mapped[str] = mapped_column(sa.String(254), index=True)
    #: The address the logins came from; "" for an account count.
    address: Mapped[str] = mapped_column(sa.String(45))
    #: Failed logins in a row (a success, an admin's unlock or a quiet day starts it afresh).
    failures: Mapped[int] = mapped_column(default=0)
    #: The latest failure (UTC): the delay runs from it.
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
