"""Proposed register changes: stated attestations wait for a person; formats and dates checked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tests.factories import make_answer, make_assessment, make_invitation
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Assessment,
    Attestation,
    AttestationKind,
    AuditEvent,
    Role,
    Supplier,
    TierChange,
)
from vendorrisk.models.proposal import SCS, AttestationProposal, ProposalStatus
from vendorrisk.scoring.scores import score
from vendorrisk.services import audit
from vendorrisk.services.assessments import portal
from vendorrisk.services.register import proposals
from vendorrisk.services.register.proposals import (
    ProposalError,
    clean_certificate_number,
    clean_security_action_id,
    date_problem,
    stated_date_problem,
)
from vendorrisk.services.review import review

TODAY = date(2026, 12, 6)
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def _en(app):
    """A request read in English (the messages are the supplier's or reviewer's language)."""
    return app.test_request_context(headers={"Accept-Language": "en"})


# -- format rules (pure) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["50000228580", "4000 1234 567", "５００００２２８５８０", "5000-0228-580"]
)
def test_a_security_action_id_is_eleven_digits_starting_with_4_or_5(app, raw):
    with _en(app):
        assert len(clean_security_action_id(raw)) == 11


@pytest.mark.parametrize(
    "raw", ["123", "60000228580", "5000022858", "宣言済み", "", "50000228580x"]
)
def test_anything_else_is_not_a_security_action_id(app, raw):
    with _en(app), pytest.raises(ValueError, match="11-digit"):
        clean_security_action_id(raw)


@pytest.mark.parametrize(
    "raw",
    ["IS 123456", "JQA-IM1234", "IC03J0123", "ISMS-JP 0123/2024", "ＩＳ　５５５", "C2019-01234"],
)
def test_certificate_numbers_are_taken_as_printed(app, raw):
    with _en(app):
        assert clean_certificate_number(raw)


@pytest.mark.parametrize(
    "raw", ["なし", "n/a", "????", "a", "ISMS", "<script>1</script>", "x" * 60]
)
def test_garbage_is_not_a_certificate_number(app, raw):
    with _en(app), pytest.raises(ValueError, match="as printed"):
        clean_certificate_number(raw)


def test_the_messages_are_in_the_readers_language(app):
    with app.test_request_context(headers={"Accept-Language": "ja"}):
        with pytest.raises(ValueError, match="11桁の数字"):
            clean_security_action_id("123")
        assert "既に過ぎています" in stated_date_problem("expires_on", date(2026, 10, 7), TODAY)


def test_dates_must_be_plausible(app):
    with _en(app):
        assert date_problem("expires_on", date(2029, 4, 30), TODAY) is None
        assert "before 2000" in date_problem("issued_on", date(1999, 12, 31), TODAY)
        assert "in the future" in date_problem("issued_on", date(2026, 12, 7), TODAY)
        assert "5 years" in date_problem("expires_on", date(2099, 12, 31), TODAY)
        assert date_problem("expires_on", date(2026, 10, 7), TODAY) is None  # past: the form's
        assert "already passed" in stated_date_problem("expires_on", date(2026, 10, 7), TODAY)
        assert stated_date_problem("issued_on", date(2020, 1, 1), TODAY) is None


# -- from the questionnaire --------------------------------------------------------------------

ANSWERS = {
    "sup-d9s-01": "star2",
    "sup-d9s-02": "50000228580",
    "sup-d9s-03": "2025-06-01",
    "sup-d9s-04": "yes",
    "sup-d9s-05": "IS 555",
    "sup-d9s-06": "JQA",
    "sup-d9s-07": "本社",
    "sup-d9s-08": "2099-12-31",
    "sup-d9s-10": "yes",
    "sup-d9s-11": "東京海上日動",
    "sup-d9s-12": "100000000",
    "sup-d9s-13": "2027-03-05",
    "sup-d9s-14": "star3",
    "sup-d9s-15": "2028-03-31",
}


@pytest.fixture
def register(app, make_supplier, make_user, make_attestation, make_contact):
    """A supplier whose register holds its SECURITY ACTION ★★ (as answered) and an ISMS."""
    supplier = make_supplier()
    contact = make_contact(supplier)
    sa_ = make_attestation(supplier)  # star2, 50000228580, 2025-06-01: the same as answered
    isms = make_attestation(
        supplier, kind=AttestationKind.isms, level=None, identifier="IS 555", issuer="JQA",
        scope="本社", expires_on=date(2027, 1, 31),
    )  # fmt: skip
    reviewer = make_user(Role.procurement)
    return supplier, contact, sa_, isms, reviewer


def _submit(supplier, contact, answers=ANSWERS) -> Assessment:
    assessment = make_assessment(supplier, status="in_progress")
    for qid, value in answers.items():
        make_answer(assessment, qid, value)
    invitation = make_invitation(assessment, contact)
    db.session.flush()
    db.session.refresh(assessment)
    template = catalog().get("csm-v2-supplier", 1)
    portal.submit(assessment, template, invitation, NOW)
    db.session.commit()
    return assessment


def _proposals() -> dict[str, AttestationProposal]:
    return {p.kind: p for p in db.session.scalars(sa.select(AttestationProposal))}


def test_submission_proposes_what_differs_and_changes_nothing(app, register):
    supplier, contact, sa_, isms, _ = register
    with _en(app):
        _submit(supplier, contact)
        found = _proposals()
        assert set(found) == {"isms", "cyber_insurance", SCS}  # SA answered as registered
        assert found["isms"].fields == {"expires_on": "2099-12-31"}
        assert found["isms"].attestation_id == isms.id
        assert found["cyber_insurance"].attestation_id is None  # accepting creates it
        assert found["cyber_insurance"].fields == {
            "issuer": "東京海上日動", "coverage_limit_jpy": 100000000, "expires_on": "2027-03-05",
        }  # fmt: skip
        assert found[SCS].fields == {"level": "star3", "expires_on": "2028-03-31"}
        assert all(p.status == ProposalStatus.pending for p in found.values())
        # the register holds only reviewed facts
        assert db.session.get(Attestation, isms.id).expires_on == date(2027, 1, 31)
        kinds = db.session.scalars(sa.select(Attestation.kind)).all()
        assert sorted(kinds) == ["isms", "security_action"]
        assert AttestationKind.scs not in kinds


def test_a_resubmission_updates_its_own_pending_proposals(app, register):
    supplier, contact, *_ = register
    with _en(app):
        assessment = _submit(supplier, contact)
        answer = next(a for a in assessment.answers if a.question_id == "sup-d9s-08")
        answer.value = "2027-01-31"  # now as registered
        assessment.status = "in_progress"
        portal.submit(
            assessment, catalog().get("csm-v2-supplier", 1), assessment.invitations[0], NOW
        )
        db.session.commit()
        assert set(_proposals()) == {"cyber_insurance", SCS}
        assert db.session.scalar(sa.select(sa.func.count(AttestationProposal.id))) == 2


def test_hidden_answers_and_a_held_nothing_propose_nothing(app, register):
    supplier, contact, *_ = register
    answers = ANSWERS | {"sup-d9s-04": "no", "sup-d9s-10": "no", "sup-d9s-14": "none"}
    with _en(app):
        _submit(supplier, contact, answers)
        assert _proposals() == {}


def test_accepting_applies_the_proposal_audited_and_reruns_the_tier_rules(app, register):
    supplier, contact, _, isms, reviewer = register
    with _en(app):
        _submit(supplier, contact)
        found = _proposals()
        user = db.session.merge(reviewer)
        with audit.acting_as(audit.SYSTEM):  # a service call outside a request: the system acts
            proposals.accept(found["isms"], user, NOW)
            proposals.accept(found["cyber_insurance"], user, NOW)
            proposals.accept(found[SCS], user, NOW)
        db.session.commit()

        assert db.session.get(Attestation, isms.id).expires_on == date(2099, 12, 31)
        insurance = db.session.scalar(
            sa.select(Attestation).where(Attestation.kind == AttestationKind.cyber_insurance)
        )
        assert insurance.issuer == "東京海上日動" and insurance.coverage_limit_jpy == 100000000
        assert insurance.expires_on == date(2027, 3, 5)
        held = db.session.get(Supplier, supplier.id)
        evaluation = db.session.scalar(
            sa.select(Attestation).where(Attestation.kind == AttestationKind.scs)
        )  # an SCS evaluation is an attestation: ★3 is the supplier's own assessment
        assert (evaluation.supplier_id, evaluation.scs_level, evaluation.evaluation) == (
            supplier.id, "star3", "self"
        )  # fmt: skip
        assert evaluation.expires_on == date(2028, 3, 31)
        assert held.tier is not None  # the rules ran
        assert db.session.scalar(sa.select(sa.func.count(TierChange.id))) == 1
        decided = db.session.get(AttestationProposal, found["isms"].id)
        assert decided.status == ProposalStatus.accepted
        assert (decided.decided_by_id, decided.decided_at) == (reviewer.id, NOW)

        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        accepted = [e for e in events if e.action == "proposal_accepted"]
        assert len(accepted) == 3 and all(e.actor_type == "system" for e in accepted)
        assert "expires_on: 2099-12-31" in accepted[0].summary
        isms_change = [
            e for e in events
            if e.action == "update" and e.object_type == "attestations" and e.object_id == isms.id
        ]  # fmt: skip
        assert isms_change and "expires_on" in isms_change[0].changes

        with pytest.raises(ProposalError):
            proposals.accept(decided, user, NOW)


def test_accepting_a_security_action_creates_it_with_its_level(
    app, make_supplier, make_contact, make_user
):
    supplier, reviewer = make_supplier(), make_user(Role.admin)
    contact = make_contact(supplier)
    with _en(app):
        _submit(supplier, contact)
        proposal = _proposals()["security_action"]
        assert proposal.fields == {
            "level": "star2", "identifier": "50000228580", "issued_on": "2025-06-01",
        }  # fmt: skip
        proposals.accept(proposal, db.session.merge(reviewer), NOW)
        db.session.commit()
        made = db.session.scalar(
            sa.select(Attestation).where(Attestation.kind == AttestationKind.security_action)
        )
        assert made.level == "star2" and made.issued_on == date(2025, 6, 1)


def test_rejecting_leaves_the_register_and_keeps_the_reason(app, register):
    supplier, contact, _, isms, reviewer = register
    with _en(app):
        _submit(supplier, contact)
        proposal = _proposals()["isms"]
        user = db.session.merge(reviewer)
        with pytest.raises(ProposalError, match="reason"):
            proposals.reject(proposal, "  ", user, NOW)
        proposals.reject(proposal, "登録証では2027年1月31日まで", user, NOW)
        db.session.commit()
        assert db.session.get(Attestation, isms.id).expires_on == date(2027, 1, 31)
        kept = db.session.get(AttestationProposal, proposal.id)
        assert kept.status == ProposalStatus.rejected and kept.reason.startswith("登録証")
        assert db.session.scalar(
            sa.select(AuditEvent.summary).where(AuditEvent.action == "proposal_rejected")
        ).startswith("登録証")


def test_the_screen_shows_the_register_beside_the_proposal_with_its_problems(app, register):
    supplier, contact, *_ = register
    with _en(app):
        _submit(supplier, contact)
        proposal = _proposals()["isms"]
        (row,) = proposals.rows(proposal)
        assert (row.field, row.current, row.proposed) == ("expires_on", "2027-01-31", "2099-12-31")
        assert any("5 years" in p for p in proposals.problems(proposal, TODAY))
        assert [p.id for p in proposals.pending(supplier.id)] == [p.id for p in proposals.pending()]
        assert proposals.pending_count() == 3


# -- the review's flags ------------------------------------------------------------------------


def test_the_review_flags_stated_dates_past_or_implausible(app, register):
    supplier, contact, *_ = register
    answers = ANSWERS | {
        "sup-d9s-03": "2027-01-01",  # declared in the future
        "sup-d9s-08": "2026-10-07",  # 60 days ago
        "sup-d9s-13": "2026-10-07",
        "sup-d9s-15": "2099-12-31",
    }
    with _en(app):
        assessment = _submit(supplier, contact, answers)
        template = catalog().get("csm-v2-supplier", 1)
        result = score(template, review.values_of(assessment))
        flagged = dict(review.flags(assessment, template, result, TODAY).stated_dates)
        assert set(flagged) == {"sup-d9s-03", "sup-d9s-08", "sup-d9s-13", "sup-d9s-15"}
        assert (
            "already passed" in flagged["sup-d9s-08"] and "7 October 2026" in flagged["sup-d9s-13"]
        )
        assert "in the future" in flagged["sup-d9s-03"] and "5 years" in flagged["sup-d9s-15"]
        fine = _submit(supplier, contact, ANSWERS | {"sup-d9s-08": "2028-01-31"})
        result = score(template, review.values_of(fine))
        assert review.flags(fine, template, result, TODAY).stated_dates == ()


def test_a_past_expiry_answered_is_a_proposal_not_a_fact(app, register):
    supplier, contact, _, isms, _ = register
    answers = ANSWERS | {"sup-d9s-08": "2026-10-07", "sup-d9s-13": "2026-10-07"}
    with _en(app):
        _submit(supplier, contact, answers)
        found = _proposals()
        assert found["isms"].fields == {"expires_on": "2026-10-07"}
        assert any("already passed" in p for p in proposals.problems(found["isms"], TODAY))
        assert db.session.get(Attestation, isms.id).expires_on == date(2027, 1, 31)
        assert (
            db.session.scalar(
                sa.select(Attestation).where(Attestation.kind == AttestationKind.cyber_insurance)
            )
            is None
        )


# -- what a statement cannot do ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1E+400", "1e20", "-5", "NaN", "Infinity"])
def test_an_impossible_coverage_limit_is_not_proposed_and_the_submit_goes_through(
    app, register, typed
):
    """A number the register cannot hold (it used to end the supplier's submit in a 500)."""
    supplier, contact, *_ = register
    with _en(app):
        _submit(supplier, contact, ANSWERS | {"sup-d9s-12": typed})
        assert "coverage_limit_jpy" not in _proposals()["cyber_insurance"].fields


def test_a_resubmission_that_no_longer_states_it_withdraws_the_proposal(app, register):
    supplier, contact, *_ = register
    with _en(app):
        assessment = _submit(supplier, contact)
        answer = next(a for a in assessment.answers if a.question_id == "sup-d9s-04")
        answer.value = "no"  # no ISMS after all
        assessment.status = "in_progress"
        template = catalog().get("csm-v2-supplier", 1)
        portal.submit(assessment, template, assessment.invitations[0], NOW)
        db.session.commit()
        assert "isms" not in _proposals()


def test_a_newer_statement_supersedes_the_older_pending_one(app, register):
    """Accepting the older one after the newer would put older values back in the register."""
    supplier, contact, *_ = register
    with _en(app):
        _submit(supplier, contact)
        older = _proposals()["isms"].id
        _submit(supplier, contact, ANSWERS | {"sup-d9s-08": "2028-01-31"})
        states = dict(db.session.execute(
            sa.select(AttestationProposal.id, AttestationProposal.status)
            .where(AttestationProposal.kind == "isms")
        ).all())  # fmt: skip
        assert states.pop(older) == ProposalStatus.superseded
        assert list(states.values()) == [ProposalStatus.pending]
        superseded = db.session.scalars(
            sa.select(AuditEvent.object_id).where(AuditEvent.action == "proposal_superseded")
        ).all()
        assert older in superseded and len(superseded) == 3  # ISMS, insurance and SCS again
        with pytest.raises(ProposalError, match="already been decided"):
            proposals.accept(db.session.get(AttestationProposal, older), register[4], NOW)


def test_of_two_decisions_at_once_only_the_first_counts(app, register):
    """The second reviewer's copy still reads 'pending': the conditional UPDATE refuses it."""
    supplier, contact, _, isms, reviewer = register
    with _en(app):
        _submit(supplier, contact)
        stale = _proposals()["isms"]
        # another reviewer rejects it first; this copy is not told (as in another process)
        db.session.execute(
            sa.update(AttestationProposal)
            .where(AttestationProposal.id == stale.id)
            .values(status=ProposalStatus.rejected, decided_at=NOW, reason="他の担当者")
            .execution_options(synchronize_session=False)
        )
        assert stale.status == ProposalStatus.pending
        with pytest.raises(ProposalError, match="already been decided"):
            proposals.accept(stale, db.session.merge(reviewer), NOW)
        assert stale.status == ProposalStatus.rejected and stale.reason == "他の担当者"
        assert db.session.get(Attestation, isms.id).expires_on == date(2027, 1, 31)


def test_a_text_longer_than_the_register_holds_cannot_be_accepted(app, register):
    supplier, contact, _, _, reviewer = register
    long_issuer = "保険会社" * 60  # 240 characters: the register holds 200
    with _en(app):
        _submit(supplier, contact, ANSWERS | {"sup-d9s-11": long_issuer})
        proposal = _proposals()["cyber_insurance"]
        assert any(
            "longer than the register holds" in p for p in proposals.problems(proposal, TODAY)
        )
        with pytest.raises(ProposalError, match="longer than the register holds"):
            proposals.accept(proposal, db.session.merge(reviewer), NOW)
