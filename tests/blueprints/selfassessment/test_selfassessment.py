"""The company's own Appendix A self-assessment: cycles (PDCA), items, D9 indicators, KPIs."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask import render_template_string

from tests.conftest import csrf_token_from
from tests.conftest import strict_app as conftest_strict_app
from tests.test_i18n import PO, _visible_text
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    Assessment,
    AssessmentStatus,
    AttestationKind,
    AuditEvent,
    ItemStatus,
    Role,
    SecurityActionLevel,
    SelfAssessmentCycle,
    SelfAssessmentItem,
    SelfAssessmentKpi,
    StoredFile,
    SupplierCategory,
    SupplierStatus,
    User,
)
from vendorrisk.services import files
from vendorrisk.services.selfassessment import cycles, indicators, kpis, summary
from vendorrisk.services.selfassessment.cycles import (
    change_of,
    directive_scores,
    is_gap,
    overall_score,
)
from vendorrisk.services.users import accounts

BASE = "/self-assessment"
D, P, N, NA = "done", "partly", "not_done", "not_applicable"


# -- pure scoring, no Flask ----------------------------------------------------------------


def test_directive_scores_by_hand():
    rows = [
        (1, D), (1, P), (1, N),  # (1 + 0.5 + 0) / 3 = 50
        (2, D), (2, NA),  # not applicable left out: 1 / 1 = 100
        (3, NA), (3, None),  # nothing counted
        (4, P), (4, P), (4, D),  # 2 / 3 = 66.666... -> 66.7
        (5, None), (5, N), (5, P),  # unanswered left out: 0.5 / 2 = 25
        (6, ItemStatus.partly),  # enum members as well as their values
    ]  # fmt: skip
    assert directive_scores(rows) == {1: 50.0, 2: 100.0, 3: None, 4: 66.7, 5: 25.0, 6: 50.0}
    # Overall: the mean of the 11 counted items (1+.5+0 +1 +.5+.5+1 +0+.5 +.5) = 5.5 / 10.
    assert overall_score(s for _, s in rows) == 55.0
    assert overall_score([NA, None]) is None
    assert overall_score([D, D, P]) == 83.3  # 2.5 / 3


def test_status_changes_and_gaps():
    assert change_of(N, P) == change_of(P, D) == change_of(N, D) == "improved"
    assert change_of(D, P) == change_of(ItemStatus.partly, N) == "worsened"
    assert change_of(D, D) == change_of(None, None) == "unchanged"
    assert change_of(NA, D) == change_of(D, NA) == change_of(None, D) == "changed"
    owner, day = 1, date(2027, 3, 31)
    assert is_gap(N, None, day) and is_gap(P, owner, None) and is_gap(None, None, None)
    assert not is_gap(N, owner, day)
    assert not is_gap(D, None, None) and not is_gap(NA, None, None)


# -- helpers -------------------------------------------------------------------------------


def _start(client, name="2026年度 上期", as_of="2026-09-30"):
    return client.post(f"{BASE}/cycles/new", data={"name": name, "as_of": as_of})


def _cycle_id(ctx, name) -> int:
    with ctx() as session:
        return session.scalar(
            sa.select(SelfAssessmentCycle.id).where(SelfAssessmentCycle.name == name)
        )


def _item(ctx, cycle_id, question_id) -> SelfAssessmentItem:
    with ctx() as session:
        item = session.scalar(
            sa.select(SelfAssessmentItem).where(
                SelfAssessmentItem.cycle_id == cycle_id,
                SelfAssessmentItem.question_id == question_id,
            )
        )
        session.expunge(item)
        return item


def _save(client, cycle_id, question_id, version, **fields):
    data = {"status": "", "owner_id": "", "target_on": "", "evidence": "", "notes": ""}
    data |= {"version": str(version)} | fields
    return client.post(f"{BASE}/cycles/{cycle_id}/items/{question_id}", data=data)


def _close(client, cycle_id):
    return client.post(f"{BASE}/cycles/{cycle_id}/close", data={"confirm": "y"})


# -- cycles --------------------------------------------------------------------------------


def test_a_new_cycle_starts_from_the_last_ones_answers(auth, ctx, app):
    editor = auth.login(Role.ciso, locale="en")
    response = _start(auth.client, "2025年度 下期", "2026-03-31")
    first = _cycle_id(ctx, "2025年度 下期")
    assert response.headers["Location"].endswith(f"{BASE}/cycles/{first}")
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count(SelfAssessmentItem.id))) == 41
    saved = _save(
        auth.client, first, "int-d4-01", 1, status="partly", owner_id=str(editor.id),
        target_on="2026-12-31", evidence="情報資産台帳（2026年3月版）", notes="重要度の見直し中",
        upload=(io.BytesIO(b"asset register"), "register.txt"),
    )  # fmt: skip
    assert saved.status_code == 302
    _save(auth.client, first, "int-d1-01", 1, status="done", evidence="議事録")

    # A second open cycle is refused; closing freezes the first.
    assert "Close the open cycle 2025年度 下期" in _start(auth.client).get_data(as_text=True)
    assert _close(auth.client, first).status_code == 302
    assert _start(auth.client).status_code == 302
    second = _cycle_id(ctx, "2026年度 上期")

    copied, original = _item(ctx, second, "int-d4-01"), _item(ctx, first, "int-d4-01")
    assert copied.id != original.id and copied.version == 1
    assert (copied.status, copied.owner_id, copied.target_on) == (
        ItemStatus.partly, editor.id, date(2026, 12, 31),
    )  # fmt: skip
    assert (copied.evidence, copied.notes) == ("情報資産台帳（2026年3月版）", "重要度の見直し中")
    assert copied.evidence_file_id == original.evidence_file_id is not None
    assert _item(ctx, second, "int-d1-01").status == ItemStatus.done
    assert _item(ctx, second, "int-d2-01").status is None
    with ctx() as session:
        cycle = session.get(SelfAssessmentCycle, second)
        assert cycle.copied_from_id == first and cycle.is_open
        assert (cycle.template_id, cycle.template_version) == ("csm-v2-internal", 1)
        closed = session.get(SelfAssessmentCycle, first)
        assert closed.closed_by_id == editor.id and closed.closed_at is not None
        assert closed.d9_snapshot["values"]["assessed_in_cadence"] == [0, 0, 0]
        actions = set(session.scalars(sa.select(AuditEvent.object_type)))
    assert {"self_assessment_cycles", "self_assessment_items"} <= actions

    # Replacing the copied file in the open cycle keeps it for the closed one.
    _save(
        auth.client, second, "int-d4-01", 1, status="done", owner_id=str(editor.id),
        upload=(io.BytesIO(b"asset register v2"), "register-v2.txt"),
    )  # fmt: skip
    with ctx() as session:
        assert session.get(StoredFile, original.evidence_file_id) is not None
        assert session.scalar(sa.select(sa.func.count(StoredFile.id))) == 2
    page = auth.client.get(f"{BASE}/cycles/{first}").get_data(as_text=True)
    assert "register.txt" in page and "register-v2.txt" not in page


def test_the_as_of_date_follows_the_last_cycle_and_names_are_unique(auth, ctx):
    auth.login(Role.admin, locale="en")
    _start(auth.client, "2025年度 下期", "2026-03-31")
    _close(auth.client, _cycle_id(ctx, "2025年度 下期"))
    page = _start(auth.client, "2025年度 下期", "2026-03-01").get_data(as_text=True)
    assert "A cycle of this name already exists." in page
    assert "The as-of date must be after that of the last cycle (2026-03-31)." in page
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count(SelfAssessmentCycle.id))) == 1


def test_a_closed_cycle_is_read_only(auth, ctx):
    auth.login(Role.reviewer, locale="en")
    _start(auth.client)
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    _save(auth.client, cycle_id, "int-d1-01", 1, status="partly")
    _close(auth.client, cycle_id)

    response = _save(auth.client, cycle_id, "int-d1-01", 2, status="done")
    assert response.status_code == 302
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This cycle is closed: its answers can no longer be changed." in page
    assert _item(ctx, cycle_id, "int-d1-01").status == ItemStatus.partly
    assert ">Edit<" not in page  # no edit link on a closed cycle

    response = auth.client.post(
        f"{BASE}/cycles/{cycle_id}/kpis", data={"incidents": "3", "version": "1"}
    )
    assert response.status_code == 302
    assert "This cycle is closed" in auth.client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert 'name="incidents"' not in auth.client.get(f"{BASE}/cycles/{cycle_id}/kpis").get_data(
        as_text=True
    )
    again = _close(auth.client, cycle_id)
    assert "already closed" in auth.client.get(again.headers["Location"]).get_data(as_text=True)
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count(SelfAssessmentKpi.id))) == 0


def test_compare_shows_improved_and_worsened_items_and_the_trend(auth, ctx):
    auth.login(Role.ciso, locale="en")
    _start(auth.client, "2025年度 下期", "2026-03-31")
    first = _cycle_id(ctx, "2025年度 下期")
    for qid, status in (("int-d1-01", "partly"), ("int-d1-02", "done"), ("int-d1-03", "not_done")):
        _save(auth.client, first, qid, 1, status=status)
    _close(auth.client, first)
    _start(auth.client)
    second = _cycle_id(ctx, "2026年度 上期")
    _save(auth.client, second, "int-d1-01", 1, status="done")  # improved
    _save(auth.client, second, "int-d1-02", 1, status="partly")  # worsened
    _save(auth.client, second, "int-d1-03", 1, status="not_applicable")  # other change

    page = auth.client.get(f"{BASE}/cycles/{second}/compare?show=changed").get_data(as_text=True)
    rows = re.findall(r'<tr class="sa-(\w+)">.*?>(D\d+-\d+)<', page, flags=re.S)
    assert rows == [("improved", "D1-1"), ("worsened", "D1-2"), ("changed", "D1-3")]
    assert "Partly implemented" in page and "Not applicable" in page
    # Direction 1: before (0.5 + 1 + 0) / 3 = 50.0; now (1 + 0.5) / 2 = 75.0, +25.0.
    assert re.search(
        r"50\.0</td><td class=\"num\">75\.0</td>\s*<td class=\"num\"><span class=\"ok\">\+25\.0",
        page,
    )
    assert "Directions 1 to 5" in page and "Score by direction and cycle" in page
    everything = auth.client.get(f"{BASE}/cycles/{second}/compare").get_data(as_text=True)
    assert everything.count('<tr class="sa-unchanged">') == 38

    history = None
    with ctx():
        history = cycles.history()
        latest = summary.summary(db.session.get(SelfAssessmentCycle, second), date(2026, 10, 1))
    assert [(h.overall, h.directives[1]) for h in history] == [(50.0, 50.0), (75.0, 75.0)]
    assert latest.previous.id == first and latest.overall == 75.0
    assert latest.directives[0].delta == 25.0
    assert latest.gaps == 39  # D1-2 partly without an owner, and the 38 not answered
    assert latest.counts == {
        "done": 1,
        "partly": 1,
        "not_done": 0,
        "not_applicable": 1,
        "unanswered": 38,
    }


def test_a_version_conflict_keeps_both_sides(app, auth, make_user, ctx):
    auth.login(Role.ciso, locale="en")
    _start(auth.client)
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    form = auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int-d5-01").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form

    other = app.test_client()
    colleague = make_user(Role.reviewer, name="同僚 一郎")
    other.post(
        "/auth/login", data={"email": colleague.email, "password": "correct horse battery staple"}
    )
    assert (
        _save(other, cycle_id, "int-d5-01", 1, status="done", evidence="EDR導入報告").status_code
        == 302
    )

    mine = _save(auth.client, cycle_id, "int-d5-01", 1, status="partly", evidence="私の証跡メモ")
    page = mine.get_data(as_text=True)
    assert mine.status_code == 200
    assert "Someone else changed this item while you were editing it." in page
    assert "Saved meanwhile by 同僚 一郎" in page and "EDR導入報告" in page
    assert "私の証跡メモ" in page  # what I typed is still in the form
    assert 'name="version" type="hidden" value="2"' in page
    assert _item(ctx, cycle_id, "int-d5-01").evidence == "EDR導入報告"

    again = _save(auth.client, cycle_id, "int-d5-01", 2, status="partly", evidence="私の証跡メモ")
    assert again.status_code == 302
    item = _item(ctx, cycle_id, "int-d5-01")
    assert (item.status, item.evidence, item.version) == (ItemStatus.partly, "私の証跡メモ", 3)


def test_the_version_column_stops_a_concurrent_save(app, ctx):
    """Two saves that both read version 1: the database lets only one of them through."""
    with ctx() as session:
        template = cycles.current_template()
        cycle = cycles.start_cycle("並行", date(2026, 9, 30), template, None, clock.now())
        session.commit()
        cycle_id = cycle.id
    now = datetime(2026, 10, 1, tzinfo=UTC)
    with app.app_context():
        first = cycles.items_by_question(cycles.get_full(cycle_id))["int-d1-01"]
        with db.engine.begin() as conn:  # the other request commits in between
            conn.execute(
                sa.update(SelfAssessmentItem)
                .where(SelfAssessmentItem.id == first.id)
                .values(version=2, status="done")
            )
        with pytest.raises(cycles.VersionConflict):
            cycles.save_item(first, {"status": ItemStatus.not_done}, 1, None, now)
        db.session.rollback()
        db.session.remove()
    assert _item(ctx, cycle_id, "int-d1-01").status == ItemStatus.done


def test_save_and_next_goes_to_the_following_item(auth, ctx):
    auth.login(Role.admin, locale="en")
    _start(auth.client)
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    response = _save(auth.client, cycle_id, "int-d1-03", 1, status="done", submit_next="y")
    assert response.headers["Location"].endswith(f"/cycles/{cycle_id}/items/int-d2-01")
    last = _save(auth.client, cycle_id, "int-d10-02", 1, status="done", submit_next="y")
    assert last.headers["Location"].endswith(f"/cycles/{cycle_id}#int-d10-02")
    assert auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int-d99-01").status_code == 404


# -- Direction 9 indicators ----------------------------------------------------------------


@pytest.fixture
def programme(make_supplier, make_contract, make_attestation, app):
    """Six suppliers, hand-built so that every indicator has a known value."""
    today = date(2026, 10, 1)
    every = {c: True for c in CONTRACT_CLAUSES}
    active = SupplierStatus.active
    a = make_supplier(
        name_ja="甲社",
        tier="critical",
        status=active,
        scs_level="star4",
        scs_expires_on=date(2027, 6, 30),
        next_review_on=date(2027, 4, 1),
    )
    b = make_supplier(
        name_ja="乙社", tier="critical", status=active, next_review_on=date(2026, 9, 1)
    )
    c = make_supplier(
        name_ja="丙社",
        tier="high",
        status=active,
        next_review_on=date(2027, 1, 1),
        category=SupplierCategory.business_partner,
    )
    d = make_supplier(name_ja="丁社", tier="critical", status=SupplierStatus.offboarded)
    e = make_supplier(name_ja="戊社", tier="high", status=SupplierStatus.onboarding)
    f = make_supplier(name_ja="己社", tier="high", status=active)
    make_contract(a, **every)
    make_contract(b, **(every | {"clause_audit_rights": False}))
    make_contract(d, **every)
    make_contract(f, **every, ends_on=date(2026, 3, 31))  # ended: not in force
    make_attestation(a, level=SecurityActionLevel.star1)
    make_attestation(c, level=SecurityActionLevel.star2)
    make_attestation(a, kind=AttestationKind.isms, level=None, expires_on=date(2027, 1, 31))
    make_attestation(b, kind=AttestationKind.isms, level=None, expires_on=date(2026, 8, 31))
    make_attestation(d, kind=AttestationKind.isms, level=None, expires_on=date(2027, 1, 31))
    with app.app_context():
        for supplier in (a, b, d):
            db.session.add(Assessment(
                supplier_id=supplier.id, template_id="csm-v2-supplier", template_version=1,
                due_on=date(2026, 6, 30), status=AssessmentStatus.completed,
            ))  # fmt: skip
        db.session.commit()
        db.session.remove()
    return today, {s.name_ja: s for s in (a, b, c, d, e, f)}


def _values(found) -> dict:
    return {v.spec.key: (v.achieved, v.total, v.missing, v.percent) for v in found.values}


def test_d9_indicators_against_hand_built_suppliers(ctx, programme, count_queries):
    today, _ = programme
    with ctx(), count_queries() as counted:
        found = indicators.indicators(today)
    assert counted.count == 1  # one aggregate query, whatever the number of suppliers
    assert _values(found) == {
        # active outsourcing contractors: 甲 乙 己; 己's contract has ended
        "contract_in_force": (2, 3, None, 66.7),
        # active critical: 甲 乙; 乙 lacks the right to audit
        "all_clauses_critical": (1, 2, None, 50.0),
        # active high: 丙 (no contract), 己 (ended)
        "all_clauses_high": (0, 2, None, 0.0),
        # active: 甲 乙 丙 己; only 甲 is completed and not past its re-check; 乙 is overdue
        "assessed_in_cadence": (1, 4, 1, 25.0),
        "security_action": (2, 4, 2, 50.0),  # 甲 ★, 丙 ★★
        "isms_valid": (1, 4, 3, 25.0),  # 乙's expired
        "level_meets": (1, 4, 3, 25.0),  # 甲 holds SCS ★4
    }
    gaps = {(g.tier, g.clause): g.missing for g in found.clause_gaps}
    assert gaps[("critical", "clause_audit_rights")] == 1
    assert gaps[("critical", "clause_security_requirements")] == 0
    assert all(gaps[("high", c)] == 2 for c in CONTRACT_CLAUSES)


def _names_in_list(client, href) -> set[str]:
    page = client.get(href).get_data(as_text=True)
    return set(re.findall(r"[甲乙丙丁戊己]社", page))


def test_d9_indicator_links_list_the_suppliers_counted(auth, ctx, programme, monkeypatch):
    today, _ = programme
    monkeypatch.setattr(clock, "today", lambda: today)
    auth.login(Role.ciso, locale="en")
    _start(auth.client, "2026年度 上期", "2026-09-30")
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    page = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    links = dict(re.findall(r'<a href="(/suppliers/\?[^"]+)">([^<]+)</a>', page)[::-1])
    by_text = {
        text.replace("&amp;", "&"): href.replace("&amp;", "&") for href, text in links.items()
    }
    expected = {
        "2 / 3": {"甲社", "乙社", "己社"},  # contract in force: active outsourcing contractors
        "1 / 2": {"甲社", "乙社"},  # every clause: active critical
        "re-check overdue: 1": {"乙社"},
        "none declared: 2": {"乙社", "己社"},
        "expired or missing: 3": {"乙社", "丙社", "己社"},
        "not holding it: 3": {"乙社", "丙社", "己社"},
    }
    for text, names in expected.items():
        assert _names_in_list(auth.client, by_text[text]) == names, text
    audit_gap = "/suppliers/?status=active&tier=critical&clause_missing=clause_audit_rights"
    assert audit_gap in page.replace("&amp;", "&")
    assert _names_in_list(auth.client, audit_gap) == {"乙社"}
    assert "as of today (2026-10-01)" in page


def test_a_closed_cycle_keeps_the_indicators_of_its_day(auth, ctx, programme, monkeypatch, app):
    today, suppliers = programme
    monkeypatch.setattr(clock, "today", lambda: today)
    auth.login(Role.ciso, locale="en")
    _start(auth.client, "2026年度 上期", "2026-09-30")
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    _close(auth.client, cycle_id)
    with app.app_context():  # 乙 gets the missing clause afterwards
        from vendorrisk.models import Contract

        db.session.execute(
            sa.update(Contract)
            .where(Contract.supplier_id == suppliers["乙社"].id)
            .values(clause_audit_rights=True)
        )
        db.session.commit()
    closed = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    assert "as kept when the cycle closed (2026-10-01)" in closed
    assert ">1 / 2</a>" in closed  # as it was
    _start(auth.client, "2026年度 下期", "2027-03-31")
    live = auth.client.get(f"{BASE}/cycles/{_cycle_id(ctx, '2026年度 下期')}").get_data(
        as_text=True
    )
    assert ">2 / 2</a>" in live and "as of today" in live


# -- KPIs ----------------------------------------------------------------------------------

BAD_KPIS = {
    "training_completion": "120",
    "phishing_click_rate": "abc",
    "incidents": "-1",
    "incident_drills": "2.5",
    "risk_findings": "１２",  # full-width digits are fine
    "version": "1",
}


@pytest.mark.parametrize(
    ("locale", "messages"),
    [
        ("en", ("Enter a percentage between 0 and 100.", "Enter a number.",
                "Enter a whole number of 0 or more.")),
        ("ja", ("0〜100 の割合（%）を入力してください。", "数値を入力してください。",
                "0 以上の整数を入力してください。")),
    ],
)  # fmt: skip
def test_kpi_values_are_validated_in_the_users_language(auth, ctx, locale, messages):
    auth.login(Role.ciso, locale=locale)
    _start(auth.client)
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    page = auth.client.post(f"{BASE}/cycles/{cycle_id}/kpis", data=BAD_KPIS).get_data(as_text=True)
    percent, number, whole = messages
    assert page.count(whole) == 2 and percent in page and number in page
    assert 'value="120"' in page and 'value="abc"' in page  # nothing typed is lost
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count(SelfAssessmentKpi.id))) == 0


def test_kpi_values_are_saved_charted_and_guarded_by_a_version(auth, ctx):
    auth.login(Role.ciso, locale="en")
    _start(auth.client, "2025年度 下期", "2026-03-31")
    first = _cycle_id(ctx, "2025年度 下期")
    data = {
        "training_completion": "85.5%",
        "risk_findings": "１２",
        "incidents": "3",
        "version": "1",
    }
    assert auth.client.post(f"{BASE}/cycles/{first}/kpis", data=data).status_code == 302
    stale = auth.client.post(f"{BASE}/cycles/{first}/kpis", data=data | {"incidents": "4"})
    assert "Someone else saved these KPI values" in stale.get_data(as_text=True)
    assert 'value="4"' in stale.get_data(as_text=True)
    cleared = {
        "training_completion": "85.5",
        "risk_findings": " ",
        "incidents": "2",
        "version": "2",
    }
    assert auth.client.post(f"{BASE}/cycles/{first}/kpis", data=cleared).status_code == 302
    _close(auth.client, first)
    _start(auth.client)
    second = _cycle_id(ctx, "2026年度 上期")
    auth.client.post(
        f"{BASE}/cycles/{second}/kpis", data={"training_completion": "91", "version": "1"}
    )
    with ctx() as session:
        values = {
            (k.cycle_id, k.key): k.value for k in session.scalars(sa.select(SelfAssessmentKpi))
        }
    assert values == {(first, "training_completion"): 85.5, (first, "incidents"): 2.0,
                      (second, "training_completion"): 91.0}  # fmt: skip
    page = auth.client.get(f"{BASE}/cycles/{second}/kpis").get_data(as_text=True)
    assert "KPIs in percent" in page
    training = r"Security training completion rate</th><td class=\"num\">85\.5%</td>"
    assert re.search(training + r"<td class=\"num\">91\.0%", page)
    assert re.search(r"Security incidents</th><td class=\"num\">2</td><td class=\"num\">—", page)


# -- export and summary --------------------------------------------------------------------


def test_export_frame_has_stable_columns_and_the_previous_status(auth, ctx, app):
    editor = auth.login(Role.ciso, locale="en", name="佐藤 恵子")
    _start(auth.client, "2025年度 下期", "2026-03-31")
    first = _cycle_id(ctx, "2025年度 下期")
    _save(auth.client, first, "int-d9-02", 1, status="partly")
    _close(auth.client, first)
    _start(auth.client)
    second = _cycle_id(ctx, "2026年度 上期")
    _save(auth.client, second, "int-d9-02", 1, status="done", owner_id=str(editor.id),
          evidence="=HYPERLINK(\"x\")", target_on="2026-12-31")  # fmt: skip
    with app.app_context():
        df = cycles.export_frame()
        assert cycles.export_frame(first)["cycle"].unique().tolist() == ["2025年度 下期"]
    assert list(df.columns) == list(cycles.EXPORT_COLUMNS)
    assert len(df) == 41
    row = df[df.question_id == "int-d9-02"].iloc[0].to_dict()
    assert row == {
        "cycle": "2026年度 上期", "edition": "Ver 2.0", "principle": None, "directive": 9,
        "item": "D9-2", "question_id": "int-d9-02",
        "question_ja": "委託先が実施すべきサイバーセキュリティ対策について、契約書等により"
                       "明確にしている",
        "question_ja_provenance": "official", "question_en": row["question_en"],
        "question_en_provenance": "仮訳",
        "status": "done", "review": "", "owner": "佐藤 恵子",
        "target_on": date(2026, 12, 31), "evidence": "=HYPERLINK(\"x\")", "notes": "",
        "previous_status": "partly",
    }  # fmt: skip
    with app.app_context():
        assert cycles.export_frame(999).empty


# -- access and language -------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.auditor, Role.procurement])
def test_readers_see_everything_and_change_nothing(auth, ctx, make_user, role, app):
    with ctx() as session:
        cycle = cycles.start_cycle(
            "2026年度 上期", date(2026, 9, 30), cycles.current_template(), None, clock.now()
        )
        session.commit()
        cycle_id = cycle.id
    auth.login(role, locale="en")
    for url in (
        "/",
        f"/cycles/{cycle_id}",
        f"/cycles/{cycle_id}/compare",
        f"/cycles/{cycle_id}/kpis",
    ):
        page = auth.client.get(BASE + url)
        assert page.status_code == 200, url
        assert ">Edit<" not in page.get_data(as_text=True)
        assert 'name="incidents"' not in page.get_data(as_text=True)
    for url in ("/cycles/new", f"/cycles/{cycle_id}/items/int-d1-01", f"/cycles/{cycle_id}/close"):
        assert auth.client.get(BASE + url).status_code == 403, url
    writes = {
        "/cycles/new": {"name": "x", "as_of": "2027-03-31"},
        f"/cycles/{cycle_id}/items/int-d1-01": {"status": "done", "version": "1"},
        f"/cycles/{cycle_id}/close": {"confirm": "y"},
        f"/cycles/{cycle_id}/kpis": {"incidents": "1", "version": "1"},
    }
    for url, data in writes.items():
        assert auth.client.post(BASE + url, data=data).status_code == 403, url
    assert _item(ctx, cycle_id, "int-d1-01").status is None
    with ctx() as session:
        assert session.get(SelfAssessmentCycle, cycle_id).is_open


def test_csrf_is_required_on_every_post(tmp_path_factory):
    """Start, item, KPI and close: each POST is refused without the token and passes with it."""

    with conftest_strict_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as strict:
        client = strict.test_client()
        with strict.app_context():
            user, password = accounts.create_user("ciso-csrf@example.com", Role.ciso, locale="en")
            user.must_change_password = False
            template = cycles.current_template()
            cycle = cycles.start_cycle("2026年度 上期", date(2026, 9, 30), template, None, NOW)
            db.session.commit()
            cycle_id = cycle.id
        token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
        login = {"email": "ciso-csrf@example.com", "password": password, "csrf_token": token}
        assert client.post("/auth/login", data=login).status_code == 302
        item = {"status": "done", "owner_id": "", "target_on": "", "evidence": "議事録",
                "notes": "", "version": "1"}  # fmt: skip
        posts = {  # the close last: it freezes the others
            f"{BASE}/cycles/{cycle_id}/items/int-d1-01": item,
            f"{BASE}/cycles/{cycle_id}/kpis": {"incidents": "2", "version": "1"},
            f"{BASE}/cycles/{cycle_id}/close": {"confirm": "y"},
            f"{BASE}/cycles/new": {"name": "2026年度 下期", "as_of": "2027-03-31"},
        }
        for url, data in posts.items():
            assert client.post(url, data=data).status_code == 400, url
        with strict.app_context():
            cycle = db.session.get(SelfAssessmentCycle, cycle_id)
            assert cycle.is_open and {i.status for i in cycle.items} == {None}
            assert not cycle.kpis
            assert db.session.scalar(sa.select(sa.func.count(SelfAssessmentCycle.id))) == 1
        for url, data in posts.items():
            token = csrf_token_from(client.get(url).get_data(as_text=True))
            assert client.post(url, data=data | {"csrf_token": token}).status_code == 302, url
        with strict.app_context():
            cycle = cycles.get_full(cycle_id)
            assert not cycle.is_open
            assert cycles.items_by_question(cycle)["int-d1-01"].status == ItemStatus.done
            assert kpis.saved_values(cycle) == {"incidents": 2.0}
            assert db.session.scalar(sa.select(sa.func.count(SelfAssessmentCycle.id))) == 2


def test_the_demo_cycles_and_japanese_pages_without_english(auth, runner, ctx):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with ctx() as session:
        found = session.scalars(
            sa.select(SelfAssessmentCycle).order_by(SelfAssessmentCycle.as_of)
        ).all()
        assert [c.is_open for c in found] == [False, False, True]
        assert all(c.d9_snapshot for c in found[:2]) and found[2].d9_snapshot is None
        assert session.scalar(sa.select(sa.func.count(SelfAssessmentKpi.id))) == 24
        ids = [c.id for c in found]
    with ctx():
        history = cycles.history()
    overall = [h.overall for h in history]
    assert overall == sorted(overall) and overall[0] < overall[-1]  # the PDCA at work

    auth.login(Role.admin, locale="ja")
    with PO.open("rb") as f:
        catalog = read_po(f, locale="ja")
    english = [
        m.id
        for m in catalog
        if isinstance(m.id, str)  # not a plural (ngettext)
        and len(m.id.split()) >= 2
        and "%(" not in m.id
        and m.string != m.id
    ]
    pages = [BASE + "/", f"{BASE}/cycles/new"]
    for cycle_id in ids:
        cycle = f"{BASE}/cycles/{cycle_id}"
        pages += [cycle, f"{cycle}/compare", f"{cycle}/compare?show=changed", f"{cycle}/kpis"]
    pages += [f"{BASE}/cycles/{ids[-1]}/items/int-d9-02", f"{BASE}/cycles/{ids[-1]}/close"]
    for url in pages:
        response = auth.client.get(url)
        assert response.status_code == 200, url
        text = _visible_text(response.get_data(as_text=True))
        leaked = [m for m in english if m in text]
        assert leaked == [], (url, leaked)


def test_the_cycle_page_takes_a_fixed_number_of_queries(auth, runner, ctx, count_queries):
    runner.invoke(args=["seed-demo"])
    auth.login(Role.admin, locale="en")
    with ctx() as session:
        cycle_id = session.scalar(sa.select(sa.func.max(SelfAssessmentCycle.id)))
    with count_queries() as counted:
        assert auth.client.get(f"{BASE}/cycles/{cycle_id}").status_code == 200
    assert counted.count <= 10, counted.statements


def test_gaps_are_listed_with_what_they_lack(auth, ctx):
    editor = auth.login(Role.ciso, locale="en")
    _start(auth.client)
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    _save(auth.client, cycle_id, "int-d7-01", 1, status="not_done", owner_id=str(editor.id))
    _save(auth.client, cycle_id, "int-d7-02", 1, status="partly", owner_id=str(editor.id),
          target_on=(date.today() + timedelta(days=90)).isoformat())  # fmt: skip
    _save(auth.client, cycle_id, "int-d7-03", 1, status="done")
    page = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    gaps = page[page.index('id="gaps"') : page.index('id="d1"')]
    assert "D7-1" in gaps and "no target date" in gaps
    assert "D7-2" not in gaps and "D7-3" not in gaps
    assert "D1-1" in gaps  # not answered counts as not yet implemented


def test_a_refused_file_saves_nothing_and_keeps_the_entries(auth, ctx):
    auth.login(Role.ciso, locale="en")
    _start(auth.client)
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    form = auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int-d9-02").get_data(as_text=True)
    assert "From the supplier programme" in form  # the indicators beside a Direction 9 item
    response = _save(
        auth.client, cycle_id, "int-d9-02", 1, status="done", evidence="契約書ひな形（2026年版）",
        upload=(io.BytesIO(b"MZ\x90\x00binary"), "tool.exe"),
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This type of file is not accepted." in page and "契約書ひな形（2026年版）" in page
    item = _item(ctx, cycle_id, "int-d9-02")
    assert (item.status, item.evidence, item.version) == (None, "", 1)
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0
    other = auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int-d1-01").get_data(as_text=True)
    assert "From the supplier programme" not in other


# -- closing races and hostile input -------------------------------------------------------

NOW = datetime(2026, 10, 1, 9, tzinfo=UTC)


def _open_cycle(ctx, name="2026年度 上期") -> int:
    with ctx() as session:
        template = cycles.current_template()
        cycle = cycles.start_cycle(name, date(2026, 9, 30), template, None, NOW)
        session.commit()
        return cycle.id


def _close_elsewhere(app, cycle_id, user_id=None, when=NOW):
    """Another request closes the cycle and commits (its own app context, hence session)."""
    with app.app_context():
        closer = db.session.get(User, user_id) if user_id else None
        cycle = db.session.get(SelfAssessmentCycle, cycle_id)
        cycles.close_cycle(cycle, closer, when, when.date())
        db.session.commit()


def test_a_close_committed_meanwhile_stops_item_and_kpi_saves(app, ctx):
    """Forms loaded while the cycle was open, then closed elsewhere: neither save lands."""
    cycle_id = _open_cycle(ctx)
    with app.app_context():  # request 1 shows the KPI form
        cycle = cycles.get_full(cycle_id)
        with app.app_context():  # request 2 shows an item's form
            shown = cycles.get_full(cycle_id)
            item = cycles.items_by_question(shown)["int-d1-01"]
            _close_elsewhere(app, cycle_id)  # request 3 closes the cycle
            assert shown.is_open and item.cycle is shown  # as request 2 loaded it
            with pytest.raises(cycles.CycleClosed):
                cycles.save_item(item, {"status": ItemStatus.done}, 1, None, NOW)
            db.session.rollback()
        assert cycle.is_open  # as request 1 loaded it
        with pytest.raises(cycles.CycleClosed):
            kpis.save_kpis(cycle, {"incidents": 99.0}, cycle.kpi_version)
        db.session.rollback()
    saved = _item(ctx, cycle_id, "int-d1-01")
    assert (saved.status, saved.version) == (None, 1)
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count(SelfAssessmentKpi.id))) == 0
        assert session.get(SelfAssessmentCycle, cycle_id).kpi_version == 1


def test_a_stale_kpi_version_on_an_open_cycle_is_still_a_conflict(app, ctx):
    cycle_id = _open_cycle(ctx)
    with app.app_context():
        cycle = cycles.get_full(cycle_id)
        with pytest.raises(cycles.VersionConflict):
            kpis.save_kpis(cycle, {"incidents": 1.0}, cycle.kpi_version + 1)
        db.session.rollback()


def test_a_cycle_is_closed_once(app, ctx, make_user):
    """A second close, based on the cycle as loaded before the first, is refused."""
    cycle_id = _open_cycle(ctx)
    first, second = make_user(Role.ciso), make_user(Role.admin)
    later = NOW + timedelta(days=3)
    with app.app_context():
        cycle = db.session.get(SelfAssessmentCycle, cycle_id)
        closer = db.session.get(User, second.id)
        _close_elsewhere(app, cycle_id, first.id, NOW)
        assert cycle.is_open  # as loaded
        with pytest.raises(cycles.CycleClosed, match="already closed"):
            cycles.close_cycle(cycle, closer, later, later.date())
        db.session.rollback()
    with ctx() as session:
        closed = session.get(SelfAssessmentCycle, cycle_id)
        assert (closed.closed_at, closed.closed_by_id) == (NOW, first.id)
        assert closed.d9_snapshot["as_of"] == "2026-10-01"


def test_a_file_sent_with_a_save_refused_as_closed_is_not_kept(auth, ctx, app, monkeypatch):
    auth.login(Role.ciso, locale="en")
    _start(auth.client)
    cycle_id = _cycle_id(ctx, "2026年度 上期")
    upload_dir = Path(app.config["UPLOAD_DIR"])
    before = set(upload_dir.iterdir())
    store = files.store

    def store_while_closing(*args, **kwargs):
        _close_elsewhere(app, cycle_id)  # a colleague closes the cycle while the file uploads
        return store(*args, **kwargs)

    monkeypatch.setattr(files, "store", store_while_closing)
    response = _save(
        auth.client, cycle_id, "int-d8-01", 1, status="done",
        upload=(io.BytesIO(b"recovery drill record"), "drill.txt"),
    )  # fmt: skip
    assert response.status_code == 302
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This cycle is closed: its answers can no longer be changed." in page
    assert _item(ctx, cycle_id, "int-d8-01").status is None
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count(StoredFile.id))) == 0
    assert set(upload_dir.iterdir()) == before  # no orphan bytes


def test_a_hostile_cycle_name_is_shown_escaped(auth, ctx, app):
    hostile = '<script>alert("x")</script>'
    auth.login(Role.ciso, locale="en")
    started = _start(auth.client, hostile)
    assert started.status_code == 302
    pages = [
        auth.client.get(started.headers["Location"]),  # with the "started" message
        auth.client.get(f"{BASE}/"),
        auth.client.get(f"{BASE}/cycles/new"),  # "Close the open cycle ... first"
    ]
    for page in pages:
        text = page.get_data(as_text=True)
        assert "<script>alert" not in text and "&lt;script&gt;alert" in text, page.request.path
    with app.test_request_context():
        with pytest.raises(cycles.SelfAssessmentError) as refused:
            template = cycles.current_template()
            cycles.start_cycle("次", date(2027, 3, 31), template, None, NOW)
        shown = render_template_string("{{ message }}", message=refused.value.args[0])
    assert "<script>" not in shown and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown


def test_a_start_racing_another_start_is_refused_with_a_message(app, monkeypatch):
    """Both saw no open cycle; the database's one-open-cycle index refuses the second."""
    from datetime import UTC, date, datetime

    now = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        template = cycles.current_template()
        cycles.start_cycle("第1期", date(2026, 3, 31), template, None, now)
        db.session.commit()
        monkeypatch.setattr(cycles, "open_cycle", lambda: None)  # the check both passed
        with pytest.raises(cycles.SelfAssessmentError) as refused:
            cycles.start_cycle("第2期", date(2026, 9, 30), template, None, now)
        assert "Another cycle was started meanwhile" in str(refused.value)
        db.session.rollback()
        assert [c.name for c in cycles.cycles()] == ["第1期"]
