"""One cycle against the one before, as the management report and the comparison page show it:
per-directive scores this and last cycle, items by status, gaps, KPIs and the D9 indicators.
Across an edition break (a Ver 3.0 cycle after a Ver 2.0 one) the last cycle is scored on this
cycle's items through the crosswalk, and the summary says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from vendorrisk.models import SelfAssessmentCycle
from vendorrisk.services.selfassessment.cycles import (
    directive_titles,
    edition_break,
    gaps,
    latest_cycle,
    previous_of,
    scores_of,
    status_counts,
    template_of,
    to_review,
)
from vendorrisk.services.selfassessment.indicators import D9Indicators, indicators_of
from vendorrisk.services.selfassessment.kpis import KPIS, KpiDefinition, saved_values


@dataclass(frozen=True)
class DirectiveSummary:
    directive: int
    title: Any
    score: float | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        if self.score is None or self.previous is None:
            return None
        return round(self.score - self.previous, 1)


@dataclass(frozen=True)
class KpiSummary:
    definition: KpiDefinition
    value: float | None
    previous: float | None


@dataclass(frozen=True)
class Summary:
    """What the management report needs of one cycle, against the one before."""

    cycle: SelfAssessmentCycle
    previous: SelfAssessmentCycle | None
    overall: float | None
    previous_overall: float | None
    directives: list[DirectiveSummary]
    #: Items by status value, with "unanswered".
    counts: dict[str, int]
    gaps: int
    kpis: list[KpiSummary]
    indicators: D9Indicators | None
    #: The edition the cycle follows ("Ver 3.0"), and the previous cycle's.
    edition: str = ""
    previous_edition: str = ""
    #: The previous cycle followed another edition: its scores are on this cycle's items
    #: through the crosswalk.
    edition_break: bool = False
    #: The A-1 principle items' score (Ver 3.0), outside the overall; whether there are any.
    principles: float | None = None
    with_principles: bool = False
    #: Items still to be confirmed after the move to this edition (要確認).
    to_review: int = 0


def summary(
    cycle: SelfAssessmentCycle | None = None,
    today: date | None = None,
    with_indicators: bool = True,
) -> Summary | None:
    """Per-directive scores this vs last cycle, counts by status, KPIs and the D9 indicators.

    `cycle` defaults to the latest; `today` dates the live indicators of an open cycle.
    """
    cycle = cycle or latest_cycle()
    if cycle is None:
        return None
    previous = previous_of(cycle)
    template = template_of(cycle)
    this = scores_of(cycle, {i.question_id: i.status for i in cycle.items})
    last = (
        scores_of(previous, {i.question_id: i.status for i in previous.items}, template)
        if previous
        else None
    )
    titles = directive_titles(template)
    old = template_of(previous) if previous else None
    before = saved_values(previous) if previous else {}
    values = saved_values(cycle)
    return Summary(
        cycle=cycle,
        previous=previous,
        overall=this.overall,
        previous_overall=last.overall if last else None,
        directives=[
            DirectiveSummary(n, titles.get(n), score, last.directives.get(n) if last else None)
            for n, score in this.directives.items()
        ],
        counts=status_counts(cycle.items),
        gaps=len(gaps(cycle)),
        kpis=[KpiSummary(k, values.get(k.key), before.get(k.key)) for k in KPIS],
        indicators=indicators_of(cycle, today) if with_indicators else None,
        edition=template.guideline.label if template else "",
        previous_edition=old.guideline.label if old else "",
        edition_break=edition_break(cycle, previous),
        principles=this.principles,
        with_principles=bool(template and template.principle_sections),
        to_review=len(to_review(cycle)),
    )
