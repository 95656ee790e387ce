"""The mail outbox (送信キュー): queue in the transaction, deliver after the response, retry later.

What each mail says is written in `mail.messages` (one function a kind), which queues it here.
Every email is first a row, with its Message-ID fixed when it is queued. A request only queues:
`deliver_after_response` hands the request's own mail to the relay once the response has gone
out, bounded in count and time (WEB_BUDGET); the `deliver-mail` job (every minute) sends the rest
and every retry. `deliver_pending` sends the due rows, each in its own small transaction, over
one SMTP connection (or to the console when no relay is configured), no SMTP wait longer than
MAIL_TIMEOUT.

A row is claimed before it is sent and the relay's answer recorded after. A 4xx reply, or a
connection lost before the message was handed over, is retried with a growing backoff; a 5xx
reply is final and flags the supplier contact's address as undeliverable. When a handed-over
message never got its answer (the connection dropped before the 250, or the sender died and its
claim ran out), the relay may have it: it is sent again, because a lost invitation costs more
than a copy, with the same Message-ID, so that the receiving side can drop the copy, and the
row counts it in `unconfirmed_attempts`, which the admin's outbox shows as a possible duplicate.
"""

from __future__ import annotations

import email.errors
import functools
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import click
import sqlalchemy as sa
from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vendorrisk.after_response import run_after_response
from vendorrisk.extensions import db
from vendorrisk.mail import render
from vendorrisk.models import Contact, OutboxMessage, OutboxStatus
from vendorrisk.models.base import utcnow
from vendorrisk.models.outbox import new_message_id
from vendorrisk.services import audit

#: Wait before the next try after the 1st, 2nd, ... temporary failure (the last one repeats).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
#: After this many attempts a temporary failure is given up as failed.
MAX_ATTEMPTS = 8
#: A message being sent is hidden from other senders this long (an attempt is cut off at half
#: of it, and it is short enough that a sender that died mid-send does not strand it).
CLAIM_LEASE = timedelta(minutes=10)
#: Delivery in a web worker (after a response, or the admin's button) ends within this many
#: seconds: every SMTP wait is cut to it and no message starts too close to it, so that with the
#: request it stays well inside gunicorn's 30 s worker timeout and no worker is killed mid-send.
WEB_BUDGET = 15.0
#: Links whose token opens something (a questionnaire, an evidence or erasure-certificate upload,
#: a password reset).
PORTAL_LINK = re.compile(r"(/portal/(?:e/|erasure/)?|/auth/reset/)[A-Za-z0-9_-]{20,}")
REDACTED_PORTAL_LINK = r"\1[removed after delivery]"

SENT, RETRIED, FAILED = "sent", "retried", "failed"


@dataclass(frozen=True)
class Queued:
    """A message queued in a batch (`batched`): its row is written when the batch ends."""

    dedupe_key: str
    recipient: str
    kind: str


@dataclass
class _Batch:
    rows: list[dict[str, Any]]
    keys: set[str]
    #: The rows whose bodies are written when the batch ends, with their drafts.
    drafts: list[tuple[dict[str, Any], render.Draft]] = field(default_factory=list)


_BATCH: ContextVar[_Batch | None] = ContextVar("outbox_batch", default=None)
#: Rows per INSERT when a batch is written.
BATCH_ROWS = 500


@contextmanager
def batched() -> Iterator[None]:
    """Queue the messages of a periodic job together: each `queue` keeps its row, and the batch
    writes them all when it ends (after one flush of the session, in a few multi-row INSERTs with
    the same ON CONFLICT DO NOTHING on the dedupe key), instead of a flush, an INSERT and a read
    per message. The bodies of the mails queued as drafts (`send`, `letter.send`) are rendered
    then, all together (`render.many`: each template once per language), and only for the
    messages whose key was new. Nothing is written if the block fails: the job's transaction
    rolls back anyway. In a request (whose mail is handed over after the response, by id) it
    does nothing."""
    if _BATCH.get() is not None or has_request_context():
        yield
        return
    batch = _Batch([], set())
    token = _BATCH.set(batch)
    try:
        yield
        _write(batch)
    finally:
        _BATCH.reset(token)


