"""A form does its work once: a double click, a retry after an error page or a racing copy of
the same form (the same idempotency key) changes nothing more and shows the first result.

Issue 12, rows 6 (a double *Send*: 3 assessments and 3 invitation mails) and 12 (a double portal
submit: the audit event twice). Everything is real: the app's own pages give the keys, the
database counts the rows, faults are injected in the database itself.
"""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from vendorrisk import jobs
from vendorrisk.catalog import Catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Assessment,
    AuditEvent,
    Campaign,
    IdempotencyKey,
    Invitation,
    OutboxMessage,
    Role,
    Supplier,
)

POSTGRES = os.environ.get("VENDORRISK_TEST_DATABASE_URL", "").startswith("postgresql")
needs_postgres = pytest.mark.skipif(not POSTGRES, reason="racing connections need PostgreSQL")
TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v2-supplier")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EN = {"Accept-Language": "en"}
ALREADY_DONE = "This form had already been sent, and what it asked for was done then."


class _Forms(HTMLParser):
    """The POST forms of a page: each one's action and the names and values of its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif tag in ("input", "select", "textarea", "button") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].setdefault(attrs["name"], attrs.get("value"))

    def handle_endtag(self, tag) -> None:
        if tag == "form" and self.forms:
            self.forms[-1]["closed"] = True


def form_key(html: str, *, action: str | None = None, field: str | None = None) -> str:
    """The idempotency key of the page's form posting to `action` (or holding `field`)."""
    parser = _Forms()
    parser.feed(html)
    found = [
        f
        for f in parser.forms
        if (action is None or f["action"] == action) and (field is None or field in f["fields"])
    ]
    assert len(found) == 1, [f["action"] for f in parser.forms]
    key = found[0]["fields"].get("idempotency_key")
    assert key, "the form carries no idempotency key"
    return key


def _count(ctx, model, *where) -> int:
    with ctx() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _second_client(app, client):
    """The same browser (the same session cookie) sending a second request."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _race(*calls):
    """Run the calls in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(isinstance(r, BaseException) for r in results), results
    return results


# -- Send (row 6) ---------------------------------------------------------------------------


@pytest.fixture
def supplier(make_supplier, make_contact):
    supplier = make_supplier(name_ja="株式会社二度押し")
    make_contact(supplier, email="sato@example.jp", is_primary=True)
    return supplier


def _send_form(ctx, supplier, today, key=None) -> dict:
    with ctx() as session:
        contact_id = (
            session.scalar(sa.select(Supplier).where(Supplier.id == supplier.id)).contacts[0].id
        )
    data = {
        "template_id": "csm-v2-supplier",
        "due_on": (today + timedelta(days=30)).isoformat(),
        "contact_ids": [contact_id],
        f"locale-{contact_id}": "ja",
    }
    return data | ({"idempotency_key": key} if key else {})


def _send_key(client, supplier) -> str:
    page = client.get(f"/suppliers/{supplier.id}/send").get_data(as_text=True)
    return form_key(page, field="template_id")


def test_a_double_click_and_a_retry_on_send_make_one_assessment_and_one_mail(
    auth, supplier, ctx, today
):
    auth.login(Role.procurement, locale="en")
    form = _send_form(ctx, supplier, today, _send_key(auth.client, supplier))
    url = f"/suppliers/{supplier.id}/send"
    first, second, retry = (auth.client.post(url, data=form) for _ in range(3))
    assert first.status_code == 302 and first.headers["Location"].startswith("/assessments/")
    # The copies are told where the first one's result is, and that it was done once.
    assert [second.status_code, retry.status_code] == [303, 303]
    assert second.headers["Location"] == retry.headers["Location"] == first.headers["Location"]
    page = auth.client.get(second.headers["Location"]).get_data(as_text=True)
    assert ALREADY_DONE in page
    assert _count(ctx, Assessment) == 1
    assert _count(ctx, Invitation) == 1
    assert _count(ctx, OutboxMessage, OutboxMessage.kind == "invitation") == 1


def test_each_rendering_of_a_form_has_its_own_key(auth, supplier):
    auth.login(Role.procurement)
    assert _send_key(auth.client, supplier) != _send_key(auth.client, supplier)


