"""The sweep of the upload folder: bytes no row names go once they are old enough; nothing else.

Includes a real crash: a process running the app's upload code is killed with SIGKILL after the
bytes are written and before the commit, and the sweep then removes exactly that orphan.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import strict_app
from vendorrisk import jobs
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, StoredFile
from vendorrisk.services import files

NOW = datetime(2026, 12, 1, 18, 40, tzinfo=UTC)
PDF = b"%PDF-1.4 evidence"


def _aged(path: Path, age: timedelta, now: datetime = NOW) -> Path:
    moment = (now - age).timestamp()
    os.utime(path, (moment, moment))
    return path


def _stray(folder: Path, age: timedelta, name: str | None = None) -> Path:
    path = folder / (name or secrets.token_hex(24))
    path.write_bytes(b"left behind")
    return _aged(path, age)


def _store(app, folder: Path) -> StoredFile:
    stored = files.store(io.BytesIO(PDF), "cert.pdf", str(folder), app.config["MAX_UPLOAD_BYTES"])
    db.session.commit()
    return stored


def test_the_sweep_removes_old_unknown_files_and_nothing_else(app, tmp_path, caplog):
    folder = tmp_path / "uploads"
    saved, app.config["UPLOAD_DIR"] = app.config["UPLOAD_DIR"], str(folder)
    try:
        with app.app_context():
            known = _aged(folder / _store(app, folder).storage_key, timedelta(days=30))
            lost = _store(app, folder)
            lost.created_at = NOW - timedelta(days=2)
            db.session.commit()
            lost_key = lost.storage_key
            (folder / lost_key).unlink()  # a row whose bytes are gone: reported, not changed
            orphan = _stray(folder, timedelta(hours=2))
            in_flight = _stray(folder, timedelta(minutes=10))
            foreign = _stray(folder, timedelta(days=9), name="README.txt")
            (folder / "imports").mkdir()
            stashed = _stray(folder / "imports", timedelta(days=9))  # purge-imports' business
            with caplog.at_level(logging.WARNING, logger="vendorrisk.files"):
                run = jobs.run_job("sweep-files", NOW)
            events = db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "files_swept")
            ).all()
            db.session.remove()
    finally:
        app.config["UPLOAD_DIR"] = saved
    assert run.outcome == "ok", run.error
    assert not orphan.exists()
    assert all(p.exists() for p in (known, in_flight, foreign, stashed))
    assert run.summary.startswith("1 done, 0 skipped; removed 1 files the database does not know")
    assert "1 unknown but recent ones kept" in run.summary and "(+1 more)" in run.summary
    assert [e.actor_label for e in events] == ["job:sweep-files"]
    assert orphan.name in caplog.text and lost_key in caplog.text  # logged for the operator


def test_the_sweep_of_an_empty_or_absent_folder_does_nothing(app, tmp_path):
    saved, app.config["UPLOAD_DIR"] = app.config["UPLOAD_DIR"], str(tmp_path / "never-made")
    try:
        with app.app_context():
            run = jobs.run_job("sweep-files", NOW)
            db.session.remove()
    finally:
        app.config["UPLOAD_DIR"] = saved
    assert run.outcome == "ok" and run.summary.startswith("0 done")


#: The app's own upload code in another process: write the bytes, flush the row, wait.
UPLOAD_THEN_WAIT = """
import io, sys
from vendorrisk.config import TestConfig
from vendorrisk import create_app
from vendorrisk.extensions import db
from vendorrisk.services import files

config = TestConfig()
config.SQLALCHEMY_DATABASE_URI, config.UPLOAD_DIR = sys.argv[1], sys.argv[2]
app = create_app(config)
with app.app_context():
    stored = files.store(io.BytesIO(b"%PDF-1.4 never committed"), "killed.pdf", sys.argv[2], 10**6)
    db.session.flush()  # the row is sent, the transaction open: the crash comes before COMMIT
    print(stored.storage_key, flush=True)
    sys.stdin.read()
"""


def _shared_database(tmp_path) -> dict:
    """A database two processes can open: a file for SQLite, the suite's PostgreSQL one."""
    url = os.environ.get("VENDORRISK_TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return {}
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.sqlite3'}"}


def test_a_worker_killed_before_its_commit_leaves_an_orphan_the_sweep_removes(
    tmp_path, tmp_path_factory
):
    with strict_app(tmp_path_factory, **_shared_database(tmp_path)) as app:
        folder = Path(app.config["UPLOAD_DIR"])
        with app.app_context():
            kept = folder / _store(app, folder).storage_key
            url = db.engine.url.render_as_string(hide_password=False)
            db.session.remove()
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", UPLOAD_THEN_WAIT, url, str(folder)],
            cwd=BASE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            key = worker.stdout.readline().strip()
            assert (folder / key).read_bytes() == b"%PDF-1.4 never committed"
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            worker.kill()
            worker.stdout.close()
            worker.stdin.close()
        orphan = folder / key
        assert orphan.exists()  # the crash left the bytes behind: no rollback ran
        written = datetime.fromtimestamp(orphan.stat().st_mtime, UTC)
        _aged(kept, timedelta(days=1), written)
        with app.app_context():
            row = sa.select(StoredFile.id).where(StoredFile.storage_key == key)
            assert db.session.scalar(row) is None  # the kill rolled the row back
            early = jobs.run_job("sweep-files", written + timedelta(minutes=30))
            late = jobs.run_job("sweep-files", written + timedelta(hours=1, minutes=1))
            db.session.remove()
    assert early.outcome == late.outcome == "ok"
    assert "removed 0 files" in early.summary  # within the grace period: perhaps in flight
    assert "removed 1 files" in late.summary
    assert not orphan.exists()
    assert kept.read_bytes() == PDF
