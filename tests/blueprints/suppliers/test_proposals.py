"""The proposal screen: register value beside the proposed one with its evidence; accept or
reject, by those who keep the register."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import make_assessment
from vendorrisk.extensions import db
from vendorrisk.models import Attestation, AttestationKind, AuditEvent, Role, StoredFile
from vendorrisk.models.proposal import AttestationProposal, ProposalStatus


@pytest.fixture
def proposed(app, make_supplier, make_attestation):
    """An ISMS whose supplier answered a 2099 expiry, with the certificate it uploaded."""
    supplier = make_supplier(name_ja="株式会社提案", name_en="Proposal KK")
    isms = make_attestation(supplier, kind=AttestationKind.isms, level=None,
                            identifier="IS 555", expires_on=date(2027, 1, 31))  # fmt: skip
    with app.app_context():
        assessment = make_assessment(supplier, status="submitted")
        stored = StoredFile(
            original_name="ISMS登録証.pdf", content_type="application/pdf", size=10,
            sha256="0" * 64, storage_key="proposal-test",
        )  # fmt: skip
        proposal = AttestationProposal(
            supplier_id=supplier.id, kind="isms", attestation_id=isms.id,
            fields={"expires_on": "2099-12-31"}, assessment_id=assessment.id, evidence=stored,
        )  # fmt: skip
        db.session.add(proposal)
        db.session.commit()
        return supplier, isms, proposal.id, stored.id


def _isms(app, isms_id):
    with app.app_context():
        return db.session.get(Attestation, isms_id).expires_on


def _status(app, proposal_id):
    with app.app_context():
        found = db.session.get(AttestationProposal, proposal_id)
        return found.status, found.reason


def test_the_reviewer_sees_register_and_proposal_side_by_side_with_the_evidence(
    app, auth, proposed
):
    supplier, _, proposal_id, file_id = proposed
    auth.login(Role.procurement, locale="ja")
    listing = auth.client.get("/suppliers/").get_data(as_text=True)
    assert "/suppliers/proposals" in listing  # reachable from the supplier list
    for url in ("/suppliers/proposals", f"/suppliers/{supplier.id}/proposals"):
        html = auth.client.get(url).get_data(as_text=True)
        assert "台帳の登録内容" in html and "変更案" in html
        current, proposed_value = re.search(
            r"<td>([^<]+)</td><td><strong>([^<]+)</strong>", html
        ).groups()
        assert "2027" in current and "2099" in proposed_value
        assert f"/suppliers/files/{file_id}" in html and "ISMS登録証.pdf" in html
        assert "5年より先の日付です" in html  # the problem is pointed out
        assert f"/proposals/{proposal_id}/accept" in html
    detail = auth.client.get(f"/suppliers/{supplier.id}").get_data(as_text=True)
    assert 'id="proposals"' in detail and f"/proposals/{proposal_id}/reject" in detail


def test_english_readers_see_the_screen_in_english(app, auth, proposed):
    auth.login(Role.procurement, locale="en")
    html = auth.client.get("/suppliers/proposals").get_data(as_text=True)
    assert "In the register" in html and "more than 5 years ahead" in html


def test_accepting_updates_the_register_and_is_audited(app, auth, proposed):
    supplier, isms, proposal_id, _ = proposed
    user = auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/proposals/{proposal_id}/accept",
        data={f"p{proposal_id}-back": "all"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/suppliers/proposals")
    assert _isms(app, isms.id) == date(2099, 12, 31)
    assert _status(app, proposal_id)[0] == ProposalStatus.accepted
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "proposal_accepted")
        )
        assert event.actor_user_id == user.id and event.supplier_id == supplier.id
        evidence = db.session.get(Attestation, isms.id).evidence
        assert evidence.original_name == "ISMS登録証.pdf"  # the file now backs the register
    again = auth.client.post(f"/suppliers/{supplier.id}/proposals/{proposal_id}/accept")
    assert again.status_code == 302  # refused with a message, nothing changes
    assert "/proposals" in again.headers["Location"]


def test_rejecting_needs_a_reason_and_leaves_the_register(app, auth, proposed):
    supplier, isms, proposal_id, _ = proposed
    auth.login(Role.admin)
    url = f"/suppliers/{supplier.id}/proposals/{proposal_id}/reject"
    blank = auth.client.post(url, data={f"p{proposal_id}-reason": " "}, follow_redirects=True)
    assert "理由" in blank.get_data(as_text=True)
    assert _status(app, proposal_id)[0] == ProposalStatus.pending
    response = auth.client.post(
        url, data={f"p{proposal_id}-reason": "登録証と違う", f"p{proposal_id}-back": "detail"}
    )
    assert response.headers["Location"].endswith(f"/suppliers/{supplier.id}#proposals")
    assert _status(app, proposal_id) == (ProposalStatus.rejected, "登録証と違う")
    assert _isms(app, isms.id) == date(2027, 1, 31)
    page = auth.client.get(f"/suppliers/{supplier.id}/proposals").get_data(as_text=True)
    assert "登録証と違う" in page and "判断待ちの変更案はありません" in page


@pytest.mark.parametrize("role", [Role.reviewer, Role.auditor, Role.ciso])
def test_only_those_who_keep_the_register_decide(app, auth, proposed, role):
    supplier, isms, proposal_id, _ = proposed
    auth.login(role)
    html = auth.client.get("/suppliers/proposals").get_data(as_text=True)
    assert "2099" in html and "/accept" not in html  # they see, without the buttons
    url = f"/suppliers/{supplier.id}/proposals/{proposal_id}/accept"
    assert auth.client.post(url).status_code == 403
    assert _isms(app, isms.id) == date(2027, 1, 31)


def test_a_proposal_of_another_supplier_is_not_found(app, auth, proposed, make_supplier):
    _, _, proposal_id, _ = proposed
    other = make_supplier()
    auth.login(Role.procurement)
    assert (
        auth.client.post(f"/suppliers/{other.id}/proposals/{proposal_id}/accept").status_code == 404
    )
