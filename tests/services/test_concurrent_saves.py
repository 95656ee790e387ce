"""Two people saving one row at once: each save lands or is told of the conflict; none is lost.

The races are real, with no mocks: threads, each in an app context of its own (its own session
and connection), are released together by a barrier and commit against one database —
PostgreSQL when VENDORRISK_TEST_DATABASE_URL names one, else a SQLite file (the suite's
in-memory database is one shared connection, on which nothing can race). Every test counts
what each save was told and what the database holds, and prints the counts (`pytest -s`).
VENDORRISK_RACE_ROUNDS sets the rounds of the pair races (200 unless given).
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, empty_tables
from vendorrisk import clock, config, create_app
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AuditEvent,
    Contact,
    Role,
    SelfAssessmentCycle,
    SelfAssessmentItem,
    SelfAssessmentKpi,
    Supplier,
    SupplierCategory,
    User,
)
from vendorrisk.services import files
from vendorrisk.services.assessments import lifecycle as assessments
from vendorrisk.services.assessments import portal
from vendorrisk.services.assessments.portal import Posted
from vendorrisk.services.periodic.settings import ScheduleSettings, schedule_settings
from vendorrisk.services.review import tiers
from vendorrisk.services.selfassessment import cycles, kpis
from vendorrisk.services.users import accounts

POSTGRES = os.environ.get("VENDORRISK_TEST_DATABASE_URL", "").startswith("postgresql")
ROUNDS = int(os.environ.get("VENDORRISK_RACE_ROUNDS") or 200)
TEMPLATE_ID = "csm-v2-supplier"
EN = {"Accept-Language": "en"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class RacingConfig(config.TestConfig):
    """Room in the pool for twenty clients at once, a connection each."""

    @property
    def SQLALCHEMY_ENGINE_OPTIONS(self) -> dict:  # noqa: N802 - Flask reads upper-case names
        return super().SQLALCHEMY_ENGINE_OPTIONS | {"pool_size": 25, "max_overflow": 5}


@pytest.fixture(scope="module")
def racing(tmp_path_factory) -> Flask:
    """An app whose threads each get a connection of their own, on the suite's kind of database."""
    settings = RacingConfig()
    settings.UPLOAD_DIR = str(tmp_path_factory.mktemp("uploads"))
    settings.WTF_CSRF_ENABLED = False
    if not POSTGRES:
        path = tmp_path_factory.mktemp("race") / "race.sqlite3"
        settings.SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
    app = create_app(settings)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_afterwards(app, racing):
    """Each test starts from empty tables (`app` first: on PostgreSQL it builds the schema)."""
    yield
    with racing.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)


# -- helpers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one save was told: saved, kept (nothing to change), conflict (with theirs), error."""

    kind: str
    value: Any = None
    version: int | None = None


@dataclass
class Scene:
    assessment_id: int
    contact_ids: list[int]
    tokens: list[str]


