"""The roll-up's headline figures and the tiers, as the dashboard computes them."""

from __future__ import annotations

from vendorrisk import clock
from vendorrisk.access import READERS, access
from vendorrisk.blueprints.api import bp, schemas
from vendorrisk.services.reporting import rollup
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.services.review import tiers


@bp.route("/figures", methods=["GET"])
@access(read=READERS)
@bp.response(200, schemas.Figures)
@bp.doc(tags=["figures"])
def figures():
    """The roll-up over the live suppliers: suppliers per tier, scores, overdue work, findings."""
    today = clock.today()
    result = rollup.compute(today, Scope())
    return {
        "today": today,
        "suppliers": result.tiers.total.value,
        "tiers": [{"tier": row.tier, "suppliers": row.total.value} for row in result.tiers.rows],
        "scored": result.scores.scored.value,
        "average_score": result.scores.average,
        "overdue_assessments": result.overdue.assessments.value,
        "overdue_rechecks": result.overdue.rechecks.value,
        "open_findings": result.findings.total.value,
    }


@bp.route("/tiers", methods=["GET"])
@access(read=READERS)
@bp.response(200, schemas.TierRow(many=True))
@bp.doc(tags=["figures"])
def tier_table():
    """Live suppliers per tier and category, with each tier's re-check cadence and questionnaire
    (the tier rules)."""
    table = rollup.tier_table(Scope())
    rules = tiers.tier_rules()
    return [
        {
            "tier": row.tier,
            "suppliers": row.total.value,
            "by_category": [
                {"category": category.value, "suppliers": cell.value}
                for category, cell in zip(table.categories, row.cells, strict=True)
            ],
            "recheck_months": rules.cadence_months.get(row.tier),
            "questionnaire": rules.template_by_tier.get(row.tier),
        }
        for row in table.rows
    ]
