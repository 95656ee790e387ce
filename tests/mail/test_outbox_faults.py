"""Mail never in the user's way, each fault injected for real (issue 12, rows 4, 5 and 10).

Relays on loopback that stall before answering, never answer, or take a message and drop the
connection before its 250; a sender killed with SIGKILL mid-send. Every test counts what the
relay received and what the outbox holds: nothing lost, nothing sent twice under a new
Message-ID. A request is looked at before its response is closed (buffered=False): that is the
moment the user has the page, and no SMTP may have happened by then.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import RecordingHandler, build_app, smtp_relay
from vendorrisk import jobs
from vendorrisk.extensions import db
from vendorrisk.mail import outbox
from vendorrisk.models import OutboxMessage, OutboxStatus, Role
from vendorrisk.models.base import utcnow

EN = {"Accept-Language": "en"}


class StallingHandler(RecordingHandler):
    """A slow relay: it keeps each message at once, then waits `stall` seconds before its 250."""

    def __init__(self, stall: float) -> None:
        super().__init__()
        self.stall = stall

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.stall)
        return reply


class RawRelay:
    """A hand-written relay for what aiosmtpd will not do: `silent` accepts connections and never
    says a word; `drop` takes each message whole and closes the connection before its 250;
    `accept` is a plain relay."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.connections = 0
        self.messages: list[EmailMessage] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        for conn in self._open:
            with suppress(OSError):
                conn.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            self._open.append(conn)
            if self.mode != "silent":
                threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with suppress(OSError), conn, conn.makefile("rb") as reader:
            conn.sendall(b"220 relay.test ESMTP\r\n")
            for line in reader:
                verb = line[:4].upper()
                if verb == b"DATA":
                    conn.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    self.messages.append(_read_message(reader))
                    if self.mode == "drop":
                        conn.shutdown(socket.SHUT_RDWR)  # taken, and no 250 ever comes
                        return
                    conn.sendall(f"250 2.0.0 Ok: queued as Q{len(self.messages)}\r\n".encode())
                elif verb == b"QUIT":
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                    return
                else:
                    conn.sendall(b"250 relay.test\r\n")


def _read_message(reader) -> EmailMessage:
    lines = []
    for line in reader:
        if line == b".\r\n":
            break
        lines.append(line[1:] if line.startswith(b"..") else line)
    return message_from_bytes(b"".join(lines), policy=policy.default)


@pytest.fixture
def raw_relay(app, monkeypatch):
    relays: list[RawRelay] = []

    def start(mode: str) -> RawRelay:
        relay = RawRelay(mode)
        relays.append(relay)
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", relay.port)
        return relay

    yield start
    for relay in relays:
        relay.close()


def outbox_rows(ctx) -> list[OutboxMessage]:
    with ctx() as session:
        rows = list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def queue(ctx, n: int, kind: str = "reminder") -> list[int]:
    """`n` messages queued earlier (a backlog), committed."""
    with ctx() as session:
        ids = [
            outbox.queue(
                recipient=f"backlog{i}@example.jp",
                subject=f"督促 {i}",
                body_text="本文",
                kind=kind,
                dedupe_key=f"faults:{kind}:{i}",
            ).id
            for i in range(n)
        ]
        session.commit()
        return ids


def deliver_job(app, later: timedelta = timedelta(0), since: datetime | None = None):
    """The deliver-mail job, as the scheduler runs it, as of `later` after `since` (now)."""
    with app.app_context():
        run = jobs.run_job("deliver-mail", (since or utcnow()) + later)
        db.session.remove()
    assert run.outcome == "ok", run.error
    return run


def message_ids(messages) -> Counter:
    return Counter(str(m["Message-ID"]) for m in messages)


def post_send(auth, supplier, contacts, today):
    """Procurement presses *Send*; the response is returned before the server closes it."""
    data = {
        "template_id": "csm-v2-supplier",
        "due_on": (today + timedelta(days=30)).isoformat(),
        "contact_ids": [c.id for c in contacts],
    }
    data |= {f"locale-{c.id}": "ja" for c in contacts}
    response = auth.client.post(f"/suppliers/{supplier.id}/send", data=data, buffered=False)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def supplier_with(auth, make_supplier, make_contact):
    def make(n: int):
        owner = auth.login(Role.procurement)
        supplier = make_supplier(owner_id=owner.id)
        contacts = [make_contact(supplier, email=f"c{i}@supplier.example.jp") for i in range(n)]
        return supplier, contacts

    return make


