"""The reminder and expiry stages: which mail of a cadence is due on a day (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from vendorrisk.scoring.stages import Stage, escalation_due, expiry_stage, reminder_stage
from vendorrisk.services.periodic.settings import ScheduleSettings


def test_reminder_stages_follow_the_settings():
    settings = ScheduleSettings()
    due, sent = date(2031, 3, 31), date(2031, 3, 1)
    assert reminder_stage(due, sent, date(2031, 3, 16), settings) is None
    assert reminder_stage(due, sent, date(2031, 3, 17), settings) == Stage(
        "before", date(2031, 3, 17), 14
    )
    assert reminder_stage(due, sent, date(2031, 3, 31), settings).kind == "due_today"
    overdue = [reminder_stage(due, sent, due + timedelta(days=n), settings) for n in (1, 7)]
    assert [(s.kind, s.days) for s in overdue] == [("overdue", 1), ("overdue", 1)]
    assert reminder_stage(due, sent, due + timedelta(days=8), settings).days == 8
    # sent 10 days before the due date: the 14-day reminder never happened and is not sent late
    assert reminder_stage(due, date(2031, 3, 21), date(2031, 3, 22), settings) is None
    assert not escalation_due(due, sent, due + timedelta(days=6), settings)
    assert escalation_due(due, sent, due + timedelta(days=7), settings)
    # returned for changes after the due date: the escalation counts from the return
    assert not escalation_due(due, due + timedelta(days=9), due + timedelta(days=10), settings)


def test_expiry_stages_catch_up_the_nearest_missed_one_only():
    expires = date(2031, 6, 30)
    offsets = (90, 30, 7)
    assert expiry_stage(expires, date(2031, 3, 31), offsets) is None
    assert expiry_stage(expires, date(2031, 4, 1), offsets) == 90
    assert expiry_stage(expires, date(2031, 6, 25), offsets) == 7  # 30 was missed too
    assert expiry_stage(expires, date(2031, 6, 30), offsets) == 0
    assert expiry_stage(expires, date(2031, 7, 30), offsets) == 0
    assert expiry_stage(expires, date(2031, 8, 1), offsets) is None  # too long ago
