"""Review after submission: scores, clarifications, returning, completing, findings, tiers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext

from vendorrisk import clock
from vendorrisk.catalog import Template
from vendorrisk.extensions import db
from vendorrisk.mail import outbox as mail
from vendorrisk.models import (
    Answer,
    AreaScore,
    Assessment,
    AssessmentStatus,
    Attestation,
    Clarification,
    ClarificationMessage,
    Decision,
    Finding,
    FindingStatus,
    Invitation,
    Setting,
    Severity,
    Supplier,
    TierChange,
    User,
)
from vendorrisk.models.setting import save as save_setting
from vendorrisk.scoring import scores as scoring
from vendorrisk.services import audit
from vendorrisk.services.assessments.answers import needs_evidence
from vendorrisk.services.assessments.lifecycle import (
    N_,
    AssessmentError,
    invite,
    states_of,
    translated,
)

TIER_RULES_KEY = "tier_rules"


# -- settings -------------------------------------------------------------------------------


def tier_rules() -> scoring.TierRules:
    row = db.session.get(Setting, TIER_RULES_KEY)
    return scoring.TierRules.from_dict(row.value) if row else scoring.DEFAULT_RULES


def save_tier_rules(rules: scoring.TierRules, seen: str | None = None) -> None:
    """Store the rules; SettingConflict if `seen` is no longer the stored value's."""
    save_setting(TIER_RULES_KEY, rules.to_dict(), seen)


# -- scores and flags -----------------------------------------------------------------------


def values_of(assessment: Assessment) -> dict:
    return {a.question_id: a.value for a in assessment.answers}


def current_score(assessment: Assessment, template: Template) -> scoring.ScoreResult:
    """The stored score once completed, else computed from the answers as they are."""
    if assessment.score_detail:
        return scoring.ScoreResult.from_dict(assessment.score_detail)
    return scoring.score(template, values_of(assessment))


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


def flags(
    assessment: Assessment, template: Template, result: scoring.ScoreResult, today: date
) -> Flags:
    states = states_of(assessment)
    missing = tuple(
        q.id
        for q in template.questions
        if needs_evidence(q, states.get(q.id)) and not states[q.id].has_files
    )
    expired = tuple(a for a in assessment.supplier.attestations if a.is_expired(today))
    return Flags(result.critical_failures, missing, expired)


@dataclass(frozen=True)
class Suggestion:
    question_id: str
    severity: Severity
    reason: str  # "critical_no" or "partial"


