"""The CISO's supply-chain roll-up (全体状況): every panel one SQL aggregate over stored data.

Scores come from the per-area rows stored at completion (AreaScore) and the supplier's stored
latest score; the Direction 9 coverage from the SQL twins of services/register/d9.py; the
trends from the quarterly snapshots (RollupSnapshot), which the rollup-snapshot job captures
each night with one INSERT ... SELECT. Nothing here loads suppliers one by one: the number of
queries is the same for ten suppliers and for ten thousand.

This module holds the whole (`compute`) and the register panels: tiers by category, score
buckets, what is overdue, cover expiring, open findings by age. The other panels have a module
each: areas.py (directives, CSF functions, the heat map), coverage.py (Direction 9), trends.py
(the quarterly snapshots), chain_panel.py (the subcontractors of the top tiers); frames.py turns
the whole into tables. Every count is a counts.Number, which links to the list behind it.

The whole is kept (cache.py) until a write changes a table it reads, or the day changes: the
page, the management report and the exports share it. Each panel's statement is built once for
its filters and day (the `_..._statement` builders): building the expressions cost more than
SQLAlchemy's compiling them, which it caches by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import current_app

from vendorrisk.extensions import db
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Contract,
    Finding,
    FindingStatus,
    Severity,
    Supplier,
    SupplierCategory,
)
from vendorrisk.services.reporting import areas, cache, chain_panel, coverage, scope, trends
from vendorrisk.services.reporting.areas import AreaRow, HeatMap
from vendorrisk.services.reporting.chain_panel import ChainPanel
from vendorrisk.services.reporting.counts import (
    ASSESSMENTS,
    FINDINGS,
    SUPPLIERS,
    Number,
    count_if,
    live_in_scope,
    supplier_list,
)
from vendorrisk.services.reporting.coverage import Coverage
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.services.reporting.trends import TrendPoint

# -- results ----------------------------------------------------------------------------------


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
class EditionScores:
    """The suppliers whose latest score is on one edition of the guideline, and their average."""

    #: The edition's label ("Ver 3.0"), or the template id when the catalog no longer has it.
    edition: str
    #: Its questionnaires (templates) among the latest completed assessments.
    templates: tuple[str, ...]
    #: Live suppliers in scope with a latest score on it.
    suppliers: int
    average: float | None


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
    #: The subcontractors of the critical and high tiers (chain_panel.py).
    chain: ChainPanel = field(default_factory=lambda: ChainPanel([]))
    #: The editions the latest scores are on, oldest first: more than one means the averages
    #: mix editions, and the pages say so (with each edition's own figures).
    editions: list[EditionScores] = field(default_factory=list)

    @property
    def mixed_editions(self) -> bool:
        return len(self.editions) > 1


# -- the panels --------------------------------------------------------------------------------


def compute(today: date, filters: Scope) -> Rollup:
    """Every panel of the roll-up for the live suppliers in `filters`, as of `today`: as last
    computed for them and that day while no figure has changed since (cache.py), else afresh.

    The result is shared: read it, never change it."""
    return cache.kept("rollup", (filters, today), lambda: compute_uncached(today, filters))


def compute_uncached(today: date, filters: Scope) -> Rollup:
    """Every panel of the roll-up, computed now (about twenty aggregate queries)."""
    directives, csf = areas.area_rows(filters)
    return Rollup(
        today=today,
        scope=filters,
        tiers=tier_table(filters),
        scores=score_panel(filters),
        directives=directives,
        csf=csf,
        heat=areas.heat_map(filters),
        coverage=coverage.coverage(today, filters),
        overdue=overdue(today, filters),
        expiring=expiring(today, filters),
        findings=finding_panel(today, filters),
        trends=trends.trends(filters),
        chain=chain_panel.chain_panel(filters),
        editions=edition_scores(filters),
    )


def edition_scores(filters: Scope) -> list[EditionScores]:
    """Live scored suppliers by the edition of their latest completed assessment's questionnaire,
    with each edition's average (one GROUP BY; templates to editions through the catalog); none
    while every completed assessment is of one questionnaire."""
    from vendorrisk.catalog import catalog

    # Most registers use one questionnaire: then nothing can mix, and the grouping below (a
    # latest-assessment lookup per supplier) is not worth its cost.
    first, last = db.session.execute(_QUESTIONNAIRES_USED).one()
    if first == last:  # one questionnaire, or none
        return []
    rows = db.session.execute(_edition_statement(filters))
    found: dict[str, list[Any]] = {}
    for template_id, count, total in rows:
        if template_id is None:
            continue
        template = catalog().get(template_id)
        key = template.edition if template else template_id
        label = template.guideline.label if template else template_id
        entry = found.setdefault(key, [label, [], 0, 0.0])
        entry[1].append(template_id)
        entry[2] += int(count)
        entry[3] += float(total or 0)
    return [
        EditionScores(label, tuple(templates), count, round(total / count, 1) if count else None)
        for _, (label, templates, count, total) in sorted(found.items())
    ]


_COMPLETED = Assessment.status == AssessmentStatus.completed
#: The first and the last questionnaire of the completed assessments: one probe each of
#: ix_assessments_status_template.
_QUESTIONNAIRES_USED = sa.select(
    sa.select(sa.func.min(Assessment.template_id)).where(_COMPLETED).scalar_subquery(),
    sa.select(sa.func.max(Assessment.template_id)).where(_COMPLETED).scalar_subquery(),
)


@lru_cache(maxsize=32)
def _edition_statement(filters: Scope) -> sa.Select:
    latest = (
        sa.select(
            scope.latest_completed(Assessment.template_id).label("template_id"),
            Supplier.latest_score.label("score"),
        )
        .where(*live_in_scope(filters), Supplier.latest_score.is_not(None))
        .subquery()
    )
    return (
        sa.select(latest.c.template_id, sa.func.count(), sa.func.sum(latest.c.score))
        .group_by(latest.c.template_id)
        .order_by(latest.c.template_id)
    )


def tier_table(filters: Scope) -> TierTable:
    """Live suppliers by tier and category (one GROUP BY)."""
    rows = db.session.execute(_tier_statement(filters))
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
        return Number(
            value, SUPPLIERS, supplier_list(filters, **{k: v for k, v in args.items() if v})
        )

    return TierTable(
        categories=categories,
        rows=[TierRow(t, [number(t, c) for c in categories], number(t, None)) for t in tiers],
        totals=[number(None, c) for c in categories],
        total=number(None, None),
    )


@lru_cache(maxsize=32)
def _tier_statement(filters: Scope) -> sa.Select:
    return (
        sa.select(Supplier.tier, Supplier.category, sa.func.count())
        .where(*live_in_scope(filters))
        .group_by(Supplier.tier, Supplier.category)
    )


def score_panel(filters: Scope) -> ScorePanel:
    """Live suppliers by bucket of their latest score, and the average (one query)."""
    buckets = [*scope.SCORE_BUCKETS, "none"]
    row = db.session.execute(_score_statement(filters)).one()
    average = row[-1]
    return ScorePanel(
        buckets=[
            (b, Number(int(n), SUPPLIERS, supplier_list(filters, score=b, sort="score")))
            for b, n in zip(buckets, row, strict=False)
        ],
        scored=Number(int(row[-2]), SUPPLIERS, supplier_list(filters, score="any", sort="score")),
        average=None if average is None else round(float(average), 1),
    )


@lru_cache(maxsize=32)
def _score_statement(filters: Scope) -> sa.Select:
    return sa.select(
        *(count_if(scope.score_condition(b)) for b in [*scope.SCORE_BUCKETS, "none"]),
        sa.func.count(Supplier.latest_score),
        sa.func.avg(Supplier.latest_score),
    ).where(*live_in_scope(filters))


def overdue(today: date, filters: Scope) -> Overdue:
    """Open assessments of live suppliers past their due date, and live suppliers past their
    re-check date.

    With a questionnaire in the filters, an assessment counts when it is of that questionnaire
    (not when its supplier's latest completed one is, as in the other panels): the page says so.
    """
    late, rechecks = db.session.execute(_overdue_statement(today, filters)).one()
    return Overdue(
        assessments=Number(late or 0, ASSESSMENTS, {"overdue": "1", "live": "1", **filters.args()}),
        rechecks=Number(rechecks or 0, SUPPLIERS, supplier_list(filters, review="overdue")),
    )


@lru_cache(maxsize=32)
def _overdue_statement(today: date, filters: Scope) -> sa.Select:
    """The overdue assessments and re-checks, as two scalar subqueries of one statement."""
    supplier_scope = filters.of_suppliers()
    template = [Assessment.template_id == filters.template] if filters.template else []
    late = (
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
    rechecks = sa.select(sa.func.count()).where(
        *live_in_scope(filters), Supplier.is_review_overdue(today)
    )
    return sa.select(late.scalar_subquery(), rechecks.scalar_subquery())


def expiring(today: date, filters: Scope) -> list[ExpiringRow]:
    """Live suppliers whose cover of each attestation kind, and of contracts, lapses within 30
    and 90 days (two grouped queries). An attestation without an expiry date never lapses: a
    supplier holding one of a kind has no cover of that kind expiring."""
    windows = scope.EXPIRING_DAYS
    by_kind, by_contract = _expiring_statements(today, filters)
    counts = {getattr(kind, "value", kind): values for kind, *values in db.session.execute(by_kind)}
    ending = db.session.execute(by_contract).one()
    counts["contract"] = list(ending)

    def row(kind: str) -> ExpiringRow:
        values = counts.get(kind) or [0] * len(windows)
        return ExpiringRow(
            AttestationKind(kind) if kind in AttestationKind.__members__ else kind,
            [
                Number(int(n), SUPPLIERS, supplier_list(filters, expiring=kind, within=d))
                for n, d in zip(values, windows, strict=True)
            ],
        )

    return [row(kind) for kind in scope.EXPIRING_KINDS]


@lru_cache(maxsize=32)
def _expiring_statements(today: date, filters: Scope) -> tuple[sa.Select, sa.Select]:
    """The attestations' statement (a row per kind) and the contracts' (one row)."""
    windows = scope.EXPIRING_DAYS
    per_kind = (
        sa.select(
            Attestation.kind.label("kind"),
            sa.func.max(Attestation.expires_on).label("until"),
            count_if(Attestation.expires_on.is_(None)).label("permanent"),
        )
        .join(Supplier, Supplier.id == Attestation.supplier_id)
        .where(*live_in_scope(filters))
        .group_by(Attestation.supplier_id, Attestation.kind)  # the order of an index
        .subquery("per_kind")
    )
    by_kind = (
        sa.select(
            per_kind.c.kind,
            *(count_if(per_kind.c.until <= today + timedelta(days=d)) for d in windows),
        )
        .where(per_kind.c.until >= today, per_kind.c.permanent == 0)
        .group_by(per_kind.c.kind)
    )
    per_supplier = (
        sa.select(
            sa.func.max(Contract.ends_on).label("last_end"),
            count_if(Contract.ends_on.is_(None)).label("open_ended"),
        )
        .join(Supplier, Supplier.id == Contract.supplier_id)
        .where(
            *live_in_scope(filters),
            Contract.in_force_on(today),
        )
        .group_by(Contract.supplier_id)
        .subquery("per_supplier")
    )
    by_contract = sa.select(
        *(
            count_if(
                sa.and_(
                    per_supplier.c.open_ended == 0,
                    per_supplier.c.last_end <= today + timedelta(days=d),
                )
            )
            for d in windows
        )
    )
    return by_kind, by_contract


def _finding_scope(filters: Scope) -> list[sa.ColumnElement[bool]]:
    """Findings of the live suppliers in scope (the findings list's `live=1`)."""
    return [Finding.supplier_id.in_(scope.in_scope(filters, live=True))]


def finding_panel(today: date, filters: Scope) -> FindingPanel:
    """Open findings of live suppliers by severity and age, and risk acceptances expired or
    expiring (one query: the acceptances are summed over the severities)."""
    ages, states = list(scope.FINDING_AGES), scope.ACCEPTANCE_STATES
    zone = current_app.config["TIMEZONE"]
    rows = db.session.execute(_finding_statement(today, filters, zone)).all()
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


@lru_cache(maxsize=32)
def _finding_statement(today: date, filters: Scope, zone: str) -> sa.Select:
    """By severity: open findings by age, and acceptances by state (`zone`: the company's time
    zone, which its days start in)."""
    return (
        sa.select(
            Finding.severity,
            *(
                count_if(sa.and_(Finding.is_open, scope.finding_age_condition(a, today, zone)))
                for a in scope.FINDING_AGES
            ),
            *(count_if(scope.acceptance_condition(s, today)) for s in scope.ACCEPTANCE_STATES),
        )
        .where(
            sa.or_(Finding.is_open, Finding.status == FindingStatus.risk_accepted),
            *_finding_scope(filters),
        )
        .group_by(Finding.severity)
    )
