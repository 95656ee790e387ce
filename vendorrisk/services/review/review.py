"""Review after submission: the score as it stands, the reviewer's flags, returning the
assessment for changes, and completing it (decision, stored scores, the supplier's new tier).

Clarifications are in clarifications.py, findings in findings.py, tiers in tiers.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext

from vendorrisk import clock
from vendorrisk.catalog import Template
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    AreaScore,
    Assessment,
    AssessmentStatus,
    Attestation,
    Cover,
    Decision,
    User,
    WebhookEvent,
)
from vendorrisk.scoring.answers import needs_evidence, visible_questions
from vendorrisk.scoring.scores import ScoreResult, area_scores, score
from vendorrisk.scoring.tiers import next_review
from vendorrisk.services import audit, webhooks
from vendorrisk.services.assessments.lifecycle import AssessmentError, states_of
from vendorrisk.services.register import proposals, subcontractors
from vendorrisk.services.review import clarifications, findings, tiers
from vendorrisk.services.webhooks import payloads


def values_of(assessment: Assessment) -> dict:
    return {a.question_id: a.value for a in assessment.answers}


def current_score(assessment: Assessment, template: Template) -> ScoreResult:
    """The stored score once completed, else computed from the answers as they are."""
    if assessment.score_detail:
        return ScoreResult.from_dict(assessment.score_detail)
    return score(template, values_of(assessment))


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The last completed assessment of the same supplier and template before this one."""
    return db.session.scalar(
        sa.select(Assessment)
        .where(
            Assessment.supplier_id == assessment.supplier_id,
            Assessment.template_id == assessment.template_id,
            Assessment.status == AssessmentStatus.completed,
            Assessment.id != assessment.id,
        )
        .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Flags:
    critical_failures: tuple[str, ...]
    missing_evidence: tuple[str, ...]
    expired_attestations: tuple[Attestation, ...]
    #: (question id, why) for each stated date already past or implausible.
    stated_dates: tuple[tuple[str, str], ...] = ()
    #: Certificates or check sheets given as answers, waiting to be accepted or rejected.
    pending_covers: tuple[Cover, ...] = ()

    @property
    def raised(self) -> bool:
        """Whether anything is flagged."""
        return bool(
            self.critical_failures
            or self.missing_evidence
            or self.expired_attestations
            or self.stated_dates
            or self.pending_covers
        )


def flags(assessment: Assessment, template: Template, result: ScoreResult, today: date) -> Flags:
    states = states_of(assessment)
    missing = tuple(
        q.id
        for q in template.questions
        if needs_evidence(q, states.get(q.id)) and not states[q.id].has_files
    )
    expired = tuple(a for a in assessment.supplier.attestations if not a.valid_on(today))
    stated = _stated_dates(template, states, today)
    covers = tuple(c for c in assessment.covers if c.is_pending)
    return Flags(result.critical_failures, missing, expired, stated, covers)


def _stated_dates(template: Template, states: dict, today: date) -> tuple[tuple[str, str], ...]:
    """Every date answer already past (an expiry) or implausible, with why."""
    found = []
    values = {qid: state.value for qid, state in states.items()}
    for question in visible_questions(template, values):
        state = states.get(question.id)
        if question.type != "date" or state is None or not (day := proposals.as_date(state.value)):
            continue
        field = proposals.STATED_DATES.get(question.id, "")
        if problem := proposals.stated_date_problem(field, day, today):
            found.append((question.id, problem))
    return tuple(found)


def return_for_changes(
    assessment: Assessment,
    template: Template,
    question_ids: list[str],
    note: str,
    reviewer: User,
    now: datetime,
) -> None:
    """Send it back: only the flagged questions open again; the contacts get new links."""
    clarifications.require_status(assessment, AssessmentStatus.submitted)
    if not question_ids:
        raise AssessmentError(gettext("Choose the questions to open again."))
    existing = {a.question_id: a for a in assessment.answers}
    for qid in question_ids:
        template.question(qid)
        answer = existing.get(qid)
        if answer is None:
            answer = Answer(question_id=qid, value=None, comment="", version=1)
            assessment.answers.append(answer)
        answer.reopened = True
    assessment.status = AssessmentStatus.returned
    assessment.returned_at = now
    assessment.review_note = note.strip()
    assessment.reviewer_id = reviewer.id
    db.session.flush()
    clarifications.send_new_links(assessment, template, now, kind="returned")


def complete(
    assessment: Assessment,
    template: Template,
    decision: Decision,
    note: str,
    reviewer: User,
    now: datetime,
) -> ScoreResult:
    """Decide, store the score with the template version, update the supplier's tier, and record
    the subcontractors its answers list (services/register/subcontractors.py)."""
    clarifications.require_status(assessment, AssessmentStatus.submitted)
    if decision != Decision.approved and not note.strip():
        raise AssessmentError(gettext("Give the conditions or the reasons for this decision."))
    if any(c.is_pending for c in assessment.covers):  # their answers count only once reviewed
        raise AssessmentError(
            gettext(
                "Accept or reject each certificate or check sheet given as answers before "
                "completing the review."
            )
        )
    if any(a.reopened and a.value is None and a.cover_id is None for a in assessment.answers):
        raise AssessmentError(  # a rejected cover's answers: the supplier must answer them
            gettext(
                "A rejected certificate or check sheet left questions unanswered: return the "
                "assessment for changes so that the supplier answers them."
            )
        )
    result = score(template, values_of(assessment))
    assessment.score = result.overall
    assessment.score_detail = result.to_dict()
    _store_area_scores(assessment, template, result)
    assessment.decision = decision
    assessment.review_note = note.strip()
    assessment.reviewer_id = reviewer.id
    assessment.status = AssessmentStatus.completed
    assessment.completed_at = now
    for clarification in assessment.clarifications:
        clarifications.close_clarification(clarification, now)
    supplier = assessment.supplier
    supplier.latest_score = result.overall
    supplier.latest_score_on = clock.today()
    rules = tiers.tier_rules()
    tiers.apply_tier_rules(supplier, rules, now)
    supplier.next_review_on = next_review(clock.today(), supplier.tier, rules)
    db.session.flush()
    subcontractors.record_reported(assessment, template, now)  # 再委託先 under the supplier
    findings.tell_result(assessment, template, now)  # 評価結果のご連絡
    webhooks.emit(WebhookEvent.assessment_completed, payloads.assessment(assessment, supplier), now)
    return result


def _store_area_scores(assessment: Assessment, template: Template, result: ScoreResult) -> None:
    """The per-directive and per-CSF-function scores the roll-up aggregates."""
    db.session.execute(sa.delete(AreaScore).where(AreaScore.assessment_id == assessment.id))
    db.session.add(
        AreaScore(
            assessment_id=assessment.id,
            supplier_id=assessment.supplier_id,
            **AreaScore.values_of(area_scores(template, result)),
        )
    )


def record(assessment: Assessment, action: str) -> None:
    audit.record(action, assessment)