def _race(*runs: Callable[[threading.Barrier], Any]) -> list[Any]:
    """Run each in a thread of its own, released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(runs), timeout=60)
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = [pool.submit(run, barrier) for run in runs]
        return [future.result() for future in futures]


def _sent(app: Flask, contacts: int = 2) -> Scene:
    """The supplier questionnaire sent to `contacts` contacts; the tokens of their links."""
    with app.app_context():
        supplier = Supplier(
            name_ja="株式会社同時保存",
            name_en="Simultaneous Saves Co., Ltd.",
            category=SupplierCategory.outsourcing_contractor,
        )
        people = [
            Contact(supplier=supplier, name=f"担当 {n}", email=f"c{n}@example.jp", locale="ja")
            for n in range(contacts)
        ]
        db.session.add_all([supplier, *people])
        db.session.flush()
        assessment = assessments.create_assessment(
            supplier,
            catalog().get(TEMPLATE_ID),
            clock.today() + timedelta(days=30),
            "",
            [assessments.Recipient(c, "ja") for c in people],
            None,
            clock.now(),
        )
        tokens = []
        for invitation in assessment.invitations:  # the mailed links, known to the test
            tokens.append(invitation.issue_token())
        db.session.commit()
        return Scene(assessment.id, [c.id for c in people], tokens)


def _question(type_: str) -> str:
    return next(q.id for q in _template().questions if q.type == type_)


_TEMPLATES: dict[str, Any] = {}


def _template():
    if "t" not in _TEMPLATES:
        from vendorrisk.catalog import Catalog

        _TEMPLATES["t"] = Catalog.from_folder("questionnaires").get(TEMPLATE_ID)
    return _TEMPLATES["t"]


def _stored(app: Flask, assessment_id: int, qid: str) -> Outcome:
    with app.app_context():
        try:
            row = db.session.execute(
                sa.select(Answer.value, Answer.version).where(
                    Answer.assessment_id == assessment_id, Answer.question_id == qid
                )
            ).first()
            return Outcome("stored", *row) if row else Outcome("none", None, 0)
        finally:
            db.session.remove()


def _outcome(result: portal.SaveResult, assessment: Assessment, qid: str) -> Outcome:
    if result.conflicts:
        theirs = result.conflicts[0].theirs
        return Outcome("conflict", theirs.value, theirs.version)
    if result.errors:
        return Outcome("error", result.errors)
    mine = next(a for a in assessment.answers if a.question_id == qid)
    return Outcome("saved" if qid in result.saved else "kept", mine.value, mine.version)


def _portal_save(
    app: Flask, assessment_id: int, qid: str, value: str, seen: int, contact_id: int
) -> Callable[[threading.Barrier], Outcome]:
    """One contact's save as the portal makes it: the page's state loaded, then the save."""

    def run(barrier: threading.Barrier) -> Outcome:
        with app.app_context():
            try:
                assessment = db.session.get(Assessment, assessment_id)
                template = catalog().get(assessment.template_id, assessment.template_version)
                list(assessment.answers)  # what the request loaded before it saves
                barrier.wait()
                result = portal.save_answers(
                    assessment, template, {qid: Posted(value, "", seen)}, contact_id, clock.now()
                )
                outcome = _outcome(result, assessment, qid)
                db.session.commit()
                return outcome
            except Exception as exc:  # counted: a save that failed is neither landed nor told
                db.session.rollback()
                return Outcome("error", f"{type(exc).__name__}: {exc}"[:300])
            finally:
                db.session.remove()

    return run


def _save_now(app: Flask, scene: Scene, qid: str, value: str, seen: int) -> Outcome:
    return _race(_portal_save(app, scene.assessment_id, qid, value, seen, scene.contact_ids[0]))[0]


def _lost(outcomes: list[Outcome], final: Outcome) -> int:
    """Saves told "saved" whose value is not what the database holds at their version."""
    held = (final.value, final.version)
    return sum(1 for o in outcomes if o.kind == "saved" and (o.value, o.version) != held)


def _count(tally: Counter, outcomes: list[Outcome]) -> None:
    tally.update(o.kind for o in outcomes)
    for o in outcomes:
        if o.kind == "error":
            print(f"\nerror: {o.value}")


def _report(name: str, tally: Counter) -> None:
    print(f"\n{name} [{'postgresql' if POSTGRES else 'sqlite'}]: {dict(sorted(tally.items()))}")


# -- the supplier portal -------------------------------------------------------------------


def test_two_contacts_saving_one_answer_at_once_lose_nothing(racing):
    """Both saw version n and change it: one lands at n+1, the other is shown that answer."""
    scene = _sent(racing)
    qid = _question("text")
    first, second = scene.contact_ids
    assert _save_now(racing, scene, qid, "最初の回答", 0).kind == "saved"
    version, tally = 1, Counter()
    for n in range(ROUNDS):
        outcomes = _race(
            _portal_save(racing, scene.assessment_id, qid, f"A{n}", version, first),
            _portal_save(racing, scene.assessment_id, qid, f"B{n}", version, second),
        )
        final = _stored(racing, scene.assessment_id, qid)
        _count(tally, outcomes)
        tally["lost"] += _lost(outcomes, final)
        tally["told_their_value"] += sum(
            1 for o in outcomes if o.kind == "conflict" and o.value == final.value
        )
        version = final.version
    _report("two contacts, one answer", tally)
    assert tally["error"] == 0 and tally["lost"] == 0
    assert tally["saved"] == tally["conflict"] == tally["told_their_value"] == ROUNDS
    assert version == 1 + ROUNDS


@pytest.mark.parametrize("agree", [False, True], ids=["different", "same"])
def test_two_first_saves_of_an_unanswered_question_are_never_an_error(racing, agree):
    """Nobody has answered yet: one save creates the answer; the other is shown it (or, saying
    the same, has nothing left to change)."""
    scene = _sent(racing)
    qid = _question("text")
    first, second = scene.contact_ids
    tally = Counter()
    for n in range(ROUNDS // 2):
        with racing.app_context():
            db.session.execute(sa.delete(Answer).where(Answer.question_id == qid))
            db.session.commit()
            db.session.remove()
        mine, yours = f"A{n}", (f"A{n}" if agree else f"B{n}")
        outcomes = _race(
            _portal_save(racing, scene.assessment_id, qid, mine, 0, first),
            _portal_save(racing, scene.assessment_id, qid, yours, 0, second),
        )
        final = _stored(racing, scene.assessment_id, qid)
        _count(tally, outcomes)
        tally["lost"] += _lost(outcomes, final)
        tally["final_version_1"] += final.version == 1
    _report(f"two first saves ({'same' if agree else 'different'} values)", tally)
    assert tally["error"] == 0 and tally["lost"] == 0
    assert tally["saved"] == tally["final_version_1"] == ROUNDS // 2
    assert tally["kept" if agree else "conflict"] == ROUNDS // 2


def _portal_client(app: Flask, token: str) -> FlaskClient:
    client = app.test_client()
    response = client.post(f"/portal/{token}", data={"lang": "ja"})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/q/"
    return client


def test_twenty_contacts_autosaving_one_question_lose_nothing(racing):
    """20 browsers × 30 autosaves of one question through HTTP, all starting on no answer: the
    stored version counts exactly the replies that said "saved"."""
    scene = _sent(racing)
    qid = _question("text")
    clients = [_portal_client(racing, scene.tokens[n % 2]) for n in range(20)]

    def typist(n: int) -> Callable[[threading.Barrier], list[Outcome]]:
        def run(barrier: threading.Barrier) -> list[Outcome]:
            known, told = 0, []
            barrier.wait()
            for k in range(30):
                value = f"{n}-{k}"
                response = clients[n].post(
                    "/portal/q/autosave",
                    data={"question": qid, f"v-{qid}": str(known), f"a-{qid}": value},
                )
                body = response.get_json(silent=True) or {}
                if response.status_code == 200 and body.get("status") == "saved":
                    told.append(Outcome("saved", value, body["version"]))
                elif response.status_code == 409 and body.get("status") == "conflict":
                    told.append(Outcome("conflict", body["value"], body["version"]))
                else:
                    told.append(Outcome("error", response.status_code))
                    continue
                known = body["version"]  # as portal.js keeps it
            return told

        return run

    told = [o for outcomes in _race(*(typist(n) for n in range(20))) for o in outcomes]
    final = _stored(racing, scene.assessment_id, qid)
    saved = [o for o in told if o.kind == "saved"]
    tally: Counter = Counter()
    _count(tally, told)
    tally["final_version"] = final.version
    tally["lost"] = len(saved) - final.version
    with racing.app_context():
        audited = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.object_type == "answers",
                AuditEvent.assessment_id == scene.assessment_id,
            )
        )
        db.session.remove()
    tally["audited"] = audited
    _report("20 threads × 30 autosaves", tally)
    assert tally["error"] == 0 and tally["lost"] == 0
    assert len(told) == 600 and final.version == len(saved) == audited
    assert sorted(o.version for o in saved) == list(range(1, len(saved) + 1))
    assert max(saved, key=lambda o: o.version).value == final.value


def _attach(app: Flask, assessment_id: int, qid: str, contact_id: int):
    def run(barrier: threading.Barrier) -> None:
        with app.app_context():
            assessment = db.session.get(Assessment, assessment_id)
            question = catalog().get(TEMPLATE_ID).question(qid)
            stored = files.store(io.BytesIO(PDF), "証跡.pdf", app.config["UPLOAD_DIR"], 10**6)
            barrier.wait()
            portal.attach_file(assessment, question, stored, contact_id, clock.now())
            db.session.commit()
            db.session.remove()

    return run


def test_answer_saves_are_audited_as_they_always_were(racing):
    """The audit rows of a first save, a change, a refused stale save, a confirmation of a
    carried-over answer and a first file, field by field."""
    scene = _sent(racing)
    qid, file_qid = _question("text"), _question("file")
    first, second = scene.contact_ids
    aid = scene.assessment_id
    assert _save_now(racing, scene, qid, "当初", 0).kind == "saved"
    run = _portal_save(racing, aid, qid, "変更後", 1, second)
    assert _race(run)[0] == Outcome("saved", "変更後", 2)
    assert _save_now(racing, scene, qid, "古い版から", 1).kind == "conflict"
    with racing.app_context():
        db.session.execute(sa.update(Answer).values(carried_over=True))
        db.session.commit()
    assert _save_now(racing, scene, qid, "変更後", 2) == Outcome("saved", "変更後", 3)
    _race(_attach(racing, aid, file_qid, first))
    with racing.app_context():
        ids = dict(db.session.execute(sa.select(Answer.question_id, Answer.id)).all())
        raw = db.session.scalar(
            sa.select(sa.cast(Answer.value, sa.Text)).where(Answer.question_id == file_qid)
        )
        rows = db.session.execute(
            sa.select(
                AuditEvent.action,
                AuditEvent.object_id,
                AuditEvent.assessment_id,
                AuditEvent.supplier_id,
                AuditEvent.summary,
                AuditEvent.actor_type,
                AuditEvent.changes,
            )
            .where(AuditEvent.object_type == "answers")
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    created = {"carried_over": False, "comment": "", "reopened": False, "assessment_id": aid}
    created |= {"cover_id": None}  # typed, not given by a certificate (issue 17)
    assert [tuple(r) for r in rows] == [
        (
            "create",
            ids[qid],
            aid,
            None,
            "",
            "system",
            created
            | {"id": ids[qid], "question_id": qid, "value": "当初"}
            | {"version": 1, "contact_id": first},
        ),
        (
            "update",
            ids[qid],
            aid,
            None,
            "",
            "system",
            {"value": ["当初", "変更後"], "version": [1, 2], "contact_id": [first, second]},
        ),
        (
            "update",
            ids[qid],
            aid,
            None,
            "",
            "system",
            {"carried_over": [True, False], "version": [2, 3]},
        ),
        (
            "create",
            ids[file_qid],
            aid,
            None,
            "",
            "system",
            created
            | {"id": ids[file_qid], "question_id": file_qid, "value": None}
            | {"version": 1, "contact_id": first},
        ),
    ]
    assert raw == "null"  # JSON null, as the ORM has always stored a None value


# -- the self-assessment --------------------------------------------------------------------


def _cycle(app: Flask) -> int:
    with app.app_context():
        cycle = cycles.start_cycle(
            "同時保存", clock.today(), cycles.current_template(), None, clock.now()
        )
        db.session.commit()
        cycle_id = cycle.id
        db.session.remove()
        return cycle_id


def _item_save(
    app: Flask, cycle_id: int, qid: str, evidence: str, seen: int
) -> Callable[[threading.Barrier], Outcome]:
    def run(barrier: threading.Barrier) -> Outcome:
        with app.app_context():
            try:
                item = cycles.items_by_question(cycles.get_full(cycle_id))[qid]
                barrier.wait()
                try:
                    cycles.save_item(item, {"evidence": evidence}, seen, None, clock.now())
                except cycles.VersionConflict:
                    db.session.rollback()
                    theirs = db.session.get(SelfAssessmentItem, item.id)
                    return Outcome("conflict", theirs.evidence, theirs.version)
                outcome = Outcome("saved", evidence, item.version)
                db.session.commit()
                return outcome
            except Exception as exc:
                db.session.rollback()
                return Outcome("error", f"{type(exc).__name__}: {exc}"[:300])
            finally:
                db.session.remove()

    return run


def test_two_people_saving_one_self_assessment_item_at_once_lose_nothing(racing):
    cycle_id = _cycle(racing)
    qid, version, tally = "int-d9-01", 1, Counter()
    for n in range(ROUNDS // 2):
        outcomes = _race(
            _item_save(racing, cycle_id, qid, f"A{n}", version),
            _item_save(racing, cycle_id, qid, f"B{n}", version),
        )
        with racing.app_context():
            item = db.session.scalar(
                sa.select(SelfAssessmentItem).where(
                    SelfAssessmentItem.cycle_id == cycle_id, SelfAssessmentItem.question_id == qid
                )
            )
            final = Outcome("stored", item.evidence, item.version)
            db.session.remove()
        _count(tally, outcomes)
        tally["lost"] += _lost(outcomes, final)
        tally["told_their_value"] += sum(
            1 for o in outcomes if o.kind == "conflict" and o.value == final.value
        )
        version = final.version
    _report("self-assessment item", tally)
    assert tally["error"] == 0 and tally["lost"] == 0
    assert tally["saved"] == tally["conflict"] == tally["told_their_value"] == ROUNDS // 2


def _kpi_save(
    app: Flask, cycle_id: int, value: float, seen: int
) -> Callable[[threading.Barrier], Outcome]:
    def run(barrier: threading.Barrier) -> Outcome:
        with app.app_context():
            try:
                cycle = cycles.get_full(cycle_id)
                barrier.wait()
                try:
                    kpis.save_kpis(cycle, {"incidents": value}, seen)
                except cycles.VersionConflict:
                    db.session.rollback()
                    return Outcome("conflict")
                db.session.flush()
                outcome = Outcome("saved", value, cycle.kpi_version)
                db.session.commit()
                return outcome
            except Exception as exc:
                db.session.rollback()
                return Outcome("error", f"{type(exc).__name__}: {exc}"[:300])
            finally:
                db.session.remove()

    return run


def test_two_people_saving_the_kpis_at_once_lose_nothing(racing):
    cycle_id = _cycle(racing)
    version, tally = 1, Counter()
    for n in range(ROUNDS // 2):
        outcomes = _race(
            _kpi_save(racing, cycle_id, float(2 * n), version),
            _kpi_save(racing, cycle_id, float(2 * n + 1), version),
        )
        with racing.app_context():
            kpi_version = db.session.get(SelfAssessmentCycle, cycle_id).kpi_version
            value = db.session.scalar(
                sa.select(SelfAssessmentKpi.value).where(SelfAssessmentKpi.cycle_id == cycle_id)
            )
            db.session.remove()
        _count(tally, outcomes)
        tally["lost"] += _lost(outcomes, Outcome("stored", value, kpi_version))
        version = kpi_version
    _report("self-assessment KPIs", tally)
    assert tally["error"] == 0 and tally["lost"] == 0
    assert tally["saved"] == tally["conflict"] == ROUNDS // 2


# -- settings -------------------------------------------------------------------------------


def _admin_client(app: Flask, n: int, locale: str = "en") -> FlaskClient:
    with app.app_context():
        user = User(
            email=f"admin{n}@example.com",
            name=f"管理者 {n}",
            role=Role.admin,
            locale=locale,
            password_hash=accounts.hash_password(PASSWORD),
            must_change_password=False,
        )
        db.session.add(user)
        db.session.commit()
        email = user.email
        db.session.remove()
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


_RULE_FIELDS = re.compile(
    r'name="([a-z_]+__[a-z_]+|poor_score_below|good_score_from|seen)"[^>]*value="([^"]*)"'
)


def _rules_form(client: FlaskClient, field: str, value: int) -> dict[str, str]:
    """The rules form as the page shows it, with one field changed."""
    page = client.get("/admin/settings", headers=EN).get_data(as_text=True)
    rules_form = next(f for f in page.split("<form")[1:] if 'name="which" value="rules"' in f)
    data = dict(_RULE_FIELDS.findall(rules_form))
    data |= {"which": "rules", field: str(value)}
    return data | {f"template__{t}": TEMPLATE_ID for t in ("critical", "high", "medium", "low")}


def _schedule_form(client: FlaskClient, field: str, value: int) -> dict[str, str]:
    page = client.get("/admin/settings", headers=EN).get_data(as_text=True)
    seen = re.search(r'name="schedule-seen"[^>]*value="([^"]*)"', page)
    data = {
        "which": "schedule",
        "schedule-reminder_days_before": "14, 7, 1",
        "schedule-overdue_every_days": "7",
        "schedule-escalate_after_days": "7",
        "schedule-expiry_days_before": "90, 30, 7",
        "schedule-digest_weekday": "0",
    }
    with_seen = {"schedule-seen": seen.group(1)} if seen else {}
    return data | with_seen | {f"schedule-{field}": str(value)}


def _settings_post(client: FlaskClient, data: dict[str, str], field: str, value: int):
    def run(barrier: threading.Barrier) -> Outcome:
        barrier.wait()
        response = client.post("/admin/settings", data=data, headers=EN, follow_redirects=True)
        page = response.get_data(as_text=True)
        if "have been saved" in page or "has been saved" in page:
            return Outcome("saved", (field, value))
        if "Someone else saved these settings" in page:
            return Outcome("conflict", (field, value))
        return Outcome("error", (response.status_code, page[:300]))

    return run


def _stored_settings(app: Flask, which: str) -> dict[str, Any]:
    with app.app_context():
        try:
            if which == "rules":
                rules = tiers.tier_rules()
                return {f"cadence__{k}": v for k, v in rules.cadence_months.items()}
            return schedule_settings().to_dict()
        finally:
            db.session.remove()


@pytest.mark.parametrize("which", ["rules", "schedule"])
def test_two_admins_saving_the_settings_at_once_lose_nothing(racing, which):
    """Each changes a different field of the same form: the second is told, not overwritten."""
    first, second = _admin_client(racing, 1), _admin_client(racing, 2)
    form = _rules_form if which == "rules" else _schedule_form
    fields = (
        ("cadence__critical", "cadence__low")
        if which == "rules"
        else ("overdue_every_days", "escalate_after_days")
    )
    tally = Counter()
    for n in range(ROUNDS // 10):
        # Each save changes what is stored: a value equal to the stored one (after one admin
        # lost eight rounds in a row) would save nothing, and both would rightly succeed.
        current = _stored_settings(racing, which)
        mine, yours = (
            (field, next(v for v in (base + n % 9, base + (n + 1) % 9) if v != current[field]))
            for field, base in zip(fields, (2, 12), strict=True)
        )
        outcomes = _race(
            _settings_post(first, form(first, *mine), *mine),
            _settings_post(second, form(second, *yours), *yours),
        )
        stored = _stored_settings(racing, which)
        _count(tally, outcomes)
        tally["lost"] += sum(
            1 for o in outcomes if o.kind == "saved" and stored[o.value[0]] != o.value[1]
        )
    _report(f"settings ({which})", tally)
    assert tally["error"] == 0 and tally["lost"] == 0
    assert tally["saved"] == tally["conflict"] == ROUNDS // 10


def test_a_stale_settings_form_is_refused_in_the_users_language(racing):
    """Shown, then saved by someone else meanwhile: the stale form saves nothing, says why in
    Japanese and shows the other admin's values; a form without a fingerprint saves as before."""
    mine, theirs = _admin_client(racing, 1, "ja"), _admin_client(racing, 2)
    stale = _rules_form(mine, "cadence__critical", 3)
    assert stale["seen"] == "unsaved"
    assert theirs.post("/admin/settings", data=_rules_form(theirs, "cadence__critical", 4))
    response = mine.post("/admin/settings", data=stale, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "編集中に他の人がこの設定を保存したため、入力した内容は保存されませんでした" in page
    assert _stored_settings(racing, "rules")["cadence__critical"] == 4
    assert re.search(r'name="cadence__critical"[^>]*value="4"', page)
    again = _rules_form(mine, "cadence__critical", 5)
    assert mine.post("/admin/settings", data=again).status_code == 302
    legacy = {k: v for k, v in _rules_form(mine, "cadence__critical", 6).items() if k != "seen"}
    assert mine.post("/admin/settings", data=legacy).status_code == 302
    assert _stored_settings(racing, "rules")["cadence__critical"] == 6


def test_settings_saves_are_audited_as_they_always_were(racing):
    """The first save of a setting is a create with its value, a later one an update from the old
    value to the new one; a refused save leaves no trace."""
    client = _admin_client(racing, 1)
    first = _schedule_form(client, "overdue_every_days", 3)
    assert client.post("/admin/settings", data=first).status_code == 302
    second = _schedule_form(client, "overdue_every_days", 5)
    assert client.post("/admin/settings", data=second).status_code == 302
    assert client.post("/admin/settings", data=first, follow_redirects=True).status_code == 200
    with racing.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.object_type, AuditEvent.changes)
            .where(AuditEvent.object_type == "settings")
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    defaults = ScheduleSettings().to_dict()
    assert [tuple(r) for r in rows] == [
        ("create", "settings", {"key": "schedule", "value": defaults | {"overdue_every_days": 3}}),
        (
            "update",
            "settings",
            {
                "value": [
                    defaults | {"overdue_every_days": 3},
                    defaults | {"overdue_every_days": 5},
                ]
            },
        ),
    ]
