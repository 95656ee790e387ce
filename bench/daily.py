"""Benchmark: the scheduler's daily run over 10,000 suppliers (SQLite file, or PostgreSQL).

Builds a register as a company has it: 10,000 suppliers, each owned by one of 40 procurement
users, a CISO and an admin to escalate to and digest for; a contact, an attestation and a
contract each, an open assessment for a third of them, an open finding for a fifth. Then times
each daily job for a day on which about 1% of them have something due (re-checks, reminders and
escalations, expiring attestations and contracts, findings coming due or overdue), and counts
its queries and the mails it queues, for the supplier contacts and for the owners and the CISO.
Prints figures; it is not a test. Run: .venv/bin/python bench/daily.py [N]
(VENDORRISK_BENCH_DATABASE_URL=postgresql+psycopg://... to use PostgreSQL; ids are left to the
database, so its sequences advance as in use.)
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
    Contract,
    Finding,
    Invitation,
    OutboxMessage,
    Supplier,
    User,
)

#: Procurement users who own suppliers (the owners told of reminders, expiries and findings).
OWNERS = 40

TODAY = date(2027, 3, 1)


def _users(now: datetime) -> list[int]:
    """The owners, a CISO and an admin; the owners' ids."""
    rows = [
        {"email": f"owner{i}@example.co.jp", "name": f"調達 {i:02d}", "role": "procurement"}
        for i in range(OWNERS)
    ]
    rows += [
        {"email": "ciso@example.co.jp", "name": "佐藤 CISO", "role": "ciso"},
        {"email": "admin@example.co.jp", "name": "管理者", "role": "admin"},
    ]
    db.session.execute(
        sa.insert(User),
        [
            r
            | {"password_hash": "x", "locale": "ja", "active": True,
               "must_change_password": False, "created_at": now, "updated_at": now}
            for r in rows
        ],
    )  # fmt: skip
    owners = db.session.scalars(
        sa.select(User.id).where(User.role == "procurement").order_by(User.id)
    ).all()
    return list(owners)


def _ids(model, n: int) -> list[int]:
    """The ids the database gave the last `n` rows of `model`, oldest first."""
    return list(
        reversed(db.session.scalars(sa.select(model.id).order_by(model.id.desc()).limit(n)).all())
    )


def populate(n: int) -> None:
    now = datetime.now(UTC)
    owners = _users(now)
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
                "name_ja": f"取引先{i:05d}",
                "name_en": f"Supplier {i:05d}",
                "owner_id": owners[i % len(owners)],
                "next_review_on": TODAY + timedelta(days=(i % 400) - 4),
            }
            for i in range(n)
        ],
    )
    suppliers = _ids(Supplier, n)
    db.session.execute(
        sa.insert(Contact),
        [
            {
                "supplier_id": suppliers[i],
                "name": "担当",
                "email": f"c{i}@example.jp",
                "phone": "",
                "department": "",
                "job_title": "",
                "locale": "ja" if i % 10 else "en",
                "is_primary": True,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ],
    )
    contacts = _ids(Contact, n)
    db.session.execute(
        sa.insert(Attestation),
        [
            {
                "supplier_id": suppliers[i],
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
    db.session.execute(
        sa.insert(Contract),
        [
            {
                "supplier_id": suppliers[i],
                "title": "業務委託基本契約",
                "reference": f"K-{i}",
                "starts_on": TODAY - timedelta(days=365),
                "ends_on": TODAY + timedelta(days=(i * 7) % 900 - 30),
                "clause_security_requirements": True,
                "notes": "",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ],
    )
    db.session.execute(
        sa.insert(Finding),
        [
            {
                "supplier_id": suppliers[i],
                "title": "アクセスログの保管期間が不足",
                "severity": "medium",
                "required_action": "1年以上保管してください。",
                "due_on": TODAY + timedelta(days=(i % 120) - 60),
                "owner_id": owners[i % len(owners)],
                "status": "open",
                "visible_to_supplier": True,
                "supplier_plan": "",
                "accepted_reason": "",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(0, n, 5)
        ],
    )
    open_ones = list(range(0, n, 3))
    db.session.execute(
        sa.insert(Assessment),
        [
            {
                "supplier_id": suppliers[i],
                "template_id": "csm-v2-supplier",
                "template_version": 1,
                "status": "sent",
                "due_on": TODAY + timedelta(days=i % 60 - 20),
                "sent_at": now - timedelta(days=40),
                "message": "",
                "review_note": "",
                "created_at": now,
                "updated_at": now,
            }
            for i in open_ones
        ],
    )
    assessments = _ids(Assessment, len(open_ones))
    db.session.execute(
        sa.insert(Invitation),
        [
            {
                "assessment_id": assessments[k],
                "contact_id": contacts[i],
                "email": f"c{i}@example.jp",
                "locale": "ja" if i % 10 else "en",
                "token_hash": f"{i:064x}",
                "created_at": now,
                "expires_at": datetime.combine(TODAY, datetime.min.time(), UTC)
                + timedelta(days=i % 60),
                "use_count": 0,
            }
            for k, i in enumerate(open_ones)
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
    mails = db.session.execute(
        sa.select(OutboxMessage.kind, sa.func.count()).group_by(OutboxMessage.kind)
    ).all()
    print(f"  daily run: {total:.1f} s in all, {sum(c for _, c in mails)} mails in the outbox")
    print("  " + ", ".join(f"{kind} {count}" for kind, count in sorted(mails)))


if __name__ == "__main__":
    main()
