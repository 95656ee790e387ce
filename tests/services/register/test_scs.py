"""The SCS ★ decision (issue 17): the level asked (METI's triggers, a person's raise with its
history), the level held (SECURITY ACTION and SCS attestations), and where a supplier stands —
never short of a level before the scheme runs, never shown as a count of steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import AttestationKind, RequiredLevelChange, Role, Supplier
from vendorrisk.services.register import d9, scs, suppliers
from vendorrisk.services.register.scs import LevelState, SchemeSettings

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}


def test_the_state_is_not_a_shortfall_until_the_scheme_runs(today):
    waiting = SchemeSettings()
    running = SchemeSettings(started_on=today - timedelta(days=1))
    tomorrow = SchemeSettings(started_on=today + timedelta(days=1))
    assert scs.state("star4", "none", False, today, waiting) is LevelState.not_running
    assert scs.state("star4", "none", True, today, waiting) is LevelState.interim
    assert scs.state("star4", "none", True, today, SchemeSettings(interim="none")) is (
        LevelState.not_running
    )
    assert scs.state("star4", "none", False, today, tomorrow) is LevelState.not_running
    assert scs.state("star4", "star3", True, today, running) is LevelState.short
    assert scs.state("star3", "star4", False, today, running) is LevelState.met
    assert scs.state("star3", "star3", False, today, waiting) is LevelState.met
    assert scs.required("star3", "star4") == "star4"
    assert scs.required("star4", "star3") == "star4"  # a raise never lowers what the rules ask
    assert scs.required("star3", None) == "star3"
    with pytest.raises(ValueError, match="interim"):
        SchemeSettings(interim="pmark")


@pytest.fixture
def three(make_supplier, make_attestation, today):
    """★4 asked of all three (confidential information): none holds an SCS evaluation; one holds
    an ISMS certificate covering the service, one covering something else."""
    covered = make_supplier(name_ja="暫定株式会社", shares_confidential_info=True)
    make_attestation(
        covered,
        kind=AttestationKind.isms,
        level=None,
        identifier="IS 1",
        covers_service=True,
        expires_on=today + timedelta(days=300),
    )
    elsewhere = make_supplier(name_ja="範囲外株式会社", shares_confidential_info=True)
    make_attestation(
        elsewhere,
        kind=AttestationKind.isms,
        level=None,
        identifier="IS 2",
        covers_service=False,
        expires_on=today + timedelta(days=300),
    )
    nothing = make_supplier(name_ja="未評価株式会社", shares_confidential_info=True)
    return {"interim": covered.id, "not_running": elsewhere.id, "bare": nothing.id}


def today_of(moment: datetime):
    return moment.date()


def _states(ctx, today, ids):
    """Each supplier's state by Python (status_of) and by SQL (the list filter), which agree."""
    with ctx() as session:
        scheme = scs.scheme_settings()
        by_python = {
            key: d9.status_of(session.get(Supplier, sid), today, scheme).level_state
            for key, sid in ids.items()
        }
        by_sql = {}
        for state in LevelState:
            found = session.scalars(
                sa.select(Supplier.id).where(*d9.conditions(today, level=state, scheme=scheme))
            ).all()
            for key, sid in ids.items():
                if sid in found:
                    assert key not in by_sql, f"{key} in two states"
                    by_sql[key] = state
        assert by_sql == by_python
        return by_python


def test_before_the_scheme_runs_nobody_falls_short(ctx, today, three):
    assert _states(ctx, today, three) == {
        "interim": LevelState.interim,
        "not_running": LevelState.not_running,
        "bare": LevelState.not_running,
    }


def test_once_the_scheme_runs_a_shortfall_is_one(ctx, today, three, scheme_running):
    assert set(_states(ctx, today, three).values()) == {LevelState.short}


def test_an_scs_evaluation_in_force_meets_the_level(ctx, today, make_supplier, scheme_running):
    ids = {
        "held": make_supplier(has_network_access=True, scs_level="star4").id,
        "lapsed": make_supplier(
            has_network_access=True, scs_level="star4", scs_expires_on=today - timedelta(days=1)
        ).id,
        "lower": make_supplier(has_network_access=True, scs_level="star3").id,
    }
    assert _states(ctx, today, ids) == {
        "held": LevelState.met,
        "lapsed": LevelState.short,
        "lower": LevelState.short,
    }


