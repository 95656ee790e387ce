"""Neighbours that fail, injected for real against the production shape.

gunicorn (2 workers, TLS) and `vendorrisk scheduler` processes talk to PostgreSQL and Redis
through a TCP proxy on loopback that resets or black-holes their connections (tests/faults.py).
Each figure is read from the server's answers and the database, never from a clock.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_SUITE
from tests.e2e.harness import Database, Processes, free_port, make_certificate, wait_until_healthy
from tests.faults import NFT, FaultProxy
from vendorrisk import clock, create_app
from vendorrisk import config as settings
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import Contact, OutboxMessage, Supplier, SupplierCategory
from vendorrisk.services.assessments import lifecycle as assessments

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_SUITE, reason="the production shape runs on PostgreSQL (the suite's PG pass)"
    ),
    pytest.mark.skipif(
        not NFT and not os.environ.get("CI"), reason="nftables makes the partitions (CI has it)"
    ),
]


@dataclass
class Stack:
    url: str
    tls: ssl.SSLContext
    database: Database
    postgres: FaultProxy
    redis: FaultProxy
    processes: Processes
    env: dict[str, str]
    admin_password: str = ""
    portal_link: str = ""


def _portal_link(database: Database, base_url: str, uploads: Path) -> str:
    """A questionnaire sent to a supplier's English-speaking contact; the link from its mail."""
    config = settings.TestConfig()
    config.SQLALCHEMY_DATABASE_URI, config.BASE_URL = database.url, base_url
    config.UPLOAD_DIR = str(uploads)
    app = create_app(config)
    with app.app_context():
        supplier = Supplier(name_ja="株式会社障害試験", category=SupplierCategory.cloud_service)
        contact = Contact(supplier=supplier, name="Jane Doe", email="jane@example.com")
        db.session.add_all([supplier, contact])
        db.session.flush()
        template = catalog().get("csm-v2-supplier")
        due = clock.today() + timedelta(days=30)
        recipients = [assessments.Recipient(contact, "en")]
        assessments.create_assessment(supplier, template, due, "", recipients, None, clock.now())
        db.session.commit()
        body = db.session.scalar(sa.select(OutboxMessage.body_text))
        db.session.remove()
        db.engine.dispose()
    return re.search(r"https://\S+/portal/[A-Za-z0-9_-]{40,}", body).group(0)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("neighbours")
    database = Database(f"vr_neighbours_{secrets.token_hex(4)}")
    postgres, redis = FaultProxy("127.0.0.1", 5432), FaultProxy("127.0.0.1", 6379)
    port = free_port()
    certificate = make_certificate(folder)
    env = {
        "PATH": "/usr/bin:/bin",
        "VENDORRISK_ENV": "production",
        "VENDORRISK_SECRET_KEY": secrets.token_hex(32),
        "VENDORRISK_DATABASE_URL": (
            f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{database.name}"
        ),
        "VENDORRISK_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{redis.port}/13",
        "VENDORRISK_BASE_URL": f"https://127.0.0.1:{port}",
        "VENDORRISK_TRUSTED_HOSTS": "127.0.0.1",
        "VENDORRISK_UPLOAD_DIR": str(folder / "uploads"),
        "VENDORRISK_DATABASE_CONNECT_TIMEOUT": "2",
        "VENDORRISK_SCHEDULER_LOCK_CHECK_SECONDS": "1",
        "VENDORRISK_COMPANY_NAME_EN": "Neighbour Trading Co.",
    }
    processes = Processes(folder, env)
    try:
        processes.run("upgrade", "vendorrisk", "db", "upgrade")
        created = processes.run(
            "admin", "vendorrisk", "create-user", "--email", "admin@example.jp", "--role", "admin"
        )
        database.scalar("UPDATE users SET must_change_password = false RETURNING 1")
        tls = certificate.client_context()
        processes.start(
            "gunicorn",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--certfile",
            str(certificate.cert),
            "--keyfile",
            str(certificate.key),
            "wsgi:app",
        )
        url = f"https://127.0.0.1:{port}"
        wait_until_healthy(f"{url}/healthz", tls, processes)
        password = re.search(r"One-time password: (\S+)", created).group(1)
        link = _portal_link(database, url, folder / "uploads")
        yield Stack(url, tls, database, postgres, redis, processes, env, password, link)
    finally:
        processes.stop()
        postgres.close()
        redis.close()
        database.drop()


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    """Each test starts with no login attempts counted (the limits live in Redis, db 13)."""
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=13).flushdb()


class Client:
    """A browser without a screen: cookies, the CSRF token of the last page, Accept-Language."""

    def __init__(self, stack: Stack, language: str = "en") -> None:
        self.stack = stack
        self.language = language
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=stack.tls),
            urllib.request.HTTPCookieProcessor(self.jar),
        )
        self.token = ""

    def request(self, path: str, data: dict | None = None, accept: str = "text/html"):
        """(status, body, headers); the token of the page is kept for the next form."""
        body = None
        headers = {"Accept-Language": self.language, "Accept": accept}
        if data is not None:
            body = urllib.parse.urlencode(data | {"csrf_token": self.token}).encode()
            headers |= {"Sec-Fetch-Site": "same-origin", "X-CSRFToken": self.token}
        url = self.stack.url + path  # always https://127.0.0.1:PORT
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=15) as response:
                status, text, answer = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, answer = error.code, error.read().decode(), error.headers
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        self.token = found.group(1) if found else self.token
        return status, text, answer

    def login(self, email: str, password: str) -> int:
        self.request("/auth/login")
        status, _, _ = self.request("/auth/login", {"email": email, "password": password})
        return status


