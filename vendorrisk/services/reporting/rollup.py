"""The CISO's supply-chain roll-up (全体状況): every panel one SQL aggregate over stored data.

Scores come from the per-area rows stored at completion (AreaScore) and the supplier's stored
latest score; the Directive 9 coverage from the SQL twins of services/d9.py; the trends from the
quarterly snapshots (RollupSnapshot), which the rollup-snapshot job captures each night with one
INSERT ... SELECT. Nothing here loads suppliers one by one: the number of queries is the same for
ten suppliers and for ten thousand.

Every count carries the list that shows its rows (a `Number`: endpoint and query arguments, the
filters of services/scope.py), so the page links each number to the list behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from vendorrisk.extensions import db
from vendorrisk.models import (
    AREA_COLUMNS,
    CONTRACT_CLAUSES,
    AreaScore,
    Assessment,
    Attestation,
    AttestationKind,
    Contract,
    Finding,
    FindingStatus,
    RollupSnapshot,
    Severity,
    Supplier,
    SupplierCategory,
)
from vendorrisk.services.register import d9
from vendorrisk.services.reporting import history as rollup_history
from vendorrisk.services.reporting import scope
from vendorrisk.services.reporting.scope import Scope

#: Rows of the heat map (the weakest suppliers of the critical and high tiers).
HEAT_ROWS = 50
#: Tiers the heat map shows.
HEAT_TIERS = ("critical", "high")
#: Supplier ids stay below this (area_rows packs a score and an id into one number).
_ID_SPAN = 10**9
#: Quarters the trends show, at most.
TREND_QUARTERS = 8
#: Directives, as the area keys store them.
DIRECTIVES = tuple(str(n) for n in range(1, 11))
#: NIST CSF function names.
CSF_NAMES = {
    "GV": _l("Govern"),
    "ID": _l("Identify"),
    "PR": _l("Protect"),
    "DE": _l("Detect"),
    "RS": _l("Respond"),
    "RC": _l("Recover"),
}
#: The coverage rows: key -> label.
COVERAGE_LABELS = {
    "security_action_star1": _l("SECURITY ACTION ★ or more"),
    "security_action_star2": _l("SECURITY ACTION ★★ (two stars)"),
    "isms_valid": _l("Valid ISMS certification"),
    "insurance_valid": _l("Valid cyber insurance"),
    "level_meets": _l("Meets the required evaluation level"),
    "level_below": _l("Below the required evaluation level"),
}
SUPPLIERS = "suppliers.index"
ASSESSMENTS = "assessments.index"
FINDINGS = "assessments.findings"


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A count and the list that shows those rows: an endpoint and its query arguments."""

    value: int
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)

    def share(self, total: Number | int) -> float | None:
        """This count as a percentage of `total` (None when the total is 0)."""
        whole = total.value if isinstance(total, Number) else total
        return round(self.value * 100 / whole, 1) if whole else None


@dataclass(frozen=True)
class TierRow:
    tier: str  # a tier, or "none" (not yet decided)
    cells: list[Number]  # one per category
    total: Number


@dataclass(frozen=True)
class TierTable:
    categories: list[SupplierCategory]
    rows: list[TierRow]
    totals: list[Number]  # one per category
    total: Number


@dataclass(frozen=True)
class ScorePanel:
    #: (bucket, count): the SCORE_BUCKETS in order, then "none".
    buckets: list[tuple[str, Number]]
    scored: Number
    average: float | None


@dataclass(frozen=True)
class AreaRow:
    """One directive or CSF function over the suppliers' latest completed assessments."""

    kind: str
    key: str
    average: float
    worst: float
    worst_supplier_id: int
    worst_name_ja: str
    worst_name_en: str
    #: Suppliers with a score for this area.
    suppliers: int


@dataclass(frozen=True)
class HeatRow:
    supplier_id: int
    name_ja: str
    name_en: str
    tier: str
    score: float | None
    cells: list[float | None]


@dataclass(frozen=True)
class HeatMap:
    columns: list[str]
    rows: list[HeatRow]
    #: Suppliers of those tiers with a score (the rows shown are the weakest HEAT_ROWS).
    total: int
    #: The supplier-list arguments of the full lists, weakest first: (tier, args) per tier.
    lists: list[tuple[str, dict[str, Any]]]


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


@dataclass(frozen=True)
class Overdue:
    assessments: Number
    rechecks: Number


