"""The sweep of the upload folder: bytes no row names (a worker killed before its commit).

`files.store` writes the bytes before the row that names them commits, and removes them if the
transaction rolls back; a process killed in between leaves them behind. The sweep removes what
the database does not know, once it is older than any upload still in flight could be.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.models import StoredFile
from vendorrisk.services import audit

log = logging.getLogger("vendorrisk.files")

#: Far longer than any request or job holding an uncommitted upload.
GRACE = timedelta(hours=1)
#: The names `files.store` gives (secrets.token_hex(24)); nothing else in the folder is touched.
STORAGE_KEY = re.compile(r"[0-9a-f]{48}")
_BATCH = 500


@dataclass
class Sweep:
    """What one sweep found: the keys it removed, and what it left alone."""

    removed: list[str] = field(default_factory=list)
    removed_bytes: int = 0
    #: Unknown files younger than the grace period (perhaps an upload in flight).
    young: int = 0
    #: Rows older than the grace period whose bytes are not in the folder.
    missing: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        notes = [
            f"removed {len(self.removed)} files the database does not know "
            f"({self.removed_bytes} bytes); {self.young} unknown but recent ones kept"
        ]
        if self.missing:
            notes.append(f"{len(self.missing)} recorded files are missing from the folder")
        return notes


def _unknown(keys: list[str]) -> set[str]:
    """The keys no stored_files row names (asked in batches)."""
    known: set[str] = set()
    for start in range(0, len(keys), _BATCH):
        batch = keys[start : start + _BATCH]
        known.update(
            db.session.scalars(
                sa.select(StoredFile.storage_key).where(StoredFile.storage_key.in_(batch))
            )
        )
    return set(keys) - known


def _key_files(folder: Path) -> dict[str, os.stat_result]:
    """The files directly in `folder` named like storage keys (subfolders are skipped: the
    import stash has its own purge)."""
    found = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if STORAGE_KEY.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                found[entry.name] = entry.stat(follow_symlinks=False)
    return found


def _missing(on_disk: dict[str, os.stat_result], before: datetime) -> list[str]:
    """Keys of rows older than `before` whose bytes are gone (reported, never changed)."""
    keys = db.session.scalars(
        sa.select(StoredFile.storage_key).where(StoredFile.created_at < before)
    )
    return sorted(key for key in keys if key not in on_disk)


def sweep(folder: Path, now: datetime, grace: timedelta = GRACE) -> Sweep:
    """Remove the files in `folder` that no row names and that are older than `grace`."""
    found = Sweep()
    if not folder.is_dir():
        return found
    on_disk = _key_files(folder)
    limit = (now - grace).timestamp()
    for key in sorted(_unknown(sorted(on_disk))):
        if on_disk[key].st_mtime >= limit:
            found.young += 1
            continue
        (folder / key).unlink(missing_ok=True)
        found.removed.append(key)
        found.removed_bytes += on_disk[key].st_size
    found.missing = _missing(on_disk, now - grace)
    if found.removed:
        log.warning("upload sweep removed %s unknown files from %s: %s", len(found.removed),
                    folder, " ".join(found.removed))  # fmt: skip
    if found.missing:
        log.error("%s recorded files are missing from %s: %s", len(found.missing), folder,
                  " ".join(found.missing))  # fmt: skip
    return found


def sweep_files(now: datetime) -> JobResult:
    """The sweep-files job: sweep the upload folder; what it removed goes in the audit log too."""
    found = sweep(Path(current_app.config["UPLOAD_DIR"]), now)
    if found.removed:
        audit.record("files_swept", summary=found.notes()[0])
    return JobResult(done=len(found.removed), notes=found.notes())