def _health(stack: Stack) -> tuple[int, dict]:
    status, text, _ = Client(stack).request("/healthz", accept="application/json")
    return status, json.loads(text)


def test_redis_down_or_partitioned_leaves_login_working(stack):
    """Row 3: with Redis reset or black-holed, staff still log in (limits counted per process,
    logged) and /healthz says which neighbour is missing."""
    assert _health(stack) == (200, {"status": "ok", "database": "ok", "rate_limits": "ok"})
    for fault in (stack.redis.reset, stack.redis.partition):
        fault()
        try:
            assert Client(stack).login("admin@example.jp", stack.admin_password) == 200
            status, health = _health(stack)
            assert status == 503 and health["rate_limits"] == "unreachable"
            assert health["database"] == "ok"
        finally:
            stack.redis.heal()
    assert _health(stack)[0] == 200


@pytest.mark.parametrize("fault", ["reset", "partition"])
def test_a_database_outage_is_told_apart_from_a_bug(stack, fault):
    """Rows 8 and 11: the database refused or partitioned: /healthz says 503 at once; staff
    and the supplier get the app's own page in their language saying nothing was lost (not
    gunicorn's bare error); autosave gets JSON; the app recovers once the database is back."""
    english, japanese = Client(stack, "en"), Client(stack, "ja")
    for staff in (english, japanese):
        assert staff.login("admin@example.jp", stack.admin_password) == 200
    supplier = Client(stack, "ja")  # a Japanese browser, in an English sitting
    supplier.request(stack.portal_link.removeprefix(stack.url))
    status, _, _ = supplier.request(stack.portal_link.removeprefix(stack.url), {"lang": "en"})
    assert status == 200
    getattr(stack.postgres, fault)()
    try:
        assert _health(stack) == (
            503,
            {"status": "error", "database": "unreachable", "rate_limits": "ok"},
        )
        status, page, headers = english.request("/suppliers/")
        assert status == 503 and headers["Retry-After"] == "30"
        assert "Nothing you saved before was lost" in page and "</html>" in page
        status, page, _ = japanese.request("/suppliers/")
        assert status == 503 and "これまでに保存した内容は失われていません" in page
        status, page, _ = supplier.request("/portal/q/")
        assert status == 503 and "Nothing you saved before was lost" in page
        assert "Neighbour Trading Co." in page  # 依頼元 from the configuration, not the database
        assert "/dashboard" not in page and "/suppliers" not in page
        status, answer, headers = supplier.request(
            "/portal/q/autosave", {"question": "sup-d9s-01"}, accept="application/json"
        )
        assert status == 503 and headers["Content-Type"].startswith("application/json")
        assert "Nothing you saved before was lost" in json.loads(answer)["message"]
    finally:
        stack.postgres.heal()
    deadline = time.monotonic() + 30  # cut pool connections time out, then new ones are made
    while _health(stack)[0] != 200:
        assert time.monotonic() < deadline, stack.processes.tails()
        time.sleep(0.5)
    assert english.request("/suppliers/")[0] == 200


def _schedulers_holding_the_lock(database: Database) -> int:
    from vendorrisk.jobs import _lock_key

    key = _lock_key("scheduler")
    return database.scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = :hi AND objid = :lo AND objsubid = 1",
        hi=(key >> 32) & 0xFFFFFFFF,
        lo=key & 0xFFFFFFFF,
    )


def _wait_for_line(path: Path, text: str, count: int = 1, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while path.read_text(encoding="utf-8").count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not in {path}:\n{path.read_text()}"
        time.sleep(0.2)


def test_one_scheduler_at_a_time_after_its_connection_is_cut(stack):
    """Row 7: the active scheduler's connection is reset for a while; the standby takes over
    and the old one, finding its lock gone, stops and waits as a standby: never two."""
    direct = stack.env | {
        "VENDORRISK_DATABASE_URL": stack.database.url,
    }
    first = stack.processes
    first.start("scheduler-a", "vendorrisk", "scheduler")
    log_a = stack.processes.logs / "scheduler-a.stderr.log"
    _wait_for_line(log_a, "Scheduler started")
    second = Processes(stack.processes.logs, direct)
    second.start("scheduler-b", "vendorrisk", "scheduler")
    log_b = stack.processes.logs / "scheduler-b.stderr.log"
    try:
        _wait_for_line(log_b, "waiting as a standby")
        assert _schedulers_holding_the_lock(stack.database) == 1
        stack.postgres.reset()
        _wait_for_line(log_b, "Scheduler started")
        _wait_for_line(log_a, "Lost the scheduler lock")
        time.sleep(3)  # the cut goes on for a while, as in the incident
        stack.postgres.heal()
        _wait_for_line(log_a, "waiting as a standby", count=1)
        time.sleep(3)  # A reconnects and must stay a standby
        assert _schedulers_holding_the_lock(stack.database) == 1
        assert log_a.read_text().count("Scheduler started") == 1
        assert log_b.read_text().count("Scheduler started") == 1
    finally:
        second.stop()
        for name in ("scheduler-a",):
            process = first.running.pop(name)
            process.terminate()
            process.wait(timeout=15)


def test_limits_still_hold_while_redis_is_away(stack):
    """Per-process memory takes over: a flood of wrong passwords is still refused. (Last: the
    workers keep counting in memory until their next look at Redis, up to half a minute.)"""
    stack.redis.reset()
    try:
        client = Client(stack)
        codes = [client.login("nobody@example.jp", "wrong password") for _ in range(25)]
    finally:
        stack.redis.heal()
    assert 429 in codes
