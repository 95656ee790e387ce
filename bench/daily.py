"""The scheduler's daily run, timed: each daily job once, in one process, as `vendorrisk
scheduler` runs them (jobs.run_job: locked, committed once, recorded), with its seconds, its
queries and the mails it queued by kind. bench/run.py calls `run_daily` on its data set.

Run on a database that bench/data.py built (it changes it, as the day's run would):
    .venv/bin/python bench/daily.py URL [--again]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vendorrisk import clock, jobs
from vendorrisk.extensions import db
from vendorrisk.models import OutboxMessage

#: Jobs that are not part of the day's run: the outbox is delivered every minute, on its own.
NOT_DAILY = {"deliver-mail"}


def morning(hour: int = 9, minute: int = 50) -> datetime:
    """Today at this hour where the company is, in UTC: after every morning job's time."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return datetime.combine(clock.today(), clock_time(hour, minute), zone).astimezone(UTC)


def _mails() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(OutboxMessage.kind, sa.func.count()).group_by(OutboxMessage.kind)
    ).all()
    return {kind: count for kind, count in rows}


def run_daily(when: datetime) -> dict[str, Any]:
    """Each daily job once at `when` (in an app context): per job seconds, queries, outcome."""
    engine = db.engine
    before = _mails()
    done: dict[str, Any] = {}
    total = 0.0
    for job in jobs.JOBS:
        if job.id in NOT_DAILY:
            continue
        count = [0]

        def counter(*_args: Any, _count: list[int] = count) -> None:
            _count[0] += 1

        sa.event.listen(engine, "before_cursor_execute", counter)
        started = time.perf_counter()
        try:
            run = jobs.run_job(job.id, when)
        finally:
            elapsed = time.perf_counter() - started
            sa.event.remove(engine, "before_cursor_execute", counter)
        total += elapsed
        done[job.id] = {
            "seconds": round(elapsed, 3),
            "queries": count[0],
            "outcome": run.outcome,
            "summary": run.summary or run.error or "",
        }
        db.session.remove()
    after = _mails()
    mails = {k: after[k] - before.get(k, 0) for k in sorted(after) if after[k] != before.get(k, 0)}
    return {
        "seconds": round(total, 2),
        "jobs": done,
        "mails": mails,
        "mails_total": sum(mails.values()),
    }


def print_daily(label: str, result: dict[str, Any]) -> None:
    print(f"{label}: {result['seconds']:.1f} s, {result['mails_total']} mails queued")
    for job_id, job in result["jobs"].items():
        print(f"  {job_id:<24} {job['seconds'] * 1000:8.0f} ms {job['queries']:>7} queries  "
              f"{job['outcome']}: {job['summary']}")  # fmt: skip
    if result["mails"]:
        print("  mails: " + ", ".join(f"{k} {v}" for k, v in result["mails"].items()))


def main() -> None:
    from bench.data import make_app

    parser = argparse.ArgumentParser(description="the daily run, timed")
    parser.add_argument("url")
    parser.add_argument("--again", action="store_true", help="and a second run (deduplicated)")
    args = parser.parse_args()
    app = make_app(args.url)
    with app.app_context():
        when = morning()
        print_daily("daily run", run_daily(when))
        if args.again:
            print_daily("again, same day", run_daily(when))


if __name__ == "__main__":
    main()
