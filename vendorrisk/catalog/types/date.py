"""A calendar date, stored as YYYY-MM-DD; with a `format:`, a plausible one."""

from __future__ import annotations

import random
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask import has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorrisk import clock
from vendorrisk.catalog import formats
from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import AnswerError, AnswerType, plain, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question

#: A valid answer of each date format, whatever the day (the demo's and the tests').
SAMPLES = {"issue_date": "2024-04-01", "expiry": "2027-03-31"}


def _today() -> date | None:
    """The company's day when an app runs (the portal, a workbook upload); None in pure use."""
    return clock.today() if has_app_context() else None


class Date(AnswerType):
    name = "date"
    title = _l("Date")
    hint = Text("日付（YYYY-MM-DD）", "Date (YYYY-MM-DD)")

    def clean(self, question: Question, raw: Any) -> str:
        """The date as YYYY-MM-DD; with a format, only a plausible one (AnswerError saying why
        not, in the reader's language)."""
        if isinstance(raw, datetime):
            raw = raw.date()
        try:
            day = raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
        except ValueError as exc:
            raise AnswerError(
                _("“%(value)s” is not a date. Write dates as YYYY-MM-DD.", value=plain(raw))
            ) from exc
        if question.format is not None:
            try:
                formats.check_date(question.format, day, _today())
            except formats.FormatError as exc:
                raise AnswerError(*exc.args) from exc
        return day.isoformat()

    def from_cell(self, question: Question, raw: Any) -> str | None:
        """A date cell, or text as YYYY-MM-DD or YYYY/M/D."""
        if isinstance(raw, datetime):
            raw = raw.date()
        if isinstance(raw, str):
            raw = re.sub(
                r"^(\d{4})/(\d{1,2})/(\d{1,2})$",
                lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}",
                raw.strip(),
            )
        return self.normalize(question, raw)

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        return SAMPLES.get(question.format or "", "2027-03-31")


register(Date())
