"""Scheduled jobs: one declarative table with stable ids; each run is locked, committed once
and recorded. Jobs are thin: the work is in services.periodic (one module a job) and mail."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from vendorrisk import clock
from vendorrisk.extensions import db, release_session
from vendorrisk.models import JobRun
from vendorrisk.services import audit

log = logging.getLogger("vendorrisk.jobs")


@dataclass
class JobResult:
    """What one run did: `done` acted on, `skipped` due but not possible, and why."""

    done: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = f"{self.done} done, {self.skipped} skipped"
        if self.notes:
            more = f" (+{len(self.notes) - 1} more)" if len(self.notes) > 1 else ""
            line += f"; {self.notes[0]}{more}"
        return line

    def skip(self, note: str) -> None:
        self.skipped += 1
        self.notes.append(note)


@dataclass(frozen=True)
class Job:
    id: str
    #: The work, given `now`: "module:function", imported when the job runs (the jobs' modules
    #: import JobResult from here, so this table names them rather than importing them).
    target: str | Callable[[datetime], JobResult]
    #: APScheduler trigger arguments, in the configured time zone.
    trigger: dict[str, Any]
    description: Any  # a lazily translated string

    def run(self, now: datetime) -> JobResult:
        work = ref_to_obj(self.target) if isinstance(self.target, str) else self.target
        return work(now)

    def make_trigger(self, timezone: str):
        args = dict(self.trigger)
        kind = args.pop("type")
        cls = CronTrigger if kind == "cron" else IntervalTrigger
        return cls(timezone=timezone, **args)


#: Every periodic job, with a stable id (used in the database, the CLI and the admin page).
JOBS: tuple[Job, ...] = (
    Job(
        "deliver-mail",
        "vendorrisk.services.periodic.deliver_mail:deliver_mail",
        {"type": "interval", "minutes": 1},
        _l("Deliver the mail outbox, retrying what failed for a while"),
    ),
    Job(
        "deliver-webhooks",
        "vendorrisk.services.periodic.deliver_webhooks:deliver_webhooks",
        {"type": "interval", "minutes": 1},
        _l("Send the queued webhook messages, retrying what failed for a while"),
    ),
    Job(
        "expire-links",
        "vendorrisk.services.periodic.expire_links:expire_links",
        {"type": "cron", "hour": 0, "minute": 10},
        _l("Mark assessments whose every link has expired"),
    ),
    Job(
        "recheck",
        "vendorrisk.services.periodic.recheck:recheck",
        {"type": "cron", "hour": 6, "minute": 0},
        _l("Send the periodic re-check to suppliers that are due"),
    ),
    Job(
        "reminders",
        "vendorrisk.services.periodic.reminders:reminders",
        {"type": "cron", "hour": 9, "minute": 0},
        _l("Remind suppliers before, on and after the due date; escalate overdue ones"),
    ),
    Job(
        "finding-reminders",
        "vendorrisk.services.periodic.finding_reminders:finding_reminders",
        {"type": "cron", "hour": 9, "minute": 15},
        _l("Remind suppliers of open findings before and after their remediation due date"),
    ),
    Job(
        "expiry-alerts",
        "vendorrisk.services.periodic.expiry_alerts:expiry_alerts",
        {"type": "cron", "hour": 9, "minute": 30},
        _l("Alert on expiring certifications, insurance, contracts and risk acceptances"),
    ),
    Job(
        "offboarding-reminders",
        "vendorrisk.services.periodic.offboarding_reminders:offboarding_reminders",
        {"type": "cron", "hour": 9, "minute": 45},
        _l("Remind owners of the offboarding steps still open"),
    ),
    Job(
        "rollup-snapshot",
        "vendorrisk.services.reporting.history:snapshot",
        {"type": "cron", "hour": 2, "minute": 0},
        _l("Capture this quarter's roll-up figures for the trends"),
    ),
    Job(
        "weekly-digest",
        "vendorrisk.services.periodic.weekly_digest:weekly_digest",
        {"type": "cron", "hour": 8, "minute": 0},
        _l("The CISO's weekly digest (on the configured weekday)"),
    ),
    Job(
        "purge-imports",
        "vendorrisk.services.periodic.purge_imports:purge_imports",
        {"type": "cron", "hour": 3, "minute": 20},
        _l("Delete supplier-import uploads left unconfirmed for more than two hours"),
    ),
    Job(
        "purge-idempotency-keys",
        "vendorrisk.services.periodic.purge_idempotency_keys:purge_idempotency_keys",
        {"type": "cron", "hour": 3, "minute": 30},
        _l("Forget the one-time keys of forms sent more than a week ago"),
    ),
    Job(
        "sweep-files",
        "vendorrisk.services.periodic.sweep_files:sweep_files",
        {"type": "cron", "hour": 3, "minute": 40},
        _l("Delete uploaded files that no record names (left by an interrupted upload)"),
    ),
)
JOB_BY_ID = {job.id: job for job in JOBS}


def _lock_key(name: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"vendorrisk:{name}".encode()).digest()[:8], "big", signed=True
    )


def _lock_file(name: str) -> Path:
    folder = Path(current_app.instance_path) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.lock"


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """One holder at a time across processes, without waiting: a PostgreSQL advisory lock, or on
    SQLite a file lock. Yields whether it was obtained."""
    lock = Leadership(name)
    got = lock.acquire()
    try:
        yield got
    finally:
        lock.release()


class Leadership:
    """A lock held for as long as a process leads, and watched: on PostgreSQL an advisory lock on
    a connection of its own, which dies with that connection (a reset, a partition, a database
    restart), so `held()` asks the database rather than trusting memory. On SQLite a file lock,
    which only the process's end releases."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = _lock_key(name)
        self._conn: sa.Connection | None = None
        self._file = None

    @property
    def _postgres(self) -> bool:
        return db.engine.dialect.name == "postgresql"

    def acquire(self, wait: bool = False, poll_seconds: float = 2.0) -> bool:
        """Take the lock; with `wait`, try again every few seconds until it is free."""
        while True:
            if self._try():
                return True
            if not wait:
                return False
            time.sleep(poll_seconds)

    def _try(self) -> bool:
        if not self._postgres:
            self._file = self._file or _lock_file(self.name).open("a")
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
        try:
            self._conn = self._conn or db.engine.connect()
            query = sa.text("SELECT pg_try_advisory_lock(:k)")
            got = bool(self._conn.scalar(query, {"k": self.key}))
            self._conn.commit()
            return got
        except sa.exc.DBAPIError:  # the database is away: not the leader, try again later
            self._drop()
            return False

    def held(self) -> bool:
        """Whether this process still holds the lock, as the database sees it now."""
        if not self._postgres:
            return self._file is not None
        if self._conn is None:
            return False
        hi, lo = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            found = self._conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = :hi AND objid = :lo"
                    " AND objsubid = 1"
                ),
                {"hi": hi, "lo": lo},
            )
            self._conn.commit()
            return bool(found)
        except sa.exc.DBAPIError:
            self._drop()
            return False

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
                self._conn.commit()
                self._conn.close()  # back to the pool, holding nothing
                self._conn = None
            except sa.exc.DBAPIError:
                self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never back into the pool: its session is gone
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None


