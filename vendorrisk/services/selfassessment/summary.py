"""One cycle against the one before, as the management report and the comparison page show it:
per-directive scores this and last cycle, items by status, gaps, KPIs and the D9 indicators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from vendorrisk.models import SelfAssessmentCycle
from vendorrisk.services.selfassessment.cycles import (
    directive_titles,
    gaps,
    latest_cycle,
    previous_of,
    scores_of,
    status_counts,
    template_of,
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
    this = scores_of(cycle, {i.question_id: i.status for i in cycle.items})
    last = (
        scores_of(previous, {i.question_id: i.status for i in previous.items}) if previous else None
    )
    titles = directive_titles(template_of(cycle))
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
    )
