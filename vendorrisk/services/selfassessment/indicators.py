"""The supplier programme's Direction 9 indicators beside the self-assessment's D9 items.

Each indicator counts, in one aggregate query over the suppliers, those of a population (as the
supplier list filters it) that meet a Direction 9 fact of ``services.d9``; a closed cycle keeps
them as they stood when it closed (``D9Indicators.to_snapshot``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from vendorrisk.extensions import db
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    Assessment,
    AssessmentStatus,
    SelfAssessmentCycle,
    Supplier,
    SupplierStatus,
)
from vendorrisk.services.register import d9
from vendorrisk.vocab import Tier


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    #: The Appendix A check item it informs, by edition: {"csm-2.0": "D9-3", "csm-3.0": "D9-3"}.
    items: dict[str, str]
    label: Any
    #: The suppliers counted, as supplier list query arguments (status, tier, category).
    population: dict[str, str]
    #: Among them, those that meet it (SQL, with "today").
    achieved: Callable[[date], sa.ColumnElement[bool]]
    #: Those that lack it, as supplier list query arguments, where the list can filter them.
    gap: dict[str, str] | None = None
    gap_label: Any = None


def _has_contract(today: date) -> sa.ColumnElement[bool]:
    return d9.clause_mask(today).is_not(None)


def _all_clauses(today: date) -> sa.ColumnElement[bool]:
    return d9.clause_coverage(today) == len(CONTRACT_CLAUSES)


def _in_cadence(today: date) -> sa.ColumnElement[bool]:
    """Assessed (a completed assessment exists) and the next re-check is not past."""
    completed = sa.exists().where(
        Assessment.supplier_id == Supplier.id, Assessment.status == AssessmentStatus.completed
    )
    return sa.and_(completed, Supplier.next_review_on >= today)


def _d9_filter(**wanted: Any) -> Callable[[date], sa.ColumnElement[bool]]:
    """The supplier list's own Direction 9 filter as a condition."""
    return lambda today: sa.and_(*d9.conditions(today, **wanted))


_ACTIVE = {"status": SupplierStatus.active.value}
INDICATORS = (
    IndicatorSpec(
        "contract_in_force",
        {"csm-2.0": "D9-1", "csm-3.0": "D9-2"},
        _l("Active outsourcing contractors with a contract in force"),
        _ACTIVE | {"category": "outsourcing_contractor"},
        _has_contract,
    ),
    IndicatorSpec(
        "all_clauses_critical",
        {"csm-2.0": "D9-2", "csm-3.0": "D9-2"},
        _l("Critical-tier suppliers whose contract in force has every security clause"),
        _ACTIVE | {"tier": "critical"},
        _all_clauses,
    ),
    IndicatorSpec(
        "all_clauses_high",
        {"csm-2.0": "D9-2", "csm-3.0": "D9-2"},
        _l("High-tier suppliers whose contract in force has every security clause"),
        _ACTIVE | {"tier": "high"},
        _all_clauses,
    ),
    IndicatorSpec(
        "assessed_in_cadence",
        {"csm-2.0": "D9-3", "csm-3.0": "D9-3"},
        _l("Active suppliers assessed within their re-check cadence"),
        _ACTIVE,
        _in_cadence,
        {"review": "overdue"},
        _l("re-check overdue"),
    ),
    IndicatorSpec(
        "security_action",
        {"csm-2.0": "D9-3", "csm-3.0": "D9-3"},
        _l("Active suppliers with a SECURITY ACTION declaration (★ or more)"),
        _ACTIVE,
        _d9_filter(security_action="star1"),
        {"security_action": "none"},
        _l("none declared"),
    ),
    IndicatorSpec(
        "isms_valid",
        {"csm-2.0": "D9-3", "csm-3.0": "D9-3"},
        _l("Active suppliers with a valid ISMS certification"),
        _ACTIVE,
        _d9_filter(isms="valid"),
        {"isms": "missing"},
        _l("expired or missing"),
    ),
    IndicatorSpec(
        "level_meets",
        {"csm-2.0": "D9-3", "csm-3.0": "D9-3"},
        _l("Active suppliers holding the evaluation level they are required"),
        _ACTIVE,
        _d9_filter(level="meets"),
        {"level": "unmet"},
        _l("not holding it"),
    ),
)
SPEC_BY_KEY = {s.key: s for s in INDICATORS}
#: The tiers whose contracts are broken down clause by clause (on the item below).
CLAUSE_TIERS = (Tier.critical.value, Tier.high.value)
#: The item the clause breakdown informs, by edition (the contract item of Direction 9).
CLAUSE_ITEMS = {"csm-2.0": "D9-2", "csm-3.0": "D9-2"}


