"""A form's one-time key, once a request carrying it has done its work (vendorrisk.idempotency)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The random key the form carried (one per rendering of the form).
    key: Mapped[str] = mapped_column(sa.String(64))
    #: Whose key it is: "user:<id>", or "sitting:<hash>" for a supplier's portal sitting. The
    #: same key sent by anyone else is another key.
    actor: Mapped[str] = mapped_column(sa.String(80))
    #: The endpoint the form was sent to (e.g. assessments.send).
    endpoint: Mapped[str] = mapped_column(sa.String(80))
    #: When the first request carrying the key arrived (UTC); purged after idempotency.KEEP.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The HTTP status of the first request's response; None while it runs (or if it died
    #: after its commit).
    status: Mapped[int | None] = mapped_column(sa.SmallInteger)
    #: Where the first response sent the browser (its Location), when it was a redirect.
    location: Mapped[str | None] = mapped_column(sa.String(2000))

    __table_args__ = (sa.UniqueConstraint("key", "actor", "endpoint"),)
