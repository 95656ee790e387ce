"""Reminder and expiry stages: which mail of a cadence is due on a day (pure: no Flask, no DB).

A stage is "the latest one on or before today", so a run after downtime sends the missed stage
once (never a burst of all of them), and a daily run sends each stage on its own day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

#: An expiry stage missed longer ago than this is not sent late (no mail for a long-gone date).
CATCH_UP_DAYS = 30


class Cadence(Protocol):
    """The offsets the stages read (`services.periodic.settings.ScheduleSettings` has them)."""

    reminder_days_before: tuple[int, ...]
    overdue_every_days: int
    escalate_after_days: int


@dataclass(frozen=True)
class Stage:
    """One reminder of an assessment: "before" (days before), "due_today" (0), "overdue"."""

    kind: str
    on: date
    days: int


def reminder_stage(due_on: date, opened_on: date, today: date, settings: Cadence) -> Stage | None:
    """The latest reminder stage on or before today, after the day the supplier got its link."""
    stages = [Stage("before", due_on - timedelta(days=d), d) for d in settings.reminder_days_before]
    stages.append(Stage("due_today", due_on, 0))
    if today > due_on:
        overdue = (today - due_on).days
        latest = 1 + (overdue - 1) // settings.overdue_every_days * settings.overdue_every_days
        stages.append(Stage("overdue", due_on + timedelta(days=latest), latest))
    eligible = [s for s in stages if opened_on < s.on <= today]
    return max(eligible, key=lambda s: s.on, default=None)


def escalation_due(due_on: date, opened_on: date, today: date, settings: Cadence) -> bool:
    """Overdue long enough to tell the CISO (counted from the return when returned late)."""
    return today >= max(due_on, opened_on) + timedelta(days=settings.escalate_after_days)


def expiry_stage(expires_on: date, today: date, days_before: Iterable[int]) -> int | None:
    """Days before expiry of the latest alert stage on or before today (0: the expiry day).

    None before the first stage, and when that stage is more than CATCH_UP_DAYS old.
    """
    reached = [d for d in (*days_before, 0) if expires_on - timedelta(days=d) <= today]
    if not reached:
        return None
    days = min(reached)
    late = (today - (expires_on - timedelta(days=days))).days
    return days if late <= CATCH_UP_DAYS else None
