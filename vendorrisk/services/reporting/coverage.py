"""The roll-up's Direction 9 coverage: how many live suppliers in scope hold SECURITY ACTION,
a valid ISMS certification and cyber insurance, meet their required evaluation level, and have
each contract clause in force (one query over the SQL twins of services/register/d9.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import CONTRACT_CLAUSES, AttestationKind
from vendorrisk.services.register import d9
from vendorrisk.services.reporting.counts import (
    SUPPLIERS,
    Number,
    count_if,
    live_in_scope,
    supplier_list,
)
from vendorrisk.services.reporting.scope import Scope


@dataclass(frozen=True)
class CoverageRow:
    key: str
    count: Number
    share: float | None


@dataclass(frozen=True)
class Coverage:
    live: Number
    rows: list[CoverageRow]
    #: One per CONTRACT_CLAUSES: suppliers whose best contract in force has it.
    clauses: list[CoverageRow]


def coverage(today: date, filters: Scope) -> Coverage:
    """The Direction 9 controls over the live suppliers in scope (one query over the d9 twins)."""
    facts = (
        sa.select(
            d9.security_action_rank(today).label("sa"),
            d9.valid_until(AttestationKind.isms).label("isms"),
            d9.valid_until(AttestationKind.cyber_insurance).label("insurance"),
            d9.clause_mask(today).label("mask"),
            d9.held_rank(today).label("held"),
            d9.required_rank().label("required"),
        )
        .where(*live_in_scope(filters))
        # Materialized: SQLite would otherwise inline it and run each twin once per use.
        .cte("facts")
        .prefix_with("MATERIALIZED")
    )
    c = facts.c
    mask = sa.func.coalesce(c.mask, 0)
    conditions = {
        "security_action_star1": (c.sa >= 1, {"security_action": "star1"}),
        "security_action_star2": (c.sa >= 2, {"security_action": "star2"}),
        "isms_valid": (c.isms >= today, {"isms": "valid"}),
        "insurance_valid": (c.insurance >= today, {"insurance": "valid"}),
        "level_meets": (c.held >= c.required, {"level": "meets"}),
        "level_below": (c.held < c.required, {"level": "below"}),
    }
    clauses = {
        name: (mask.bitwise_and(1 << i) != 0, {"clause": name})
        for i, name in enumerate(CONTRACT_CLAUSES)
    }
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            *(count_if(cond) for cond, _ in (*conditions.values(), *clauses.values())),
        )
    ).one()
    live = Number(int(row[0]), SUPPLIERS, supplier_list(filters))

    def rows(items: dict, values: Iterable[int]) -> list[CoverageRow]:
        out = []
        for (key, (_, args)), value in zip(items.items(), values, strict=True):
            number = Number(int(value), SUPPLIERS, supplier_list(filters, **args))
            out.append(CoverageRow(key, number, number.share(live)))
        return out

    split = 1 + len(conditions)
    return Coverage(
        live=live,
        rows=rows(conditions, row[1:split]),
        clauses=rows(clauses, row[split:]),
    )
