"""The offboarding-reminders job: while a supplier's offboarding checklist is open, its owner is
reminded of the steps still open a week, two weeks, then every thirty days after it started.

Each stage's mail has a dedupe key naming the checklist, the stage and the user, so it goes once
whatever the number of runs; a stage missed while the scheduler was down is still sent a few
days late, no later.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from vendorrisk.extensions import db
from vendorrisk.i18n.labels import OFFBOARDING_STEP_LABELS
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages
from vendorrisk.models import Offboarding, Supplier
from vendorrisk.services.periodic.planning import Planned, carry_out, local_day, local_today
from vendorrisk.services.register.offboarding import responsible

#: The first reminders, in days after the checklist started ...
FIRST_DAYS = (7, 14)
#: ... then one every this many days.
EVERY_DAYS = 30
#: A reminder missed (the scheduler was down) is still sent this many days late, no later.
CATCH_UP_DAYS = 6


def reminder_stage(started_on: date, today: date) -> int | None:
    """The stage due today (days after the start), or None: the latest stage on or before
    today, at most CATCH_UP_DAYS old."""
    elapsed = (today - started_on).days
    stages = [days for days in FIRST_DAYS if days <= elapsed]
    if elapsed >= EVERY_DAYS:
        stages.append(elapsed - elapsed % EVERY_DAYS)
    if not stages or elapsed - max(stages) > CATCH_UP_DAYS:
        return None
    return max(stages)


def _open_checklists() -> list[Offboarding]:
    return list(
        db.session.scalars(
            sa.select(Offboarding)
            .where(Offboarding.is_open)
            .order_by(Offboarding.id)
            .options(
                joinedload(Offboarding.supplier).joinedload(Supplier.owner),
                joinedload(Offboarding.started_by),
                selectinload(Offboarding.steps),
            )
        )
    )


def offboarding_reminders(now: datetime) -> JobResult:
    """Remind the owner of each open checklist of its open steps, once per stage."""
    today, result, planned = local_today(now), JobResult(), []
    for offboarding in _open_checklists():
        stage = reminder_stage(local_day(offboarding.started_at), today)
        if stage is None:
            continue
        user = responsible(offboarding)
        if user is None:
            result.skip(f"offboarding #{offboarding.id}: no active owner to remind")
            continue
        steps = [OFFBOARDING_STEP_LABELS[s.key][0] for s in offboarding.open_steps]
        planned.append(
            Planned(
                messages.offboarding_reminder_key(offboarding, stage, user),
                lambda o=offboarding, u=user, d=stage, s=steps: messages.offboarding_reminder(
                    u, o, d, s
                ),
            )
        )
    carry_out(planned, result)
    return result