@dataclass(frozen=True)
class ExpiringRow:
    kind: AttestationKind | str  # an attestation kind, or "contract"
    within: list[Number]  # one per scope.EXPIRING_DAYS


@dataclass(frozen=True)
class FindingRow:
    severity: Severity
    ages: list[Number]  # one per scope.FINDING_AGES
    total: Number


@dataclass(frozen=True)
class FindingPanel:
    rows: list[FindingRow]
    totals: list[Number]
    total: Number
    #: (state, count) for scope.ACCEPTANCE_STATES.
    acceptances: list[tuple[str, Number]]


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
        return rollup_history.quarter_label(self.period)


@dataclass(frozen=True)
class Rollup:
    today: date
    scope: Scope
    tiers: TierTable
    scores: ScorePanel
    directives: list[AreaRow]
    csf: list[AreaRow]
    heat: HeatMap
    coverage: Coverage
    overdue: Overdue
    expiring: list[ExpiringRow]
    findings: FindingPanel
    trends: list[TrendPoint]


# -- the panels --------------------------------------------------------------------------------


def compute(today: date, filters: Scope) -> Rollup:
    """Every panel of the roll-up for the live suppliers in `filters`, as of `today`."""
    return Rollup(
        today=today,
        scope=filters,
        tiers=tier_table(filters),
        scores=score_panel(filters),
        directives=(areas := area_rows(filters))[0],
        csf=areas[1],
        heat=heat_map(filters),
        coverage=coverage(today, filters),
        overdue=overdue(today, filters),
        expiring=expiring(today, filters),
        findings=finding_panel(today, filters),
        trends=trends(filters),
    )


def _where(filters: Scope) -> tuple[sa.ColumnElement[bool], ...]:
    return (scope.LIVE, *scope.supplier_conditions(filters))


def _suppliers(filters: Scope, **args: Any) -> dict[str, Any]:
    """Supplier-list arguments: the live suppliers of the scope, narrowed by `args`."""
    return {"status": "live", **filters.args(), **args}


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def tier_table(filters: Scope) -> TierTable:
    """Live suppliers by tier and category (one GROUP BY)."""
    rows = db.session.execute(
        sa.select(Supplier.tier, Supplier.category, sa.func.count())
        .where(*_where(filters))
        .group_by(Supplier.tier, Supplier.category)
    )
    counts = {(tier or "none", category.value): n for tier, category, n in rows}
    # A filtered tier or category keeps its own row or column only: the others are empty.
    categories = [c for c in SupplierCategory if filters.category in ("", c.value)]
    untiered = ["none"] if any(t == "none" for t, _ in counts) or filters.tier == "none" else []
    tiers = [t for t in (*scope.tiers(), *untiered) if filters.tier in ("", t)]

    def number(tier: str | None, category: str | None) -> Number:
        value = sum(
            n for (t, c), n in counts.items() if tier in (None, t) and category in (None, c)
        )
        args = {"tier": tier, "category": category}
        return Number(value, SUPPLIERS, _suppliers(filters, **{k: v for k, v in args.items() if v}))

    return TierTable(
        categories=categories,
        rows=[TierRow(t, [number(t, c) for c in categories], number(t, None)) for t in tiers],
        totals=[number(None, c) for c in categories],
        total=number(None, None),
    )


def score_panel(filters: Scope) -> ScorePanel:
    """Live suppliers by bucket of their latest score, and the average (one query)."""
    buckets = [*scope.SCORE_BUCKETS, "none"]
    row = db.session.execute(
        sa.select(
            *(_count_if(scope.score_condition(b)) for b in buckets),
            sa.func.count(Supplier.latest_score),
            sa.func.avg(Supplier.latest_score),
        ).where(*_where(filters))
    ).one()
    average = row[-1]
    return ScorePanel(
        buckets=[
            (b, Number(int(n), SUPPLIERS, _suppliers(filters, score=b, sort="score")))
            for b, n in zip(buckets, row, strict=False)
        ],
        scored=Number(int(row[-2]), SUPPLIERS, _suppliers(filters, score="any", sort="score")),
        average=None if average is None else round(float(average), 1),
    )


def _latest_assessments(filters: Scope) -> sa.CTE:
    """The latest completed assessment of each live supplier in scope (id per supplier)."""
    return (
        sa.select(
            Supplier.id.label("supplier_id"),
            scope.latest_completed(Assessment.id).label("assessment_id"),
        )
        .where(*_where(filters))
        # Materialized: PostgreSQL would otherwise look it up twice per supplier in a hash join.
        .cte("latest")
        .prefix_with("MATERIALIZED")
    )


