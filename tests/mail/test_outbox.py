"""The mail outbox: queueing, delivery to a real SMTP relay on loopback, retries and bounces."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from jinja2 import ChoiceLoader, DictLoader

from vendorrisk.mail import outbox
from vendorrisk.mail.cli import outbox_group
from vendorrisk.models import AuditEvent, Contact, OutboxMessage, OutboxStatus, Role
from vendorrisk.models.base import utcnow

SENDER = "vendorrisk@sample.co.jp"
TOKEN = "Q2hlY2tQb3J0YWxUb2tlbl8tMDEyMzQ1Njc4OWFiY2Rl"
LINK = f"https://vendorrisk.sample.co.jp/portal/{TOKEN}"
EN = {"Accept-Language": "en"}
_KEYS = itertools.count(1)

TEMPLATES = {
    "mail/notice.txt": (
        '{% extends "mail/base.txt" %}{% block body %}{{ name }} 様\n\n'
        "ご回答はこちらから: {{ link }}\n{% endblock %}"
    ),
    "mail/notice.html": (
        '{% extends "mail/base.html" %}{% block body %}<p>{{ name }} 様</p>'
        '<p><a href="{{ link }}">{{ link }}</a></p>{% endblock %}'
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    peer: Any
    raw: bytes
    message: EmailMessage


class Relay:
    """An SMTP handler that keeps what it accepts, or answers with the reply it is told."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    def reset(self) -> None:
        self.received.clear()
        self.rcpt_reply = self.data_reply = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), session.peer, envelope.content, parsed
            )
        )
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtpd() -> Iterator[Controller]:
    controller = Controller(Relay(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@contextmanager
def mail_config(app, **values: Any) -> Iterator[None]:
    saved = {key: app.config[key] for key in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(saved)


@pytest.fixture
def relay(app, smtpd) -> Iterator[Relay]:
    smtpd.handler.reset()
    with mail_config(
        app,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtpd.port,
        MAIL_SENDER=SENDER,
        MAIL_USE_TLS=False,
        MAIL_USERNAME="",
    ):
        yield smtpd.handler
    smtpd.handler.reset()


@pytest.fixture
def console(app) -> Iterator[None]:
    with mail_config(app, MAIL_SERVER=""):
        yield


@pytest.fixture
def templates(app) -> Iterator[None]:
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader(TEMPLATES), original])
    try:
        yield
    finally:
        app.jinja_env.loader = original


def put(ctx, **overrides: Any) -> int:
    """Queue one message and commit; returns its id."""
    fields = {
        "recipient": "hanako.sato@sample.co.jp",
        "recipient_name": "佐藤 花子",
        "subject": "セキュリティ質問票のご回答のお願い",
        "body_text": f"回答はこちら: {LINK}",
        "body_html": f'<p><a href="{LINK}">回答する</a></p>',
        "kind": "invitation",
        "dedupe_key": f"test:{next(_KEYS)}",
    }
    with ctx() as session:
        message = outbox.queue(**(fields | overrides))
        session.commit()
        return message.id


def row(ctx, message_id: int) -> OutboxMessage:
    with ctx() as session:
        message = session.get(OutboxMessage, message_id)
        session.expunge(message)
        return message


def deliver(ctx, **kwargs: Any) -> outbox.DeliveryReport:
    with ctx():
        return outbox.deliver_pending(**kwargs)


def fetch(client, url: str, method: str = "GET", **kwargs: Any) -> tuple[int, str]:
    response = client.open(url, method=method, headers=EN, **kwargs)
    try:
        return response.status_code, response.get_data(as_text=True)
    finally:
        response.close()


def report(sent: int = 0, retried: int = 0, failed: int = 0) -> outbox.DeliveryReport:
    return outbox.DeliveryReport(sent=sent, retried=retried, failed=failed)


def test_a_mail_is_delivered_and_its_portal_token_not_kept(relay, templates, ctx):
    with ctx() as session:
        message = outbox.send(
            "notice",
            locale="ja",
            recipient="hanako.sato@sample.co.jp",
            recipient_name="佐藤 花子",
            subject="セキュリティ質問票のご回答のお願い",
            kind="invitation",
            dedupe_key="invitation:1",
            name="佐藤 花子",
            link=LINK,
            company="株式会社サンプル",
        )
        session.commit()
        message_id = message.id

    assert deliver(ctx) == report(sent=1)

    [received] = relay.received
    mime = received.message
    assert received.mail_from == SENDER and received.rcpt_tos == ["hanako.sato@sample.co.jp"]
    assert mime["To"].addresses[0].display_name == "佐藤 花子"
    assert mime["To"].addresses[0].addr_spec == "hanako.sato@sample.co.jp"
    assert str(mime["Subject"]) == "セキュリティ質問票のご回答のお願い"
    assert str(mime["From"]) == SENDER
    assert mime["Date"] and mime["Message-ID"].endswith("@sample.co.jp>")
    headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()  # Japanese names and subjects travel as RFC 2047 encoded words
    assert mime.get_content_type() == "multipart/alternative"
    assert LINK in mime.get_body(("plain",)).get_content()
    assert f'href="{LINK}"' in mime.get_body(("html",)).get_content()

    stored = row(ctx, message_id)
    assert stored.status == OutboxStatus.sent and stored.sent_at is not None
    assert stored.attempts == 1
    assert TOKEN not in stored.body_text and TOKEN not in stored.body_html
    assert "/portal/[removed after delivery]" in stored.body_text
    assert "/portal/[removed after delivery]" in stored.body_html


def test_a_text_only_mail_has_a_single_part(relay, ctx):
    put(ctx, body_html="", recipient_name="")
    deliver(ctx)
    [received] = relay.received
    assert received.message.get_content_type() == "text/plain"
    assert str(received.message["To"]) == "hanako.sato@sample.co.jp"


def test_one_dedupe_key_is_queued_once(relay, ctx):
    with ctx() as session:
        first = outbox.queue(
            recipient="a@sample.co.jp",
            subject="件名",
            body_text="本文",
            kind="reminder",
            dedupe_key="reminder:7:2025-06-01",
        )
        second = outbox.queue(
            recipient="a@sample.co.jp",
            subject="件名",
            body_text="本文",
            kind="reminder",
            dedupe_key="reminder:7:2025-06-01",
        )
        session.commit()
        assert first is not None and second is None
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    deliver(ctx)
    assert len(relay.received) == 1


def test_a_batch_goes_over_one_connection_oldest_first(relay, ctx):
    ids = [put(ctx, recipient=f"c{n}@sample.co.jp", subject=f"件名{n}") for n in range(3)]
    assert deliver(ctx) == report(sent=3)
    assert [r.rcpt_tos[0] for r in relay.received] == [f"c{n}@sample.co.jp" for n in range(3)]
    assert len({r.peer for r in relay.received}) == 1
    assert all(row(ctx, i).status == OutboxStatus.sent for i in ids)


def test_a_4xx_reply_is_retried_after_a_backoff(relay, ctx):
    message_id = put(ctx)
    relay.rcpt_reply = "451 4.3.0 Try again later"
    now = utcnow()
    assert deliver(ctx, now=now) == report(retried=1)

    stored = row(ctx, message_id)
    assert stored.status == OutboxStatus.pending and stored.attempts == 1
    assert "451" in stored.last_error and "Try again later" in stored.last_error
    assert abs(stored.next_attempt_at - (now + timedelta(minutes=1))) < timedelta(seconds=1)

    relay.rcpt_reply = None
    assert deliver(ctx, now=now + timedelta(seconds=30)) == report()
    assert relay.received == []
    assert deliver(ctx, now=now + timedelta(seconds=61)) == report(sent=1)
    assert len(relay.received) == 1
    stored = row(ctx, message_id)
    assert stored.status == OutboxStatus.sent and stored.attempts == 2


def test_the_backoff_grows_and_gives_up_after_eight_attempts(relay, ctx):
    message_id = put(ctx)
    relay.data_reply = "451 4.3.0 Try again later"
    now = utcnow()
    waits = []
    for _ in range(7):
        assert deliver(ctx, now=now) == report(retried=1)
        next_at = row(ctx, message_id).next_attempt_at
        waits.append(round((next_at - now).total_seconds() / 60))
        now = next_at
    assert waits == [1, 5, 30, 120, 360, 720, 720]
    assert deliver(ctx, now=now) == report(failed=1)
    stored = row(ctx, message_id)
    assert stored.status == OutboxStatus.failed and stored.attempts == 8


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_5xx_reply_fails_and_flags_the_contact(
    relay, ctx, auth, make_supplier, make_contact, stage
):
    supplier = make_supplier()
    contact = make_contact(supplier, email="nobody@sample.co.jp")
    message_id = put(
        ctx, recipient=contact.email, recipient_name=contact.name, contact_id=contact.id
    )
    setattr(relay, f"{stage}_reply", "550 5.1.1 No such user")
    assert deliver(ctx) == report(failed=1)

    stored = row(ctx, message_id)
    assert stored.status == OutboxStatus.failed and stored.attempts == 1
    assert stored.last_error.startswith("550")
    with ctx() as session:
        assert session.get(Contact, contact.id).undeliverable_at is not None
        event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail_bounced"))
        assert event.object_id == contact.id and event.supplier_id == supplier.id
        assert event.summary == "nobody@sample.co.jp"

    auth.login(Role.procurement)
    status, page = fetch(auth.client, f"/suppliers/{supplier.id}")
    assert status == 200 and "Undeliverable" in page


def test_a_refused_connection_is_temporary_and_stops_the_batch(app, ctx):
    first, second = put(ctx, recipient="a@sample.co.jp"), put(ctx, recipient="b@sample.co.jp")
    with mail_config(app, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SENDER=SENDER):
        assert deliver(ctx) == report(retried=1)
    stored = row(ctx, first)
    assert stored.status == OutboxStatus.pending and stored.attempts == 1
    assert "ConnectionRefused" in stored.last_error
    assert row(ctx, second).attempts == 0  # not tried: it waits for the next run


def test_compose_renders_both_bodies_with_the_footer(app, templates):
    with app.app_context():
        text, html = outbox.compose(
            "notice", "en", name="Hanako Sato", link=LINK, company="Sample Corp."
        )
    assert text.startswith("Hanako Sato 様") and LINK in text
    assert "\n-- \n" in text
    assert "supply-chain security system (vendorrisk) of Sample Corp." in text
    assert "Please do not forward this email" not in text  # staff mail: a system line only
    assert '<html lang="en">' in html and f'href="{LINK}"' in html
    assert "supply-chain security system (vendorrisk) of Sample Corp." in html
    for external in ("<img", "<link", "<script", "src=", "url("):
        assert external not in html


def test_compose_escapes_html_but_not_text(app, templates):
    with app.app_context():
        text, html = outbox.compose("notice", "ja", name="<b>株式会社A&B</b>", link=LINK)
    assert "<b>株式会社A&B</b>" in text
    assert "&lt;b&gt;株式会社A&amp;B&lt;/b&gt;" in html and "<b>" not in html
    assert '<html lang="ja">' in html


def test_console_delivery_keeps_the_link_and_the_admin_sees_it(app, console, ctx, auth, capsys):
    message_id = put(ctx, body_html=f'<p class="x">{LINK}</p>')
    assert deliver(ctx) == report(sent=1)
    out = capsys.readouterr().out
    assert "セキュリティ質問票のご回答のお願い" in out and LINK in out
    assert "佐藤 花子 <hanako.sato@sample.co.jp>" in out
    stored = row(ctx, message_id)
    assert stored.status == OutboxStatus.sent and LINK in stored.body_text

    auth.login(Role.admin)
    status, page = fetch(auth.client, "/admin/outbox")
    assert status == 200
    assert "セキュリティ質問票のご回答のお願い" in page and "hanako.sato@sample.co.jp" in page
    assert f"/admin/outbox/{message_id}" in page and ">Sent<" in page
    status, page = fetch(auth.client, "/admin/outbox?status=failed")
    assert "hanako.sato@sample.co.jp" not in page
    status, page = fetch(auth.client, f"/admin/outbox/{message_id}")
    assert status == 200 and LINK in page
    assert "&lt;p class=&#34;x&#34;&gt;" in page and '<p class="x">' not in page


def test_the_admin_delivers_now_and_others_may_not(app, console, ctx, auth):
    put(ctx)
    auth.login(Role.admin)
    status, page = fetch(auth.client, "/admin/outbox/deliver", "POST", follow_redirects=True)
    assert status == 200
    assert "1 sent, 0 to be retried, 0 failed" in page
    auth.logout()
    message_id = put(ctx, recipient="x@sample.co.jp")
    for role in (Role.auditor, Role.procurement):
        auth.login(role)
        for url, method in [
            ("/admin/outbox", "GET"),
            (f"/admin/outbox/{message_id}", "GET"),
            ("/admin/outbox/deliver", "POST"),
            (f"/admin/outbox/{message_id}/retry", "POST"),
        ]:
            assert fetch(auth.client, url, method)[0] == 403, (role, url)
        auth.logout()
    assert row(ctx, message_id).status == OutboxStatus.pending


def test_the_admin_sends_a_failed_message_again(app, console, ctx, auth):
    message_id = put(ctx)
    with ctx() as session:
        session.get(OutboxMessage, message_id).status = OutboxStatus.failed
        session.commit()
    auth.login(Role.admin)
    status, page = fetch(auth.client, f"/admin/outbox/{message_id}")
    assert f"/admin/outbox/{message_id}/retry" in page
    before = utcnow()
    fetch(auth.client, f"/admin/outbox/{message_id}/retry", "POST")
    stored = row(ctx, message_id)
    assert stored.status == OutboxStatus.pending and stored.next_attempt_at >= before
    with ctx() as session:
        assert session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail_retried"))
    assert deliver(ctx) == report(sent=1)
    status, page = fetch(
        auth.client, f"/admin/outbox/{message_id}/retry", "POST", follow_redirects=True
    )
    assert "Only a message that failed can be sent again." in page


def test_the_outbox_deliver_command(app, console, ctx, runner):
    put(ctx)
    result = runner.invoke(outbox_group, ["deliver", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "sent 1, retried 0, failed 0" in result.output
    result = runner.invoke(outbox_group, ["deliver"])
    assert "sent 0, retried 0, failed 0" in result.output
    assert "Deliver pending mail now." in runner.invoke(outbox_group, ["--help"]).output
