"""The Ver 3.0 supplier questionnaire: built from Ver 3.0 as csm-v2-supplier is from Ver 2.0."""

from __future__ import annotations

import re

import pytest

from vendorrisk.catalog import Catalog
from vendorrisk.catalog.editions import EDITIONS
from vendorrisk.config import BASE_DIR

QUESTIONNAIRES = BASE_DIR / "questionnaires"
#: Appendix D (Ver 3.0), Direction 9: ISO/IEC 27001:2022 8.1 and 27002:2022 5.19-5.23.
D9_ISO = ("27001:8.1", "27002:5.19", "27002:5.20", "27002:5.21", "27002:5.22", "27002:5.23")
#: The sections copied from csm-v2-supplier, ids unchanged (services/register/proposals.py).
COPIED = ("profile", "d9-specifics")
#: The item each control asked outright (sup3-x-NN, version 2) evidences: the file's header.
X_ITEMS = {
    **dict.fromkeys((1, 2), "D4-1"),
    **dict.fromkeys(range(3, 8), "D5-4"),
    8: "D5-5",
    9: "D5-6",
    10: "D5-7",
    11: "D5-10",
    **dict.fromkeys((12, 13), "D7-1"),
    14: "D8-1",
    15: "D9-2",
}


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return Catalog.from_folder(QUESTIONNAIRES)


@pytest.fixture(scope="module")
def v2(shipped):
    return shipped.get("csm-v2-supplier")


@pytest.fixture(scope="module")
def v3(shipped):
    return shipped.get("csm-v3-supplier")


def _section(template, section_id):
    return next(s for s in template.sections if s.id == section_id)


def _asked(template) -> set[str]:
    return {q.mapping.item for q in template.questions if q.mapping.item}


def test_it_loads_from_the_questionnaires_folder_as_a_ver_3_supplier_template(shipped, v3):
    assert not [e for e in shipped.errors if "csm-v3-supplier" in e.path]
    # version 2, the full pack (issue 17); version 1 is kept beside it for its assessments
    assert v3 is not None and (v3.key, v3.pack) == ("csm-v3-supplier@2", "full")
    assert shipped.get("csm-v3-supplier", 1).key == "csm-v3-supplier@1"
    assert (v3.edition, v3.csf_version, v3.audience) == ("csm-3.0", "1.1", "supplier")
    assert v3.guideline.label == "Ver 3.0"
    assert v3.critical_cap == shipped.get("csm-v2-supplier").critical_cap
    assert v3.title.ja == "取引先セキュリティ質問票（Ver 3.0）"
    assert v3.title.en == "Supplier Security Questionnaire (Ver 3.0)"
    assert (
        "ビジネスパートナーや委託先等を含めたサプライチェーン全体の状況把握及び対策"
        in v3.description.ja
    )
    assert "Ver 3.0" in v3.description.ja and "Ver 2.0" not in v3.description.ja
    assert (
        "Understand the status of and implement measures considering the entire supply chain, "
        "including business partners and outsourcing organizations" in v3.description.en
    )
    assert [s.id for s in v3.sections] == [
        "profile",
        *(f"d{n}" for n in range(1, 11)),
        "d9-specifics",
    ]
    assert v3.directives() == list(range(1, 11))