# -- row 4: a slow relay with a backlog -------------------------------------------------------


def test_send_against_a_slow_relay_answers_before_any_smtp_and_each_mail_goes_once(
    app, auth, ctx, supplier_with, today, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    with smtp_relay(app, StallingHandler(stall=0.3)) as relay:
        backlog = queue(ctx, 4)
        supplier, contacts = supplier_with(2)

        response = post_send(auth, supplier, contacts, today)

        # The user has the page: nothing was handed to the relay, nor even tried.
        assert relay.messages == []
        rows = outbox_rows(ctx)
        assert len(rows) == 6
        assert all(r.status == OutboxStatus.pending and r.attempts == 0 for r in rows)
        assert all(r.claimed_at is None for r in rows)

        response.close()  # the server has sent the page: the request's own mail leaves now
        invited = sorted(c.email for c in contacts)
        assert sorted(m["To"].addresses[0].addr_spec for m in relay.messages) == invited
        rows = {r.id: r for r in outbox_rows(ctx)}
        assert all(rows[i].status == OutboxStatus.pending for i in backlog)  # not its business

        deliver_job(app)  # the backlog, as the scheduler sends it within the minute
        deliver_job(app, later=timedelta(hours=1))  # and nothing goes twice on later runs
        rows = outbox_rows(ctx)
        assert all(r.status == OutboxStatus.sent and r.attempts == 1 for r in rows)
        assert message_ids(relay.messages) == Counter({r.message_id: 1 for r in rows})
        assert all(r.relay_reply.startswith("250") for r in rows)


def test_delivery_after_the_response_keeps_to_its_budget(
    app, auth, ctx, supplier_with, today, monkeypatch
):
    """However many mails a request queues, the worker is free again within WEB_BUDGET."""
    monkeypatch.setattr(outbox, "WEB_BUDGET", 3.0)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1.5)  # so none starts after 1.5 s
    with smtp_relay(app, StallingHandler(stall=0.4)) as relay:
        supplier, contacts = supplier_with(8)
        post_send(auth, supplier, contacts, today).close()

        after_response = len(relay.messages)
        assert 1 <= after_response < 8
        rows = outbox_rows(ctx)
        assert sum(r.status == OutboxStatus.sent for r in rows) == after_response
        untouched = [r for r in rows if r.status == OutboxStatus.pending]
        assert all(r.attempts == 0 and r.claimed_at is None for r in untouched)

        deliver_job(app)
        rows = outbox_rows(ctx)
        assert all(r.status == OutboxStatus.sent for r in rows)
        assert message_ids(relay.messages) == Counter({r.message_id: 1 for r in rows})


def test_a_relay_slower_than_the_budget_is_cut_off_and_its_copy_keeps_the_message_id(
    app, auth, ctx, supplier_with, today, monkeypatch
):
    """Before: the 30 s SMTP timeout outlived gunicorn's 30 s, the worker was killed mid-send
    and the mail in flight went again with a new Message-ID. Now the run ends at its deadline,
    records that the answer never came, and the retry carries the same Message-ID."""
    monkeypatch.setattr(outbox, "WEB_BUDGET", 1.0)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 30)  # as long as gunicorn's timeout
    with smtp_relay(app, StallingHandler(stall=3.0)) as relay:
        supplier, contacts = supplier_with(1)
        post_send(auth, supplier, contacts, today).close()

        [row] = outbox_rows(ctx)
        assert len(relay.messages) == 1  # the relay took it, and had not answered by then
        assert row.status == OutboxStatus.pending and row.claimed_at is None
        assert row.attempts == 1 and row.unconfirmed_attempts == 1
        assert "relay may have accepted it" in row.last_error

        relay.stall = 0
        deliver_job(app, later=timedelta(minutes=2))
        [row] = outbox_rows(ctx)
        assert row.status == OutboxStatus.sent and row.attempts == 2
        assert message_ids(relay.messages) == Counter({row.message_id: 2})


# -- row 5: a relay that never answers --------------------------------------------------------


