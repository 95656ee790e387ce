"""The roll-up's kept figures: kept while nothing they count changes, computed afresh after every
kind of write that changes one, never after an answer's autosave."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.sql import visitors

from tests.conftest import POSTGRES_SUITE, empty_tables, link_in
from tests.factories import make_answer, make_assessment, make_finding
from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    AreaScore,
    Assessment,
    AssessmentStatus,
    AttestationKind,
    Decision,
    Finding,
    FindingStatus,
    Role,
    Supplier,
    SupplierCategory,
    User,
)
from vendorrisk.services.register import d9, offboarding, scs, suppliers
from vendorrisk.services.reporting import cache, history, report, rollup, trends
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.services.review import findings, review, tiers

TEMPLATE_ID = "csm-v2-supplier"


@pytest.fixture
def world(app, make_supplier, make_user, make_attestation, make_contract):
    """Three live suppliers, one with a finding, committed (the counter has moved)."""
    ciso = make_user(Role.ciso)
    reviewer = make_user(Role.reviewer)
    today = _today(app)
    a = make_supplier(tier="high", latest_score=70.0)
    b = make_supplier(tier="medium", category=SupplierCategory.cloud_service)
    c = make_supplier(tier="low")
    make_attestation(a, kind=AttestationKind.isms, level=None, expires_on=today + timedelta(200))
    make_contract(b, ends_on=today + timedelta(days=300))
    with app.app_context():
        make_finding(a, severity="medium")
        db.session.commit()
    return SimpleNamespace(today=today, ciso=ciso, reviewer=reviewer, a=a, b=b, c=c)


def _today(app) -> date:
    with app.app_context():
        return clock.today()


def _now(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=3)


def _kept(app, today: date, **filters) -> rollup.Rollup:
    with app.app_context():
        try:
            return rollup.compute(today, Scope(**filters))
        finally:
            db.session.remove()


def _fresh(app, today: date, **filters) -> rollup.Rollup:
    with app.app_context():
        try:
            return rollup.compute_uncached(today, Scope(**filters))
        finally:
            db.session.remove()


def _version(app) -> int | None:
    with app.app_context():
        try:
            return cache.version()
        finally:
            db.session.remove()


def _change(app, write: Callable[[Any], None], world) -> None:
    """Make one change through its service, committed as a request would."""
    with app.app_context():
        try:
            write(world)
            db.session.commit()
        finally:
            db.session.remove()


def _get(model, obj):
    return db.session.get(model, obj.id)


# -- the changes, one per kind of input a figure reads --------------------------------------------


def _tier_override(w) -> None:
    tiers.override_tier(
        _get(Supplier, w.c), "critical", "取扱情報が増えたため", _get(User, w.ciso), _now(w.today)
    )


def _completed_review(w) -> None:
    template = catalog().get(TEMPLATE_ID)
    assessment = make_assessment(w.c, template, status=AssessmentStatus.submitted)
    for q in template.questions:
        if (value := q.kind.sample(q)) is not None:
            make_answer(assessment, q.id, value)
    db.session.flush()
    review.complete(
        assessment, template, Decision.approved, "", _get(User, w.reviewer), _now(w.today)
    )


def _attestation_added(w) -> None:
    fields = {
        "kind": AttestationKind.isms,
        "identifier": "IS 7",
        "expires_on": w.today + timedelta(20),
    }
    suppliers.add_attestation(_get(Supplier, w.b), fields)


def _contract_added(w) -> None:
    fields = {"title": "業務委託契約", "starts_on": w.today - timedelta(days=10)}
    fields |= {"ends_on": w.today + timedelta(days=15), "clause_audit_rights": True}
    suppliers.add_contract(_get(Supplier, w.c), fields)


def _finding_raised(w) -> None:
    findings.raise_finding(_get(Supplier, w.b), {"title": "ログ保管", "severity": "critical"})


def _finding_closed(w) -> None:
    found = db.session.scalar(sa.select(Finding).where(Finding.supplier_id == w.a.id))
    findings.move_finding(found, FindingStatus.resolved, _now(w.today))


def _risk_accepted(w) -> None:
    found = db.session.scalar(sa.select(Finding).where(Finding.supplier_id == w.a.id))
    until = w.today + timedelta(days=20)
    findings.accept_risk(found, _get(User, w.ciso), "代替策あり", until, w.today)


def _offboarded(w) -> None:
    ciso, supplier = _get(User, w.ciso), _get(Supplier, w.b)
    checklist = offboarding.start(supplier, "contract_ended", "", ciso, _now(w.today))
    offboarding.approve_exception(checklist, "契約終了", ciso, _now(w.today))


def _snapshot(w) -> None:
    history.capture(w.today)


def _scheme_started(w) -> None:
    scs.save_scheme_settings(scs.SchemeSettings(started_on=w.today - timedelta(days=1)))


def _supplier_edited(w) -> None:
    suppliers.apply(_get(Supplier, w.a), {"category": SupplierCategory.group_company})


CHANGES = {
    "tier": (_tier_override, lambda r: r.tiers.rows[0].total.value),
    "completed review": (_completed_review, lambda r: (r.scores.scored.value, r.directives)),
    "attestation": (_attestation_added, lambda r: r.coverage.rows[2].count.value),
    "contract": (_contract_added, lambda r: [n.value for n in r.expiring[-1].within]),
    "finding raised": (_finding_raised, lambda r: r.findings.total.value),
    "finding closed": (_finding_closed, lambda r: r.findings.total.value),
    "risk accepted": (_risk_accepted, lambda r: [n.value for _, n in r.findings.acceptances]),
    "offboarded": (_offboarded, lambda r: r.tiers.total.value),
    "snapshot": (_snapshot, lambda r: [p.suppliers for p in r.trends]),
    "setting": (_scheme_started, lambda r: r.coverage.moot),
    "supplier": (_supplier_edited, lambda r: [n.value for n in r.tiers.totals]),
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_every_kind_of_write_a_figure_reads_shows_at_once(app, world, kind):
    write, figure = CHANGES[kind]
    before = _kept(app, world.today)
    assert _kept(app, world.today) is before  # kept
    _change(app, write, world)
    after = _kept(app, world.today)
    assert figure(after) != figure(before), kind
    assert after == _fresh(app, world.today)  # what computing it now gives, panel for panel


# -- the supplier list's count, kept with the figures ---------------------------------------------

#: For each kind of write the list can see, a filter whose count it changes (the snapshots are
#: not read by the list).
LIST_FILTERS = {
    "tier": {"tier": "critical"},
    "completed review": {"template": TEMPLATE_ID},
    "attestation": {"isms": "valid"},
    "contract": {"clause": "clause_audit_rights"},
    "finding raised": {"findings": "open"},
    "finding closed": {"findings": "open"},
    "risk accepted": {"findings": "open"},
    "offboarded": {"status": "live"},
    "setting": {"level": "not_running"},
    "supplier": {"category": SupplierCategory.group_company.value},
}


def _counts(app, today: date, **filters) -> tuple[int, int]:
    """The list's count as kept (the page's way) and counted afresh."""
    f = suppliers.SupplierFilter(**filters)
    with app.app_context():
        try:
            stmt = suppliers.search(f, today)
            kept = d9.list_rows(stmt, today, page=1, per_page=5, counted=f).total
            return kept, d9.list_rows(stmt, today, page=1, per_page=5).total
        finally:
            db.session.remove()


@pytest.mark.parametrize("kind", list(LIST_FILTERS))
def test_the_list_count_is_kept_until_a_write_it_reads(app, world, kind, count_queries):
    filters = LIST_FILTERS[kind]
    before, fresh = _counts(app, world.today, **filters)
    assert before == fresh
    with count_queries() as kept:
        f = suppliers.SupplierFilter(**filters)
        with app.app_context():
            d9.list_rows(suppliers.search(f, world.today), world.today, 1, 5, counted=f)
            db.session.remove()
    assert not [s for s in kept.statements if "count(*)" in s]  # kept: not counted again

    _change(app, CHANGES[kind][0], world)
    after, fresh = _counts(app, world.today, **filters)
    assert after == fresh != before, kind


def test_the_list_count_reads_only_tables_the_counter_follows(app, world, scheme_running):
    """Every filter of the list at once and one by one: what its count reads moves the counter
    (or, for the answers, cannot change once counted, see cache.UNTRACKED)."""
    every = {
        "q": "テスト", "category": "cloud_service", "status": "live", "owner_id": 1,
        "criticality": "high", "tier": "high", "insurance": "missing", "isms": "valid",
        "security_action": "star1", "clause_missing": "clause_audit_rights", "level": "unmet",
        "findings": "open", "overdue": True, "template": TEMPLATE_ID, "score": "any",
        "clause": "clause_audit_rights", "expiring": "isms", "group_id": world.a.id,
        "subcontractors": "personal_abroad",
    }  # fmt: skip

    def run() -> None:
        for filters in ({}, every, *({k: v} for k, v in every.items())):
            f = suppliers.SupplierFilter(**filters)
            stmt = suppliers.search(f, world.today)
            d9.list_rows(stmt, world.today, page=1, per_page=5, counted=f)

    read = _tables_read(app, run) - {"data_versions"}
    assert read <= cache.FIGURE_TABLES | set(cache.UNTRACKED), read - cache.FIGURE_TABLES
    assert {"suppliers", "attestations", "contracts", "findings", "assessments"} <= read


def test_the_list_count_is_the_same_for_every_order_and_page(app, auth, world):
    auth.login(Role.procurement, locale="en")

    def found(query: str) -> int:
        page = auth.client.get(f"/suppliers/?{query}").get_data(as_text=True)
        return int(re.search(r"(\d+) suppliers found", page).group(1))

    assert found("sort=name") == found("sort=-tier&page=2") == 3
    response = auth.client.post(
        "/suppliers/new",
        data={"name_ja": "株式会社数え直し", "category": "cloud_service", "status": "active",
              "criticality": "high", "country": "JP"},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert found("sort=name") == found("sort=-tier") == 4
    assert found("category=cloud_service") == 2


def test_the_day_is_part_of_the_key(app, world):
    """A cover expiring within 30 days on one day is beyond it a week earlier: same data."""
    _change(app, _attestation_added, world)  # an ISMS certificate expiring in 20 days
    now, earlier = world.today, world.today - timedelta(days=15)
    isms = list(AttestationKind).index(AttestationKind.isms)
    assert _kept(app, now).expiring[isms].within[0].value == 1
    assert _kept(app, earlier).expiring[isms].within[0].value == 0
    assert _kept(app, earlier) == _fresh(app, earlier)


def test_filters_are_part_of_the_key(app, world):
    everyone = _kept(app, world.today)
    cloud = _kept(app, world.today, category="cloud_service")
    assert (everyone.tiers.total.value, cloud.tiers.total.value) == (3, 1)
    assert _kept(app, world.today, category="cloud_service") is cloud


def test_a_kept_roll_up_costs_one_query(app, world, count_queries):
    _kept(app, world.today)
    with count_queries() as counter:
        _kept(app, world.today)
    assert counter.count == 1, counter.statements  # the data version


# -- what does not move the counter ---------------------------------------------------------------


@pytest.fixture
def answering(app, auth, make_supplier, make_contact, smtp_server):
    """A questionnaire sent by the route, opened by its contact's browser."""
    auth.login(Role.procurement)
    supplier = make_supplier(tier="high")
    contact = make_contact(supplier, email="sato@example.jp", is_primary=True)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/send",
        data={
            "template_id": TEMPLATE_ID,
            "due_on": (_today(app) + timedelta(days=30)).isoformat(),
            "contact_ids": [contact.id],
            f"locale-{contact.id}": "ja",
            "message": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    link = re.sub(r"^https?://[^/]+", "", link_in(smtp_server.messages[-1]))
    browser = app.test_client()
    assert browser.post(link, data={"lang": "ja"}).status_code == 302
    return browser


def _question(app):
    with app.app_context():
        template = catalog().get(TEMPLATE_ID)
    return next(q for q in template.questions if q.type == "yes_partial_no")


def test_an_answer_autosave_moves_nothing(app, answering):
    q = _question(app)
    today = _today(app)
    version, kept = _version(app), _kept(app, today)
    for n, value in enumerate(("partial", "yes")):
        response = answering.post(
            "/portal/q/autosave", data={"question": q.id, f"v-{q.id}": str(n), f"a-{q.id}": value}
        )
        assert response.status_code == 200 and response.json["status"] == "saved"
    assert _version(app) == version
    assert _kept(app, today) is kept


def test_a_write_to_no_figure_table_moves_nothing(app, world, make_contact):
    version = _version(app)
    make_contact(world.a)  # contacts: no figure reads them
    assert _version(app) == version


def test_an_unchanged_row_is_no_write(app, world):
    version = _version(app)
    _change(app, lambda w: setattr(_get(Supplier, w.a), "tier", "high"), world)
    assert _version(app) == version


# -- uncommitted writes, rollbacks, bulk statements -----------------------------------------------


def test_a_session_reads_its_own_writes_and_a_rollback_leaves_nothing_behind(app, world):
    kept = _kept(app, world.today)
    with app.app_context():
        _tier_override(world)  # flushed, not committed
        mine = rollup.compute(world.today, Scope())
        assert mine.tiers.rows[0].total.value == kept.tiers.rows[0].total.value + 1
        db.session.rollback()
        assert rollup.compute(world.today, Scope()) is kept
        db.session.remove()
    assert _kept(app, world.today) is kept


def test_a_bulk_statement_through_the_session_moves_the_counter(app, world):
    version = _version(app)
    _change(app, lambda w: db.session.execute(sa.delete(AreaScore)), world)
    assert _version(app) != version


def test_a_savepoint_leaves_the_counter_to_its_transaction(app, world):
    version = _version(app)
    with app.app_context():
        with db.session.begin_nested():
            _tier_override(world)
        assert _version(app) == version  # the savepoint released: nothing committed yet
        db.session.commit()
        db.session.remove()
    assert _version(app) != version


@pytest.mark.skipif(not POSTGRES_SUITE, reason="racing transactions need PostgreSQL")
def test_writers_committing_at_once_each_move_the_counter(app, world):
    """Each holds its own rows until both are ready to commit; the counter's row, locked last,
    is waited for an instant and never deadlocks; no move is lost."""
    version, ready = _version(app), threading.Barrier(2, timeout=10)
    failures: list[BaseException] = []

    def write(supplier) -> None:
        try:
            with app.app_context():
                db.session.get(Supplier, supplier.id).notes = "同時に更新"
                db.session.flush()
                ready.wait()
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(s,)) for s in (world.a, world.b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not failures, failures
    assert _version(app) == version + 2


def test_a_deleted_user_moves_the_counter(app, world, make_user):
    """Deleting a user sets its suppliers' owner to NULL in the database (ON DELETE SET NULL):
    the owner filter's figures change with no supplier written by the session."""
    owner = make_user(Role.procurement)
    _change(app, lambda w: setattr(_get(Supplier, w.a), "owner_id", owner.id), world)
    assert _kept(app, world.today, owner_id=owner.id).tiers.total.value == 1
    _change(app, lambda w: db.session.delete(_get(User, owner)), world)
    assert _kept(app, world.today, owner_id=owner.id).tiers.total.value == 0


def test_a_counter_made_anew_starts_where_no_cache_has_been(app, world, make_supplier):
    """Emptied and filled again (as between tests), the database's figures are not taken for
    those kept: the counter's row made anew starts at a random number."""
    assert _kept(app, world.today).tiers.total.value == 3
    first = _version(app)
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)
    assert _version(app) is None
    assert _kept(app, world.today).tiers.total.value == 0  # nothing to key on: computed
    make_supplier()
    assert _version(app) not in (None, first)
    assert _kept(app, world.today).tiers.total.value == 1


