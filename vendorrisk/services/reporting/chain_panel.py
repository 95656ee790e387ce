"""The roll-up's supply-chain panel: what we know of the subcontractors (再委託先) of the live
suppliers of the critical and high tiers, one row per tier (one query).

What each figure counts, among those suppliers (the supplier list shows the same ones with
`subcontractors=<key>`, the conditions below, and the tier):

- known: at least one supplier record below it (not offboarded), or its latest completed
  assessment answered the subcontracting question (SUBCONTRACTING_QUESTION) "not applicable":
  it subcontracts none of our work, as the questionnaire asks it to say;
- listed: at least one supplier record below it (not offboarded);
- approved: listed, and every such record directly below it has the day we approved the
  subcontracting (Supplier.subcontracting_approved_on);
- assessed: listed, and every such record directly below it has a latest score;
- personal_abroad: a record below it, at any depth and not offboarded, handles personal
  information we entrust and is outside Japan.

The deepest layer is the most levels any record goes below one of them (1: its direct
subcontractors, 第2層 when it is our own supplier). The shares of approved and assessed are of
the listed ones: a supplier that subcontracts nothing has nothing to approve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from vendorrisk.extensions import db
from vendorrisk.models import Answer, Assessment, Supplier, SupplierStatus
from vendorrisk.services.register.subcontractors import SUBCONTRACTING_QUESTION
from vendorrisk.services.reporting import scope
from vendorrisk.services.reporting.areas import HEAT_TIERS
from vendorrisk.services.reporting.counts import (
    SUPPLIERS,
    Number,
    count_if,
    live_in_scope,
    supplier_list,
)
from vendorrisk.services.reporting.scope import Scope

#: Its answer "not applicable" as the JSON column holds it: no subcontracting of our work.
NO_SUBCONTRACTING = '"na"'
#: The supplier list's `subcontractors` values, in the order the panel shows them.
KEYS = ("known", "listed", "approved", "assessed", "personal_abroad")
#: Our own country: a record elsewhere holds our data abroad.
HOME = "JP"
#: Levels the upward walk follows at most (chain.MAX_DEPTH keeps chains far shallower).
_GUARD = 32


# -- the conditions (on Supplier, correlated like scope.py's) ---------------------------------


def _parents(condition: Callable[[Any], sa.ColumnElement[bool]] | None = None) -> sa.Select:
    """The parent ids of the records not offboarded (meeting `condition`, given the aliased
    Supplier). Used as `Supplier.id IN (...)`, not as a correlated EXISTS: with most parent_id
    NULL, SQLite's statistics call the index on it useless and an EXISTS scanned the whole table
    once per supplier (seconds at 10,000 suppliers)."""
    child = aliased(Supplier)
    stmt = sa.select(child.parent_id).where(
        child.parent_id.is_not(None), child.status != SupplierStatus.offboarded
    )
    return stmt.where(condition(child)) if condition is not None else stmt


def listed() -> sa.ColumnElement[bool]:
    """At least one record directly below it."""
    return Supplier.id.in_(_parents())


def says_none() -> sa.ColumnElement[bool]:
    """Its latest completed assessment says it subcontracts none of our work."""
    return sa.exists().where(
        Answer.assessment_id == scope.latest_completed(Assessment.id),
        Answer.question_id == SUBCONTRACTING_QUESTION,
        sa.cast(Answer.value, sa.Text) == NO_SUBCONTRACTING,
    )


def _every_child(condition: Any) -> sa.ColumnElement[bool]:
    """Listed, and no record directly below it fails `condition(child)`."""
    failing = _parents(lambda child: sa.not_(condition(child)))
    return sa.and_(listed(), Supplier.id.not_in(failing))


def above(condition: Callable[[Any], sa.ColumnElement[bool]], name: str) -> sa.CTE:
    """(id, depth) of every supplier above one meeting `condition` (given the aliased Supplier;
    not offboarded), its parent at depth 1: one recursive CTE up from all of them at once."""
    start, step = aliased(Supplier), aliased(Supplier)
    found = (
        sa.select(start.parent_id.label("id"), sa.literal_column("1", sa.Integer).label("depth"))
        .where(
            start.parent_id.is_not(None),
            start.status != SupplierStatus.offboarded,
            condition(start),
        )
        .cte(name, recursive=True, nesting=True)
    )
    return found.union_all(
        sa.select(step.parent_id, found.c.depth + 1).where(
            step.id == found.c.id, step.parent_id.is_not(None), found.c.depth < _GUARD
        )
    )


def _personal_abroad(supplier: Any) -> sa.ColumnElement[bool]:
    return sa.and_(supplier.shares_personal_info.is_(True), supplier.country != HOME)


def condition(key: str) -> sa.ColumnElement[bool] | None:
    """The supplier list's `subcontractors` filter (one of KEYS); None for anything else."""
    if key == "known":
        return sa.or_(listed(), says_none())
    if key == "listed":
        return listed()
    if key == "approved":
        return _every_child(lambda c: c.subcontracting_approved_on.is_not(None))
    if key == "assessed":
        return _every_child(lambda c: c.latest_score.is_not(None))
    if key == "personal_abroad":
        return Supplier.id.in_(sa.select(above(_personal_abroad, "personal_abroad").c.id))
    return None


