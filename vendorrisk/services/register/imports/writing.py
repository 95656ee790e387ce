"""Writing a planned supplier import in the caller's transaction: flush, never commit; audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import Contact, Supplier, SupplierCategory, TierChange
from vendorrisk.services import audit
from vendorrisk.services.register import offboarding
from vendorrisk.services.register.imports.planning import Plan, Summary, SupplierPlan
from vendorrisk.services.review import tiers


def apply(plan: Plan, now: datetime, source: str = "") -> Summary:
    """Write the plan (its valid rows when skipping invalid ones) and flush, audited."""
    if not plan.can_apply:
        raise ValueError("a plan with errors is applied only when skipping invalid rows")
    summary = plan.summary()
    rules = tiers.tier_rules()
    audit.record(
        "import",
        summary=(
            f"suppliers from {source or 'a file'}: {summary.suppliers_created} created, "
            f"{summary.suppliers_updated} updated, {summary.rows_skipped} rows skipped"
        ),
        changes=dict(vars(summary)),
    )
    db.session.flush()  # the first write: SQLite holds its write lock from here to the commit
    with db.session.no_autoflush:
        written = [(planned, *_write_supplier(planned)) for planned in plan.suppliers]
        _give_ids(Supplier, [supplier for _p, supplier, _changed in written])
        contacts = [c for planned, s, _changed in written for c in _write_contacts(planned, s)]
        _give_ids(Contact, contacts)
        for _planned, supplier, changed in written:
            if changed:  # created or changed: the tier goes into the same audited insert or update
                tiers.apply_tier_rules(supplier, rules, now)
        tier_changes = [t for t in db.session.new if isinstance(t, TierChange)]
        _give_ids(TierChange, tier_changes)
    # No relationship() orders tier changes after their suppliers within one flush.
    for change in tier_changes:
        db.session.expunge(change)
    db.session.flush()
    db.session.add_all(tier_changes)
    db.session.flush()
    return summary


def _give_ids(model: type, objects: list[Any]) -> None:
    """Number new rows before the flush so that they are inserted in batches.

    The ORM inserts one row at a time when it must read back each generated key and the database
    cannot say in which order RETURNING gives them (SQLite). PostgreSQL hands out numbers from
    the table's sequence; on SQLite the transaction already holds the only write lock, so the
    numbers after the largest are free.
    """
    objects = [o for o in objects if o.id is None]
    if not objects:
        return
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        series = sa.func.generate_series(1, len(objects)).table_valued("n")
        ids = db.session.scalars(sa.select(sa.func.nextval(sequence)).select_from(series)).all()
    else:
        first = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
        ids = range(first, first + len(objects))
    for obj, new_id in zip(objects, ids, strict=True):
        obj.id = new_id


#: What a new supplier holds before the file's values: the columns' defaults.
_NEW_SUPPLIER = {
    column.key: column.default.arg
    for column in Supplier.__table__.columns
    if column.default is not None and column.default.is_scalar
} | {"category": SupplierCategory.other}


def _write_supplier(planned: SupplierPlan) -> tuple[Supplier, bool]:
    changes = planned.changes()
    supplier = planned.existing
    # A status only the offboarding checklist sets refuses the whole import (all or nothing).
    offboarding.check_status_change(supplier or Supplier(), changes)
    if supplier is None:
        supplier = Supplier(**(_NEW_SUPPLIER | changes))
        db.session.add(supplier)
    else:
        for attr, value in changes.items():
            setattr(supplier, attr, value)
    return supplier, bool(changes)


def _write_contacts(planned: SupplierPlan, supplier: Supplier) -> list[Contact]:
    """Change the supplier's contacts named in the file; return the new ones (added)."""
    added = []
    for contact in planned.contacts.values():
        if contact.existing is None:
            added.append(Contact(supplier_id=supplier.id, **contact.values))
        else:
            for attr, value in contact.changes().items():
                setattr(contact.existing, attr, value)
    if planned.primary and planned.existing is not None:
        for other in planned.existing.contacts:  # loaded with the supplier
            if other.is_primary and other.email.lower() != planned.primary[0]:
                other.is_primary = False
    db.session.add_all(added)
    return added