def batching() -> bool:
    """Whether messages are being queued in a batch (rows written when it ends)."""
    return _BATCH.get() is not None


def _insert(target: Any):
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING into `target` (the ORM class, whose
    RETURNING gives the row, or its table, for many parameter sets)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(target).on_conflict_do_nothing(index_elements=["dedupe_key"])


def _write(batch: _Batch) -> None:
    if not batch.rows:
        return
    db.session.flush()  # what the messages name (new links, contacts) first
    drafts = [draft for _, draft in batch.drafts]
    for (row, _), (text, html) in zip(batch.drafts, render.many(drafts), strict=True):
        row["body_text"], row["body_html"] = text, html
    stmt = _insert(OutboxMessage.__table__)
    for start in range(0, len(batch.rows), BATCH_ROWS):
        db.session.connection().execute(stmt, batch.rows[start : start + BATCH_ROWS])


def queue(
    *,
    recipient: str,
    subject: str,
    body_text: str = "",
    body_html: str = "",
    draft: render.Draft | None = None,
    kind: str,
    dedupe_key: str,
    locale: str = "ja",
    recipient_name: str = "",
    contact_id: int | None = None,
    assessment_id: int | None = None,
) -> OutboxMessage | Queued | None:
    """Add a message to the outbox in the current transaction; None if the key was queued.

    The bodies are given, or written from a `draft`. INSERT ... ON CONFLICT DO NOTHING on the
    dedupe key, so two processes queueing the same message at once never both succeed, and
    neither fails. In a batch (`batched`) the row is kept and written with the others when the
    batch ends (its draft rendered then), and a `Queued` stands for it.
    """
    batch = _BATCH.get()
    if draft is not None and batch is None:
        body_text, body_html = render.one(draft)
    fields = {
        "message_id": new_message_id(sender=current_app.config["MAIL_SENDER"]),
        "recipient": recipient.strip(),
        "recipient_name": " ".join(recipient_name.split()),
        "locale": locale,
        "subject": " ".join(subject.split())[:300],  # one line: a header can hold no line break
        "body_text": body_text,
        "body_html": body_html,
        "kind": kind,
        "dedupe_key": dedupe_key,
        "status": OutboxStatus.pending,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "last_error": "",
        "created_at": utcnow(),
        "contact_id": contact_id,
        "assessment_id": assessment_id,
    }
    if batch is not None:
        if dedupe_key in batch.keys:
            return None
        batch.keys.add(dedupe_key)
        batch.rows.append(fields)
        if draft is not None:
            batch.drafts.append((fields, draft))
        return Queued(dedupe_key, fields["recipient"], kind)
    db.session.flush()
    # An ORM INSERT ... RETURNING gives the row itself: no second query to read it back.
    stmt = _insert(OutboxMessage).values(**fields).returning(OutboxMessage)
    message = db.session.execute(stmt).scalar()
    if message is None:
        return None
    if has_request_context():
        g.setdefault("queued_mail", []).append(message.id)  # for deliver_after_response
    return message


def compose(name: str, /, locale: str, **context: Any) -> tuple[str, str]:
    """Render mail/<name>.txt and mail/<name>.html in the mail's language."""
    return render.one(render.Draft(name, locale, context))