@pytest.mark.parametrize("section_id", COPIED)
def test_profile_and_d9_specifics_are_v2s_questions_with_ver_3_mappings(
    shipped, v2, v3, section_id
):
    old, new = _section(v2, section_id), _section(v3, section_id)
    # d9-specifics also holds the list of subcontractors, an x question: sup-x-15 in
    # csm-v2-supplier is sup3-x-15 here (the same number is the same question)
    assert [q.id for q in new.questions] == [
        q.id.replace("sup-x-", "sup3-x-") for q in old.questions
    ]
    if section_id == "d9-specifics":
        ids = [q.id for q in new.questions]
        assert ids.index("sup3-x-15") == ids.index("sup-d9s-16b") + 1 == ids.index("sup-d9s-16") + 2
    for before, after in zip(old.questions, new.questions, strict=True):
        assert after.type == before.type, after.id
        assert [(c.value, c.score) for c in after.choices] == [
            (c.value, c.score) for c in before.choices
        ], after.id
        assert after.show_if == before.show_if, after.id
        assert after.format == before.format, after.id
        assert (after.weight, after.required, after.critical, after.evidence) == (
            before.weight,
            before.required,
            before.critical,
            before.evidence,
        ), after.id
        assert after.text == before.text, after.id  # no "Ver 2.0" in them to change
        assert after.mapping.iso == D9_ISO, after.id
        assert after.mapping.cis == ("15",), after.id
        if after.id == "sup3-x-15":
            # an x question maps the item it evidences, D9-2, with the CSF refs Ver 3.0 prints
            # for it (not Ver 2.0's D9-2's, which sup-x-15 maps)
            assert (after.mapping.directive, after.mapping.item) == (9, "D9-2")
            d92 = shipped.get("csm-v3-internal").question("int3-d9-02").mapping
            assert after.mapping.csf == d92.csf and d92.item == "D9-2"
            continue
        assert (after.mapping.directive, after.mapping.item) == (9, None), after.id
        assert after.mapping.csf == before.mapping.csf, after.id
        assert all(ref.startswith("ID.SC-") for ref in after.mapping.csf), after.id


def test_the_register_proposals_still_find_their_questions(v3):
    """services/register/proposals.py reads sup-d9s-01 ... 15 by id and format."""
    ids = {q.id for q in v3.questions}
    assert {f"sup-d9s-{n:02d}" for n in range(1, 16)} <= ids
    assert v3.question("sup-d9s-02").format == "security_action_id"
    assert v3.question("sup-d9s-08").format == "expiry"


def test_item_questions_are_named_after_their_ver_3_item_and_map_its_vocabularies(shipped, v3):
    internal = {q.mapping.item: q for q in shipped.get("csm-v3-internal").questions}
    items = [q for q in v3.questions if q.mapping.item]
    assert items
    # Version 2's controls asked outright are named sup3-x-NN in the order of the questionnaire,
    # not after an item: each maps the item it evidences (X_ITEMS) and, in a direction's section,
    # follows that item's question
    x_ids = [q.id for q in items if q.id.startswith("sup3-x-")]
    assert x_ids == [f"sup3-x-{n:02d}" for n in range(1, 16)]
    for section in v3.sections:
        last_item = None
        for q in section.questions:
            if q.id.startswith("sup3-d"):
                last_item = q.mapping.item
            elif q.id.startswith("sup3-x-") and section.id != "d9-specifics":
                assert q.mapping.item == last_item, q.id
    for q in items:
        match = re.fullmatch(r"sup3-(?:d(\d+)-(\d{2})(-file)?|x-(\d{2}))", q.id)
        assert match, q.id
        if match[4]:
            assert q.mapping.item == X_ITEMS[int(match[4])], q.id
        else:
            assert q.mapping.item == f"D{int(match[1])}-{int(match[2])}", q.id
        # the item's printed CSF refs and its direction's Appendix D clauses and CIS controls,
        # as the Ver 3.0 check sheet has them
        reference = internal[q.mapping.item].mapping
        assert (q.mapping.csf, q.mapping.iso, q.mapping.cis) == (
            reference.csf,
            reference.iso,
            reference.cis,
        ), q.id
        assert not q.text.working and not (q.help and q.help.working), q.id
        if q.type in ("text", "table"):
            # an x question's free-text follow-up (x-02, x-13) and the subcontractor table (x-15)
            # ask for details politely
            assert q.id.startswith("sup3-x-") and q.text.ja.endswith("ご記入ください。"), q.id
        elif q.type != "file":
            assert q.text.ja.startswith("貴社") and q.text.ja.endswith("か。"), q.id
        if q.type == "yes_partial_no":
            assert set(q.kind.values(q)) == {"yes", "partial", "no", "na", "unknown"}
            assert q.weight == 1 and q.required, q.id
    assert v3.question("sup3-d6-03").mapping.csf == ("PR.IP-7", "PR.PT-1")  # "RP.PT-1" (sic)
    assert v3.question("sup3-d5-02").mapping.csf == ("PR.AC",)  # printed "PR. AC"
    assert v3.question("sup3-d1-01").mapping.cis == ()  # Appendix D maps no CIS for D1


