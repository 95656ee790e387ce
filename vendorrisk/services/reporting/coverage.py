"""The roll-up's Direction 9 coverage: how many live suppliers in scope hold SECURITY ACTION,
a valid ISMS certification and cyber insurance, meet their required evaluation level, and have
each contract clause in force (one query over the SQL twins of services/register/d9.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import CONTRACT_CLAUSES, AttestationKind
from vendorrisk.services.register import d9, scs
from vendorrisk.services.reporting.counts import (
    SUPPLIERS,
    Number,
    count_if,
    live_in_scope,
    supplier_list,
)
from vendorrisk.services.reporting.scope import Scope

#: (row key, supplier-list arguments) of each count, in the statement's order.
Args = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


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
    #: Rows that cannot count anyone in the SCS scheme's state (short before it runs, not yet
    #: evaluated once it does): left off the page, kept in exports so that columns stay put.
    moot: frozenset[str] = frozenset()

    @property
    def shown(self) -> list[CoverageRow]:
        return [row for row in self.rows if row.key not in self.moot]


def _level_rows(c: Any, today: date, scheme: scs.SchemeSettings) -> dict[str, Any]:
    """Mirror scs.state over the facts: short of the level asked only once the scheme runs;
    before, not yet evaluated (or the interim equivalent): never an alarm without information.
    The same four rows whatever the scheme's state, so that exports keep their columns."""
    below = c.held < c.required
    running = scheme.running(today)
    interim = (
        sa.and_(below, c.interim == sa.true())
        if not running and scheme.interim == "isms"
        else sa.false()
    )
    return {
        "level_meets": (sa.not_(below), {"level": "meets"}),
        "level_below": (below if running else sa.false(), {"level": "below"}),
        "level_interim": (interim, {"level": "interim"}),
        "level_not_running": (
            sa.false() if running else sa.and_(below, sa.not_(interim)),
            {"level": "not_running"},
        ),
    }


def coverage(today: date, filters: Scope) -> Coverage:
    """The Direction 9 controls over the live suppliers in scope (one query over the d9 twins)."""
    scheme = scs.scheme_settings()
    statement, conditions, clauses = _coverage_statement(today, filters, scheme)
    row = db.session.execute(statement).one()
    live = Number(int(row[0]), SUPPLIERS, supplier_list(filters))

    def rows(items: Args, values: Iterable[int]) -> list[CoverageRow]:
        out = []
        for (key, args), value in zip(items, values, strict=True):
            number = Number(int(value), SUPPLIERS, supplier_list(filters, **dict(args)))
            out.append(CoverageRow(key, number, number.share(live)))
        return out

    split = 1 + len(conditions)
    running = scheme.running(today)
    return Coverage(
        live=live,
        rows=rows(conditions, row[1:split]),
        clauses=rows(clauses, row[split:]),
        moot=frozenset({"level_interim", "level_not_running"} if running else {"level_below"}),
    )


@lru_cache(maxsize=32)
def _coverage_statement(
    today: date, filters: Scope, scheme: scs.SchemeSettings
) -> tuple[sa.Select, Args, Args]:
    """The statement (the live count, then a count per row and per clause) and its rows."""
    facts = (
        sa.select(
            d9.security_action_rank(today).label("sa"),
            d9.valid_until(AttestationKind.isms).label("isms"),
            d9.valid_until(AttestationKind.cyber_insurance).label("insurance"),
            d9.clause_mask(today).label("mask"),
            d9.held_rank(today).label("held"),
            d9.required_rank().label("required"),
            d9.interim_held(today).label("interim"),
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
        **_level_rows(c, today, scheme),
    }
    clauses = {
        name: (mask.bitwise_and(1 << i) != 0, {"clause": name})
        for i, name in enumerate(CONTRACT_CLAUSES)
    }
    statement = sa.select(
        sa.func.count(),
        *(count_if(cond) for cond, _ in (*conditions.values(), *clauses.values())),
    )

    def args(items: dict[str, Any]) -> Args:
        return tuple((key, tuple(args.items())) for key, (_, args) in items.items())

    return statement, args(conditions), args(clauses)