def test_a_form_sent_back_with_errors_keeps_its_key_usable(auth, supplier, ctx, today):
    auth.login(Role.procurement)
    key = _send_key(auth.client, supplier)
    url = f"/suppliers/{supplier.id}/send"
    invalid = _send_form(ctx, supplier, today, key) | {"due_on": "2001-01-01"}
    refused = auth.client.post(url, data=invalid, headers=EN)
    assert refused.status_code == 200
    assert "The due date must be in the future." in refused.get_data(as_text=True)
    assert form_key(refused.get_data(as_text=True), field="template_id") != key  # a fresh one
    # The same key, corrected (a browser resending the first form), is still accepted once.
    sent = auth.client.post(url, data=_send_form(ctx, supplier, today, key))
    assert sent.status_code == 302
    again = auth.client.post(url, data=_send_form(ctx, supplier, today, key))
    assert again.headers["Location"] == sent.headers["Location"]
    assert _count(ctx, Assessment) == 1


FAULT = {
    "sqlite": (
        "CREATE TRIGGER idem_fault BEFORE INSERT ON invitations "
        "BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION idem_fault() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'injected fault'; END $$",
        "CREATE TRIGGER idem_fault BEFORE INSERT ON invitations "
        "FOR EACH ROW EXECUTE FUNCTION idem_fault()",
    ),
}
HEAL = {
    "sqlite": ("DROP TRIGGER IF EXISTS idem_fault",),
    "postgresql": (
        "DROP TRIGGER IF EXISTS idem_fault ON invitations",
        "DROP FUNCTION IF EXISTS idem_fault()",
    ),
}


def _database(ctx, statements: dict) -> None:
    with ctx() as session:
        for statement in statements[session.get_bind().dialect.name]:
            session.execute(sa.text(statement))
        session.commit()


def test_a_retry_after_an_error_page_does_it_once(auth, supplier, ctx, today):
    """The first attempt fails in the database (rolled back): the retry does it, once."""
    auth.login(Role.procurement)
    form = _send_form(ctx, supplier, today, _send_key(auth.client, supplier))
    url = f"/suppliers/{supplier.id}/send"
    _database(ctx, FAULT)
    try:
        failed = auth.client.post(url, data=form)
    finally:
        _database(ctx, HEAL)
    assert failed.status_code == 500
    assert _count(ctx, Assessment) == 0
    assert _count(ctx, IdempotencyKey) == 0  # gone with the rollback
    retried = auth.client.post(url, data=form)
    assert retried.status_code == 302
    again = auth.client.post(url, data=form)
    assert again.headers["Location"] == retried.headers["Location"]
    assert _count(ctx, Assessment) == 1
    assert _count(ctx, OutboxMessage, OutboxMessage.kind == "invitation") == 1


@needs_postgres
def test_racing_copies_of_send_on_postgresql_make_one_assessment(app, auth, supplier, ctx, today):
    auth.login(Role.procurement)
    form = _send_form(ctx, supplier, today, _send_key(auth.client, supplier))
    url = f"/suppliers/{supplier.id}/send"
    clients = [auth.client, _second_client(app, auth.client)]
    responses = _race(*(lambda c=c: c.post(url, data=form) for c in clients))
    assert _count(ctx, Assessment) == 1
    assert _count(ctx, OutboxMessage, OutboxMessage.kind == "invitation") == 1
    codes = sorted(r.status_code for r in responses)
    assert codes in ([302, 303], [200, 302]), codes
    first = next(r for r in responses if r.status_code == 302)
    copy = next(r for r in responses if r is not first)
    if copy.status_code == 303:
        assert copy.headers["Location"] == first.headers["Location"]
    else:  # the first had not yet said where its result is
        assert ALREADY_DONE in copy.get_data(as_text=True)


def test_a_key_replayed_by_another_user_is_not_the_first_users_result(
    app, auth, make_user, supplier, ctx, today
):
    auth.login(Role.procurement)
    key = _send_key(auth.client, supplier)
    url = f"/suppliers/{supplier.id}/send"
    mine = auth.client.post(url, data=_send_form(ctx, supplier, today, key))
    other = make_user(Role.procurement)
    theirs = app.test_client()
    from tests.conftest import PASSWORD

    theirs.post("/auth/login", data={"email": other.email, "password": PASSWORD})
    replayed = theirs.post(url, data=_send_form(ctx, supplier, today, key))
    assert replayed.status_code == 302
    assert replayed.headers["Location"] != mine.headers["Location"]
    assert _count(ctx, Assessment) == 2  # their own send, done as if the key were new


