"""The audit log: every create, change and delete of an audited model, written in the same flush."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent
from vendorrisk.models.base import utcnow


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, a supplier contact, or the system (a job, the CLI)."""

    type: str
    label: str
    user_id: int | None = None
    ip: str | None = None


SYSTEM = Actor(type="system", label="system")
_actor: ContextVar[Actor] = ContextVar("vendorrisk_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


def set_actor(actor: Actor) -> None:
    """Make `actor` the author of changes in this request or job."""
    _actor.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def record(action: str, obj: Any = None, summary: str = "", changes: dict | None = None) -> None:
    """Add an explicit event (login, logout, export ...) to the current transaction."""
    actor = current_actor()
    db.session.add(
        AuditEvent(
            occurred_at=utcnow(),
            actor_type=actor.type,
            actor_user_id=actor.user_id,
            actor_label=actor.label[:254],
            action=action,
            object_type=obj.__tablename__ if obj is not None else "",
            object_id=getattr(obj, "id", None),
            supplier_id=_supplier_of(obj) if obj is not None else None,
            assessment_id=_assessment_of(obj) if obj is not None else None,
            summary=summary[:300],
            changes=changes or {},
            ip=actor.ip,
        )
    )


#: The audit actions of refused requests (vendorrisk/refusals.py writes them).
REFUSALS = ("access_denied", "csrf_refused", "rate_limited", "input_refused")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str, limit: int) -> str:
    """`text` with control characters written as escapes (\\x00), cut to `limit` characters:
    what a refused request sent is kept as evidence, never as bytes a log viewer acts on."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:limit]


def refusal_row(
    action: str, actor: Actor, request_line: tuple[str, str, str], reason: str, now: datetime
) -> dict[str, Any]:
    """The audit row of a refused request: (method, path, endpoint) and why, by whom."""
    method, path, endpoint = (printable(part, 2000) for part in request_line)
    return {
        "occurred_at": now,
        "actor_type": actor.type,
        "actor_user_id": actor.user_id,
        "actor_label": actor.label[:254],
        "action": action,
        "object_type": "",
        "summary": f"{method} {path}"[:300],
        "changes": {
            "method": method[:10],
            "path": path,
            "endpoint": endpoint,
            "reason": printable(reason, 300),
        },
        "ip": actor.ip,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _columns(obj: Any) -> list[str]:
    return [attr.key for attr in inspect(obj).mapper.column_attrs]


def _redact(obj: Any, key: str, value: Any) -> Any:
    return "•••" if key in getattr(obj, "__audit_redacted__", ()) else _plain(value)


def _snapshot(obj: Any) -> dict[str, Any]:
    skip = {"created_at", "updated_at"}
    return {k: _redact(obj, k, getattr(obj, k)) for k in _columns(obj) if k not in skip}


def _diff(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    ignored = {"updated_at", *getattr(obj, "__audit_ignored__", ())}
    for key in _columns(obj):
        if key in ignored:
            continue
        hist = state.attrs[key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if _plain(old) != _plain(new):
                changes[key] = [_redact(obj, key, old), _redact(obj, key, new)]
    return changes


def _supplier_of(obj: Any) -> int | None:
    if obj.__tablename__ == "suppliers":
        return obj.id
    return getattr(obj, "supplier_id", None)


def _assessment_of(obj: Any) -> int | None:
    if obj.__tablename__ == "assessments":
        return obj.id
    return getattr(obj, "assessment_id", None)


def _label(obj: Any) -> str:
    for attr in ("display_name", "title", "email", "name", "original_name"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value[:300]
    return ""


def _event(
    action: str, object_type: str, ids: tuple[Any, Any, Any], summary: str, changes: dict,
    now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """An audit row: `ids` are the object's, its supplier's and its assessment's."""
    actor = current_actor()
    object_id, supplier_id, assessment_id = ids
    return {
        "occurred_at": now,
        "actor_type": actor.type,
        "actor_user_id": actor.user_id,
        "actor_label": actor.label[:254],
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "supplier_id": supplier_id,
        "assessment_id": assessment_id,
        "summary": summary,
        "changes": changes,
        "ip": actor.ip,
    }


def _row(action: str, obj: Any, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    ids = (getattr(obj, "id", None), _supplier_of(obj), _assessment_of(obj))
    return _event(action, obj.__tablename__, ids, _label(obj), changes, now)


# Rows written with Core (a periodic job's batch): the events a flush would have written


def _ids_of(table: str, values: dict[str, Any]) -> tuple[Any, Any, Any]:
    object_id = values.get("id")
    supplier_id = object_id if table == "suppliers" else values.get("supplier_id")
    assessment_id = object_id if table == "assessments" else values.get("assessment_id")
    return object_id, supplier_id, assessment_id


def _summary_of(values: dict[str, Any]) -> str:
    for key in ("display_name", "title", "email", "name", "original_name"):
        value = values.get(key)
        if isinstance(value, str) and value:
            return value[:300]
    return ""


def created_events(model: type, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The "create" events a flush writes for these rows of `model`, inserted with Core: each
    row holds every column, its id included; the same snapshot, redaction and summary."""
    now, table = utcnow(), model.__tablename__
    keys = [a.key for a in inspect(model).column_attrs if a.key not in ("created_at", "updated_at")]
    redacted = getattr(model, "__audit_redacted__", ())
    return [
        _event(
            "create",
            table,
            _ids_of(table, row),
            _summary_of(row),
            {k: "•••" if k in redacted else _plain(row[k]) for k in keys},
            now,
        )
        for row in rows
    ]


def changed_event(model: type, values: dict[str, Any], changes: dict[str, list]) -> dict[str, Any]:
    """The "update" event a flush writes for a row of `model` changed with Core: `values` are
    the row's (its id, supplier, assessment and what names it), `changes` [old, new] a column."""
    table, redacted = model.__tablename__, getattr(model, "__audit_redacted__", ())
    shown = {
        key: ["•••", "•••"] if key in redacted else [_plain(old), _plain(new)]
        for key, (old, new) in changes.items()
    }
    return _event("update", table, _ids_of(table, values), _summary_of(values), shown, utcnow())


def write_events(rows: list[dict[str, Any]]) -> None:
    """Add many audit rows to the current transaction in one multi-row INSERT."""
    if rows:
        db.session.connection().execute(sa.insert(AuditEvent.__table__), rows)


def _audited(objs: Any) -> list[Any]:
    return [o for o in objs if getattr(o, "__audited__", False)]


def record_created(obj: Any) -> None:
    """Audit a row inserted with Core (INSERT … ON CONFLICT) exactly as a flush would have."""
    row = _row("create", obj, _snapshot(obj), utcnow())
    db.session.connection().execute(sa.insert(AuditEvent.__table__), [row])


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session: Session, flush_context: Any) -> None:
    now = utcnow()
    rows = [_row("create", o, _snapshot(o), now) for o in _audited(session.new)]
    rows += [_row("update", o, diff, now) for o in _audited(session.dirty) if (diff := _diff(o))]
    rows += [_row("delete", o, _snapshot(o), now) for o in _audited(session.deleted)]
    if rows:
        session.connection().execute(sa.insert(AuditEvent.__table__), rows)
