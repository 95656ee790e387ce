"""Counts for the home page, each one aggregate query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import Attestation, Contact, Supplier, SupplierStatus

EXPIRING_DAYS = 60


@dataclass(frozen=True)
class RegisterSummary:
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_criticality: dict[str, int]
    expired: list[Attestation]
    expiring: list[Attestation]
    reviews_due: int
    #: Suppliers whose re-check is due but who have no contact mail can reach.
    due_without_contact: list[Supplier]


def _counts(column) -> dict[str, int]:
    rows = db.session.execute(sa.select(column, sa.func.count()).group_by(column))
    return {getattr(value, "value", value): n for value, n in rows}


def register_summary(today: date) -> RegisterSummary:
    """Suppliers by status, category and criticality; attestations expired or expiring."""
    live = Supplier.status != SupplierStatus.offboarded
    attestations = list(
        db.session.scalars(
            sa.select(Attestation)
            .join(Attestation.supplier)
            .where(
                live,
                Attestation.expires_on.is_not(None),
                Attestation.expires_on <= today + timedelta(days=EXPIRING_DAYS),
            )
            .options(sa.orm.contains_eager(Attestation.supplier))
            .order_by(Attestation.expires_on)
        )
    )
    due = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Supplier)
        .where(live, Supplier.next_review_on <= today)
    )
    reachable = sa.exists().where(
        Contact.supplier_id == Supplier.id, Contact.undeliverable_at.is_(None)
    )
    stranded = list(
        db.session.scalars(
            sa.select(Supplier)
            .where(live, Supplier.next_review_on <= today, ~reachable)
            .order_by(Supplier.next_review_on, Supplier.id)
            .limit(50)
        )
    )
    return RegisterSummary(
        by_status=_counts(Supplier.status),
        by_category=_counts(Supplier.category),
        by_criticality=_counts(Supplier.criticality),
        expired=[a for a in attestations if not a.valid_on(today)],
        expiring=[a for a in attestations if a.valid_on(today)],
        reviews_due=due or 0,
        due_without_contact=stranded,
    )
