"""Webhooks: an admin's subscription of a URL to events, and one delivery row per event sent to
it, queued in the transaction that made the event and sent like the mail outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, UTCDateTime, enum_column, one_of, utcnow
from vendorrisk.vocab import LOCALES, Locale


class WebhookEvent(enum.StrEnum):
    """What a subscription may listen to (the `type` of each message)."""

    assessment_submitted = "assessment.submitted"
    assessment_completed = "assessment.completed"
    supplier_tier_changed = "supplier.tier_changed"
    finding_raised = "finding.raised"
    finding_overdue = "finding.overdue"
    attestation_expiring = "attestation.expiring"


#: The event of the admin's "send a test event" button (to one subscription only).
TEST_EVENT = "webhook.test"


class WebhookFormat(enum.StrEnum):
    """The body sent: the signed JSON envelope, or a chat service's incoming-webhook message."""

    standard = "standard"
    slack = "slack"
    teams = "teams"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookSubscription(TimestampMixin, db.Model):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (one_of("locale", LOCALES),)
    __audited__ = True
    #: The signing secret never reaches the audit log, not even encrypted.
    __audit_redacted__ = frozenset({"secret_sealed"})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Where messages are POSTed (https, or http to a host in WEBHOOK_ALLOWED_HOSTS).
    url: Mapped[str] = mapped_column(sa.String(2000))
    #: What it is for, in the admin's words.
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The WebhookEvent values it listens to.
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: The body sent: standard (signed JSON), slack or teams.
    format: Mapped[WebhookFormat] = mapped_column(
        enum_column(WebhookFormat, "webhook_format"), default=WebhookFormat.standard
    )
    #: The language of the sentences in Slack and Teams messages (a vocab.Locale).
    locale: Mapped[str] = mapped_column(sa.String(5), default=Locale.ja.value)
    #: The signing secret ("whsec_..."), Fernet-encrypted with a key derived from SECRET_KEY
    #: (services.sealing): signing needs the secret itself, so it cannot be hashed.
    secret_sealed: Mapped[str] = mapped_column(sa.Text)
    #: Inactive subscriptions get no new deliveries (queued ones are still sent).
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: The admin who created it.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    created_by = relationship("User")

    @property
    def display_name(self) -> str:
        """What the audit log names it by."""
        return self.description or self.url[:200]

    def listens_to(self, event: str) -> bool:
        return event in (self.events or ())


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One message per event and subscription: an event emitted twice (a job run twice)
        # is queued once (INSERT ... ON CONFLICT DO NOTHING).
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_event"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The subscription it goes to (its log goes with it when it is deleted).
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    #: The event (a WebhookEvent value, or TEST_EVENT).
    event: Mapped[str] = mapped_column(sa.String(40))
    #: The message id (the webhook-id header): the same at every attempt, so that a receiver
    #: can drop a copy; the same for every subscription the event went to.
    event_id: Mapped[str] = mapped_column(sa.String(64))
    #: The envelope {"type", "timestamp", "data"}: the standard body, and what the Slack and
    #: Teams messages are written from.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: Delivery state.
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.pending
    )
    #: Attempts so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this (UTC): the backoff after a failure, or the claim of a sender.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the attempt in flight started (UTC); None when none is.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The HTTP status of the last answer; None when there was none (timeout, refused).
    last_response_code: Mapped[int | None] = mapped_column()
    #: The last failure, or the start of the answer's body, cut to 300 characters.
    last_error: Mapped[str] = mapped_column(sa.String(300), default="")
    #: When it was queued (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the receiver accepted it with a 2xx (UTC).
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscription = relationship("WebhookSubscription")