def test_a_relay_that_never_answers_delays_no_page_and_loses_nothing(
    app, auth, ctx, supplier_with, today, raw_relay, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 0.5)
    silent = raw_relay("silent")
    supplier, contacts = supplier_with(2)

    response = post_send(auth, supplier, contacts, today)
    assert silent.connections == 0  # the page was ready without a word to the relay
    assert all(r.attempts == 0 for r in outbox_rows(ctx))

    response.close()
    assert silent.connections == 1 and silent.messages == []
    rows = outbox_rows(ctx)
    assert [r.status for r in rows] == [OutboxStatus.pending] * 2
    assert [r.attempts for r in rows] == [1, 0]  # the relay is down: the second waits untried
    assert "timed out" in rows[0].last_error and rows[0].claimed_at is None

    with smtp_relay(app, RecordingHandler()) as relay:
        deliver_job(app, later=timedelta(minutes=2))
        deliver_job(app, later=timedelta(hours=1))
    rows = outbox_rows(ctx)
    assert all(r.status == OutboxStatus.sent for r in rows)
    assert message_ids(relay.messages) == Counter({r.message_id: 1 for r in rows})


def test_a_failure_after_the_response_never_reaches_the_user_and_the_job_sends_the_mail(
    app, auth, ctx, supplier_with, today, monkeypatch, caplog
):
    """Row 11's mail part: the outbox failing (the database gone, a bug) after the change
    committed is logged, not shown: the user already has the page; the job sends the mail."""

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE outbox_messages", {}, Exception("server closed"))

    monkeypatch.setattr(outbox, "_claim", broken)
    with smtp_relay(app, RecordingHandler()) as relay:
        supplier, contacts = supplier_with(1)
        response = post_send(auth, supplier, contacts, today)
        response.close()
        assert response.status_code == 302 and relay.messages == []
        assert "Mail delivery after the response failed" in caplog.text
        monkeypatch.undo()
        deliver_job(app)
    [row] = outbox_rows(ctx)
    assert row.status == OutboxStatus.sent
    assert message_ids(relay.messages) == Counter({row.message_id: 1})


# -- row 10: a relay that takes the mail and drops the connection before its 250 --------------


def test_a_message_dropped_before_its_250_is_sent_again_with_the_same_message_id(
    app, auth, ctx, raw_relay
):
    [message_id] = queue(ctx, 1, kind="invitation")
    relay = raw_relay("drop")

    deliver_job(app)
    [row] = outbox_rows(ctx)
    assert len(relay.messages) == 1  # the relay has it; we never heard so
    assert row.status == OutboxStatus.pending and row.unconfirmed_attempts == 1
    assert row.relay_reply == ""

    relay.mode = "accept"
    deliver_job(app, later=timedelta(minutes=2))
    deliver_job(app, later=timedelta(hours=1))
    [row] = outbox_rows(ctx)
    assert row.status == OutboxStatus.sent and row.attempts == 2
    assert row.relay_reply == "250 2.0.0 Ok: queued as Q2"
    # Two copies reached the relay, one Message-ID: the receiving side keeps one.
    assert message_ids(relay.messages) == Counter({row.message_id: 2})

    auth.login(Role.admin)
    page = auth.client.get("/admin/outbox", headers=EN).get_data(as_text=True)
    assert "Possible duplicate" in page
    page = auth.client.get(f"/admin/outbox/{message_id}", headers=EN).get_data(as_text=True)
    assert "Attempts without an answer" in page and "the same Message-ID" in page
    assert row.message_id.replace("<", "&lt;").replace(">", "&gt;") in page


def test_a_message_is_queued_with_the_message_id_it_keeps(app, ctx):
    """A 4xx and a retry: both attempts carry the Message-ID stored when it was queued."""
    handler = RecordingHandler()
    with smtp_relay(app, handler):
        queue(ctx, 1)
        [queued] = outbox_rows(ctx)
        assert queued.message_id.endswith("@localhost>")  # MAIL_SENDER's domain
        handler.reply = "451 4.3.0 Try again later"
        deliver_job(app)
        handler.reply = None
        deliver_job(app, later=timedelta(minutes=2))
    [row] = outbox_rows(ctx)
    assert row.status == OutboxStatus.sent and row.attempts == 2
    assert row.unconfirmed_attempts == 0  # a 4xx is an answer: no copy can exist
    assert message_ids(handler.messages) == Counter({queued.message_id: 1})


