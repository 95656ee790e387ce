"""The registry of answer types: each module of this package is one type, registered on import.

Adding a type is one module here (a subclass of `AnswerType` passed to `register`) and its input
macro in templates/portal/types/; nothing else switches on type names.
"""

from __future__ import annotations

import importlib
import pkgutil

from vendorrisk.catalog.types.base import QUESTION_TYPES, AnswerError, AnswerType

__all__ = ["QUESTION_TYPES", "AnswerError", "AnswerType", "question_type"]

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")


def question_type(name: str) -> AnswerType:
    return QUESTION_TYPES[name]
