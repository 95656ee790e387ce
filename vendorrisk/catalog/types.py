"""The registry of answer types: each knows its values, how to normalise and how to score."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question


class AnswerError(ValueError):
    """An answer that does not fit its question."""


@dataclass(frozen=True)
class QuestionType:
    name: str
    #: Fixed values with their scores (None: not scored, e.g. "na").
    fixed: tuple[tuple[str, float | None], ...] = ()
    #: Whether answers count towards the score.
    scored: bool = False
    #: Whether the question lists its own choices.
    has_choices: bool = False
    multiple: bool = False

    def values(self, question: Question) -> tuple[str, ...]:
        if self.has_choices:
            return tuple(c.value for c in question.choices)
        return tuple(v for v, _ in self.fixed)

    def normalize(self, question: Question, raw: Any) -> Any:
        """The stored form of a raw answer, or AnswerError."""
        if raw is None or raw == "" or raw == []:
            return None
        handler = getattr(self, f"_normalize_{self.name}", None)
        if handler is not None:
            return handler(raw)
        allowed = self.values(question)
        if self.multiple:
            items = [raw] if isinstance(raw, str) else list(raw)
            if not set(items) <= set(allowed):
                raise AnswerError(f"unknown choice in {items!r}")
            return [v for v in allowed if v in items]
        if raw not in allowed:
            raise AnswerError(f"{raw!r} is not one of {allowed!r}")
        return raw

    def score(self, question: Question, value: Any) -> float | None:
        """0..1, or None when the answer does not count (not applicable, unscored, empty)."""
        if not self.scored or value is None:
            return None
        if self.has_choices:
            return next((c.score for c in question.choices if c.value == value), None)
        return dict(self.fixed).get(value)

    @staticmethod
    def _normalize_text(raw: Any) -> str:
        return str(raw).strip()

    @staticmethod
    def _normalize_number(raw: Any) -> str:
        try:
            number = Decimal(str(raw).replace(",", "").strip())
        except InvalidOperation as exc:
            raise AnswerError(f"{raw!r} is not a number") from exc
        if not number.is_finite():
            raise AnswerError(f"{raw!r} is not a number")
        return str(number)

    @staticmethod
    def _normalize_date(raw: Any) -> str:
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError as exc:
            raise AnswerError(f"{raw!r} is not a date (YYYY-MM-DD)") from exc

    @staticmethod
    def _normalize_file(raw: Any) -> list[int]:
        ids = [raw] if not isinstance(raw, list | tuple) else list(raw)
        try:
            return [int(i) for i in ids]
        except (TypeError, ValueError) as exc:
            raise AnswerError("file answers are stored file ids") from exc


YES_PARTIAL_NO = (("yes", 1.0), ("partial", 0.5), ("no", 0.0), ("na", None), ("unknown", 0.0))
YES_NO = (("yes", 1.0), ("no", 0.0), ("na", None))

QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (
        QuestionType("yes_partial_no", fixed=YES_PARTIAL_NO, scored=True),
        QuestionType("yes_no", fixed=YES_NO, scored=True),
        QuestionType("single_choice", scored=True, has_choices=True),
        QuestionType("multi_choice", has_choices=True, multiple=True),
        QuestionType("text"),
        QuestionType("number"),
        QuestionType("date"),
        QuestionType("file"),
    )
}


def question_type(name: str) -> QuestionType:
    return QUESTION_TYPES[name]
