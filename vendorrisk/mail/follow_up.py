"""The letters that follow a review (評価後のご連絡): the result, reminders of a finding's
remediation due date, a finding resolved or its risk accepted, and a colleague added as a contact.

Each function owns its letter's subject and dedupe key and writes it with `letter.send`
(templates ``mail/supplier/<name>.<locale>.txt``); the services decide who gets it and issue the
links. A function returns the queued row, or None when its dedupe key was queued before.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from vendorrisk.i18n import long_date
from vendorrisk.i18n.later import N_, translated
from vendorrisk.mail import letter
from vendorrisk.models import AssessmentStatus

if TYPE_CHECKING:
    from vendorrisk.catalog import Template
    from vendorrisk.models import Assessment, Contact, Finding, Invitation, OutboxMessage

#: A finding's title in a subject is cut to this many characters.
SUBJECT_TITLE = 40


def _short(text: str) -> str:
    return text if len(text) <= SUBJECT_TITLE else text[: SUBJECT_TITLE - 1] + "…"


def _earliest_due(findings: list[Finding]) -> date | None:
    return min((f.due_on for f in findings if f.due_on), default=None)


# The result of a review (評価結果のご連絡)


def result_key(assessment: Assessment, contact: Contact) -> str:
    return f"result:{assessment.id}:c{contact.id}"


def result(
    to: Invitation,
    assessment: Assessment,
    template: Template | None,
    findings: list[Finding],
    link: str | None,
) -> OutboxMessage | None:
    """The decision in words the supplier can act on, the findings that concern them and, while
    one awaits their plan, a link to answer each (once per assessment and contact). The subject
    asks for remediation by the earliest due date of the findings still open."""
    locale, due = to.locale, _earliest_due([f for f in findings if f.is_open])
    if due:
        subject = translated(
            locale,
            N_("Security assessment results and request for remediation (by %(date)s)"),
            date=long_date(due, locale),
        )
    else:
        subject = translated(locale, N_("Security assessment results"))
    return letter.send(
        "result",
        to=to,
        supplier=assessment.supplier,
        subject=subject,
        kind="result",
        dedupe_key=result_key(assessment, to.contact),
        assessment_id=assessment.id,
        assessment=assessment,
        title=letter.title(template, assessment, locale),
        decision=assessment.decision.value if assessment.decision else "",
        note=assessment.review_note,
        findings=findings,
        link=link,
    )


# Reminders of a finding's remediation due date (是正期限のご案内)


def finding_reminder_key(
    assessment: Assessment, due_on: date, kind: str, days: int, contact: Contact
) -> str:
    """One reminder per assessment, due date, stage and contact (findings due together share
    it)."""
    return f"finding-reminder:{assessment.id}:{due_on}:{kind}:{days}:c{contact.id}"


#: The subject of a finding reminder, before and after the due date.
FINDING_REMINDER_SUBJECTS = {
    "before": N_("Reminder: remediation due on %(date)s"),
    "after": N_("Please let us know where the remediation stands (by %(date)s)"),
}


def finding_reminder(
    to: Invitation,
    assessment: Assessment,
    template: Template | None,
    findings: list[Finding],
    stage: tuple[str, int],
    due_on: date,
    link: str,
    answer_by: date,
) -> OutboxMessage | None:
    """Remind the contact of findings due on `due_on`, with a fresh link; after the date, ask
    for where things stand by `answer_by` (a soft new date)."""
    locale, (kind, days) = to.locale, stage
    shown = due_on if kind == "before" else answer_by
    return letter.send(
        "finding_reminder",
        to=to,
        supplier=assessment.supplier,
        subject=translated(locale, FINDING_REMINDER_SUBJECTS[kind], date=long_date(shown, locale)),
        kind="finding_reminder",
        dedupe_key=finding_reminder_key(assessment, due_on, kind, days, to.contact),
        assessment_id=assessment.id,
        assessment=assessment,
        title=letter.title(template, assessment, locale),
        findings=findings,
        stage=kind,
        due_on=due_on,
        answer_by=answer_by,
        link=link,
    )


# A finding closed by staff: resolved, or its risk accepted


def finding_resolved_key(finding: Finding, contact: Contact) -> str:
    """Once per resolution (a finding opened again and resolved again is told again)."""
    moment = finding.resolved_at.strftime("%Y%m%dT%H%M%S") if finding.resolved_at else "-"
    return f"finding-resolved:{finding.id}:{moment}:c{contact.id}"


def finding_resolved(
    to: Invitation, finding: Finding, template: Template | None
) -> OutboxMessage | None:
    """Thank the contact: the finding is closed as resolved."""
    return _finding_letter(
        "finding_resolved",
        N_("Finding closed as resolved: %(title)s"),
        finding_resolved_key(finding, to.contact),
        to,
        finding,
        template,
    )


def finding_accepted_key(finding: Finding, contact: Contact) -> str:
    return f"finding-accepted:{finding.id}:{finding.accepted_until}:c{contact.id}"


def finding_accepted(
    to: Invitation, finding: Finding, template: Template | None
) -> OutboxMessage | None:
    """Tell the contact no further action is asked for now: we accepted the residual risk
    until a date, when we will look at it again (our reason stays internal)."""
    return _finding_letter(
        "finding_accepted",
        N_("About a finding: no further action needed for now (%(title)s)"),
        finding_accepted_key(finding, to.contact),
        to,
        finding,
        template,
    )


def _finding_letter(
    name: str,
    subject: str,
    key: str,
    to: Invitation,
    finding: Finding,
    template: Template | None,
) -> OutboxMessage | None:
    assessment, locale = finding.assessment, to.locale
    return letter.send(
        name,
        to=to,
        supplier=assessment.supplier,
        subject=translated(locale, subject, title=_short(finding.title)),
        kind=name,
        dedupe_key=key,
        assessment_id=assessment.id,
        assessment=assessment,
        title=letter.title(template, assessment, locale),
        finding=finding,
    )


# A colleague added from the portal (担当者の追加)


def delegated_key(invitation: Invitation) -> str:
    return f"delegated:{invitation.id}"


#: The subject of the letter to a colleague added from the portal, by what they are asked for.
DELEGATED_SUBJECTS = {
    "answers": N_("You have been added as a contact for our security questionnaire (due %(date)s)"),
    "clarification": N_(
        "You have been added as a contact: our question about your answers to the security"
        " questionnaire"
    ),
    "findings": N_("You have been added as a contact for our security assessment findings"),
}


def delegated_purpose(assessment: Assessment) -> str:
    """What a colleague added now is asked for: the answers while the questionnaire is open,
    a reply while a reviewer's question awaits the supplier, else the remediation plans."""
    if assessment.is_open:
        return "answers"
    waiting = any(c.awaiting_supplier for c in assessment.clarifications)
    if assessment.status == AssessmentStatus.submitted and waiting:
        return "clarification"
    return "findings"


def delegated(
    to: Invitation,
    link: str,
    by: Contact | None,
    template: Template | None,
    findings: list[Finding],
    reply_by: date | None = None,
) -> OutboxMessage | None:
    """Tell the colleague who added them and what is asked, with their own link (once per
    link): while the questionnaire is open, the answers by the due date (or by the soft new
    date `reply_by` once that is past); while a reviewer's question awaits the supplier, a
    reply to it; after the review, the remediation plans of `findings`."""
    assessment, locale = to.assessment, to.locale
    purpose = delegated_purpose(assessment)
    findings = findings if purpose == "findings" else []
    due = (reply_by or assessment.due_on) if purpose == "answers" else _earliest_due(findings)
    return letter.send(
        "delegated",
        to=to,
        supplier=assessment.supplier,
        subject=translated(locale, DELEGATED_SUBJECTS[purpose], date=long_date(due, locale)),
        kind="delegated",
        dedupe_key=delegated_key(to),
        assessment_id=assessment.id,
        assessment=assessment,
        title=letter.title(template, assessment, locale),
        by=by,
        purpose=purpose,
        reply_by=reply_by if purpose == "answers" else None,
        findings=findings,
        link=link,
    )
