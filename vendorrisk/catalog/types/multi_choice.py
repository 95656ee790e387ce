"""Any number of the question's own choices; not scored."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import (
    AnswerError,
    AnswerType,
    accepted,
    not_allowed,
    plain,
    register,
    spelling_key,
)

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

    from vendorrisk.catalog.model import Question

#: What may separate the choices written in one cell (kept, so a label holding one still reads).
SEPARATORS = re.compile(r"([;；、,，\n])")


class MultiChoice(AnswerType):
    name = "multi_choice"
    title = _l("Multiple choice")
    hint = Text("選択（複数可、「;」区切り）", "Multiple choice (separate with ;)")
    has_choices = True
    multiple = True

    def clean(self, question: Question, raw: Any) -> list[str]:
        """The chosen values in the order of the choices."""
        allowed = self.values(question)
        items = [raw] if isinstance(raw, str) else list(raw)
        if not set(items) <= set(allowed):
            raise AnswerError(f"unknown choice in {items!r}")
        return [v for v in allowed if v in items]

    def from_form(self, form: MultiDict, name: str) -> list[str]:
        return form.getlist(name)

    def from_cell(self, question: Question, raw: Any) -> list[str] | None:
        """Choices separated by ; 、 or , (the longest run of parts that is a label wins)."""
        spellings, parts, chosen = accepted(question), SEPARATORS.split(plain(raw)), set()
        start = 0
        while start < len(parts):
            for end in range(len(parts), start, -2):
                piece = "".join(parts[start:end])
                if spelling_key(piece) in spellings or not spelling_key(piece):
                    break
            else:
                raise not_allowed(question, parts[start].strip())
            if spelling_key(piece):
                chosen.add(spellings[spelling_key(piece)])
            start = end + 1
        return self.normalize(question, sorted(chosen))

    def sample(self, question: Question, rng: random.Random | None = None) -> list[str]:
        return [question.choices[0].value]


register(MultiChoice())
