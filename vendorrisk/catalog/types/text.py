"""Free text, or an identifier in a fixed format (a question's `format:`)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from vendorrisk.catalog import formats
from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import AnswerError, AnswerType, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question

#: A valid answer of each text format (the demo's and the tests').
SAMPLES = {
    "security_action_id": "50000228580",
    "certificate_number": "IS 123456",
    "corporate_number": "7000012050002",
    "country": "JP",
}


class FreeText(AnswerType):
    name = "text"
    title = _l("Text")
    hint = Text("文章", "Text")

    def clean(self, question: Question, raw: Any) -> str:
        """The text, trimmed; with a format, as its rule writes it (AnswerError saying why not,
        in the reader's language)."""
        text = str(raw).strip()
        if question.format is None:
            return text
        try:
            return formats.clean_text(question.format, text)
        except formats.FormatError as exc:
            raise AnswerError(*exc.args) from exc

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        return SAMPLES.get(question.format or "", "情報システム部")


register(FreeText())
