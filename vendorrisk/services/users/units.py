"""Business units (部門) and who works for them: kept by admins, read by scoping.py."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from vendorrisk import scoping
from vendorrisk.extensions import db
from vendorrisk.models import BusinessUnit, Supplier, UnitMembership, User


def all_units() -> list[BusinessUnit]:
    """Every unit, active ones first, by code."""
    return list(
        db.session.scalars(
            sa.select(BusinessUnit).order_by(BusinessUnit.active.desc(), BusinessUnit.code)
        )
    )


def supplier_counts() -> dict[int, int]:
    """How many suppliers each unit owns (all of them, whoever asks)."""
    rows = db.session.execute(
        sa.select(Supplier.unit_id, sa.func.count(Supplier.id))
        .where(Supplier.unit_id.is_not(None))
        .group_by(Supplier.unit_id),
        execution_options=scoping.UNSCOPED,
    )
    return {unit_id: count for unit_id, count in rows}


def code_taken(code: str, unit_id: int | None = None) -> bool:
    return (
        db.session.scalar(
            sa.select(BusinessUnit.id).where(
                sa.func.lower(BusinessUnit.code) == code.lower(), BusinessUnit.id != (unit_id or 0)
            )
        )
        is not None
    )


def save_unit(unit: BusinessUnit | None, fields: dict[str, Any]) -> BusinessUnit:
    """Create a unit, or change one."""
    if unit is None:
        unit = BusinessUnit()
        db.session.add(unit)
    for key, value in fields.items():
        setattr(unit, key, value)
    db.session.flush()
    return unit


def unit_ids_of(user: User) -> list[int]:
    return sorted(scoping.units_of(user))


def set_units(user: User, unit_ids: Iterable[int]) -> None:
    """Make the user a member of exactly these units (each change audited)."""
    wanted = set(unit_ids)
    current = {
        m.unit_id: m
        for m in db.session.scalars(
            sa.select(UnitMembership).where(UnitMembership.user_id == user.id)
        )
    }
    for unit_id in wanted - current.keys():
        db.session.add(UnitMembership(user_id=user.id, unit_id=unit_id))
    for unit_id in current.keys() - wanted:
        db.session.delete(current[unit_id])
    db.session.flush()


def choices_for(user: User, keep_id: int | None = None) -> list[BusinessUnit]:
    """The units a user may put a supplier in: theirs (every active one for company-wide
    users), and the supplier's present unit so an edit does not move it by itself."""
    scope = scoping.scope_of(user)
    query = sa.select(BusinessUnit).where(
        sa.or_(
            BusinessUnit.active.is_(True) if scope is None else BusinessUnit.id.in_(sorted(scope)),
            BusinessUnit.id == (keep_id or 0),
        )
    )
    return list(db.session.scalars(query.order_by(BusinessUnit.code)))


def default_for(user: User) -> int | None:
    """The unit a new supplier of this user goes to unless chosen otherwise: their one unit."""
    scope = scoping.scope_of(user)
    return next(iter(scope)) if scope and len(scope) == 1 else None
