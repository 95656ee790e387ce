"""Clarifications (確認事項): a reviewer asks the supplier about one answer, the contacts reply
in the portal, the thread is closed on completion.

Asking and returning for changes both reopen the portal to the contacts with fresh links
(`send_new_links`) and need a submitted assessment (`require_status`).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from vendorrisk.catalog import Template
from vendorrisk.extensions import db
from vendorrisk.mail import messages
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Clarification,
    ClarificationMessage,
    Invitation,
    User,
)
from vendorrisk.services.assessments.lifecycle import AssessmentError, invite


def require_status(assessment: Assessment, *statuses: AssessmentStatus) -> None:
    """AssessmentError unless the assessment is in one of `statuses` (a reviewer's action)."""
    if assessment.status not in statuses:
        raise AssessmentError(
            gettext(
                "This cannot be done while the assessment is %(status)s.",
                status=_status_label(assessment.status),
            )
        )


def _status_label(status: AssessmentStatus) -> str:
    from vendorrisk.i18n.labels import label

    return label(status)


def send_new_links(assessment: Assessment, template: Template, now: datetime, kind: str) -> None:
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
    require_status(assessment, AssessmentStatus.submitted)
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
    send_new_links(assessment, template, now, kind="clarification")
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
        messages.clarification_answered(clarification, reviewer)


def close_clarification(clarification: Clarification, now: datetime) -> None:
    clarification.closed_at = clarification.closed_at or now


def awaiting_supplier(assessment: Assessment) -> list[Clarification]:
    return [c for c in assessment.clarifications if c.awaiting_supplier]
