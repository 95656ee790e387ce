"""Files in and out of a staff request: an upload kept or refused on its field, an export sent.

Shared by the blueprints (like `filters.py`); not a blueprint itself.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO

from flask import current_app, send_file
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.models import StoredFile
from vendorrisk.services import audit, files
from vendorrisk.services.reporting import exports


def store_upload(field) -> tuple[bool, StoredFile | None]:
    """Keep the file uploaded in `field`, or put the reason it was refused on the field.

    Returns (ok, the stored file or None when nothing was uploaded).
    """
    upload = field.data
    if not upload or not getattr(upload, "filename", None):
        return True, None
    try:
        stored = files.store(
            upload.stream,
            upload.filename,
            current_app.config["UPLOAD_DIR"],
            current_app.config["MAX_UPLOAD_BYTES"],
            current_user.id,
        )
    except files.UploadError as exc:
        field.errors = [*field.errors, str(exc)]
        return False, None
    return True, stored


def send_export(name: str, fmt: str, write: Callable[[IO[bytes]], int]):
    """Write an export with `write` (which returns its row count), audit it, send it."""
    buffer = io.BytesIO()
    rows = write(buffer)
    audit.record("export", summary=f"{name} {fmt}, {rows} rows")
    return send_download(buffer, fmt, f"{name}-{clock.today().isoformat()}.{fmt}")


def send_download(buffer: io.BytesIO, fmt: str, filename: str):
    """Send a CSV or XLSX file written to `buffer` as an attachment."""
    buffer.seek(0)
    return send_file(
        buffer, mimetype=exports.MIMETYPES[fmt], as_attachment=True, download_name=filename
    )
