"""The mail outbox (送信キュー): every email is a row first, delivered after the commit."""

from __future__ import annotations

import enum
import functools
import secrets
from datetime import datetime
from email.utils import parseaddr

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, enum_column, utcnow
from vendorrisk.vocab import Locale


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


def new_message_id(*, sender: str = "") -> str:
    """A fresh Message-ID in the sender's domain (random: a campaign queues many at once)."""
    return f"<{secrets.token_hex(16)}@{_domain(sender)}>"


@functools.lru_cache(maxsize=8)
def _domain(sender: str) -> str:
    """The domain of a sender's address (parsed once: a job queues thousands of mails)."""
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Recipient address.
    recipient: Mapped[str] = mapped_column(sa.String(254))
    #: Recipient's display name.
    recipient_name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Language the message was written in (a vocab.Locale).
    locale: Mapped[str] = mapped_column(sa.String(5), default=Locale.ja.value)
    #: Subject line.
    subject: Mapped[str] = mapped_column(sa.String(300))
    #: Plain-text body.
    body_text: Mapped[str] = mapped_column(sa.Text)
    #: HTML body.
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    #: What kind of mail (invitation, reminder, submitted ...).
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    #: The same key is never queued twice (idempotent jobs and retries).
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    #: The Message-ID header, fixed when queued: every attempt carries the same one, so a
    #: receiver can drop a copy it already has.
    message_id: Mapped[str] = mapped_column(sa.String(250), unique=True, default=new_message_id)
    #: Delivery state.
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.pending, index=True
    )
    #: Delivery attempts so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this (UTC): the backoff after a temporary failure.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The last error the relay gave.
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    #: When the attempt in flight started (UTC); None when none is. Still set after its claim
    #: (next_attempt_at) ran out: that sender died before recording the relay's answer.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Attempts that ended with the message handed over but no answer to it (the connection
    #: lost before the 250, or the sender gone): the relay may have passed a copy on.
    unconfirmed_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The relay's answer accepting the message (a 250, often naming its queue id).
    relay_reply: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: When it was queued (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was delivered (UTC).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The supplier contact it went to, flagged undeliverable on a permanent failure.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    #: The assessment it concerns, if any.
    assessment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="SET NULL"), index=True
    )

    contact = relationship("Contact")
