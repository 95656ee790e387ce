"""Delivering the queued webhook messages, as the mail outbox delivers mail: after the response
that queued them (bounded in count and time) and by the `deliver-webhooks` job every minute,
which also makes every retry.

A run is set-based, so that its statements do not grow with the rows due: one UPDATE claims
the due rows (hiding them from another sender for CLAIM_LEASE), one query reads them with their
subscriptions, the messages are POSTed, and one UPDATE (executemany) records every outcome. A
sender that dies mid-run leaves its claims to run out: those messages are sent again, with the
same webhook-id, which the spec tells receivers to use to drop a copy, and the interrupted
attempt counts towards MAX_ATTEMPTS.

Each POST goes to the address the SSRF guard checked just before (guard.Target), with a timeout
of WEBHOOK_TIMEOUT seconds for the whole exchange. A 2xx is delivered; a 408, a 429, a 5xx, a
timeout, a refused connection or a TLS failure is retried with a growing backoff, and failed
after MAX_ATTEMPTS; any other answer (4xx, or a redirect, which is never followed) is final.
A receiver that timed out or refused is not tried again in the same run.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g

from vendorrisk.after_response import run_after_response
from vendorrisk.extensions import db
from vendorrisk.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from vendorrisk.models.base import utcnow
from vendorrisk.services import audit
from vendorrisk.services.webhooks import bodies, guard, signing

#: Wait before the next try after the 1st, 2nd, ... failure (the last one repeats).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
#: After this many attempts a temporary failure is given up as failed.
MAX_ATTEMPTS = 8
#: A claimed message is hidden from other senders this long.
CLAIM_LEASE = timedelta(minutes=10)
#: After a response, at most this many messages, within WEB_BUDGET seconds (gunicorn: 30 s).
WEB_LIMIT = 10
WEB_BUDGET = 15.0
#: Delivered and failed messages are kept this long in the delivery log.
KEEP = timedelta(days=90)
#: What is kept of a receiver's answer or of an error.
SNIPPET = 300
USER_AGENT = "vendorrisk-webhooks/1"

DELIVERED, RETRIED, FAILED, DEFERRED = "delivered", "retried", "failed", "deferred"


@dataclass
class DeliveryReport:
    """What one run did (`deferred`: claimed but left for the next run)."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class Answer:
    """What one POST came to: the HTTP status (None without one) and a note."""

    code: int | None
    note: str
    #: The receiver could not be reached (timeout, refused): skip its other messages this run.
    unreachable: bool = False


# --- after the response -----------------------------------------------------------------------


def deliver_after_response(event_ids: Iterable[str]) -> None:
    """Have these events' messages sent once the response has gone out (never before the
    commit: a message whose transaction rolled back is not there to be found)."""
    g.setdefault("webhook_events", []).extend(event_ids)
    run_after_response("webhook_events", _deliver_events)


def _deliver_events(app: Flask, event_ids: list[str]) -> None:
    """After the response (no request context): deliver these events; never raises."""
    try:
        with app.app_context(), audit.acting_as(audit.Actor(type="system", label="webhooks")):
            deliver_pending(limit=WEB_LIMIT, only_events=event_ids, budget=WEB_BUDGET)
            db.session.remove()
    except Exception:  # the deliver-webhooks job retries whatever this left
        app.logger.exception("Webhook delivery after the response failed")


# --- a run ------------------------------------------------------------------------------------


def deliver_pending(
    now: datetime | None = None,
    limit: int = 100,
    *,
    only_events: Iterable[str] | None = None,
    budget: float | None = None,
) -> DeliveryReport:
    """Deliver the due pending messages, oldest first, in a fixed number of statements."""
    now = now or utcnow()
    deadline = time.monotonic() + budget if budget else None
    claimed = _claim(now, limit, only_events)
    report, outcomes, unreachable = DeliveryReport(), [], set()
    checked: dict[int, guard.Target | guard.UnsafeURL] = {}  # each URL looked up once a run
    timeout = float(current_app.config["WEBHOOK_TIMEOUT"])
    for delivery, subscription in claimed:
        late = deadline is not None and time.monotonic() + timeout > deadline
        if late or subscription.id in unreachable:
            outcomes.append(_deferred(delivery, now, late))
            report.count(DEFERRED)
            continue
        if subscription.id not in checked:
            checked[subscription.id] = _check(subscription.url)
        answer = send(delivery, subscription, timeout, checked[subscription.id])
        if answer.unreachable:
            unreachable.add(subscription.id)
        outcome, values = _outcome(delivery, answer, now)
        outcomes.append(values)
        report.count(outcome)
    _record(outcomes)
    return report


