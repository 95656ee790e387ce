"""Findings (指摘事項): suggested from the answers, raised by a reviewer, moved through their
states, answered with the supplier's plan, or accepted as a residual risk by a CISO."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext

from vendorrisk.catalog import Template
from vendorrisk.extensions import db
from vendorrisk.models import Assessment, Finding, FindingStatus, Severity, Supplier, User
from vendorrisk.scoring.scores import ScoreResult
from vendorrisk.services.assessments.lifecycle import AssessmentError
from vendorrisk.services.review.review import values_of


@dataclass(frozen=True)
class Suggestion:
    question_id: str
    severity: Severity
    reason: str  # "critical_no" or "partial"


def suggested_findings(
    assessment: Assessment, template: Template, result: ScoreResult
) -> list[Suggestion]:
    """A finding for each critical failure and each partial answer not already raised."""
    raised = set(
        db.session.scalars(
            sa.select(Finding.question_id).where(Finding.assessment_id == assessment.id)
        )
    )
    values = values_of(assessment)
    out = [
        Suggestion(qid, Severity.high, "critical_no")
        for qid in result.critical_failures
        if qid not in raised
    ]
    out += [
        Suggestion(q.id, Severity.medium, "partial")
        for q in template.questions
        if values.get(q.id) == "partial"
        and q.id not in raised
        and q.id not in result.critical_failures
    ]
    return out


def raise_finding(
    supplier: Supplier, fields: dict, assessment: Assessment | None = None
) -> Finding:
    finding = Finding(
        supplier_id=supplier.id, assessment_id=assessment.id if assessment else None, **fields
    )
    db.session.add(finding)
    db.session.flush()
    return finding


ALLOWED_MOVES = {
    FindingStatus.open: {FindingStatus.in_progress, FindingStatus.resolved},
    FindingStatus.in_progress: {FindingStatus.open, FindingStatus.resolved},
    FindingStatus.resolved: {FindingStatus.open},
    FindingStatus.risk_accepted: {FindingStatus.open},
}


def move_finding(finding: Finding, status: FindingStatus, now: datetime) -> None:
    if status not in ALLOWED_MOVES[finding.status]:
        raise AssessmentError(
            gettext(
                "A finding cannot go from %(a)s to %(b)s.",
                a=_finding_label(finding.status),
                b=_finding_label(status),
            )
        )
    finding.status = status
    finding.resolved_at = now if status == FindingStatus.resolved else None
    if status == FindingStatus.open:
        finding.accepted_by_id, finding.accepted_reason, finding.accepted_until = None, "", None


def _finding_label(status: FindingStatus) -> str:
    from vendorrisk.i18n.labels import label

    return label(status)


def accept_risk(finding: Finding, approver: User, reason: str, until: date, today: date) -> None:
    """Residual risk (残留リスク, Direction 4): a CISO's decision with a reason and an expiry."""
    if approver.role.value != "ciso":
        raise AssessmentError(gettext("Only a CISO can accept a risk."))
    if not finding.is_open:
        raise AssessmentError(gettext("Only an open finding can be accepted as a risk."))
    if not reason.strip():
        raise AssessmentError(gettext("Give the reason for accepting the risk."))
    if until <= today:
        raise AssessmentError(gettext("The acceptance must expire in the future."))
    finding.status = FindingStatus.risk_accepted
    finding.accepted_by_id, finding.accepted_reason, finding.accepted_until = (
        approver.id,
        reason.strip(),
        until,
    )


def supplier_plan(finding: Finding, plan: str, now: datetime) -> None:
    if not finding.visible_to_supplier or not finding.is_open:
        raise AssessmentError(gettext("This finding cannot be answered."))
    finding.supplier_plan = plan.strip()
    finding.supplier_plan_at = now
    if finding.status == FindingStatus.open:
        finding.status = FindingStatus.in_progress


def open_findings_for_portal(assessment: Assessment) -> list[Finding]:
    return list(
        db.session.scalars(
            sa.select(Finding)
            .where(
                Finding.assessment_id == assessment.id,
                Finding.visible_to_supplier,
                Finding.is_open,
            )
            .order_by(Finding.id)
        )
    )
