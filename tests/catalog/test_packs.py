"""Issue 17: three supplier packs per edition, what each holds and how the loader checks the
keys they use (pack, mapping.scs, covered_by, number bands)."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from tests.catalog.test_catalog import QUESTIONNAIRES, _minimal, _write
from vendorrisk.catalog import Catalog, CatalogError, load_template
from vendorrisk.catalog.scs import COVER_KINDS, PACKS, SCS_AREAS
from vendorrisk.catalog.types import AnswerError
from vendorrisk.scoring.scores import score

EDITIONS = {"csm-2.0": "csm-v2-supplier", "csm-3.0": "csm-v3-supplier"}


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return Catalog.from_folder(QUESTIONNAIRES)


def _pack(shipped, edition, pack):
    base = EDITIONS[edition]
    return shipped.get(base if pack == "full" else f"{base}-{pack}")


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_edition_has_three_packs_growing_in_size(shipped, edition):
    packs = [_pack(shipped, edition, pack) for pack in PACKS]
    assert [t.pack for t in packs] == list(PACKS)
    assert {t.edition for t in packs} == {edition}
    sizes = [len(t.questions) for t in packs]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    assert sizes[0] <= 25  # the lite pack: 5か条 and the self-diagnosis's topics
    for template in packs:  # every question mapped to a direction, most to an Appendix A item
        assert all(q.mapping.directive in range(1, 11) for q in template.questions)
        items = [q for q in template.questions if q.scored and q.mapping.item]
        assert len(items) >= len([q for q in template.questions if q.scored]) * 0.6


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_standard_pack_evidences_every_scs_star3_area(shipped, edition):
    standard = _pack(shipped, edition, "standard")
    assert all(q.mapping.scs for q in standard.questions)
    evidenced = {code for q in standard.questions if q.scored for code in q.mapping.scs}
    assert evidenced == set(SCS_AREAS)


@pytest.mark.parametrize("edition", EDITIONS)
def test_packs_ask_what_procurement_checks_with_fit_answer_types(shipped, edition):
    for pack in ("standard", "full"):
        template = _pack(shipped, edition, pack)
        numbers = [q for q in template.questions if q.type == "number" and q.bands]
        assert len(numbers) >= 2, pack  # log retention months, days to patch
        texts = " ".join(q.text.ja for q in template.questions)
        for phrase in ("多要素認証", "バックアップ", "秘密保持", "廃棄", "ログ"):
            assert phrase in texts, (pack, phrase)
        assert any(q.type == "multi_choice" for q in template.questions), pack
    full = _pack(shipped, edition, "full")
    # Subcontracting asks our prior approval and the subcontractor's obligations apart.
    assert full.question("sup-d9s-16").text.ja != full.question("sup-d9s-16b").text.ja
    assert "承認" in full.question("sup-d9s-16").text.ja
    assert "承認" not in full.question("sup-d9s-16b").text.ja


def test_version_1_of_the_full_packs_still_loads_for_assessments_sent_on_it(shipped):
    for base in EDITIONS.values():
        old, new = shipped.get(base, 1), shipped.get(base)
        assert (old.version, new.version) == (1, 2)
        assert "sup-d9s-16b" not in {q.id for q in old.questions}
        assert {q.id for q in old.questions} <= {q.id for q in new.questions}


def test_covered_by_names_only_known_proof_on_scored_questions(shipped):
    lite = _pack(shipped, "csm-3.0", "lite")
    covered = [q for q in lite.questions if q.covered_by]
    assert covered and all(q.scored and set(q.covered_by) <= set(COVER_KINDS) for q in covered)


def test_number_bands_score_the_answer(tmp_path):
    data = _minimal()
    data["sections"][0]["questions"].append(
        {
            "id": "days",
            "type": "number",
            "text": {"ja": "日数", "en": "Days"},
            "weight": 2,
            "mapping": {"directive": 5, "item": "D5-2"},
            "bands": [{"max": 14, "score": 1}, {"max": 30, "score": 0.5}, {"score": 0}],
        }
    )
    template = load_template(_write(tmp_path, data))
    days = template.question("days")
    assert days.scored and days.bands[0].max == Decimal(14)
    scores = [days.kind.score(days, value) for value in ("7", "14", "14.5", "30", "31")]
    assert scores == [1, 1, 0.5, 0.5, 0]
    with pytest.raises(AnswerError, match="0 or more"):
        days.kind.normalize(days, "-3")  # a count of days is never negative
    assert days.kind.normalize(days, "0") == "0"
    result = score(template, {"q1": "yes", "q2": "a", "days": "20"})
    assert result.overall == pytest.approx((1 + 1 + 0.5 * 2) / 4 * 100)


def _with(change) -> dict:
    data = copy.deepcopy(_minimal())
    change(data)
    return data


def _q(data, key, value, index=0):
    data["sections"][0]["questions"][index][key] = value


CASES = {
    "pack: 'tiny' must be one of lite, standard, full": lambda d: d.update(pack="tiny"),
    "packs are for supplier questionnaires": lambda d: d.update(pack="lite", audience="internal"),
    "every question of a standard pack names the ★3 area it evidences": lambda d: d.update(
        pack="standard"
    ),
    "mapping.scs: 'XX-9' is not a ★3 area": lambda d: d["sections"][0]["questions"][0][
        "mapping"
    ].update(scs=["XX-9"]),
    "covered_by must list some of isms, scs, jama": lambda d: _q(d, "covered_by", ["pmark"]),
    "covered_by is for scored questions": lambda d: _q(d, "covered_by", ["isms"], 2),
    "bands are for number questions, not yes_partial_no": lambda d: _q(d, "bands", [{"score": 1}]),
}


@pytest.mark.parametrize("expected", CASES)
def test_a_bad_pack_key_is_refused_naming_the_problem(tmp_path, expected):
    with pytest.raises(CatalogError) as refused:
        load_template(_write(tmp_path, _with(CASES[expected])))
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems


def test_bands_need_a_last_catch_all(tmp_path):
    def change(data):
        data["sections"][0]["questions"][2].update(
            type="number", bands=[{"min": 12, "score": 1}, {"min": 6, "score": 0.5}], weight=1
        )
        del data["sections"][0]["questions"][2]["show_if"]

    with pytest.raises(CatalogError, match="the last has neither"):
        load_template(_write(tmp_path, _with(change)))
