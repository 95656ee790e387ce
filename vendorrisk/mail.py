"""The mail outbox (送信キュー): queue in the transaction, deliver after the commit, retry later.

Every email is first a row. `deliver_pending` sends the due rows, each in its own small
transaction, over one SMTP connection (or to the console when no relay is configured).
A 4xx reply or a lost connection is retried with a growing backoff; a 5xx reply is final
and flags the supplier contact's address as undeliverable.
"""

from __future__ import annotations

import email.errors
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app, render_template
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vendorrisk.extensions import db
from vendorrisk.models import Contact, OutboxMessage, OutboxStatus
from vendorrisk.models.base import utcnow
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
#: A message being sent is hidden from other senders this long (longer than the SMTP timeout,
#: and short enough that a sender that died mid-send does not strand it).
CLAIM_LEASE = timedelta(minutes=10)
PORTAL_LINK = re.compile(r"/portal/(?:e/)?[A-Za-z0-9_-]{20,}")
REDACTED_PORTAL_LINK = "/portal/[removed after delivery]"

SENT, RETRIED, FAILED = "sent", "retried", "failed"


def queue(
    *,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    kind: str,
    dedupe_key: str,
    locale: str = "ja",
    recipient_name: str = "",
    contact_id: int | None = None,
    assessment_id: int | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox in the current transaction; None if the key was queued.

    INSERT ... ON CONFLICT DO NOTHING on the dedupe key, so two processes queueing the same
    message at once never both succeed, and neither fails.
    """
    db.session.flush()
    fields = {
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
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(OutboxMessage)
        .values(**fields)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    new_id = db.session.execute(stmt).scalar()
    return db.session.get(OutboxMessage, new_id) if new_id is not None else None


def compose(name: str, /, locale: str, **context: Any) -> tuple[str, str]:
    """Render mail/<name>.txt and mail/<name>.html in the mail's language."""
    with force_locale(locale):
        text = render_template(f"mail/{name}.txt", locale=locale, **context)
        html = render_template(f"mail/{name}.html", locale=locale, **context)
    return text, html


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
    """Compose a mail from its templates and queue it (None if the key was queued)."""
    text, html = compose(name, locale, **context)
    return queue(
        recipient=recipient,
        subject=subject,
        body_text=text,
        body_html=html,
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


def deliver_pending(now: datetime | None = None, limit: int = 50) -> DeliveryReport:
    """Deliver the due pending messages, oldest first, committing after each one."""
    now = now or utcnow()
    report = DeliveryReport()
    transport = _transport(current_app.config)
    try:
        for message_id in _due_ids(now, limit):
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


def _due_ids(now: datetime, limit: int) -> list[int]:
    stmt = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(stmt))
    db.session.commit()
    return ids


def _claim(message_id: int, now: datetime) -> OutboxMessage | None:
    """Take a message for sending, so a second sender running at once skips it."""
    stmt = (
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.pending,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
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


def _deliver_one(transport: Any, message: OutboxMessage, now: datetime) -> tuple[str, bool]:
    """Send one message and record the result on it; returns (outcome, relay down)."""
    try:
        transport.send(message)
    except RelayUnavailable as exc:
        return _retry_later(message, str(exc), now), True
    except TemporaryFailure as exc:
        return _retry_later(message, str(exc), now), False
    except PermanentFailure as exc:
        _give_up(message, str(exc), now, exc.recipient_refused)
        return FAILED, False
    message.status = OutboxStatus.sent
    message.sent_at = now
    message.attempts += 1
    if not transport.keeps_links:
        message.body_text = PORTAL_LINK.sub(REDACTED_PORTAL_LINK, message.body_text)
        message.body_html = PORTAL_LINK.sub(REDACTED_PORTAL_LINK, message.body_html)
    return SENT, False


def _retry_later(message: OutboxMessage, reply: str, now: datetime) -> str:
    message.attempts += 1
    message.last_error = reply
    current_app.logger.warning("Mail %s to %s deferred: %s", message.id, message.recipient, reply)
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.failed
        return FAILED
    message.next_attempt_at = now + BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
    return RETRIED


def _give_up(message: OutboxMessage, reply: str, now: datetime, recipient_refused: bool) -> None:
    message.status = OutboxStatus.failed
    message.attempts += 1
    message.last_error = reply
    current_app.logger.warning("Mail %s to %s failed: %s", message.id, message.recipient, reply)
    contact = db.session.get(Contact, message.contact_id) if message.contact_id else None
    if recipient_refused and contact is not None:
        contact.undeliverable_at = now
        audit.record("mail_bounced", contact, summary=message.recipient)


def _transport(config: Any) -> ConsoleTransport | SMTPTransport:
    return SMTPTransport(config) if config["MAIL_SERVER"] else ConsoleTransport()


class ConsoleTransport:
    """No relay configured: print the mail (development), keeping its links for the outbox page."""

    keeps_links = True

    def send(self, message: OutboxMessage) -> None:
        name, address = message.recipient_name, message.recipient
        to = f"{name} <{address}>" if name else address
        shown = f"To: {to}\nSubject: {message.subject}\n\n{message.body_text}"
        current_app.logger.info("Mail (console transport)\n%s", shown)
        click.echo(f"{'-' * 72}\n{shown}\n{'-' * 72}")

    def close(self) -> None:
        pass


class SMTPTransport:
    """One relay connection, opened at the first message and reused for the batch."""

    keeps_links = False

    def __init__(self, config: Any) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: OutboxMessage) -> None:
        try:
            mime = build_message(message, self.config["MAIL_SENDER"])
        except (ValueError, email.errors.MessageError) as exc:
            raise PermanentFailure(f"invalid message: {exc}", recipient_refused=False) from exc
        smtp = self.smtp if self.smtp is not None else self._connect()
        try:
            smtp.send_message(mime)
        except smtplib.SMTPServerDisconnected as exc:
            self.close()  # a broken connection is not reused; the next message reconnects
            raise TemporaryFailure(_describe(exc)) from exc
        except smtplib.SMTPException as exc:  # (a subclass of OSError: caught before it)
            if getattr(exc, "smtp_code", None) == 421:
                self.close()  # 421: the relay is closing the connection
            raise _classify(exc) from exc
        except OSError as exc:
            self.close()
            raise TemporaryFailure(_describe(exc)) from exc

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        try:
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
        except (smtplib.SMTPException, OSError) as exc:
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


def build_message(message: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message: UTF-8 text, with an HTML alternative when there is one."""
    mime = EmailMessage()
    mime["Subject"] = message.subject
    mime["From"] = sender
    mime["To"] = _address(message)
    mime["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mime["Message-ID"] = make_msgid(domain=domain)  # a domain given: no slow FQDN lookup
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


@click.group("outbox")
def outbox_group() -> None:
    """The mail outbox."""


@outbox_group.command("deliver")
@click.option("--limit", default=200, show_default=True, help="Most messages to send.")
@with_appcontext
def deliver_command(limit: int) -> None:
    """Deliver pending mail now."""
    with audit.acting_as(audit.Actor(type="system", label="cli")):
        report = deliver_pending(limit=limit)
    click.echo(f"sent {report.sent}, retried {report.retried}, failed {report.failed}")