def _record(
    job_id: str, run_for: datetime, started: datetime, outcome: str, summary: str, error: str = ""
) -> JobRun:
    row = JobRun(
        job_id=job_id,
        run_for=run_for,
        started_at=started,
        finished_at=clock.now(),
        outcome=outcome,
        summary=summary[:2000],
        error=error[:4000],
    )
    try:
        db.session.add(row)
        db.session.commit()
        db.session.refresh(row)
        db.session.expunge(row)  # a plain record from here on: later commits leave it readable
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the run of %s", job_id)
    return row


@contextmanager
def _own_garbage() -> Iterator[None]:
    """While a job runs, the garbage collector looks only at the objects the job made: what the
    long-lived process held before (the app, the catalog, compiled templates) is set aside, and
    put back afterwards. A daily job makes hundreds of thousands of objects; without this, each
    full collection they set off walks the whole process again."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_job(job_id: str, now: datetime | None = None) -> JobRun:
    """Run one job now (in an app context): locked, committed once, recorded; never raises."""
    job = JOB_BY_ID[job_id]
    run_for = now or clock.now()
    started = clock.now()
    with exclusive(f"job-{job_id}") as got:
        if not got:
            return _record(job_id, run_for, started, "skipped", "another process runs it")
        try:
            with audit.acting_as(audit.Actor(type="system", label=f"job:{job_id}")), _own_garbage():
                result = job.run(run_for)
                db.session.commit()
        except Exception as exc:  # a failing job is logged and retried next time
            db.session.rollback()
            log.exception("job %s failed", job_id)
            return _record(job_id, run_for, started, "failed", "", f"{type(exc).__name__}: {exc}")
    return _record(job_id, run_for, started, "ok", result.summary())


def last_runs() -> dict[str, JobRun]:
    """The latest run of each job (one query)."""
    latest = (
        sa.select(JobRun.job_id, sa.func.max(JobRun.id).label("id"))
        .group_by(JobRun.job_id)
        .subquery()
    )
    rows = db.session.scalars(sa.select(JobRun).join(latest, JobRun.id == latest.c.id))
    return {row.job_id: row for row in rows}


def next_run(job: Job, now: datetime, timezone: str) -> datetime | None:
    """The job's next time after `now`. A trigger is always given a previous fire time: without
    one, APScheduler's interval triggers count from the real clock, not from `now`."""
    return job.make_trigger(timezone).get_next_fire_time(now, now)


