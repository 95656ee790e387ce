"""The expire-links job: open assessments whose every link has run out are closed as expired."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages
from vendorrisk.models import OPEN_STATUSES, Assessment, AssessmentStatus, Invitation, Supplier
from vendorrisk.services.assessments.lifecycle import invitation_expiry
from vendorrisk.services.periodic.planning import Planned, carry_out, local_today


def links_over(assessment: Assessment, now: datetime) -> bool:
    """Every link has run out, and so has the assessment's own time (due date plus grace)."""
    links = assessment.invitations
    ended = bool(links) and all(i.expires_at <= now for i in links)
    return ended and invitation_expiry(assessment.due_on) <= now


def expire_links(now: datetime) -> JobResult:
    """Close open assessments whose every link has run out; the owner is told."""
    result = JobResult()
    alive = sa.exists().where(
        Invitation.assessment_id == Assessment.id, Invitation.expires_at > now
    )
    has_links = sa.exists().where(Invitation.assessment_id == Assessment.id)
    candidates = db.session.scalars(
        sa.select(Assessment)
        .where(Assessment.status.in_(OPEN_STATUSES), has_links, ~alive)
        .order_by(Assessment.id)
        .options(
            joinedload(Assessment.supplier).joinedload(Supplier.owner),
            selectinload(Assessment.invitations),
        )
    )
    planned = []
    for assessment in candidates:
        if not links_over(assessment, now):
            continue  # a link ended early, but the assessment's own time has not: reminders renew
        assessment.status = AssessmentStatus.expired
        result.done += 1
        owner = assessment.supplier.owner if assessment.supplier else None
        if owner is not None and owner.active:
            template = catalog().get(assessment.template_id, assessment.template_version)
            planned.append(
                Planned(
                    messages.assessment_expired_key(assessment, owner),
                    lambda a=assessment, t=template, o=owner: messages.assessment_expired(
                        a, t, o, local_today(now)
                    ),
                )
            )
    db.session.flush()
    carry_out(planned, JobResult())
    return result
