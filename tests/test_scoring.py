"""Scoring and tiering: pure maths over plain data, tested without the app."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vendorrisk.catalog import Catalog
from vendorrisk.catalog.loader import parse_template
from vendorrisk.config import BASE_DIR
from vendorrisk.scoring.scores import (
    DEFAULT_RULES,
    HELD_ORDER,
    LEVELS,
    InherentRisk,
    Outage,
    Profile,
    Replaceability,
    ScoreResult,
    TierRules,
    add_months,
    decide_tier,
    inherent_risk,
    level_gap,
    next_review,
    question_value,
    required_level,
    score,
)

SUPPLIER = Catalog.from_folder(BASE_DIR / "questionnaires").get("csm-v2-supplier")
SCORED = [q for q in SUPPLIER.questions if q.kind.scored]
PROPERTY = settings(max_examples=200, deadline=None)

# ------------------------------------------------------------------ a tiny template, by hand


def _question(qid: str, qtype: str, weight: float, directive: int, **extra) -> dict:
    text = {"ja": "質問", "en": "Question"}
    return {
        "id": qid,
        "type": qtype,
        "text": text,
        "weight": weight,
        "mapping": {"directive": directive, "item": None},
        **extra,
    }


def _choices(**scores: float) -> list[dict]:
    return [{"value": v, "label": {"ja": v, "en": v}, "score": s} for v, s in scores.items()]


def _tiny():
    text = {"ja": "小", "en": "Tiny"}
    directive_1 = [
        _question("a1", "yes_partial_no", 1, 1, critical=True),
        _question("a2", "yes_partial_no", 2, 1),
    ]
    directive_9 = [
        _question("b1", "single_choice", 2, 9, choices=_choices(full=1, some=0.25, none=0)),
        _question("b2", "yes_no", 2, 9),
        _question("b3", "yes_partial_no", 1, 9, show_if={"question": "b2", "in": ["yes"]}),
        _question("b4", "text", 0, 9),
        _question("b5", "multi_choice", 0.5, 9, choices=_choices(x=1, y=0)),
    ]
    return parse_template(
        {
            "id": "tiny",
            "version": 1,
            "audience": "supplier",
            "title": text,
            "description": text,
            "scoring": {"critical_cap": 40},
            "sections": [
                {"id": "s1", "title": text, "questions": directive_1},
                {"id": "s2", "title": text, "questions": directive_9},
            ],
        },
        Path("tiny.yaml"),
    )


TINY = _tiny()


def _numbers(result: ScoreResult) -> dict:
    return {
        "overall": result.overall,
        "uncapped": result.uncapped,
        "capped": result.capped,
        "failures": result.critical_failures,
        "directives": {d.directive: d.score for d in result.directives},
    }


def test_weighted_means_per_directive_and_over_every_question():
    answers = {"a1": "partial", "a2": "yes", "b1": "some", "b2": "no", "b3": "yes"}
    result = score(TINY, {**answers, "b4": "free text", "b5": ["x"]})
    # D1 (1*0.5 + 2*1) / 3; D9 (2*0.25 + 2*0) / 4, b3 hidden because b2 is "no";
    # overall 3 / 7 = 42.86, not the mean of the directive means (47.9).
    assert _numbers(result) == {
        "overall": 42.9,
        "uncapped": 42.9,
        "capped": False,
        "failures": (),
        "directives": {1: 83.3, 9: 12.5},
    }
    d9 = result.directive(9)
    assert [q.question_id for q in d9.questions] == ["b1", "b2"]
    assert (d9.weight_counted, d9.answered, d9.not_applicable, d9.unanswered) == (4.0, 2, 0, 0)
    assert result.directive(1).weight_counted == 3.0


def test_a_shown_question_counts():
    result = score(TINY, {"a1": "partial", "a2": "yes", "b1": "some", "b2": "yes", "b3": "yes"})
    # D9 (2*0.25 + 2*1 + 1*1) / 5; overall (2.5 + 3.5) / 8.
    assert _numbers(result)["directives"] == {1: 83.3, 9: 70.0}
    assert result.overall == 75.0


def test_a_critical_no_caps_the_overall_and_na_is_left_out():
    result = score(TINY, {"a1": "no", "a2": "yes", "b1": "full", "b2": "yes", "b3": "na"})
    # uncapped 6 / 7 = 85.71; a1 is critical and worth 0, so the overall stops at 40.
    assert _numbers(result) == {
        "overall": 40.0,
        "uncapped": 85.7,
        "capped": True,
        "failures": ("a1",),
        "directives": {1: 66.7, 9: 100.0},
    }
    assert result.cap == 40.0
    d9 = result.directive(9)
    assert (d9.answered, d9.not_applicable, d9.unanswered, d9.weight_counted) == (2, 1, 0, 4.0)
    a1 = result.directive(1).questions[0]
    assert (a1.value, a1.critical, a1.critical_failure) == (0.0, True, True)


def test_a_critical_failure_below_the_cap_is_reported_but_does_not_cap():
    result = score(TINY, {"a1": "unknown", "a2": "no", "b1": "none", "b2": "yes"})
    # D9 (0 + 2) / 4 with b3 shown but unanswered; overall 2 / 7 = 28.57.
    assert _numbers(result) == {
        "overall": 28.6,
        "uncapped": 28.6,
        "capped": False,
        "failures": ("a1",),
        "directives": {1: 0.0, 9: 50.0},
    }
    assert result.directive(9).unanswered == 1


def test_a_critical_na_is_no_failure():
    result = score(TINY, {"a1": "na", "a2": "no", "b1": "none", "b2": "no"})
    assert result.overall == 0.0 and not result.capped and result.critical_failures == ()
    assert result.directive(1).not_applicable == 1


def test_nothing_counted_gives_no_numbers_but_keeps_the_directives():
    result = score(TINY, {"a1": "na", "b4": "text only", "b5": ["x", "y"]})
    assert (result.overall, result.uncapped, result.capped) == (None, None, False)
    assert [(d.directive, d.score) for d in result.directives] == [(1, None), (9, None)]
    d1, d9 = result.directives
    assert (d1.not_applicable, d1.unanswered) == (1, 1)
    assert (d9.answered, d9.unanswered, len(d9.questions)) == (0, 2, 2)


@pytest.mark.parametrize(
    ("qid", "value", "expected"),
    [
        ("a2", "yes", 1.0),
        ("a2", "partial", 0.5),
        ("a2", "no", 0.0),
        ("a2", "unknown", 0.0),
        ("a2", "na", None),
        ("a2", None, None),
        ("a2", "", None),
        ("a2", ["yes"], None),
        ("a2", "perhaps", None),
        ("b1", "some", 0.25),
        ("b1", "other", None),
        ("b2", "unknown", None),
        ("b4", "yes", None),
        ("b5", ["x"], None),
    ],
)
def test_question_value(qid, value, expected):
    assert question_value(TINY.question(qid), value) == expected


def test_an_unscorable_stored_value_counts_as_unanswered():
    result = score(TINY, {"a1": "yes", "a2": "perhaps"})
    d1 = result.directive(1)
    assert (d1.score, d1.answered, d1.not_applicable, d1.unanswered) == (100.0, 1, 0, 1)


def test_the_result_survives_json_exactly():
    result = score(TINY, {"a1": "no", "a2": "partial", "b1": "some", "b2": "yes", "b3": "na"})
    stored = json.loads(json.dumps(result.to_dict()))
    assert ScoreResult.from_dict(stored) == result
    assert stored["critical_failures"] == ["a1"]


# ---------------------------------------------------------------- the shipped supplier template


def _best() -> dict:
    best = {}
    for q in SCORED:
        best[q.id] = max(q.choices, key=lambda c: c.score).value if q.choices else "yes"
    return best


def test_best_answers_score_100_everywhere():
    result = score(SUPPLIER, _best())
    assert (result.overall, result.uncapped, result.capped) == (100.0, 100.0, False)
    assert [d.directive for d in result.directives] == list(range(1, 11))
    assert all(d.score == 100.0 and d.unanswered == 0 for d in result.directives)


@pytest.mark.parametrize("qid", [q.id for q in SCORED if q.critical])
def test_any_critical_no_caps_the_supplier_at_its_cap(qid):
    result = score(SUPPLIER, {**_best(), qid: "no"})
    assert result.capped and result.critical_failures == (qid,)
    assert result.overall == SUPPLIER.critical_cap == 40.0
    assert result.uncapped > 90


def _answers():
    """For each scored question of the supplier template: one of its values, or nothing."""
    ids = [q.id for q in SCORED]
    values = st.tuples(*(st.sampled_from((None, *q.kind.values(q))) for q in SCORED))
    return values.map(lambda drawn: {k: v for k, v in zip(ids, drawn, strict=True) if v})


def _overall_and_directive(answers: dict, question) -> tuple[float | None, float | None]:
    result = score(SUPPLIER, answers)
    return result.overall, result.directive(question.mapping.directive).score


def _assert_in_bounds(result: ScoreResult) -> None:
    if result.overall is None:
        assert result.uncapped is None and not result.capped
    else:
        assert 0 <= result.overall <= result.uncapped <= 100
        assert result.capped == (result.overall < result.uncapped)
        assert not result.capped or result.overall == result.cap
    assert bool(result.critical_failures) or not result.capped
    for d in result.directives:
        assert d.score is None or 0 <= d.score <= 100
        assert d.answered + d.not_applicable + d.unanswered == len(d.questions)
        assert (d.score is None) == (d.answered == 0)


# Each @given checks several properties of one draw: drawing ~40 answers is the slow part.
@PROPERTY
@given(answers=_answers())
def test_scores_stay_in_bounds_round_trip_and_repeat(answers):
    result = score(SUPPLIER, answers)
    _assert_in_bounds(result)
    assert ScoreResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    assert score(SUPPLIER, dict(reversed(list(answers.items())))) == result


def _assert_not_applicable_beats_the_worst_answer(answers: dict, question) -> None:
    if question.choices:  # a choice question has no "na": leaving it out is not counting it
        worst = min(question.choices, key=lambda c: c.score).value
        left_out = {k: v for k, v in answers.items() if k != question.id}
    else:
        worst, left_out = "no", {**answers, question.id: "na"}
    na_overall, na_directive = _overall_and_directive(left_out, question)
    low_overall, low_directive = _overall_and_directive({**answers, question.id: worst}, question)
    assert low_overall is not None and low_directive is not None
    assert na_overall is None and low_overall == 0 or na_overall >= low_overall
    assert na_directive is None and low_directive == 0 or na_directive >= low_directive


def _assert_a_better_answer_never_lowers(answers: dict, question, pair: list[str]) -> None:
    worse, better = sorted(pair, key=lambda v: question_value(question, v))
    low = _overall_and_directive({**answers, question.id: worse}, question)
    high = _overall_and_directive({**answers, question.id: better}, question)
    assert high[0] >= low[0]  # the overall
    assert high[1] >= low[1]  # the question's directive


@PROPERTY
@given(answers=_answers(), question=st.sampled_from(SCORED), data=st.data())
def test_na_beats_the_worst_answer_and_better_answers_never_lower(answers, question, data):
    _assert_not_applicable_beats_the_worst_answer(answers, question)
    counted = [v for v in question.kind.values(question) if question_value(question, v) is not None]
    pair = data.draw(st.lists(st.sampled_from(counted), min_size=2, max_size=2), label="pair")
    _assert_a_better_answer_never_lowers(answers, question, pair)


# ------------------------------------------------------------------------------------ tiering


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
    assert set(DEFAULT_RULES.template_by_tier.values()) == {"csm-v2-supplier"}
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
