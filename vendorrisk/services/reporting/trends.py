"""The roll-up's trends: the last quarters from the stored snapshots (RollupSnapshot, captured
each night by the rollup-snapshot job, see history.py), in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import CONTRACT_CLAUSES, RollupSnapshot
from vendorrisk.services.reporting import cache, history, scope
from vendorrisk.services.reporting.counts import count_if
from vendorrisk.services.reporting.scope import Scope

#: Quarters the trends show, at most.
TREND_QUARTERS = 8


@dataclass(frozen=True)
class TrendPoint:
    period: date
    suppliers: int
    average_score: float | None
    #: Percentages of the quarter's suppliers, by COVERAGE_LABELS key and "clauses_all".
    shares: dict[str, float | None]
    review_overdue: int
    assessment_overdue: int
    open_findings: int

    @property
    def label(self) -> str:
        return history.quarter_label(self.period)


def _snapshot_conditions(filters: Scope) -> list[sa.ColumnElement[bool]]:
    s = RollupSnapshot
    return scope.conditions_on(
        filters,
        category=s.category,
        tier=s.tier,
        owner_id=s.owner_id,
        template=lambda: s.template_id,
        # The group as it is now: a snapshot keeps no parent.
        supplier_id=s.supplier_id,
    )


#: The shares each point gives, in the statement's order.
_SHARES = (
    "security_action_star1",
    "security_action_star2",
    "isms_valid",
    "insurance_valid",
    "clauses_all",
    "level_meets",
)


@lru_cache(maxsize=32)
def _trends_statement(filters: Scope) -> sa.Select:
    s = RollupSnapshot
    shares = {
        "security_action_star1": s.security_action >= 1,
        "security_action_star2": s.security_action >= 2,
        "isms_valid": s.isms_valid,
        "insurance_valid": s.insurance_valid,
        "clauses_all": s.clauses == len(CONTRACT_CLAUSES),
        "level_meets": s.level_met,
    }
    return (
        sa.select(
            s.period,
            sa.func.count(),
            sa.func.avg(s.score),
            *(count_if(shares[key]) for key in _SHARES),
            count_if(s.review_overdue),
            count_if(s.assessment_overdue),
            sa.func.coalesce(sa.func.sum(s.open_findings), 0),
        )
        .where(*_snapshot_conditions(filters))
        .group_by(s.period)
        .order_by(s.period.desc())
        .limit(TREND_QUARTERS)
    )


def trends(filters: Scope) -> list[TrendPoint]:
    """The last TREND_QUARTERS quarters from the stored snapshots, oldest first: as last
    computed while no snapshot was written (nor, with a group filter, a supplier)."""
    counter = cache.FIGURES if filters.group_id else cache.SNAPSHOTS  # the group as it is now
    return cache.kept("trends", filters, lambda: trends_uncached(filters), counter)


def trends_uncached(filters: Scope) -> list[TrendPoint]:
    """The trends computed now (one query)."""
    rows = db.session.execute(_trends_statement(filters)).all()
    shares = _SHARES
    points = []
    for period, total, average, *rest in reversed(rows):
        counts, (reviews, assessments, findings) = rest[: len(shares)], rest[len(shares) :]
        points.append(
            TrendPoint(
                period=period,
                suppliers=total,
                average_score=None if average is None else round(float(average), 1),
                shares={
                    key: round(int(n) * 100 / total, 1) if total else None
                    for key, n in zip(shares, counts, strict=True)
                },
                review_overdue=int(reviews),
                assessment_overdue=int(assessments),
                open_findings=int(findings),
            )
        )
    return points