def _claim(
    now: datetime, limit: int, only_events: Iterable[str] | None
) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
    """Take the due messages for this run (one UPDATE) and read them (one query); committed,
    so that another sender skips them."""
    due = sa.and_(
        WebhookDelivery.status == DeliveryStatus.pending, WebhookDelivery.next_attempt_at <= now
    )
    oldest = sa.select(WebhookDelivery.id).where(due)
    if only_events is not None:
        oldest = oldest.where(WebhookDelivery.event_id.in_(list(only_events)))
    oldest = oldest.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)
    stmt = (
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(oldest.scalar_subquery()), due)
        .values(
            next_attempt_at=now + CLAIM_LEASE,
            claimed_at=now,
            # A claim still standing: its sender died before recording the answer. That
            # attempt counts, so that a message that kills its sender is given up in the end.
            attempts=WebhookDelivery.attempts
            + sa.case((WebhookDelivery.claimed_at.is_not(None), 1), else_=0),
        )
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(db.session.scalars(stmt))
    if not ids:
        db.session.commit()
        return []
    rows = db.session.execute(
        sa.select(WebhookDelivery, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
    ).all()
    for obj in {obj for row in rows for obj in row}:
        db.session.expunge(obj)  # plain records from here on: the commit does not expire them
    db.session.commit()
    return [(row[0], row[1]) for row in rows]


def _outcome(delivery: WebhookDelivery, answer: Answer, now: datetime) -> tuple[str, dict]:
    attempts = delivery.attempts + 1
    values = _values(delivery, attempts, answer.code, answer.note)
    if answer.code is not None and 200 <= answer.code < 300:
        values.update(status=DeliveryStatus.delivered.value, delivered_at=now)
        return DELIVERED, values
    if _final(answer.code) or attempts >= MAX_ATTEMPTS:
        values["status"] = DeliveryStatus.failed.value
        current_app.logger.warning("Webhook %s failed: %s", delivery.id, answer.note)
        return FAILED, values
    values["next_attempt_at"] = now + BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return RETRIED, values


def _final(code: int | None) -> bool:
    """An answer that trying again will not change: a redirect or a 4xx but 408 and 429."""
    return code is not None and 300 <= code < 500 and code not in (408, 429)


def _deferred(delivery: WebhookDelivery, now: datetime, late: bool) -> dict[str, Any]:
    """Not tried this run: the run's time ran out, or the receiver was unreachable just now."""
    values = _values(delivery, delivery.attempts, delivery.last_response_code, None)
    values["next_attempt_at"] = now if late else now + BACKOFF[0]
    return values


def _values(delivery: WebhookDelivery, attempts: int, code: int | None, note: str | None):
    return {
        "b_id": delivery.id,
        "status": delivery.status.value,
        "attempts": attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_response_code": code,
        "last_error": (delivery.last_error if note is None else note)[:SNIPPET],
        "delivered_at": None,
    }


def _record(outcomes: list[dict[str, Any]]) -> None:
    """Write every outcome in one UPDATE (executemany), and commit."""
    if outcomes:
        table = WebhookDelivery.__table__
        stmt = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(
                status=sa.bindparam("status"),
                attempts=sa.bindparam("attempts"),
                next_attempt_at=sa.bindparam("next_attempt_at"),
                claimed_at=None,
                last_response_code=sa.bindparam("last_response_code"),
                last_error=sa.bindparam("last_error"),
                delivered_at=sa.bindparam("delivered_at"),
            )
        )
        db.session.connection().execute(stmt, outcomes)
    db.session.commit()


def purge(now: datetime) -> int:
    """Delete the delivered and failed messages older than KEEP (one statement)."""
    stmt = sa.delete(WebhookDelivery).where(
        WebhookDelivery.status != DeliveryStatus.pending,
        WebhookDelivery.created_at < now - KEEP,
    )
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount


# --- one POST ---------------------------------------------------------------------------------


def _check(url: str) -> guard.Target | guard.UnsafeURL:
    try:
        return guard.check(url)
    except guard.UnsafeURL as exc:
        return exc


def send(
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    timeout: float,
    target: guard.Target | guard.UnsafeURL,
) -> Answer:
    """POST one message, signed, to the subscription's URL as just checked; never raises."""
    secret = signing.unseal(subscription.secret_sealed)
    if secret is None:  # SECRET_KEY changed since it was sealed: no retry will help
        return Answer(400, "the signing secret cannot be read (was SECRET_KEY changed?): rotate it")
    if isinstance(target, guard.UnsafeURL):
        return Answer(None, f"refused before sending: {target}")
    body = bodies.body(subscription.format, delivery.payload, subscription.locale)
    headers = signing.headers(secret, delivery.event_id, int(time.time()), body)
    headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    try:
        code, text = post(target, body, headers, timeout)
    except TimeoutError:
        return Answer(None, f"no answer within {timeout:g} s", unreachable=True)
    except (ssl.SSLError, http.client.HTTPException, OSError) as exc:
        return Answer(None, _describe(exc), unreachable=True)
    return Answer(code, f"{code} {text}".strip())


def post(
    target: guard.Target, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str]:
    """POST `body` to `target` (at its checked address); the status and the answer's start.

    The whole exchange ends within `timeout`: each wait is cut to what is left, and a watchdog
    shuts the socket at the end, so that a receiver dripping bytes cannot hold the worker."""
    conn = _PinnedConnection(target, timeout)
    watchdog = threading.Timer(timeout, conn.cut)
    watchdog.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read(SNIPPET * 4).decode("utf-8", "replace")
        return response.status, " ".join(text.split())[:SNIPPET]
    except OSError as exc:
        if conn.was_cut:
            raise TimeoutError from exc
        raise
    finally:
        watchdog.cancel()
        conn.close()


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to the address the guard checked, naming the host in Host and in TLS (SNI and
    certificate check): the name is not looked up again."""

    def __init__(self, target: guard.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        if target.scheme == "https":
            self.default_port = 443  # "Host: name", not "name:443"
        self.target = target
        self.was_cut = False

    def connect(self) -> None:
        sock = socket.create_connection((self.target.address, self.port), self.timeout)
        if self.target.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock

    def cut(self) -> None:
        """The watchdog: end a wait that outlived the timeout."""
        self.was_cut = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:SNIPPET]
