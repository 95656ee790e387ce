"""The roll-up's stored history: area scores of older assessments, and quarterly snapshots.

The rollup-snapshot job captures each night the facts of every live supplier into the current
quarter's rows of rollup_snapshots, with one INSERT ... SELECT built from the SQL twins of
services/d9.py (no supplier is loaded into Python). A quarter's rows are replaced until the next
quarter has rows; from then on they are history and never rewritten. The roll-up's trends read
these rows as they were captured.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.models import (
    AREA_COLUMNS,
    AreaScore,
    Assessment,
    AssessmentStatus,
    AttestationKind,
    RollupSnapshot,
    Supplier,
)
from vendorrisk.scoring.scores import ScoreResult, area_scores
from vendorrisk.services.register import d9
from vendorrisk.services.reporting import scope

# -- quarters ----------------------------------------------------------------------------------


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def previous_quarter(start: date) -> date:
    return quarter_start(start - timedelta(days=1))


def quarter_label(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


# -- stored scores and snapshots ----------------------------------------------------------------


def backfill_area_scores() -> int:
    """Store the area scores of completed assessments that have none, from their stored score.

    For assessments completed before area scores were stored; the rollup-snapshot job calls it
    every night, so it is done once after the upgrade (`vendorrisk rollup backfill` does it now).
    """
    missing = sa.select(
        Assessment.id,
        Assessment.supplier_id,
        Assessment.template_id,
        Assessment.template_version,
        Assessment.score_detail,
    ).where(
        Assessment.status == AssessmentStatus.completed,
        Assessment.supplier_id.is_not(None),
        Assessment.score_detail.is_not(None),
        ~sa.exists().where(AreaScore.assessment_id == Assessment.id),
    )
    rows: list[dict[str, Any]] = []
    for assessment_id, supplier_id, template_id, version, detail in db.session.execute(missing):
        template = catalog().get(template_id, version)
        if template is None or not detail:
            continue
        areas = area_scores(template, ScoreResult.from_dict(detail))
        rows.append(
            dict.fromkeys(AREA_COLUMNS.values())
            | {"assessment_id": assessment_id, "supplier_id": supplier_id}
            | AreaScore.values_of(areas)
        )
    if rows:
        db.session.execute(sa.insert(AreaScore), rows)
    return len(rows)


_SNAPSHOT_COLUMNS = (
    "period",
    "supplier_id",
    "captured_on",
    "category",
    "tier",
    "owner_id",
    "template_id",
    "score",
    "security_action",
    "isms_valid",
    "insurance_valid",
    "clauses",
    "level_met",
    "open_findings",
    "review_overdue",
    "assessment_overdue",
)


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """A condition as a stored boolean (never NULL)."""
    return sa.case((condition, sa.true()), else_=sa.false())


def snapshot_select(period: date, today: date) -> sa.Select:
    """The current facts of every live supplier, as rows of rollup_snapshots (the d9 twins)."""
    overdue_assessment = sa.exists().where(
        Assessment.supplier_id == Supplier.id, scope.assessment_overdue(today)
    )
    return sa.select(
        sa.literal(period, sa.Date),
        Supplier.id,
        sa.literal(today, sa.Date),
        Supplier.category,
        Supplier.tier,
        Supplier.owner_id,
        scope.latest_completed(Assessment.template_id),
        Supplier.latest_score,
        d9.security_action_rank(today),
        _flag(d9.valid_until(AttestationKind.isms) >= today),
        _flag(d9.valid_until(AttestationKind.cyber_insurance) >= today),
        d9.clause_coverage(today),
        _flag(d9.held_rank(today) >= d9.required_rank()),
        d9.open_findings(),
        _flag(Supplier.is_review_overdue(today)),
        _flag(overdue_assessment),
    ).where(scope.LIVE)


class FutureQuarter(ValueError):
    """A capture for a quarter that has not begun where the company is."""


def capture(today: date) -> int | None:
    """Replace the quarter's snapshot rows with the suppliers' facts today (one INSERT ... SELECT).

    Returns the number of rows, or None when the quarter is closed: a later quarter has rows
    already, so this one is history and is left as it is. Raises FutureQuarter for a quarter
    after the company's current one: its rows would close the real current quarter for good.
    """
    period = quarter_start(today)
    current = quarter_start(clock.today())
    if period > current:
        raise FutureQuarter(
            f"quarter {quarter_label(period)} has not begun (now {quarter_label(current)})"
        )
    later = db.session.scalar(sa.select(sa.func.count()).where(RollupSnapshot.period > period))
    if later:
        return None
    db.session.execute(sa.delete(RollupSnapshot).where(RollupSnapshot.period == period))
    db.session.execute(
        sa.insert(RollupSnapshot).from_select(_SNAPSHOT_COLUMNS, snapshot_select(period, today))
    )
    # Counted, not taken from rowcount: not every driver reports it for INSERT ... SELECT.
    return db.session.scalar(sa.select(sa.func.count()).where(RollupSnapshot.period == period))


def snapshot(now: datetime) -> JobResult:
    """The rollup-snapshot job: missing area scores first, then the current quarter's rows."""
    today = clock.local_day(now)
    backfilled = backfill_area_scores()
    try:
        rows = capture(today)
    except FutureQuarter as exc:
        return JobResult(skipped=1, notes=[f"{exc}: not captured"])
    if rows is None:
        return JobResult(
            skipped=1, notes=[f"quarter {quarter_label(quarter_start(today))} is closed"]
        )
    notes = [f"{quarter_label(quarter_start(today))}: {rows} suppliers"]
    if backfilled:
        notes.append(f"area scores stored for {backfilled} older assessments")
    return JobResult(done=rows, notes=notes)
