"""Backup and restore: the database and the evidence files in one archive, checked before use.

An archive is a tar.gz whose first member is `manifest.json` (format, app version, Alembic
revision, database dialect, creation time, and every other member with its size and SHA-256),
then the database (SQLite's online backup, or `pg_dump --format=custom`), then `files/<key>` for
each evidence file a stored_files row names — taken from the same snapshot as the database, so
the archive holds exactly the files the database knows (no orphans, nothing half-uploaded).

A restore unpacks and checks everything into a staging folder beside the upload folder before
touching anything, and refuses a damaged archive (a checksum or size that differs, a missing or
unexpected member, a truncated or unreadable file) and a mismatched one (another dialect, an
Alembic revision other than this code's head, an unknown format). Then the upload folder is
swapped by rename, the database restored in one transaction, and on any failure the old folder
is renamed back: it never half-restores.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess  # pg_dump and pg_restore, argument lists, never a shell  # nosec B404
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app

from vendorrisk.extensions import db
from vendorrisk.services.periodic.sweep_files import STORAGE_KEY

FORMAT = "vendorrisk-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILES = "files"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024
_MANIFEST_MAX = 256 * 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Entry:
    """One member of the archive besides the manifest."""

    name: str
    size: int
    sha256: str


@dataclass
class Made:
    """A backup written: its manifest, and what the operator should know."""

    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# -- what both sides need -----------------------------------------------------------------------


def app_version() -> str:
    try:
        return metadata.version("vendorrisk")
    except metadata.PackageNotFoundError:
        return "unknown"


def head_revision() -> str:
    """The Alembic revision this code's models are at."""
    heads = ScriptDirectory(current_app.extensions["migrate"].directory).get_heads()
    if len(heads) != 1:
        raise BackupError(f"the migrations have {len(heads)} heads; merge them first")
    return heads[0]


def dialect() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE:
        raise BackupError(f"a {name} database cannot be backed up or restored: only SQLite or "
                          "PostgreSQL")  # fmt: skip
    return name


def _sqlite_file() -> Path:
    url = db.engine.url
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database).resolve()


def _sqlite_uri(path: Path, mode: str) -> str:
    return f"{path.as_uri()}?mode={mode}"


def _entry(name: str, path: Path) -> Entry:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Entry(name, size, digest.hexdigest())


