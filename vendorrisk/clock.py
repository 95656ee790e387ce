"""The time: stored in UTC, days counted in the configured zone (Asia/Tokyo by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today where the company is, not where the server is."""
    return local_day(now())


def local_day(moment: datetime) -> date:
    """The company's calendar day of a stored (UTC) moment."""
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