def test_the_panel_says_what_is_needed_never_a_step_count(auth, three):
    auth.login(Role.procurement)
    page = auth.client.get(f"/suppliers/{three['bare']}", headers=JA).get_data(as_text=True)
    assert "★4が必要（現在：なし）" in page
    assert "未評価（制度開始前）" in page
    assert "段階不足" not in page and "満たない" not in page
    page = auth.client.get(f"/suppliers/{three['interim']}", headers=EN).get_data(as_text=True)
    assert "★4 required (now: none)" in page and "Interim: ISMS covering the service" in page
    assert "below the required level" not in page


def test_the_roll_up_counts_no_shortfall_before_the_scheme_runs(auth, three, ctx, today):
    auth.login(Role.ciso)
    page = auth.client.get("/rollup", headers=EN).get_data(as_text=True)
    assert "Below the required evaluation level" not in page
    assert "Not yet evaluated (scheme not started)" in page
    assert "Interim: ISMS covering the service" in page


def test_a_hand_raised_level_keeps_its_reason_in_the_history(auth, ctx, make_supplier, today):
    supplier = make_supplier(name_ja="引上株式会社")  # no trigger: the rules ask ★3
    user = auth.login(Role.procurement)
    url = f"/suppliers/{supplier.id}/level"
    page = auth.client.post(
        url, data={"level": "star4", "reason": " "}, headers=EN, follow_redirects=True
    ).get_data(as_text=True)
    assert "Give the reason for asking a higher level." in page
    reason = "当社の設計図面を扱う再委託先を多数抱えるため"
    auth.client.post(url, data={"level": "star4", "reason": reason})
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert "raised by hand (the rules ask SCS ★3)" in page
    assert reason in page and "★4 required (now: none)" in page
    # Not below what the rules ask: ★3 is no raise.
    page = auth.client.post(
        url, data={"level": "star3", "reason": "x"}, headers=EN, follow_redirects=True
    ).get_data(as_text=True)
    assert "Choose a level above the one the rules ask for." in page
    auth.client.post(f"/suppliers/{supplier.id}/level/rules")
    with ctx() as session:
        assert session.get(Supplier, supplier.id).required_level_raised is None
        history = session.scalars(
            sa.select(RequiredLevelChange)
            .where(RequiredLevelChange.supplier_id == supplier.id)
            .order_by(RequiredLevelChange.id)
        ).all()
        assert [(h.previous, h.level, h.source, h.reason, h.changed_by_id) for h in history] == [
            ("star3", "star4", "manual", reason, user.id),
            ("star4", "star3", "rule", "", user.id),
        ]


def test_a_raise_shows_in_the_list_filter_and_the_sql_twin(ctx, make_supplier, make_user):
    supplier = make_supplier()
    now = datetime.now(UTC)
    user = make_user(Role.procurement)
    with ctx() as session:
        row = session.get(Supplier, supplier.id)
        scs.raise_level(row, "star3", "star4", "理由", session.get(type(user), user.id), now)
        session.commit()
    with ctx() as session:
        asked = session.scalar(sa.select(d9.required_level()).where(Supplier.id == supplier.id))
        assert asked == "star4"
        unmet = session.scalars(
            sa.select(Supplier.id).where(*d9.conditions(today_of(now), level=d9.UNMET))
        ).all()
        assert unmet == [supplier.id]  # the list's filter asks the raised level too
        with pytest.raises(scs.LevelError):
            scs.raise_level(session.get(Supplier, supplier.id), "star4", "star4", "x", None, now)


def test_a_contract_records_the_level_it_requires(auth, ctx, make_supplier, today):
    supplier = make_supplier(shares_confidential_info=True)
    auth.login(Role.procurement)
    by = today + timedelta(days=200)
    url = f"/suppliers/{supplier.id}/contracts/new"
    data = {"title": "業務委託基本契約", "starts_on": (today - timedelta(days=10)).isoformat()}
    page = auth.client.post(
        url, data=data | {"required_scs_by": by.isoformat()}, headers=EN, follow_redirects=True
    ).get_data(as_text=True)
    assert "A date needs the level the contract requires." in page
    auth.client.post(url, data=data | {"required_scs_level": "star4", "required_scs_by": str(by)})
    with ctx() as session:
        contract = session.get(Supplier, supplier.id).contracts[0]
        assert (contract.required_scs_level, contract.required_scs_by) == ("star4", by)
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert "Level the contract requires" in page and "Requires ★4" in page