def _revision_and_files(conn: sa.Connection) -> tuple[str | None, dict[str, str]]:
    """The Alembic revision and each stored file's key and SHA-256, as `conn` sees them."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None, {}
    revision = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    rows = conn.execute(sa.text("SELECT storage_key, sha256 FROM stored_files"))
    return revision, {key: sha for key, sha in rows}


# -- PostgreSQL's client tools -------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools of the "
                          "server's major version (e.g. postgresql-client-15)")  # fmt: skip
    return found


def _pg_connection() -> tuple[str, dict[str, str]]:
    """libpq connection parameters from the SQLAlchemy URL; the password only in the env."""
    from psycopg.conninfo import make_conninfo

    url = db.engine.url
    params = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    params |= {k: v for k, v in url.query.items() if isinstance(v, str)}
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})
    return conninfo, env


def _run(args: list[str], env: dict[str, str] | None, what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (fixed tool path, argument list, no shell)  # nosec B603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout


def describe(manifest: dict[str, Any]) -> str:
    """One line about an archive, for the operator."""
    files = manifest["files"]
    size = sum(f["size"] for f in files)
    return (
        f"{manifest['dialect']} database at revision {manifest['alembic_revision']}, "
        f"{len(files)} evidence files ({size} bytes), made {manifest['created_at']} "
        f"by vendorrisk {manifest['app_version']}"
    )


# -- backup -------------------------------------------------------------------------------------


def _dump_sqlite(target: Path) -> tuple[str | None, dict[str, str], str]:
    """SQLite's online backup into `target`; read the revision and files from the copy."""
    source = sqlite3.connect(_sqlite_uri(_sqlite_file(), "ro"), uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite database could not be read: {exc}") from exc
    finally:
        source.close()
        copy.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            revision, recorded = _revision_and_files(conn)
    finally:
        engine.dispose()
    return revision, recorded, f"sqlite {sqlite3.sqlite_version}"


def _dump_postgres(target: Path) -> tuple[str | None, dict[str, str], str]:
    """pg_dump in the snapshot our transaction exports, so the file list matches the dump."""
    pg_dump = _pg_tool("pg_dump")
    conninfo, env = _pg_connection()
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            revision, recorded = _revision_and_files(conn)
            args = [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-password"]
            _run([*args, f"--file={target}", f"--dbname={conninfo}"], env, "pg_dump")
    tool = _run([pg_dump, "--version"], None, "pg_dump --version").strip()
    return revision, recorded, tool


def _evidence(folder: Path, recorded: dict[str, str]) -> tuple[list[tuple[Entry, Path]], list[str]]:
    """The archive members for the recorded files, and what was wrong with some."""
    members, warnings = [], []
    for key in sorted(recorded):
        if not STORAGE_KEY.fullmatch(key):
            warnings.append(f"a stored file has the unexpected key {key!r}: its bytes are left out")
            continue
        try:
            entry = _entry(f"{FILES}/{key}", folder / key)
        except FileNotFoundError:
            warnings.append(f"file {key} is recorded but missing from {folder}: not archived")
            continue
        if entry.sha256 != recorded[key]:
            warnings.append(f"file {key} differs from the checksum taken at upload: archived as is")
        members.append((entry, folder / key))
    return members, warnings


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.digest = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def _tar_info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    return info


def _write_archive(path: Path, manifest: dict, members: list[tuple[Entry, Path]]) -> None:
    """The manifest first (so a restore can refuse early), then each member, re-hashed."""
    mtime = datetime.fromisoformat(manifest["created_at"]).timestamp()
    text = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # supplier data: owner only
    with os.fdopen(fd, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            tar.addfile(_tar_info(MANIFEST, len(text), mtime), io.BytesIO(text))
            for entry, source in members:
                with source.open("rb") as handle:
                    reader = _Hashing(handle)
                    tar.addfile(_tar_info(entry.name, entry.size, mtime), reader)
                if reader.digest.hexdigest() != entry.sha256:
                    raise BackupError(f"{source} changed while it was being archived; try again")
        raw.flush()
        os.fsync(raw.fileno())


def _manifest(kind: str, revision: str, now: datetime, tool: str, database: Entry,
              members: list[tuple[Entry, Path]]) -> dict[str, Any]:  # fmt: skip
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": app_version(),
        "alembic_revision": revision,
        "dialect": kind,
        "created_at": now.astimezone(UTC).isoformat(),
        "database_tool": tool,
        "database": asdict(database),
        "files": [asdict(entry) for entry, _ in members],
    }


def create(target: Path, now: datetime) -> Made:
    """Write the database and the evidence files it names to `target` (a tar.gz)."""
    kind = dialect()
    target = target.absolute()
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as work:
            dump = Path(work) / DATABASE[kind]
            revision, recorded, tool = (_dump_sqlite if kind == "sqlite" else _dump_postgres)(dump)
            if revision is None:
                raise BackupError("the database has no Alembic revision: run `vendorrisk db "
                                  "upgrade` first")  # fmt: skip
            folder = Path(current_app.config["UPLOAD_DIR"])
            members, warnings = _evidence(folder, recorded)
            if revision != head_revision():
                warnings.append(f"the database is at revision {revision}, this code at "
                                f"{head_revision()}: only a vendorrisk at {revision} can restore "
                                "this archive")  # fmt: skip
            database = _entry(dump.name, dump)
            manifest = _manifest(kind, revision, now, tool, database, members)
            partial = Path(work) / "archive.tar.gz"
            _write_archive(partial, manifest, [(database, dump), *members])
            os.replace(partial, target)
    except OSError as exc:
        raise BackupError(f"could not write {target}: {exc}") from exc
    return Made(manifest, warnings)


# -- restore: check everything first --------------------------------------------------------------


def _refuse(archive: Path, why: str) -> BackupError:
    return BackupError(f"{archive.name} is refused: {why}. Nothing was changed.")


def _check_header(archive: Path, manifest: Any, kind: str) -> dict[str, Entry]:
    """The manifest's promises, if this installation can take them; refused otherwise."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(archive, "it is not a vendorrisk backup (no vendorrisk manifest)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(archive, f"it is in backup format {manifest.get('format_version')!r}, "
                      f"this vendorrisk reads format {FORMAT_VERSION}")  # fmt: skip
    if manifest.get("dialect") != kind:
        raise _refuse(archive, f"it holds a {manifest.get('dialect')} database and this "
                      f"installation uses {kind}")  # fmt: skip
    head = head_revision()
    if manifest.get("alembic_revision") != head:
        raise _refuse(archive, f"its database is at Alembic revision "
                      f"{manifest.get('alembic_revision')} (vendorrisk "
                      f"{manifest.get('app_version')}), this code is at {head}; restore it with "
                      "the release that made it, then run `vendorrisk db upgrade`")  # fmt: skip
    return _expected(archive, manifest, kind)


def _valid(entry: Entry, database_name: str | None) -> bool:
    """A member name we would write (the database, or files/<storage key>), a size, a hash."""
    name = entry.name if isinstance(entry.name, str) else ""
    if database_name is not None:
        named = name == database_name
    else:
        named = name.startswith(f"{FILES}/") and bool(
            STORAGE_KEY.fullmatch(name.removeprefix(f"{FILES}/"))
        )
    sized = isinstance(entry.size, int) and entry.size >= 0
    hashed = isinstance(entry.sha256, str) and bool(_SHA256.fullmatch(entry.sha256))
    return named and sized and hashed


def _expected(archive: Path, manifest: dict, kind: str) -> dict[str, Entry]:
    try:
        entries = [Entry(**manifest["database"])] + [Entry(**f) for f in manifest["files"]]
    except (KeyError, TypeError) as exc:
        raise _refuse(archive, f"its manifest is malformed ({exc})") from exc
    for entry in entries:
        if not _valid(entry, DATABASE[kind] if entry is entries[0] else None):
            raise _refuse(archive, f"its manifest lists an invalid member {entry.name!r}")
    expected = {entry.name: entry for entry in entries}
    if len(expected) != len(entries):
        raise _refuse(archive, "its manifest lists a member twice")
    return expected


def _read_manifest(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, kind: str):
    if member.name != MANIFEST or not member.isfile() or member.size > _MANIFEST_MAX:
        raise _refuse(archive, "it is not a vendorrisk backup (no manifest first)")
    try:
        manifest = json.loads(tar.extractfile(member).read())
    except ValueError as exc:
        raise _refuse(archive, f"its manifest is unreadable ({exc})") from exc
    return manifest, _check_header(archive, manifest, kind)


def _unpack_member(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo,
                   expected: dict[str, Entry], staging: Path) -> None:  # fmt: skip
    entry = expected.get(member.name)
    if entry is None or not member.isfile():
        raise _refuse(archive, f"it holds {member.name!r}, which its manifest does not list")
    if member.size != entry.size:
        raise _refuse(archive, f"{member.name} is {member.size} bytes, the manifest says "
                      f"{entry.size}")  # fmt: skip
    source, digest = tar.extractfile(member), hashlib.sha256()
    target = staging / member.name
    target.parent.mkdir(exist_ok=True)
    with target.open("xb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry.sha256:
        raise _refuse(archive, f"{member.name} does not match its checksum (damaged)")


def _unpack_verified(archive: Path, staging: Path, kind: str) -> dict[str, Any]:
    """Unpack every member into `staging`, checked against the manifest; the manifest."""
    manifest, expected, seen = None, {}, set()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if manifest is None:
                    manifest, expected = _read_manifest(archive, tar, member, kind)
                    continue
                if member.name in seen:
                    raise _refuse(archive, f"it holds {member.name} twice")
                _unpack_member(archive, tar, member, expected, staging)
                seen.add(member.name)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _refuse(archive, f"it is damaged, truncated or unreadable ({exc})") from exc
    if manifest is None:
        raise _refuse(archive, "it is empty")
    missing = sorted(set(expected) - seen)
    if missing:
        raise _refuse(archive, f"{len(missing)} of its members are missing "
                      f"({', '.join(missing[:5])})")  # fmt: skip
    return manifest


def _check_database(archive: Path, staged: Path, manifest: dict, kind: str) -> None:
    """The unpacked database can be read (and, for SQLite, is sound and at its revision)."""
    if kind == "postgresql":
        try:
            _run([_pg_tool("pg_restore"), "--list", str(staged)], None, "pg_restore --list")
        except BackupError as exc:
            raise _refuse(archive, f"its database dump is unreadable ({exc})") from exc
        return
    try:
        conn = sqlite3.connect(_sqlite_uri(staged, "ro"), uri=True)
        try:
            sound = conn.execute("PRAGMA integrity_check").fetchone()[0]
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise _refuse(archive, f"its database is unreadable ({exc})") from exc
    if sound != "ok" or revision is None or revision[0] != manifest["alembic_revision"]:
        raise _refuse(archive, f"its database is not sound or not at the manifest's revision "
                      f"({sound}, {revision})")  # fmt: skip


# -- restore: swap in, all or nothing -------------------------------------------------------------


class _Abort(Exception):
    pass


def _restore_sqlite(staged: Path, lock_timeout: float) -> None:
    """SQLite's backup API from the staged copy onto the live file: one write transaction on
    the target, rolled back by SQLite if anything stops it; a lock held elsewhere for longer
    than `lock_timeout` aborts it (Python's own loop would wait for ever)."""

    def give_up_when_busy(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise _Abort

    source = sqlite3.connect(_sqlite_uri(staged, "ro"), uri=True)
    target = sqlite3.connect(_sqlite_file(), timeout=lock_timeout)
    try:
        source.backup(target, progress=give_up_when_busy)
    except _Abort:
        raise BackupError("the database is in use (locked) by another process: stop the web "
                          "workers and the scheduler, then restore again") from None  # fmt: skip
    except sqlite3.Error as exc:
        raise BackupError(f"the database could not be restored: {exc}") from exc
    finally:
        source.close()
        target.close()


def _restore_postgres(staged: Path, lock_timeout: float) -> None:
    """pg_restore in one transaction: every object dropped and recreated, or none."""
    conninfo, env = _pg_connection()
    env["PGAPPNAME"] = name = f"vendorrisk-restore-{secrets.token_hex(6)}"
    args = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction"]
    args += ["--no-owner", "--no-password", f"--dbname={conninfo}", str(staged)]
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(args, env=env, stdout=errors, stderr=errors)  # noqa: S603 (fixed tool path, argument list, no shell)  # nosec B603
        try:
            blocked = _cancel_when_blocked(process, name, lock_timeout)
        finally:
            if process.poll() is None:  # interrupted: pg_restore's transaction rolls back
                process.kill()
            process.wait()
        errors.seek(0)
        said = errors.read().strip()
    if blocked:
        raise BackupError(f"the database is in use: pg_restore waited more than {lock_timeout:g} s "
                          "for a lock another session holds. Stop the web workers and the "
                          "scheduler, then restore again")  # fmt: skip
    if process.returncode != 0:
        raise BackupError(f"pg_restore failed: {said or f'exit {process.returncode}'}")


def _cancel_when_blocked(process: subprocess.Popen, name: str, lock_timeout: float) -> bool:
    """Watch the restore's session; cancel it once it has waited for a lock longer than
    `lock_timeout` (pg_restore sets its own lock_timeout to 0, so it would wait for ever).
    Whether it was cancelled."""
    waiting_since = None
    query = sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                    "AND wait_event_type = 'Lock'")  # fmt: skip
    with db.engine.connect() as conn:
        while process.poll() is None:
            pid = conn.scalar(query, {"name": name})
            conn.commit()
            if pid is None:
                waiting_since = None
            elif waiting_since is None:
                waiting_since = time.monotonic()
            elif time.monotonic() - waiting_since > lock_timeout:
                conn.execute(sa.text("SELECT pg_cancel_backend(:pid)"), {"pid": pid})
                conn.commit()
                process.wait()
                return True
            time.sleep(0.1)
    return False


@contextmanager
def _swapped(new: Path, live: Path, aside: Path) -> Iterator[None]:
    """`new` takes the place of `live` by rename; if the block fails, `live` is put back."""
    had_live = live.exists()
    if had_live:
        os.rename(live, aside)
    try:
        os.rename(new, live)
    except OSError:
        if had_live:
            os.rename(aside, live)
        raise
    try:
        yield
    except BaseException:
        os.rename(live, new)
        if had_live:
            os.rename(aside, live)
        raise


def _staging(live: Path) -> Path:
    """A folder beside the upload folder, on the same file system so a rename swaps them."""
    live.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{live.name}.restore-", dir=live.parent))
    if live.exists() and (os.path.ismount(live) or live.stat().st_dev != staging.stat().st_dev):
        shutil.rmtree(staging)
        raise BackupError(f"{live} is a mount point: the restored files cannot be swapped in by "
                          "a rename. Point VENDORRISK_UPLOAD_DIR at a folder inside the mount "
                          "(moving the files there) and restore again")  # fmt: skip
    return staging


def _like(new: Path, live: Path) -> None:
    """The restored folder gets the old one's mode (and owner, when run as root)."""
    if not live.exists():
        return
    old = live.stat()
    os.chmod(new, old.st_mode & 0o7777)
    if os.geteuid() == 0:
        for path in [new, *new.iterdir()]:
            os.chown(path, old.st_uid, old.st_gid)


def restore(archive: Path, confirm: Callable[[dict], bool] | None = None,
            lock_timeout: float = 10.0) -> dict[str, Any] | None:  # fmt: skip
    """Replace the database and the upload folder with the archive's; checked first, all or
    nothing. Returns the manifest, or None when `confirm` declined (nothing changed)."""
    kind = dialect()
    if kind == "sqlite":
        _sqlite_file()
    live = Path(current_app.config["UPLOAD_DIR"]).resolve()
    try:
        staging = _staging(live)
        try:
            manifest = _unpack_verified(archive, staging, kind)
            _check_database(archive, staging / DATABASE[kind], manifest, kind)
            if confirm is not None and not confirm(manifest):
                return None
            _swap_in(staging, live, kind, lock_timeout)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise BackupError(f"the restore failed and was undone: {exc}") from exc
    return manifest


def _swap_in(staging: Path, live: Path, kind: str, lock_timeout: float) -> None:
    """The verified files in place of the live ones, then the database; undone on failure."""
    (staging / FILES).mkdir(exist_ok=True)  # an archive without any file
    _like(staging / FILES, live)
    db.session.remove()  # no transaction of ours in the way (idle pooled connections hold no lock)
    try:
        with _swapped(staging / FILES, live, staging / "previous"):
            restore_database = _restore_sqlite if kind == "sqlite" else _restore_postgres
            restore_database(staging / DATABASE[kind], lock_timeout)
    except BackupError as exc:
        raise BackupError(f"{exc}\nThe database and the files were left as they were.") from exc
