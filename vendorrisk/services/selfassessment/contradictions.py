"""When the supplier figures beside a Direction 9 item contradict an item rated implemented.

An item rated 実施している (``ItemStatus.done``) while the supplier programme's own figures beside
it (``indicators.D9Indicators``, as its panel shows them) fall short draws a warning. The rules,
one per kind of figure:

* a share indicator of ``SHARE_WARNINGS`` (contracts in force, every clause per tier, assessed
  within the re-check cadence) contradicts it below ``MIN_SHARE`` percent of its population;
* on the contract item, a security clause missing from the contract in force (or no contract) of
  more than ``MAX_CLAUSE_MISSING`` percent of the critical and high-tier suppliers contradicts it.

SECURITY ACTION, ISMS and the required evaluation level have no rule: the guideline asks the
company to know its suppliers' measures, not that each declares or certifies them, and the
required SCS level (★3/★4) cannot be held while the scheme has not started. Only "implemented"
is checked: "partly implemented" already says the work is not finished. No rule queries: they
read the figures computed once for the page, and an empty population contradicts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorrisk.i18n import current_locale
from vendorrisk.i18n.labels import CLAUSE_LABELS
from vendorrisk.models import ItemStatus
from vendorrisk.services.selfassessment.indicators import (
    CLAUSE_TIERS,
    D9Indicators,
    IndicatorValue,
)

#: A share indicator below this percentage of its population contradicts "implemented".
MIN_SHARE = 80.0
#: A security clause missing for more than this percentage of the critical and high-tier
#: suppliers contradicts "implemented" on the contract item.
MAX_CLAUSE_MISSING = 20.0
_LIMIT = f"{MAX_CLAUSE_MISSING:g}"  # "20", as the warning says it
#: The key of the clause contradiction (the share ones take their indicator's key).
CLAUSES = "clauses"

#: The share indicators that can contradict an item, with their warning (%(percent)s,
#: %(achieved)d, %(total)d: the figures of the indicator panel).
SHARE_WARNINGS: Mapping[str, Any] = {
    "contract_in_force": _l(
        "Rated implemented, but supplier data shows only %(percent)s%% (%(achieved)d of "
        "%(total)d) of active outsourcing contractors with a contract in force."
    ),
    "all_clauses_critical": _l(
        "Rated implemented, but supplier data shows only %(percent)s%% (%(achieved)d of "
        "%(total)d) of critical-tier suppliers with every security clause in their contract "
        "in force."
    ),
    "all_clauses_high": _l(
        "Rated implemented, but supplier data shows only %(percent)s%% (%(achieved)d of "
        "%(total)d) of high-tier suppliers with every security clause in their contract in force."
    ),
    "assessed_in_cadence": _l(
        "Rated implemented, but supplier data shows only %(percent)s%% (%(achieved)d of "
        "%(total)d) of active suppliers assessed within their re-check cadence."
    ),
}


def _percent(part: int, whole: int) -> str:
    """As the indicator panel shows a share: one decimal."""
    return f"{round(part / whole * 100, 1):.1f}"


@dataclass(frozen=True)
class ClauseShortfall:
    """A clause missing for `missing` of the `total` critical and high-tier suppliers."""

    clause: str
    missing: int
    total: int

    @property
    def text(self) -> str:
        return _(
            "%(clause)s %(percent)s%% (%(missing)d of %(total)d)",
            clause=CLAUSE_LABELS[self.clause],
            percent=_percent(self.missing, self.total),
            missing=self.missing,
            total=self.total,
        )


@dataclass(frozen=True)
class Contradiction:
    """Supplier figures that disagree with an item rated implemented."""

    #: The indicator's key, or CLAUSES.
    key: str
    value: IndicatorValue | None = None
    clauses: tuple[ClauseShortfall, ...] = ()

    @property
    def message(self) -> str:
        if self.value is None:
            shortfalls = format_list([c.text for c in self.clauses], locale=current_locale())
            return _(
                "Rated implemented, but supplier data shows security clauses missing from the "
                "contract in force (or no contract) of more than %(limit)s%% of critical and "
                "high-tier suppliers: %(clauses)s.",
                limit=_LIMIT,
                clauses=shortfalls,
            )
        v = self.value
        figures = {"percent": _percent(v.achieved, v.total), "achieved": v.achieved}
        return str(SHARE_WARNINGS[self.key]) % (figures | {"total": v.total})


def _falls_short(value: IndicatorValue) -> bool:
    ruled = value.spec.key in SHARE_WARNINGS
    return ruled and value.total > 0 and value.achieved * 100 < MIN_SHARE * value.total


def _clause_shortfalls(found: D9Indicators, edition: str, item: str) -> tuple[ClauseShortfall, ...]:
    """The clauses of the contract item missing for more than MAX_CLAUSE_MISSING percent."""
    totals = {tier: found.tier_total(tier) for tier in CLAUSE_TIERS}
    total = sum(n for n in totals.values() if n)
    shortfalls = (
        ClauseShortfall(clause, sum(g.missing for g in gaps if totals.get(g.tier)), total)
        for clause, gaps in found.clauses_for(edition, item)
    )
    return tuple(s for s in shortfalls if total and s.missing * 100 > MAX_CLAUSE_MISSING * total)


def contradictions(
    found: D9Indicators | None, edition: str, item: str | None, status: Any
) -> list[Contradiction]:
    """What the figures beside `item` ("D9-3" of `edition`) say against a status "implemented"."""
    if found is None or not item or status != ItemStatus.done:
        return []
    shares = [
        Contradiction(v.spec.key, v) for v in found.for_item(edition, item) if _falls_short(v)
    ]
    clauses = _clause_shortfalls(found, edition, item)
    return shares + ([Contradiction(CLAUSES, clauses=clauses)] if clauses else [])


def by_question(
    found: D9Indicators | None, template: Any, items: Mapping[str, Any]
) -> dict[str, list[Contradiction]]:
    """A cycle's contradictions by question id (only the items that have any)."""
    if found is None:
        return {}
    result = {}
    for question in template.questions:
        item = items.get(question.id)
        status = item.status if item is not None else None
        if found_here := contradictions(found, template.edition, question.mapping.item, status):
            result[question.id] = found_here
    return result
