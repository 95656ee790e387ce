"""Pure rules over a template's answers: visibility, what counts as answered, progress, worth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question, Template


@dataclass(frozen=True)
class AnswerState:
    """What the rules need of one stored answer."""

    value: Any = None
    has_files: bool = False
    carried_over: bool = False


def is_visible(template: Template, question: Question, values: Mapping[str, Any]) -> bool:
    """A question shows when its show_if condition (and its target's, in turn) holds."""
    condition = question.show_if
    if condition is None:
        return True
    target = template.question(condition.question)
    if not is_visible(template, target, values):
        return False
    value = values.get(target.id)
    chosen = value if isinstance(value, list) else [value]
    return any(v in condition.values for v in chosen)


def visible_questions(template: Template, values: Mapping[str, Any]) -> list[Question]:
    return [q for q in template.questions if is_visible(template, q, values)]


def is_answered(question: Question, state: AnswerState | None) -> bool:
    if state is None:
        return False
    if question.kind.holds_files:
        return state.has_files
    return state.value not in (None, "", [])


def needs_evidence(question: Question, state: AnswerState | None) -> bool:
    """Evidence is required for a yes or partial answer of an evidence question."""
    return bool(question.evidence and state and state.value in ("yes", "partial"))


@dataclass(frozen=True)
class Shown:
    """Conditional questions that one answered question shows (or hides) beyond those shown
    before any answer: what the supplier is told when the number of questions changes."""

    question: Question
    count: int


@dataclass(frozen=True)
class SectionProgress:
    section_id: str
    answered: int
    total: int


@dataclass(frozen=True)
class Progress:
    """Answered over the questions the supplier can see, and why that total is what it is."""

    answered: int
    total: int
    #: Questions shown before anything is answered: the total the supplier first saw.
    initial: int = 0
    #: Conditional questions shown now, by the question whose answer shows them.
    added: tuple[Shown, ...] = ()
    #: Questions shown before any answer and hidden now, by the question whose answer hides them.
    removed: tuple[Shown, ...] = ()
    sections: tuple[SectionProgress, ...] = ()

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100

    def section(self, section_id: str) -> SectionProgress:
        return next(s for s in self.sections if s.section_id == section_id)


def _by_trigger(template: Template, questions: list[Question]) -> tuple[Shown, ...]:
    """Count questions by the question their condition names, in questionnaire order."""
    counts: dict[str, int] = {}
    for q in questions:
        counts[q.show_if.question] = counts.get(q.show_if.question, 0) + 1
    return tuple(Shown(template.question(qid), n) for qid, n in counts.items())


def progress(template: Template, states: Mapping[str, AnswerState]) -> Progress:
    """Answered over visible questions (carried-over answers count once confirmed), per
    section too, with the conditional questions that answers added or hid."""
    values = {qid: s.value for qid, s in states.items()}
    shown = {q.id for q in visible_questions(template, values)}
    first = {q.id for q in visible_questions(template, {})}

    def done(q: Question) -> bool:
        return is_answered(q, states.get(q.id)) and not states[q.id].carried_over

    sections = tuple(
        SectionProgress(
            s.id,
            answered=sum(1 for q in s.questions if q.id in shown and done(q)),
            total=sum(1 for q in s.questions if q.id in shown),
        )
        for s in template.sections
    )
    return Progress(
        answered=sum(s.answered for s in sections),
        total=len(shown),
        initial=len(first),
        added=_by_trigger(template, [q for q in template.questions if q.id in shown - first]),
        removed=_by_trigger(template, [q for q in template.questions if q.id in first - shown]),
        sections=sections,
    )


@dataclass(frozen=True)
class Missing:
    question: Question
    section_id: str
    reason: str  # "required", "evidence", "carried_over"


def missing_for_submit(template: Template, states: Mapping[str, AnswerState]) -> list[Missing]:
    """Everything that stops a submission, in questionnaire order."""
    values = {qid: s.value for qid, s in states.items()}
    missing = []
    for section in template.sections:
        for q in section.questions:
            if not is_visible(template, q, values):
                continue
            state = states.get(q.id)
            if state is not None and state.carried_over:
                missing.append(Missing(q, section.id, "carried_over"))
            elif q.required and not is_answered(q, state):
                missing.append(Missing(q, section.id, "required"))
            elif needs_evidence(q, state) and not state.has_files:
                missing.append(Missing(q, section.id, "evidence"))
    return missing


def question_value(question: Question, value: Any) -> float | None:
    """The 0..1 worth of one stored answer, or None when it does not count."""
    if not question.scored or not isinstance(value, str):
        return None
    return question.kind.score(question, value)


def is_not_applicable(question: Question, value: Any) -> bool:
    """An allowed answer that is worth nothing by design ("na"), as opposed to no answer."""
    return isinstance(value, str) and value in question.kind.values(question)
