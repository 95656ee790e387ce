"""Free text."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import AnswerType, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question


class FreeText(AnswerType):
    name = "text"
    title = _l("Text")
    hint = Text("文章", "Text")

    def clean(self, question: Question, raw: Any) -> str:
        return str(raw).strip()

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        return "情報システム部"


register(FreeText())
