"""The schedule's settings: reminder, escalation and expiry offsets and the digest weekday.

Stored as one JSON setting; an admin changes them on the settings page (version-checked save).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vendorrisk.extensions import db
from vendorrisk.models import Setting
from vendorrisk.models.setting import save as save_setting

SETTINGS_KEY = "schedule"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(key: str, message: str) -> ValueError:
    return ValueError(f"schedule settings: {key!r} {message}")


#: Whole-number settings: (lowest, highest).
_NUMBERS = {
    "overdue_every_days": (1, 365),
    "escalate_after_days": (1, 365),
    "digest_weekday": (0, 6),
}
#: Lists of day offsets: (lowest, highest) of each entry.
_DAY_LISTS = {"reminder_days_before": (1, 365), "expiry_days_before": (1, 3650)}


def _day_list(key: str, value: Any, low: int, high: int) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise _fail(key, f"must be a list of whole numbers of days, not {value!r}")
    for day in value:
        if not _is_int(day) or not low <= day <= high:
            raise _fail(key, f"entries must be whole numbers {low}-{high}, not {day!r}")
    if len(set(value)) != len(value):
        raise _fail(key, f"must not repeat a day, not {list(value)!r}")
    return tuple(sorted(value, reverse=True))


@dataclass(frozen=True)
class ScheduleSettings:
    """Offsets and cadences of the periodic work; bad values raise a ValueError naming the key."""

    reminder_days_before: tuple[int, ...] = (14, 7, 1)
    #: Overdue reminders on day 1 after the due date and then every N days.
    overdue_every_days: int = 7
    #: Overdue this long: the CISO users are told too.
    escalate_after_days: int = 7
    expiry_days_before: tuple[int, ...] = (90, 30, 7)
    #: 0 is Monday.
    digest_weekday: int = 0

    def __post_init__(self) -> None:
        for key, (low, high) in _DAY_LISTS.items():
            object.__setattr__(self, key, _day_list(key, getattr(self, key), low, high))
        for key, (low, high) in _NUMBERS.items():
            value = getattr(self, key)
            if not _is_int(value) or not low <= value <= high:
                raise _fail(key, f"must be a whole number {low}-{high}, not {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "reminder_days_before": list(self.reminder_days_before),
            "overdue_every_days": self.overdue_every_days,
            "escalate_after_days": self.escalate_after_days,
            "expiry_days_before": list(self.expiry_days_before),
            "digest_weekday": self.digest_weekday,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ScheduleSettings:
        """Settings from stored JSON: missing keys take defaults, unknown or bad ones raise."""
        if not isinstance(data, Mapping):
            raise ValueError(f"schedule settings must be a mapping, not {data!r}")
        known = cls.__dataclass_fields__
        for key in data:
            if key not in known:
                raise _fail(key, f"is not a known key (known: {', '.join(known)})")
        return cls(**data)


def schedule_settings() -> ScheduleSettings:
    """The stored schedule, or the defaults when none was saved."""
    row = db.session.get(Setting, SETTINGS_KEY)
    return ScheduleSettings.from_dict(row.value) if row else ScheduleSettings()


def save_schedule_settings(settings: ScheduleSettings, seen: str | None = None) -> None:
    """Store the schedule; SettingConflict if `seen` is no longer the stored value's."""
    save_setting(SETTINGS_KEY, settings.to_dict(), seen)
