"""Benchmark: the supplier portal's 50-question page and a one-answer save, on SQLite.

Prints the number of SQL queries and the median / p95 time of 50 runs of each. Not a test.
Run: .venv/bin/python bench/portal.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vendorrisk import create_app  # noqa: E402
from vendorrisk.config import TestConfig  # noqa: E402
from vendorrisk.extensions import db  # noqa: E402
from vendorrisk.models import (  # noqa: E402
    Assessment,
    AssessmentStatus,
    Contact,
    Invitation,
    Supplier,
    SupplierCategory,
)
from vendorrisk.services.assessments import portal  # noqa: E402

RUNS = 50
QUESTIONS = 50


def template_file(folder: Path) -> None:
    """One section of 50 yes/partial/no questions, half of them already answered."""
    text = {"ja": "質問", "en": "Question"}
    questions = [
        {
            "id": f"q{i:02d}",
            "type": "yes_partial_no",
            "text": text,
            "weight": 1,
            "help": {"ja": "例：規程、記録", "en": "e.g. rules, records"},
            "mapping": {
                "directive": 9,
                "item": "D9-1",
                "csf": ["ID.SC-1"],
                "iso": ["27002:15.1.1"],
            },
        }
        for i in range(QUESTIONS)
    ]
    data = {
        "id": "bench",
        "version": 1,
        "audience": "supplier",
        "title": text,
        "description": text,
        "scoring": {"critical_cap": 40},
        "sections": [{"id": "all", "title": text, "questions": questions}],
    }
    (folder / "bench.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")


def setup(app) -> str:
    with app.app_context():
        db.create_all()
        supplier = Supplier(name_ja="ベンチ株式会社", category=SupplierCategory.other)
        contact = Contact(supplier=supplier, name="計測 太郎", email="bench@example.jp")
        assessment = Assessment(
            supplier=supplier,
            template_id="bench",
            template_version=1,
            due_on=date.today() + timedelta(days=30),
            status=AssessmentStatus.in_progress,
        )
        invitation = Invitation(
            assessment=assessment,
            contact=contact,
            email=contact.email,
            token_hash="b" * 64,
            expires_at=datetime.now(UTC) + timedelta(days=60),
        )
        db.session.add_all([supplier, contact, assessment, invitation])
        db.session.flush()
        for i in range(0, QUESTIONS, 2):
            portal.save_answers(
                assessment,
                app.extensions["vendorrisk_catalog"].get("bench"),
                {f"q{i:02d}": portal.Posted("yes", "", 0)},
                contact.id,
                datetime.now(UTC),
            )
        token = portal.open_sitting(invitation, "127.0.0.1", datetime.now(UTC))
        db.session.commit()
        return token


def measure(label: str, app, call) -> None:
    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*args):
        counter["n"] += 1

    call()  # warm-up (templates compiled, caches filled)
    sa.event.listen(engine, "before_cursor_execute", count)
    call()
    sa.event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"{label:<42} queries {counter['n']:>3}   median {statistics.median(times):6.1f} ms"
        f"   p95 {p95:6.1f} ms"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template_file(folder)
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.sqlite3'}"
        config.QUESTIONNAIRE_DIR = str(folder)
        config.UPLOAD_DIR = str(folder / "uploads")
        config.WTF_CSRF_ENABLED = False
        app = create_app(config)
        token = setup(app)
        client = app.test_client()
        with client.session_transaction() as session:
            session["portal"] = {"sitting": token}
        versions = {"v": 0}

        def open_page():
            response = client.get("/portal/q/section/all")
            assert response.status_code == 200, response.status_code

        def save_one():
            response = client.post(
                "/portal/q/autosave",
                data={
                    "question": "q01",
                    "v-q01": str(versions["v"]),
                    "a-q01": "partial" if versions["v"] % 2 else "yes",
                },
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            versions["v"] = response.json["version"]

        print(f"SQLite, {QUESTIONS} questions on one page, {RUNS} runs each")
        measure("open the questionnaire page (GET)", app, open_page)
        measure("save one answer (autosave POST)", app, save_one)


if __name__ == "__main__":
    main()