# -- a sender killed mid-send (SIGKILL): its claim runs out with no answer recorded ------------


@pytest.fixture
def file_app(tmp_path_factory):
    """An app on a SQLite file, so that a second process can share its database."""
    path = tmp_path_factory.mktemp("killed") / "outbox.sqlite3"
    app = build_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
    yield app, path
    with app.app_context():
        db.engine.dispose()


def test_a_sender_killed_mid_send_leaves_a_claim_and_the_message_goes_once_more_same_id(
    file_app,
):
    app, path = file_app
    with app.app_context():
        queue(lambda: _session_of(app), 1, kind="invitation")
        # Due by any clock: the killed process runs on the real one, which CI may move the
        # suite's away from; the jobs below count from the time it claimed the message.
        db.session.execute(
            sa.update(OutboxMessage).values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))
        )
        db.session.commit()
    with smtp_relay(app, StallingHandler(stall=600)) as relay:
        env = os.environ | {
            "VENDORRISK_DATABASE_URL": f"sqlite:///{path}",
            "VENDORRISK_MAIL_SERVER": "127.0.0.1",
            "VENDORRISK_MAIL_PORT": str(app.config["MAIL_PORT"]),
            "VENDORRISK_ENV": "development",
            "VENDORRISK_MAIL_TIMEOUT": "600",  # it waits for the 250 until it is killed
        }
        vendorrisk = Path(sys.executable).with_name("vendorrisk")
        sender = subprocess.Popen(  # noqa: S603 - our own command, from our own venv
            [vendorrisk, "outbox", "deliver"], env=env, stdout=subprocess.DEVNULL
        )
        try:
            _wait_for(lambda: relay.messages or sender.poll() is not None)
            assert len(relay.messages) == 1  # handed over; the relay's 250 is minutes away
        finally:
            sender.send_signal(signal.SIGKILL)
            sender.wait()

        [row] = outbox_rows(lambda: _session_of(app))
        assert (row.status, row.attempts) == (OutboxStatus.pending, 0), row.last_error
        assert row.claimed_at is not None  # the dead sender recorded nothing

        relay.stall = 0
        claimed = row.claimed_at
        deliver_job(app, timedelta(minutes=1), since=claimed)  # its claim stands: left alone
        assert len(relay.messages) == 1
        deliver_job(app, outbox.CLAIM_LEASE + timedelta(minutes=1), since=claimed)
        deliver_job(app, timedelta(hours=2), since=claimed)

    [row] = outbox_rows(lambda: _session_of(app))
    assert row.status == OutboxStatus.sent and row.claimed_at is None
    assert row.attempts == 2 and row.unconfirmed_attempts == 1
    assert outbox.ABANDONED in row.last_error
    assert message_ids(relay.messages) == Counter({row.message_id: 2})


def _session_of(app):
    from tests.conftest import in_app

    return in_app(app)


def _wait_for(condition, seconds: float = 60) -> None:
    """Poll for something another process does (a bound against a hang, not a measurement)."""
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        time.sleep(0.05)


# -- the migration fixes a Message-ID for every message already queued -------------------------


def test_the_upgrade_gives_every_queued_message_its_own_message_id(tmp_path_factory):
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("upgrade") / "outbox.sqlite3"
    app = build_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        upgrade(revision="a4d86e1f0c52")
        rows = [
            {
                "recipient": f"r{i}@example.jp",
                "recipient_name": "",
                "locale": "ja",
                "subject": "s",
                "body_text": "b",
                "body_html": "",
                "kind": "reminder",
                "dedupe_key": f"old:{i}",
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "last_error": "",
                "created_at": utcnow(),
            }
            for i in range(3)
        ]
        with db.engine.begin() as conn:
            conn.execute(sa.table("outbox_messages", *map(sa.column, rows[0])).insert(), rows)
        upgrade()
        with db.engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT message_id, unconfirmed_attempts, relay_reply FROM outbox_messages")
            ).all()
        db.engine.dispose()
    assert len({m for m, _, _ in stored}) == 3
    assert all(m.startswith("<") and m.endswith("@localhost>") for m, _, _ in stored)
    assert all(n == 0 and reply == "" for _, n, reply in stored)