def area_rows(filters: Scope) -> tuple[list[AreaRow], list[AreaRow]]:
    """Average, worst and whose per directive and per CSF function (one pass, and the names).

    The weakest supplier of an area comes out of the same pass: the minimum of the score in
    tenths (scores have one decimal) shifted left of the supplier id is the lowest score with
    the lowest id, with no second scan or sort.
    """
    latest = _latest_assessments(filters)
    columns = list(AREA_COLUMNS.items())
    aggregates = []
    for _, name in columns:
        column = getattr(AreaScore, name)
        aggregates += [
            sa.func.avg(column),
            sa.func.min(column),
            sa.func.min(sa.func.round(column * 10) * _ID_SPAN + AreaScore.supplier_id),
            sa.func.count(column),
        ]
    row = db.session.execute(
        sa.select(*aggregates).join_from(
            AreaScore, latest, AreaScore.assessment_id == latest.c.assessment_id
        )
    ).one()
    found = []
    for index, (area, _) in enumerate(columns):
        average, worst, packed, counted = row[4 * index : 4 * index + 4]
        if counted:
            found.append((area, round(float(average), 1), worst, int(packed) % _ID_SPAN, counted))
    names = _names({supplier_id for *_, supplier_id, _ in found})
    rows = [
        AreaRow(kind, key, average, worst, sid, *names.get(sid, ("", "")), counted)
        for (kind, key), average, worst, sid, counted in found
    ]
    return [r for r in rows if r.kind == "directive"], [r for r in rows if r.kind == "csf"]


def _names(supplier_ids: set[int]) -> dict[int, tuple[str, str]]:
    if not supplier_ids:
        return {}
    rows = db.session.execute(
        sa.select(Supplier.id, Supplier.name_ja, Supplier.name_en).where(
            Supplier.id.in_(supplier_ids)
        )
    )
    return {sid: (ja, en) for sid, ja, en in rows}


def heat_map(filters: Scope) -> HeatMap:
    """Supplier x directive for the weakest HEAT_ROWS suppliers of the top tiers (two queries)."""
    where = (*_where(filters), Supplier.tier.in_(HEAT_TIERS), Supplier.latest_score.is_not(None))
    top = db.session.execute(
        sa.select(
            Supplier.id,
            Supplier.name_ja,
            Supplier.name_en,
            Supplier.tier,
            Supplier.latest_score,
            scope.latest_completed(Assessment.id),
            sa.func.count().over(),
        )
        .where(*where)
        .order_by(Supplier.latest_score, Supplier.id)
        .limit(HEAT_ROWS)
    ).all()
    directives = [getattr(AreaScore, AREA_COLUMNS[("directive", k)]) for k in DIRECTIVES]
    scores: dict[int, list[float | None]] = {}
    if top:
        cells = db.session.execute(
            sa.select(AreaScore.assessment_id, *directives).where(
                AreaScore.assessment_id.in_([row[5] for row in top if row[5] is not None])
            )
        )
        scores = {assessment_id: list(values) for assessment_id, *values in cells}
    return HeatMap(
        columns=list(DIRECTIVES),
        rows=[
            HeatRow(sid, ja, en, tier, score, scores.get(aid, [None] * len(DIRECTIVES)))
            for sid, ja, en, tier, score, aid, _ in top
        ],
        total=top[0][6] if top else 0,
        lists=[
            (t, _suppliers(filters, tier=t, score="any", sort="score"))
            for t in HEAT_TIERS
            if filters.tier in ("", t)
        ],
    )


def coverage(today: date, filters: Scope) -> Coverage:
    """The Directive 9 controls over the live suppliers in scope (one query over the d9 twins)."""
    facts = (
        sa.select(
            d9.security_action_rank(today).label("sa"),
            d9.valid_until(AttestationKind.isms).label("isms"),
            d9.valid_until(AttestationKind.cyber_insurance).label("insurance"),
            d9.clause_mask(today).label("mask"),
            d9.held_rank(today).label("held"),
            d9.required_rank().label("required"),
        )
        .where(*_where(filters))
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
            *(_count_if(cond) for cond, _ in (*conditions.values(), *clauses.values())),
        )
    ).one()
    live = Number(int(row[0]), SUPPLIERS, _suppliers(filters))

    def rows(items: dict, values: Iterable[int]) -> list[CoverageRow]:
        out = []
        for (key, (_, args)), value in zip(items.items(), values, strict=True):
            number = Number(int(value), SUPPLIERS, _suppliers(filters, **args))
            out.append(CoverageRow(key, number, number.share(live)))
        return out

    split = 1 + len(conditions)
    return Coverage(
        live=live,
        rows=rows(conditions, row[1:split]),
        clauses=rows(clauses, row[split:]),
    )


