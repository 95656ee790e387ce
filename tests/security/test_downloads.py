"""Every file the app sends is a download a browser will not run: the attack is a file that a
browser renders after all (an HTML or SVG page uploaded as evidence, an export it sniffs as
HTML), running script with our origin. Each kind of download must come sandboxed
(`Content-Security-Policy: sandbox`), unsniffed (`nosniff`) and as an attachment.
"""

from __future__ import annotations

import inspect
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_answer, make_assessment, make_invitation
from vendorrisk.catalog import Catalog
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import AssessmentStatus, Invitation, Role
from vendorrisk.services import files
from vendorrisk.services.assessments import portal
from vendorrisk.services.reporting import exports

TEMPLATE = Catalog.from_folder(BASE_DIR / "questionnaires").get("csm-v2-supplier")
NOW = datetime.now(UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STAFF_DOWNLOADS = [
    "/suppliers/export.csv",
    "/suppliers/export.xlsx",
    "/suppliers/import/template.csv",
    "/suppliers/import/template.xlsx",
    "/report.xlsx?lang=ja",
    *(f"/export/{kind}.{fmt}" for kind in exports.KINDS for fmt in exports.FORMATS),
]


def _directives(response) -> list[str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return [part.strip() for part in policy.split(";")]


def _assert_download(response) -> None:
    assert response.status_code == 200, response.status_code
    assert "sandbox" in _directives(response)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")


@pytest.fixture
def evidence(app, make_supplier, make_contact, ctx):
    """A supplier's in-progress assessment with a PDF attached to an answer, and a sitting."""
    supplier = make_supplier(name_ja="株式会社ダウンロード検証")
    contact = make_contact(supplier)
    file_question = next(q for q in TEMPLATE.questions if q.kind.holds_files)
    with ctx() as session:
        assessment = make_assessment(
            supplier, TEMPLATE, status=AssessmentStatus.in_progress, due_on=NOW.date()
        )
        stored = files.store(io.BytesIO(PDF), "証跡.pdf", app.config["UPLOAD_DIR"], 10**6)
        make_answer(assessment, file_question.id, None).files.append(stored)
        invitation = make_invitation(assessment, contact, expires_at=NOW + timedelta(days=40))
        session.commit()
        file_id, invitation_id = stored.id, invitation.id
    with app.app_context():
        token = portal.open_sitting(db.session.get(Invitation, invitation_id), "127.0.0.1", NOW)
        db.session.commit()
    supplier_client = app.test_client()
    with supplier_client.session_transaction() as session:
        session["portal"] = {"sitting": token}
    return file_id, supplier_client


def test_an_evidence_file_is_sent_sandboxed_to_staff_and_to_the_supplier(auth, evidence):
    file_id, supplier_client = evidence
    auth.login(Role.procurement)
    _assert_download(auth.client.get(f"/suppliers/files/{file_id}"))
    _assert_download(supplier_client.get(f"/portal/q/files/{file_id}"))


def test_the_portal_workbook_is_sent_sandboxed(evidence):
    _file_id, supplier_client = evidence
    _assert_download(supplier_client.get("/portal/q/excel"))


@pytest.mark.parametrize("url", STAFF_DOWNLOADS)
def test_every_export_report_and_template_is_sent_sandboxed(auth, url):
    auth.login(Role.admin)
    _assert_download(auth.client.get(url))
    # The sandbox is for files only: the app's own pages keep their scripts and forms.
    assert "sandbox" not in _directives(auth.client.get("/suppliers/"))


def test_no_view_sends_a_file_without_the_download_declaration(app):
    """A new download view that forgets `@transfer.download` fails here, not in production."""
    senders = ("send_file(", "send_download(", "send_export(")
    undeclared = []
    for endpoint, view in app.view_functions.items():
        source = inspect.getsource(inspect.unwrap(view))
        if any(sender in source for sender in senders):
            options = getattr(view, "talisman_view_options", {})
            if "sandbox" not in options.get("content_security_policy", ""):
                undeclared.append(endpoint)
    assert undeclared == []
    assert len([e for e in app.view_functions if "download" in e or "export" in e]) >= 5
