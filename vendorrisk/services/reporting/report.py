"""The management report (経営層への報告, Direction 6): roll-up, self-assessment, top risks.

One set of facts feeds two renderings: the printable HTML page and the XLSX workbook. Both are
built in the reader's chosen language (Japanese or English), whatever the UI language; the
workbook's text cells are neutralised against formula injection like every export.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import IO, Any

import pandas as pd
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.i18n.labels import (
    CHAIN_LABELS,
    CLAUSE_LABELS,
    COVERAGE_LABELS,
    direction_title,
    label,
    level_name,
    tier_name,
)
from vendorrisk.models import (
    Finding,
    Severity,
    Supplier,
    SupplierStatus,
    User,
    localized_name,
)
from vendorrisk.scoring.tiers import DEFAULT_TEMPLATE, LEVELS
from vendorrisk.services import spreadsheets
from vendorrisk.services.register import d9, scs
from vendorrisk.services.reporting import areas, cache, exports, rollup
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.services.selfassessment.summary import Summary, summary

#: Rows of each top-risk table.
TOP = 10
_TIER_RANK = sa.case({tier: i for i, tier in enumerate(LEVELS)}, value=Supplier.tier, else_=-1)
_SEVERITY_RANK = sa.case({s.value: i for i, s in enumerate(Severity)}, value=Finding.severity)


@dataclass(frozen=True)
class RiskySupplier:
    """A supplier among the top risks, with the facts that put it there."""

    supplier_id: int
    name_ja: str
    name_en: str
    tier: str | None
    score: float | None
    required: str
    held: str
    serious_findings: int
    open_findings: int
    #: The SCS scheme runs and it holds less than the level asked (never a step count).
    short: bool

    def name_for(self, locale: str) -> str:
        return localized_name(self.name_ja, self.name_en, locale)


@dataclass(frozen=True)
class OpenFinding:
    finding_id: int
    supplier_id: int
    supplier_ja: str
    supplier_en: str
    title: str
    severity: Severity
    due_on: date | None
    #: The owner's name (or address), read afresh: users are no figure table (cache.py).
    owner: str
    #: Past its remediation due date (Finding.is_overdue).
    overdue: bool
    age_days: int
    owner_id: int | None = None

    def supplier_for(self, locale: str) -> str:
        return localized_name(self.supplier_ja, self.supplier_en, locale)


@dataclass
class TopRisks:
    suppliers: list[RiskySupplier] = field(default_factory=list)
    findings: list[OpenFinding] = field(default_factory=list)


def _serious_findings() -> sa.ScalarSelect[int]:
    count = sa.select(sa.func.count(Finding.id)).where(
        Finding.supplier_id == Supplier.id,
        Finding.is_open,
        Finding.is_serious,
    )
    return count.correlate(Supplier).scalar_subquery()


def risky_suppliers(today: date, limit: int = TOP) -> list[RiskySupplier]:
    """Live suppliers ranked by tier, short of the SCS level asked, serious open findings, then
    lowest score."""
    stmt = _risky_statement(today, scs.scheme_settings(), limit)
    return [RiskySupplier(*row) for row in db.session.execute(stmt)]


@lru_cache(maxsize=8)
def _risky_statement(today: date, scheme: scs.SchemeSettings, limit: int) -> sa.Select:
    serious = _serious_findings()
    # As a list looked up once, not the count per supplier: most suppliers have none.
    with_serious = Supplier.id.in_(
        sa.select(Finding.supplier_id).where(Finding.is_open, Finding.is_serious)
    )
    short = d9.level_condition(scs.LevelState.short, today, scheme)
    gap = d9.required_rank() - d9.held_rank(today)
    return (
        sa.select(
            Supplier.id,
            Supplier.name_ja,
            Supplier.name_en,
            Supplier.tier,
            Supplier.latest_score,
            d9.required_level(),
            d9.held_level(today),
            serious,
            d9.open_findings(),
            short,
        )
        .where(
            Supplier.status != SupplierStatus.offboarded,
            sa.or_(Supplier.tier.in_(("high", "critical")), short, with_serious),
        )
        .order_by(
            _TIER_RANK.desc(),
            sa.case((short, gap), else_=0).desc(),
            serious.desc(),
            Supplier.latest_score.is_(None).desc(),
            Supplier.latest_score.asc(),
            Supplier.id,
        )
        .limit(limit)
    )


def serious_findings(today: date, limit: int = TOP) -> list[OpenFinding]:
    """Open high and critical findings of live suppliers: critical first, then most overdue."""
    return _with_owners(_findings_first(today, limit))


def _findings_first(today: date, limit: int) -> list[OpenFinding]:
    """serious_findings with their owners' ids only (no name: `_with_owners`)."""
    return [
        OpenFinding(
            *row[:7],
            owner="",
            overdue=row[7],
            age_days=max((today - clock.local_day(row[8])).days, 0),
            owner_id=row[9],
        )
        for row in db.session.execute(_findings_statement(today, limit))
    ]