def test_a_request_without_a_key_works_as_before(auth, supplier, ctx, today):
    """API clients and pages opened before the upgrade send no key: nothing changes for them."""
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/send", data=_send_form(ctx, supplier, today)
    )
    assert response.status_code == 302
    assert _count(ctx, Assessment) == 1 and _count(ctx, IdempotencyKey) == 0


# -- bulk send --------------------------------------------------------------------------------


def test_a_double_submitted_campaign_makes_one_campaign(
    auth, make_supplier, make_contact, ctx, today
):
    auth.login(Role.procurement, locale="en")
    for _ in range(2):
        make_contact(make_supplier(category="cloud_service", status="active"), is_primary=True)
    data = {
        "name": "2026年度 クラウド定期評価",
        "template_id": "csm-v2-supplier",
        "category": "cloud_service",
        "status": "active",
        "due_on": (today + timedelta(days=30)).isoformat(),
    }
    page = auth.client.get("/assessments/campaign").get_data(as_text=True)
    preview = auth.client.post(
        "/assessments/campaign",
        data=data | {"preview": "1", "idempotency_key": form_key(page, field="preview")},
    ).get_data(as_text=True)
    assert "2 suppliers match" in preview
    form = data | {"submit": "1", "idempotency_key": form_key(preview, field="preview")}
    first = auth.client.post("/assessments/campaign", data=form).get_data(as_text=True)
    second = auth.client.post("/assessments/campaign", data=form)
    assert "2 assessments have been sent." in first
    assert second.status_code == 200 and ALREADY_DONE in second.get_data(as_text=True)
    assert _count(ctx, Campaign) == 1
    assert _count(ctx, Assessment) == 2
    assert _count(ctx, OutboxMessage, OutboxMessage.kind == "invitation") == 2


def test_the_already_done_page_speaks_the_users_language(
    auth, make_supplier, make_contact, ctx, today
):
    auth.login(Role.procurement, locale="ja")
    make_contact(make_supplier(category="cloud_service", status="active"), is_primary=True)
    page = auth.client.get("/assessments/campaign").get_data(as_text=True)
    form = {
        "name": "一括送付",
        "template_id": "csm-v2-supplier",
        "category": "cloud_service",
        "status": "active",
        "due_on": (today + timedelta(days=30)).isoformat(),
        "submit": "1",
        "idempotency_key": form_key(page, field="preview"),
    }
    auth.client.post("/assessments/campaign", data=form)
    again = auth.client.post("/assessments/campaign", data=form).get_data(as_text=True)
    assert "このフォームはすでに送信済みで、処理は完了しています。" in again
    assert ALREADY_DONE not in again
    assert _count(ctx, Campaign) == 1


# -- the supplier import ------------------------------------------------------------------------


def test_confirming_an_import_twice_imports_once_and_shows_the_first_result(auth, ctx):
    auth.login(Role.procurement, locale="en")
    data = "name_ja,corporate_number\r\n株式会社甲,\r\n株式会社乙,7010001008844\r\n".encode()
    url = auth.client.post(
        "/suppliers/import",
        data={"file": (io.BytesIO(data), "a.csv")},
        content_type="multipart/form-data",
    ).headers["Location"]
    page = auth.client.get(url).get_data(as_text=True)
    form = {
        "column_0": "name_ja",
        "column_1": "corporate_number",
        "submit": "1",
        "idempotency_key": form_key(page, field="skip_invalid"),
    }
    first = auth.client.post(url, data=form)
    second = auth.client.post(url, data=form)
    assert first.headers["Location"] == "/suppliers/import/done"
    assert second.headers["Location"] == "/suppliers/import/done"  # not "imported already"
    assert _count(ctx, Supplier) == 2
    assert _count(ctx, AuditEvent, AuditEvent.action == "import") == 1


# -- the portal submit (row 12) ------------------------------------------------------------------


