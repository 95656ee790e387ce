"""Files in and out of a request: an upload kept or refused on its field, a file sent.

Every view that sends a file (evidence, exports, the report workbook, the import template, the
portal's Excel file) is declared with `@download`, the one place that sets the headers a file
is sent with; `send_export` and `send_download` write the file itself.
Shared by the blueprints (like `filters.py`); not a blueprint itself.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import IO, Any

from flask import current_app, make_response, send_file
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.models import StoredFile
from vendorrisk.services import audit, files
from vendorrisk.services.reporting import exports
from vendorrisk.web import CSP

#: The policy a sent file is served under: the app's own plus `sandbox`, so that a file a
#: browser shows after all (an HTML or SVG sent as evidence, a type it sniffs) runs no script,
#: sends no form and has no origin of ours to read cookies or pages from.
DOWNLOAD_CSP = "; ".join(f"{name} {value}" for name, value in CSP.items()) + "; sandbox"


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


def download(view: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a view that sends a file: it is served sandboxed, never sniffed, as an attachment.

    `Content-Security-Policy` is set by Talisman after the view, for every response of the
    view (an error page too): its per-view options carry DOWNLOAD_CSP. The file's own response
    gets `X-Content-Type-Options: nosniff` and `Content-Disposition: attachment`, whatever the
    view built it with.
    """

    @wraps(view)
    def sending(*args: Any, **kwargs: Any):
        return as_attachment(make_response(view(*args, **kwargs)))

    sending.talisman_view_options = {"content_security_policy": DOWNLOAD_CSP}  # type: ignore[attr-defined]
    return sending


def as_attachment(response):
    """A file response made a download: never shown inline, never sniffed as another type."""
    if response.status_code == 200:
        response.headers["X-Content-Type-Options"] = "nosniff"
        disposition = response.headers.get("Content-Disposition", "")
        if not disposition.lower().startswith("attachment"):  # none, or "inline; filename=…"
            _kind, separator, parameters = disposition.partition(";")
            response.headers["Content-Disposition"] = "attachment" + separator + parameters
    return response


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