# -- the report -----------------------------------------------------------------------------------


def test_the_report_reuses_the_kept_roll_up(app, auth, world, count_queries):
    auth.login(Role.ciso)
    assert auth.client.get("/rollup").status_code == 200
    assert auth.client.get("/report?lang=ja").status_code == 200  # its top risks kept too
    with count_queries() as counter:
        assert auth.client.get("/report?lang=ja").status_code == 200
    # the session and user, the data version twice, the owners' names, the self-assessment
    assert counter.count <= 8, counter.statements
    with app.app_context():
        facts = report.build(world.today, "ja")
        assert facts.rollup is rollup.compute(world.today, Scope())
        db.session.remove()


def test_the_reports_finding_owner_is_read_afresh(app, world, make_user):
    owner = make_user(Role.reviewer, name="旧姓 花子")
    _change(app, lambda w: _finding_raised(w), world)
    with app.app_context():
        found = db.session.scalar(sa.select(Finding).where(Finding.severity == "critical"))
        found.owner_id = owner.id
        db.session.commit()
        assert report.top_risks(world.today).findings[0].owner == "旧姓 花子"
        db.session.get(User, owner.id).name = "新姓 花子"  # users: no figure table
        db.session.commit()
        assert report.top_risks(world.today).findings[0].owner == "新姓 花子"
        db.session.remove()