def _answer_everything(client) -> None:
    for section in TEMPLATE.sections:
        data = {}
        for q in section.questions:
            data[f"v-{q.id}"] = "0"
            if (value := q.kind.sample(q)) is not None:
                data.update(q.kind.to_form(q, f"a-{q.id}", value))
            if q.kind.holds_files or q.evidence:
                data[f"f-{q.id}"] = (io.BytesIO(PDF), f"{q.id}.pdf")
        response = client.post(
            f"/portal/q/section/{section.id}", data=data, content_type="multipart/form-data"
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]


@pytest.fixture
def ready(app, auth, supplier, ctx, today):
    """A supplier contact in a portal sitting, every question answered, about to submit."""
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/send", data=_send_form(ctx, supplier, today)
    )
    assessment_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with ctx() as session:  # a link of our own: the mailed one is only in the outbox
        invitation = session.scalar(sa.select(Invitation))
        token = invitation.issue_token()
        session.commit()
    contact = app.test_client()
    assert contact.post(f"/portal/{token}", data={"lang": "en"}).status_code == 302
    _answer_everything(contact)
    page = contact.get("/portal/q/submit").get_data(as_text=True)
    return contact, assessment_id, form_key(page, action="/portal/q/submit")


def _submitted_events(ctx) -> int:
    return _count(ctx, AuditEvent, AuditEvent.action == "submitted")


def test_a_double_portal_submit_records_one_event_and_one_mail(ready, ctx):
    contact, _, key = ready
    first = contact.post("/portal/q/submit", data={"idempotency_key": key})
    second = contact.post("/portal/q/submit", data={"idempotency_key": key})
    assert first.headers["Location"] == "/portal/q/done"
    assert second.status_code == 303 and second.headers["Location"] == "/portal/q/done"
    assert _submitted_events(ctx) == 1
    assert _count(ctx, OutboxMessage, OutboxMessage.kind == "submitted") == 1


@needs_postgres
def test_racing_portal_submits_on_postgresql_record_one_event(app, ready, ctx):
    """Both copies pass the "still open?" check before either commits: forced by holding the
    assessment's row lock until both requests wait on the database."""
    contact, assessment_id, key = ready
    clients = [contact, _second_client(app, contact)]
    with app.app_context():
        engine = db.engine
    with engine.connect() as holder:
        holder.execute(
            sa.text("SELECT id FROM assessments WHERE id = :id FOR UPDATE"), {"id": assessment_id}
        )
        outcome: list = []
        racer = threading.Thread(
            target=lambda: outcome.extend(
                _race(
                    *(
                        lambda c=c: c.post("/portal/q/submit", data={"idempotency_key": key})
                        for c in clients
                    )
                )
            )
        )
        racer.start()
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + 20
        while _waiting(holder, waiting) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        holder.rollback()
        racer.join(timeout=60)
    assert sorted(r.status_code for r in outcome)[0] in (200, 302, 303)
    assert _submitted_events(ctx) == 1
    assert _count(ctx, OutboxMessage, OutboxMessage.kind == "submitted") == 1


# -- the mechanism ------------------------------------------------------------------------------


def test_every_post_form_in_the_templates_carries_a_key():
    """A form added later without the key would double its work on a double click."""
    import re
    from pathlib import Path

    from vendorrisk.config import BASE_DIR

    missing = []
    for path in sorted((BASE_DIR / "vendorrisk/templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S):
            if "idempotency_field()" not in match.group(1):
                missing.append(f"{Path(path).relative_to(BASE_DIR)}: {match.group(0)[:80]}")
    assert missing == []


def test_old_keys_are_purged_by_their_job(app, ctx):
    from datetime import UTC, datetime

    now = datetime(2031, 5, 1, 3, 0, tzinfo=UTC)
    with ctx() as session:
        for age, key in ((timedelta(days=8), "o" * 22), (timedelta(hours=1), "n" * 22)):
            session.add(
                IdempotencyKey(key=key, actor="user:1", endpoint="x.y", created_at=now - age)
            )
        session.commit()
    with app.app_context():
        run = jobs.run_job("purge-idempotency-keys", now)
    assert run.outcome == "ok", run.error
    with ctx() as session:
        assert session.scalars(sa.select(IdempotencyKey.key)).all() == ["n" * 22]


def _waiting(conn, query) -> int:
    """Backends waiting on a lock now (the statistics are otherwise frozen per transaction)."""
    conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return conn.execute(query).scalar()
