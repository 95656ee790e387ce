"""One of the question's own choices, each scored by the template."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import OneOf, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question


class SingleChoice(OneOf):
    name = "single_choice"
    title = _l("Single choice")
    hint = Text("選択（一つ）", "Single choice")
    scored = True
    has_choices = True

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        if rng is None:
            return max(question.choices, key=lambda c: c.score).value
        return rng.choice(question.choices).value


register(SingleChoice())