def test_isms_holders_are_not_shown_lacking_security_action(auth, three):
    auth.login(Role.procurement)
    page = auth.client.get(f"/suppliers/{three['interim']}", headers=EN).get_data(as_text=True)
    assert "Not needed: holds ISMS certification" in page
    page = auth.client.get(f"/suppliers/{three['bare']}", headers=EN).get_data(as_text=True)
    assert "Not needed: holds ISMS certification" not in page


def test_the_scheme_settings_are_saved_by_an_admin(auth, ctx, today, three):
    auth.login(Role.admin)
    page = auth.client.get("/admin/settings", headers=EN).get_data(as_text=True)
    assert "SCS evaluation scheme" in page
    started = today - timedelta(days=3)
    auth.client.post(
        "/admin/settings",
        data={
            "which": "scheme",
            "scheme-started_on": started.isoformat(),
            "scheme-interim": "isms",
        },
    )
    with ctx():
        assert scs.scheme_settings() == SchemeSettings(started_on=started, interim="isms")
    assert set(_states(ctx, today, three).values()) == {LevelState.short}


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("tech_info_mgmt", {"identifier": "TI-1", "issuer": "認証機関"}),
        ("tisax", {"identifier": "S2ABCD", "scope": "設計拠点"}),
        ("iso27701", {"identifier": "PIMS 001", "issuer": "認証機関", "scope": "全社"}),
        ("pci_dss", {"issuer": "QSA株式会社", "issued_on": "2026-04-01"}),
    ],
)
def test_new_attestation_kinds_are_recorded(auth, ctx, make_supplier, today, kind, fields):
    supplier = make_supplier()
    auth.login(Role.procurement)
    until = (today + timedelta(days=365)).isoformat()
    url = f"/suppliers/{supplier.id}/attestations/new?kind={kind}"
    page = auth.client.post(url, data={"kind": kind}, headers=EN, follow_redirects=True)
    assert "Required for" in page.get_data(as_text=True)  # each kind's own required fields
    auth.client.post(url, data={"kind": kind, "expires_on": until} | fields)
    with ctx():
        [held] = suppliers.get_full(supplier.id).attestations
        assert (held.kind.value, held.expires_on.isoformat(), held.scs_level) == (kind, until, None)
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=JA).get_data(as_text=True)
    label = {"tech_info_mgmt": "技術情報管理認証", "tisax": "TISAX", "iso27701": "ISO/IEC 27701",
             "pci_dss": "PCI DSS"}[kind]  # fmt: skip
    assert label in page


def test_an_scs_evaluation_is_recorded_with_its_level_and_register_entry(
    auth, ctx, make_supplier, today
):
    supplier = make_supplier(has_admin_access=True)
    auth.login(Role.procurement)
    url = f"/suppliers/{supplier.id}/attestations/new?kind=scs"
    until = (today + timedelta(days=365)).isoformat()
    page = auth.client.post(
        url, data={"kind": "scs", "identifier": "x"}, headers=EN, follow_redirects=True
    ).get_data(as_text=True)
    assert "Required for SCS evaluation" in page
    auth.client.post(
        url,
        data={
            "kind": "scs",
            "scs_level": "star4",
            "evaluation": "third_party",
            "identifier": "SCS4-000123",
            "ledger_ref": "https://example.jp/ledger/000123",
            "expires_on": until,
        },
    )
    with ctx():
        [held] = suppliers.get_full(supplier.id).attestations
        assert (held.kind, held.scs_level, held.evaluation) == (
            AttestationKind.scs, "star4", "third_party"
        )  # fmt: skip
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert "Third-party evaluation" in page and "https://example.jp/ledger/000123" in page
    assert '<span class="badge good">Meets</span>' in page  # ★4 asked (admin access), ★4 held


def test_the_contract_level_is_past_due_only_once_the_scheme_runs(
    auth, ctx, make_supplier, make_contract, today, app
):
    supplier = make_supplier(scs_level="star3")  # the rules ask ★3, which it holds
    make_contract(supplier, required_scs_level="star4", required_scs_by=today - timedelta(days=1))
    auth.login(Role.procurement)
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert "Requires ★4" in page and "Past due" not in page  # nobody can hold ★4 yet
    with ctx():
        scs.save_scheme_settings(SchemeSettings(started_on=today - timedelta(days=30)))
        db.session.commit()
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert '<span class="badge good">Meets</span>' in page  # what the rules ask …
    assert "Past due" in page  # … but not the ★4 the contract requires
