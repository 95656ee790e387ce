"""Questionnaire templates: the shipped ones are complete; a bad one is refused whole."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from vendorrisk.catalog import Catalog, CatalogError, load_template
from vendorrisk.catalog.editions import EDITIONS
from vendorrisk.catalog.types import QUESTION_TYPES, AnswerError
from vendorrisk.config import BASE_DIR

QUESTIONNAIRES = BASE_DIR / "questionnaires"
REFERENCE = BASE_DIR.parent / "shared" / "reference" / "guideline-v2.md"


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return Catalog.from_folder(QUESTIONNAIRES)


def test_shipped_templates_load_without_errors(shipped):
    assert shipped.errors == []
    # each edition's supplier questionnaire is the full pack, beside its lite and standard packs
    # (issue 17); the pack a template is comes from its file, "full" unless it says otherwise
    assert {t.id: t.pack for t in shipped.current()} == {
        "csm-v2-internal": "full",
        "csm-v2-supplier": "full",
        "csm-v2-supplier-lite": "lite",
        "csm-v2-supplier-standard": "standard",
        "csm-v3-internal": "full",
        "csm-v3-supplier": "full",
        "csm-v3-supplier-lite": "lite",
        "csm-v3-supplier-standard": "standard",
    }


def test_internal_template_has_every_appendix_a_item_once(shipped):
    internal = shipped.get("csm-v2-internal")
    items = [q.mapping.item for q in internal.questions]
    expected = [f"D{d}-{i}" for d, n in EDITIONS["csm-2.0"].items.items() for i in range(1, n + 1)]
    assert sorted(items) == sorted(expected)
    assert len(items) == 41
    assert internal.directives() == list(range(1, 11))


@pytest.mark.skipif(not REFERENCE.exists(), reason="needs ../shared/reference beside the repo")
def test_internal_texts_are_the_guidelines_own_words(shipped):
    reference = REFERENCE.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (D\d+-\d+) \| ([^|]+) \|", reference, flags=re.M))
    for q in shipped.get("csm-v2-internal").questions:
        assert q.text.ja == rows[q.mapping.item].strip(), q.id


def test_every_question_maps_to_directive_csf_and_iso(shipped):
    internal = shipped.get("csm-v2-internal")
    assert all(q.mapping.iso for q in internal.questions)
    assert sum(bool(q.mapping.csf) for q in internal.questions) >= 30
    d12 = next(q for q in internal.questions if q.mapping.item == "D1-2")
    assert d12.mapping.csf == ("ID.GV-1",)


def test_supplier_template_covers_directive_9_specifics_and_every_answer_type(shipped):
    supplier = shipped.get("csm-v2-supplier")
    assert supplier.audience == "supplier"
    assert set(supplier.directives()) == set(range(1, 11))
    assert {q.type for q in supplier.questions} == set(QUESTION_TYPES)
    texts = " ".join(q.text.ja for q in supplier.questions)
    for phrase in ("SECURITY ACTION", "ISMS", "サイバー保険", "再委託", "監査", "返却"):
        assert phrase in texts, phrase
    assert any(q.critical for q in supplier.questions)
    assert any(q.evidence for q in supplier.questions)


def _minimal() -> dict:
    text = {"ja": "質問", "en": "Question"}
    return {
        "id": "tiny",
        "version": 1,
        "audience": "supplier",
        "title": text,
        "description": text,
        "scoring": {"critical_cap": 40},
        "sections": [
            {
                "id": "s1",
                "title": text,
                "questions": [
                    {
                        "id": "q1",
                        "type": "yes_partial_no",
                        "text": text,
                        "weight": 1,
                        "critical": True,
                        "mapping": {
                            "directive": 9,
                            "item": "D9-1",
                            "csf": ["ID.SC-1"],
                            "iso": ["27002:15.1.1"],
                        },
                    },
                    {
                        "id": "q2",
                        "type": "single_choice",
                        "text": text,
                        "weight": 1,
                        "mapping": {"directive": 9, "item": None},
                        "choices": [
                            {"value": "a", "label": text, "score": 1},
                            {"value": "b", "label": text, "score": 0},
                        ],
                    },
                    {
                        "id": "q3",
                        "type": "text",
                        "text": text,
                        "weight": 0,
                        "mapping": {"directive": 9, "item": None},
                        "show_if": {"question": "q1", "in": ["yes", "partial"]},
                    },
                ],
            }
        ],
    }


def _write(tmp_path: Path, data: dict, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_minimal_template_loads(tmp_path):
    template = load_template(_write(tmp_path, _minimal()))
    assert template.key == "tiny@1"
    assert template.question("q3").show_if.values == ("yes", "partial")


def _broken(mutate):
    data = _minimal()
    mutate(data)
    return data


def _q(data, i):
    return data["sections"][0]["questions"][i]


CASES = {
    "unknown answer type 'stars'": lambda d: _q(d, 0).update(type="stars"),
    "duplicate question id": lambda d: _q(d, 1).update(id="q1"),
    "missing translation 'en'": lambda d: _q(d, 0).update(text={"ja": "質問"}),
    "is not an Appendix A item of direction 9 in Ver 2.0": lambda d: _q(d, 0)["mapping"].update(
        item="D9-7"
    ),
    "'SC-1' is not a NIST CSF 1.1 category or subcategory id": lambda d: _q(d, 0)["mapping"].update(
        csf=["SC-1"]
    ),
    "'PR.AC-6' is not a NIST CSF 1.0": lambda d: (
        d.update(edition="csm-2.0") or _q(d, 0)["mapping"].update(csf=["PR.AC-6"])
    ),
    "'ISO 27001' is not a clause of ISO/IEC 27001:2013": lambda d: _q(d, 0)["mapping"].update(
        iso=["ISO 27001"]
    ),
    "'27002:5.19' is not a clause of ISO/IEC 27001:2013": lambda d: _q(d, 0)["mapping"].update(
        iso=["27002:5.19"]
    ),
    "the Ver 2.0 edition maps no CIS Controls": lambda d: _q(d, 0)["mapping"].update(cis=["4.1"]),
    "'csm-4.0' must be one of csm-2.0, csm-3.0": lambda d: d.update(edition="csm-4.0"),
    "csf_version: '2.0' must be one of '1.0', '1.1'": lambda d: d.update(csf_version="2.0"),
    "mapping.directive must be 1 to 10": lambda d: _q(d, 0)["mapping"].update(directive=11),
    "which is not an earlier question": lambda d: _q(d, 2)["show_if"].update(question="q9"),
    "is not an answer of 'q1'": lambda d: _q(d, 2)["show_if"].update(**{"in": ["maybe"]}),
    "choices are not allowed": lambda d: _q(d, 0).update(
        choices=copy.deepcopy(_q(d, 1)["choices"])
    ),
    "choices must be a non-empty list": lambda d: _q(d, 1).pop("choices"),
    "unknown key 'wieght'": lambda d: _q(d, 0).update(wieght=2),
    "must match the file name": lambda d: d.update(id="other"),
    "only scored questions can be critical, not text": lambda d: _q(d, 2).update(critical=True),
    "a scored question (yes_partial_no) needs a weight above 0": lambda d: _q(d, 0).update(
        weight=0
    ),
    "critical_cap": lambda d: d["scoring"].update(critical_cap=140),
    "missing key 'version'": lambda d: d.pop("version"),
    "missing key 'title'": lambda d: d["sections"][0].pop("title"),
    "unknown answer type ['yes']": lambda d: _q(d, 0).update(type=["yes"]),
    "mapping.directive must be 1 to 10, not True": lambda d: _q(d, 0)["mapping"].update(
        directive=True
    ),
    "audience": lambda d: d.update(audience=["supplier"]),
}


@pytest.mark.parametrize("expected", list(CASES))
def test_a_bad_template_is_a_clear_error_naming_file_and_question(tmp_path, expected):
    path = _write(tmp_path, _broken(CASES[expected]))
    with pytest.raises(CatalogError) as caught:
        load_template(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message


def _v3(d: dict) -> dict:
    d["edition"] = "csm-3.0"
    return d


def test_a_ver_3_template_takes_its_own_items_csf_1_1_categories_iso_2022_and_cis(tmp_path):
    """Ver 3.0's shape, which Ver 2.0's loader refused: item D5-7 (Direction 5 has ten items),
    the CSF category ID.SC, ISO/IEC 27002:2022 controls and CIS Controls v8."""
    data = _v3(_minimal())
    _q(data, 0)["mapping"] = {
        "directive": 5,
        "item": "D5-7",
        "csf": ["ID.SC", "PR.AC-7", "DE.CM-1"],
        "iso": ["27001:8.1", "27001:A.5.19", "27002:5.23"],
        "cis": ["15", "15.4"],
    }
    template = load_template(_write(tmp_path, data))
    assert (template.edition, template.csf_version) == ("csm-3.0", "1.1")
    assert template.guideline.label == "Ver 3.0"
    mapping = template.question("q1").mapping
    assert (mapping.item, mapping.csf, mapping.cis) == (
        "D5-7",
        ("ID.SC", "PR.AC-7", "DE.CM-1"),
        ("15", "15.4"),
    )


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"item": "D5-11"}, "is not an Appendix A item of direction 5 in Ver 3.0 (D5-1 to D5-10)"),
        ({"item": "D4-4", "directive": 4}, "direction 4 in Ver 3.0 (D4-1 to D4-3)"),
        ({"csf": ["ID.SC-6"]}, "'ID.SC-6' is not a NIST CSF 1.1 category or subcategory id"),
        ({"iso": ["27002:15.1.1"]}, "'27002:15.1.1' is not a clause of ISO/IEC 27001:2022"),
        ({"iso": ["27002:8.35"]}, "'27002:8.35' is not a clause"),
        ({"cis": ["19"]}, "'19' is not a CIS Controls v8 control"),
    ],
)
def test_a_ver_3_template_is_checked_against_ver_3_vocabularies(tmp_path, mapping, expected):
    data = _v3(_minimal())
    _q(data, 0)["mapping"] = {"directive": 5, "item": None} | mapping
    with pytest.raises(CatalogError) as caught:
        load_template(_write(tmp_path, data))
    assert expected in str(caught.value)


def test_a_template_may_name_a_later_csf_version_than_its_edition(tmp_path):
    """Ver 2.0 cites CSF 1.0; the supplier template maps its Direction 9 specifics to ID.SC."""
    data = _minimal() | {"edition": "csm-2.0", "csf_version": "1.1"}
    _q(data, 0)["mapping"]["csf"] = ["ID.SC-4"]
    template = load_template(_write(tmp_path, data))
    assert (template.edition, template.csf_version) == ("csm-2.0", "1.1")
    assert template.question("q1").mapping.csf == ("ID.SC-4",)
    # A template from before editions: Ver 2.0, its CSF ids checked against 1.1 as they were.
    data.pop("edition"), data.pop("csf_version")
    template = load_template(_write(tmp_path, data))
    assert (template.edition, template.csf_version) == ("csm-2.0", "1.1")


def test_the_shipped_templates_name_their_edition_and_d5_1_maps_the_printed_categories(shipped):
    """Ver 2.0 prints (PR.AC)(PR.DS) for D5-1: categories, not fifteen subcategories of which
    PR.AC-6, PR.AC-7 and PR.DS-8 exist only in CSF 1.1."""
    internal, supplier = shipped.get("csm-v2-internal"), shipped.get("csm-v2-supplier")
    assert (internal.edition, internal.csf_version) == ("csm-2.0", "1.0")
    assert (supplier.edition, supplier.csf_version) == ("csm-2.0", "1.1")
    for template in (internal, supplier):
        d51 = next(q for q in template.questions if q.mapping.item == "D5-1")
        assert d51.mapping.csf == ("PR.AC", "PR.DS")


REFERENCE_V3 = REFERENCE.with_name("guideline-v3.md")


def test_the_ver_3_check_sheet_has_every_a2_item_once_with_its_provenance(shipped):
    """Appendix A-1's 9 principle items, then A-2's 40 items: METI's English as official, our
    Japanese marked 仮訳 on every item (none could be verified), Direction titles official in
    Japanese for D6-D9 only."""
    v3 = shipped.get("csm-v3-internal")
    assert (v3.edition, v3.csf_version, v3.audience) == ("csm-3.0", "1.1", "internal")
    items = [q.mapping.item for q in v3.questions]
    edition = EDITIONS["csm-3.0"]
    principles = [f"P{p}-{i}" for p, n in edition.principles.items() for i in range(1, n + 1)]
    expected = [f"D{d}-{i}" for d, n in edition.items.items() for i in range(1, n + 1)]
    assert items == principles + expected and len(expected) == 40 and len(principles) == 9
    assert all(q.text.working == ("ja",) for q in v3.questions)
    assert all(q.mapping.directive is None for q in v3.questions[:9])
    assert [s.title.is_working_translation("ja") for s in v3.direction_sections] == [
        True, True, True, True, True, False, False, False, False, True
    ]  # fmt: skip
    assert all(s.title.is_working_translation("ja") for s in v3.principle_sections)
    assert not any(s.title.is_working_translation("en") for s in v3.direction_sections)
    # the principles' titles are abridged from the English edition: not its words either
    assert all(s.title.working == ("ja", "en") for s in v3.principle_sections)
    d57 = v3.question("int3-d5-07")
    assert d57.text.en == "Logs from terminals and networks are being collected and analyzed."
    assert d57.mapping.csf == ("PR.MA-1", "PR.MA-2")
    assert "15" in v3.question("int3-d9-02").mapping.cis
    assert v3.question("int3-d6-03").mapping.csf == ("PR.IP-7", "PR.PT-1")  # "RP.PT-1" (sic)
    assert {q.mapping.item for q in v3.questions if q.critical} == {"D1-2", "D7-1", "D7-2", "D8-1"}


@pytest.mark.skipif(not REFERENCE_V3.exists(), reason="needs ../shared/reference beside the repo")
def test_the_ver_3_english_is_the_official_english_edition_verbatim(shipped):
    reference = REFERENCE_V3.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (D\d+-\d+) \| [^|]+ \| ([^|]+) \|", reference, flags=re.M))
    rows |= dict(re.findall(r"^\| (P\d-\d) \| [^|]+ \| ([^|]+) \|", reference, flags=re.M))
    assert len(rows) == 49
    for q in shipped.get("csm-v3-internal").questions:
        printed = re.sub(r"\s*\*\(sic[^)]*\)\*", "", rows[q.mapping.item]).strip()
        assert q.text.en == printed, q.id


def test_working_translation_must_name_languages(tmp_path):
    data = _minimal()
    _q(data, 0)["text"] = {"ja": "質問", "en": "Question", "working_translation": ["fr"]}
    with pytest.raises(CatalogError, match=r"working_translation must list languages"):
        load_template(_write(tmp_path, data))


def test_the_questionnaire_page_marks_working_translations(auth):
    """仮訳 beside every Japanese item of Ver 3.0, never beside METI's own English."""
    auth.login("auditor")
    japanese = auth.client.get("/questionnaires/csm-v3-internal?lang=ja").get_data(as_text=True)
    # items, then the titles of 6 directions and 3 principles in the contents and the headings
    assert japanese.count('class="badge muted working-translation"') == 49 + (6 + 3) * 2
    assert "仮訳" in japanese and "Ver 3.0" in japanese and "CIS Controls v8: 15" in japanese
    english = auth.client.get("/questionnaires/csm-v3-internal?lang=en").get_data(as_text=True)
    # only the 3 principles' abridged titles (contents and heading): every item is METI's English
    assert english.count('class="badge muted working-translation"') == 3 * 2
    assert "Logs from terminals and networks are being collected and analyzed." in english
    v2 = auth.client.get("/questionnaires/csm-v2-internal?lang=ja").get_data(as_text=True)
    assert "working-translation" not in v2  # the seed's own Japanese
    v2_en = auth.client.get("/questionnaires/csm-v2-internal?lang=en").get_data(as_text=True)
    # Ver 2.0's English is ours: every item, and each direction's title (in the contents and
    # its heading) and statement
    assert v2_en.count('class="badge muted working-translation"') == 41 + 10 * 3


