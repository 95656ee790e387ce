"""The scheduler's machinery: one table of jobs, locked runs, results kept, catch-up once."""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.util import ref_to_obj

from tests.factories import make_assessment, make_invitation
from vendorrisk import jobs
from vendorrisk.extensions import db
from vendorrisk.models import (
    JobRun,
    OutboxMessage,
    OutboxStatus,
    Role,
)

TOKYO = ZoneInfo("Asia/Tokyo")
POSTGRES = os.environ.get("VENDORRISK_TEST_DATABASE_URL", "").startswith("postgresql")


def test_every_job_has_a_stable_unique_id_and_a_trigger(app):
    ids = [job.id for job in jobs.JOBS]
    assert len(ids) == len(set(ids))
    assert {
        "deliver-mail",
        "recheck",
        "reminders",
        "expiry-alerts",
        "expire-links",
        "weekly-digest",
    } <= set(ids)
    now = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    for job in jobs.JOBS:
        assert jobs.next_run(job, now, "Asia/Tokyo") > now


def test_cli_lists_and_runs_jobs(app, runner):
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0
    assert all(job.id in result.output for job in jobs.JOBS)
    assert "never run" in result.output
    result = runner.invoke(args=["jobs", "run", "expire-links", "--now", "2026-12-01T09:00"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("expire-links: ok")
    result = runner.invoke(args=["jobs", "list"])
    assert "expire-links" in result.output and "ok" in result.output
    bad = runner.invoke(args=["jobs", "run", "no-such-job"])
    assert bad.exit_code != 0 and "unknown job" in bad.output
    bad = runner.invoke(args=["jobs", "run", "reminders", "--now", "tomorrow"])
    assert bad.exit_code != 0 and "--now" in bad.output


def test_a_run_is_recorded_with_the_time_it_acted_for(app, ctx):
    when = datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO)
    with app.app_context():
        jobs.run_job("reminders", when)
        db.session.remove()
    with ctx() as session:
        run = session.scalar(sa.select(JobRun))
    assert (run.job_id, run.outcome) == ("reminders", "ok")
    assert run.run_for == when.astimezone(UTC) and run.finished_at >= run.started_at


def test_a_failing_job_is_logged_leaves_nothing_half_done_and_stops_no_other(
    app, ctx, make_supplier
):
    supplier = make_supplier()

    def half_then_fail(now):
        db.session.add(
            OutboxMessage(
                recipient="x@example.jp",
                subject="half",
                body_text="b",
                kind="test",
                dedupe_key="half-done",
            )
        )
        db.session.flush()
        raise RuntimeError("the relay exploded")

    failing = jobs.Job("test-failing", half_then_fail, {"type": "interval", "minutes": 1}, "t")
    jobs.JOB_BY_ID[failing.id] = failing
    try:
        with app.app_context():
            run = jobs.run_job("test-failing")
            other = jobs.run_job("expire-links")
            db.session.remove()
    finally:
        del jobs.JOB_BY_ID[failing.id]
    assert run.outcome == "failed" and "the relay exploded" in run.error
    assert other.outcome == "ok"
    with ctx() as session:
        assert (
            session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == "half-done"))
            is None
        )
    assert supplier.id  # the data the failing job saw is untouched


def test_a_job_held_by_another_process_is_skipped(app, ctx):
    with app.app_context():
        with jobs.exclusive("job-reminders") as held:
            assert held
            assert jobs.run_job("reminders").outcome == "skipped"
        assert jobs.run_job("reminders").outcome == "ok"
        db.session.remove()


def test_missed_runs_are_caught_up_once(app, ctx):
    start = datetime(2026, 12, 1, 12, 0, tzinfo=TOKYO)
    with app.app_context():
        first = jobs.catch_up(start)
        assert set(first) == {job.id for job in jobs.JOBS}  # never run: each runs once
        assert jobs.catch_up(start) == []  # nothing is due again at the same moment
        # Down for three days: each daily job runs once, not three times.
        later = jobs.catch_up(start + timedelta(days=3))
        db.session.remove()
    assert sorted(later) == sorted(job.id for job in jobs.JOBS)
    with ctx() as session:
        counts = dict(
            session.execute(sa.select(JobRun.job_id, sa.func.count()).group_by(JobRun.job_id)).all()
        )
    assert all(n == 2 for n in counts.values())


