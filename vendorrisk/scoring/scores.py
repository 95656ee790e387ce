"""Pure scoring and tiering: answers to numbers, a supplier's profile to a tier and a review date.

Plain data in, frozen dataclasses out: no session, no request, no mutation (STYLE rule 8).

Scoring (ARCHITECTURE "Scoring and tiers"): each visible answer of a scored type is worth 0..1
(yes 1, partial 0.5, no 0, unknown 0, a choice its template score; "na" is left out); a directive
scores the weighted mean of its counted answers, the overall the weighted mean of every counted
answer (not a mean of directive means), both times 100. A critical question worth 0 caps the
overall at the template's ``critical_cap``. Sums are exact fractions; numbers are rounded to one
decimal only at the end, so comparisons between results (monotonicity, the cap) hold exactly.

Tiering: the supplier's profile gives points, the points an inherent risk level (``TierRules``);
the latest completed score moves the tier one step up or down; the tier sets the re-check cadence.
The required evaluation level follows the METI SCS buyer decision flow (★4 triggers, else ★3).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from vendorrisk.services.assessments.answers import is_visible

if TYPE_CHECKING:
    from vendorrisk.catalog.model import Question, Template

# ---------------------------------------------------------------------------------------- scoring


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


def question_value(question: Question, value: Any) -> float | None:
    """The 0..1 worth of one stored answer, or None when it does not count."""
    kind = question.kind
    if not kind.scored or not isinstance(value, str):
        return None
    return kind.score(question, value)


def _is_not_applicable(question: Question, value: Any) -> bool:
    """An allowed answer that is worth nothing by design ("na"), as opposed to no answer."""
    return isinstance(value, str) and value in question.kind.values(question)


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
        s.value is None and _is_not_applicable(q, answers.get(q.id))
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
    scored = [q for q in template.questions if q.kind.scored]
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
    questions whose mapping names one of its subcategories ("PR.AC-1" is PR), by the rules of
    the directive scores (not applicable left out, no cap). Areas with nothing counted are left
    out. Works from a stored result too: only its question scores and the mappings are read.
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


# ------------------------------------------------------------------------ inherent risk and tiers

#: Risk levels, lowest first: inherent risk, business criticality and tier all use them.
LEVELS = ("low", "medium", "high", "critical")
#: What a supplier holds, lowest first: SECURITY ACTION ★1/★2 below METI SCS ★3–★5.
HELD_ORDER = ("none", "star1", "star2", "star3", "star4", "star5")


class Outage(StrEnum):
    """How long we could bear the supplier stopping."""

    hours = "hours"
    days = "days"
    weeks = "weeks"
    months = "months"


class Replaceability(StrEnum):
    easy = "easy"
    moderate = "moderate"
    hard = "hard"


@dataclass(frozen=True)
class Profile:
    """What the supplier touches and how much we depend on it; values are checked and coerced."""

    shares_personal_info: bool
    shares_confidential_info: bool
    has_network_access: bool
    has_admin_access: bool
    max_outage: Outage
    replaceability: Replaceability
    #: Business criticality, one of LEVELS.
    criticality: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_outage", Outage(self.max_outage))
        object.__setattr__(self, "replaceability", Replaceability(self.replaceability))
        if self.criticality not in LEVELS:
            raise ValueError(f"criticality {self.criticality!r} must be one of {LEVELS}")


#: Points per factor of the profile; each factor key is also the reason key shown for it.
DEFAULT_POINTS: Mapping[str, int] = MappingProxyType(
    {
        "personal_info": 2,
        "confidential_info": 3,
        "network_access": 2,
        "admin_access": 3,
        "outage_hours": 3,
        "outage_days": 2,
        "outage_weeks": 1,
        "outage_months": 0,
        "hard_to_replace": 2,
        "moderate_to_replace": 1,
        "easy_to_replace": 0,
        "criticality_critical": 3,
        "criticality_high": 2,
        "criticality_medium": 1,
        "criticality_low": 0,
    }
)
#: Minimum points of each inherent level above "low" (the most is 18 with the default points).
DEFAULT_THRESHOLDS: Mapping[str, int] = MappingProxyType({"medium": 3, "high": 6, "critical": 9})
#: Months between re-checks per tier.
DEFAULT_CADENCE: Mapping[str, int] = MappingProxyType(
    {"critical": 6, "high": 12, "medium": 12, "low": 24}
)
DEFAULT_TEMPLATE = "csm-v2-supplier"


@dataclass(frozen=True)
class InherentRisk:
    level: str
    points: int
    #: Factor keys that added points, in profile order.
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class TierDecision:
    tier: str
    inherent: str
    score: float | None
    #: "inherent_<level>", then the score adjustment that moved the tier, if any.
    reasons: tuple[str, ...]


def _mapping_field(defaults: Mapping[str, Any]) -> Any:
    return field(default_factory=lambda: dict(defaults))


def _fail(key: str, message: str) -> ValueError:
    return ValueError(f"tier rules: {key!r} {message}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _checked_mapping(
    key: str, given: Any, defaults: Mapping[str, Any], check: Any, expected: str
) -> Mapping[str, Any]:
    """The defaults overlaid with `given`, refusing unknown keys and values failing `check`."""
    if not isinstance(given, Mapping):
        raise _fail(key, f"must be a mapping, not {given!r}")
    for name, value in given.items():
        if name not in defaults:
            raise _fail(f"{key}.{name}", f"is not a known key (known: {', '.join(defaults)})")
        if not check(value):
            raise _fail(f"{key}.{name}", f"must be {expected}, not {value!r}")
    return MappingProxyType({**defaults, **given})


_DEFAULT_TEMPLATES: Mapping[str, str] = MappingProxyType(dict.fromkeys(LEVELS, DEFAULT_TEMPLATE))
#: For each mapping of TierRules: its defaults, the check of one value, and what that expects.
_MAPPING_RULES = {
    "points": (DEFAULT_POINTS, lambda v: _is_int(v) and 0 <= v <= 100, "a whole number 0-100"),
    "inherent_thresholds": (
        DEFAULT_THRESHOLDS,
        lambda v: _is_int(v) and v >= 0,
        "a whole number 0+",
    ),
    "cadence_months": (
        DEFAULT_CADENCE,
        lambda v: _is_int(v) and 1 <= v <= 120,
        "whole months 1-120",
    ),
    "template_by_tier": (
        _DEFAULT_TEMPLATES,
        lambda v: isinstance(v, str) and v.strip() != "",
        "a template id",
    ),
}


@dataclass(frozen=True)
class TierRules:
    """The settings of tiering; missing mapping entries take the defaults, bad ones raise.

    Defaults: points per factor as DEFAULT_POINTS (personal info 2, confidential info 3, network
    access 2, admin access 3; outage bearable for hours 3 / days 2 / weeks 1 / months 0; hard to
    replace 2 / moderate 1 / easy 0; business criticality critical 3 / high 2 / medium 1 / low 0);
    inherent level medium from 3 points, high from 6, critical from 9; a latest score below 50
    raises the tier one step, one of 85 or more lowers it one step; no score yet changes nothing;
    re-checks every 6 / 12 / 12 / 24 months (critical / high / medium / low); every tier uses the
    csm-v2-supplier questionnaire.
    """

    points: Mapping[str, int] = _mapping_field(DEFAULT_POINTS)
    inherent_thresholds: Mapping[str, int] = _mapping_field(DEFAULT_THRESHOLDS)
    poor_score_below: float = 50.0
    good_score_from: float = 85.0
    unscored_raise: bool = False
    cadence_months: Mapping[str, int] = _mapping_field(DEFAULT_CADENCE)
    template_by_tier: Mapping[str, str] = _mapping_field(_DEFAULT_TEMPLATES)

    def __post_init__(self) -> None:
        for key, (defaults, check, expected) in _MAPPING_RULES.items():
            value = _checked_mapping(key, getattr(self, key), defaults, check, expected)
            object.__setattr__(self, key, value)
        self._check_scores()
        levels = [self.inherent_thresholds[level] for level in LEVELS[1:]]
        if levels != sorted(levels):
            raise _fail("inherent_thresholds", f"must not decrease from medium up, not {levels}")

    def _check_scores(self) -> None:
        for key in ("poor_score_below", "good_score_from"):
            value = getattr(self, key)
            if not _is_number(value) or not 0 <= value <= 100:
                raise _fail(key, f"must be a number from 0 to 100, not {value!r}")
            object.__setattr__(self, key, float(value))
        if self.poor_score_below > self.good_score_from:
            raise _fail("poor_score_below", "must not be above good_score_from")
        if not isinstance(self.unscored_raise, bool):
            raise _fail("unscored_raise", f"must be true or false, not {self.unscored_raise!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "points": dict(self.points),
            "inherent_thresholds": dict(self.inherent_thresholds),
            "poor_score_below": self.poor_score_below,
            "good_score_from": self.good_score_from,
            "unscored_raise": self.unscored_raise,
            "cadence_months": dict(self.cadence_months),
            "template_by_tier": dict(self.template_by_tier),
        }

    @classmethod
    def from_dict(cls, data: Any) -> TierRules:
        """Rules from stored settings: missing keys take defaults, unknown or bad ones raise."""
        if not isinstance(data, Mapping):
            raise ValueError(f"tier rules must be a mapping, not {data!r}")
        known = cls.__dataclass_fields__
        for key in data:
            if key not in known:
                raise _fail(key, f"is not a known key (known: {', '.join(known)})")
        return cls(**data)


DEFAULT_RULES = TierRules()

_REPLACE_KEYS = {
    Replaceability.hard: "hard_to_replace",
    Replaceability.moderate: "moderate_to_replace",
    Replaceability.easy: "easy_to_replace",
}


def _factors(profile: Profile) -> tuple[str, ...]:
    flags = (
        ("personal_info", profile.shares_personal_info),
        ("confidential_info", profile.shares_confidential_info),
        ("network_access", profile.has_network_access),
        ("admin_access", profile.has_admin_access),
    )
    return (
        *(key for key, on in flags if on),
        f"outage_{profile.max_outage.value}",
        _REPLACE_KEYS[profile.replaceability],
        f"criticality_{profile.criticality}",
    )


def inherent_risk(profile: Profile, rules: TierRules | None = None) -> InherentRisk:
    """The risk the supplier carries before any answer: points per factor, then a level."""
    rules = rules or DEFAULT_RULES
    factors = _factors(profile)
    points = sum(rules.points[key] for key in factors)
    met = [lvl for lvl in LEVELS[1:] if points >= rules.inherent_thresholds[lvl]]
    return InherentRisk(
        level=met[-1] if met else LEVELS[0],
        points=points,
        reasons=tuple(key for key in factors if rules.points[key] > 0),
    )


def required_level(profile: Profile) -> tuple[str, tuple[str, ...]]:
    """The SCS level to ask for: ★4 on any trigger of METI's buyer flow, else ★3.

    Triggers: our confidential information on its systems; its stopping would delay us
    unacceptably (we could bear hours or days only); it can reach our internal systems (network
    or admin access). Personal information alone is not a trigger: mark sensitive personal data
    as confidential too.
    """
    triggers = (
        ("confidential_info", profile.shares_confidential_info),
        (f"outage_{profile.max_outage.value}", profile.max_outage in (Outage.hours, Outage.days)),
        ("network_access", profile.has_network_access),
        ("admin_access", profile.has_admin_access),
    )
    reasons = tuple(key for key, on in triggers if on)
    return ("star4", reasons) if reasons else ("star3", ())


def _held_index(level: str) -> int:
    if level not in HELD_ORDER:
        raise ValueError(f"level {level!r} must be one of {HELD_ORDER}")
    return HELD_ORDER.index(level)


def level_gap(required: str, held: str) -> int:
    """How many steps the held level is below the required one (0 when met or above)."""
    return max(0, _held_index(required) - _held_index(held))


def _score_step(latest_score: float | None, rules: TierRules) -> tuple[int, str | None]:
    if latest_score is None:
        return (1, "unscored") if rules.unscored_raise else (0, None)
    if latest_score < rules.poor_score_below:
        return 1, f"score_below_{rules.poor_score_below:g}"
    if latest_score >= rules.good_score_from:
        return -1, f"score_from_{rules.good_score_from:g}"
    return 0, None


def decide_tier(
    inherent: InherentRisk, latest_score: float | None, rules: TierRules = DEFAULT_RULES
) -> TierDecision:
    """The tier: the inherent level moved at most one step by the latest score, within LEVELS.

    The score's reason is given only when it moved the tier (not when clamped at either end).
    """
    base = LEVELS.index(inherent.level)
    step, reason = _score_step(latest_score, rules)
    tier = min(max(base + step, 0), len(LEVELS) - 1)
    moved = (reason,) if reason and tier != base else ()
    return TierDecision(
        tier=LEVELS[tier],
        inherent=inherent.level,
        score=latest_score,
        reasons=(f"inherent_{inherent.level}", *moved),
    )


def add_months(day: date, months: int) -> date:
    """Calendar months later, the day clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review(completed_on: date, tier: str, rules: TierRules = DEFAULT_RULES) -> date:
    """When a supplier of this tier is due for its next questionnaire."""
    if tier not in rules.cadence_months:
        raise ValueError(f"tier {tier!r} must be one of {LEVELS}")
    return add_months(completed_on, rules.cadence_months[tier])