def overdue(today: date, filters: Scope) -> Overdue:
    """Open assessments of live suppliers past their due date, and live suppliers past their
    re-check date.

    With a questionnaire in the filters, an assessment counts when it is of that questionnaire
    (not when its supplier's latest completed one is, as in the other panels): the page says so.
    """
    supplier_scope = Scope(filters.category, filters.tier, filters.owner_id)
    template = [Assessment.template_id == filters.template] if filters.template else []
    late = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Assessment)
        .join(Supplier, Supplier.id == Assessment.supplier_id)
        .where(
            scope.assessment_overdue(today),
            scope.LIVE,
            *scope.supplier_conditions(supplier_scope),
            *template,
        )
    )
    rechecks = db.session.scalar(
        sa.select(sa.func.count()).where(*_where(filters), Supplier.next_review_on < today)
    )
    return Overdue(
        assessments=Number(late or 0, ASSESSMENTS, {"overdue": "1", "live": "1", **filters.args()}),
        rechecks=Number(rechecks or 0, SUPPLIERS, _suppliers(filters, review="overdue")),
    )


def expiring(today: date, filters: Scope) -> list[ExpiringRow]:
    """Live suppliers whose cover of each attestation kind, and of contracts, lapses within 30
    and 90 days (two grouped queries). An attestation without an expiry date never lapses: a
    supplier holding one of a kind has no cover of that kind expiring."""
    windows = scope.EXPIRING_DAYS
    per_kind = (
        sa.select(
            Attestation.kind.label("kind"),
            sa.func.max(Attestation.expires_on).label("until"),
            _count_if(Attestation.expires_on.is_(None)).label("permanent"),
        )
        .join(Supplier, Supplier.id == Attestation.supplier_id)
        .where(*_where(filters))
        .group_by(Attestation.supplier_id, Attestation.kind)  # the order of an index
        .subquery("per_kind")
    )
    counts = {
        getattr(kind, "value", kind): values
        for kind, *values in db.session.execute(
            sa.select(
                per_kind.c.kind,
                *(_count_if(per_kind.c.until <= today + timedelta(days=d)) for d in windows),
            )
            .where(per_kind.c.until >= today, per_kind.c.permanent == 0)
            .group_by(per_kind.c.kind)
        )
    }
    per_supplier = (
        sa.select(
            sa.func.max(Contract.ends_on).label("last_end"),
            _count_if(Contract.ends_on.is_(None)).label("open_ended"),
        )
        .join(Supplier, Supplier.id == Contract.supplier_id)
        .where(
            *_where(filters),
            sa.or_(Contract.starts_on.is_(None), Contract.starts_on <= today),
            sa.or_(Contract.ends_on.is_(None), Contract.ends_on >= today),
        )
        .group_by(Contract.supplier_id)
        .subquery("per_supplier")
    )
    ending = db.session.execute(
        sa.select(
            *(
                _count_if(
                    sa.and_(
                        per_supplier.c.open_ended == 0,
                        per_supplier.c.last_end <= today + timedelta(days=d),
                    )
                )
                for d in windows
            )
        )
    ).one()
    counts["contract"] = list(ending)

    def row(kind: str) -> ExpiringRow:
        values = counts.get(kind) or [0] * len(windows)
        return ExpiringRow(
            AttestationKind(kind) if kind in AttestationKind.__members__ else kind,
            [
                Number(int(n), SUPPLIERS, _suppliers(filters, expiring=kind, within=d))
                for n, d in zip(values, windows, strict=True)
            ],
        )

    return [row(kind) for kind in scope.EXPIRING_KINDS]


def _finding_scope(filters: Scope) -> list[sa.ColumnElement[bool]]:
    """Findings of the live suppliers in scope (the findings list's `live=1`)."""
    return [Finding.supplier_id.in_(scope.in_scope(filters, live=True))]


