"""What every answer type knows, and the registry that refuses two types of one name.

A type owns the whole life of an answer (STYLE rule 9, as indico's survey fields do): its values
and their labels, normalising and scoring, reading it from the portal form and from a workbook
cell, the hint the workbook shows, its input macro, and a sample answer for the demo and tests.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from flask_babel import get_locale
from flask_babel import gettext as _

from vendorrisk.catalog.text import Text, bilingual

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

    from vendorrisk.catalog.model import Question


class AnswerError(ValueError):
    """An answer that does not fit its question."""


class AnswerType:
    """One answer type; the registry holds one instance of each, by name."""

    name: ClassVar[str]
    #: The type's name as staff read it (the questionnaire page).
    title: ClassVar[Any]
    #: What the workbook's "answer type" column says, in both languages.
    hint: ClassVar[Text]
    #: Whether answers count towards the score.
    scored: ClassVar[bool] = False
    #: Whether the question lists its own choices.
    has_choices: ClassVar[bool] = False
    #: Whether an answer holds several values.
    multiple: ClassVar[bool] = False
    #: Whether the answer is its uploaded files rather than a value.
    holds_files: ClassVar[bool] = False
    #: Fixed values with their scores (None: not scored, e.g. "na").
    fixed: ClassVar[tuple[tuple[str, float | None], ...]] = ()
    #: The labels of the fixed values, in both languages.
    fixed_labels: ClassVar[Mapping[str, Text]] = {}

    @property
    def macro(self) -> str:
        """The template of the portal's input macro for this type."""
        return f"portal/types/{self.name}.html"

    # ---------------------------------------------------------------- values and labels

    def values(self, question: Question) -> tuple[str, ...]:
        if self.has_choices:
            return tuple(c.value for c in question.choices)
        return tuple(v for v, _ in self.fixed)

    def labels(self, question: Question) -> dict[str, Text]:
        """The labels of the question's fixed values or choices, by value ({} for free answers)."""
        if self.has_choices:
            return {c.value: c.label for c in question.choices}
        return dict(self.fixed_labels)

    def options(self, question: Question, locale: str | None) -> list[tuple[str, str]]:
        """(value, label) pairs to choose from, in the given language."""
        return [(value, text.get(locale)) for value, text in self.labels(question).items()]

    def label(self, question: Question, value: Any, locale: str | None) -> str:
        """How a stored answer reads in the given language."""
        if value is None or value == "":
            return ""
        if isinstance(value, list):
            return ", ".join(self.label(question, v, locale) for v in value)
        labels = self.labels(question)
        return labels[value].get(locale) if value in labels else str(value)

    # ---------------------------------------------------------------- normalising and scoring

    def normalize(self, question: Question, raw: Any) -> Any:
        """The stored form of a raw answer (None when empty), or AnswerError."""
        if raw is None or raw == "" or raw == []:
            return None
        return self.clean(question, raw)

    def clean(self, question: Question, raw: Any) -> Any:
        """The stored form of a non-empty raw answer: one of the allowed values."""
        allowed = self.values(question)
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

    # ---------------------------------------------------------------- the portal form

    def from_form(self, form: MultiDict, name: str) -> Any:
        """The raw answer posted in the portal's field `name`."""
        return form.get(name)

    def to_form(self, question: Question, name: str, value: Any) -> dict[str, Any]:
        """The fields a browser posts for `value` in the portal's field `name` (from_form's
        inverse: what scripts and tests send)."""
        return {name: value}

    # ---------------------------------------------------------------- the workbook

    def cell(self, question: Question, value: Any) -> str:
        """A stored answer as written in the workbook's answer cell."""
        if value in (None, "", []):
            return ""
        labels = self.labels(question)
        items = value if isinstance(value, list) else [value]
        return "; ".join(bilingual(labels[v]) if v in labels else str(v) for v in items)

    def from_cell(self, question: Question, raw: Any) -> Any:
        """The normalised value of an answer cell, or AnswerError with a translated message."""
        return self.normalize(question, plain(raw))

    # ---------------------------------------------------------------- samples

    def sample(self, question: Question, rng: random.Random | None = None) -> Any:
        """A valid answer: the best one, or with `rng` a likely one (the demo's)."""
        return None


class OneOf(AnswerType):
    """One value out of a list of labelled values (a drop-down in the workbook)."""

    def from_cell(self, question: Question, raw: Any) -> str:
        value = accepted(question).get(spelling_key(plain(raw)))
        if value is None:
            raise not_allowed(question, raw)
        return value


#: Every answer type by name, filled by `register` as the type modules are imported.
QUESTION_TYPES: dict[str, AnswerType] = {}


def register(kind: AnswerType) -> AnswerType:
    """Add a type to the registry; a second type of the same name is refused."""
    if kind.name in QUESTION_TYPES:
        raise ValueError(f"answer type {kind.name!r} is already registered")
    QUESTION_TYPES[kind.name] = kind
    return kind


# ---------------------------------------------------------------- reading cells


def plain(raw: Any) -> str:
    """Any cell value as text (dates as YYYY-MM-DD, whole numbers without a decimal point)."""
    if isinstance(raw, datetime) and raw.time() == datetime.min.time():
        return raw.date().isoformat()
    if isinstance(raw, date | datetime):
        return raw.isoformat()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def spelling_key(text: str) -> str:
    """A label compared ignoring case, spacing and full-width slashes."""
    text = re.sub(r"\s+", " ", text.replace("／", "/").strip()).casefold()
    return re.sub(r" ?/ ?", "/", text)


def accepted(question: Question) -> dict[str, str]:
    """Accepted spellings: the code, both labels alone, and the bilingual label."""
    spellings = {}
    for value, label in question.kind.labels(question).items():
        for spelling in (value, label.ja, label.en, bilingual(label)):
            spellings.setdefault(spelling_key(spelling), value)
    return spellings


def not_allowed(question: Question, raw: Any) -> AnswerError:
    """Why a cell's text is none of the question's answers, listing those in the user's language."""
    locale = str(get_locale())  # Text.get reads anything but "en" as Japanese, as the UI does
    labels = question.kind.labels(question).values()
    return AnswerError(
        _(
            "“%(value)s” is not an allowed answer. Allowed answers: %(allowed)s.",
            value=plain(raw),
            allowed="; ".join(t.get(locale) for t in labels),
        )
    )
