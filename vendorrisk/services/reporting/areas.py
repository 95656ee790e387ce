"""Scores by area over the suppliers' latest completed assessments: average, worst and whose per
directive and per NIST CSF function (from the AreaScore rows stored at completion), and the heat
map of the weakest suppliers of the top tiers, directive by directive."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale

from vendorrisk.extensions import db
from vendorrisk.i18n.labels import direction_title
from vendorrisk.models import AREA_COLUMNS, AreaScore, Assessment, Supplier
from vendorrisk.services.reporting import scope
from vendorrisk.services.reporting.counts import live_in_scope, supplier_list
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.vocab import Tier

#: Rows of the heat map (the weakest suppliers of the critical and high tiers).
HEAT_ROWS = 50
#: Tiers the heat map shows.
HEAT_TIERS = (Tier.critical.value, Tier.high.value)
#: Supplier ids stay below this (area_rows packs a score and an id into one number).
_ID_SPAN = 10**9
#: Directives, as the area keys store them.
DIRECTIVES = tuple(str(n) for n in range(1, 11))


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


def _latest_assessments(filters: Scope) -> sa.CTE:
    """The latest completed assessment of each live supplier in scope (id per supplier)."""
    return (
        sa.select(
            Supplier.id.label("supplier_id"),
            scope.latest_completed(Assessment.id).label("assessment_id"),
        )
        .where(*live_in_scope(filters))
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
    columns = list(AREA_COLUMNS.items())
    row = db.session.execute(_area_statement(filters)).one()
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


@lru_cache(maxsize=32)
def _area_statement(filters: Scope) -> sa.Select:
    """Per area of AREA_COLUMNS: the average, the worst, the worst packed with its supplier id,
    and the count, over the latest completed assessments."""
    latest = _latest_assessments(filters)
    aggregates = []
    for name in AREA_COLUMNS.values():
        column = getattr(AreaScore, name)
        aggregates += [
            sa.func.avg(column),
            sa.func.min(column),
            sa.func.min(sa.func.round(column * 10) * _ID_SPAN + AreaScore.supplier_id),
            sa.func.count(column),
        ]
    return sa.select(*aggregates).join_from(
        AreaScore, latest, AreaScore.assessment_id == latest.c.assessment_id
    )


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
    """Supplier x directive for the weakest HEAT_ROWS suppliers of the top tiers (one query: the
    weakest picked first, then their latest completed assessment's area scores joined)."""
    rows = db.session.execute(_heat_statement(filters, HEAT_ROWS)).all()
    return HeatMap(
        columns=list(DIRECTIVES),
        rows=[
            HeatRow(sid, ja, en, tier, score, list(cells))
            for sid, ja, en, tier, score, _, _, *cells in rows
        ],
        total=rows[0].total if rows else 0,
        lists=[
            (t, supplier_list(filters, tier=t, score="any", sort="score"))
            for t in HEAT_TIERS
            if filters.tier in ("", t)
        ],
    )


@lru_cache(maxsize=32)
def _heat_statement(filters: Scope, limit: int) -> sa.Select:
    top = (
        sa.select(
            Supplier.id.label("id"),
            Supplier.name_ja,
            Supplier.name_en,
            Supplier.tier,
            Supplier.latest_score.label("score"),
            scope.latest_completed(Assessment.id).label("assessment_id"),
            sa.func.count().over().label("total"),
        )
        .where(
            *live_in_scope(filters),
            Supplier.tier.in_(HEAT_TIERS),
            Supplier.latest_score.is_not(None),
        )
        .order_by(Supplier.latest_score, Supplier.id)
        .limit(limit)
        .subquery("weakest")
    )
    directives = [getattr(AreaScore, AREA_COLUMNS[("directive", k)]) for k in DIRECTIVES]
    return (
        sa.select(top, *directives)
        .outerjoin(AreaScore, AreaScore.assessment_id == top.c.assessment_id)
        .order_by(top.c.score, top.c.id)
    )


def directive_titles(template: Any, lang: str) -> dict[str, str]:
    """Directive number -> its staff-side title, for the directions the template covers.

    Never the questionnaire's own section titles: those speak to the supplier (貴社の…).
    """
    if template is None:
        return {}
    with force_locale(lang):
        return {
            section.id[1:]: direction_title(section.id[1:])
            for section in template.sections
            if section.id.startswith("d") and section.id[1:] in DIRECTIVES
        }
