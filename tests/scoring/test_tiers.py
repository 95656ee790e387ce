"""Tiering: inherent risk, tiers, review dates and required levels, tested without the app."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vendorrisk.scoring.tiers import (
    DEFAULT_RULES,
    HELD_ORDER,
    LEVELS,
    InherentRisk,
    Profile,
    TierRules,
    add_months,
    decide_tier,
    inherent_risk,
    level_gap,
    next_review,
    required_level,
)
from vendorrisk.vocab import Outage, Replaceability

PROPERTY = settings(max_examples=200, deadline=None)


def _profile(**overrides) -> Profile:
    base = {
        "shares_personal_info": False,
        "shares_confidential_info": False,
        "has_network_access": False,
        "has_admin_access": False,
        "max_outage": Outage.months,
        "replaceability": Replaceability.easy,
        "criticality": "low",
    }
    return Profile(**{**base, **overrides})


def test_a_supplier_touching_nothing_is_low_and_needs_star3():
    profile = _profile()
    assert inherent_risk(profile) == InherentRisk(level="low", points=0, reasons=())
    assert required_level(profile) == ("star3", ())


def test_an_outsourced_admin_with_everything_is_critical_and_needs_star4():
    profile = _profile(
        shares_personal_info=True,
        shares_confidential_info=True,
        has_network_access=True,
        has_admin_access=True,
        max_outage=Outage.hours,
        replaceability=Replaceability.hard,
        criticality="critical",
    )
    risk = inherent_risk(profile)
    assert (risk.level, risk.points) == ("critical", 18)
    assert risk.reasons == (
        "personal_info",
        "confidential_info",
        "network_access",
        "admin_access",
        "outage_hours",
        "hard_to_replace",
        "criticality_critical",
    )
    assert required_level(profile) == (
        "star4",
        ("confidential_info", "outage_hours", "network_access", "admin_access"),
    )


@pytest.mark.parametrize(
    ("overrides", "level", "points"),
    [
        ({"shares_personal_info": True}, "low", 2),
        ({"shares_confidential_info": True}, "medium", 3),
        (
            {"shares_personal_info": True, "max_outage": "weeks", "criticality": "medium"},
            "medium",
            4,
        ),
        ({"shares_confidential_info": True, "has_admin_access": True}, "high", 6),
        ({"has_network_access": True, "max_outage": "days", "replaceability": "hard"}, "high", 6),
        (
            {"shares_confidential_info": True, "has_admin_access": True, "max_outage": "hours"},
            "critical",
            9,
        ),
    ],
)
def test_inherent_levels_start_at_3_6_and_9_points(overrides, level, points):
    risk = inherent_risk(_profile(**overrides))
    assert (risk.level, risk.points) == (level, points)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"shares_confidential_info": True}, ("star4", ("confidential_info",))),
        ({"has_network_access": True}, ("star4", ("network_access",))),
        ({"has_admin_access": True}, ("star4", ("admin_access",))),
        ({"max_outage": Outage.hours}, ("star4", ("outage_hours",))),
        ({"max_outage": Outage.days}, ("star4", ("outage_days",))),
        ({"max_outage": Outage.weeks}, ("star3", ())),
        ({"shares_personal_info": True, "criticality": "critical"}, ("star3", ())),
        ({"replaceability": Replaceability.hard}, ("star3", ())),
    ],
)
def test_required_level_follows_the_three_star4_triggers(overrides, expected):
    assert required_level(_profile(**overrides)) == expected


def test_a_profile_takes_plain_strings_and_refuses_unknown_ones():
    profile = _profile(max_outage="days", replaceability="moderate", criticality="high")
    assert profile.max_outage is Outage.days and profile.replaceability is Replaceability.moderate
    assert inherent_risk(profile).reasons == (
        "outage_days",
        "moderate_to_replace",
        "criticality_high",
    )
    for bad in ({"max_outage": "years"}, {"replaceability": "never"}, {"criticality": "extreme"}):
        with pytest.raises(ValueError):
            _profile(**bad)


def test_custom_points_change_the_level():
    rules = TierRules.from_dict({"points": {"personal_info": 9}})
    assert inherent_risk(_profile(shares_personal_info=True), rules).level == "critical"
    assert inherent_risk(_profile(shares_personal_info=True)).level == "low"


@pytest.mark.parametrize(
    ("required", "held", "gap"),
    [
        ("star4", "star2", 2),
        ("star3", "none", 3),
        ("star3", "star1", 2),
        ("star4", "star4", 0),
        ("star3", "star5", 0),
        ("star2", "star1", 1),
    ],
)
def test_level_gap(required, held, gap):
    assert level_gap(required, held) == gap


def test_level_gap_refuses_unknown_levels():
    with pytest.raises(ValueError, match="'gold'"):
        level_gap("star3", "gold")
    assert HELD_ORDER.index("star2") < HELD_ORDER.index("star3")


def _risk(level: str) -> InherentRisk:
    return InherentRisk(level=level, points=0, reasons=())


@pytest.mark.parametrize(
    ("inherent", "latest", "rules", "tier", "reasons"),
    [
        ("high", 40.0, {}, "critical", ("inherent_high", "score_below_50")),
        ("high", 50.0, {}, "high", ("inherent_high",)),
        ("high", 84.9, {}, "high", ("inherent_high",)),
        ("high", 85.0, {}, "medium", ("inherent_high", "score_from_85")),
        ("medium", 100.0, {}, "low", ("inherent_medium", "score_from_85")),
        ("critical", 10.0, {}, "critical", ("inherent_critical",)),
        ("low", 95.0, {}, "low", ("inherent_low",)),
        ("low", 0.0, {}, "medium", ("inherent_low", "score_below_50")),
        ("medium", None, {}, "medium", ("inherent_medium",)),
        ("medium", None, {"unscored_raise": True}, "high", ("inherent_medium", "unscored")),
        ("critical", None, {"unscored_raise": True}, "critical", ("inherent_critical",)),
        (
            "medium",
            47.0,
            {"poor_score_below": 47.5},
            "high",
            ("inherent_medium", "score_below_47.5"),
        ),
        ("medium", 80.0, {"good_score_from": 80}, "low", ("inherent_medium", "score_from_80")),
    ],
)
def test_decide_tier_moves_one_step_within_the_levels(inherent, latest, rules, tier, reasons):
    decision = decide_tier(_risk(inherent), latest, TierRules.from_dict(rules))
    assert (decision.tier, decision.inherent, decision.score) == (tier, inherent, latest)
    assert decision.reasons == reasons


@PROPERTY
@given(level=st.sampled_from(LEVELS), latest=st.none() | st.floats(0, 100))
def test_the_tier_is_never_more_than_one_step_from_the_inherent_level(level, latest):
    tier = decide_tier(_risk(level), latest).tier
    assert abs(LEVELS.index(tier) - LEVELS.index(level)) <= 1


@pytest.mark.parametrize(
    ("completed", "tier", "due"),
    [
        (date(2025, 8, 31), "critical", date(2026, 2, 28)),
        (date(2027, 8, 31), "critical", date(2028, 2, 29)),
        (date(2025, 10, 15), "critical", date(2026, 4, 15)),
        (date(2025, 1, 31), "high", date(2026, 1, 31)),
        (date(2025, 3, 31), "medium", date(2026, 3, 31)),
        (date(2024, 2, 29), "low", date(2026, 2, 28)),
    ],
)
def test_next_review_adds_calendar_months_clamped_to_the_month_end(completed, tier, due):
    assert next_review(completed, tier) == due


def test_next_review_uses_the_rules_and_refuses_unknown_tiers():
    rules = TierRules.from_dict({"cadence_months": {"critical": 3}})
    assert next_review(date(2025, 11, 30), "critical", rules) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 31), 1) == date(2026, 1, 31)
    with pytest.raises(ValueError, match="'urgent'"):
        next_review(date(2025, 1, 1), "urgent")


def test_rules_default_and_round_trip_through_json():
    assert TierRules.from_dict({}) == DEFAULT_RULES == TierRules()
    assert DEFAULT_RULES.cadence_months == {"critical": 6, "high": 12, "medium": 12, "low": 24}
    # Each tier its pack: lite for low, standard for medium, the full questionnaire above.
    assert DEFAULT_RULES.template_by_tier == {
        "low": "csm-v3-supplier-lite",
        "medium": "csm-v3-supplier-standard",
        "high": "csm-v3-supplier",
        "critical": "csm-v3-supplier",
    }
    stored = json.loads(json.dumps(DEFAULT_RULES.to_dict()))
    assert TierRules.from_dict(stored) == DEFAULT_RULES


def test_rules_keep_defaults_for_missing_keys_and_copy_what_they_are_given():
    given = {"points": {"admin_access": 5}, "cadence_months": {"low": 36}}
    rules = TierRules.from_dict(given)
    given["points"]["admin_access"] = 99
    assert rules.points["admin_access"] == 5 and rules.points["personal_info"] == 2
    assert rules.cadence_months == {**DEFAULT_RULES.cadence_months, "low": 36}
    with pytest.raises(TypeError):
        rules.points["admin_access"] = 1


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"pionts": {}}, "'pionts'"),
        ({"points": {"shares_everything": 1}}, "'points.shares_everything'"),
        ({"points": {"personal_info": -1}}, "'points.personal_info'"),
        ({"points": {"personal_info": True}}, "'points.personal_info'"),
        ({"points": ["personal_info"]}, "'points'"),
        ({"inherent_thresholds": {"extreme": 12}}, "'inherent_thresholds.extreme'"),
        ({"inherent_thresholds": {"high": 2}}, "'inherent_thresholds'"),
        ({"poor_score_below": "fifty"}, "'poor_score_below'"),
        ({"good_score_from": 120}, "'good_score_from'"),
        ({"poor_score_below": 90}, "'poor_score_below'"),
        ({"unscored_raise": "yes"}, "'unscored_raise'"),
        ({"cadence_months": {"high": 0}}, "'cadence_months.high'"),
        ({"cadence_months": {"high": 12.5}}, "'cadence_months.high'"),
        ({"template_by_tier": {"low": ""}}, "'template_by_tier.low'"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(data, named):
    with pytest.raises(ValueError, match="tier rules: ") as caught:
        TierRules.from_dict(data)
    assert named in str(caught.value)


def test_rules_must_be_a_mapping():
    with pytest.raises(ValueError, match="must be a mapping"):
        TierRules.from_dict(["points"])
