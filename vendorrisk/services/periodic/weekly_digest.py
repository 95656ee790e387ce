"""The weekly-digest job: on the configured weekday, one summary per active CISO user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages
from vendorrisk.models import (
    Assessment,
    Attestation,
    Contact,
    Finding,
    Role,
    Supplier,
    SupplierStatus,
    User,
)
from vendorrisk.services.periodic.planning import (
    Planned,
    carry_out,
    local_today,
    not_offboarded,
    users_with_role,
)
from vendorrisk.services.periodic.settings import schedule_settings

#: Items listed per section of the digest (the count covers all of them).
DIGEST_LIST = 10


@dataclass
class DigestSection:
    """How many there are, and the first few to list."""

    count: int
    items: list[Any]


def _section(base: sa.Select, order: tuple, *options: Any) -> DigestSection:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    items = db.session.scalars(base.order_by(*order).options(*options).limit(DIGEST_LIST))
    return DigestSection(count or 0, list(items.unique()))


def digest_sections(now: datetime, today: date) -> dict[str, DigestSection]:
    """What the CISO reads each week: what changed, what is overdue, what expires soon."""
    week_ago = now - timedelta(days=7)
    assessments = sa.select(Assessment).where(Assessment.supplier_id.is_not(None))
    with_supplier = joinedload(Assessment.supplier)
    deliverable_contact = sa.exists().where(
        Contact.supplier_id == Supplier.id, Contact.undeliverable_at.is_(None)
    )
    return {
        "submitted": _section(
            assessments.where(Assessment.submitted_at >= week_ago),
            (Assessment.submitted_at.desc(), Assessment.id),
            with_supplier,
        ),
        "completed": _section(
            assessments.where(Assessment.completed_at >= week_ago),
            (Assessment.completed_at.desc(), Assessment.id),
            with_supplier,
        ),
        "overdue": _section(
            assessments.where(Assessment.is_overdue(today)),
            (Assessment.due_on, Assessment.id),
            with_supplier,
        ),
        "findings": _section(
            sa.select(Finding).where(Finding.is_overdue(today)),
            (Finding.due_on, Finding.id),
            joinedload(Finding.supplier),
        ),
        "expiring": _section(
            sa.select(Attestation)
            .join(Attestation.supplier)
            .where(
                not_offboarded(),
                Attestation.expires_on.between(today, today + timedelta(days=30)),
            ),
            (Attestation.expires_on, Attestation.id),
            contains_eager(Attestation.supplier),
        ),
        "no_contact": _section(
            sa.select(Supplier).where(
                Supplier.status == SupplierStatus.active,
                Supplier.tier.is_not(None),
                Supplier.next_review_on <= today,
                ~deliverable_contact,
            ),
            (Supplier.next_review_on, Supplier.id),
        ),
    }


def weekly_digest(now: datetime) -> JobResult:
    """On the digest weekday, one summary per active CISO user, in their language."""
    settings, today, result = schedule_settings(), local_today(now), JobResult()
    if today.weekday() != settings.digest_weekday:
        return result
    cisos = users_with_role(Role.ciso)
    if not cisos:
        result.skip("no active CISO to send the digest to")
        return result
    sections: dict[str, DigestSection] = {}

    def send(user: User) -> Any:
        if not sections:  # gathered once, and only if a digest is due
            sections.update(digest_sections(now, today))
        return messages.digest(user, sections, today)

    planned = [Planned(messages.digest_key(user, today), lambda u=user: send(u)) for user in cisos]
    carry_out(planned, result)
    return result
