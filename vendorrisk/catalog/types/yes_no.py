"""Yes, no, or not applicable."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types.base import OneOf, register

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question


class YesNo(OneOf):
    name = "yes_no"
    title = _l("Yes / no")
    hint = Text("はい／いいえ（選択）", "Yes / no (choose)")
    scored = True
    fixed = (("yes", 1.0), ("no", 0.0), ("na", None))
    fixed_labels = {
        "yes": Text("はい", "Yes"),
        "no": Text("いいえ", "No"),
        "na": Text("該当しない", "Not applicable"),
    }

    def sample(self, question: Question, rng: random.Random | None = None) -> str:
        return rng.choices(("yes", "no"), weights=(85, 15))[0] if rng else "yes"


register(YesNo())
