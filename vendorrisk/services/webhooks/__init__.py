"""Webhooks: what happened, told to the URLs admins subscribed to it.

`emit` is the one way an event leaves the app: it queues one delivery row per active
subscription listening to the event, in the caller's transaction, so a change rolled back sends
nothing. A periodic job emits all of its events with `emit_many`: one read of the
subscriptions and one multi-row INSERT, however many rows it has. The messages are delivered
after the response (`delivery.deliver_after_response`) and by the `deliver-webhooks` job, with
retries, as the mail outbox does; `payloads` writes the data of each event.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vendorrisk.extensions import db
from vendorrisk.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

#: Rows per INSERT when many events are queued at once.
BATCH_ROWS = 500
#: session.info: the active subscriptions and their events, as read in this transaction.
_LISTENING = "vendorrisk_webhook_listening"


def emit(event: str, data: dict[str, Any], now: datetime, key: str | None = None) -> int:
    """Queue `event` with its `data` for every active subscription to it; the number queued.

    `key` names the occurrence (a job's "finding 12 overdue since 2026-12-01"): emitted again
    with the same key, it is not queued twice."""
    return emit_many(event, [(key, data)], now)


def emit_many(event: str, items: Iterable[tuple[str | None, dict[str, Any]]], now: datetime) -> int:
    """Queue many occurrences of one event, each (key, data), in two statements at most."""
    items = list(items)
    if not items:
        return 0
    listening = _listening(event)
    if not listening:
        return 0
    rows, event_ids = [], []
    for key, data in items:
        event_id = event_id_for(event, key)
        event_ids.append(event_id)
        payload = envelope(event, data, now)
        rows += [delivery_row(sub_id, event, event_id, payload, now) for sub_id in listening]
    queue_rows(rows)
    if has_request_context():
        from vendorrisk.services.webhooks import delivery

        delivery.deliver_after_response(event_ids)
    return len(rows)


def envelope(event: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The message as the Standard Webhooks spec suggests: its type, when, and its data."""
    return {"type": event, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}


def queue_rows(rows: list[dict[str, Any]]) -> None:
    """INSERT the delivery rows, each (subscription, event id) at most once."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(WebhookDelivery.__table__).on_conflict_do_nothing(
        index_elements=["subscription_id", "event_id"]
    )
    for start in range(0, len(rows), BATCH_ROWS):
        db.session.connection().execute(stmt, rows[start : start + BATCH_ROWS])


def _listening(event: str) -> list[int]:
    """The active subscriptions to `event`: read once per transaction (they are few), so that
    an import changing many suppliers' tiers does not read them again for each."""
    known = db.session.info.get(_LISTENING)
    if known is None:
        rows = db.session.execute(
            sa.select(WebhookSubscription.id, WebhookSubscription.events).where(
                WebhookSubscription.active
            )
        )
        known = db.session.info[_LISTENING] = [(row.id, tuple(row.events or ())) for row in rows]
    return [sub_id for sub_id, events in known if event in events]


def forget_subscriptions() -> None:
    """Read the subscriptions afresh at the next event (they were just changed)."""
    db.session.info.pop(_LISTENING, None)


@sa.event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_LISTENING, None)


def event_id_for(event: str, key: str | None) -> str:
    """The message id: random, or derived from the occurrence's key (the same every run)."""
    if key is None:
        return f"msg_{secrets.token_hex(16)}"
    return f"msg_{hashlib.sha256(f'{event}|{key}'.encode()).hexdigest()[:32]}"


def delivery_row(
    subscription_id: int, event: str, event_id: str, payload: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id,
        "event": event,
        "event_id": event_id,
        "payload": payload,
        "status": DeliveryStatus.pending.value,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_at": None,
        "last_response_code": None,
        "last_error": "",
        "created_at": now,
        "delivered_at": None,
    }
