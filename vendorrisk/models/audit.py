"""The append-only audit log (監査ログ).

Append-only in the database itself, not only by having no route that edits it: a trigger refuses
UPDATE and DELETE of its rows (and TRUNCATE on PostgreSQL) whoever sends them, and the ORM refuses
them before they reach the database. The triggers come with the table, whichever way it is made
(`metadata.create_all` in tests, or migration a13d00000003, which holds the same SQL). Nothing in
the app removes audit rows: a backup restore replaces the whole database, and tests start the
table afresh (DROP TABLE is DDL: the triggers go with it and come back with CREATE).

The trigger binds the application's own code and anything it can be tricked into sending as
data (UPDATE, DELETE, TRUNCATE); a role that owns the table can still drop the trigger, so in
production the migrations run as the owner and the app connects as a role with only SELECT and
INSERT on this table (README.md, Production).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import DDL, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, utcnow

#: What the database answers to an UPDATE, DELETE or TRUNCATE of audit rows.
REFUSAL = "audit_events is append-only"

#: SQLite: a trigger per statement kind that aborts it (SQLite has no TRUNCATE).
SQLITE_TRIGGERS = {
    "audit_events_no_update": (
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    ),
    "audit_events_no_delete": (
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    ),
}
#: PostgreSQL: one function, one statement-level trigger (TRUNCATE fires no row trigger).
POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{REFUSAL} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege'; "
    "END $$"
)
POSTGRES_TRIGGER = (
    "CREATE TRIGGER audit_events_append_only "
    "BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
)


class AppendOnlyError(RuntimeError):
    """Code tried to change or remove an audit row."""


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
    #: What happened: create, update, delete, login, logout, login_failed, access_denied, ...
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
    #: For events kept to one a minute (refused requests): SHA-256 hex of what makes them the
    #: same (kind, who, route, minute); a second one in the same minute is not inserted.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.CheckConstraint("actor_type IN ('user', 'contact', 'system')", name="actor_type"),
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
        sa.Index("ix_audit_events_dedupe_key", "dedupe_key", unique=True),
    )


for _sql in SQLITE_TRIGGERS.values():
    event.listen(AuditEvent.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in (POSTGRES_FUNCTION, POSTGRES_TRIGGER):
    event.listen(
        AuditEvent.__table__,
        "after_create",
        DDL(_sql.replace("%", "%%")).execute_if(dialect="postgresql"),
    )


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AppendOnlyError(f"{REFUSAL}: event {target.id} cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """session.execute(update(AuditEvent)…) / delete(…) skip the mapper events: refused here."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AppendOnlyError(f"{REFUSAL}: bulk UPDATE or DELETE refused")
