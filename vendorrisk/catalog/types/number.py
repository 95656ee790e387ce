"""A number, stored as its exact decimal text (thousands separators dropped)."""

from __future__ import annotations

import random
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import AnswerError, AnswerType, plain, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question


class BelowZero(AnswerError):
    """A count (days, months) scored by bands given below zero."""


class Number(AnswerType):
    name = "number"
    title = _l("Number")
    hint = Text("数値", "Number")

    def clean(self, question: Question, raw: Any) -> str:
        try:
            number = Decimal(str(raw).replace(",", "").strip())
        except InvalidOperation as exc:
            raise AnswerError(f"{raw!r} is not a number") from exc
        if not number.is_finite():
            raise AnswerError(f"{raw!r} is not a number")
        if question.bands and number < 0:  # days, months: a count is never below zero
            raise BelowZero(_("Enter 0 or more."))
        return str(number)

    def score(self, question: Question, value: Any) -> float | None:
        """The score of the first of the question's bands the number meets (None without bands)."""
        if not question.bands or value is None:
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return next((band.score for band in question.bands if band.takes(number)), None)

    def from_cell(self, question: Question, raw: Any) -> str | None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        try:
            return self.normalize(question, raw)
        except BelowZero as exc:
            raise AnswerError(_("“%(value)s”: enter 0 or more.", value=plain(raw))) from exc
        except AnswerError as exc:
            raise AnswerError(_("“%(value)s” is not a number.", value=plain(raw))) from exc

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        """A plausible answer: one meeting the first score band, or 120 without bands."""
        first = question.bands[0] if question.bands else None
        bound = first.min if first and first.min is not None else first.max if first else None
        return str(bound) if bound is not None else "120"


register(Number())