def missed(job: Job, last: JobRun | None, now: datetime, timezone: str) -> bool:
    """Whether a scheduled time passed since the job last ran (or it never ran)."""
    if last is None:
        return True
    upcoming = next_run(job, last.run_for, timezone)
    return upcoming is not None and upcoming <= now


def catch_up(now: datetime | None = None, leader: Leadership | None = None) -> list[str]:
    """Run once each job whose time passed while no scheduler ran (no burst of repeats);
    a leader that loses its lock meanwhile stops."""
    now = now or clock.now()
    timezone = current_app.config["TIMEZONE"]
    runs = last_runs()
    due = [job.id for job in JOBS if missed(job, runs.get(job.id), now, timezone)]
    done = []
    for job_id in due:
        if leader is not None and not leader.held():
            break
        run_job(job_id, now)
        done.append(job_id)
    return done


def build_scheduler(app: Flask, blocking: bool, leader: Leadership | None = None):
    """An APScheduler with every job of the table; it never starts under tests.

    With a leader, the lock is checked before every job and every few seconds besides; once it
    is gone the scheduler shuts down, so that two schedulers never run at once after a cut.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=app.config["TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )

    def still_leading() -> bool:
        if leader is None or leader.held():
            return True
        log.error("the scheduler lost its lock: it stops running jobs")
        scheduler.shutdown(wait=False)
        return False

    for job in JOBS:
        scheduler.add_job(
            _in_context(app, job.id, still_leading),
            trigger=job.make_trigger(app.config["TIMEZONE"]),
            id=job.id,
            name=str(job.description),
            replace_existing=True,
        )
    if leader is not None:
        every = app.config["SCHEDULER_LOCK_CHECK_SECONDS"]
        scheduler.add_job(
            _in_context(app, None, still_leading), "interval", seconds=every, id="watch-lock"
        )
    return scheduler


def lead(app: Flask, say: Callable[[str], None]) -> None:
    """Be the one scheduler: wait as a standby until the lock is free, run the jobs while it is
    held, and go back to waiting when it is lost (never two leaders at once)."""
    while True:
        leader = Leadership("scheduler")
        if not leader.acquire():
            say("Another scheduler holds the lock (or the database is away): waiting as a standby.")
            leader.acquire(wait=True, poll_seconds=app.config["SCHEDULER_LOCK_CHECK_SECONDS"])
        caught_up = catch_up(leader=leader)
        say(f"Scheduler started; caught up: {', '.join(caught_up) or 'nothing'}.")
        build_scheduler(app, blocking=True, leader=leader).start()  # returns once it stops
        leader.release()
        release_session()
        say("Lost the scheduler lock: stopped running jobs; waiting as a standby.")


def _in_context(
    app: Flask, job_id: str | None, still_leading: Callable[[], bool]
) -> Callable[[], None]:
    def call() -> None:
        with app.app_context():
            if still_leading() and job_id is not None:
                run_job(job_id)
            release_session()

    return call
