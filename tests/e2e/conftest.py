"""The e2e harness: the app as the README's Production section runs it, started for the session.

A fresh PostgreSQL database, Redis for the rate limits, an SMTP server in this process, a
certificate made for the run, `vendorrisk db upgrade`, the first admin from `create-user`,
gunicorn with three workers over TLS and one `vendorrisk scheduler`; then Chromium, one context
per person. Screenshots, mail and the processes' logs go to build/e2e/<UTC time>/ (or E2E_OUTPUT).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Certificate,
    Database,
    Journey,
    Mailbox,
    Person,
    Processes,
    Watch,
    free_port,
    make_certificate,
    wait_until_healthy,
)

REDIS_URL = "redis://127.0.0.1:6379/14"
ADMIN_EMAIL = "admin@example.co.jp"
COMPANY_JA = "株式会社みなと精機"
COMPANY_EN = "Minato Seiki Co., Ltd."
OUTPUT_KEY = pytest.StashKey[Path]()
STACK_KEY = pytest.StashKey["Stack"]()


@dataclass(frozen=True)
class Stack:
    """The running deployment and what a test needs to reach it."""

    base_url: str
    certificate: Certificate
    database: Database
    mailbox: Mailbox
    processes: Processes
    admin_email: str
    admin_password: str

    def create_user(self, email: str, role: str, name: str) -> str:
        """`vendorrisk create-user`, as an operator would; the one-time password."""
        out = self.processes.run(f"create-user-{role}", "vendorrisk", "create-user",
                                 "--email", email, "--role", role, "--name", name)  # fmt: skip
        return one_time_password(out)


def one_time_password(cli_output: str) -> str:
    found = re.search(r"One-time password: (\S+)", cli_output)
    assert found, cli_output
    return found.group(1)


def _environment(base_url: str, database: Database, smtp_port: int, uploads: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENDORRISK_")}
    return env | {
        "PYTHONUNBUFFERED": "1",
        "VENDORRISK_ENV": "production",
        "VENDORRISK_SECRET_KEY": secrets.token_hex(32),
        "VENDORRISK_DATABASE_URL": database.url,
        "VENDORRISK_BASE_URL": base_url,
        "VENDORRISK_TRUSTED_HOSTS": "127.0.0.1,localhost",
        "VENDORRISK_RATELIMIT_STORAGE_URI": REDIS_URL,
        "VENDORRISK_MAIL_SERVER": "127.0.0.1",
        "VENDORRISK_MAIL_PORT": str(smtp_port),
        "VENDORRISK_MAIL_SENDER": "vendorrisk@example.co.jp",
        "VENDORRISK_UPLOAD_DIR": str(uploads),
        "VENDORRISK_COMPANY_NAME_JA": COMPANY_JA,
        "VENDORRISK_COMPANY_NAME_EN": COMPANY_EN,
    }


@pytest.fixture(scope="session")
def output(pytestconfig) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(os.environ.get("E2E_OUTPUT") or ROOT / "build" / "e2e" / stamp)
    for sub in ("logs", "mail"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    pytestconfig.stash[OUTPUT_KEY] = folder
    return folder


@pytest.fixture(scope="session")
def stack(pytestconfig, output, tmp_path_factory) -> Iterator[Stack]:
    with ExitStack() as cleanup:
        certificate = make_certificate(tmp_path_factory.mktemp("tls"))
        database = Database(f"vendorrisk_e2e_{datetime.now(UTC):%Y%m%d%H%M%S}_{os.getpid()}")
        cleanup.callback(database.drop)
        redis.Redis.from_url(REDIS_URL).flushdb()
        mailbox = Mailbox(output / "mail")
        cleanup.callback(mailbox.stop)
        base_url = f"https://127.0.0.1:{free_port()}"
        env = _environment(base_url, database, mailbox.port, tmp_path_factory.mktemp("uploads"))
        processes = Processes(output / "logs", env)
        cleanup.callback(processes.stop)
        processes.run("db-upgrade", "vendorrisk", "db", "upgrade")
        admin = one_time_password(
            processes.run("create-user-admin", "vendorrisk", "create-user",
                          "--email", ADMIN_EMAIL, "--role", "admin", "--name", "山本 健一")
        )  # fmt: skip
        processes.start(
            "gunicorn", "gunicorn", "--workers", "3", "--bind", base_url.removeprefix("https://"),
            "--certfile", str(certificate.cert), "--keyfile", str(certificate.key),
            "--access-logfile", str(output / "logs" / "gunicorn-access.log"), "wsgi:app",
        )  # fmt: skip
        processes.start("scheduler", "vendorrisk", "scheduler")
        wait_until_healthy(f"{base_url}/healthz", certificate.client_context(), processes)
        running = Stack(base_url, certificate, database, mailbox, processes, ADMIN_EMAIL, admin)
        pytestconfig.stash[STACK_KEY] = running
        yield running
        processes.check_alive()  # nothing crashed along the way


@pytest.fixture(scope="session")
def browser(stack) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                # Trust exactly the run's certificate, and nothing else that is invalid.
                f"--ignore-certificate-errors-spki-list={stack.certificate.spki_sha256}",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def open_person(stack, browser) -> Iterator[Callable[[str, str], Person]]:
    """A new browser context for one person (or one sitting), in their language."""
    opened: list[Person] = []

    def open_(label: str, locale: str) -> Person:
        language = locale.split("-")[0]
        context = browser.new_context(
            base_url=stack.base_url,
            locale=locale,
            extra_http_headers={"Accept-Language": f"{locale},{language};q=0.9"},
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        watch = Watch(stack.base_url)
        watch.attach(context, page)
        person = Person(label, context, page, watch)
        opened.append(person)
        return person

    yield open_
    for person in opened:
        person.context.close()


@pytest.fixture(scope="session")
def journey(output) -> Journey:
    return Journey(output)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    running = item.config.stash.get(STACK_KEY, None)
    if report.failed and running is not None:
        report.sections.append(("vendorrisk processes (last lines)", running.processes.tails()))
    return report


def pytest_terminal_summary(terminalreporter, config) -> None:
    folder = config.stash.get(OUTPUT_KEY, None)
    if folder is not None:
        terminalreporter.write_line(f"e2e screenshots, mail and logs: {folder}")
