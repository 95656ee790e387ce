"""The renewed-evidence link: what a contact sends is a proposal, checked where it is typed, and
the link lives until the attestation's expiry plus the grace period."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import body_of
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.mail import outbox
from vendorrisk.models import Attestation, AttestationKind, EvidenceRequest, Role, StoredFile
from vendorrisk.models.proposal import AttestationProposal, ProposalStatus
from vendorrisk.services.register.evidence_requests import ask_for_evidence, link_expiry

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def link(app, today, make_user, make_supplier, make_contact, make_attestation):
    """An evidence link for an ISMS certificate expiring in 20 days, sent to an English reader."""
    owner = make_user(Role.procurement)
    supplier = make_supplier(owner_id=owner.id)
    contact = make_contact(supplier, email="john@example.com", locale="en")
    expires = today + timedelta(days=20)
    isms = make_attestation(supplier, kind=AttestationKind.isms, level=None,
                            identifier="IS 555", expires_on=expires)  # fmt: skip
    with app.app_context():
        attestation = db.session.get(Attestation, isms.id)
        now = clock.now()
        request = EvidenceRequest(
            attestation_id=isms.id, contact_id=contact.id, email=contact.email, locale="en",
            created_at=now, expires_at=link_expiry(attestation, now),
        )  # fmt: skip
        token = request.issue_token()
        db.session.add(request)
        db.session.commit()
    return SimpleNamespace(isms=isms, expires=expires, path=f"/portal/e/{token}", owner=owner)


def _upload(client, path, expires, identifier="", data=PDF, lang=""):
    return client.post(
        path + lang,
        data={"expires_on": str(expires), "identifier": identifier,
              "file": (io.BytesIO(data), "ISMS-2029.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip


def _register(app, attestation_id):
    with app.app_context():
        found = db.session.get(Attestation, attestation_id)
        return found.expires_on, found.identifier, found.evidence_id


@pytest.mark.parametrize(
    ("lang", "expires", "identifier", "message"),
    [
        ("", "2099-12-31", "", "more than 5 years ahead"),
        ("?lang=ja", "2099-12-31", "", "5年より先の日付です"),
        ("", "past", "", "must be in the future"),
        ("", "ok", "なし", "exactly as printed on the certificate"),
        ("?lang=ja", "ok", "なし", "記載されているとおりの番号"),
    ],
)
def test_format_errors_are_shown_in_the_contacts_language_and_keep_what_was_typed(
    app, client, link, today, lang, expires, identifier, message
):
    day = {"past": today - timedelta(days=60), "ok": today + timedelta(days=3 * 365)}.get(
        expires, expires
    )
    response = _upload(client, link.path, day, identifier, lang=lang)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert f'value="{day}"' in html  # nothing typed is lost
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(AttestationProposal.id))) == 0
        assert db.session.scalar(sa.select(EvidenceRequest.fulfilled_at)) is None
    assert _register(app, link.isms.id) == (link.expires, "IS 555", None)


def test_renewed_evidence_becomes_a_proposal_and_the_register_waits(
    app, client, link, today, smtp_server
):
    page = client.get(link.path).get_data(as_text=True)
    assert "checked by the person in charge" in page and 'name="identifier"' in page
    later = today + timedelta(days=3 * 365)
    response = _upload(client, link.path, later, "IS 556")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _register(app, link.isms.id) == (link.expires, "IS 555", None)  # unreviewed
    with app.app_context():
        proposal = db.session.scalar(sa.select(AttestationProposal))
        assert proposal.status == ProposalStatus.pending
        assert proposal.fields == {"expires_on": later.isoformat(), "identifier": "IS 556"}
        assert proposal.attestation_id == link.isms.id and proposal.evidence.original_name
        request = db.session.scalar(sa.select(EvidenceRequest))
        assert request.fulfilled_at is not None and request.stored_file_id == proposal.evidence_id
        outbox.deliver_pending()
    (told,) = smtp_server.messages
    assert told["To"].addresses[0].addr_spec == link.owner.email
    assert "ISMS-2029.pdf" in body_of(told)
    assert client.get(link.path).status_code == 410


def test_an_implausible_date_never_reaches_the_register(app, client, link, today):
    """2099-12-31 is refused at the form; a past one too: the register keeps its date."""
    for day in (date(2099, 12, 31), today - timedelta(days=60)):
        assert _upload(client, link.path, day).status_code == 422
    assert _register(app, link.isms.id) == (link.expires, "IS 555", None)


def test_the_link_lives_until_the_expiry_plus_the_grace_period(
    app, make_supplier, make_contact, make_attestation
):
    supplier = make_supplier()
    contact = make_contact(supplier)
    policy = make_attestation(supplier, kind=AttestationKind.cyber_insurance, level=None,
                              identifier="CY-1", expires_on=date(2027, 3, 5))  # fmt: skip
    lapsed = make_attestation(supplier, kind=AttestationKind.isms, level=None,
                              identifier="IS 1", expires_on=date(2026, 12, 1))  # fmt: skip
    now = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    with app.app_context():
        grace = app.config["PORTAL_GRACE_DAYS"]
        found = db.session.get(Attestation, policy.id)
        request = ask_for_evidence(found, db.session.merge(contact), 90, date(2026, 12, 5), now)
        # the end of 2027-03-05 in Tokyo, plus the grace: never before the policy expires
        end_of_expiry_day = datetime(2027, 3, 5, 15, 0, tzinfo=UTC)
        assert request.expires_at == end_of_expiry_day + timedelta(days=grace)
        assert request.expires_at.date() > found.expires_on
        # an alert after the expiry (catching up) still gives the grace period
        gone = db.session.get(Attestation, lapsed.id)
        assert link_expiry(gone, now) == now + timedelta(days=grace)
        db.session.rollback()
