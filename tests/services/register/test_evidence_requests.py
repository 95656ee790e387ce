"""The renewed-evidence link: the expiry alert asks for it, the portal takes it, the owner is
told."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import body_of
from tests.services.periodic.test_periodic import _rows
from vendorrisk.extensions import db
from vendorrisk.i18n import long_date
from vendorrisk.mail import outbox
from vendorrisk.models import (
    Attestation,
    AttestationKind,
    EvidenceRequest,
    Role,
    StoredFile,
    SupplierStatus,
)
from vendorrisk.models.proposal import AttestationProposal
from vendorrisk.services.periodic.expiry_alerts import expiry_alerts

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def evidence(app, make_user, make_supplier, make_contact, make_attestation, smtp_server):
    """An ISMS certificate expiring in 20 days: the alert asks the contact for the renewal."""
    owner = make_user(Role.procurement, name="調達 花子")
    supplier = make_supplier(name_ja="株式会社証跡", name_en="Evidence KK",
                             status=SupplierStatus.active, owner_id=owner.id)  # fmt: skip
    contact = make_contact(supplier, name="John Smith", email="john@evidence.example.com",
                           locale="en", is_primary=True)  # fmt: skip
    expires = date.today() + timedelta(days=20)
    isms = make_attestation(supplier, kind=AttestationKind.isms, level=None,
                            identifier="IS 555", expires_on=expires)  # fmt: skip
    now = datetime.now(UTC)
    with app.app_context():
        result = expiry_alerts(now)
        db.session.commit()
        assert result.done == 2  # the owner and the contact
        outbox.deliver_pending()
    mails = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
    match = re.search(
        r"https?://[^/\s]+(/portal/e/[A-Za-z0-9_-]{40,})", body_of(mails[contact.email])
    )
    assert match, body_of(mails[contact.email])
    return SimpleNamespace(
        owner=owner, supplier=supplier, contact=contact, isms=isms, expires=expires,
        path=match.group(1), mails=mails, smtp=smtp_server,
    )  # fmt: skip


def _attestation(app, attestation_id):
    with app.app_context():
        found = db.session.get(Attestation, attestation_id)
        db.session.expunge(found)
        return found


def _upload(client, path, data: bytes, name: str, expires: date | str):
    return client.post(
        path,
        data={"expires_on": str(expires), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_the_alert_asks_for_renewed_evidence_through_a_link_that_asks_only_for_that(
    app, client, evidence
):
    owner_mail = body_of(evidence.mails[evidence.owner.email])
    assert evidence.contact.email in owner_mail  # the owner knows who was asked
    request_mail = evidence.mails[evidence.contact.email]
    assert "Request: renewed ISMS certification" in " ".join(request_mail["Subject"].split())

    page = client.get(evidence.path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Evidence KK" in html and "IS 555" in html and long_date(evidence.expires, "en") in html
    assert page.headers["Cache-Control"] == "no-store"
    with app.app_context():
        request = db.session.scalar(sa.select(EvidenceRequest))
        assert request.fulfilled_at is None  # looking changes nothing

    later = evidence.expires + timedelta(days=365 * 3)
    for data, name, day, message in (
        (b"not a pdf at all", "certificate.pdf", later, "does not match"),
        (PDF, "certificate.pdf", "", "Give the new expiry date."),
        (PDF, "certificate.pdf", date.today(), "must be in the future"),
    ):
        response = _upload(client, evidence.path, data, name, day)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0
        assert db.session.scalar(sa.select(EvidenceRequest.fulfilled_at)) is None
    assert _attestation(app, evidence.isms.id).evidence_id is None

    before = len(evidence.smtp.messages)
    response = _upload(client, evidence.path, PDF, "ISMS-2029.pdf", later)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Thank you" in response.get_data(as_text=True)
    kept = _attestation(app, evidence.isms.id)  # a proposal: the register waits for review
    assert kept.expires_on == evidence.expires and kept.evidence_id is None
    with app.app_context():
        request = db.session.scalar(sa.select(EvidenceRequest))
        proposal = db.session.scalar(sa.select(AttestationProposal))
        assert proposal.fields == {"expires_on": later.isoformat()}
        assert request.fulfilled_at is not None and request.stored_file_id == proposal.evidence_id
    (told,) = evidence.smtp.messages[before:]
    assert told["To"].addresses[0].addr_spec == evidence.owner.email
    assert "ISMS-2029.pdf" in body_of(told) and later.isoformat() in body_of(told)

    gone = client.get(evidence.path)
    assert gone.status_code == 410
    assert "already been sent" in gone.get_data(as_text=True)
    assert _upload(client, evidence.path, PDF, "again.pdf", later).status_code == 410
    assert client.get("/portal/e/" + "x" * 43).status_code == 404


def test_an_earlier_expiry_date_is_a_proposal_too_and_changes_nothing(app, client, evidence):
    earlier = evidence.expires - timedelta(days=5)
    response = _upload(client, evidence.path, PDF, "old-scan.pdf", earlier)
    assert response.status_code == 200
    kept = _attestation(app, evidence.isms.id)
    assert kept.expires_on == evidence.expires and kept.evidence_id is None
    with app.app_context():
        proposal = db.session.scalar(sa.select(AttestationProposal))
        assert proposal.fields == {"expires_on": earlier.isoformat()}
        assert proposal.evidence.original_name == "old-scan.pdf"
    told = evidence.smtp.messages[-1]
    assert told["To"].addresses[0].addr_spec == evidence.owner.email


def test_an_expired_or_replaced_evidence_link_answers_410_in_the_contacts_language(
    app, client, evidence
):
    with app.app_context():
        request = db.session.scalar(sa.select(EvidenceRequest))
        request.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
    gone = client.get(evidence.path)
    assert gone.status_code == 410
    assert '<html lang="en">' in gone.get_data(as_text=True)
    assert "expired or has been replaced" in gone.get_data(as_text=True)
    assert '<html lang="ja">' in client.get(evidence.path + "?lang=ja").get_data(as_text=True)


def test_the_evidence_link_is_removed_from_the_outbox_after_delivery(app, evidence):
    with app.app_context():
        (row,) = _rows(kind="evidence_request")
        assert row.status == "sent"
        assert evidence.path not in row.body_text and evidence.path not in row.body_html
