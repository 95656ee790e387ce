"""Implemented, partly, not, not applicable or unknown: the guideline's and IPA's wording."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import OneOf, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question


class YesPartialNo(OneOf):
    name = "yes_partial_no"
    title = _l("Yes / partial / no / not applicable")
    hint = Text("実施状況（選択）", "Yes / partial / no (choose)")
    scored = True
    fixed = (("yes", 1.0), ("partial", 0.5), ("no", 0.0), ("na", None), ("unknown", 0.0))
    fixed_labels = {
        "yes": Text("実施している", "Implemented"),
        "partial": Text("一部実施している", "Partially implemented"),
        "no": Text("実施していない", "Not implemented"),
        "na": Text("該当しない", "Not applicable"),
        "unknown": Text("わからない", "Unknown"),
    }

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        if rng is None:
            return "yes"
        return rng.choices(("yes", "partial", "no", "na"), weights=(70, 18, 8, 4))[0]


register(YesPartialNo())
