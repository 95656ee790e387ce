"""Uploaded files: allowlisted types checked by content, stored under random names."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import os
import secrets
import zipfile
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from vendorrisk import clock
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import StoredFile

log = logging.getLogger("vendorrisk.files")

#: Allowed types, by the content type we serve them with.
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV = "text/csv"
TXT = "text/plain"
ALLOWED_EXTENSIONS = {
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".xlsx": XLSX,
    ".docx": DOCX,
    ".csv": CSV,
    ".txt": TXT,
}


class UploadError(ServiceError):
    """A file we refuse; the message is translated."""


class StorageError(UploadError):
    """A file we accepted but could not write (a full disk, a quota, a broken mount)."""


#: Errors that mean "no room": the disk is full or the owner's quota is used up.
NO_ROOM = {errno.ENOSPC, errno.EDQUOT}


def _office_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "xl/workbook.xml" in names:
        return XLSX
    if "word/document.xml" in names:
        return DOCX
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "cp932"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among the allowed ones, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    return TXT if _is_text(data) else None


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MB"
    return f"{max(1, n // 1024)} KB"


def _check(name: str, data: bytes, max_bytes: int) -> str:
    suffix = Path(name).suffix.lower()
    if not data:
        raise UploadError(_l("The file is empty."))
    if len(data) > max_bytes:
        raise UploadError(
            _l("The file is larger than the limit of %(size)s.", size=human_size(max_bytes))
        )
    expected = ALLOWED_EXTENSIONS.get(suffix)
    if expected is None:
        raise UploadError(
            _l("This type of file is not accepted. Use PDF, PNG, JPEG, XLSX, DOCX, CSV or TXT.")
        )
    actual = sniff(data)
    if actual == TXT and expected in (CSV, TXT):
        return expected
    if actual != expected:
        raise UploadError(
            _l("The content of the file does not match its name (%(suffix)s).", suffix=suffix)
        )
    return actual


def store(
    stream: BinaryIO, name: str, upload_dir: str, max_bytes: int, uploaded_by_id: int | None = None
) -> StoredFile:
    """Check an upload and keep it under a random name outside the web root."""
    data = stream.read(max_bytes + 1)
    safe_name = Path(name.replace("\\", "/")).name[:255] or "file"
    content_type = _check(safe_name, data, max_bytes)
    key = secrets.token_hex(24)
    path = _write(Path(upload_dir) / key, data)
    # The bytes live only as long as the transaction that records them: gone if it rolls back.
    db.session.info.setdefault(_WRITTEN_KEY, []).append(path)
    stored = StoredFile(
        storage_key=key,
        original_name=safe_name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(stored)
    return stored


def _write(path: Path, data: bytes) -> Path:
    """Write the bytes to disk before the row naming them commits; a failed write leaves nothing.

    The file's time is the app's clock (as for kept imports), so the sweep of files the
    database does not know measures its age on one clock.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # a full disk or quota may only tell at flush or sync
        written_at = clock.now().timestamp()
        os.utime(path, (written_at, written_at))
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise storage_error(exc) from exc
    return path


def storage_error(exc: OSError) -> StorageError:
    """What to tell the user about bytes the server could not write; logged for the operator."""
    log.error("could not write an upload: %s", exc)
    if exc.errno in NO_ROOM:
        return StorageError(
            _l(
                "There is no room left on the server to store this file, so it was not kept. "
                "Nothing saved before was lost; please try again later."
            )
        )
    return StorageError(
        _l(
            "The server could not store this file, so it was not kept. Nothing saved before "
            "was lost; please try again later."
        )
    )


def path_of(stored: StoredFile, upload_dir: str) -> Path:
    return Path(upload_dir) / stored.storage_key


def is_referenced(stored: StoredFile) -> bool:
    """Whether an attestation, a proposed change, an evidence request, a contract, an answer,
    a cover (a certificate given as answers) or an offboarding step (an erasure certificate)
    still points at the file."""
    from vendorrisk.models import (
        Attestation,
        AttestationProposal,
        Contract,
        Cover,
        EvidenceRequest,
        OffboardingStep,
        answer_files,
    )

    checks = (
        sa.select(Attestation.id).where(Attestation.evidence_id == stored.id),
        sa.select(Cover.id).where(Cover.file_id == stored.id),
        sa.select(AttestationProposal.id).where(AttestationProposal.evidence_id == stored.id),
        sa.select(EvidenceRequest.id).where(EvidenceRequest.stored_file_id == stored.id),
        sa.select(Contract.id).where(Contract.document_id == stored.id),
        sa.select(answer_files.c.answer_id).where(answer_files.c.stored_file_id == stored.id),
        sa.select(OffboardingStep.id).where(OffboardingStep.stored_file_id == stored.id),
    )
    return any(db.session.execute(check.limit(1)).first() for check in checks)


def discard(stored: StoredFile | None) -> None:
    """Delete a file nothing points at any more: its row now, its bytes once committed."""
    if stored is None:
        return
    db.session.flush()
    if is_referenced(stored):
        return
    db.session.delete(stored)
    pending = db.session.info.setdefault(_UNLINK_KEY, [])
    pending.append(path_of(stored, current_app.config["UPLOAD_DIR"]))


_UNLINK_KEY = "vendorrisk_files_to_unlink"
_WRITTEN_KEY = "vendorrisk_files_written"


@event.listens_for(Session, "after_commit")
def _unlink_committed(session: Session) -> None:
    session.info.pop(_WRITTEN_KEY, None)
    for path in session.info.pop(_UNLINK_KEY, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _keep_rolled_back(session: Session, previous_transaction) -> None:
    """A rolled-back transaction deletes nothing it meant to, and keeps no bytes it wrote."""
    if previous_transaction.nested:
        return  # a savepoint: the outer transaction decides
    session.info.pop(_UNLINK_KEY, None)
    for path in session.info.pop(_WRITTEN_KEY, []):
        path.unlink(missing_ok=True)