def finding_panel(today: date, filters: Scope) -> FindingPanel:
    """Open findings of live suppliers by severity and age, and risk acceptances expired or
    expiring (one query: the acceptances are summed over the severities)."""
    ages, states = list(scope.FINDING_AGES), scope.ACCEPTANCE_STATES
    is_open = Finding.status.in_(scope.OPEN_FINDINGS)
    rows = db.session.execute(
        sa.select(
            Finding.severity,
            *(_count_if(sa.and_(is_open, scope.finding_age_condition(a, today))) for a in ages),
            *(_count_if(scope.acceptance_condition(state, today)) for state in states),
        )
        .where(
            Finding.status.in_((*scope.OPEN_FINDINGS, FindingStatus.risk_accepted)),
            *_finding_scope(filters),
        )
        .group_by(Finding.severity)
    ).all()
    counts = {row[0].value: [int(n) for n in row[1 : 1 + len(ages)]] for row in rows}
    accepted = [sum(int(row[1 + len(ages) + i]) for row in rows) for i in range(len(states))]
    base = {"status": "open", "live": "1", **filters.args()}

    def number(value: int, **args: Any) -> Number:
        return Number(value, FINDINGS, {**base, **args})

    table = [
        FindingRow(
            Severity(severity),
            [number(n, severity=severity, age=age) for n, age in zip(values, ages, strict=True)],
            number(sum(values), severity=severity),
        )
        for severity in scope.severity_values()
        for values in [counts.get(severity, [0] * len(ages))]
    ]
    by_age = [sum(r.ages[i].value for r in table) for i in range(len(ages))]
    acceptance = {"status": "risk_accepted", "live": "1", **filters.args()}
    return FindingPanel(
        rows=table,
        totals=[number(n, age=age) for n, age in zip(by_age, ages, strict=True)],
        total=number(sum(by_age)),
        acceptances=[
            (state, Number(n, FINDINGS, {**acceptance, "accepted": state}))
            for state, n in zip(states, accepted, strict=True)
        ],
    )


def _snapshot_conditions(filters: Scope) -> list[sa.ColumnElement[bool]]:
    s = RollupSnapshot
    return scope.conditions_on(
        filters,
        category=s.category,
        tier=s.tier,
        owner_id=s.owner_id,
        template=lambda: s.template_id,
    )


def trends(filters: Scope) -> list[TrendPoint]:
    """The last TREND_QUARTERS quarters from the stored snapshots, oldest first (one query)."""
    s = RollupSnapshot
    shares = {
        "security_action_star1": s.security_action >= 1,
        "security_action_star2": s.security_action >= 2,
        "isms_valid": s.isms_valid,
        "insurance_valid": s.insurance_valid,
        "clauses_all": s.clauses == len(CONTRACT_CLAUSES),
        "level_meets": s.level_met,
    }
    rows = db.session.execute(
        sa.select(
            s.period,
            sa.func.count(),
            sa.func.avg(s.score),
            *(_count_if(condition) for condition in shares.values()),
            _count_if(s.review_overdue),
            _count_if(s.assessment_overdue),
            sa.func.coalesce(sa.func.sum(s.open_findings), 0),
        )
        .where(*_snapshot_conditions(filters))
        .group_by(s.period)
        .order_by(s.period.desc())
        .limit(TREND_QUARTERS)
    ).all()
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


# -- exports -------------------------------------------------------------------------------------


def export_frames(today: date, filters: Scope) -> dict[str, pd.DataFrame]:
    """One DataFrame per panel, with stable English column names (for exports and the report).

    Text columns named "label" are in the current language; every other value is a key or a
    number.
    """
    data = compute(today, filters)
    return {
        "tiers": _tiers_frame(data.tiers),
        "scores": _scores_frame(data),
        "directives": _areas_frame(data.directives, "directive"),
        "csf": _areas_frame(data.csf, "function"),
        "heat_map": _heat_frame(data.heat),
        "coverage": _coverage_frame(data.coverage),
        "overdue": pd.DataFrame(
            [
                {"item": "assessments_overdue", "count": data.overdue.assessments.value},
                {"item": "rechecks_overdue", "count": data.overdue.rechecks.value},
            ]
        ),
        "expiring": _expiring_frame(data.expiring),
        "findings": _findings_frame(data.findings),
        "acceptances": pd.DataFrame(
            [{"state": state, "findings": n.value} for state, n in data.findings.acceptances]
        ),
        "trends": _trends_frame(data.trends),
    }


