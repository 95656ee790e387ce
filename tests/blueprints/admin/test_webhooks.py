"""The admin's webhook pages: add (the secret shown once, never again, never audited), refuse
unsafe URLs in the admin's language, test, retry, edit, pause, rotate, delete; CSRF on each
form; auditors read only."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.receiver import verify
from tests.services import test_webhooks as service_tests
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import (
    AuditEvent,
    DeliveryStatus,
    Role,
    WebhookDelivery,
    WebhookSubscription,
)
from vendorrisk.services import webhooks

#: A receiver on 127.0.0.1, allowed by the configuration.
hooks = service_tests.hooks


def _add(client, url, **fields):
    data = {
        "url": url,
        "description": "SOC チャンネル",
        "events": ["assessment.submitted", "finding.raised"],
        "format": "standard",
        "locale": "ja",
    } | fields
    return client.post("/admin/webhooks/new", data=data)


def _secret_in(page: str) -> str:
    match = re.search(r"whsec_[A-Za-z0-9+/=]+", page)
    assert match, page
    return match.group(0)


def _subscription(app) -> WebhookSubscription:
    with app.app_context():
        found = db.session.scalar(sa.select(WebhookSubscription))
        db.session.expunge_all()
        return found


def _audit_text(app) -> str:
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent)).all()
        return " ".join(f"{e.action} {e.summary} {e.changes}" for e in events)


def test_the_secret_is_shown_once_and_never_audited(app, auth, hooks):
    auth.login(Role.admin, locale="en")
    response = _add(auth.client, hooks.url)
    assert response.status_code == 200
    secret = _secret_in(response.get_data(as_text=True))
    subscription = _subscription(app)
    assert subscription.url == hooks.url and subscription.created_by_id == auth.user.id
    assert secret not in subscription.secret_sealed  # sealed at rest
    for page in ("/admin/webhooks", f"/admin/webhooks/{subscription.id}"):
        text = auth.client.get(page).get_data(as_text=True)
        assert hooks.url in text and "whsec_" not in text
    audited = _audit_text(app)
    assert secret not in audited and subscription.secret_sealed not in audited
    with app.app_context():
        created = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.object_type == "webhook_subscriptions")
        )
        assert created.action == "create" and created.changes["secret_sealed"] == "•••"
        assert created.actor_user_id == auth.user.id

    # Rotating shows the new secret once; the old one no longer signs.
    rotated = auth.client.post(f"/admin/webhooks/{subscription.id}/rotate")
    new_secret = _secret_in(rotated.get_data(as_text=True))
    assert new_secret != secret
    audited = _audit_text(app)
    assert secret not in audited and new_secret not in audited
    with app.app_context():
        changed = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.object_type == "webhook_subscriptions", AuditEvent.action == "update"
            )
        )
        assert changed.changes == {"secret_sealed": ["•••", "•••"]}

    # The test event goes out signed with the new secret.
    auth.client.post(f"/admin/webhooks/{subscription.id}/test")
    (message,) = hooks.wait_for(1)
    verify(new_secret, message.headers, message.body)
    assert message.json["type"] == "webhook.test"
    with pytest.raises(AssertionError):
        verify(secret, message.headers, message.body)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://10.0.0.8/hook", "This address leads into a private network (10.0.0.8)"),
        ("http://hooks.example.com/x", "A webhook address must start with https://."),
        ("https://169.254.169.254/", "webhooks go only to public addresses"),
    ],
)
def test_an_unsafe_url_is_refused_on_the_form_in_the_admins_language(app, auth, url, message):
    auth.login(Role.admin, locale="en")
    response = _add(auth.client, url, description="kept")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert 'value="kept"' in page  # nothing typed is lost
    assert _subscription(app) is None


def test_retry_now_sends_a_failed_message_again(app, auth, hooks):
    auth.login(Role.admin, locale="en")
    _add(auth.client, hooks.url)
    subscription = _subscription(app)
    hooks.replies.append((410, 0))
    auth.client.post(f"/admin/webhooks/{subscription.id}/test")
    hooks.wait_for(1)
    page = auth.client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
    assert "Failed" in page and "Retry now" in page and "410" in page
    with app.app_context():
        failed = db.session.scalar(sa.select(WebhookDelivery))
        zone = ZoneInfo(app.config["TIMEZONE"])
        assert failed.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") in page
        assert failed.status == DeliveryStatus.failed
    auth.client.post(f"/admin/webhooks/deliveries/{failed.id}/retry")
    assert len(hooks.wait_for(2)) == 2
    with app.app_context():
        again = db.session.get(WebhookDelivery, failed.id)
        assert (again.status, again.attempts) == (DeliveryStatus.delivered, 2)
        assert db.session.scalar(
            sa.select(AuditEvent.id).where(AuditEvent.action == "webhook_retried")
        )
    page = auth.client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
    assert "Delivered" in page and "Retry now" not in page


def test_edit_pause_and_delete(app, auth, hooks):
    auth.login(Role.admin, locale="en")
    _add(auth.client, hooks.url)
    subscription = _subscription(app)
    edit = f"/admin/webhooks/{subscription.id}/edit"
    checked = re.findall(r"<input checked [^>]*value=\"([a-z._]+)\"", auth.client.get(edit).text)
    assert checked == ["assessment.submitted", "finding.raised", "y"]  # and active
    response = auth.client.post(
        edit,
        data={
            "url": hooks.url + "?channel=2",
            "events": ["finding.overdue"],
            "format": "slack",
            "locale": "en",
            "active": "y",
        },
    )
    assert response.status_code == 302
    edited = _subscription(app)
    assert edited.events == ["finding.overdue"] and edited.format == "slack"
    assert edited.url.endswith("?channel=2") and edited.locale == "en"
    auth.client.post(f"/admin/webhooks/{subscription.id}/active")
    assert _subscription(app).active is False
    with app.app_context():  # paused: nothing is queued
        assert webhooks.emit("finding.overdue", {}, clock.now()) == 0
    auth.client.post(f"/admin/webhooks/{subscription.id}/test")  # a test still goes
    hooks.wait_for(1)
    response = auth.client.post(f"/admin/webhooks/{subscription.id}/delete")
    assert response.headers["Location"] == "/admin/webhooks"
    assert _subscription(app) is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WebhookDelivery.id))) == 0


def test_every_webhook_form_needs_its_csrf_token(app, auth, hooks):
    auth.login(Role.admin, locale="en")
    _add(auth.client, hooks.url)
    subscription = _subscription(app)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = auth.client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
        assert page.count('name="csrf_token"') >= 4
        for action in ("rotate", "active", "test", "delete", "edit"):
            response = auth.client.post(f"/admin/webhooks/{subscription.id}/{action}")
            assert response.status_code == 400, action
        assert auth.client.post("/admin/webhooks/new", data={"url": hooks.url}).status_code == 400
        assert auth.client.post("/admin/webhooks/deliveries/1/retry").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _subscription(app).active and hooks.received == []


def test_auditors_read_the_log_but_change_nothing(app, auth, hooks, make_user):
    auth.login(Role.admin, locale="en")
    _add(auth.client, hooks.url)
    subscription = _subscription(app)
    auth.logout()
    auth.login(Role.auditor, locale="en")
    assert auth.client.get("/admin/webhooks").status_code == 200
    page = auth.client.get(f"/admin/webhooks/{subscription.id}").get_data(as_text=True)
    assert "Delivery log" in page and "Send a test event" not in page and "whsec_" not in page
    assert auth.client.post(f"/admin/webhooks/{subscription.id}/test").status_code == 403
    assert auth.client.get("/admin/webhooks/new").status_code == 403
    auth.logout()
    auth.login(Role.procurement)
    assert auth.client.get("/admin/webhooks").status_code == 403