def test_the_admin_page_shows_the_jobs_and_runs_one(auth, ctx):
    auth.login(Role.admin)
    page = auth.client.get("/admin/jobs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert all(job.id in page for job in jobs.JOBS) and "Never" in page
    assert auth.client.post("/admin/jobs/expire-links/run").status_code == 302
    with ctx() as session:
        assert session.scalar(sa.select(JobRun.outcome)) == "ok"
    auth.logout()
    auth.login(Role.ciso)
    assert auth.client.get("/admin/jobs").status_code == 200
    assert auth.client.post("/admin/jobs/expire-links/run").status_code == 403


@pytest.mark.skipif(not POSTGRES, reason="two schedulers share one PostgreSQL database")
def test_two_schedulers_for_a_month_send_each_message_once(
    app, ctx, make_user, make_supplier, make_contact
):
    """Two scheduler processes (threads with their own connections) run every job on every day
    of a month at the same moments; advisory locks and dedupe keys let each mail out once."""
    make_user(Role.ciso, email="ciso@example.jp")
    owner = make_user(Role.procurement)
    suppliers = [make_supplier(owner_id=owner.id) for _ in range(4)]
    start = date(2026, 12, 1)
    with app.app_context():
        for i, supplier in enumerate(suppliers):
            contact = make_contact(supplier, email=f"s{i}@example.jp", is_primary=True)
            assessment = make_assessment(supplier, due_on=start + timedelta(days=5 + 6 * i))
            make_invitation(
                assessment,
                contact,
                token_hash=f"{i:064d}",
                expires_at=datetime(2027, 3, 1, tzinfo=UTC),
            )
        db.session.commit()
        db.session.remove()

    def scheduler(day: datetime, errors: list) -> None:
        try:
            with app.app_context():
                for job in jobs.JOBS:
                    run = jobs.run_job(job.id, day)
                    assert run.outcome in ("ok", "skipped"), run.error
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for offset in range(31):
        day = datetime.combine(
            start + timedelta(days=offset), datetime.min.time(), tzinfo=TOKYO
        ).replace(hour=9)
        errors: list = []
        threads = [threading.Thread(target=scheduler, args=(day, errors)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
    with ctx() as session:
        rows = session.scalars(sa.select(OutboxMessage)).all()
        keys = [r.dedupe_key for r in rows]
        assert len(keys) == len(set(keys)) and len(rows) > 8
        assert all(r.status != OutboxStatus.failed for r in rows)


def test_job_result_summary_is_one_short_line():
    result = jobs.JobResult(done=2)
    result.skip("Gamma (#3): no contact to send to")
    result.skip("Delta (#4): no contact to send to")
    assert result.summary() == "2 done, 2 skipped; Gamma (#3): no contact to send to (+1 more)"


def test_every_job_names_work_that_exists():
    """The table names each job's work as "module:function"; each one imports and is callable."""
    assert all(callable(ref_to_obj(job.target)) for job in jobs.JOBS if isinstance(job.target, str))


def test_the_scheduler_holds_every_job_of_the_table(app):
    with app.app_context():
        scheduler = jobs.build_scheduler(app, blocking=False)
        scheduled = {job.id: job for job in scheduler.get_jobs()}
    assert set(scheduled) == set(jobs.JOB_BY_ID)
    assert all(job.name for job in scheduled.values())
    assert not scheduler.running  # never started under tests


def test_abandoned_import_uploads_are_purged_by_their_job(app):
    """An upload left at the mapping step goes after two hours; a recent one stays."""
    import os

    from vendorrisk.services.register.imports import files

    now = datetime.now(UTC)  # the kept files' ages are real file times
    with app.app_context():
        folder = files.kept_folder()
        old = files.stash(folder, b"a,b\n", "old.csv", 1)
        recent = files.stash(folder, b"a,b\n", "new.csv", 1)
        stale = list(folder.glob(f"{old}.*"))
        for path in stale:
            os.utime(path, (now.timestamp() - 3 * 3600,) * 2)
        run = jobs.run_job("purge-imports", now)
        assert run.outcome == "ok", run.error
        assert stale and not any(p.exists() for p in stale)
        assert files.unstash(folder, recent, 1) is not None
        assert f"removed {len(stale)} abandoned import uploads" in run.summary
