"""The reminders job: contacts of open assessments are reminded before, on and after the due
date; the owner is told of an overdue one, and the CISO users once it is overdue long enough.

Every reminder carries a new link in the same letter, so nobody has to dig for an old mail: the
contact's earlier links stop working (as a resend does), and the letter says so. An overdue
reminder asks, softly, for the answers by a new date: the next overdue reminder's day, never past
the day the links stop working.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from vendorrisk.catalog import Template, catalog
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages, questionnaire
from vendorrisk.models import OPEN_STATUSES, Assessment, Role, Supplier
from vendorrisk.scoring.stages import Stage, escalation_due, reminder_stage
from vendorrisk.services.assessments.lifecycle import invitation_expiry
from vendorrisk.services.periodic.expire_links import links_over
from vendorrisk.services.periodic.links import LinkBatch
from vendorrisk.services.periodic.planning import Planned, carry_out, local_day, local_today
from vendorrisk.services.periodic.rows import (
    AssessmentRow,
    LinkRow,
    UserRow,
    links_of,
    supplier_columns,
    take_supplier,
    users_with_role,
    with_owner,
)
from vendorrisk.services.periodic.settings import ScheduleSettings, schedule_settings


def _open_assessments(until: date) -> list[AssessmentRow]:
    """Open assessments due by `until`, each with its supplier, owner and links (two queries)."""
    due = sa.and_(
        Assessment.status.in_(OPEN_STATUSES),
        Assessment.supplier_id.is_not(None),
        Assessment.due_on <= until,
    )
    query = with_owner(
        sa.select(*AssessmentRow.columns(), *supplier_columns())
        .join(Supplier, Supplier.id == Assessment.supplier_id)
        .where(due)
        .order_by(Assessment.id)
    )
    suppliers: dict = {}
    found = {
        row.id: AssessmentRow.take(row, supplier=take_supplier(row, suppliers))
        for row in db.session.execute(query)
    }
    if found:
        links_of(found, sa.select(Assessment.id).where(due))
    return list(found.values())


def _opened_on(assessment: AssessmentRow) -> date:
    """The day the supplier last got its links: sent, or returned for changes."""
    moments = [m for m in (assessment.sent_at, assessment.returned_at) if m is not None]
    return local_day(max(moments)) if moments else date.min


def reminders(now: datetime) -> JobResult:
    """Remind the contacts of open assessments before, on and after the due date; escalate."""
    settings, today, result = schedule_settings(), local_today(now), JobResult()
    horizon = today + timedelta(days=max(settings.reminder_days_before, default=0))
    planned: list[Planned] = []
    cisos: list[UserRow] | None = None
    links = LinkBatch(now)
    for assessment in _open_assessments(horizon):
        if links_over(assessment.invitations, assessment.due_on, now):
            continue  # expire_links closes it
        template = catalog().get(assessment.template_id, assessment.template_version)
        opened_on = _opened_on(assessment)
        stage = reminder_stage(assessment.due_on, opened_on, today, settings)
        if stage is not None:
            soft_date = reply_by(assessment, today, settings)
            planned += _reminder_mails(assessment, template, stage, now, soft_date, links, result)
        if escalation_due(assessment.due_on, opened_on, today, settings):
            cisos = users_with_role(Role.ciso) if cisos is None else cisos
            if not cisos:
                result.skip(f"assessment #{assessment.id}: no active CISO to escalate to")
            planned += _escalation_mails(assessment, template, cisos, today)
    carry_out(planned, result)
    links.write()
    return result


def _reminder_mails(
    assessment: AssessmentRow,
    template: Template | None,
    stage: Stage,
    now: datetime,
    reply_by: date,
    links: LinkBatch,
    result: JobResult,
) -> list[Planned]:
    """One reminder per contact (a contact with two links gets one), and the owner's.

    A link whose contact was deleted is not reminded: staff removed that person, and a new link
    is only ever issued to a contact (as a resend is)."""
    planned: list[Planned] = []
    seen: set[str] = set()
    for invitation in assessment.invitations:
        contact = invitation.contact
        if invitation.revoked_at is not None or contact is None or contact.undeliverable_at:
            continue
        key = questionnaire.reminder_key(invitation, stage)
        if key in seen:
            continue
        seen.add(key)
        planned.append(
            Planned(key, lambda inv=invitation: _remind(inv, template, stage, now, reply_by, links))
        )
    if not planned:
        result.skip(f"assessment #{assessment.id}: no contact with a working link to remind")
    owner = assessment.supplier.owner
    if stage.kind == "overdue" and owner is not None and owner.active:
        planned.append(
            Planned(
                messages.overdue_to_owner_key(assessment, stage, owner),
                lambda: messages.overdue_to_owner(
                    assessment,
                    template,
                    owner,
                    stage,
                    local_today(now),
                    _contacts_reminded(assessment, now),
                ),
            )
        )
    return planned


def reply_by(
    assessment: Assessment | AssessmentRow, today: date, settings: ScheduleSettings
) -> date:
    """The soft new date given once the due date is past (the overdue reminder, a colleague
    added late): the next overdue reminder's day, or the last day the links work if earlier."""
    last_day = local_day(invitation_expiry(assessment.due_on)) - timedelta(days=1)
    return max(today, min(today + timedelta(days=settings.overdue_every_days), last_day))


def _remind(
    invitation: LinkRow,
    template: Template | None,
    stage: Stage,
    now: datetime,
    reply_by: date,
    links: LinkBatch,
):
    """The reminder with a new link; the contact's earlier links stop working."""
    assessment, contact = invitation.assessment, invitation.contact
    if invitation_expiry(assessment.due_on) <= now:
        return None  # no link could work any more: expire_links closes the assessment
    fresh, link = links.invitation(assessment, contact, invitation.locale, assessment.due_on)
    return questionnaire.reminder(fresh, link, template, stage, reply_by)


def _contacts_reminded(assessment: AssessmentRow, now: datetime) -> list[str]:
    return sorted(
        {
            i.email
            for i in assessment.invitations
            if i.revoked_at is None
            and i.expires_at > now
            and not (i.contact and i.contact.undeliverable_at)
        }
    )


def _escalation_mails(
    assessment: AssessmentRow, template: Template | None, cisos: list[UserRow], today: date
) -> list[Planned]:
    return [
        Planned(
            messages.escalation_key(assessment, user),
            lambda user=user: messages.escalation(assessment, template, user, today),
        )
        for user in cisos
    ]
