"""Webhooks end to end against a real HTTP server on loopback: queued in the transaction of the
change, signed per the Standard Webhooks spec, retried, given up, cut at the timeout, refused
by the SSRF guard, written for Slack, and sent set-based by the deliver-webhooks job."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.blueprints.assessments import test_review as review
from tests.blueprints.portal import test_portal as portal
from tests.receiver import receiver, verify
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import (
    DeliveryStatus,
    Role,
    Supplier,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from vendorrisk.services import webhooks
from vendorrisk.services.periodic.deliver_webhooks import deliver_webhooks
from vendorrisk.services.review import tiers
from vendorrisk.services.webhooks import delivery, guard, payloads, subscriptions

ALL_EVENTS = [event.value for event in WebhookEvent]
#: The portal tests' fixture: a questionnaire sent to a supplier's two contacts; the review
#: tests': an assessment submitted, with a critical "no".
sent = portal.sent
submitted = review.submitted


@pytest.fixture
def hooks(app):
    """A receiver on 127.0.0.1, which the configuration allows (as an internal host)."""
    saved = {k: app.config[k] for k in ("WEBHOOK_ALLOWED_HOSTS", "WEBHOOK_TIMEOUT")}
    app.config.update(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"], WEBHOOK_TIMEOUT=2)
    try:
        with receiver() as server:
            yield server
    finally:
        app.config.update(saved)


def subscribe(app, url, events=None, fmt="standard", locale="en") -> tuple[int, str]:
    """A subscription made as an admin would (the service), committed: (id, secret)."""
    with app.app_context():
        admin = User(role=Role.admin, email=f"admin{time.monotonic_ns()}@x.jp", password_hash="x")
        db.session.add(admin)
        db.session.flush()
        made, secret = subscriptions.create(url, events or ALL_EVENTS, fmt, locale, "", admin)
        db.session.commit()
        return made.id, secret


def _deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        return rows


def _emit(app, n=1, event=WebhookEvent.finding_raised, now=None) -> None:
    with app.app_context():
        items = [(f"k{i}", {"finding": {"id": i, "title": f"t{i}"}}) for i in range(n)]
        webhooks.emit_many(event, items, now or clock.now())
        db.session.commit()


def test_a_supplier_submitting_through_the_portal_sends_a_signed_webhook(app, hooks, sent, ctx):
    _, secret = subscribe(app, hooks.url, [WebhookEvent.assessment_submitted.value])
    client = portal._open(app, sent.link)
    for section in portal.TEMPLATE.sections:
        assert portal._answer_section(client, section).status_code == 302
    assert client.post("/portal/q/submit").headers["Location"] == "/portal/q/done"
    # Delivered once the response was out, to the real server: signed, as the spec says.
    (message,) = hooks.wait_for(1)
    verify(secret, message.headers, message.body)
    assert message.path == "/hooks/vendorrisk"
    assert message.headers["content-type"] == "application/json"
    assert message.json["type"] == "assessment.submitted"
    data = message.json["data"]
    assert data["assessment"]["id"] == sent.assessment_id
    assert data["assessment"]["url"].endswith(f"/assessments/{sent.assessment_id}")
    assert data["supplier"]["name_ja"] == "株式会社ポータル検証"
    (row,) = _deliveries(app)
    assert row.status == DeliveryStatus.delivered and row.attempts == 1
    assert row.last_response_code == 200 and row.delivered_at is not None
    assert message.headers["webhook-id"] == row.event_id


def test_raising_a_finding_and_completing_the_review_are_sent(app, auth, hooks, submitted, today):
    _, secret = subscribe(
        app,
        hooks.url,
        [WebhookEvent.finding_raised.value, WebhookEvent.assessment_completed.value],
    )
    auth.login(Role.reviewer)
    auth.client.post(
        f"/assessments/{submitted.id}/findings",
        data={
            "finding-question_id": review.CRITICAL.id,
            "finding-title": "インシデント報告体制の未整備",
            "finding-severity": "high",
            "finding-due_on": (today + timedelta(days=60)).isoformat(),
            "finding-visible_to_supplier": "y",
        },
    )
    auth.client.post(
        f"/assessments/{submitted.id}/complete",
        data={"done-decision": "approved_with_conditions", "done-note": "是正が条件"},
    )
    raised, completed = hooks.wait_for(2)
    for message in (raised, completed):
        verify(secret, message.headers, message.body)
    assert raised.json["type"] == "finding.raised"
    assert raised.json["data"]["finding"]["title"] == "インシデント報告体制の未整備"
    assert raised.json["data"]["finding"]["severity"] == "high"
    assert completed.json["type"] == "assessment.completed"
    assert completed.json["data"]["assessment"] | {"url": ""} == {
        "id": submitted.id,
        "template_id": review.TEMPLATE.id,
        "template_version": review.TEMPLATE.version,
        "status": "completed",
        "due_on": completed.json["data"]["assessment"]["due_on"],
        "score": 40.0,
        "decision": "approved_with_conditions",
        "url": "",
    }


def test_a_change_rolled_back_sends_nothing(app, hooks):
    subscribe(app, hooks.url)
    with app.app_context():
        webhooks.emit(WebhookEvent.finding_raised, {"finding": {"id": 1}}, clock.now())
        db.session.rollback()
        assert delivery.deliver_pending().delivered == 0
    assert _deliveries(app) == [] and hooks.received == []


def test_only_active_subscriptions_to_the_event_get_it_and_a_keyed_event_is_queued_once(app, hooks):
    listening, _ = subscribe(app, hooks.url, [WebhookEvent.finding_overdue.value])
    subscribe(app, hooks.url, [WebhookEvent.finding_raised.value])
    paused, _ = subscribe(app, hooks.url, [WebhookEvent.finding_overdue.value])
    with app.app_context():
        subscriptions.set_active(db.session.get(WebhookSubscription, paused), False)
        db.session.commit()
    for _ in range(2):  # a job run twice
        _emit(app, 1, WebhookEvent.finding_overdue)
    assert [(d.subscription_id, d.event) for d in _deliveries(app)] == [
        (listening, "finding.overdue")
    ]


def test_a_500_is_retried_later_then_delivered_with_the_same_id(app, hooks):
    _, secret = subscribe(app, hooks.url)
    hooks.replies.append((500, 0))
    now = clock.now()
    _emit(app, now=now)
    with app.app_context():
        report = delivery.deliver_pending(now)
    assert (report.retried, report.delivered) == (1, 0)
    (row,) = _deliveries(app)
    assert row.status == DeliveryStatus.pending and row.attempts == 1
    assert row.last_response_code == 500 and row.last_error.startswith("500 answer 500")
    assert row.next_attempt_at == now + delivery.BACKOFF[0]
    with app.app_context():  # not before its time
        assert delivery.deliver_pending(now + timedelta(seconds=30)).delivered == 0
        report = deliver_webhooks(now + timedelta(minutes=2))
    assert report.done == 1
    (row,) = _deliveries(app)
    assert row.status == DeliveryStatus.delivered and row.attempts == 2
    first, second = hooks.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row.event_id
    for message in (first, second):
        verify(secret, message.headers, message.body)


@pytest.mark.parametrize("code", [410, 404, 301])
def test_a_410_another_4xx_or_a_redirect_is_given_up_at_once(app, hooks, code):
    subscribe(app, hooks.url)
    hooks.replies.append((code, 0))
    now = clock.now()
    _emit(app, now=now)
    with app.app_context():
        assert delivery.deliver_pending(now).failed == 1
        assert delivery.deliver_pending(now + timedelta(days=1)).failed == 0  # never again
    (row,) = _deliveries(app)
    assert (row.status, row.attempts, row.last_response_code) == (DeliveryStatus.failed, 1, code)
    assert len(hooks.received) == 1


@pytest.mark.parametrize("code", [408, 429, 503])
def test_408_429_and_5xx_are_retried(app, hooks, code):
    subscribe(app, hooks.url)
    hooks.replies.append((code, 0))
    now = clock.now()
    _emit(app, now=now)
    with app.app_context():
        assert delivery.deliver_pending(now).retried == 1
    assert _deliveries(app)[0].status == DeliveryStatus.pending


def test_the_last_attempt_fails_for_good(app, hooks):
    subscribe(app, hooks.url)
    hooks.replies.extend([(500, 0)] * delivery.MAX_ATTEMPTS)
    now = clock.now()
    _emit(app, now=now)
    with app.app_context():
        for _ in range(delivery.MAX_ATTEMPTS):
            delivery.deliver_pending(now)
            now += timedelta(hours=11)
    (row,) = _deliveries(app)
    assert (row.status, row.attempts) == (DeliveryStatus.failed, delivery.MAX_ATTEMPTS)


def test_a_receiver_slower_than_the_timeout_is_cut_and_retried(app, hooks):
    app.config["WEBHOOK_TIMEOUT"] = 1
    subscribe(app, hooks.url)
    hooks.replies.append((200, 3.0))  # answers after 3 s: too late
    now = clock.now()
    _emit(app, n=2, now=now)
    started = time.monotonic()
    with app.app_context():
        report = delivery.deliver_pending(now)
    assert time.monotonic() - started < 2.5  # cut at the timeout, not waiting for the answer
    # The second message was not tried: the receiver had just timed out.
    assert (report.retried, report.deferred, report.delivered) == (1, 1, 0)
    cut, deferred = _deliveries(app)
    assert cut.attempts == 1 and cut.last_error == "no answer within 1 s"
    assert cut.last_response_code is None and cut.status == DeliveryStatus.pending
    assert deferred.attempts == 0 and deferred.next_attempt_at == now + delivery.BACKOFF[0]
    assert len(hooks.received) == 1


def test_a_refused_connection_is_retried(app, hooks):
    subscribe(app, "http://127.0.0.1:9/nothing-listens-here")
    now = clock.now()
    _emit(app, now=now)
    with app.app_context():
        assert delivery.deliver_pending(now).retried == 1
    assert "ConnectionRefusedError" in _deliveries(app)[0].last_error


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "must start with https://"),
        ("https://127.0.0.1/x", "private network"),
        ("https://10.1.2.3/x", "private network"),
        ("https://169.254.169.254/latest/meta-data", "private network"),
        ("https://[::1]:8443/x", "private network"),
        ("https://[::ffff:192.168.0.1]/x", "private network"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("ftp://hooks.example.com/x", "not a valid web address"),
        ("https://hooks.example.com:99999/x", "not a valid web address"),
    ],
)
def test_the_ssrf_guard_refuses_private_and_plain_addresses(app, url, reason):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(guard.UnsafeURL) as refused:
            guard.check(url)
        assert reason in str(refused.value)


def test_an_allowed_host_may_be_private_and_plain_http(app, hooks):
    with app.app_context():
        target = guard.check(hooks.url)
    assert (target.scheme, target.address, target.port) == ("http", "127.0.0.1", hooks.port)


def test_the_guard_checks_again_at_delivery_time(app, hooks):
    subscribe(app, hooks.url)
    app.config["WEBHOOK_ALLOWED_HOSTS"] = []  # the host is no longer allowed
    now = clock.now()
    _emit(app, now=now)
    with app.app_context():
        assert delivery.deliver_pending(now).retried == 1
    (row,) = _deliveries(app)
    assert row.last_error.startswith("refused before sending")
    assert hooks.received == []  # nothing left the machine


def test_the_slack_format_is_a_sentence_in_the_subscriptions_language_with_a_link(
    app, hooks, make_supplier
):
    subscribe(app, hooks.url, [WebhookEvent.supplier_tier_changed.value], fmt="slack")
    supplier = make_supplier(name_ja="株式会社スラック", name_en="Slack Test <Ltd>", tier="medium")
    with app.test_request_context():
        user = User(role=Role.ciso, email="ciso@x.jp", password_hash="x")
        db.session.add(user)
        db.session.flush()
        tiers.override_tier(
            db.session.get(Supplier, supplier.id), "high", "audit finding", user, clock.now()
        )
        db.session.commit()
        delivery.deliver_pending()
    (message,) = hooks.wait_for(1)
    assert message.json == {
        "text": "The risk tier of Slack Test &lt;Ltd&gt; changed from Medium to High.\n"
        f"<{app.config['BASE_URL']}/suppliers/{supplier.id}|Open in vendorrisk>"
    }


def test_the_teams_format_is_a_message_card(app, hooks):
    subscribe(app, hooks.url, fmt="teams")
    with app.app_context():
        data = payloads.finding(
            type("F", (), {"id": 7, "title": "MFA", "severity": "high", "due_on": None,
                           "assessment_id": None})(),
            type("S", (), {"id": 3, "name_ja": "株式会社チームズ", "name_en": ""})(),
        )  # fmt: skip
        webhooks.emit(WebhookEvent.finding_raised, data, clock.now())
        db.session.commit()
        delivery.deliver_pending()
    card = hooks.wait_for(1)[0].json
    assert card["@type"] == "MessageCard"
    assert "株式会社チームズ" in card["text"] and "MFA" in card["text"]
    assert card["potentialAction"][0]["targets"][0]["uri"].endswith("/findings/7")


def _job_statements(app, count_queries, n: int) -> int:
    with app.app_context():
        db.session.execute(sa.delete(WebhookDelivery))
        db.session.commit()
    now = clock.now()
    _emit(app, n, now=now)
    with app.app_context(), count_queries() as counter:
        result = deliver_webhooks(now)
    assert result.done == n
    return counter.count


def test_the_jobs_statements_do_not_grow_with_the_messages_due(app, hooks, count_queries):
    subscribe(app, hooks.url)
    assert _job_statements(app, count_queries, 3) == _job_statements(app, count_queries, 30)
    assert len(hooks.wait_for(33)) == 33


def test_emitting_many_costs_two_statements(app, hooks, count_queries):
    subscribe(app, hooks.url)
    subscribe(app, hooks.url)
    for n in (5, 200):
        with app.app_context():
            with count_queries() as counter:
                assert (
                    webhooks.emit_many(
                        WebhookEvent.finding_overdue,
                        [(f"{n}-{i}", {"i": i}) for i in range(n)],
                        clock.now(),
                    )
                    == 2 * n
                )
            db.session.commit()
        assert counter.count == 2, counter.statements


def test_a_secret_sealed_under_another_secret_key_fails_without_sending(app, hooks):
    subscribe(app, hooks.url)
    now = clock.now()
    _emit(app, now=now)
    saved = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret-key-after-a-rotation-of-it"
    try:
        with app.app_context():
            assert delivery.deliver_pending(now).failed == 1
    finally:
        app.config["SECRET_KEY"] = saved
    (row,) = _deliveries(app)
    assert "rotate it" in row.last_error and hooks.received == []


def test_the_job_forgets_old_delivered_and_failed_messages_but_not_pending_ones(app, hooks):
    subscribe(app, hooks.url)
    long_ago = clock.now() - delivery.KEEP - timedelta(days=1)
    _emit(app, n=3, now=long_ago)
    with app.app_context():
        first, second, _ = db.session.scalars(sa.select(WebhookDelivery)).all()
        first.status, second.status = DeliveryStatus.delivered, DeliveryStatus.failed
        db.session.commit()
        hooks.replies.append((500, 0))  # the pending one stays, retried
        deliver_webhooks(clock.now())
        db.session.commit()  # as run_job does
    (kept,) = _deliveries(app)
    assert kept.status == DeliveryStatus.pending and kept.attempts == 1


@pytest.fixture
def tls_hooks(app, hooks, tmp_path):
    """A receiver over HTTPS on 127.0.0.1, with a certificate made for the test."""
    from tests.e2e.harness import make_certificate

    certificate = make_certificate(tmp_path)
    with receiver(tls=certificate) as server:
        yield server, certificate


def test_https_checks_the_receivers_certificate(app, tls_hooks, monkeypatch):
    server, certificate = tls_hooks
    _, secret = subscribe(app, server.url)
    now = clock.now()
    _emit(app, n=1, now=now)
    with app.app_context():  # a certificate no trusted authority signed: not sent
        assert delivery.deliver_pending(now).retried == 1
    assert "CERTIFICATE_VERIFY_FAILED" in _deliveries(app)[0].last_error
    assert server.received == []
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))  # now it is trusted
    with app.app_context():
        assert delivery.deliver_pending(now + timedelta(minutes=2)).delivered == 1
    (message,) = server.wait_for(1)
    verify(secret, message.headers, message.body)
    assert message.headers["host"] == f"127.0.0.1:{server.port}"


def test_a_claim_left_by_a_sender_that_died_counts_as_an_attempt(app, hooks):
    subscribe(app, hooks.url)
    now = clock.now()
    _emit(app, now=now)
    with app.app_context():  # a sender claims it, then dies before recording the answer
        delivery._claim(now, 10, None)
        assert delivery.deliver_pending(now + timedelta(minutes=5)).delivered == 0  # still its
        report = delivery.deliver_pending(now + delivery.CLAIM_LEASE)
    assert report.delivered == 1
    (row,) = _deliveries(app)
    assert row.attempts == 2 and row.claimed_at is None
