"""The expire-links job: open assessments whose every link has run out are closed as expired."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages
from vendorrisk.models import OPEN_STATUSES, Assessment, AssessmentStatus, Invitation, Supplier
from vendorrisk.services import audit
from vendorrisk.services.assessments.lifecycle import invitation_expiry
from vendorrisk.services.periodic.planning import Planned, carry_out, local_today
from vendorrisk.services.periodic.rows import (
    AssessmentRow,
    supplier_columns,
    take_supplier,
    with_owner,
)


def links_over(links: Iterable, due_on, now: datetime) -> bool:
    """Every link has run out, and so has the assessment's own time (due date plus grace)."""
    links = list(links)
    ended = bool(links) and all(i.expires_at <= now for i in links)
    return ended and invitation_expiry(due_on) <= now


def _candidates(now: datetime) -> list[AssessmentRow]:
    """Open assessments with links, none of which works any more (one query)."""
    alive = sa.exists().where(
        Invitation.assessment_id == Assessment.id, Invitation.expires_at > now
    )
    has_links = sa.exists().where(Invitation.assessment_id == Assessment.id)
    query = with_owner(
        sa.select(*AssessmentRow.columns(), *supplier_columns())
        .join(Supplier, Supplier.id == Assessment.supplier_id)
        .where(Assessment.status.in_(OPEN_STATUSES), has_links, ~alive)
        .order_by(Assessment.id)
    )
    suppliers: dict = {}
    return [
        AssessmentRow.take(row, supplier=take_supplier(row, suppliers))
        for row in db.session.execute(query)
    ]


def expire_links(now: datetime) -> JobResult:
    """Close open assessments whose every link has run out; the owner is told."""
    result, today = JobResult(), local_today(now)
    # Every link has run out (the query says so); the assessment's own time must have too, or
    # a link ended early, and the reminders renew it.
    ended = [a for a in _candidates(now) if invitation_expiry(a.due_on) <= now]
    _expire(ended)
    planned = []
    for assessment in ended:
        result.done += 1
        owner = assessment.supplier.owner
        if owner is not None and owner.active:
            template = catalog().get(assessment.template_id, assessment.template_version)
            planned.append(
                Planned(
                    messages.assessment_expired_key(assessment, owner),
                    lambda a=assessment, t=template, o=owner: messages.assessment_expired(
                        a, t, o, today
                    ),
                )
            )
    carry_out(planned, JobResult())
    return result


def _expire(assessments: list[AssessmentRow]) -> None:
    """Mark them expired in one UPDATE a few hundred, with their audit events."""
    ids = [a.id for a in assessments]
    for start in range(0, len(ids), 500):
        db.session.execute(
            sa.update(Assessment)
            .where(Assessment.id.in_(ids[start : start + 500]))
            .values(status=AssessmentStatus.expired)
        )
    audit.write_events(
        [
            audit.changed_event(
                Assessment,
                {"id": a.id, "supplier_id": a.supplier_id},
                {"status": [a.status, AssessmentStatus.expired]},
            )
            for a in assessments
        ]
    )
    for assessment in assessments:
        assessment.status = AssessmentStatus.expired