# -- the panel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainRow:
    """The figures of one tier; each count links to the suppliers it counts."""

    tier: str
    suppliers: Number
    known: Number
    listed: Number
    approved: Number
    assessed: Number
    personal_abroad: Number
    #: The most levels a record goes below one of them (None: no record below any).
    deepest: int | None

    def counts(self) -> list[tuple[str, Number]]:
        """(key, count) in KEYS order."""
        return [(key, getattr(self, key)) for key in KEYS]

    def share(self, key: str) -> float | None:
        """A count as a share: approved and assessed of the listed, the others of all."""
        whole = self.listed if key in ("approved", "assessed") else self.suppliers
        return getattr(self, key).share(whole)


@dataclass(frozen=True)
class ChainPanel:
    rows: list[ChainRow]

    @property
    def deepest(self) -> int | None:
        """The most levels a record goes below any of them (None: none recorded)."""
        return max((r.deepest for r in self.rows if r.deepest is not None), default=None)


def chain_panel(filters: Scope) -> ChainPanel:
    """The subcontractors of the live critical- and high-tier suppliers in scope, by tier (one
    query: the conditions above, counted; the deepest layer from one recursive CTE)."""
    tiers = tuple(t for t in HEAT_TIERS if filters.tier in ("", t))
    if not tiers:
        return ChainPanel([])
    rows = db.session.execute(_chain_statement(filters, tiers)).all()
    found = {tier: values for tier, *values in rows}
    return ChainPanel([_row(filters, t, found.get(t)) for t in tiers])


@lru_cache(maxsize=32)
def _chain_statement(filters: Scope, tiers: tuple[str, ...]) -> sa.Select:
    depths = above(lambda _: sa.true(), "chain_depths")
    deepest = (
        sa.select(depths.c.id, sa.func.max(depths.c.depth).label("depth"))
        .group_by(depths.c.id)
        .subquery("deepest")
    )
    return (
        sa.select(
            Supplier.tier,
            sa.func.count(),
            *(count_if(condition(key)) for key in KEYS),
            sa.func.max(deepest.c.depth),
        )
        .outerjoin(deepest, deepest.c.id == Supplier.id)
        .where(*live_in_scope(filters), Supplier.tier.in_(tiers))
        .group_by(Supplier.tier)
    )


def _row(filters: Scope, tier: str, values: list[Any] | None) -> ChainRow:
    *counts, deepest = values or [0] * (2 + len(KEYS))
    total, *by_key = (int(n or 0) for n in counts)

    def number(value: int, **args: Any) -> Number:
        return Number(value, SUPPLIERS, supplier_list(filters, tier=tier, **args))

    return ChainRow(
        tier,
        number(total),
        *(number(n, subcontractors=key) for key, n in zip(KEYS, by_key, strict=True)),
        deepest=int(deepest) if deepest else None,
    )