def test_the_error_names_the_question(tmp_path):
    path = _write(tmp_path, _broken(lambda d: _q(d, 1).update(type="stars")))
    with pytest.raises(CatalogError, match=r"question 'q2': unknown answer type"):
        load_template(path)


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    def many(d):
        _q(d, 0).update(type="stars")
        _q(d, 1)["mapping"].update(item="D2-9")

    with pytest.raises(CatalogError) as caught:
        load_template(_write(tmp_path, _broken(many)))
    assert len(caught.value.problems) == 2


def test_invalid_yaml_is_refused(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_template(path)


def test_the_catalog_refuses_a_bad_file_and_keeps_the_good_ones(tmp_path):
    _write(tmp_path, _minimal())
    _write(tmp_path, _broken(lambda d: (d.update(id="bad"), _q(d, 0).update(type="x"))), "bad.yaml")
    loaded = Catalog.from_folder(tmp_path)
    assert [t.id for t in loaded.current()] == ["tiny"]
    assert loaded.get("bad") is None
    assert [Path(e.path).name for e in loaded.errors] == ["bad.yaml"]


def test_versions_are_kept_side_by_side(tmp_path):
    old = _minimal()
    new = _broken(lambda d: d.update(version=2))
    _write(tmp_path, old, "tiny@1.yaml")
    _write(tmp_path, new, "tiny.yaml")
    loaded = Catalog.from_folder(tmp_path)
    assert loaded.get("tiny").version == 2
    assert loaded.get("tiny", 1).version == 1


def test_answer_types_normalise_and_score(shipped):
    supplier = shipped.get("csm-v2-supplier")
    ynp = next(q for q in supplier.questions if q.type == "yes_partial_no")
    assert ynp.kind.score(ynp, ynp.kind.normalize(ynp, "partial")) == 0.5
    assert ynp.kind.score(ynp, "na") is None
    with pytest.raises(AnswerError):
        ynp.kind.normalize(ynp, "perhaps")
    number = next(q for q in supplier.questions if q.type == "number")
    assert number.kind.normalize(number, "1,000,000") == "1000000"
    date_q = next(q for q in supplier.questions if q.type == "date")
    with pytest.raises(AnswerError):
        date_q.kind.normalize(date_q, "31/12/2026")


def test_cli_validate_reports_ok_and_errors(runner, tmp_path):
    result = runner.invoke(args=["questionnaires", "validate"])
    assert result.exit_code == 0, result.output
    assert (
        "ok    csm-v2-internal@1: 41 questions (41 scored) in 10 sections; "
        "0 mapped to a direction only\n"
    ) in result.output
    _write(tmp_path, _broken(lambda d: _q(d, 0).update(type="stars")))
    result = runner.invoke(args=["questionnaires", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "tiny.yaml" in result.output and "question 'q1': unknown answer type" in result.output


def test_questionnaire_pages_show_sections_questions_and_mappings(auth):
    auth.login("auditor")
    page = auth.client.get("/questionnaires/csm-v2-internal?lang=ja").get_data(as_text=True)
    assert "経営者がサイバーセキュリティリスクを経営リスクの 1 つとして認識している" in page
    assert "ID.GV-1" in page and "27001:" in page
    assert "PR.AC, PR.DS" in page  # D5-1: the categories the guideline prints
    assert "サイバーセキュリティ経営ガイドライン Ver 2.0" in page and "NIST CSF 1.0" in page
    english = auth.client.get("/questionnaires/csm-v2-internal?lang=en").get_data(as_text=True)
    assert "Management recognizes cybersecurity risk" in english
    listing = auth.client.get("/questionnaires/").get_data(as_text=True)
    # Ver 2.0: csm-v2-internal, csm-v2-supplier and its lite and standard packs (issue 17)
    assert "<th>版</th>" in listing and listing.count("<td>Ver 2.0</td>") == 4
    for pack in ("csm-v2-supplier-lite", "csm-v2-supplier-standard"):
        assert f"<code>{pack}</code>" in listing
    assert auth.client.get("/questionnaires/nope").status_code == 404


# -- the crosswalk Ver 2.0 -> Ver 3.0 ---------------------------------------------------------

CROSSWALK = "crosswalk-csm-2.0-3.0.yaml"


def test_the_crosswalk_accounts_for_every_item_of_both_editions(shipped):
    [crosswalk] = shipped.crosswalks
    assert (crosswalk.source_template, crosswalk.target_template) == (
        "csm-v2-internal@1",
        "csm-v3-internal@1",
    )
    carried = [row for row in crosswalk.rows if row.relation != "new"]
    assert sorted(i for row in carried for i in row.source) == sorted(
        q.mapping.item for q in shipped.get("csm-v2-internal").questions
    )
    [d51] = crosswalk.targets_of("D5-1")
    assert (d51.relation, d51.target) == ("split", ("D5-4", "D5-5"))
    [d91] = crosswalk.targets_of("D9-1")
    assert (d91.relation, d91.target) == ("moved", ("D3-2",))
    [d55] = crosswalk.targets_of("D5-5")
    assert (d55.relation, d55.target, d55.nearest) == ("dropped", (), ("D6-3", "D10-1"))
    new = sorted(row.target[0] for row in crosswalk.rows if row.relation == "new")
    principles = [f"P{p}-{i}" for p in (1, 2, 3) for i in (1, 2, 3)]
    assert new == ["D3-5", "D5-1", "D5-2", "D5-3", "D5-9", "D6-1", "D7-5", "D9-3", *principles]


def _with_crosswalk(tmp_path: Path, edit) -> Path:
    for name in ("csm-v2-internal.yaml", "csm-v3-internal.yaml"):
        (tmp_path / name).write_bytes((QUESTIONNAIRES / name).read_bytes())
    data = yaml.safe_load((QUESTIONNAIRES / CROSSWALK).read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / CROSSWALK).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return tmp_path


def _drop_row(data: dict, item: str) -> None:
    data["items"] = [row for row in data["items"] if item not in row["from"]]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: _drop_row(d, "D4-5"), "csm-v2-internal item D4-5 is missing"),
        (
            lambda d: d["items"].append({"from": ["D1-1"], "to": ["D1-1"], "relation": "same"}),
            "csm-v2-internal item D1-1 appears 2 times",
        ),
        (
            lambda d: d["items"][0].update(to=["D1-9"]),
            "row 1: to 'D1-9' is not an item of that template",
        ),
        (
            lambda d: d["items"][0].update(relation="renamed"),
            "row 1: relation 'renamed' must be one of same, split, merged, moved, new, dropped",
        ),
        (
            lambda d: d.update(items=[r for r in d["items"] if r["to"] != ["D9-3"]]),
            "csm-v3-internal item D9-3 is reached by no row",
        ),
        (lambda d: d.update(to="csm-v9-internal"), "to: 'csm-v9-internal' is not a template"),
    ],
)
def test_a_crosswalk_with_a_missing_or_unknown_item_is_refused(runner, tmp_path, edit, expected):
    folder = _with_crosswalk(tmp_path, edit)
    loaded = Catalog.from_folder(folder)
    assert loaded.crosswalks == []
    assert any(expected in p for e in loaded.errors for p in e.problems), loaded.errors
    assert [t.id for t in loaded.current()] == ["csm-v2-internal", "csm-v3-internal"]
    result = runner.invoke(args=["questionnaires", "validate", str(folder)])
    assert result.exit_code == 1 and CROSSWALK in result.output and expected in result.output


def test_validate_accepts_both_editions_and_the_crosswalk(runner):
    result = runner.invoke(args=["questionnaires", "validate"])
    assert result.exit_code == 0, result.output
    assert (
        "ok    csm-v3-internal@1: 49 questions (49 scored) in 13 sections; "
        "0 mapped to a direction only\n"
    ) in result.output
    # both editions' supplier questionnaires at version 2, the full pack (issue 17)
    for edition, questions, scored in (("v2", 73, 53), ("v3", 78, 58)):
        assert (
            f"ok    csm-{edition}-supplier@2 (full pack): {questions} questions ({scored} scored) "
            "in 12 sections; 25 mapped to a direction only\n"
        ) in result.output
    assert "ok    crosswalk-csm-2.0-3.0: csm-v2-internal@1 -> csm-v3-internal@1" in result.output
