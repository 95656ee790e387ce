"""Backup and restore through the CLI, on a database of their own (SQLite in a file, or a fresh
PostgreSQL database) migrated to head and loaded with the demo and some evidence files:
back up → wipe → restore gives back every row of every table and every file byte for byte; a
damaged or mismatched archive is refused and changes nothing; a restore that fails half-way
(the database locked by another process) leaves the database and the files as they were."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from tests.conftest import build_app, empty_tables
from vendorrisk import backup, jobs
from vendorrisk.demo import seed as demo
from vendorrisk.extensions import db
from vendorrisk.models import Attestation
from vendorrisk.services import audit, files

PG_URL = os.environ.get("VENDORRISK_TEST_DATABASE_URL", "")
POSTGRES = PG_URL.startswith("postgresql")
DAY = date(2026, 11, 27)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> Iterator[str]:
    if not POSTGRES:
        yield f"sqlite:///{tmp_path_factory.mktemp('backup-db') / 'vendorrisk.sqlite3'}"
        return
    server = sa.engine.make_url(PG_URL)
    name = f"vr_backup_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, database_url) -> Iterator[Flask]:
    """The migrations to head, the demo register, evidence files on some attestations; an
    orphan file and a kept import upload beside them that no backup should carry."""
    app = build_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=database_url)
    folder = Path(app.config["UPLOAD_DIR"])
    with app.app_context(), audit.acting_as(audit.Actor(type="system", label="test")):
        upgrade()
        demo.load_demo(DAY)
        for n, attestation in enumerate(db.session.scalars(sa.select(Attestation).limit(5))):
            data = io.BytesIO(PDF + f"certificate {n} ".encode() * (n * 5000 + 1))
            attestation.evidence = files.store(data, f"証明書{n}.pdf", str(folder), 10**7)
        db.session.commit()
        db.session.remove()
    (folder / ("0" * 48)).write_bytes(b"an orphan no row names")
    (folder / "imports").mkdir()
    (folder / "imports" / "kept.data").write_bytes(b"a,b\n")
    yield app
    with app.app_context():
        db.engine.dispose()


def _rows(conn: sa.Connection, name: str) -> list[tuple]:
    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
    order = list(table.primary_key.columns) or list(table.columns)
    return [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]


def _state(app: Flask) -> tuple[dict[str, list[tuple]], dict[str, bytes]]:
    """Every row of every table in the database, and every evidence file's bytes."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as conn:
            tables = {n: _rows(conn, n) for n in sorted(sa.inspect(conn).get_table_names())}
    folder = Path(app.config["UPLOAD_DIR"])
    return tables, {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _leftovers(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_DIR"])
    return list(folder.parent.glob(f".{folder.name}.restore-*"))


def _wipe(app: Flask) -> None:
    """Every row of every table (the Alembic revision too) and every file."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)
            conn.execute(sa.text("DELETE FROM alembic_version"))
    folder = Path(app.config["UPLOAD_DIR"])
    shutil.rmtree(folder)
    folder.mkdir()
    (folder / ("f" * 48)).write_bytes(b"written after the backup")


@pytest.fixture(scope="module")
def archive(demo_app, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("archives") / "vendorrisk-backup.tar.gz"
    result = demo_app.test_cli_runner().invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def test_backup_wipe_restore_gives_back_every_row_and_every_file(demo_app, tmp_path):
    tables, evidence = _state(demo_app)
    assert len(tables["suppliers"]) >= 30 and len(tables["answers"]) > 100
    archive = tmp_path / "backup.tar.gz"
    runner = demo_app.test_cli_runner()
    made = runner.invoke(args=["backup", str(archive)])
    assert made.exit_code == 0, made.output
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # supplier data: owner only

    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    assert next(iter(members)) == "manifest.json"
    assert manifest["dialect"] == ("postgresql" if POSTGRES else "sqlite")
    with demo_app.app_context():
        assert manifest["alembic_revision"] == backup.head_revision()
    recorded = {row[1] for row in tables["stored_files"]}
    assert {f["name"] for f in manifest["files"]} == {f"files/{key}" for key in recorded}
    assert len(recorded) == 5 and "0" * 48 not in recorded  # no orphan, no kept import

    _wipe(demo_app)
    assert not any(_state(demo_app)[0].values())
    restored = runner.invoke(args=["restore", "--yes", str(archive)])
    assert restored.exit_code == 0, restored.output

    after_tables, after_files = _state(demo_app)
    assert set(after_tables) == set(tables)
    for name in tables:
        if name == "audit_events":  # plus the restore's own event, last
            assert after_tables[name][:-1] == tables[name]
            assert after_tables[name][-1][tables_index(demo_app, "action")] == "restore"
        else:
            assert after_tables[name] == tables[name], name
    assert after_files == {key: evidence[key] for key in recorded}
    assert _leftovers(demo_app) == []


def tables_index(app: Flask, column: str) -> int:
    with app.app_context(), db.engine.connect() as conn:
        names = [c.name for c in sa.Table("audit_events", sa.MetaData(), autoload_with=conn).c]
    return names.index(column)


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """A copy of an archive with each member passed through `change` (None drops it)."""
    with tarfile.open(source) as old, tarfile.open(target, "w:gz") as new:
        for member in old:
            data = change(member.name, old.extractfile(member).read())
            if data is not None:
                member.size = len(data)
                new.addfile(member, io.BytesIO(data))
    return target


def _in_manifest(**changes) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        return json.dumps(json.loads(data) | changes).encode()

    return change


def _first_file(archive: Path) -> str:
    return next(name for name in _members(archive) if name.startswith("files/"))


def _flip_a_byte(archive: Path) -> Callable[[str, bytes], bytes]:
    victim = _first_file(archive)
    return lambda name, data: data[:-5] + b"X" + data[-4:] if name == victim else data


def _drop_a_file(archive: Path) -> Callable[[str, bytes], bytes | None]:
    victim = _first_file(archive)
    return lambda name, data: None if name == victim else data


def _truncated(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes()[: source.stat().st_size * 2 // 3])
    return target


def _corrupted(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


OTHER_DIALECT = "sqlite" if POSTGRES else "postgresql"
BAD_ARCHIVES = {
    "checksum": (lambda a, t: _rewrite(a, t, _flip_a_byte(a)), "does not match its checksum"),
    "missing file": (lambda a, t: _rewrite(a, t, _drop_a_file(a)), "1 of its members are missing"),
    "truncated": (_truncated, "damaged, truncated or unreadable"),
    "corrupted": (_corrupted, "Nothing was changed"),
    "unlisted member": (
        lambda a, t: _add_member(a, t, "files/" + "a" * 48, b"smuggled"),
        "which its manifest does not list",
    ),
    "not a backup": (lambda a, t: _not_a_backup(t), "not a vendorrisk backup"),
    "other revision": (
        lambda a, t: _rewrite(a, t, _in_manifest(alembic_revision="0123456789ab")),
        "is at Alembic revision 0123456789ab",
    ),
    "other dialect": (
        lambda a, t: _rewrite(a, t, _in_manifest(dialect=OTHER_DIALECT)),
        f"it holds a {OTHER_DIALECT} database",
    ),
    "newer format": (
        lambda a, t: _rewrite(a, t, _in_manifest(format_version=2)),
        "in backup format 2",
    ),
}


def _add_member(source: Path, target: Path, name: str, data: bytes) -> Path:
    _rewrite(source, target, lambda n, d: d)
    with tarfile.open(target) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    with tarfile.open(target, "w:gz") as tar:
        for member, content in members:
            tar.addfile(member, io.BytesIO(content))
        extra = tarfile.TarInfo(name)
        extra.size = len(data)
        tar.addfile(extra, io.BytesIO(data))
    return target


def _not_a_backup(target: Path) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    return target


@pytest.mark.parametrize("kind", list(BAD_ARCHIVES))
def test_a_damaged_or_mismatched_archive_is_refused_and_changes_nothing(
    demo_app, archive, tmp_path, kind
):
    make, message = BAD_ARCHIVES[kind]
    bad = make(archive, tmp_path / f"{kind.replace(' ', '-')}.tar.gz")
    before = _state(demo_app)
    result = demo_app.test_cli_runner().invoke(args=["restore", "--yes", str(bad)])
    assert result.exit_code == 1
    assert message in result.output and "Nothing was changed." in result.output
    assert _state(demo_app) == before
    assert _leftovers(demo_app) == []


def test_the_operator_is_asked_and_a_no_changes_nothing(demo_app, archive):
    before = _state(demo_app)
    result = demo_app.test_cli_runner().invoke(args=["restore", str(archive)], input="n\n")
    assert result.exit_code == 1
    assert "is sound" in result.output and "Nothing was changed." in result.output
    assert _state(demo_app) == before and _leftovers(demo_app) == []


def test_no_restore_while_a_scheduler_runs(demo_app, archive):
    before = _state(demo_app)
    with demo_app.app_context(), jobs.exclusive("scheduler") as held:
        assert held
        result = demo_app.test_cli_runner().invoke(args=["restore", "--yes", str(archive)])
    assert result.exit_code == 1 and "scheduler lock is held" in result.output
    assert _state(demo_app) == before


def _hold_the_database(app: Flask):
    """Another process's open transaction on the database (what a running app would hold)."""
    if POSTGRES:
        with app.app_context():
            url = db.engine.url
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        conn = engine.connect()
        conn.execute(sa.text("LOCK TABLE suppliers IN ACCESS SHARE MODE"))
        return lambda: (conn.rollback(), conn.close(), engine.dispose())
    with app.app_context():
        path = db.engine.url.database
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    return lambda: (conn.execute("ROLLBACK"), conn.close())


def test_a_restore_that_fails_half_way_leaves_the_database_and_the_files_as_they_were(
    demo_app, archive
):
    before = _state(demo_app)
    assert before[1]  # files that a restore would swap away
    release = _hold_the_database(demo_app)
    try:
        with demo_app.app_context(), pytest.raises(backup.BackupError) as refused:
            backup.restore(archive, lock_timeout=0.5)
    finally:
        release()
    assert "left as they were" in str(refused.value)
    assert _state(demo_app) == before
    assert _leftovers(demo_app) == []
