"""A calendar date, stored as YYYY-MM-DD."""

from __future__ import annotations

import random
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import AnswerError, AnswerType, plain, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question


class Date(AnswerType):
    name = "date"
    title = _l("Date")
    hint = Text("日付（YYYY-MM-DD）", "Date (YYYY-MM-DD)")

    def clean(self, question: Question, raw: Any) -> str:
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError as exc:
            raise AnswerError(f"{raw!r} is not a date (YYYY-MM-DD)") from exc

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
        try:
            return self.normalize(question, raw)
        except AnswerError as exc:
            raise AnswerError(
                _("“%(value)s” is not a date. Write dates as YYYY-MM-DD.", value=plain(raw))
            ) from exc

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        return "2027-03-31"


register(Date())