# -- the tables the counter follows are the tables the figures read -------------------------------


def _tables_read(app, run: Callable[[], Any]) -> set[str]:
    found: set[str] = set()

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        compiled = getattr(context, "compiled", None)
        if compiled is not None and compiled.statement is not None:
            for element in visitors.iterate(compiled.statement):
                if isinstance(element, sa.Table):
                    found.add(element.name)

    with app.app_context():
        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            run()
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
            db.session.remove()
    return found


def test_the_counter_follows_every_table_the_figures_read(app, world, scheme_running):
    """Every code path: each filter, two questionnaires (the editions' grouping), the scheme
    running, a snapshot, and the report's top risks."""
    _change(app, _completed_review, world)
    _change(app, _snapshot, world)
    with app.app_context():
        make_assessment(
            world.b,
            template_id="other-template",
            status=AssessmentStatus.completed,
            completed_at=_now(world.today),
        )
        db.session.commit()
    scope = Scope(category="cloud_service", tier="high", owner_id=1, template=TEMPLATE_ID)
    group = Scope(group_id=world.a.id)

    def run() -> None:
        for filters in (Scope(), scope, group):
            rollup.compute_uncached(world.today, filters)
        report._top_risks_uncached(world.today, report.TOP)

    read = _tables_read(app, run) - {"data_versions"}  # the counters themselves
    assert read == cache.FIGURE_TABLES | set(cache.UNTRACKED)
    assert "users" not in read  # the report's owners are read afresh, outside the kept figures
    for filters in (Scope(), scope):  # without a group: the snapshots alone
        only = _tables_read(app, lambda f=filters: trends.trends_uncached(f))
        assert only == cache.COUNTERS[cache.SNAPSHOTS]