def send(
    name: str,
    /,
    *,
    locale: str,
    recipient: str,
    subject: str,
    kind: str,
    dedupe_key: str,
    recipient_name: str = "",
    contact_id: int | None = None,
    assessment_id: int | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Compose a mail from its templates and queue it (None if the key was queued); in a batch
    it is composed when the batch ends, with the others."""
    return queue(
        recipient=recipient,
        subject=subject,
        draft=render.Draft(name, locale, context),
        kind=kind,
        dedupe_key=dedupe_key,
        locale=locale,
        recipient_name=recipient_name,
        contact_id=contact_id,
        assessment_id=assessment_id,
    )


@dataclass
class DeliveryReport:
    """What one delivery run did (a temporary failure that used up its attempts is failed)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def deliver_after_response() -> None:
    """Have the mail this request queued handed to the relay once its response has gone out.

    At most MAIL_DELIVER_IN_REQUEST messages, within WEB_BUDGET seconds: the page never waits
    for the relay, and a slow one cannot keep the worker past gunicorn's timeout. What is left,
    and every retry, goes with the deliver-mail job.
    """
    if current_app.config["MAIL_DELIVER_IN_REQUEST"]:
        run_after_response("queued_mail", _deliver_queued)


def _deliver_queued(app: Flask, ids: list[int]) -> None:
    """After the response (no request context): deliver these messages; never raises."""
    try:
        with app.app_context(), audit.acting_as(audit.Actor(type="system", label="mail")):
            limit = app.config["MAIL_DELIVER_IN_REQUEST"]
            deliver_pending(limit=limit, only=ids, budget=WEB_BUDGET)
    except Exception:  # the outbox job retries whatever this left
        app.logger.exception("Mail delivery after the response failed")


def deliver_pending(
    now: datetime | None = None,
    limit: int = 50,
    *,
    only: Iterable[int] | None = None,
    budget: float | None = None,
) -> DeliveryReport:
    """Deliver the due pending messages, oldest first, committing after each one.

    `only` keeps to these messages; `budget` (seconds) ends the run within that time.
    """
    now = now or utcnow()
    report = DeliveryReport()
    deadline = time.monotonic() + budget if budget else None
    transport = _transport(current_app.config, deadline)
    try:
        for message_id in _due_ids(now, limit, only):
            if not transport.may_start():
                break  # too close to the deadline: the rest wait for the deliver-mail job
            message = _claim(message_id, now)
            if message is None:
                continue  # another sender took it meanwhile
            outcome, relay_down = _deliver_one(transport, message, now)
            db.session.commit()
            report.count(outcome)
            if relay_down:
                break  # the rest wait for the next run rather than each failing the same way
    finally:
        transport.close()
    return report


def _due_ids(now: datetime, limit: int, only: Iterable[int] | None = None) -> list[int]:
    stmt = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
    )
    if only is not None:
        stmt = stmt.where(OutboxMessage.id.in_(list(only)))
    ids = list(db.session.scalars(stmt))
    db.session.commit()
    return ids


#: The note on a message whose earlier attempt left a claim and no answer.
ABANDONED = "an earlier attempt was interrupted before the relay's answer was recorded"


def _claim(message_id: int, now: datetime) -> OutboxMessage | None:
    """Take a message for sending, so a second sender running at once skips it.

    A claim still standing from an earlier attempt means its sender died before recording the
    relay's answer: that attempt counts as unconfirmed, and this one re-sends the message.
    """
    abandoned = OutboxMessage.claimed_at.is_not(None)
    one_if_abandoned = sa.case((abandoned, 1), else_=0)
    stmt = (
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.pending,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            next_attempt_at=now + CLAIM_LEASE,
            claimed_at=now,
            attempts=OutboxMessage.attempts + one_if_abandoned,
            unconfirmed_attempts=OutboxMessage.unconfirmed_attempts + one_if_abandoned,
            last_error=sa.case((abandoned, ABANDONED), else_=OutboxMessage.last_error),
        )
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.execute(stmt).rowcount == 1
    db.session.commit()
    return db.session.get(OutboxMessage, message_id) if claimed else None


class RelayUnavailable(Exception):
    """The relay could not be reached or refused the session (not this message's fault)."""


class PermanentFailure(Exception):
    """The relay refused this message for good (or it cannot be sent at all)."""

    def __init__(self, reply: str, recipient_refused: bool) -> None:
        super().__init__(reply)
        self.recipient_refused = recipient_refused


class TemporaryFailure(Exception):
    """The relay asked to try again later, or the connection broke."""


class Unconfirmed(TemporaryFailure):
    """The message was handed over whole, but the relay's answer to it never came."""