def _scores_frame(data: Rollup) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"bucket": bucket, "suppliers": n.value, "share_percent": n.share(data.tiers.total)}
            for bucket, n in data.scores.buckets
        ]
    )


def _heat_frame(heat: HeatMap) -> pd.DataFrame:
    directives = [f"directive_{k}" for k in DIRECTIVES]
    columns = ["supplier_id", "supplier", "supplier_en", "tier", "score", *directives]
    return pd.DataFrame(
        [[r.supplier_id, r.name_ja, r.name_en, r.tier, r.score, *r.cells] for r in heat.rows],
        columns=columns,
    )


def _expiring_frame(rows: list[ExpiringRow]) -> pd.DataFrame:
    columns = ["item", *(f"within_{d}_days" for d in scope.EXPIRING_DAYS)]
    return pd.DataFrame(
        [[str(r.kind), *(n.value for n in r.within)] for r in rows], columns=columns
    )


def _tiers_frame(table: TierTable) -> pd.DataFrame:
    rows = [
        {
            "tier": r.tier,
            **{c.value: n.value for c, n in zip(table.categories, r.cells, strict=True)},
            "total": r.total.value,
        }
        for r in table.rows
    ]
    rows.append(
        {
            "tier": "total",
            **{c.value: n.value for c, n in zip(table.categories, table.totals, strict=True)},
            "total": table.total.value,
        }
    )
    return pd.DataFrame(rows, columns=["tier", *(c.value for c in table.categories), "total"])


def _areas_frame(rows: list[AreaRow], name: str) -> pd.DataFrame:
    columns = [name, "average", "worst", "worst_supplier_id", "worst_supplier", "suppliers"]
    return pd.DataFrame(
        [
            {
                name: r.key,
                "average": r.average,
                "worst": r.worst,
                "worst_supplier_id": r.worst_supplier_id,
                "worst_supplier": r.worst_name_ja,
                "suppliers": r.suppliers,
            }
            for r in rows
        ],
        columns=columns,
    )


def _coverage_frame(panel: Coverage) -> pd.DataFrame:
    rows = [
        {"item": r.key, "label": str(COVERAGE_LABELS[r.key]), "suppliers": r.count.value}
        | {"share_percent": r.share}
        for r in panel.rows
    ]
    rows += [
        {"item": r.key, "label": str(d9.CLAUSE_LABELS[r.key]), "suppliers": r.count.value}
        | {"share_percent": r.share}
        for r in panel.clauses
    ]
    frame = pd.DataFrame(rows, columns=["item", "label", "suppliers", "share_percent"])
    frame["live_suppliers"] = panel.live.value
    return frame


def _findings_frame(panel: FindingPanel) -> pd.DataFrame:
    ages = [f"age_{age.replace('-', '_').replace('+', '_plus')}_days" for age in scope.FINDING_AGES]
    rows = [
        {
            "severity": r.severity.value,
            **{a: n.value for a, n in zip(ages, r.ages, strict=True)},
            "total": r.total.value,
        }
        for r in panel.rows
    ]
    return pd.DataFrame(rows, columns=["severity", *ages, "total"])


def _trends_frame(points: list[TrendPoint]) -> pd.DataFrame:
    shares = [*COVERAGE_LABELS, "clauses_all"]
    shares.remove("level_below")
    columns = [
        "quarter",
        "period_start",
        "suppliers",
        "average_score",
        *(f"{key}_percent" for key in shares),
        "review_overdue",
        "assessment_overdue",
        "open_findings",
    ]
    return pd.DataFrame(
        [
            {
                "quarter": p.label,
                "period_start": p.period,
                "suppliers": p.suppliers,
                "average_score": p.average_score,
                **{f"{key}_percent": p.shares[key] for key in shares},
                "review_overdue": p.review_overdue,
                "assessment_overdue": p.assessment_overdue,
                "open_findings": p.open_findings,
            }
            for p in points
        ],
        columns=columns,
    )


def directive_titles(template: Any, lang: str) -> dict[str, str]:
    """Directive number -> the title of its section ("d1".."d10") in a questionnaire template."""
    if template is None:
        return {}
    return {
        section.id[1:]: section.title.get(lang)
        for section in template.sections
        if section.id.startswith("d") and section.id[1:] in DIRECTIVES
    }
