"""The roll-up as tables: one DataFrame per panel with stable English column names, for the
roll-up export and the management report."""

from __future__ import annotations

from datetime import date

import pandas as pd

from vendorrisk.i18n.labels import CLAUSE_LABELS, COVERAGE_LABELS
from vendorrisk.services.reporting import chain_panel, rollup, scope
from vendorrisk.services.reporting.areas import DIRECTIVES, AreaRow, HeatMap
from vendorrisk.services.reporting.chain_panel import ChainPanel
from vendorrisk.services.reporting.coverage import Coverage
from vendorrisk.services.reporting.rollup import ExpiringRow, FindingPanel, Rollup, TierTable
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.services.reporting.trends import TrendPoint


def export_frames(today: date, filters: Scope) -> dict[str, pd.DataFrame]:
    """One DataFrame per panel, with stable English column names (for exports and the report).

    Text columns named "label" are in the current language; every other value is a key or a
    number.
    """
    data = rollup.compute(today, filters)
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
        "chain": _chain_frame(data.chain),
    }


def _chain_frame(panel: ChainPanel) -> pd.DataFrame:
    """A row per tier: its live suppliers, the counts of chain_panel.KEYS, the deepest level."""
    columns = ["tier", "suppliers", *chain_panel.KEYS, "deepest_levels_below"]
    return pd.DataFrame(
        [
            [r.tier, r.suppliers.value, *(n.value for _, n in r.counts()), r.deepest]
            for r in panel.rows
        ],
        columns=columns,
    )


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
        {"item": r.key, "label": str(CLAUSE_LABELS[r.key]), "suppliers": r.count.value}
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
    # The snapshots keep whether the level was met, not why it was not.
    below = {"level_below", "level_interim", "level_not_running"}
    shares = [key for key in (*COVERAGE_LABELS, "clauses_all") if key not in below]
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
