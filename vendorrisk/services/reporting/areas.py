"""Scores by area over the suppliers' latest completed assessments: average, worst and whose per
directive and per NIST CSF function (from the AreaScore rows stored at completion), and the heat
map of the weakest suppliers of the top tiers, directive by directive."""

from __future__ import annotations

from dataclasses import dataclass
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
    where = (
        *live_in_scope(filters),
        Supplier.tier.in_(HEAT_TIERS),
        Supplier.latest_score.is_not(None),
    )
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
            (t, supplier_list(filters, tier=t, score="any", sort="score"))
            for t in HEAT_TIERS
            if filters.tier in ("", t)
        ],
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
