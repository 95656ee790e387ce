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
class Progress:
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100


def progress(template: Template, states: Mapping[str, AnswerState]) -> Progress:
    """Answered over visible questions (carried-over answers count once confirmed)."""
    values = {qid: s.value for qid, s in states.items()}
    shown = visible_questions(template, values)
    done = sum(
        1 for q in shown if is_answered(q, states.get(q.id)) and not states[q.id].carried_over
    )
    return Progress(answered=done, total=len(shown))


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
    kind = question.kind
    if not kind.scored or not isinstance(value, str):
        return None
    return kind.score(question, value)


def is_not_applicable(question: Question, value: Any) -> bool:
    """An allowed answer that is worth nothing by design ("na"), as opposed to no answer."""
    return isinstance(value, str) and value in question.kind.values(question)