def test_critical_items_are_those_v2_supplier_marks_critical(shipped, v2, v3):
    def critical(template):
        return {q.mapping.item for q in template.questions if q.critical and q.mapping.item}

    # Version 2 made x questions critical: x-04 (MFA on remote access and administrator
    # accounts) and x-08 (remote-access equipment) evidence v2 D5-1, which Ver 3.0 splits into
    # D5-4 and D5-5; x-14 (backups) evidences D8-1. The Ver 3.0 critical items are v2's carried
    # through the crosswalk, and the same x numbers are critical in both
    [crosswalk] = [c for c in shipped.crosswalks if c.id == "crosswalk-csm-2.0-3.0"]
    assert critical(v2) == {"D1-2", "D5-1", "D8-1"}
    assert critical(v3) == {"D1-2", "D5-4", "D5-5", "D8-1"}
    assert critical(v3) == {
        target
        for item in critical(v2)
        for row in crosswalk.targets_of(item)
        for target in row.target
    }

    def critical_x(template):
        return {q.id.split("-x-")[1] for q in template.questions if q.critical and "-x-" in q.id}

    assert critical_x(v2) == critical_x(v3) == {"04", "08", "14"}
    assert v3.question("sup3-d1-02-file").show_if.question == "sup3-d1-02"


def test_every_v2_supplier_item_has_a_ver_3_counterpart_unless_the_crosswalk_drops_it(
    shipped, v2, v3
):
    [crosswalk] = [c for c in shipped.crosswalks if c.id == "crosswalk-csm-2.0-3.0"]
    asked = _asked(v3)
    dropped = set()
    for item in sorted(_asked(v2)):
        [row] = crosswalk.targets_of(item)
        if row.relation == "dropped":
            dropped.add(item)
            continue
        assert set(row.target) <= asked, (item, row.relation, row.target)
    assert dropped == {"D5-5", "D7-1"}  # attack-trend review; emergency contacts (in help texts)


def test_every_direction_9_item_of_ver_3_is_asked(v3):
    direction_9 = {f"D9-{n}" for n in range(1, EDITIONS["csm-3.0"].items[9] + 1)}
    assert direction_9 == {"D9-1", "D9-2", "D9-3"}
    assert direction_9 <= _asked(v3)
    assert [q.id for q in _section(v3, "d9").questions] == [
        "sup3-d9-01",
        "sup3-d9-02",
        "sup3-d9-03",
    ]


def test_the_new_ver_3_items_a_supplier_can_answer_are_asked(v3):
    asked = _asked(v3)
    assert {"D3-5", "D5-1", "D5-2", "D5-3", "D5-9", "D7-5", "D9-3"} <= asked
    assert not {"D2-3", "D6-1", "D6-4"} & asked  # internal governance, as in csm-v2-supplier


def test_question_ids_never_collide_with_v2_supplier(v2, v3):
    items = {q.id for q in v3.questions if q.mapping.item}
    assert not items & {q.id for q in v2.questions}
    assert all(qid.startswith("sup3-") for qid in items)


def test_security_action_is_a_declaration_and_the_japanese_is_polite(v3):
    texts = [t for q in v3.questions for t in (q.text, q.help) if t is not None]
    japanese = " ".join(t.ja for t in texts)
    for sentence in re.findall(r"[^。]*SECURITY ACTION[^。]*。", japanese):
        assert "認定を" not in sentence and "取得" not in sentence, sentence
    for q in v3.questions:
        if q.type == "yes_partial_no":
            assert q.text.ja.endswith("ていますか。"), q.id


def test_the_questionnaire_page_shows_it_without_working_translation_marks(auth):
    """Our own questions, not METI's check items: nothing on the page is marked 仮訳."""
    auth.login("auditor")
    japanese = auth.client.get("/questionnaires/csm-v3-supplier?lang=ja").get_data(as_text=True)
    assert "取引先セキュリティ質問票（Ver 3.0）" in japanese
    assert "sup3-d9-03" in japanese and "sup-d9s-15" in japanese
    assert "27002:5.19" in japanese and "CIS Controls v8: 15" in japanese
    assert "working-translation" not in japanese
    english = auth.client.get("/questionnaires/csm-v3-supplier?lang=en").get_data(as_text=True)
    assert "Supplier Security Questionnaire (Ver 3.0)" in english
