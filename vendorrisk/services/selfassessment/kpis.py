"""The self-assessment's KPIs: the figures the guideline suggests tracking each cycle (Direction 6:
findings of risk analysis, training completion, incidents; and the drills and reports of
Directions 5, 7 and 8), their entry on an open cycle, and their history across cycles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from vendorrisk.extensions import db
from vendorrisk.models import SelfAssessmentCycle, SelfAssessmentKpi
from vendorrisk.services.selfassessment.cycles import (
    CycleClosed,
    VersionConflict,
    closed_in_database,
    cycles,
)


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    label: Any
    #: "percent" (0-100) or "count" (a whole number of 0 or more).
    unit: str
    unit_label: Any
    higher_is_better: bool
    #: The guideline directive that suggests it.
    directive: int


#: The KPIs the guideline suggests (Direction 6: findings of risk analysis, training completion,
#: incidents) and the drills and reports Directions 5, 6, 7 and 8 ask for.
KPIS = (
    KpiDefinition(
        "risk_findings", _l("Issues found by risk analysis"), "count", _l("issues"), False, 6
    ),
    KpiDefinition(
        "training_completion", _l("Security training completion rate"), "percent", "%", True, 6
    ),
    KpiDefinition("incidents", _l("Security incidents"), "count", _l("incidents"), False, 6),
    KpiDefinition(
        "phishing_click_rate",
        _l("Targeted-attack email drill: share who opened the attachment or link"),
        "percent",
        "%",
        False,
        5,
    ),
    KpiDefinition(
        "incident_drills", _l("Incident response drills held"), "count", _l("times"), True, 7
    ),
    KpiDefinition("recovery_drills", _l("Recovery drills held"), "count", _l("times"), True, 8),
    KpiDefinition(
        "audits", _l("Security audits and assessments received"), "count", _l("times"), True, 6
    ),
    KpiDefinition("management_reports", _l("Reports to management"), "count", _l("times"), True, 6),
)
KPI_BY_KEY = {k.key: k for k in KPIS}


def saved_values(cycle: SelfAssessmentCycle) -> dict[str, float]:
    """The cycle's KPI values as saved, by key."""
    return {k.key: k.value for k in cycle.kpis}


def save_kpis(cycle: SelfAssessmentCycle, values: Mapping[str, float | None], version: int) -> None:
    """Set the cycle's KPI values (None clears one); refused if another save came in between."""
    if not cycle.is_open:
        raise CycleClosed()
    bumped = db.session.execute(
        sa.update(SelfAssessmentCycle)
        .where(
            SelfAssessmentCycle.id == cycle.id,
            SelfAssessmentCycle.kpi_version == version,
            SelfAssessmentCycle.closed_at.is_(None),  # a close committed since loading counts
        )
        .values(kpi_version=version + 1)
        .execution_options(synchronize_session="fetch")
    )
    if bumped.rowcount != 1:
        if closed_in_database(cycle):
            raise CycleClosed()
        raise VersionConflict(
            _l(
                "Someone else saved these KPI values while you were editing. Their values are "
                "shown; yours are kept in the form: check them and save again."
            )
        )
    existing = {k.key: k for k in cycle.kpis}
    for definition in KPIS:
        value, row = values.get(definition.key), existing.get(definition.key)
        if value is None and row is not None:
            cycle.kpis.remove(row)
        elif value is not None and row is None:
            cycle.kpis.append(SelfAssessmentKpi(key=definition.key, value=float(value)))
        elif row is not None and row.value != value:
            row.value = float(value)
    db.session.flush()


def kpi_history() -> tuple[list[SelfAssessmentCycle], dict[str, list[float | None]]]:
    """Every cycle, oldest first, and each KPI's values aligned with them (two queries)."""
    found = cycles()
    stored = db.session.execute(
        sa.select(SelfAssessmentKpi.cycle_id, SelfAssessmentKpi.key, SelfAssessmentKpi.value)
    )
    values = {(cycle_id, key): value for cycle_id, key, value in stored}
    return found, {k.key: [values.get((c.id, k.key)) for c in found] for k in KPIS}