def _deliver_one(transport: Any, message: OutboxMessage, now: datetime) -> tuple[str, bool]:
    """Send one message and record the result on it; returns (outcome, relay down)."""
    try:
        reply = transport.send(message)
    except RelayUnavailable as exc:
        return _retry_later(message, str(exc), now), True
    except Unconfirmed as exc:
        message.unconfirmed_attempts += 1
        note = f"{exc} (after the message was handed over: the relay may have accepted it)"
        return _retry_later(message, note, now), False
    except TemporaryFailure as exc:
        return _retry_later(message, str(exc), now), False
    except PermanentFailure as exc:
        _give_up(message, str(exc), now, exc.recipient_refused)
        return FAILED, False
    message.status = OutboxStatus.sent
    message.sent_at = now
    message.attempts += 1
    message.claimed_at = None
    message.relay_reply = reply
    if not transport.keeps_links:
        message.body_text = PORTAL_LINK.sub(REDACTED_PORTAL_LINK, message.body_text)
        message.body_html = PORTAL_LINK.sub(REDACTED_PORTAL_LINK, message.body_html)
    return SENT, False


def _retry_later(message: OutboxMessage, reply: str, now: datetime) -> str:
    message.attempts += 1
    message.claimed_at = None
    message.last_error = reply
    current_app.logger.warning("Mail %s to %s deferred: %s", message.id, message.recipient, reply)
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.failed
        return FAILED
    message.next_attempt_at = now + BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
    return RETRIED


def _give_up(message: OutboxMessage, reply: str, now: datetime, recipient_refused: bool) -> None:
    message.status = OutboxStatus.failed
    message.claimed_at = None
    message.attempts += 1
    message.last_error = reply
    current_app.logger.warning("Mail %s to %s failed: %s", message.id, message.recipient, reply)
    contact = db.session.get(Contact, message.contact_id) if message.contact_id else None
    if recipient_refused and contact is not None:
        contact.undeliverable_at = now
        audit.record("mail_bounced", contact, summary=message.recipient)


def _transport(config: Any, deadline: float | None) -> ConsoleTransport | SMTPTransport:
    if config["MAIL_SERVER"]:
        return SMTPTransport(config, deadline)
    return ConsoleTransport()


class ConsoleTransport:
    """No relay configured: print the mail (development), keeping its links for the outbox page."""

    keeps_links = True

    def may_start(self) -> bool:
        return True

    def send(self, message: OutboxMessage) -> str:
        name, address = message.recipient_name, message.recipient
        to = f"{name} <{address}>" if name else address
        shown = f"To: {to}\nSubject: {message.subject}\n\n{message.body_text}"
        current_app.logger.info("Mail (console transport)\n%s", shown)
        click.echo(f"{'-' * 72}\n{shown}\n{'-' * 72}")
        return ""

    def close(self) -> None:
        pass


