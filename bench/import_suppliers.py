"""Benchmark: importing 10,000 suppliers with a contact each, from CSV and from XLSX.

For each format, on an empty register: the first run creates every supplier and contact; the
second run imports the same rows with the services and the telephone changed, so that every
supplier and every contact is an update. Prints the time of each step (read, check and match,
write and commit) and the number of queries. It is not a test.
Run: .venv/bin/python bench/import_suppliers.py [N]
(VENDORRISK_BENCH_DATABASE_URL=postgresql+psycopg://... to use PostgreSQL.)
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from flask_babel import force_locale

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vendorrisk import create_app  # noqa: E402
from vendorrisk.config import TestConfig  # noqa: E402
from vendorrisk.extensions import db  # noqa: E402
from vendorrisk.models import Contact, Role, Supplier, User  # noqa: E402
from vendorrisk.services.register.imports import columns, files, planning, writing  # noqa: E402
from vendorrisk.validation import corporate_number_check_digit  # noqa: E402

HEADER = [
    "name_ja", "name_en", "corporate_number", "category", "status", "criticality", "owner_email",
    "services", "country", "shares_personal_info", "has_network_access", "max_outage",
    "next_review_on", "contact_name", "contact_email", "contact_phone", "contact_locale",
    "contact_is_primary",
]  # fmt: skip
CATEGORIES = ("委託先", "business_partner", "系列企業", "cloud_service", "その他")


def rows(n: int, services: str, phone: str) -> list[list[str]]:
    out = [HEADER]
    for i in range(n):
        base = f"{i + 1:012d}"
        out.append(
            [
                f"株式会社ベンチ{i:05d}", f"Bench {i:05d} Co., Ltd.",
                f"{corporate_number_check_digit(base)}{base}", CATEGORIES[i % 5], "取引中",
                ("低", "medium", "高", "critical")[i % 4], "owner@example.com", services, "JP",
                "はい" if i % 3 == 0 else "いいえ", "yes" if i % 7 == 0 else "no",
                ("hours", "days", "weeks", "months")[i % 4], f"2027/{i % 12 + 1}/15",
                f"担当 {i:05d}", f"contact{i}@bench{i}.example.jp", phone, "ja", "はい",
            ]
        )  # fmt: skip
    return out


def as_csv(table: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(table: list[list[str]]) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    for row in table:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def run(engine, data: bytes, name: str, label: str) -> None:
    queries = {"n": 0}

    def count(*args) -> None:
        queries["n"] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    t0 = time.perf_counter()
    table = files.read_table(data, name, 100 * 1024 * 1024, max_rows=50_000)
    t1 = time.perf_counter()
    plan = planning.plan(table, columns.guess_mapping(table.headers))
    assert not plan.errors, plan.errors[:3]
    t2 = time.perf_counter()
    summary = writing.apply(plan, datetime.now(UTC), name)
    db.session.commit()
    t3 = time.perf_counter()
    sa.event.remove(engine, "before_cursor_execute", count)
    db.session.remove()
    print(
        f"  {label:<28} {t3 - t0:6.2f} s  (read {t1 - t0:5.2f}, check {t2 - t1:5.2f}, "
        f"write {t3 - t2:5.2f})  {queries['n']:>3} queries  "
        f"suppliers +{summary.suppliers_created} ~{summary.suppliers_updated}  "
        f"contacts +{summary.contacts_created} ~{summary.contacts_updated}"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    first, second = rows(n, "運用保守", "03-0000-0000"), rows(n, "運用保守・開発", "03-1111-1111")
    uploads = {
        "csv": (as_csv(first), as_csv(second)),
        "xlsx": (as_xlsx(first), as_xlsx(second)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "VENDORRISK_BENCH_DATABASE_URL", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        )
        config.UPLOAD_DIR = str(Path(tmp) / "uploads")
        app = create_app(config)
        with app.app_context(), force_locale("en"):
            engine = db.engine
            print(f"{n} rows, {db.engine.dialect.name}")
            for fmt, (created, updated) in uploads.items():
                db.drop_all()
                db.create_all()
                db.session.add(
                    User(email="owner@example.com", role=Role.procurement, password_hash="!")  # noqa: S106
                )
                db.session.commit()
                print(f"{fmt} ({len(created) / 1024 / 1024:.1f} MB)")
                run(engine, created, f"bench.{fmt}", "first run (all new)")
                run(engine, updated, f"bench.{fmt}", "second run (all updates)")
                counts = [
                    db.session.scalar(sa.select(sa.func.count()).select_from(model))
                    for model in (Supplier, Contact)
                ]
                print(f"  register: {counts[0]} suppliers, {counts[1]} contacts")
                db.session.remove()  # PostgreSQL: no open transaction may hold a table dropped next
            db.drop_all()


if __name__ == "__main__":
    main()