def test_the_trends_are_kept_until_a_snapshot_is_written(app, world):
    _change(app, _snapshot, world)
    kept = _kept(app, world.today)
    _change(app, _tier_override, world)
    again = _kept(app, world.today)
    assert again is not kept and again.trends is kept.trends  # the roll-up computed, not these
    _change(app, _snapshot, world)
    assert _kept(app, world.today).trends is not kept.trends
    assert _kept(app, world.today) == _fresh(app, world.today)


def test_answers_of_a_completed_assessment_cannot_change(app, answering):
    """UNTRACKED's promise: the portal writes an answer only while its assessment is open."""
    q = _question(app)
    with app.app_context():
        db.session.execute(sa.update(Assessment).values(status=AssessmentStatus.completed))
        db.session.commit()
        db.session.remove()
    version = _version(app)
    response = answering.post(
        "/portal/q/autosave", data={"question": q.id, f"v-{q.id}": "0", f"a-{q.id}": "no"}
    )
    assert response.status_code in (409, 410)  # frozen, or its link closed with it
    assert _version(app) == version
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0
        db.session.remove()


def test_the_kept_results_are_bounded(app):
    kept = cache.Kept(3)
    for n in range(5):
        kept.put(n, str(n))
    assert len(kept) == 3 and kept.get(0) is not kept.get(4) == "4"
