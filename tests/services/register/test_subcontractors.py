"""Subcontractors (再委託先) from the questionnaire (issue 18): completing a review records the
rows of the supplier's list under it, matches records already registered (法人番号 first, then
the exact name) without overwriting what procurement entered, keeps the chain's rules, never
records twice; the review page shows beforehand what completing will record."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tests.factories import make_answer, make_assessment
from vendorrisk.catalog import Catalog
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import (
    AssessmentStatus,
    AuditEvent,
    Decision,
    Role,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    User,
)
from vendorrisk.services.register import chain, subcontractors
from vendorrisk.services.register.chain import MAX_DEPTH
from vendorrisk.services.register.subcontractors import Outcome
from vendorrisk.services.review import review
from vendorrisk.validation import corporate_number_check_digit

CATALOG = Catalog.from_folder(BASE_DIR / "questionnaires")
TEMPLATE = CATALOG.get("csm-v2-supplier")
V3 = CATALOG.get("csm-v3-supplier")
NOW = datetime(2027, 1, 4, 1, 30, tzinfo=UTC)
LATER = datetime(2028, 1, 11, 2, 0, tzinfo=UTC)


def number(base: str) -> str:
    """A valid 法人番号 from twelve digits."""
    return f"{corporate_number_check_digit(base)}{base}"


SHIZUKU = number("100000000001")
OTHER = number("100000000002")
ROWS = [
    {
        "name": "株式会社しずくデータ",
        "corporate_number": SHIZUKU,
        "country": "JP",
        "work": "申込書のデータ入力",
        "our_data": "personal",
        "approved_on": "2026-04-01",
    },
    {
        "name": "Manila Contact Hub Inc.",
        "country": "PH",
        "work": "英語の問い合わせ窓口",
        "our_data": "both",
    },
]


@pytest.fixture
def people(make_user):
    return make_user(Role.procurement), make_user(Role.reviewer)


@pytest.fixture
def parent(make_supplier, people):
    """A critical contractor under its holding company (it is layer 2, 第2層)."""
    top = make_supplier(name_ja="ホールディングス株式会社", category=SupplierCategory.group_company)
    return make_supplier(
        name_ja="株式会社かなめBPO",
        name_en="",
        criticality="critical",
        owner_id=people[0].id,
        parent_id=top.id,
    )


def _submitted(supplier, rows, subcontracting="yes", template=TEMPLATE, list_id="sup-x-15"):
    """A submitted assessment of `supplier` whose list of subcontractors is `rows`."""
    assessment = make_assessment(supplier, template, status=AssessmentStatus.submitted)
    make_answer(assessment, "sup-d9s-16", subcontracting)
    if rows is not None:
        make_answer(assessment, list_id, rows)
    db.session.flush()
    db.session.refresh(assessment)
    return assessment


def _complete(assessment, reviewer, now=NOW, template=TEMPLATE):
    by = db.session.get(User, reviewer.id)
    review.complete(assessment, template, Decision.approved, "", by, now)
    db.session.commit()


def _below(supplier_id: int) -> dict[str, chain.Member]:
    return {m.supplier.name_ja: m for m in chain.descendants(supplier_id)}


def _events(action: str) -> list[AuditEvent]:
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def _suppliers() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Supplier))


# -- reading the answers -------------------------------------------------------------------------


def test_the_full_questionnaires_ask_the_list_and_the_lighter_ones_do_not():
    assert subcontractors.is_subcontractor_list(TEMPLATE.question("sup-x-15"))
    assert subcontractors.is_subcontractor_list(V3.question("sup3-x-15"))
    assert not subcontractors.is_subcontractor_list(TEMPLATE.question("sup-d9s-16"))
    for old in (CATALOG.get("csm-v2-supplier", 1), CATALOG.get("csm-v3-supplier", 1)):
        assert not any(subcontractors.is_subcontractor_list(q) for q in old.questions)
    # The list is hidden when the supplier subcontracts none of our work ("not applicable").
    assert subcontractors.list_question(TEMPLATE, {"sup-d9s-16": "na"}) is None
    assert subcontractors.list_question(TEMPLATE, {"sup-d9s-16": "yes"}).id == "sup-x-15"


def test_rows_naming_one_company_twice_count_once_and_older_text_answers_list_none():
    twice = [*ROWS, {**ROWS[0], "name": "しずくデータ（本社）"}, {**ROWS[1], "our_data": "none"}]
    assert [r.name for r in subcontractors.listed_rows(twice)] == [
        "株式会社しずくデータ",
        "Manila Contact Hub Inc.",
    ]
    first = subcontractors.listed_rows(ROWS)[0]
    assert (first.personal, first.confidential, first.approved_on) == (
        True,
        False,
        date(2026, 4, 1),
    )
    assert subcontractors.listed_rows("株式会社しずくデータ（データ入力）") == []


# -- completing the review -----------------------------------------------------------------------


def test_completing_a_review_records_the_rows_under_the_supplier_marked_for_review(
    app, parent, people
):
    with app.app_context():
        assessment = _submitted(parent, ROWS)
        _complete(assessment, people[1])
        below = _below(parent.id)
        assert set(below) == {"株式会社しずくデータ", "Manila Contact Hub Inc."}
        shizuku, manila = (
            below["株式会社しずくデータ"].supplier,
            below["Manila Contact Hub Inc."].supplier,
        )
        for member in below.values():
            s = member.supplier
            assert member.depth == 1 and s.parent_id == parent.id
            assert (s.category, s.status) == (
                SupplierCategory.outsourcing_contractor,
                SupplierStatus.onboarding,
            )
            assert s.reported_by_parent and s.chain_reviewed_at is None and s.chain_review_pending
            assert s.reported_in_assessment_id == assessment.id
            assert s.owner_id == people[0].id  # the parent's owner
            assert s.tier  # the tier rules ran
        assert (shizuku.corporate_number, shizuku.country, shizuku.services) == (
            SHIZUKU,
            "JP",
            "申込書のデータ入力",
        )
        assert (shizuku.shares_personal_info, shizuku.shares_confidential_info) == (True, False)
        assert shizuku.subcontracting_approved_on == date(2026, 4, 1)
        assert (shizuku.name_ja, shizuku.name_en) == ("株式会社しずくデータ", "")
        assert (manila.name_ja, manila.name_en, manila.country) == (
            "Manila Contact Hub Inc.",
            "Manila Contact Hub Inc.",
            "PH",
        )
        assert (manila.shares_personal_info, manila.shares_confidential_info) == (True, True)
        assert manila.corporate_number is None and manila.subcontracting_approved_on is None
        # Layer 3 (第3層) from the top of the chain: two levels below the holding company.
        top = _below(parent.parent_id)
        assert {name: m.depth for name, m in top.items()} == {
            "株式会社かなめBPO": 1,
            "株式会社しずくデータ": 2,
            "Manila Contact Hub Inc.": 2,
        }
        [event] = _events("subcontractors_recorded")
        assert (event.object_type, event.object_id) == ("assessments", assessment.id)
        assert event.supplier_id == parent.id
        assert event.summary == "2 subcontractors recorded, 0 matched"
        assert event.changes["subcontractors_new"] == [
            "株式会社しずくデータ",
            "Manila Contact Hub Inc.",
        ]
        created = _events("create")
        assert {e.object_id for e in created if e.object_type == "suppliers"} >= {
            shizuku.id,
            manila.id,
        }


def test_a_row_matches_by_corporate_number_then_by_name_and_never_moves_our_own_records(
    app, parent, people, make_supplier
):
    """A record procurement keeps (a direct supplier, a holding company) is matched — by 法人番号
    first, then by name — but never moved under the supplier that lists it, nor changed: it
    is left unlinked with the reason, for procurement to link on its page."""
    by_number = make_supplier(
        name_ja="しずくデータ株式会社",  # another spelling: the number decides
        corporate_number=SHIZUKU,
        services="調達部門が登録した業務",
        country="JP",
    )
    by_name = make_supplier(  # the row gives no 法人番号: the record's does not stop the match
        name_ja="マニラ・コンタクト・ハブ社",
        name_en="Manila Contact Hub Inc.",
        corporate_number=number("100000000004"),
    )
    same_name = make_supplier(name_ja="株式会社やまなみ", corporate_number=OTHER)
    rows = [
        *ROWS,
        {**ROWS[0], "name": "株式会社やまなみ", "corporate_number": number("100000000003")},
    ]
    with app.app_context():
        assessment = _submitted(parent, rows)
        plan = subcontractors.preview(assessment, TEMPLATE)
        assert [(p.row.name, p.outcome, p.matched_by) for p in plan.rows] == [
            ("株式会社しずくデータ", Outcome.unlinked, "corporate_number"),
            ("Manila Contact Hub Inc.", Outcome.unlinked, "name"),
            ("株式会社やまなみ", Outcome.new, ""),  # same name, another 法人番号: another company
        ]
        assert all("top of its own chain" in p.reason for p in plan.rows[:2])
        _complete(assessment, people[1])
        first = db.session.get(Supplier, by_number.id)
        assert (first.parent_id, first.services, first.shares_personal_info) == (
            None, "調達部門が登録した業務", False)  # fmt: skip
        assert not first.reported_by_parent and first.reported_in_assessment_id is None
        second = db.session.get(Supplier, by_name.id)
        assert (second.parent_id, second.reported_by_parent) == (None, False)
        assert db.session.get(Supplier, same_name.id).parent_id is None
        assert set(_below(parent.id)) == {"株式会社やまなみ"}


def test_completing_again_or_next_year_records_nothing_twice(app, parent, people):
    with app.app_context():
        _complete(_submitted(parent, ROWS), people[1])
        count = _suppliers()
        for member in chain.descendants(parent.id):
            chain.mark_reviewed(member.supplier, NOW)
        db.session.commit()
        recheck = _submitted(parent, list(reversed(ROWS)))  # next year's, the same list
        plan = subcontractors.record_reported(recheck, TEMPLATE, LATER)
        assert [(p.outcome, p.changes) for p in plan.rows] == [(Outcome.matched, False)] * 2
        _complete(recheck, people[1], LATER)  # and completing it records them once more
        assert _suppliers() == count
        below = [m.supplier for m in chain.descendants(parent.id)]
        assert len(below) == 2 and all(s.chain_reviewed_at == NOW for s in below)
        # A year on, the data-entry one also holds confidential information: reported again.
        changed = [{**ROWS[0], "our_data": "both"}, ROWS[1], {**ROWS[1], "name": "新しい会社"}]
        third = _submitted(parent, changed)
        _complete(third, people[1], LATER)
        assert _suppliers() == count + 1
        shizuku = _below(parent.id)["株式会社しずくデータ"].supplier
        assert shizuku.shares_confidential_info and shizuku.chain_review_pending
        assert shizuku.reported_in_assessment_id == third.id
        manila = _below(parent.id)["Manila Contact Hub Inc."].supplier
        assert manila.chain_reviewed_at == NOW  # it gained nothing: still reviewed
        summaries = [e.summary for e in _events("subcontractors_recorded")]
        assert summaries == [
            "2 subcontractors recorded, 0 matched",
            "0 subcontractors recorded, 2 matched",  # record_reported called by hand
            "0 subcontractors recorded, 2 matched",
            "1 subcontractors recorded, 2 matched",
        ]


def test_a_match_that_would_break_the_chain_is_left_unlinked_with_the_reason(
    app, parent, people, make_supplier
):
    elsewhere = make_supplier(name_ja="別の委託先株式会社")
    used = make_supplier(name_ja="株式会社つかわれ", parent_id=elsewhere.id)
    rows = [
        {**ROWS[1], "name": "ホールディングス株式会社"},  # above it: a circle
        {**ROWS[1], "name": "株式会社かなめBPO"},  # itself
        {**ROWS[1], "name": "株式会社つかわれ"},  # already another supplier's subcontractor
        ROWS[0],
    ]
    with app.app_context():
        assessment = _submitted(parent, rows)
        plan = subcontractors.preview(assessment, TEMPLATE)
        assert [p.outcome for p in plan.rows] == [Outcome.unlinked] * 3 + [Outcome.new]
        reasons = [p.reason for p in plan.rows]
        assert re.search("株式会社かなめBPO is below this supplier in its chain", reasons[0])
        assert "cannot be its own parent" in reasons[1]
        assert reasons[2] == "Already under 別の委託先株式会社 in the register: it stays there."
        _complete(assessment, people[1])
        top = db.session.get(Supplier, parent.parent_id)
        assert top.parent_id is None and not top.reported_by_parent
        assert db.session.get(Supplier, used.id).parent_id == elsewhere.id
        assert db.session.get(Supplier, parent.id).parent_id == top.id
        assert set(_below(parent.id)) == {"株式会社しずくデータ"}
        [event] = _events("subcontractors_recorded")
        assert event.summary == "1 subcontractors recorded, 0 matched, 3 left unlinked"
        assert event.changes["subcontractors_unlinked"] == [
            "ホールディングス株式会社",
            "株式会社かなめBPO",
            "株式会社つかわれ",
        ]


def test_below_the_deepest_layer_a_row_is_not_recorded(app, make_supplier, people):
    above = None
    for n in range(MAX_DEPTH + 1):  # layers 1 to 5: the last may have none below it
        above = make_supplier(name_ja=f"第{n + 1}層株式会社", parent_id=above.id if above else None)
    with app.app_context():
        assessment = _submitted(above, [ROWS[0]])
        [planned] = subcontractors.preview(assessment, TEMPLATE).rows
        assert planned.outcome == Outcome.unlinked and "at most 4 levels" in planned.reason
        count = _suppliers()
        _complete(assessment, people[1])
        assert _suppliers() == count


def test_nothing_is_recorded_when_the_list_is_hidden_or_empty(app, parent, people):
    with app.app_context():
        hidden = _submitted(parent, ROWS, subcontracting="na")  # a stale list, not shown
        assert subcontractors.preview(hidden, TEMPLATE).rows == ()
        _complete(hidden, people[1])
        empty = _submitted(parent, None)
        _complete(empty, people[1])
        assert chain.descendants(parent.id) == []
        assert _events("subcontractors_recorded") == []


def test_the_v3_questionnaire_records_its_list_too(app, parent, people):
    with app.app_context():
        assessment = _submitted(parent, ROWS, template=V3, list_id="sup3-x-15")
        _complete(assessment, people[1], template=V3)
        assert set(_below(parent.id)) == {"株式会社しずくデータ", "Manila Contact Hub Inc."}


# -- the preview ---------------------------------------------------------------------------------


def _seen(plan) -> list[tuple]:
    return [
        (p.row.name, p.outcome, p.supplier.id if p.outcome == Outcome.matched else None, p.reason)
        for p in plan.rows
    ]


def test_the_preview_writes_nothing_and_is_what_completion_does(
    app, parent, people, make_supplier, count_queries
):
    # recorded earlier from another supplier's answers (that supplier since deleted): linkable
    make_supplier(name_ja="しずくデータ株式会社", corporate_number=SHIZUKU, reported_by_parent=True)
    rows = [*ROWS, {**ROWS[1], "name": "株式会社かなめBPO"}]
    with app.app_context():
        assessment = _submitted(parent, rows)
        db.session.commit()
        with count_queries() as counter:
            before = subcontractors.preview(assessment, TEMPLATE)
        assert not any(re.match(r"\s*(INSERT|UPDATE|DELETE)", s) for s in counter.statements)
        assert not (db.session.new or db.session.dirty)
        assert [p.outcome for p in before.rows] == [Outcome.matched, Outcome.new, Outcome.unlinked]
        done = subcontractors.record_reported(assessment, TEMPLATE, NOW)
        assert _seen(done) == _seen(before)
        created = done.of(Outcome.new)[0].supplier
        assert created.id and created.parent_id == parent.id


def test_the_review_page_shows_what_completing_will_record(auth, app, parent, make_supplier):
    make_supplier(  # recorded earlier from another supplier's answers: linkable
        name_ja="しずくデータ株式会社",
        name_en="",
        corporate_number=SHIZUKU,
        reported_by_parent=True,
    )
    with app.app_context():
        assessment = _submitted(parent, [*ROWS, {**ROWS[1], "name": "株式会社かなめBPO"}])
        db.session.commit()
        assessment_id = assessment.id
    auth.login(Role.reviewer, locale="en")
    page = auth.client.get(f"/assessments/{assessment_id}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    section = text[text.index('id="subcontractors"') :]
    assert "Subcontractors these answers record" in section
    assert "Matched" in section and "しずくデータ株式会社" in section
    assert "Same corporate number." in section and "It gains:" in section
    assert "New record" in section and "Manila Contact Hub Inc." in section
    assert "Left unlinked" in section and "cannot be its own parent" in section
    with app.app_context():
        assert chain.descendants(parent.id) == []  # showing it recorded nothing


def test_new_rows_cost_no_query_each(app, parent, count_queries):
    """A record's match is looked up once for all rows; the chain is checked once for all new
    ones (a match already registered is checked on its own)."""
    counts = []
    with app.app_context():
        for n in (1, 12):
            rows = [{**ROWS[1], "name": f"新規{k}株式会社"} for k in range(n)]
            assessment = _submitted(parent, rows)
            db.session.commit()
            db.session.refresh(assessment)
            assessment.answers  # noqa: B018 (loaded before counting: the page has them)
            with count_queries() as counter:
                plan = subcontractors.preview(assessment, TEMPLATE)
            assert len(plan.of(Outcome.new)) == n
            counts.append(counter.count)
    assert counts[0] == counts[1], counts
