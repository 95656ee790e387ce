"""Fixtures: the app on SQLite (default) or PostgreSQL (VENDORRISK_TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from vendorrisk import clock, create_app
from vendorrisk.cli import cli as vendorrisk_cli
from vendorrisk.config import BASE_DIR, TestConfig
from vendorrisk.extensions import db
from vendorrisk.models import (
    Attestation,
    AttestationKind,
    Contact,
    Contract,
    Role,
    SecurityActionLevel,
    Supplier,
    SupplierCategory,
    User,
)
from vendorrisk.services.users import accounts as user_service

#: CI runs the suite a second time with the wall clock this many days ahead, so that a test
#: leaning on today's date fails in CI rather than on the day the calendar passes it.
CLOCK_SHIFT_DAYS = int(os.environ.get("VENDORRISK_TEST_CLOCK_SHIFT_DAYS") or 0)


def pytest_configure(config) -> None:
    if CLOCK_SHIFT_DAYS:
        import time_machine

        moved = datetime.now(UTC) + timedelta(days=CLOCK_SHIFT_DAYS)
        config._vendorrisk_clock = time_machine.travel(moved, tick=True)
        config._vendorrisk_clock.start()


def pytest_unconfigure(config) -> None:
    if getattr(config, "_vendorrisk_clock", None):
        config._vendorrisk_clock.stop()


def pytest_report_header(config) -> str:
    return f"vendorrisk: wall clock {datetime.now(UTC):%Y-%m-%d %H:%M} UTC" + (
        f" (moved {CLOCK_SHIFT_DAYS} days ahead)" if CLOCK_SHIFT_DAYS else ""
    )


#: Whether this pass of the suite runs on PostgreSQL (CI runs it on SQLite and on PostgreSQL).
POSTGRES_SUITE = os.environ.get("VENDORRISK_TEST_DATABASE_URL", "").startswith("postgresql")

PASSWORD = "correct horse battery staple"
_HASH: dict[str, str] = {}
_SERIAL = itertools.count(1)


class ServerLikeClient(FlaskClient):
    """Closes each response once it is read, as a WSGI server does after sending it: what the
    app does after its response (mail.deliver_after_response) happens before the test goes on.
    Pass buffered=False to look at a response before that."""

    def open(self, *args: Any, buffered: bool = True, **kwargs: Any):
        return super().open(*args, buffered=buffered, **kwargs)


def build_app(tmp_path_factory, **overrides: Any) -> Flask:
    config = TestConfig()
    config.UPLOAD_DIR = str(tmp_path_factory.mktemp("uploads"))
    config.WTF_CSRF_ENABLED = False
    for key, value in overrides.items():
        setattr(config, key, value)
    app = create_app(config)
    app.test_client_class = ServerLikeClient
    return app


def renew_audit_log(conn: sa.Connection) -> None:
    """An empty audit log: its triggers refuse DELETE, so the table is made anew when it holds
    any row (DROP and CREATE take its triggers away and back, as the model declares them)."""
    audit = db.metadata.tables["audit_events"]
    if conn.execute(sa.select(audit.c.id).limit(1)).first() is not None:
        audit.drop(conn)
        audit.create(conn)


def empty_tables(conn: sa.Connection) -> None:
    """Delete every row of every table (the audit log: renew_audit_log)."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "audit_events":
            conn.execute(table.delete())
    renew_audit_log(conn)


@contextmanager
def strict_app(tmp_path_factory, **overrides: Any) -> Iterator[Flask]:
    """An app with rate limits on (and whatever else is given), on the same kind of database.

    Flask-Limiter keeps its switch and storage on the one shared extension, so the limits are
    switched off again afterwards for the other tests.
    """
    from vendorrisk.extensions import limiter

    app = build_app(tmp_path_factory, RATELIMIT_ENABLED=True, **overrides)
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = False
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                empty_tables(conn)
            db.engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Iterator[Flask]:
    app = build_app(tmp_path_factory)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counters live on the shared extension: no test inherits another's."""
    from vendorrisk.extensions import limiter

    yield
    if limiter.initialized:
        limiter.reset()


