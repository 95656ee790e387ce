"""The append-only audit log (監査ログ)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When it happened (UTC).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: "user", "contact" or "system".
    actor_type: Mapped[str] = mapped_column(sa.String(10))
    #: The user who acted, if a user did.
    actor_user_id: Mapped[int | None] = mapped_column(index=True)
    #: Who acted, as text kept even if the user is deleted (email, contact, job id).
    actor_label: Mapped[str] = mapped_column(sa.String(254), default="")
    #: What happened: create, update, delete, login, logout, login_failed, ...
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    #: Table of the object acted on.
    object_type: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    #: Primary key of the object acted on.
    object_id: Mapped[int | None] = mapped_column(index=True)
    #: The supplier the object belongs to, for its history (no foreign key: the log outlives it).
    supplier_id: Mapped[int | None] = mapped_column(index=True)
    #: The assessment the object belongs to, for its history.
    assessment_id: Mapped[int | None] = mapped_column(index=True)
    #: A short human-readable description.
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Changed fields: {field: [old, new]}.
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: Address the request came from.
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    __table_args__ = (
        sa.CheckConstraint("actor_type IN ('user', 'contact', 'system')", name="actor_type"),
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
    )