@lru_cache(maxsize=8)
def _findings_statement(today: date, limit: int) -> sa.Select:
    return (
        sa.select(
            Finding.id,
            Supplier.id,
            Supplier.name_ja,
            Supplier.name_en,
            Finding.title,
            Finding.severity,
            Finding.due_on,
            sa.func.coalesce(Finding.is_overdue(today), False),
            Finding.created_at,
            Finding.owner_id,
        )
        .join(Supplier, Supplier.id == Finding.supplier_id)
        .where(
            Finding.is_open,
            Finding.is_serious,
            Supplier.status != SupplierStatus.offboarded,
        )
        .order_by(
            _SEVERITY_RANK.desc(),
            Finding.due_on.is_(None),
            Finding.due_on.asc(),
            Finding.id,
        )
        .limit(limit)
    )


def _with_owners(findings: list[OpenFinding]) -> list[OpenFinding]:
    """The findings with their owners' names as they are now (one query by primary key)."""
    ids = {f.owner_id for f in findings if f.owner_id is not None}
    names: dict[int, str] = {}
    if ids:
        rows = db.session.execute(
            sa.select(User.id, sa.func.coalesce(User.name, User.email, "")).where(User.id.in_(ids))
        )
        names = {user_id: name for user_id, name in rows}
    return [replace(f, owner=names.get(f.owner_id, "")) for f in findings]


def top_risks(today: date, limit: int = TOP) -> TopRisks:
    """The suppliers and the findings the management report puts first: as last computed for
    that day while no figure has changed since (cache.py), the owners' names read afresh."""
    suppliers, findings = cache.kept(
        "top_risks", (today, limit), lambda: _top_risks_uncached(today, limit)
    )
    return TopRisks(list(suppliers), _with_owners(findings))


def _top_risks_uncached(today: date, limit: int) -> tuple[list[RiskySupplier], list[OpenFinding]]:
    return risky_suppliers(today, limit), _findings_first(today, limit)


@dataclass
class Report:
    """Everything the management report shows, in one language."""

    today: date
    locale: str
    title: str
    #: The supply chain at a glance, as on the roll-up page (all live suppliers).
    rollup: rollup.Rollup
    #: Directive number ("1".."10") -> its title in the report's language.
    directives: dict[str, str]
    risks: TopRisks
    #: The latest self-assessment cycle against the one before (None before the first cycle).
    selfassessment: Summary | None

    def directive_bars(self) -> list[dict[str, Any]]:
        """The self-assessment's directive scores as bar_chart rows."""
        cycle_summary = self.selfassessment
        return [
            {"label": direction_title(d.directive), "value": d.score}
            for d in (cycle_summary.directives if cycle_summary else ())
        ]


def build(today: date, locale: str) -> Report:
    """The report's facts; call inside force_locale(locale) for its labels."""
    template = catalog().get(DEFAULT_TEMPLATE)
    return Report(
        today,
        locale,
        title(today),
        rollup.compute(today, Scope()),
        areas.directive_titles(template, locale),
        top_risks(today),
        summary(today=today, with_indicators=False),
    )


# -- the workbook ---------------------------------------------------------------------------------


def _risk_frames(risks: TopRisks, locale: str) -> dict[str, pd.DataFrame]:
    suppliers = pd.DataFrame(
        [
            {
                gettext("Supplier"): s.name_for(locale),
                gettext("Tier"): tier_name(s.tier),
                gettext("Score"): s.score,
                gettext("Required level"): level_name(s.required),
                gettext("Level held"): level_name(s.held),
                gettext("Open findings (high or critical)"): s.serious_findings,
                gettext("Open findings"): s.open_findings,
            }
            for s in risks.suppliers
        ]
    )
    findings = pd.DataFrame(
        [
            {
                gettext("Finding"): f.title,
                gettext("Supplier"): f.supplier_for(locale),
                gettext("Severity"): label(f.severity),
                gettext("Remediation due date"): f.due_on,
                gettext("Owner"): f.owner,
                gettext("Age (days)"): f.age_days,
            }
            for f in risks.findings
        ]
    )
    return {gettext("Top risks"): suppliers, gettext("Serious findings"): findings}


