"""Pure tiering: a supplier's profile to an inherent risk, a tier, a review date, a required level.

The profile gives points, the points an inherent risk level (``TierRules``); the latest completed
score moves the tier one step up or down; the tier sets the re-check cadence. The required
evaluation level follows the METI SCS buyer decision flow (★4 triggers, else ★3). Plain data in,
frozen dataclasses out (STYLE rule 8).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from vendorrisk.vocab import Level, Outage, Replaceability, Tier

#: Risk levels, lowest first: inherent risk, business criticality and tier all use them.
LEVELS = tuple(tier.value for tier in Tier)
#: What a supplier holds, lowest first: SECURITY ACTION ★1/★2 below METI SCS ★3–★5.
HELD_ORDER = tuple(level.value for level in Level)


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


#: The supplier pack each tier is asked by default (Ver 3.0): a small supplier of low risk the
#: lite pack (SECURITY ACTION's 5か条 and IPA's self-diagnosis), medium the standard pack (SCS ★3's
#: areas), high and critical the full questionnaire. METI's and the JFTC's guidance warn against
#: asking suppliers more than the risk needs.
DEFAULT_PACKS: Mapping[str, str] = MappingProxyType(
    {
        "low": "csm-v3-supplier-lite",
        "medium": "csm-v3-supplier-standard",
        "high": "csm-v3-supplier",
        "critical": "csm-v3-supplier",
    }
)
_DEFAULT_TEMPLATES = DEFAULT_PACKS
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
    re-checks every 6 / 12 / 12 / 24 months (critical / high / medium / low); the Ver 3.0 packs
    of DEFAULT_PACKS by tier.
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
    return (Level.star4.value, reasons) if reasons else (Level.star3.value, ())


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
