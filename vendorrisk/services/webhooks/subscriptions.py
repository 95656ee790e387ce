"""An admin's webhook subscriptions: made, changed, paused, rotated, deleted, tested; and a
failed message sent again. Flush, never commit; audited (the subscription model is), the
secret never (it is shown once, when made or rotated)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from vendorrisk.extensions import db
from vendorrisk.models import DeliveryStatus, User, WebhookDelivery, WebhookSubscription
from vendorrisk.models.webhook import TEST_EVENT
from vendorrisk.services import audit
from vendorrisk.services.webhooks import delivery as sender
from vendorrisk.services.webhooks import (
    delivery_row,
    envelope,
    event_id_for,
    forget_subscriptions,
    guard,
    payloads,
    queue_rows,
    signing,
)


def create(
    url: str,
    events: Iterable[str],
    fmt: str,
    locale: str,
    description: str,
    user: User,
) -> tuple[WebhookSubscription, str]:
    """A new active subscription and its signing secret (to be shown once)."""
    guard.check(url)
    secret = signing.new_secret()
    subscription = WebhookSubscription(
        url=url.strip(),
        events=sorted(set(events)),
        format=fmt,
        locale=locale,
        description=description.strip(),
        secret_sealed=signing.seal(secret),
        created_by_id=user.id,
    )
    db.session.add(subscription)
    db.session.flush()
    forget_subscriptions()
    return subscription, secret


def update(
    subscription: WebhookSubscription,
    url: str,
    events: Iterable[str],
    fmt: str,
    locale: str,
    description: str,
    active: bool,
) -> None:
    """Change what it listens to, where and how it sends; a new URL is checked again."""
    if url.strip() != subscription.url:
        guard.check(url)
    subscription.url = url.strip()
    subscription.events = sorted(set(events))
    subscription.format = fmt
    subscription.locale = locale
    subscription.description = description.strip()
    subscription.active = active
    forget_subscriptions()


def set_active(subscription: WebhookSubscription, active: bool) -> None:
    """Pause it (no new events are queued for it; queued ones are still sent) or resume it."""
    subscription.active = active
    forget_subscriptions()


def rotate_secret(subscription: WebhookSubscription) -> str:
    """A new signing secret (the old one stops at once); returned to be shown once."""
    secret = signing.new_secret()
    subscription.secret_sealed = signing.seal(secret)
    return secret


def delete(subscription: WebhookSubscription) -> None:
    """Delete it and its delivery log (the database cascades)."""
    db.session.delete(subscription)
    db.session.flush()
    forget_subscriptions()


def send_test(subscription: WebhookSubscription, user: User, now: datetime) -> None:
    """Queue a test message to this subscription alone, sent after the response."""
    event_id = event_id_for(TEST_EVENT, None)
    payload = envelope(TEST_EVENT, payloads.test(subscription.id, user.email), now)
    queue_rows([delivery_row(subscription.id, TEST_EVENT, event_id, payload, now)])
    audit.record("webhook_test", subscription, summary=subscription.url[:300])
    sender.deliver_after_response([event_id])


def retry(message: WebhookDelivery, now: datetime) -> bool:
    """Send a failed message again now (one more attempt); False if it had not failed."""
    if message.status != DeliveryStatus.failed:
        return False
    message.status = DeliveryStatus.pending
    message.next_attempt_at = now
    audit.record(
        "webhook_retried", message.subscription, summary=f"{message.event} {message.event_id}"
    )
    sender.deliver_after_response([message.event_id])
    return True
