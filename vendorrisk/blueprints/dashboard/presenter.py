"""The roll-up as the chart macros take it: labels in the user's language, links to the lists."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _

from vendorrisk.i18n import current_locale
from vendorrisk.i18n.labels import (
    ACCEPTANCE_LABELS,
    CHAIN_LABELS,
    CLAUSE_LABELS,
    COVERAGE_LABELS,
    CSF_NAMES,
    TREND_SHARES,
    tier_name,
)
from vendorrisk.models import localized_name
from vendorrisk.services.reporting.counts import Number
from vendorrisk.services.reporting.rollup import Rollup


def href(number: Number) -> str:
    return url_for(number.endpoint, **number.args)


def tier_label(tier: str) -> str:
    return _("Not set") if tier == "none" else tier_name(tier)


def bucket_label(bucket: str) -> str:
    return _("No score yet") if bucket == "none" else bucket.replace("-", "–")


def quarter_label(period: Any) -> str:
    return _("%(year)s Q%(quarter)s", year=period.year, quarter=(period.month - 1) // 3 + 1)


class Labels:
    """Names of the roll-up's keys (directives from the questionnaire's section titles)."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.titles = titles

    def directive(self, key: str) -> str:
        return self.titles.get(key) or _("Direction %(n)s", n=key)

    @staticmethod
    def csf(key: str) -> str:
        return f"{CSF_NAMES[key]} ({key})"

    @staticmethod
    def coverage(key: str) -> str:
        return str(COVERAGE_LABELS[key])

    @staticmethod
    def clause(key: str) -> str:
        return str(CLAUSE_LABELS[key])

    @staticmethod
    def acceptance(state: str) -> str:
        return str(ACCEPTANCE_LABELS[state])

    @staticmethod
    def chain(key: str) -> str:
        return str(CHAIN_LABELS[key])

    @staticmethod
    def layer(depth: int | None) -> str:
        """The deepest layer below a supplier of ours (第1層): depth 1 is 第2層."""
        return _("None recorded") if depth is None else _("Layer %(n)d", n=depth + 1)


def charts(data: Rollup, labels: Labels) -> dict[str, Any]:
    """The rows and series of every chart of the page."""
    trends, locale = data.trends, current_locale()
    return {
        "tiers": [
            {
                "label": tier_label(row.tier),
                "value": row.total.value,
                "href": href(row.total),
                "cls": row.tier,
            }
            for row in data.tiers.rows
        ],
        "scores": [
            {
                "label": bucket_label(bucket),
                "value": n.value,
                "href": href(n),
                "cls": "none" if bucket == "none" else "",
            }
            for bucket, n in data.scores.buckets
        ],
        "directives": [
            {"label": labels.directive(a.key), "value": a.average}
            for a in sorted(data.directives, key=lambda a: a.average)
        ],
        "csf": [
            {"label": labels.csf(a.key), "value": a.average}
            for a in sorted(data.csf, key=lambda a: a.average)
        ],
        "coverage": [
            {
                "label": labels.coverage(c.key),
                "value": c.share,
                "href": href(c.count),
                "cls": "critical" if c.key == "level_below" else "",
            }
            for c in data.coverage.shown
        ],
        "heat_columns": [_("D%(n)s", n=key) for key in data.heat.columns],
        "heat_rows": [
            {
                "label": f"{localized_name(h.name_ja, h.name_en, locale)} "
                f"({tier_name(h.tier)}, {h.score:.1f})",
                "href": url_for("suppliers.detail", supplier_id=h.supplier_id),
                "cells": h.cells,
            }
            for h in data.heat.rows
        ],
        "quarters": [quarter_label(p.period) for p in trends],
        "trend_score": [{"name": _("Average score"), "values": [p.average_score for p in trends]}],
        "trend_coverage": [
            {"name": str(name), "values": [p.shares[key] for p in trends]}
            for key, name in TREND_SHARES.items()
        ],
        "trend_overdue": [
            {
                "name": _("Suppliers past their re-check date"),
                "values": [p.review_overdue for p in trends],
            },
            {
                "name": _("Suppliers with an overdue assessment"),
                "values": [p.assessment_overdue for p in trends],
            },
        ],
        "overdue_top": max([1, *(max(p.review_overdue, p.assessment_overdue) for p in trends)]),
    }
