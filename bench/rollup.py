"""Benchmark: the CISO's roll-up page over 10,000 suppliers (SQLite file, or PostgreSQL).

Builds N suppliers (10,000 by default) with three completed assessment cycles each of the
csm-v2-supplier questionnaire (about 50 answers each: some 1.5 million answers), their stored
area scores, attestations, contracts, findings, an open assessment for a third of them and four
quarters of roll-up snapshots, with bulk core inserts. Then it times the page through the test
client, logged in as a CISO (median and p95 of RUNS runs, with and without filters), against
the same SQL statements run bare on a raw connection. Prints figures; it is not a test.

Run: .venv/bin/python bench/rollup.py [N]
(VENDORRISK_BENCH_DATABASE_URL=postgresql+psycopg://... to use PostgreSQL; that database is
emptied first.)
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vendorrisk import clock, create_app
from vendorrisk.config import TestConfig  # noqa: E402
from vendorrisk.extensions import db  # noqa: E402
from vendorrisk.models import (  # noqa: E402
    AREA_COLUMNS,
    CONTRACT_CLAUSES,
    Answer,
    AreaScore,
    Assessment,
    Attestation,
    Contract,
    Finding,
    Role,
    RollupSnapshot,
    Supplier,
    User,
)
from vendorrisk.scoring import scores as scoring  # noqa: E402
from vendorrisk.services.reporting import history
from vendorrisk.services.users import accounts  # noqa: E402

RUNS = 20
PATTERNS = 40
CYCLES = 3
BATCH = 20_000
PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throwaway database
CATEGORIES = ("group_company", "business_partner", "outsourcing_contractor", "cloud_service")
TIERS = ("critical", "high", "medium", "medium", "low", "low")
FILTERED = "/rollup?tier=high&category=outsourcing_contractor"


def _chunks(rows, size=BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(model, rows) -> None:
    for chunk in _chunks(rows):
        db.session.execute(sa.insert(model), chunk)


def _patterns(template, rng: random.Random):
    """PATTERNS answer sets of the scored questions, each with its score and area scores."""
    asked = [q for q in template.questions if q.type != "file"][:50]
    out = []
    for _ in range(PATTERNS):
        answers = {}
        for q in asked:
            if q.type == "yes_partial_no":
                answers[q.id] = rng.choices(("yes", "partial", "no", "na"), (60, 20, 15, 5))[0]
            elif q.type == "yes_no":
                answers[q.id] = rng.choice(("yes", "no"))
            elif q.type == "multi_choice":
                answers[q.id] = [rng.choice(q.choices).value]
            elif q.choices:
                answers[q.id] = rng.choice(q.choices).value
            else:
                answers[q.id] = {"number": "120", "date": "2027-03-31"}.get(q.type, "回答")
        result = scoring.score(template, answers)
        out.append((answers, result.overall, scoring.area_scores(template, result)))
    return out


def populate(n: int, today: date) -> None:
    from vendorrisk.catalog import catalog

    rng = random.Random(2026)  # noqa: S311 - made-up answers, not a secret
    template = catalog().get("csm-v2-supplier")
    patterns = _patterns(template, rng)
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    owners = [
        User(email=f"owner{i}@example.com", name=f"担当{i}", role=Role.procurement)
        for i in range(20)
    ]
    ciso = User(email="ciso@example.com", name="CISO", role=Role.ciso, locale="ja")
    for user in [*owners, ciso]:
        user.password_hash = accounts.hash_password(PASSWORD)
        user.must_change_password = False
    db.session.add_all([*owners, ciso])
    db.session.flush()
    latest = {i: patterns[(i * CYCLES + CYCLES - 1) % PATTERNS] for i in range(1, n + 1)}
    _insert(
        Supplier,
        [
            {
                "id": i,
                "name_ja": f"取引先{i:05d}",
                "name_en": f"Supplier {i:05d}",
                "category": CATEGORIES[i % len(CATEGORIES)],
                "status": "offboarded" if i % 50 == 0 else "active",
                "criticality": "medium",
                "owner_id": owners[i % len(owners)].id,
                "shares_confidential_info": i % 3 == 0,
                "tier": TIERS[i % len(TIERS)],
                "tier_source": "rule",
                "latest_score": latest[i][1],
                "latest_score_on": today - timedelta(days=i % 300),
                "next_review_on": today + timedelta(days=i % 400 - 30),
                **stamps,
            }
            for i in range(1, n + 1)
        ],
    )
    assessments, answers, areas = [], [], []
    for i in range(1, n + 1):
        for cycle in range(CYCLES):
            aid = (i - 1) * (CYCLES + 1) + cycle + 1
            values, overall, area = patterns[(i * CYCLES + cycle) % PATTERNS]
            done = now - timedelta(days=365 * (CYCLES - cycle) - i % 200)
            assessments.append(
                {
                    "id": aid,
                    "supplier_id": i,
                    "template_id": template.id,
                    "template_version": template.version,
                    "status": "completed",
                    "due_on": done.date(),
                    "completed_at": done,
                    "score": overall,
                    "message": "",
                    "review_note": "",
                    **stamps,
                }
            )
            answers += [
                {
                    "assessment_id": aid,
                    "question_id": qid,
                    "value": value,
                    "comment": "",
                    "version": 1,
                    "updated_at": now,
                }
                for qid, value in values.items()
            ]
            areas.append(
                dict.fromkeys(AREA_COLUMNS.values())
                | {"assessment_id": aid, "supplier_id": i}
                | AreaScore.values_of(area)
            )
        if i % 3 == 0:  # an open assessment, a third of them overdue
            assessments.append(
                {
                    "id": i * (CYCLES + 1),
                    "supplier_id": i,
                    "template_id": template.id,
                    "template_version": template.version,
                    "status": "sent",
                    "due_on": today + timedelta(days=i % 90 - 30),
                    "message": "",
                    "review_note": "",
                    **stamps,
                }
            )
        if len(answers) > 200_000:
            _insert(Assessment, assessments)
            _insert(Answer, answers)
            _insert(AreaScore, areas)
            assessments, answers, areas = [], [], []
    _insert(Assessment, assessments)
    _insert(Answer, answers)
    _insert(AreaScore, areas)
    attestations = []
    for i in range(1, n + 1):
        if i % 2 == 0:
            level = "star2" if i % 4 == 0 else "star1"
            attestations.append(
                {"supplier_id": i, "kind": "security_action", "level": level, **stamps}
            )
        if i % 3 != 0:
            until = today + timedelta(days=i % 500 - 60)
            attestations.append({"supplier_id": i, "kind": "isms", "expires_on": until, **stamps})
        if i % 4 != 1:
            until = today + timedelta(days=i % 400 - 40)
            attestations.append(
                {"supplier_id": i, "kind": "cyber_insurance", "expires_on": until, **stamps}
            )
    _insert(
        Attestation,
        [
            {"identifier": "X", "issuer": "", "scope": "", "name": "", "notes": ""} | a
            for a in attestations
        ],
    )
    _insert(
        Contract,
        [
            {
                "supplier_id": i,
                "title": "業務委託基本契約",
                "reference": "",
                "notes": "",
                "starts_on": today - timedelta(days=400),
                "ends_on": None if i % 5 else today + timedelta(days=i % 120),
                **{c: (i >> bit) % 2 == 0 for bit, c in enumerate(CONTRACT_CLAUSES)},
                **stamps,
            }
            for i in range(1, n + 1)
        ],
    )
    severities = ("low", "medium", "high", "critical")
    _insert(
        Finding,
        [
            {
                "supplier_id": i,
                "title": "指摘",
                "severity": severities[i % 4],
                "status": "open" if i % 3 else "in_progress",
                "required_action": "",
                "supplier_plan": "",
                "accepted_reason": "",
                "visible_to_supplier": True,
                "created_at": now - timedelta(days=i % 200),
                "updated_at": now,
            }
            for i in range(1, n + 1, 2)
        ],
    )
    db.session.commit()
    history.capture(today)
    period = history.quarter_start(today)
    for back in range(1, 4):
        period = history.previous_quarter(period)
        columns = [c.name for c in RollupSnapshot.__table__.columns if c.name != "id"]
        source = RollupSnapshot.__table__
        shifted = [
            sa.literal(period, sa.Date).label("period")
            if c == "period"
            else (source.c.score - 2 * back).label("score")
            if c == "score"
            else source.c[c]
            for c in columns
        ]
        db.session.execute(
            sa.insert(RollupSnapshot).from_select(
                columns,
                sa.select(*shifted).where(source.c.period == history.quarter_start(today)),
            )
        )
    db.session.commit()


def _timed(call) -> list[float]:
    call()  # warm-up: templates compiled, caches filled
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def _report(label: str, times: list[float], queries: int | None = None) -> float:
    median = statistics.median(times)
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    counted = f"queries {queries:>3}   " if queries is not None else " " * 14
    print(f"  {label:<34} {counted}median {median:7.1f} ms   p95 {p95:7.1f} ms")
    return median


def measure(app, client, url: str) -> None:
    with app.app_context():
        engine = db.engine
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    def page():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    page()
    sa.event.listen(engine, "before_cursor_execute", record)
    page()
    sa.event.remove(engine, "before_cursor_execute", record)

    def bare():
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            cursor.close()
        finally:
            raw.close()

    print(url)
    full = _report("page through the test client", _timed(page), len(statements))
    sql = _report("its SQL statements, bare", _timed(bare))
    print(f"  ratio page / bare SQL: {full / sql:.2f}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "VENDORRISK_BENCH_DATABASE_URL", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        )
        config.UPLOAD_DIR = str(Path(tmp) / "uploads")
        config.WTF_CSRF_ENABLED = False
        app = create_app(config)
        app.instance_path = tmp
        with app.app_context():
            db.drop_all()
            db.create_all()
            today = clock.today()
            started = time.perf_counter()
            populate(n, today)
            counts = {
                model.__tablename__: db.session.scalar(
                    sa.select(sa.func.count()).select_from(model)
                )
                for model in (Supplier, Assessment, Answer, AreaScore, RollupSnapshot)
            }
            print(
                f"built in {time.perf_counter() - started:.0f} s ({db.engine.dialect.name}): "
                + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            )
            # Planner statistics and (PostgreSQL) the visibility map, as a live database has.
            vacuum = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(vacuum))
            db.session.remove()
        client = app.test_client()
        response = client.post(
            "/auth/login", data={"email": "ciso@example.com", "password": PASSWORD}
        )
        assert response.status_code == 302, response.status_code
        print(f"{RUNS} runs each, logged in as a CISO")
        for url in ("/rollup", FILTERED, "/rollup?template=csm-v2-supplier"):
            measure(app, client, url)
        with app.app_context():
            db.drop_all()


if __name__ == "__main__":
    main()
