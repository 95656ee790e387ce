"""The answer-type registry: one module per type, each owning every switch on its name."""

from __future__ import annotations

import random

import pytest
from werkzeug.datastructures import MultiDict

from vendorrisk.catalog import Catalog
from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types import QUESTION_TYPES, AnswerType
from vendorrisk.catalog.types.base import register
from vendorrisk.config import BASE_DIR

SUPPLIER = Catalog.from_folder(BASE_DIR / "questionnaires").get("csm-v2-supplier")
TEMPLATES = BASE_DIR / "vendorrisk" / "templates"


def test_the_registry_refuses_a_second_type_of_the_same_name():
    class Twin(AnswerType):
        name = "yes_no"
        title = "twin"
        hint = Text("双子", "Twin")

    original = QUESTION_TYPES["yes_no"]
    with pytest.raises(ValueError, match="'yes_no' is already registered"):
        register(Twin())
    assert QUESTION_TYPES["yes_no"] is original


@pytest.mark.parametrize("name", sorted(QUESTION_TYPES))
def test_every_type_has_its_input_macro(name):
    assert (TEMPLATES / QUESTION_TYPES[name].macro).is_file()


@pytest.mark.parametrize("question", SUPPLIER.questions, ids=lambda q: q.id)
def test_samples_are_answers_the_type_accepts_as_they_are(question):
    kind = question.kind
    for rng in (None, random.Random(7), random.Random(8)):
        value = kind.sample(question, rng)
        assert kind.normalize(question, value) == value


def test_the_best_samples_score_full_marks():
    scored = [q for q in SUPPLIER.questions if q.kind.scored]
    assert {q.kind.score(q, q.kind.sample(q)) for q in scored} == {1.0}


def test_the_form_gives_one_value_a_list_or_nothing_by_type():
    form = MultiDict([("a", "x"), ("a", "y")])
    assert QUESTION_TYPES["yes_no"].from_form(form, "a") == "x"
    assert QUESTION_TYPES["multi_choice"].from_form(form, "a") == ["x", "y"]
    assert QUESTION_TYPES["file"].from_form(form, "a") is None


def test_the_workbook_and_the_portal_read_one_label():
    question = next(q for q in SUPPLIER.questions if q.type == "yes_partial_no")
    kind = question.kind
    assert kind.label(question, "partial", "en") == "Partially implemented"
    assert kind.label(question, "partial", "ja") == "一部実施している"
    assert kind.cell(question, "partial") == "一部実施している / Partially implemented"
    assert ("unknown", "Unknown") in kind.options(question, "en")
