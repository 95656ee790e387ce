"""The Direction 9 status of every supplier: list columns, filters, sorting, the supplier panel."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.blueprints.suppliers.test_suppliers import _bulk
from tests.factories import make_finding
from vendorrisk.extensions import db
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    Attestation,
    AttestationKind,
    Contract,
    Finding,
    FindingStatus,
    Role,
    SecurityActionLevel,
    Severity,
    Supplier,
)
from vendorrisk.scoring.tiers import required_level
from vendorrisk.services.register import d9, suppliers
from vendorrisk.services.review import tiers

EN = {"Accept-Language": "en"}
ALL_CLAUSES = dict.fromkeys(CONTRACT_CLAUSES, True)
FIVE = ("full", "lapsed", "bare", "edge", "evaluated")


def _days(today: date, n: int) -> date:
    return today + timedelta(days=n)


@pytest.fixture
def register(make_supplier, make_contract, make_attestation, make_user, ctx, today, scheme_running):
    """Five suppliers, one per situation, the SCS scheme running (a level below the one asked
    is a shortfall); returns their ids by short name."""

    def insurance(supplier, days):
        return make_attestation(
            supplier,
            kind=AttestationKind.cyber_insurance,
            level=None,
            identifier=f"POL-{supplier.id}-{days}",
            issuer="はるかぜ損害保険株式会社",
            coverage_limit_jpy=100_000_000,
            expires_on=_days(today, days),
        )

    def isms(supplier, days):
        return make_attestation(
            supplier,
            kind=AttestationKind.isms,
            level=None,
            identifier=f"IS {supplier.id}",
            expires_on=_days(today, days),
        )

    def declaration(supplier, level, identifier, **fields):
        return make_attestation(
            supplier, level=SecurityActionLevel(level), identifier=identifier, **fields
        )

    # Everything in order: meets ★4 with a valid SCS ★4.
    full = make_supplier(
        name_ja="完全株式会社",
        name_en="Complete Co.",
        tier="critical",
        shares_confidential_info=True,
        scs_level="star4",
        scs_expires_on=_days(today, 400),
        latest_score=91.5,
        latest_score_on=_days(today, -20),
        next_review_on=_days(today, 150),
    )
    insurance(full, 200)
    isms(full, 300)
    make_attestation(full, kind=AttestationKind.pmark, level=None, expires_on=_days(today, 10))
    declaration(full, "star1", "40000000011")
    declaration(full, "star2", "50000000022")
    make_contract(full, **ALL_CLAUSES)

    # Insurance expired yesterday, contract without audit rights, overdue, an open finding.
    lapsed = make_supplier(
        name_ja="保険切れ株式会社",
        name_en="Lapsed Co.",
        tier="critical",
        has_network_access=True,
        latest_score=42.0,
        latest_score_on=_days(today, -400),
        next_review_on=_days(today, -1),
    )
    insurance(lapsed, -1)
    isms(lapsed, 30)
    declaration(lapsed, "star1", "40000000033")
    make_contract(lapsed, **ALL_CLAUSES | {"clause_audit_rights": False})

    # Nothing at all: no insurance, no declaration, no contract; ISMS expired.
    bare = make_supplier(
        name_ja="未整備株式会社", name_en="Bare Co.", tier="critical", max_outage="months"
    )
    isms(bare, -10)
    make_contract(bare, starts_on=_days(today, -800), ends_on=_days(today, -1), **ALL_CLAUSES)

    # Edge cases: insurance ending today, an expired ★★ beside a valid ★, an expired SCS,
    # two contracts in force (the best one lacks audit rights), one ended, one not begun.
    edge = make_supplier(
        name_ja="境界株式会社",
        name_en="Edge Co.",
        tier="low",
        max_outage="months",
        scs_level="star3",
        scs_expires_on=_days(today, -1),
        next_review_on=today,
    )
    insurance(edge, 0)
    declaration(edge, "star2", "50000000044", expires_on=_days(today, -1))
    declaration(edge, "star1", "40000000055")
    make_contract(
        edge,
        clause_audit_rights=True,
        clause_security_requirements=True,
        clause_policy_compliance=True,
    )
    make_contract(
        edge,
        starts_on=None,
        ends_on=today,
        **ALL_CLAUSES | {"clause_audit_rights": False, "clause_cyber_insurance": False},
    )
    make_contract(edge, starts_on=_days(today, -900), ends_on=_days(today, -1), **ALL_CLAUSES)
    make_contract(edge, starts_on=_days(today, 1), **ALL_CLAUSES)

    # Meets ★3 by an SCS evaluation without expiry; its only finding is an accepted risk.
    evaluated = make_supplier(
        name_ja="評価済株式会社",
        name_en="Evaluated Co.",
        tier="high",
        scs_level="star3",
        max_outage="weeks",
    )
    insurance(evaluated, 61)
    make_contract(evaluated, starts_on=None, ends_on=None, **ALL_CLAUSES)

    ciso = make_user(Role.ciso)
    with ctx() as session:
        make_finding(lapsed, status=FindingStatus.open)
        make_finding(lapsed, status=FindingStatus.resolved, resolved_at=datetime.now(UTC))
        make_finding(bare, status=FindingStatus.in_progress)
        make_finding(
            evaluated,
            status=FindingStatus.risk_accepted,
            accepted_by_id=ciso.id,
            accepted_reason="代替策あり",
            accepted_until=_days(today, 90),
        )
        session.commit()
    return dict(zip(FIVE, (s.id for s in (full, lapsed, bare, edge, evaluated)), strict=True))


def _listed(client, query: str) -> set[int]:
    response = client.get(f"/suppliers/?{query}", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    ids = {int(i) for i in re.findall(r'href="/suppliers/(\d+)"', page)}
    assert f"{len(ids)} suppliers found" in page
    return ids


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", set(FIVE)),
        # "critical suppliers without valid insurance"
        ("tier=critical&insurance=missing", {"lapsed", "bare"}),
        # "contracts without audit rights": the best contract in force lacks it, or none is
        ("clause_missing=clause_audit_rights", {"lapsed", "bare", "edge"}),
        ("clause_missing=clause_cyber_insurance", {"bare", "edge"}),
        ("insurance=valid", {"full", "edge", "evaluated"}),
        ("insurance=missing", {"lapsed", "bare"}),
        ("isms=valid", {"full", "lapsed"}),
        ("isms=missing", {"bare", "edge", "evaluated"}),
        ("security_action=none", {"bare", "evaluated"}),
        ("security_action=star1", {"full", "lapsed", "edge"}),
        ("security_action=star2", {"full"}),
        ("level=below", {"lapsed", "bare", "edge"}),
        ("level=meets", {"full", "evaluated"}),
        ("findings=open", {"lapsed", "bare"}),
        ("findings=none", {"full", "edge", "evaluated"}),
        ("review=overdue", {"lapsed"}),
        ("tier=low", {"edge"}),
        ("tier=high&level=meets&insurance=valid", {"evaluated"}),
        ("tier=critical&clause_missing=clause_audit_rights&findings=open", {"lapsed", "bare"}),
        # Values that are not among the choices are ignored.
        (
            "tier=critical&insurance=bogus&clause_missing=clause_nonsense",
            {"full", "lapsed", "bare"},
        ),
        ("security_action=star3&level=x&findings=1&review=soon", set(FIVE)),
    ],
)
def test_each_filter_returns_exactly_the_expected_suppliers(auth, register, query, expected):
    auth.login(Role.reviewer)
    assert _listed(auth.client, query) == {register[name] for name in expected}


def test_the_list_computes_each_column(register, ctx, today):
    with ctx():
        page = d9.list_rows(suppliers.search(suppliers.SupplierFilter(), today), today, 1, 50)
        by_id = {row.supplier.id: row.d9 for row in page.items}
    full, lapsed, bare, edge, evaluated = (by_id[register[n]] for n in register)
    assert [s.clauses for s in (full, lapsed, bare, edge, evaluated)] == [7, 6, 0, 5, 7]
    assert (bare.has_contract, bare.missing_clauses) == (False, CONTRACT_CLAUSES)
    assert edge.missing_clauses == ("clause_audit_rights", "clause_cyber_insurance")
    assert lapsed.missing_clauses == ("clause_audit_rights",)
    assert (full.security_action, full.security_action_id) == ("star2", "50000000022")
    assert (edge.security_action, edge.security_action_id) == ("star1", "40000000055")
    assert (bare.security_action, bare.security_action_id) == ("none", "")
    assert [(s.required, s.held, s.level_state) for s in (full, lapsed, bare, edge, evaluated)] == [
        ("star4", "star4", "met"),
        ("star4", "star1", "short"),
        ("star3", "none", "short"),
        ("star3", "star1", "short"),
        ("star3", "star3", "met"),
    ]
    assert [s.open_findings for s in (full, lapsed, bare, edge, evaluated)] == [0, 1, 1, 0, 0]
    # Expired vs valid around today, and "expiring soon" within 60 days.
    assert lapsed.state(lapsed.insurance_until) == "expired"
    assert edge.state(edge.insurance_until) == "soon" and edge.insurance_until == today
    assert evaluated.state(evaluated.insurance_until) == "valid"
    assert bare.state(bare.insurance_until) == "missing"
    assert (full.state(full.pmark_until), lapsed.state(lapsed.isms_until)) == ("soon", "soon")


def test_sql_and_python_agree_on_the_hand_made_suppliers(register, ctx, today):
    _assert_sql_matches_python(ctx, today, expected=len(register))


def test_sql_and_python_agree_on_every_demo_supplier(runner, ctx, today):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with ctx() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(Supplier))
    statuses = _assert_sql_matches_python(ctx, today, expected=count)
    # The demo has enough variety for the comparison to mean something.
    assert {s.security_action for s in statuses} == {"none", "star1", "star2"}
    assert {s.state(s.insurance_until) for s in statuses} >= {"missing", "valid", "expired"}
    assert {s.has_contract for s in statuses} == {True, False}
    assert len({s.clauses for s in statuses}) >= 4
    assert {s.required for s in statuses} == {"star3", "star4"}


def _assert_sql_matches_python(ctx, today: date, expected: int) -> list[d9.D9Status]:
    with ctx():
        stmt = suppliers.search(suppliers.SupplierFilter(), today)
        rows = d9.list_rows(stmt, today, 1, 1000).items
        assert len(rows) == expected
        for row in rows:
            supplier = suppliers.get_full(row.supplier.id)
            assert row.d9 == d9.status_of(supplier, today), supplier.name_ja
            assert row.d9.held == tiers.held_level(supplier, today)
            assert row.d9.required == required_level(tiers.profile_of(supplier))[0]
        return [row.d9 for row in rows]


def test_sorting_by_tier_score_review_and_insurance(auth, register):
    auth.login(Role.reviewer)

    def order(sort: str) -> list[int]:
        page = auth.client.get(f"/suppliers/?sort={sort}", headers=EN).get_data(as_text=True)
        return [int(i) for i in re.findall(r'href="/suppliers/(\d+)"', page)]

    r = register
    by_tier = order("tier")
    assert set(by_tier[:3]) == {r["full"], r["lapsed"], r["bare"]}
    assert by_tier[3:] == [r["evaluated"], r["edge"]]
    assert order("-tier")[0] == r["edge"]
    assert order("score")[:2] == [r["lapsed"], r["full"]]
    assert order("-score")[:2] == [r["full"], r["lapsed"]]
    assert order("next_review")[:3] == [r["lapsed"], r["edge"], r["full"]]
    assert order("insurance") == [r["lapsed"], r["edge"], r["evaluated"], r["full"], r["bare"]]


@pytest.mark.parametrize("sort", sorted(suppliers.SORTS))
def test_pages_follow_the_whole_order_in_every_sort(register, ctx, today, sort):
    """The page is chosen on ids alone, then read whole: page by page, every sort gives exactly
    the order of the unpaged statement (ties broken by id), each row with its own D9 status."""
    with ctx() as session:
        for i, supplier in enumerate(session.scalars(sa.select(Supplier)).all()):
            for copy in range(3):  # ties on every sort key but the id
                session.add(Supplier(
                    name_ja=f"{supplier.name_ja}{copy}", name_en=f"copy {i}-{copy}",
                    category=supplier.category, status=supplier.status,
                    criticality=supplier.criticality, tier=supplier.tier,
                    latest_score=supplier.latest_score, next_review_on=supplier.next_review_on,
                ))  # fmt: skip
        session.commit()
    with ctx():
        stmt = suppliers.search(suppliers.SupplierFilter(sort=sort), today)
        whole = [s.id for s in db.session.scalars(stmt).unique()]
        paged, statuses = [], {}
        for number in range(1, 20):
            page = d9.list_rows(stmt, today, page=number, per_page=3)
            assert page.total == len(whole) == 20
            paged += [row.supplier.id for row in page.items]
            statuses |= {row.supplier.id: row.d9 for row in page.items}
            if not page.has_next:
                break
        assert paged == whole
        assert statuses == {row.supplier.id: row.d9 for row in d9.list_rows(
            stmt, today, page=1, per_page=100).items}  # fmt: skip


def test_the_list_shows_states_in_colour_and_words(auth, register):
    auth.login(Role.reviewer)
    page = auth.client.get("/suppliers/?tier=critical&insurance=missing", headers=EN)
    html = page.get_data(as_text=True)
    assert '<span class="badge bad">Expired</span>' in html
    assert '<span class="badge muted">none</span>' in html
    assert '<span class="badge bad">No contract in force</span>' in html
    assert '<span class="badge warn" title="Missing: Right to audit">6/7</span>' in html
    assert '<span class="badge warn">Expiring soon</span>' in html
    assert '<span class="badge bad">Overdue</span>' in html
    assert '<span class="badge bad">Below required</span>' in html
    assert '<span class="badge warn">1 open</span>' in html


def test_the_filter_is_summarised_and_shared_as_a_link(auth, register):
    auth.login(Role.reviewer)
    query = "tier=critical&insurance=missing&clause_missing=clause_audit_rights&owner=zz&page=1"
    html = auth.client.get(f"/suppliers/?{query}", headers=EN).get_data(as_text=True)
    assert (
        '<small class="filter-summary">Tier: Critical · Cyber insurance: Expired or missing'
        " · Contract clause missing: Right to audit</small>" in html
    )
    link = re.search(r'<input id="share-link" type="text" readonly value="([^"]+)"', html)
    assert link, html
    url = link.group(1).replace("&amp;", "&")
    assert url == (
        "http://localhost/suppliers/?tier=critical&insurance=missing"
        "&clause_missing=clause_audit_rights"
    )
    # Whoever opens the link sees the same list.
    auth.logout()
    auth.login(Role.auditor)
    shared = url.removeprefix("http://localhost/suppliers/?")
    assert _listed(auth.client, shared) == {register["lapsed"], register["bare"]}


def test_the_supplier_page_shows_the_panel(auth, register):
    auth.login(Role.reviewer)
    html = auth.client.get(f"/suppliers/{register['lapsed']}", headers=EN).get_data(as_text=True)
    panel = html[html.index('<section class="card" id="d9">') :]
    panel = panel[: panel.index("</section>")]
    assert "Direction 9 status" in panel
    assert '<span class="badge good">★</span> <small>40000000033</small>' in panel
    assert '<span class="badge bad">Expired</span>' in panel  # the insurance
    assert '<span class="badge warn">Expiring soon</span>' in panel  # the ISMS
    assert "6/7" in panel and "Missing from the contract in force: Right to audit" in panel
    # What is needed and what it holds, never a count of steps.
    assert "SCS ★4" in panel and '<span class="badge bad">★4 required (now: SA★)</span>' in panel
    assert "below the required level" not in panel
    assert '<span class="badge warn">1 open</span>' in panel
    assert "42.0" in panel and '<span class="badge bad">Overdue</span>' in panel
    html = auth.client.get(f"/suppliers/{register['full']}", headers=EN).get_data(as_text=True)
    panel = html[html.index('<section class="card" id="d9">') :]
    assert '<span class="badge good">7/7</span>' in panel
    assert '<span class="badge good">Meets</span>' in panel


def test_status_of_reads_the_loaded_supplier(register, ctx, today):
    with ctx():
        status = d9.status_of(suppliers.get_full(register["edge"]), today)
    assert status == d9.D9Status(
        today=today,
        security_action="star1",
        security_action_id="40000000055",
        isms_until=None,
        pmark_until=None,
        insurance_until=today,
        has_contract=True,
        clauses=5,
        missing_clauses=("clause_audit_rights", "clause_cyber_insurance"),
        open_findings=0,
        required="star3",
        held="star1",
        level_state="short",
    )
    assert status.short


def _bulk_d9(ctx, n: int, today: date) -> None:
    """n suppliers, every other one with an expired policy, a contract and an open finding."""
    _bulk(ctx, n)
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    with ctx() as session:
        ids = session.scalars(sa.select(Supplier.id).order_by(Supplier.id)).all()[::2]
        session.execute(
            sa.insert(Attestation),
            [
                {
                    "supplier_id": i,
                    "kind": AttestationKind.cyber_insurance,
                    "identifier": f"P-{i}",
                    "expires_on": _days(today, -5 + i % 10),
                    **stamps,
                }
                for i in ids
            ],
        )
        session.execute(
            sa.insert(Contract),
            [
                {"supplier_id": i, "title": "基本契約", "clause_security_requirements": True}
                | stamps
                for i in ids
            ],
        )
        session.execute(
            sa.insert(Finding),
            [{"supplier_id": i, "title": "x", "severity": Severity.low, **stamps} for i in ids],
        )
        session.commit()


@pytest.mark.parametrize("n", [30, 3000])
def test_the_list_with_every_column_and_filters_takes_a_fixed_number_of_queries(
    auth, ctx, count_queries, today, n, request
):
    _bulk_d9(ctx, n, today)
    auth.login(Role.procurement)
    query = "insurance=missing&clause_missing=clause_audit_rights&level=below&sort=insurance"
    with count_queries() as counter:
        response = auth.client.get(f"/suppliers/?{query}&page=1", headers=EN)
    assert response.status_code == 200
    assert "suppliers found" in response.get_data(as_text=True)
    request.config.cache.set(f"vendorrisk/d9-list-queries/{n}", counter.count)
    # session + the user's business units (scoping.py) + owner list + the groups (the group
    # filter's choices) + the figures' data version + count + one page of suppliers with owners
    # and all the columns + the SCS scheme settings
    assert counter.count == 8, counter.statements
    with count_queries() as again:  # the next page, in another order: the count is kept
        other = query.replace("sort=insurance", "sort=-name")
        auth.client.get(f"/suppliers/?{other}&page=2", headers=EN)
    assert again.count == 7 and not [s for s in again.statements if "count(*)" in s]