@pytest.fixture(autouse=True)
def _clean_tables(request) -> Iterator[None]:
    """Each test starts from empty tables (cheaper than rebuilding the schema)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)


@pytest.fixture
def today(app: Flask) -> date:
    """The company's day as the app sees it (the clock CI moves): for dates relative to it."""
    with app.app_context():
        return clock.today()


@pytest.fixture
def due(today: date) -> date:
    """A questionnaire's due date a month after the company's day (the app's clock)."""
    return today + timedelta(days=30)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class VendorriskRunner(FlaskCliRunner):
    """Runs the `vendorrisk` command as installed on the test app, with the plugin commands its
    FlaskGroup loads from `flask.commands` entry points (seed-demo, from vendorrisk/demo/)."""

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Any:
        return super().invoke(cli or vendorrisk_cli, args, **kwargs)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return VendorriskRunner(app)


@contextmanager
def in_app(app: Flask) -> Iterator[Any]:
    """An app context whose session is closed afterwards (never shared with a request)."""
    with app.app_context():
        try:
            yield db.session
        finally:
            db.session.remove()


@pytest.fixture
def ctx(app: Flask) -> Callable[[], Any]:
    return lambda: in_app(app)


def _save(app: Flask, obj: Any) -> Any:
    with in_app(app) as session:
        session.add(obj)
        session.commit()
        session.refresh(obj)
        session.expunge(obj)
    return obj


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    def make(role: Role | str = Role.procurement, **overrides: Any) -> User:
        if "hash" not in _HASH:
            _HASH["hash"] = user_service.hash_password(PASSWORD)
        role = Role(role)
        fields = {
            "email": f"{role.value}-{next(_SERIAL)}@example.com",
            "name": role.value.title(),
            "role": role,
            "password_hash": _HASH["hash"],
            "must_change_password": False,
        }
        return _save(app, User(**(fields | overrides)))

    return make


@pytest.fixture
def make_supplier(app: Flask) -> Callable[..., Supplier]:
    counter = iter(range(1, 10**6))

    def make(**overrides: Any) -> Supplier:
        """A supplier; `scs_level` (and `scs_expires_on`) give it an SCS evaluation, recorded as
        the attestation it is (★3 self-assessed, ★4 and ★5 by a third party)."""
        n = next(counter)
        level, until = overrides.pop("scs_level", None), overrides.pop("scs_expires_on", None)
        fields = {
            "name_ja": f"株式会社テスト{n}",
            "name_en": f"Test {n} Co., Ltd.",
            "category": SupplierCategory.outsourcing_contractor,
        }
        supplier = _save(app, Supplier(**(fields | overrides)))
        if level:
            evaluation = "self" if level == "star3" else "third_party"
            _save(
                app,
                Attestation(
                    supplier_id=supplier.id,
                    kind=AttestationKind.scs,
                    scs_level=level,
                    evaluation=evaluation,
                    identifier=f"SCS-{supplier.id}",
                    expires_on=until,
                ),
            )
        return supplier

    return make


@pytest.fixture
def scheme_running(app: Flask) -> date:
    """The SCS evaluation scheme evaluates (a level below the one asked is a shortfall), since a
    day before any test's own day, whatever the clock."""
    from vendorrisk.services.register import scs

    started = date(2020, 4, 1)
    with in_app(app) as session:
        scs.save_scheme_settings(scs.SchemeSettings(started_on=started))
        session.commit()
    return started


@pytest.fixture
def make_contact(app: Flask):
    def make(supplier: Supplier, **overrides: Any) -> Contact:
        fields = {
            "supplier_id": supplier.id,
            "name": "佐藤 花子",
            "email": f"contact{supplier.id}@example.jp",
            "locale": "ja",
        }
        return _save(app, Contact(**(fields | overrides)))

    return make


@pytest.fixture
def make_contract(app: Flask):
    def make(supplier: Supplier, **overrides: Any) -> Contract:
        fields = {
            "supplier_id": supplier.id,
            "title": "業務委託基本契約",
            "starts_on": date(2025, 4, 1),
        }
        return _save(app, Contract(**(fields | overrides)))

    return make


