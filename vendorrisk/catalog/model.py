"""A loaded questionnaire template: immutable, bilingual, validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from vendorrisk.catalog.editions import EDITIONS, Edition
from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types import AnswerType, question_type


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text
    score: float


@dataclass(frozen=True)
class Column:
    """One column of a table question: each cell is read as an answer of the column's type
    (text, date, number, single_choice), which takes the column for its question."""

    #: Lower-case letters, digits and _: the key of the cell in a stored row.
    id: str
    type: str
    label: Text
    #: Every row that is not blank must fill this cell.
    required: bool = False
    #: The rule a text or date cell must follow (catalog/formats.py), or None.
    format: str | None = None
    #: A single_choice column's choices (their scores are 0: a table is not scored).
    choices: tuple[Choice, ...] = ()
    #: What the answer types read of a question and a column has not (a cell is never banded).
    bands = ()

    @property
    def kind(self) -> AnswerType:
        return question_type(self.type)


@dataclass(frozen=True)
class Mapping:
    #: The direction (1-10); None for a principle item of Ver 3.0's Appendix A-1.
    directive: int | None
    #: The Appendix A check item (D5-7), or the A-1 principle item (P2-3).
    item: str | None
    #: NIST CSF categories (PR.AC) or subcategories (PR.AC-1) of the template's CSF version.
    csf: tuple[str, ...]
    #: ISO/IEC 27001 / 27002 clauses of the edition's ISO edition (2013 or 2022).
    iso: tuple[str, ...]
    #: CIS Controls v8 controls or safeguards, where the edition maps them (Ver 3.0).
    cis: tuple[str, ...] = ()
    #: The principle (1-3) of a Ver 3.0 Appendix A-1 item, answered by management.
    principle: int | None = None
    #: The SCS ★3 requirement areas the question evidences (catalog/scs.py SCS_AREAS).
    scs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Band:
    """A number answer's score: the first band whose bound the answer meets gives its score."""

    score: float
    #: The answer is at least this (higher is better).
    min: Decimal | None = None
    #: The answer is at most this (lower is better).
    max: Decimal | None = None

    def takes(self, number: Decimal) -> bool:
        if self.min is not None:
            return number >= self.min
        if self.max is not None:
            return number <= self.max
        return True


@dataclass(frozen=True)
class ShowIf:
    question: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Text
    help: Text | None
    weight: float
    required: bool
    critical: bool
    evidence: bool
    mapping: Mapping
    choices: tuple[Choice, ...] = ()
    show_if: ShowIf | None = None
    #: The rule a text or date answer must follow (catalog/formats.py), or None.
    format: str | None = None
    #: A number answer's score bands (a number with bands is scored).
    bands: tuple[Band, ...] = ()
    #: What a supplier may already hold that answers it (catalog/scs.py COVER_KINDS).
    covered_by: tuple[str, ...] = ()
    #: A table question's columns, in their order.
    columns: tuple[Column, ...] = ()
    #: The most rows a table question's answer may have (None for the other types).
    max_rows: int | None = None

    @property
    def kind(self) -> AnswerType:
        return question_type(self.type)

    @property
    def scored(self) -> bool:
        """Its answers count towards the score: a scored type, or a number with bands."""
        return self.kind.scored or bool(self.bands)


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    description: Text | None
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Template:
    id: str
    #: The guideline edition it follows (catalog/editions.py: "csm-2.0", "csm-3.0").
    edition: str
    #: The NIST CSF version its mappings use ("1.0", "1.1").
    csf_version: str
    version: int
    audience: str
    title: Text
    description: Text
    critical_cap: float
    sections: tuple[Section, ...]
    source: str = ""
    #: The supplier pack it is (catalog/scs.py PACKS): "full" unless the file says otherwise.
    pack: str = "full"
    _index: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)
    _sections_by_question: dict[str, Section] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for section in self.sections:
            for q in section.questions:
                self._index[q.id] = q
                self._sections_by_question[q.id] = section

    @property
    def guideline(self) -> Edition:
        """The edition of the guideline it follows, with its label ("Ver 2.0")."""
        return EDITIONS[self.edition]

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def questions(self) -> list[Question]:
        return list(self._index.values())

    def question(self, question_id: str) -> Question:
        return self._index[question_id]

    def section_of(self, question_id: str) -> Section:
        """The section a question is in."""
        return self._sections_by_question[question_id]

    def directives(self) -> list[int]:
        return sorted({q.mapping.directive for q in self.questions} - {None})

    @property
    def direction_sections(self) -> tuple[Section, ...]:
        """The sections of direction items (Appendix A, or A-2 in Ver 3.0)."""
        return tuple(s for s in self.sections if s.questions[0].mapping.principle is None)

    @property
    def principle_sections(self) -> tuple[Section, ...]:
        """The sections of Ver 3.0's A-1 principle items, answered by management."""
        return tuple(s for s in self.sections if s.questions[0].mapping.principle is not None)
