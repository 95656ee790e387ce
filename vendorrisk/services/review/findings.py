"""Findings (指摘事項): suggested from the answers, raised by a reviewer, moved through their
states, answered with the supplier's plan, or accepted as a residual risk by a CISO.

The supplier hears of them: the result of the review lists them with a link to answer each
(`tell_result`), and a finding resolved or accepted is told to the assessment's contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext

from vendorrisk import clock
from vendorrisk.catalog import Template, catalog
from vendorrisk.extensions import db
from vendorrisk.mail import follow_up, outbox
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Contact,
    Finding,
    FindingStatus,
    Invitation,
    OutboxMessage,
    Severity,
    Supplier,
    User,
    WebhookEvent,
)
from vendorrisk.scoring.scores import ScoreResult
from vendorrisk.services import webhooks
from vendorrisk.services.assessments.lifecycle import (
    AssessmentError,
    invitation_expiry,
    portal_link,
)
from vendorrisk.services.webhooks import payloads

#: A link to answer findings lives at least this long (findings without a due date, or late).
LINK_DAYS = 30


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
    values = {a.question_id: a.value for a in assessment.answers}
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
    supplier: Supplier,
    fields: dict,
    assessment: Assessment | None = None,
    now: datetime | None = None,
) -> Finding:
    """Record a finding (its webhook event with it)."""
    finding = Finding(
        supplier_id=supplier.id, assessment_id=assessment.id if assessment else None, **fields
    )
    db.session.add(finding)
    db.session.flush()
    data = payloads.finding(finding, supplier)
    webhooks.emit(WebhookEvent.finding_raised, data, now or clock.now())
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
    if status == FindingStatus.resolved:
        _tell_contacts(finding, follow_up.finding_resolved)


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
    _tell_contacts(finding, follow_up.finding_accepted)


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


# Telling the supplier


def contacts_to_tell(assessment: Assessment) -> list[Invitation]:
    """Each contact sent a link to the assessment whose address works, by their latest link
    (its language and address are the ones the contact was written to)."""
    latest: dict[int, Invitation] = {}
    for invitation in assessment.invitations:
        contact = invitation.contact
        if contact is None or contact.undeliverable_at is not None:
            continue
        latest[contact.id] = invitation  # invitations are ordered by id
    return list(latest.values())


def link_until(findings: list[Finding], today: date) -> date:
    """The last day a link to answer `findings` should work for: their latest due date, and
    at least LINK_DAYS from today."""
    days = [f.due_on for f in findings if f.due_on] + [today + timedelta(days=LINK_DAYS)]
    return max(days)


def new_link(
    assessment: Assessment, contact: Contact, locale: str, now: datetime, until: date
) -> tuple[Invitation, str]:
    """A contact's own new link to the assessment, valid through `until` (plus the grace
    period), carried by the caller's letter; the contact's earlier links to it stop working,
    as a resend's do, and the new one lives at least as long as they would have."""
    expires_at = invitation_expiry(until)
    for old in assessment.invitations:
        if old.contact_id == contact.id and old.revoked_at is None:
            old.revoked_at = now
            expires_at = max(expires_at, old.expires_at)
    invitation = Invitation(
        assessment=assessment,
        contact=contact,
        email=contact.email,
        locale=locale,
        created_at=now,
        expires_at=expires_at,
    )
    token = invitation.issue_token()
    db.session.add(invitation)
    if not outbox.batching():  # in a job's batch, written with its mail in one flush
        db.session.flush()
    return invitation, portal_link(token)


def tell_result(assessment: Assessment, template: Template | None, now: datetime) -> int:
    """Mail each contact the completed review's result with the findings shown to the
    supplier; while one awaits their plan, with a fresh link to answer (the portal opens on it).
    Returns how many letters were queued."""
    findings = visible_findings(assessment)
    waiting = [f for f in findings if f.is_open]
    until = link_until(waiting, clock.local_day(now))
    contacts = contacts_to_tell(assessment)
    keys = {i.contact_id: follow_up.result_key(assessment, i.contact) for i in contacts}
    told = set(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys.values()))
        )
    )
    sent = 0
    for invitation in contacts:
        if keys[invitation.contact_id] in told:
            continue  # told once already: their links stay as they are
        link = None
        if waiting:
            invitation, link = new_link(
                assessment, invitation.contact, invitation.locale, now, until
            )
        if follow_up.result(invitation, assessment, template, findings, link) is not None:
            sent += 1
    return sent


def visible_findings(assessment: Assessment) -> list[Finding]:
    """The findings of the assessment shown to the supplier, open or not, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Finding)
            .where(Finding.assessment_id == assessment.id, Finding.visible_to_supplier)
            .order_by(Finding.id)
        )
    )


def _tell_contacts(finding: Finding, letter) -> None:
    """A short letter about `finding` to its assessment's contacts, once the supplier has had
    the result (before that, they never heard of it)."""
    assessment = finding.assessment
    if not finding.visible_to_supplier or assessment is None:
        return
    if assessment.status != AssessmentStatus.completed:
        return
    db.session.flush()
    template = catalog().get(assessment.template_id, assessment.template_version)
    for invitation in contacts_to_tell(assessment):
        letter(invitation, finding, template)