class SMTPTransport:
    """One relay connection, opened at the first message and reused for the batch.

    No wait for the relay lasts longer than MAIL_TIMEOUT, nor past the run's deadline, nor
    past half the claim on the message being sent (so no second sender can take it meanwhile).
    """

    keeps_links = False

    def __init__(self, config: Any, deadline: float | None = None) -> None:
        self.config = config
        self.timeout = float(config["MAIL_TIMEOUT"])
        self.deadline = deadline
        #: No message starts after this: the last one may still wait its full timeout (or half
        #: the budget, when the budget is shorter than that).
        self.start_by = None
        if deadline is not None:
            self.start_by = deadline - min(self.timeout, (deadline - time.monotonic()) / 2)
        self.smtp: _RelaySession | None = None

    def may_start(self) -> bool:
        return self.start_by is None or time.monotonic() <= self.start_by

    def send(self, message: OutboxMessage) -> str:
        """Hand one message to the relay; returns the relay's answer accepting it."""
        try:
            mime = build_message(message, self.config["MAIL_SENDER"])
        except (ValueError, email.errors.MessageError) as exc:
            raise PermanentFailure(f"invalid message: {exc}", recipient_refused=False) from exc
        deadline = time.monotonic() + CLAIM_LEASE.total_seconds() / 2
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        smtp = self.smtp if self.smtp is not None else self._connect(deadline)
        smtp.start_message(deadline)
        try:
            smtp.send_message(mime)
        except smtplib.SMTPServerDisconnected as exc:
            self.close()  # a broken connection is not reused; the next message reconnects
            raise _interrupted(smtp, exc) from exc
        except smtplib.SMTPException as exc:  # (a subclass of OSError: caught before it)
            if getattr(exc, "smtp_code", None) == 421:
                self.close()  # 421: the relay is closing the connection
            raise _classify(exc) from exc
        except OSError as exc:
            self.close()
            raise _interrupted(smtp, exc) from exc
        return smtp.accepted

    def _connect(self, deadline: float) -> _RelaySession:
        config = self.config
        smtp = _RelaySession(self.timeout, deadline)
        try:
            code, reply = smtp.connect(config["MAIL_SERVER"], config["MAIL_PORT"])
            if code != 220:
                raise smtplib.SMTPConnectError(code, reply)
        except (smtplib.SMTPException, OSError) as exc:  # refused, or no greeting in time
            smtp.close()
            raise RelayUnavailable(_describe(exc)) from exc
        try:
            if config["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise RelayUnavailable(_describe(exc)) from exc
        self.smtp = smtp
        return smtp

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


class _RelaySession(smtplib.SMTP):
    """smtplib's client with every wait cut to a deadline, noting when a message's final dot
    has gone out: a connection lost after that leaves the message's fate unknown."""

    def __init__(self, timeout: float, deadline: float) -> None:
        self.wait_limit, self.deadline = timeout, deadline
        self.handed_over, self.accepted = False, ""
        super().__init__(local_hostname=_local_hostname(), timeout=timeout)

    def start_message(self, deadline: float) -> None:
        self.deadline, self.handed_over, self.accepted = deadline, False, ""

    def _wait(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the time allowed for delivery ran out")
        return min(self.wait_limit, left)

    def connect(self, host: str = "localhost", port: int = 0, source_address=None):
        self._host = host  # what starttls checks the certificate against (set by __init__ only)
        self.timeout = self._wait()
        return super().connect(host, port, source_address)

    def send(self, s) -> None:
        if self.sock is not None:
            self.sock.settimeout(self._wait())
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.handed_over = True  # smtplib's data() sends the message and its dot at once

    def getreply(self):
        if self.sock is not None:
            self.sock.settimeout(self._wait())
        return super().getreply()

    def data(self, msg):
        code, reply = super().data(msg)
        self.accepted = f"{code} {_text(reply)}"
        return code, reply


@functools.cache
def _local_hostname() -> str:
    """The name given in EHLO, looked up once per process (the lookup can be slow)."""
    fqdn = socket.getfqdn()
    return fqdn if "." in fqdn else "[127.0.0.1]"


def _interrupted(smtp: _RelaySession, exc: BaseException) -> TemporaryFailure:
    if smtp.handed_over:
        return Unconfirmed(f"no answer to the message: {_describe(exc)}")
    return TemporaryFailure(_describe(exc))


def build_message(message: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message: UTF-8 text, with an HTML alternative when there is one."""
    mime = EmailMessage()
    mime["Subject"] = message.subject
    mime["From"] = sender
    mime["To"] = _address(message)
    mime["Date"] = format_datetime(utcnow())
    mime["Message-ID"] = message.message_id  # fixed when queued: the same at every attempt
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    mime.set_content(message.body_text, charset="utf-8")
    if message.body_html:
        mime.add_alternative(message.body_html, subtype="html", charset="utf-8")
    return mime


def _address(message: OutboxMessage) -> Address:
    return Address(display_name=message.recipient_name, addr_spec=message.recipient)


def _classify(exc: smtplib.SMTPException) -> Exception:
    """A 4xx reply is temporary; a 5xx is final (the recipient's fault unless MAIL FROM failed)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        reply = "; ".join(f"{code} {_text(text)}" for code, text in replies)
        if all(400 <= code < 500 for code, _ in replies):
            return TemporaryFailure(reply)
        return PermanentFailure(reply, recipient_refused=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600:
            refused = not isinstance(exc, smtplib.SMTPSenderRefused)
            return PermanentFailure(reply, recipient_refused=refused)
        return TemporaryFailure(reply)
    return TemporaryFailure(_describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