@dataclass(frozen=True)
class IndicatorValue:
    spec: IndicatorSpec
    achieved: int
    total: int
    #: Those the gap link lists (None without a gap link).
    missing: int | None

    @property
    def percent(self) -> float | None:
        return round(self.achieved / self.total * 100, 1) if self.total else None

    @property
    def href_args(self) -> dict[str, str]:
        return dict(self.spec.population)

    @property
    def gap_args(self) -> dict[str, str] | None:
        return self.spec.population | self.spec.gap if self.spec.gap else None


@dataclass(frozen=True)
class ClauseGap:
    """Suppliers of a tier whose contract in force lacks a clause (or who have none)."""

    tier: str
    clause: str
    missing: int

    @property
    def href_args(self) -> dict[str, str]:
        return _ACTIVE | {"tier": self.tier, "clause_missing": self.clause}


@dataclass(frozen=True)
class D9Indicators:
    as_of: date
    values: list[IndicatorValue]
    clause_gaps: list[ClauseGap]
    #: Computed now (an open cycle) rather than read from a closed cycle's snapshot.
    live: bool = True

    def for_item(self, edition: str, item: str | None) -> list[IndicatorValue]:
        """The indicators of a check item (D9-3) of a template of `edition` ("csm-3.0")."""
        return [v for v in self.values if item and v.spec.items.get(edition) == item]

    def clauses_for(self, edition: str, item: str | None) -> list[tuple[str, list[ClauseGap]]]:
        """Per clause, its gap in each tier of CLAUSE_TIERS (the contract item only)."""
        if not item or CLAUSE_ITEMS.get(edition) != item or not self.clause_gaps:
            return []
        by_key = {(g.clause, g.tier): g for g in self.clause_gaps}
        return [
            (clause, [by_key[(clause, tier)] for tier in CLAUSE_TIERS if (clause, tier) in by_key])
            for clause in CONTRACT_CLAUSES
        ]

    def tier_total(self, tier: str) -> int | None:
        """The active suppliers of `tier`: those its clause gaps count among (the panel's own
        total of that tier's every-clause indicator)."""
        population = _ACTIVE | {"tier": tier}
        return next((v.total for v in self.values if v.spec.population == population), None)

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "values": {v.spec.key: [v.achieved, v.total, v.missing] for v in self.values},
            "clauses": {f"{g.tier}:{g.clause}": g.missing for g in self.clause_gaps},
        }

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> D9Indicators:
        values = [
            IndicatorValue(SPEC_BY_KEY[key], achieved, total, missing)
            for key, (achieved, total, missing) in data.get("values", {}).items()
            if key in SPEC_BY_KEY
        ]
        gaps_ = [
            ClauseGap(*key.split(":", 1), missing)
            for key, missing in data.get("clauses", {}).items()
        ]
        return cls(date.fromisoformat(data["as_of"]), values, gaps_, live=False)


def _population(args: Mapping[str, str]) -> sa.ColumnElement[bool]:
    """The supplier list's plain filters (status, tier, category) as a condition."""
    columns = {"status": Supplier.status, "tier": Supplier.tier, "category": Supplier.category}
    return sa.and_(*(columns[name] == value for name, value in args.items()))


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def indicators(today: date) -> D9Indicators:
    """Every Direction 9 indicator as of `today`, in one aggregate query over the suppliers."""
    columns: list[sa.ColumnElement[int]] = []
    for spec in INDICATORS:
        population = _population(spec.population)
        columns += [_count(sa.and_(population, spec.achieved(today))), _count(population)]
        if spec.gap:
            columns.append(_count(sa.and_(population, *d9.conditions(today, **_d9_args(spec.gap)))))
    pairs = [(tier, clause) for clause in CONTRACT_CLAUSES for tier in CLAUSE_TIERS]
    for tier, clause in pairs:
        population = _population(_ACTIVE | {"tier": tier})
        columns.append(_count(sa.and_(population, *d9.conditions(today, clause_missing=clause))))
    row = iter(db.session.execute(sa.select(*columns).select_from(Supplier)).one())
    values = []
    for spec in INDICATORS:
        achieved, total = int(next(row)), int(next(row))
        values.append(IndicatorValue(spec, achieved, total, int(next(row)) if spec.gap else None))
    clause_gaps = [ClauseGap(tier, clause, int(next(row))) for tier, clause in pairs]
    return D9Indicators(today, values, clause_gaps)


def _d9_args(gap: Mapping[str, str]) -> dict[str, Any]:
    """Supplier list query arguments to d9.conditions keywords ("review=overdue": overdue)."""
    args: dict[str, Any] = {k: v for k, v in gap.items() if k != "review"}
    if gap.get("review") == "overdue":
        args["overdue"] = True
    return args


def indicators_of(cycle: SelfAssessmentCycle, today: date | None = None) -> D9Indicators | None:
    """Live values for an open cycle; those kept at closing for a closed one."""
    if cycle.is_open:
        from vendorrisk import clock

        return indicators(today or clock.today())
    return D9Indicators.from_snapshot(cycle.d9_snapshot) if cycle.d9_snapshot else None
