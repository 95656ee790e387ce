"""The recheck job: each supplier whose re-check date has come gets its tier's questionnaire."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from vendorrisk.catalog import Template, catalog
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages
from vendorrisk.models import (
    OPEN_STATUSES,
    Assessment,
    AssessmentStatus,
    Contact,
    Role,
    Supplier,
    SupplierStatus,
)
from vendorrisk.services.assessments.lifecycle import AssessmentError, Recipient, create_assessment
from vendorrisk.services.periodic.planning import (
    Planned,
    carry_out,
    deliverable,
    latest_by,
    local_day,
    local_today,
    users_with_role,
)
from vendorrisk.services.review.tiers import tier_rules

#: Statuses in which a supplier already has a questionnaire on the go: no re-check is sent.
BUSY_STATUSES = (*OPEN_STATUSES, AssessmentStatus.draft, AssessmentStatus.submitted)
#: Days a re-check questionnaire gives the supplier to answer.
RECHECK_DUE_DAYS = 30


def _due_for_recheck(today: date) -> list[Supplier]:
    busy = sa.exists().where(
        Assessment.supplier_id == Supplier.id, Assessment.status.in_(BUSY_STATUSES)
    )
    return list(
        db.session.scalars(
            sa.select(Supplier)
            .where(
                Supplier.status == SupplierStatus.active,
                Supplier.next_review_on <= today,
                Supplier.tier.is_not(None),
                ~busy,
            )
            .order_by(Supplier.id)
            .options(selectinload(Supplier.contacts), joinedload(Supplier.owner))
        )
    )


def _last_sent(supplier_ids: list[int]) -> dict[int, datetime]:
    return latest_by(Assessment.supplier_id, Assessment.sent_at, supplier_ids)


def recheck(now: datetime) -> JobResult:
    """Send each supplier whose re-check date has come its tier's questionnaire, once."""
    today, result = local_today(now), JobResult()
    due = _due_for_recheck(today)
    last_sent = _last_sent([s.id for s in due])
    rules = tier_rules() if due else None
    no_contact: list[Planned] = []
    for supplier in due:
        if local_day(last_sent.get(supplier.id)) >= supplier.next_review_on:
            continue  # this date's re-check went out (and was cancelled or expired): people decide
        template = catalog().get(rules.template_by_tier.get(supplier.tier, ""))
        contacts = deliverable(supplier.contacts)
        if template is None:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no template for its tier")
        elif not contacts:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no contact to send to")
            no_contact += _no_contact_mails(supplier)
        else:
            _send_recheck(supplier, template, contacts, today, now, result)
    carry_out(no_contact, JobResult())
    return result


def _send_recheck(
    supplier: Supplier,
    template: Template,
    contacts: list[Contact],
    today: date,
    now: datetime,
    result: JobResult,
) -> None:
    due_on = today + timedelta(days=RECHECK_DUE_DAYS)
    recipients = [Recipient(c, c.locale) for c in contacts]
    try:
        create_assessment(supplier, template, due_on, "", recipients, None, now)
    except AssessmentError as exc:
        result.skip(f"{supplier.display_name} (#{supplier.id}): {exc}")
    else:
        result.done += 1


def _no_contact_mails(supplier: Supplier) -> list[Planned]:
    """The owner (else procurement) is told once per re-check date that nobody can be asked."""
    owner = supplier.owner
    users = [owner] if owner is not None and owner.active else users_with_role(Role.procurement)
    return [
        Planned(
            messages.recheck_no_contact_key(supplier, user),
            lambda user=user: messages.recheck_no_contact(supplier, user),
        )
        for user in users
    ]
