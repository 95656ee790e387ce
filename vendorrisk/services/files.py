"""Uploaded files: allowlisted types checked by content, stored under random names."""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from vendorrisk.extensions import db
from vendorrisk.models import StoredFile

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


class UploadError(ValueError):
    """A file we refuse; the message is translated."""


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


def _check(name: str, data: bytes, max_bytes: int) -> str:
    suffix = Path(name).suffix.lower()
    if not data:
        raise UploadError(_l("The file is empty."))
    if len(data) > max_bytes:
        raise UploadError(_l("The file is larger than %(mb)d MB.", mb=max_bytes // (1024 * 1024)))
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
    folder = Path(upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(data)
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


def path_of(stored: StoredFile, upload_dir: str) -> Path:
    return Path(upload_dir) / stored.storage_key
