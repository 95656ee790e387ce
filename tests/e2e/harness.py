"""The pieces of the production stack an e2e session starts, and what watches the browser.

Nothing here is mocked: a certificate made with the openssl CLI, a PostgreSQL database of its
own, an SMTP server (aiosmtpd) on loopback, gunicorn and `vendorrisk scheduler` as processes,
and Debian's Chromium. Only loopback addresses are ever used.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from psycopg import sql
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[2]
#: The virtualenv running the tests holds the app's own commands (vendorrisk, gunicorn).
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
POSTGRES = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return "(no file)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty)"


# -- TLS -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A certificate for 127.0.0.1 and localhost, made for one run."""

    cert: Path
    key: Path
    #: base64 SHA-256 of the SubjectPublicKeyInfo: Chromium trusts exactly this key with it.
    spki_sha256: str

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_certificate(folder: Path) -> Certificate:
    """A P-256 key and a self-signed certificate, by the openssl CLI (`cryptography` is absent)."""
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make the run's certificate"
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 - a fixed command of our own
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    pem = subprocess.run(  # noqa: S603 - a fixed command of our own
        [openssl, "x509", "-in", str(cert), "-pubkey", "-noout"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    der = base64.b64decode("".join(line for line in pem.splitlines() if "-----" not in line))
    return Certificate(cert, key, base64.b64encode(hashlib.sha256(der).digest()).decode())


# -- PostgreSQL --------------------------------------------------------------------------------


class Database:
    """A database of the run's own on the local PostgreSQL, dropped at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.engine = sa.create_engine(self.url, poolclass=NullPool)

    def scalar(self, statement: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(statement), params).scalar()

    def row(self, statement: str, **params: Any) -> sa.Row:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(statement), params).one()

    def counts(self, leave_out: tuple[str, ...] = ()) -> dict[str, int]:
        """Rows in every table of the app (the ones named in `leave_out` aside)."""
        with self.engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            return {
                table: conn.execute(
                    sa.select(sa.func.count()).select_from(sa.table(table))
                ).scalar_one()
                for table in sorted(tables)
                if table not in leave_out
            }

    def drop(self) -> None:
        self.engine.dispose()
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )


# -- SMTP ----------------------------------------------------------------------------------------

PORTAL_LINK = re.compile(r"https://127\.0\.0\.1:\d+/portal/[A-Za-z0-9_-]{20,}")


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def portal_link(self) -> str:
        links = PORTAL_LINK.findall(self.text)
        assert len(links) == 1, f"one portal link expected in {self.subject!r}:\n{self.text}"
        return links[0]


class Mailbox:
    """A real SMTP server on loopback that keeps every message, one .eml file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mails: list[Mail] = []
        self._read: set[int] = set()
        self._arrived = threading.Condition()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        mail = Mail(
            tuple(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)
        )
        with self._arrived:
            self.mails.append(mail)
            (self.folder / f"{len(self.mails):02d}-{mail.to[0]}.eml").write_bytes(envelope.content)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, subject: str = "", timeout: float = 30) -> Mail:
        """The first mail to `to` (with `subject` in its subject) not read before; waits for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index, mail in enumerate(self.mails):
                    if index not in self._read and to in mail.to and subject in mail.subject:
                        self._read.add(index)
                        return mail
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{m.to} {m.subject}" for m in self.mails]
                    raise AssertionError(f"no mail to {to} about {subject!r} in {timeout}s: {seen}")
                self._arrived.wait(left)

    def stop(self) -> None:
        self._controller.stop()


# -- the app's processes ---------------------------------------------------------------------------


class Processes:
    """The commands of the deployment, run in the repository with their output in log files."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs = logs
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}

    def _files(self, name: str) -> tuple[Path, Path]:
        return self.logs / f"{name}.stdout.log", self.logs / f"{name}.stderr.log"

    def run(self, name: str, *args: str) -> str:
        """Run a command to its end; its standard output, or a failure with its errors."""
        done = subprocess.run(  # noqa: S603 - the app's own commands
            [str(BIN / args[0]), *args[1:]],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        out, err = self._files(name)
        out.write_text(done.stdout, encoding="utf-8")
        err.write_text(done.stderr, encoding="utf-8")
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        out, err = self._files(name)
        with out.open("wb") as stdout, err.open("wb") as stderr:
            self.running[name] = subprocess.Popen(  # noqa: S603 - the app's own commands
                [str(BIN / args[0]), *args[1:]],
                cwd=ROOT,
                env=self.env,
                stdout=stdout,
                stderr=stderr,
            )

    def check_alive(self) -> None:
        for name, process in self.running.items():
            code = process.poll()
            assert code is None, f"{name} stopped (exit {code}):\n{self.tails()}"

    def tails(self, lines: int = 40) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            parts.append(f"--- {path.name} ---\n{_tail(path, lines)}")
        return "\n".join(parts)

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def wait_until_healthy(url: str, context: ssl.SSLContext, processes: Processes) -> None:
    """Until /healthz answers 200 over TLS (checking the certificate), or a process dies."""
    deadline = time.monotonic() + 60
    while True:
        processes.check_alive()
        try:
            with urllib.request.urlopen(url, context=context, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        assert time.monotonic() < deadline, f"{url} did not answer 200 in 60s:\n{processes.tails()}"
        time.sleep(0.3)


# -- the browser -----------------------------------------------------------------------------------

#: Runs in every page before its own scripts: reports CSP violations to the test.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCsp(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


class Watch:
    """What no page of the app may show: a 4xx/5xx of the app, a console error, a CSP
    violation, an uncaught exception. A refusal a step provokes is named beforehand."""

    def __init__(self, origin: str) -> None:
        self.origin = urlsplit(origin)[:2]
        self.problems: list[str] = []
        self.allowed: list[tuple[int, str]] = []
        self.refused: list[str] = []

    def attach(self, context, page) -> None:
        context.expose_binding("__reportCsp", lambda source, text: self._csp(source, text))
        context.add_init_script(CSP_LISTENER)
        page.on("response", self._response)
        page.on("console", lambda message: self._console(page, message))
        page.on(
            "pageerror", lambda error: self.problems.append(f"page error at {page.url}: {error}")
        )
        page.on("requestfailed", self._failed)

    def _ours(self, url: str) -> bool:
        return urlsplit(url)[:2] == self.origin

    def _expected(self, status: int, url: str) -> bool:
        return self._ours(url) and (status, urlsplit(url).path) in self.allowed

    def _response(self, response) -> None:
        if not self._ours(response.url) or response.status < 400:
            return
        line = f"{response.status} {response.request.method} {response.url}"
        if self._expected(response.status, response.url):
            self.refused.append(line)
        else:
            self.problems.append(line)

    def _console(self, page, message) -> None:
        text = message.text
        if message.type != "error" and "Content Security Policy" not in text:
            return
        where = message.location.get("url", "")
        status = re.search(r"status of (\d{3})", text)
        if status and self._expected(int(status.group(1)), where):
            return
        self.problems.append(f"console {message.type} at {page.url}: {text} ({where})")

    def _csp(self, source, text: str) -> None:
        self.problems.append(f"CSP violation at {source['frame'].url}: {text}")

    def _failed(self, request) -> None:
        if self._ours(request.url) and request.failure != "net::ERR_ABORTED":  # left the page
            self.problems.append(f"failed {request.method} {request.url}: {request.failure}")

    @contextmanager
    def refusal(self, status: int, path: str) -> Iterator[list[str]]:
        """Within: a `status` answer to `path` is recorded as refused, not as a problem."""
        self.allowed.append((status, path))
        self.refused = []  # this step's refusals only
        try:
            yield self.refused
        finally:
            self.allowed.remove((status, path))

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


@dataclass
class Person:
    """One person's browser: a context of their own, with its language, and one page."""

    label: str
    context: Any
    page: Any
    watch: Watch

    def cookies(self) -> list[dict]:
        return self.context.cookies()


@dataclass
class Journey:
    """Steps in order: each ends with a full-page screenshot and no problem on the page."""

    folder: Path
    count: int = 0

    @contextmanager
    def step(self, name: str, person: Person) -> Iterator[Any]:
        self.count += 1
        shot = self.folder / f"{self.count:02d}-{name}.png"
        try:
            yield person.page
        except BaseException:
            self._screenshot(person, shot.with_name(f"{shot.stem}-failed.png"))
            raise
        self._screenshot(person, shot)
        problems = person.watch.take()
        assert not problems, f"{shot.stem} ({person.label}, {person.page.url}):\n" + "\n".join(
            problems
        )

    def _screenshot(self, person: Person, path: Path) -> None:
        if not person.page.is_closed():
            person.page.screenshot(path=str(path), full_page=True)
