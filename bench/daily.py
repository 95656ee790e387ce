"""Benchmark: the scheduler's daily run over 10,000 suppliers (SQLite file, or PostgreSQL).

Builds 10,000 suppliers with a contact, an attestation and an open assessment each, then times
each daily job for a day on which about 1% of them have something due, and counts its queries.
Prints figures; it is not a test. Run: .venv/bin/python bench/daily.py [N]
(VENDORRISK_BENCH_DATABASE_URL=postgresql+psycopg://... to use PostgreSQL.)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vendorrisk import create_app, jobs  # noqa: E402
from vendorrisk.config import TestConfig  # noqa: E402
from vendorrisk.extensions import db  # noqa: E402
from vendorrisk.models import (  # noqa: E402
    Assessment,
    Attestation,
    Contact,
    Invitation,
    OutboxMessage,
    Supplier,
)

TODAY = date(2027, 3, 1)


def populate(n: int) -> None:
    now = datetime.now(UTC)
    base = {
        "category": "outsourcing_contractor",
        "status": "active",
        "criticality": "medium",
        "services": "",
        "country": "JP",
        "website": "",
        "notes": "",
        "shares_personal_info": False,
        "shares_confidential_info": False,
        "has_network_access": False,
        "has_admin_access": False,
        "max_outage": "weeks",
        "replaceability": "moderate",
        "tier": "medium",
        "tier_source": "rule",
        "created_at": now,
        "updated_at": now,
    }
    db.session.execute(
        sa.insert(Supplier),
        [
            base
            | {
                "id": i + 1,
                "name_ja": f"取引先{i:05d}",
                "name_en": f"Supplier {i:05d}",
                "next_review_on": TODAY + timedelta(days=(i % 400) - 4),
            }
            for i in range(n)
        ],
    )
    db.session.execute(
        sa.insert(Contact),
        [
            {
                "id": i + 1,
                "supplier_id": i + 1,
                "name": "担当",
                "email": f"c{i}@example.jp",
                "phone": "",
                "department": "",
                "job_title": "",
                "locale": "ja",
                "is_primary": True,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ],
    )
    db.session.execute(
        sa.insert(Attestation),
        [
            {
                "supplier_id": i + 1,
                "kind": "isms",
                "identifier": f"IS {i}",
                "issuer": "JQA",
                "scope": "",
                "name": "",
                "notes": "",
                "expires_on": TODAY + timedelta(days=i % 730),
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ],
    )
    open_ones = range(0, n, 3)
    db.session.execute(
        sa.insert(Assessment),
        [
            {
                "id": i + 1,
                "supplier_id": i + 1,
                "template_id": "csm-v2-supplier",
                "template_version": 1,
                "status": "sent",
                "due_on": TODAY + timedelta(days=i % 60 - 20),
                "message": "",
                "review_note": "",
                "created_at": now,
                "updated_at": now,
            }
            for i in open_ones
        ],
    )
    db.session.execute(
        sa.insert(Invitation),
        [
            {
                "assessment_id": i + 1,
                "contact_id": i + 1,
                "email": f"c{i}@example.jp",
                "locale": "ja",
                "token_hash": f"{i:064x}",
                "created_at": now,
                "expires_at": datetime.combine(TODAY, datetime.min.time(), UTC)
                + timedelta(days=i % 60),
                "use_count": 0,
            }
            for i in open_ones
        ],
    )
    db.session.commit()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "VENDORRISK_BENCH_DATABASE_URL", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        )
        config.UPLOAD_DIR = str(Path(tmp) / "uploads")
        app = create_app(config)
        app.instance_path = tmp
        with app.app_context():
            db.drop_all()
            db.create_all()
            started = time.perf_counter()
            populate(n)
            print(
                f"{n} suppliers built in {time.perf_counter() - started:.1f} s "
                f"({db.engine.dialect.name})"
            )
            engine = db.engine
            when = datetime.combine(TODAY, datetime.min.time(), ZoneInfo("Asia/Tokyo")).replace(
                hour=9
            )
            for label in ("first run of the day", "second run, same day (all deduplicated)"):
                print(label)
                run_all(engine, when)
            db.drop_all()


def run_all(engine, when) -> None:
    """Each daily job once, with its time and its number of queries."""
    total = 0.0
    for job in jobs.JOBS:
        if job.id == "deliver-mail":
            continue
        count = {"n": 0}

        def counter(*args, _count=count):
            _count["n"] += 1

        sa.event.listen(engine, "before_cursor_execute", counter)
        started = time.perf_counter()
        run = jobs.run_job(job.id, when)
        elapsed = time.perf_counter() - started
        sa.event.remove(engine, "before_cursor_execute", counter)
        total += elapsed
        print(
            f"  {job.id:<14} {elapsed * 1000:8.0f} ms  {count['n']:>6} queries  "
            f"{run.outcome}: {run.summary}"
        )
    mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    print(f"  daily run: {total:.1f} s in all, {mails} mails in the outbox")


if __name__ == "__main__":
    main()