def suggested_findings(
    assessment: Assessment, template: Template, result: scoring.ScoreResult
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


# -- clarifications ---------------------------------------------------------------------------


def _require(assessment: Assessment, *statuses: AssessmentStatus) -> None:
    if assessment.status not in statuses:
        raise AssessmentError(
            gettext(
                "This cannot be done while the assessment is %(status)s.",
                status=_status_label(assessment.status),
            )
        )


def _status_label(status: AssessmentStatus) -> str:
    from vendorrisk.i18n import label

    return label(status)


def _new_links(assessment: Assessment, template: Template, now: datetime, kind: str) -> None:
    """Mail each contact a fresh link (the previous one stops working)."""
    for invitation in [i for i in assessment.invitations if i.revoked_at is None]:
        if invitation.contact is None:
            continue
        invitation.revoked_at = now
        invite(assessment, template, invitation.contact, invitation.locale, now, kind=kind)


def ask(
    assessment: Assessment,
    template: Template,
    question_id: str,
    body: str,
    reviewer: User,
    now: datetime,
) -> Clarification:
    """Ask the supplier about one answer; the contacts get a link to reply in the portal."""
    _require(assessment, AssessmentStatus.submitted)
    template.question(question_id)  # KeyError for an unknown question
    clarification = next(
        (
            c
            for c in assessment.clarifications
            if c.question_id == question_id and c.closed_at is None
        ),
        None,
    )
    if clarification is None:
        clarification = Clarification(question_id=question_id, created_at=now)
        assessment.clarifications.append(clarification)
    clarification.messages.append(
        ClarificationMessage(
            author_type="reviewer", author_label=reviewer.email, body=body.strip(), created_at=now
        )
    )
    assessment.reviewer_id = assessment.reviewer_id or reviewer.id
    db.session.flush()
    _new_links(assessment, template, now, kind="clarification")
    return clarification


def reply(clarification: Clarification, invitation: Invitation, body: str, now: datetime) -> None:
    """The supplier's answer in the thread; the reviewer is told."""
    if clarification.closed_at is not None:
        raise AssessmentError(gettext("This question has been closed."))
    clarification.messages.append(
        ClarificationMessage(
            author_type="contact", author_label=invitation.email, body=body.strip(), created_at=now
        )
    )
    db.session.flush()
    reviewer = clarification.assessment.reviewer
    if reviewer is not None:
        locale = reviewer.locale or "ja"
        mail.send(
            "clarification_reply",
            locale=locale,
            recipient=reviewer.email,
            recipient_name=reviewer.name,
            kind="clarification_reply",
            subject=translated(
                locale,
                N_("%(supplier)s answered your question"),
                supplier=clarification.assessment.supplier.name_for(locale),
            ),
            dedupe_key=f"clarification-reply:{clarification.messages[-1].id}",
            assessment_id=clarification.assessment_id,
            assessment=clarification.assessment,
            clarification=clarification,
            supplier=clarification.assessment.supplier,
        )


def close_clarification(clarification: Clarification, now: datetime) -> None:
    clarification.closed_at = clarification.closed_at or now


def awaiting_supplier(assessment: Assessment) -> list[Clarification]:
    return [c for c in assessment.clarifications if c.awaiting_supplier]


# -- return and complete ----------------------------------------------------------------------


def return_for_changes(
    assessment: Assessment,
    template: Template,
    question_ids: list[str],
    note: str,
    reviewer: User,
    now: datetime,
) -> None:
    """Send it back: only the flagged questions open again; the contacts get new links."""
    _require(assessment, AssessmentStatus.submitted)
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
    _new_links(assessment, template, now, kind="returned")


def complete(
    assessment: Assessment,
    template: Template,
    decision: Decision,
    note: str,
    reviewer: User,
    now: datetime,
) -> scoring.ScoreResult:
    """Decide, store the score with the template version, and update the supplier's tier."""
    _require(assessment, AssessmentStatus.submitted)
    if decision != Decision.approved and not note.strip():
        raise AssessmentError(gettext("Give the conditions or the reasons for this decision."))
    result = scoring.score(template, values_of(assessment))
    assessment.score = result.overall
    assessment.score_detail = result.to_dict()
    _store_area_scores(assessment, template, result)
    assessment.decision = decision
    assessment.review_note = note.strip()
    assessment.reviewer_id = reviewer.id
    assessment.status = AssessmentStatus.completed
    assessment.completed_at = now
    for clarification in assessment.clarifications:
        close_clarification(clarification, now)
    supplier = assessment.supplier
    supplier.latest_score = result.overall
    supplier.latest_score_on = clock.today()
    rules = tier_rules()
    apply_tier_rules(supplier, rules, now)
    supplier.next_review_on = scoring.next_review(clock.today(), supplier.tier, rules)
    db.session.flush()
    return result


def _store_area_scores(
    assessment: Assessment, template: Template, result: scoring.ScoreResult
) -> None:
    """The per-directive and per-CSF-function scores the roll-up aggregates."""
    db.session.execute(sa.delete(AreaScore).where(AreaScore.assessment_id == assessment.id))
    db.session.add(
        AreaScore(
            assessment_id=assessment.id,
            supplier_id=assessment.supplier_id,
            **AreaScore.values_of(scoring.area_scores(template, result)),
        )
    )


# -- tiers --------------------------------------------------------------------------------------


def profile_of(supplier: Supplier) -> scoring.Profile:
    return scoring.Profile(
        shares_personal_info=supplier.shares_personal_info,
        shares_confidential_info=supplier.shares_confidential_info,
        has_network_access=supplier.has_network_access,
        has_admin_access=supplier.has_admin_access,
        max_outage=scoring.Outage(supplier.max_outage),
        replaceability=scoring.Replaceability(supplier.replaceability),
        criticality=getattr(supplier.criticality, "value", supplier.criticality),
    )


def held_level(supplier: Supplier, today: date) -> str:
    """The highest of a valid SCS evaluation and a SECURITY ACTION declaration."""
    held = "none"
    for a in supplier.attestations:
        if a.kind.value == "security_action" and a.level and not a.is_expired(today):
            held = max(held, a.level.value, key=scoring.HELD_ORDER.index)
    scs_valid = supplier.scs_expires_on is None or supplier.scs_expires_on >= today
    if supplier.scs_level and scs_valid:
        held = max(held, supplier.scs_level, key=scoring.HELD_ORDER.index)
    return held


def _record_tier(
    supplier: Supplier, tier: str, source: str, reason: str, user: User | None, now: datetime
) -> None:
    if supplier.tier == tier and supplier.tier_source == source:
        return
    db.session.add(
        TierChange(
            supplier_id=supplier.id,
            previous=supplier.tier,
            tier=tier,
            source=source,
            reason=reason,
            changed_at=now,
            changed_by_id=user.id if user else None,
        )
    )
    supplier.tier, supplier.tier_source = tier, source


def apply_tier_rules(
    supplier: Supplier, rules: scoring.TierRules, now: datetime
) -> scoring.TierDecision:
    """Recompute the tier by the rules; a person's override stays until a person lifts it."""
    decision = scoring.decide_tier(
        scoring.inherent_risk(profile_of(supplier), rules), supplier.latest_score, rules
    )
    if supplier.tier_source != "manual":
        _record_tier(supplier, decision.tier, "rule", ", ".join(decision.reasons), None, now)
    return decision


def override_tier(supplier: Supplier, tier: str, reason: str, user: User, now: datetime) -> None:
    if tier not in scoring.LEVELS:
        raise AssessmentError(gettext("Choose a tier."))
    if not reason.strip():
        raise AssessmentError(gettext("Give the reason for setting the tier by hand."))
    _record_tier(supplier, tier, "manual", reason.strip(), user, now)


def clear_override(supplier: Supplier, user: User, now: datetime) -> None:
    """Hand the tier back to the rules."""
    rules = tier_rules()
    decision = scoring.decide_tier(
        scoring.inherent_risk(profile_of(supplier), rules), supplier.latest_score, rules
    )
    _record_tier(supplier, decision.tier, "rule", ", ".join(decision.reasons), user, now)


@dataclass(frozen=True)
class RiskView:
    inherent: scoring.InherentRisk
    required: str
    required_reasons: tuple[str, ...]
    held: str
    gap: int
    rule_decision: scoring.TierDecision


def risk_view(supplier: Supplier, today: date) -> RiskView:
    """Everything the supplier page shows about its risk, from the profile and the rules."""
    rules = tier_rules()
    profile = profile_of(supplier)
    inherent = scoring.inherent_risk(profile, rules)
    required, reasons = scoring.required_level(profile)
    held = held_level(supplier, today)
    return RiskView(
        inherent,
        required,
        reasons,
        held,
        scoring.level_gap(required, held),
        scoring.decide_tier(inherent, supplier.latest_score, rules),
    )


def tier_history(supplier_id: int) -> list[TierChange]:
    return list(
        db.session.scalars(
            sa.select(TierChange)
            .where(TierChange.supplier_id == supplier_id)
            .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        )
    )


# -- findings -------------------------------------------------------------------------------


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
    from vendorrisk.i18n import label

    return label(status)


def accept_risk(finding: Finding, approver: User, reason: str, until: date, today: date) -> None:
    """Residual risk (残留リスク, Directive 4): a CISO's decision with a reason and an expiry."""
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
                Finding.status.in_([FindingStatus.open, FindingStatus.in_progress]),
            )
            .order_by(Finding.id)
        )
    )


def record(assessment: Assessment, action: str) -> None:
    audit.record(action, assessment)
