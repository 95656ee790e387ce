"""Covers (issue 17): a certificate or check sheet a supplier already holds answers the questions
of its kind that the supplier has not answered, and nothing else; a reviewer accepts it, or
rejects it and its answers are cleared, to be answered by hand."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import current_app

from tests.factories import make_answer, make_assessment
from vendorrisk.catalog import Catalog
from vendorrisk.catalog.model import Band, Choice
from vendorrisk.catalog.scs import COVER_KINDS
from vendorrisk.catalog.text import Text
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AuditEvent,
    Contact,
    Cover,
    CoverStatus,
    Decision,
    Role,
    StoredFile,
    User,
)
from vendorrisk.models.cover import COVER_KIND_VALUES
from vendorrisk.scoring.answers import missing_for_submit
from vendorrisk.services import files
from vendorrisk.services.assessments import covers, portal
from vendorrisk.services.assessments.lifecycle import AssessmentError, progress_of, states_of
from vendorrisk.services.review import review

TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v3-supplier-standard")
ISMS = [q for q in TEMPLATE.questions if "isms" in q.covered_by]
#: Questions of the standard pack: two ISMS ones the supplier answers itself, one carried over
#: (ones a check sheet answers too).
TYPED, TYPED_TOO, CARRIED = [q.id for q in ISMS if "jama" in q.covered_by][1:4]
#: A scored question no ISMS certificate answers.
OTHER = next(q.id for q in TEMPLATE.questions if q.scored and "isms" not in q.covered_by)
#: A fixed moment: nothing here depends on today's date.
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCOPE = "適用範囲：本社 ITサービス事業部（当社向け保守業務を含む）、有効期限 2028年3月31日"


@pytest.fixture
def world(app, make_supplier, make_contact, make_user):
    """A standard-pack assessment being answered: two ISMS questions answered "no" and
    "partial" by the supplier (one with a comment), one carried over from last time, one
    question outside ISMS answered; and a reviewer."""
    supplier = make_supplier()
    contact = make_contact(supplier)
    reviewer = make_user(Role.reviewer)
    with app.app_context():
        assessment = make_assessment(supplier, TEMPLATE, status=AssessmentStatus.in_progress)
        make_answer(assessment, TYPED, "no", comment="移行中のため")
        make_answer(assessment, TYPED_TOO, "partial")
        make_answer(assessment, CARRIED, "no", carried_over=True)
        make_answer(
            assessment, OTHER, TEMPLATE.question(OTHER).kind.sample(TEMPLATE.question(OTHER))
        )
        db.session.commit()
        ids = assessment.id
    return SimpleNamespace(assessment_id=ids, contact_id=contact.id, reviewer_id=reviewer.id)


def _load(world):
    assessment = db.session.get(Assessment, world.assessment_id)
    return assessment, db.session.get(Contact, world.contact_id)


def _file(name: str = "ISMS登録証.pdf") -> StoredFile:
    return files.store(io.BytesIO(PDF), name, current_app.config["UPLOAD_DIR"], 10**6)


def _answers(assessment_id: int) -> dict[str, Answer]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Answer).where(Answer.assessment_id == assessment_id))
    return {a.question_id: a for a in rows}


def _attach(world, kind: str = "isms", **overrides):
    assessment, contact = _load(world)
    arguments = {"stored_file": _file(), "scope": SCOPE, "contact": contact, "now": NOW}
    return covers.attach(assessment, TEMPLATE, kind, **arguments | overrides)


def test_the_models_kinds_are_the_catalogs():
    assert tuple(COVER_KINDS) == COVER_KIND_VALUES


def test_a_cover_gives_the_best_answer_of_each_type():
    base = ISMS[0]
    assert base.type == "yes_partial_no" and covers.best_value(base) == "yes"
    yes_no = dataclasses.replace(base, type="yes_no")
    assert covers.best_value(yes_no) == "yes"
    choices = (
        Choice("weekly", Text("毎週", "Weekly"), 1.0),
        Choice("yearly", Text("毎年", "Yearly"), 0.25),
    )
    ranked = dataclasses.replace(base, type="single_choice", choices=choices[::-1])
    assert covers.best_value(ranked) == "weekly"
    banded = dataclasses.replace(base, type="number", bands=(Band(1.0),))
    assert banded.scored and covers.best_value(banded) is None  # a figure only they can give


def test_an_isms_certificate_answers_exactly_the_unanswered_isms_questions(app, world):
    with app.app_context():
        assessment, _ = _load(world)
        before = review.current_score(assessment, TEMPLATE)
        attached = _attach(world)
        db.session.commit()
        expected = {q.id for q in ISMS} - {TYPED, TYPED_TOO}
        answers = _answers(world.assessment_id)
        by_cover = {qid for qid, a in answers.items() if a.cover_id == attached.cover.id}
        assert by_cover == expected and attached.covered == len(expected)
        for qid in expected:
            answer = answers[qid]
            assert (answer.value, answer.carried_over) == ("yes", False)
            assert answer.contact_id == world.contact_id and answer.updated_at == NOW
        assert answers[CARRIED].version == 2  # claimed like any save: no silent overwrite
        # What the supplier typed is left alone, comment and all; the rest of the pack too.
        assert (answers[TYPED].value, answers[TYPED].comment) == ("no", "移行中のため")
        assert answers[TYPED_TOO].value == "partial" and answers[TYPED_TOO].cover_id is None
        assert answers[OTHER].cover_id is None
        cover = db.session.get(Cover, attached.cover.id)
        assert (cover.kind, cover.scope, cover.status) == ("isms", SCOPE, CoverStatus.pending)
        assert cover.contact_id == world.contact_id and cover.file.original_name == "ISMS登録証.pdf"
        # The score and the progress count them.
        assessment = db.session.get(Assessment, world.assessment_id)
        after = review.current_score(assessment, TEMPLATE)
        counted = {s.question_id: s.value for d in after.directives for s in d.questions}
        assert all(counted[qid] == 1.0 for qid in expected)
        answered_before = sum(d.answered for d in before.directives)
        assert sum(d.answered for d in after.directives) == answered_before + len(expected) - 1
        assert progress_of(assessment, TEMPLATE).answered == len(expected) + 3
        # The certificate is the evidence of the questions it answers.
        assert not [m for m in missing_for_submit(TEMPLATE, states_of(assessment))
                    if m.question.id in expected]  # fmt: skip
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "cover_attached")
        )
        assert event.object_id == cover.id and event.assessment_id == world.assessment_id


def test_answering_a_covered_question_by_hand_takes_it_from_the_cover(app, world):
    first, second, third = [q.id for q in ISMS if q.id not in (TYPED, TYPED_TOO, CARRIED)][:3]
    with app.app_context():
        _attach(world)
        db.session.commit()
        assessment, _ = _load(world)
        answers = _answers(world.assessment_id)
        posted = {
            first: portal.Posted("partial", "", answers[first].version),  # a different answer
            second: portal.Posted("yes", "", answers[second].version),  # the same: still covered
            third: portal.Posted("yes", "ISMS附属書Aで管理", answers[third].version),  # a comment
        }
        result = portal.save_answers(assessment, TEMPLATE, posted, world.contact_id, NOW)
        db.session.commit()
        assert not result.conflicts and not result.errors
        answers = _answers(world.assessment_id)
        assert (answers[first].value, answers[first].cover_id) == ("partial", None)
        assert answers[second].cover_id is not None
        assert answers[third].cover_id is not None and answers[third].comment


def test_the_supplier_may_take_a_question_back_to_answer_it_by_hand(app, world):
    qid = next(q.id for q in ISMS if q.id not in (TYPED, TYPED_TOO))
    with app.app_context():
        _attach(world)
        db.session.commit()
        assessment, _ = _load(world)
        covers.answer_by_hand(assessment, qid, world.contact_id, NOW)
        covers.answer_by_hand(assessment, TYPED, world.contact_id, NOW)  # not the cover's: kept
        db.session.commit()
        answers = _answers(world.assessment_id)
        assert (answers[qid].value, answers[qid].cover_id) == (None, None)
        assert answers[TYPED].value == "no"


def test_rejecting_a_cover_clears_its_answers_and_keeps_the_reason(app, world):
    with app.app_context():
        attached = _attach(world)
        db.session.commit()
        covered = {a.question_id for a in _answers(world.assessment_id).values() if a.cover_id}
        assessment, _ = _load(world)
        assessment.status, assessment.submitted_at = AssessmentStatus.submitted, NOW
        db.session.commit()
        cover, reviewer = (
            db.session.get(Cover, attached.cover.id),
            db.session.get(User, world.reviewer_id),
        )
        with pytest.raises(covers.CoverError, match="reason"):
            covers.review(cover, False, "  ", reviewer, NOW)
        cleared = covers.review(
            cover, False, "適用範囲に当社向け業務が含まれていません", reviewer, NOW
        )
        db.session.commit()
        assert cleared == len(covered)
        answers = _answers(world.assessment_id)
        for qid in covered:  # unanswered again, and open to the supplier once returned
            assert (answers[qid].value, answers[qid].cover_id, answers[qid].reopened) == (
                None, None, True)  # fmt: skip
        assert answers[TYPED].value == "no" and not answers[TYPED].reopened
        cover = db.session.get(Cover, attached.cover.id)
        assert cover.status == CoverStatus.rejected and cover.reviewed_at == NOW
        assert cover.reason == "適用範囲に当社向け業務が含まれていません"
        assert cover.reviewed_by_id == world.reviewer_id
        assessment = db.session.get(Assessment, world.assessment_id)
        missing = {m.question.id for m in missing_for_submit(TEMPLATE, states_of(assessment))}
        assert covered <= missing
        with pytest.raises(covers.CoverError, match="already been reviewed"):
            covers.review(cover, True, "", reviewer, NOW)
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.object_type == "covers")
        )
        assert "cover_rejected" in list(actions)


def test_an_accepted_cover_keeps_its_answers_and_a_pending_one_holds_the_review(app, world):
    with app.app_context():
        attached = _attach(world)
        assessment, _ = _load(world)
        assessment.status, assessment.submitted_at = AssessmentStatus.submitted, NOW
        db.session.commit()
        reviewer = db.session.get(User, world.reviewer_id)
        assert review.flags(assessment, TEMPLATE, review.current_score(assessment, TEMPLATE),
                            NOW.date()).pending_covers  # fmt: skip
        with pytest.raises(AssessmentError, match="certificate or check sheet"):
            review.complete(assessment, TEMPLATE, Decision.approved, "", reviewer, NOW)
        db.session.rollback()
        cover = db.session.get(Cover, attached.cover.id)
        assert covers.review(cover, True, "", reviewer, NOW) == 0
        db.session.commit()
        assert {a.value for a in _answers(world.assessment_id).values() if a.cover_id} == {"yes"}
        assert db.session.get(Cover, attached.cover.id).status == CoverStatus.accepted


def test_a_later_cover_takes_the_questions_an_earlier_one_answered(app, world):
    with app.app_context():
        first = _attach(world, "isms")
        second = _attach(world, "scs")
        db.session.commit()
        answers = _answers(world.assessment_id)
        scs = {q.id for q in TEMPLATE.questions if "scs" in q.covered_by} - {TYPED, TYPED_TOO}
        assert {qid for qid, a in answers.items() if a.cover_id == second.cover.id} == scs
        left = {qid for qid, a in answers.items() if a.cover_id == first.cover.id}
        assert left == {q.id for q in ISMS} - scs - {TYPED, TYPED_TOO}


def test_a_later_cover_takes_nothing_an_accepted_one_answered(app, world):
    """A reviewer's acceptance stands: in the standard pack every question an SCS result
    answers, the accepted ISMS certificate answered already, so the SCS result is refused (it
    would otherwise take those answers, and its rejection would clear them)."""
    with app.app_context():
        first = _attach(world, "isms")
        db.session.commit()
        reviewer = db.session.get(User, world.reviewer_id)
        covers.review(db.session.get(Cover, first.cover.id), True, "", reviewer, NOW)
        db.session.commit()
        accepted = {a.question_id for a in _answers(world.assessment_id).values() if a.cover_id}
        assert {q.id for q in TEMPLATE.questions if "scs" in q.covered_by} - {
            TYPED, TYPED_TOO, CARRIED} <= accepted  # fmt: skip
        with pytest.raises(covers.CoverError, match="already been answered"):
            _attach(world, "scs")
        db.session.rollback()
        answers = _answers(world.assessment_id)
        assert {qid for qid, a in answers.items() if a.cover_id == first.cover.id} == accepted
        assert all(answers[qid].value == "yes" for qid in accepted)


def test_a_rejected_cover_on_a_submitted_assessment_must_be_returned_first(app, world):
    with app.app_context():
        attached = _attach(world)
        assessment, _ = _load(world)
        assessment.status, assessment.submitted_at = AssessmentStatus.submitted, NOW
        db.session.commit()
        reviewer = db.session.get(User, world.reviewer_id)
        covers.review(db.session.get(Cover, attached.cover.id), False, "範囲外", reviewer, NOW)
        db.session.commit()
        assessment, _ = _load(world)
        with pytest.raises(AssessmentError, match="return the assessment for changes"):
            review.complete(assessment, TEMPLATE, Decision.approved, "", reviewer, NOW)
        db.session.rollback()
        assert db.session.get(Assessment, world.assessment_id).status == AssessmentStatus.submitted


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "soc2"}, "no question that this certificate"),
        ({"kind": "isms<script>"}, "no question that this certificate"),
        ({"stored_file": None}, "Choose the file"),
        ({"scope": "  "}, "scope"),
        ({"status": AssessmentStatus.submitted}, "can no longer be changed"),
        ({"status": AssessmentStatus.completed}, "can no longer be changed"),
    ],
)
def test_a_refused_cover_changes_nothing(app, world, change, message):
    with app.app_context():
        assessment, _ = _load(world)
        if "status" in change:
            assessment.status = change.pop("status")
            db.session.commit()
        before = {qid: (a.value, a.version) for qid, a in _answers(world.assessment_id).items()}
        folder = Path(current_app.config["UPLOAD_DIR"])
        kept = set(folder.iterdir())
        kind = change.pop("kind", "isms")
        with pytest.raises(covers.CoverError, match=message):
            _attach(world, kind, **change)
        db.session.rollback()  # as the request's unit of work does
        after = {qid: (a.value, a.version) for qid, a in _answers(world.assessment_id).items()}
        assert after == before
        assert db.session.scalar(sa.select(sa.func.count(Cover.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0
        assert set(folder.iterdir()) == kept  # the upload's bytes went with the rollback


def test_once_returned_a_cover_answers_only_the_questions_returned(app, world):
    reopened = next(q.id for q in ISMS if "jama" not in q.covered_by)  # not the check sheet's
    assert reopened not in (TYPED, TYPED_TOO, CARRIED)
    with app.app_context():
        assessment, _ = _load(world)
        assessment.status = AssessmentStatus.returned
        make_answer(assessment, reopened, None, reopened=True)
        db.session.commit()
        attached = _attach(world)
        db.session.commit()
        answers = _answers(world.assessment_id)
        assert attached.covered == 1 and answers[reopened].cover_id == attached.cover.id
        assert answers[CARRIED].cover_id is None  # not returned: not the supplier's to change
        # A cover that would answer nothing is refused rather than kept for nothing.
        with pytest.raises(covers.CoverError, match="already been answered"):
            _attach(world, "jama")