@pytest.fixture
def make_attestation(app: Flask):
    def make(supplier: Supplier, **overrides: Any) -> Attestation:
        fields = {
            "supplier_id": supplier.id,
            "kind": AttestationKind.security_action,
            "level": SecurityActionLevel.star2,
            "identifier": "50000228580",
            "issued_on": date(2025, 6, 1),
        }
        return _save(app, Attestation(**(fields | overrides)))

    return make


class AuthActions:
    def __init__(self, client: FlaskClient, make_user: Callable[..., User]) -> None:
        self.client = client
        self.make_user = make_user
        self.user: User | None = None

    def login(self, role: Role | str = Role.procurement, **overrides: Any) -> User:
        self.user = self.make_user(role, **overrides)
        response = self.client.post(
            "/auth/login", data={"email": self.user.email, "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return self.user

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient, make_user) -> AuthActions:
    return AuthActions(client, make_user)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class RecordingHandler:
    """An aiosmtpd handler that keeps what it receives, or answers with a chosen failure."""

    def __init__(self) -> None:
        self.messages: list = []
        #: e.g. "451 4.3.0 Try again later" or "550 5.1.1 No such user"; None accepts.
        self.reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_relay(app: Flask, handler: Any) -> Iterator[Any]:
    """A real aiosmtpd server on loopback with `handler`; the app delivers to it meanwhile."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield handler
    finally:
        app.config.update(saved)
        controller.stop()


@pytest.fixture
def smtp_server(app) -> Iterator[RecordingHandler]:
    """A real SMTP server on loopback; the app delivers to it for the test's duration."""
    with smtp_relay(app, RecordingHandler()) as handler:
        yield handler


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message) -> str:
    match = re.search(r"https?://\S+/portal/[A-Za-z0-9_-]{40,}", body_of(message))
    assert match, body_of(message)
    return match.group(0)


@pytest.fixture
def folder(tmp_path) -> Path:
    """A writable copy of the shipped questionnaires: imports of official text write beside
    them (tests/services/test_official_text.py, the questionnaire page's upload)."""
    target = tmp_path / "questionnaires"
    target.mkdir()
    for path in (BASE_DIR / "questionnaires").glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture
def world(make_supplier, make_contact, make_contract, make_attestation, make_user, app):
    """One object of each kind the routes name, for the route × role matrices (test_access.py,
    test_scoped_access.py, test_hostile_input.py)."""
    from tests.factories import make_assessment, make_finding, make_invitation
    from vendorrisk.models import Clarification, OutboxMessage, Severity

    supplier = make_supplier()
    owner = make_user(Role.procurement)
    with app.app_context():
        assessment = make_assessment(supplier)
        invitation = make_invitation(assessment, token_hash="0" * 64)
        message = OutboxMessage(
            recipient="x@example.jp",
            subject="s",
            body_text="b",
            kind="test",
            dedupe_key="access-test",
        )
        clarification = Clarification(assessment_id=assessment.id, question_id="sup-d1-01")
        finding = make_finding(
            supplier, assessment_id=assessment.id, title="t", severity=Severity.low
        )
        db.session.add_all([clarification, message])
        db.session.commit()
        ids = (assessment.id, invitation.id, message.id, clarification.id, finding.id)
        db.session.remove()
    return {
        "assessment_id": ids[0],
        "invitation_id": ids[1],
        "message_id": ids[2],
        "clarification_id": ids[3],
        "finding_id": ids[4],
        "token": "t" * 43,
        "job_id": "expire-links",
        "fmt": "csv",
        "section_id": "d1",
        "supplier_id": supplier.id,
        "contact_id": make_contact(supplier).id,
        "contract_id": make_contract(supplier).id,
        "attestation_id": make_attestation(supplier).id,
        "proposal_id": 999999,
        "cover_id": 999999,
        "child_id": make_contact(supplier, email="other@example.jp").id,
        "kind": "contacts",
        "user_id": owner.id,
        "file_id": 999999,
        "template_id": "csm-v2-supplier",
        "filename": "app.css",
        "cycle_id": 999999,
        "unit_id": 999999,
        "question_id": "int-d1-01",
        "corporate_number": "7000012050002",
        "subscription_id": 999999,
        "delivery_id": 999999,
    }