def _rollup_frames(facts: Report) -> dict[str, pd.DataFrame]:
    data, figure, count = facts.rollup, gettext("Figure"), gettext("Suppliers")
    share = gettext("Share (%)")
    rows = [
        {figure: gettext("Live suppliers"), count: data.coverage.live.value},
        {figure: gettext("Average latest score"), count: data.scores.average},
        *(
            {figure: gettext("Average latest score, %(edition)s", edition=e.edition),
             count: e.average}
            for e in (data.editions if data.mixed_editions else ())
        ),
        *(
            {figure: tier_name(r.tier) if r.tier != "none" else gettext("Not set"),
             count: r.total.value}
            for r in data.tiers.rows
        ),
        *(
            {figure: str(COVERAGE_LABELS[c.key]), count: c.count.value, share: c.share}
            for c in data.coverage.shown
        ),
        *(
            {figure: str(CLAUSE_LABELS[c.key]), count: c.count.value, share: c.share}
            for c in data.coverage.clauses
        ),
        {figure: gettext("Assessments past their due date"), count: data.overdue.assessments.value},
        {figure: gettext("Suppliers past their re-check date"), count: data.overdue.rechecks.value},
        *(
            {figure: gettext("Open findings: %(severity)s", severity=label(r.severity)),
             count: r.total.value}
            for r in data.findings.rows
        ),
        *(
            {figure: f"{tier_name(r.tier)}: {CHAIN_LABELS[key]}", count: n.value,
             share: r.share(key)}
            for r in data.chain.rows
            for key, n in r.counts()
        ),
    ]  # fmt: skip
    directives = pd.DataFrame(
        [
            {
                gettext("Direction"): facts.directives.get(a.key)
                or gettext("Direction %(n)s", n=a.key),
                gettext("Average"): a.average,
                gettext("Worst"): a.worst,
                gettext("Weakest supplier"): localized_name(
                    a.worst_name_ja, a.worst_name_en, facts.locale
                ),
                gettext("Suppliers"): a.suppliers,
            }
            for a in sorted(data.directives, key=lambda a: a.average)
        ]
    )
    trends = pd.DataFrame(
        [
            {
                gettext("Quarter"): p.label,
                gettext("Suppliers"): p.suppliers,
                gettext("Average score"): p.average_score,
                **{
                    f"{COVERAGE_LABELS[key]} (%)": p.shares.get(key)
                    for key in ("security_action_star1", "isms_valid", "insurance_valid")
                },
                gettext("Suppliers past their re-check date"): p.review_overdue,
                gettext("Suppliers with an overdue assessment"): p.assessment_overdue,
            }
            for p in data.trends
        ]
    )
    return {
        gettext("Roll-up"): pd.DataFrame(rows, columns=[figure, count, share]),
        gettext("Weakest directions"): directives,
        gettext("Trends by quarter"): trends,
    }


def _edition_note(cycle_summary: Summary) -> str:
    """The edition the scores are on, and how the previous cycle's were made comparable."""
    if not cycle_summary.edition_break:
        return cycle_summary.edition
    return gettext(
        "%(new)s (previous cycle: %(old)s, through the crosswalk)",
        new=cycle_summary.edition,
        old=cycle_summary.previous_edition,
    )


def _selfassessment_frames(
    cycle_summary: Summary | None, summary_locale: str
) -> dict[str, pd.DataFrame]:
    if cycle_summary is None:
        return {}
    directives = pd.DataFrame(
        [
            {
                gettext("Direction"): d.directive,
                gettext("Title"): d.title.get(summary_locale) if d.title else "",
                cycle_summary.cycle.name: d.score,
                (
                    cycle_summary.previous.name
                    if cycle_summary.previous
                    else gettext("Previous cycle")
                ): (d.previous),
                gettext("Change"): d.delta,
                gettext("Edition"): _edition_note(cycle_summary),
            }
            for d in cycle_summary.directives
        ]
    )
    kpis = pd.DataFrame(
        [
            {
                gettext("KPI"): str(k.definition.label),
                gettext("Unit"): str(k.definition.unit_label),
                cycle_summary.cycle.name: k.value,
                (
                    cycle_summary.previous.name
                    if cycle_summary.previous
                    else gettext("Previous cycle")
                ): (k.previous),
            }
            for k in cycle_summary.kpis
        ]
    )
    return {gettext("Self-assessment"): directives, gettext("KPIs"): kpis}


def write_workbook(sheets: dict[str, pd.DataFrame], target: str | IO[bytes], title: str) -> None:
    """One sheet per frame, a bold header, readable widths; every text cell safe."""
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            sheet_name = exports.sheet_name(name)
            exports.safe_frame(frame, "xlsx").to_excel(
                writer, sheet_name=sheet_name, index=False, startrow=2
            )
            sheet = writer.sheets[sheet_name]
            sheet["A1"] = spreadsheets.safe_cell(f"{title} — {name}")
            sheet["A1"].font = Font(bold=True, size=13)
            for cell in sheet[3]:
                cell.font = Font(bold=True)
            for index, column in enumerate(frame.columns, start=1):
                values = [str(column), *(str(v) for v in frame[column].head(200))]
                width = min(max(len(v) for v in values) * 1.6 + 2, 60)
                sheet.column_dimensions[get_column_letter(index)].width = width
            sheet.freeze_panes = "A4"


def title(today: date) -> str:
    return gettext("Supply-chain security report, %(date)s", date=today.isoformat())


def workbook(today: date, locale: str, target: str | IO[bytes]) -> None:
    """Write the management report as an XLSX workbook in `locale`."""
    with force_locale(locale):
        facts = build(today, locale)
        sheets = (
            _rollup_frames(facts)
            | _risk_frames(facts.risks, locale)
            | _selfassessment_frames(facts.selfassessment, locale)
        )
        write_workbook(sheets, target, facts.title)
