"""Pure scoring: answers to numbers per directive, overall and per area.

Plain data in, frozen dataclasses out: no session, no request, no mutation (STYLE rule 8).

Each visible answer of a scored type is worth 0..1 (yes 1, partial 0.5, no 0, unknown 0, a choice
its template score; "na" is left out); a directive scores the weighted mean of its counted
answers, the overall the weighted mean of every counted answer (not a mean of directive means),
both times 100 (ARCHITECTURE "Scoring and tiers"). A critical question worth 0 caps the overall at
the template's ``critical_cap``. Sums are exact fractions; numbers are rounded to one decimal only
at the end, so comparisons between results (monotonicity, the cap) hold exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from vendorrisk.scoring.answers import is_not_applicable, is_visible, question_value

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question, Template


@dataclass(frozen=True)
class QuestionScore:
    question_id: str
    directive: int
    weight: float
    #: 0..1; None when not counted (not applicable, unanswered, unscorable value).
    value: float | None
    #: The question is critical.
    critical: bool
    #: Critical and worth 0 (a "no", "unknown", or a 0-score choice).
    critical_failure: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "question_id": self.question_id,
            "directive": self.directive,
            "weight": self.weight,
            "value": self.value,
            "critical": self.critical,
            "critical_failure": self.critical_failure,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuestionScore:
        return cls(
            question_id=str(data["question_id"]),
            directive=int(data["directive"]),
            weight=float(data["weight"]),
            value=_float_or_none(data["value"]),
            critical=bool(data["critical"]),
            critical_failure=bool(data["critical_failure"]),
        )


@dataclass(frozen=True)
class DirectiveScore:
    directive: int
    #: Weighted mean of the counted values * 100, one decimal; None if nothing counted.
    score: float | None
    weight_counted: float
    answered: int
    not_applicable: int
    unanswered: int
    #: The visible scored questions of the directive, in template order (hidden ones left out).
    questions: tuple[QuestionScore, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "directive": self.directive,
            "score": self.score,
            "weight_counted": self.weight_counted,
            "answered": self.answered,
            "not_applicable": self.not_applicable,
            "unanswered": self.unanswered,
            "questions": [q.to_dict() for q in self.questions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DirectiveScore:
        return cls(
            directive=int(data["directive"]),
            score=_float_or_none(data["score"]),
            weight_counted=float(data["weight_counted"]),
            answered=int(data["answered"]),
            not_applicable=int(data["not_applicable"]),
            unanswered=int(data["unanswered"]),
            questions=tuple(QuestionScore.from_dict(q) for q in data["questions"]),
        )


@dataclass(frozen=True)
class ScoreResult:
    #: 0..100 after the cap, one decimal; None if nothing counted.
    overall: float | None
    #: The weighted mean over every counted question, one decimal.
    uncapped: float | None
    #: The template's critical_cap.
    cap: float
    #: A critical failure lowered the overall (then overall < uncapped).
    capped: bool
    #: Ids of the critical questions worth 0, in template order.
    critical_failures: tuple[str, ...]
    #: Every directive with scored questions in the template, by number.
    directives: tuple[DirectiveScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (stored on the assessment at completion)."""
        return {
            "overall": self.overall,
            "uncapped": self.uncapped,
            "cap": self.cap,
            "capped": self.capped,
            "critical_failures": list(self.critical_failures),
            "directives": [d.to_dict() for d in self.directives],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreResult:
        """The inverse of to_dict."""
        return cls(
            overall=_float_or_none(data["overall"]),
            uncapped=_float_or_none(data["uncapped"]),
            cap=float(data["cap"]),
            capped=bool(data["capped"]),
            critical_failures=tuple(str(q) for q in data["critical_failures"]),
            directives=tuple(DirectiveScore.from_dict(d) for d in data["directives"]),
        )

    def directive(self, number: int) -> DirectiveScore | None:
        return next((d for d in self.directives if d.directive == number), None)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _question_score(question: Question, raw: Any) -> QuestionScore:
    value = question_value(question, raw)
    return QuestionScore(
        question_id=question.id,
        directive=question.mapping.directive,
        weight=question.weight,
        value=value,
        critical=question.critical,
        critical_failure=question.critical and value == 0,
    )


def _sums(scores: Iterable[QuestionScore]) -> tuple[Fraction, Fraction]:
    """Exact (sum of weight * value, sum of weight) over the counted questions."""
    points, weights = [], []
    for q in scores:
        if q.value is not None:
            weight, value = q.weight.as_integer_ratio(), q.value.as_integer_ratio()
            points.append((weight[0] * value[0], weight[1] * value[1]))
            weights.append(weight)
    return _exact_sum(points), _exact_sum(weights)


def _exact_sum(ratios: list[tuple[int, int]]) -> Fraction:
    # A float's denominator is a power of two, so the largest is a common one: integers suffice.
    scale = max((d for _, d in ratios), default=1)
    return Fraction(sum(n * (scale // d) for n, d in ratios), scale)


def _percent(points: Fraction, weight: Fraction) -> float | None:
    return None if weight == 0 else _round(points / weight * 100)


def _round(number: Fraction) -> float:
    return float(round(number, 1))


def _directive_score(
    directive: int, questions: list[Question], answers: Mapping[str, Any]
) -> DirectiveScore:
    scores = tuple(_question_score(q, answers.get(q.id)) for q in questions)
    points, weight = _sums(scores)
    answered = sum(s.value is not None for s in scores)
    not_applicable = sum(
        s.value is None and is_not_applicable(q, answers.get(q.id))
        for s, q in zip(scores, questions, strict=True)
    )
    return DirectiveScore(
        directive=directive,
        score=_percent(points, weight),
        weight_counted=float(weight),
        answered=answered,
        not_applicable=not_applicable,
        unanswered=len(scores) - answered - not_applicable,
        questions=scores,
    )


def score(template: Template, answers: Mapping[str, Any]) -> ScoreResult:
    """Score a template's answers: per directive, overall, and the critical cap."""
    scored = [q for q in template.questions if q.scored]
    shown: dict[int, list[Question]] = {
        n: [] for n in sorted({q.mapping.directive for q in scored})
    }
    for q in scored:
        if is_visible(template, q, answers):
            shown[q.mapping.directive].append(q)
    directives = tuple(_directive_score(n, members, answers) for n, members in shown.items())
    flat = [s for d in directives for s in d.questions]
    uncapped = _percent(*_sums(flat))
    order = {q.id: i for i, q in enumerate(scored)}
    failures = tuple(sorted((s.question_id for s in flat if s.critical_failure), key=order.get))
    cap = _round(Fraction(template.critical_cap))
    capped = bool(failures) and uncapped is not None and uncapped > cap
    return ScoreResult(
        overall=cap if capped else uncapped,
        uncapped=uncapped,
        cap=template.critical_cap,
        capped=capped,
        critical_failures=failures,
        directives=directives,
    )


#: NIST CSF functions, in the order the roll-up shows them (GV only where a template maps it).
CSF_FUNCTIONS = ("GV", "ID", "PR", "DE", "RS", "RC")


def area_scores(template: Template, result: ScoreResult) -> dict[tuple[str, str], float]:
    """The scores stored per area: ("directive", "1".."10") and ("csf", "ID"|"PR"|...).

    A directive keeps its score; a CSF function scores the weighted mean of the counted
    questions whose mapping names one of its categories or subcategories ("PR.AC" and "PR.AC-1"
    are PR), by the rules of the directive scores (not applicable left out, no cap). Areas with
    nothing counted are left out. Works from a stored result too: only its question scores and
    the mappings are read.
    """
    areas = {
        ("directive", str(d.directive)): d.score for d in result.directives if d.score is not None
    }
    mappings = {q.id: q.mapping.csf for q in template.questions}
    members: dict[str, list[QuestionScore]] = {}
    for directive in result.directives:
        for question in directive.questions:
            functions = {csf.split(".")[0] for csf in mappings.get(question.question_id, ())}
            for function in functions & set(CSF_FUNCTIONS):
                members.setdefault(function, []).append(question)
    for function in CSF_FUNCTIONS:
        percent = _percent(*_sums(members.get(function, ())))
        if percent is not None:
            areas[("csf", function)] = percent
    return areas
