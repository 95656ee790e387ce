"""The demo's roll-up history: this quarter's snapshot, and plausible earlier quarters derived
from it, so that the roll-up's trends have something to show on the first day."""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import RollupSnapshot
from vendorrisk.services.reporting.history import (
    backfill_area_scores,
    capture,
    previous_quarter,
    quarter_start,
)


def seed_history(today: date, quarters: int = 4) -> None:
    """This quarter's snapshot, and plausible earlier quarters derived from it."""
    backfill_area_scores()
    capture(today)
    rng = random.Random(today.toordinal())  # noqa: S311 (demo data, not a secret)  # nosec B311
    current = db.session.scalars(
        sa.select(RollupSnapshot)
        .where(RollupSnapshot.period == quarter_start(today))
        .order_by(RollupSnapshot.supplier_id)
    ).all()
    period = quarter_start(today)
    for back in range(1, quarters + 1):
        period = previous_quarter(period)
        db.session.add_all(_earlier(row, period, back, rng) for row in current)
    db.session.flush()


def _earlier(row: RollupSnapshot, period: date, back: int, rng: random.Random) -> RollupSnapshot:
    """A supplier's row `back` quarters ago: a little weaker, with more gaps and lateness."""

    def lost(flag: bool) -> bool:
        return flag and rng.random() > 0.12 * back

    score = row.score
    if score is not None:
        score = None if rng.random() < 0.08 * back else max(0.0, score - rng.uniform(1, 4) * back)
    return RollupSnapshot(
        period=period,
        supplier_id=row.supplier_id,
        captured_on=period + timedelta(days=88),
        category=row.category,
        tier=row.tier,
        owner_id=row.owner_id,
        template_id=row.template_id if score is not None else None,
        score=None if score is None else round(score, 1),
        security_action=row.security_action if lost(True) else max(0, row.security_action - 1),
        isms_valid=lost(row.isms_valid),
        insurance_valid=lost(row.insurance_valid),
        clauses=max(0, row.clauses - (rng.random() < 0.15 * back)),
        level_met=lost(row.level_met),
        open_findings=row.open_findings + rng.randrange(0, 2 + back),
        review_overdue=row.review_overdue or rng.random() < 0.05 * back,
        assessment_overdue=row.assessment_overdue or rng.random() < 0.04 * back,
    )
