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
        return str(number)

    def from_cell(self, question: Question, raw: Any) -> str | None:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        try:
            return self.normalize(question, raw)
        except AnswerError as exc:
            raise AnswerError(_("“%(value)s” is not a number.", value=plain(raw))) from exc

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        return "120"


register(Number())
