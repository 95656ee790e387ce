"""The file of a supplier import: reading it, and keeping it between the steps.

`read_table` turns the bytes of an upload into a `Table`, a header and rows of text (CSV in
UTF-8, with or without BOM, or Shift_JIS; or the first sheet of a workbook), refusing with
`FileRefused` and a translated message a file that cannot be imported at all: the wrong kind, too
large, too many rows or columns, or a workbook that would take too much memory to read (the
workbook-safety rule of `services.spreadsheets`, with this reader's `limits`). `stash` keeps an
upload on the server under a random token bound to its user until its mapping is confirmed;
`unstash`, `claim`, `release` and `discard` take it back, and `purge` removes the expired ones.
The column mapping, the checks of the rows and the writing are in the other modules of this
package, which build on this one.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from flask import current_app
from flask_babel import gettext as _

from vendorrisk import clock
from vendorrisk.services import files, spreadsheets

#: At most this many data rows in one file (the app config IMPORT_MAX_ROWS may change it).
MAX_ROWS = 20_000
#: At most this many columns in a file: each is a choice on the mapping page.
MAX_COLUMNS = 100
#: Empty rows allowed in a sheet besides the header and the rows to import (titles, gaps).
SPARE_ROWS = 1000
#: What a workbook may unzip to: 1 MB for its fixed parts (styles, theme, properties) and
#: BYTES_PER_ROW for each row it may hold. A file of 20,000 suppliers with all 25 fields of the
#: template filled in unzips to about 30 MB (20 fields: 24 MB, measured); the limit, 41 MB at
#: MAX_ROWS, leaves room for longer texts and refuses a bomb long before it is read.
BASE_UNZIPPED = 1024 * 1024
BYTES_PER_ROW = 2048
#: How long an uploaded file waits for its mapping to be confirmed (seconds).
STASH_TTL = 2 * 60 * 60
_TOKEN_RE = re.compile(r"[0-9a-f]{48}")


class FileRefused(ValueError):
    """A file that cannot be imported at all; the message is translated."""


# -- reading the file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The text of a file: its header and its non-empty rows with their spreadsheet row numbers."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]


def read_table(data: bytes, filename: str, max_bytes: int, max_rows: int = MAX_ROWS) -> Table:
    """Read a CSV or the first sheet of an XLSX as text, or raise FileRefused."""
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise FileRefused(_("Only CSV (.csv) and Excel (.xlsx) files can be imported."))
    if not data:
        raise FileRefused(_("The file is empty."))
    if len(data) > max_bytes:
        size = files.human_size(max_bytes)
        raise FileRefused(_("The file is larger than the limit of %(size)s.", size=size))
    kind = files.sniff(data)
    mismatch = _("The content of the file does not match its name (%(suffix)s).", suffix=suffix)
    if suffix == ".xlsx":
        if kind != files.XLSX:
            raise FileRefused(mismatch)
        grid = _xlsx_grid(data, max_rows)
    else:
        if kind not in (files.TXT, None) or b"\x00" in data:
            raise FileRefused(mismatch)
        grid = _csv_grid(decode(data))
    return _table(Path(filename.replace("\\", "/")).name, grid, max_rows)


def decode(data: bytes) -> str:
    """The text of a CSV: UTF-8 (with or without BOM), else Shift_JIS (Windows' CP932)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(
        _("The text encoding of the file was not recognised. Save it as CSV UTF-8 or Shift_JIS.")
    )


def _csv_grid(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first_line and "," not in first_line else ","
    # The reader takes its width from the first row: a wider one is refused before it is read.
    if len(next(csv.reader(io.StringIO(text), delimiter=sep), [])) > MAX_COLUMNS:
        raise FileRefused(too_many_columns())
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise FileRefused(_("The file is empty.")) from None
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise FileRefused(
            _(
                "The CSV file could not be read: a row has more cells than the header row "
                "(near line %(line)s).",
                line=line.group(1) if line else "?",
            )
        ) from None
    return _grid(df)


def _xlsx_grid(data: bytes, max_rows: int) -> list[list[str]]:
    _check_workbook(data, max_rows)
    try:
        df = pd.read_excel(
            io.BytesIO(data), sheet_name=0, header=None, dtype=str, na_filter=False,
            engine="calamine",
        )  # fmt: skip
    except Exception:  # the reader raises many kinds of errors for what is not a workbook
        raise FileRefused(spreadsheets.unreadable()) from None
    return _grid(df)


def limits(max_rows: int) -> spreadsheets.Limits:
    """What an import workbook may hold: its first sheet is read.

    The header and some empty rows (SPARE_ROWS) are allowed besides the rows to import.
    """
    return spreadsheets.Limits(
        max_unzipped=BASE_UNZIPPED + BYTES_PER_ROW * max_rows,
        max_row=max_rows + 1 + SPARE_ROWS,
        max_column=MAX_COLUMNS,
    )


def _check_workbook(data: bytes, max_rows: int) -> None:
    """Refuse a workbook that would take too much memory to read (`spreadsheets.check_workbook`)."""
    max_row = limits(max_rows).max_row
    try:
        spreadsheets.check_workbook(data, limits(max_rows))
    except spreadsheets.OutsideSheet as outside:
        if outside.axis == "column":
            raise FileRefused(too_many_columns()) from None
        raise FileRefused(
            _(
                "The sheet has cells below row %(row)d: at most %(max)d rows can be "
                "imported at once. Delete what is below the data, or split the file.",
                row=max_row,
                max=max_rows,
            )
        ) from None
    except spreadsheets.WorkbookRefused as refused:
        raise FileRefused(str(refused)) from None


def too_many_columns() -> str:
    return _(
        "The file has more than %(max)d columns. Delete the columns that are not to be "
        "imported and upload it again.",
        max=MAX_COLUMNS,
    )


def _grid(df: pd.DataFrame) -> list[list[str]]:
    return [["" if pd.isna(v) else str(v).strip() for v in row] for row in df.to_numpy().tolist()]


def _column_name(index: int) -> str:
    """The spreadsheet letter of a column: A, B, ... Z, AA ..."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _table(name: str, grid: list[list[str]], max_rows: int) -> Table:
    numbered = [(i + 1, row) for i, row in enumerate(grid) if any(row)]
    if not numbered:
        raise FileRefused(_("The file is empty."))
    (_header_row, header), *rows = numbered
    width = max((i + 1 for row in grid for i, cell in enumerate(row) if cell), default=0)
    if not rows:
        raise FileRefused(_("The file has a header row but no rows to import."))
    if width > MAX_COLUMNS:
        raise FileRefused(too_many_columns())
    if len(rows) > max_rows:
        raise FileRefused(
            _(
                "The file has %(n)d rows; at most %(max)d can be imported at once. "
                "Split it into several files.",
                n=len(rows),
                max=max_rows,
            )
        )
    headers = [
        (header[i] if i < len(header) else "") or f"({_column_name(i)})" for i in range(width)
    ]
    return Table(name, headers, [(n, (row + [""] * width)[:width]) for n, row in rows])


# -- keeping the uploaded file between the steps ------------------------------------------------


def stash(folder: str | Path, data: bytes, filename: str, user_id: int) -> str:
    """Keep an upload until its mapping is confirmed; return its random token.

    Files older than STASH_TTL are removed on the way. A kept file's time is the app's clock,
    written as its modification time, so that its age never mixes two clocks.
    """
    root = Path(folder)
    kept_at = clock.now().timestamp()
    token = secrets.token_hex(24)
    meta = {"user_id": user_id, "name": Path(filename.replace("\\", "/")).name[:255]}
    try:
        root.mkdir(parents=True, exist_ok=True)
        purge(root, kept_at)
        (root / f"{token}.data").write_bytes(data)
        (root / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
        for suffix in (".data", ".json"):
            os.utime(root / f"{token}{suffix}", (kept_at, kept_at))
    except OSError as exc:  # a full disk: nothing half-kept, a message on the form
        with contextlib.suppress(OSError):
            discard(root, token)
        raise FileRefused(str(files.storage_error(exc))) from exc
    return token


def unstash(folder: str | Path, token: str, user_id: int) -> tuple[bytes, str] | None:
    """The bytes and name of a kept upload of this user, or None (unknown, expired, another's)."""
    if not _TOKEN_RE.fullmatch(token):
        return None
    root = Path(folder)
    try:
        meta = json.loads((root / f"{token}.json").read_text(encoding="utf-8"))
        data_path = root / f"{token}.data"
        age = clock.now().timestamp() - data_path.stat().st_mtime
        if meta.get("user_id") != user_id or age > STASH_TTL:
            return None
        return data_path.read_bytes(), meta["name"]
    except (OSError, ValueError, KeyError):
        return None


def claim(folder: str | Path, token: str) -> bool:
    """Take a kept upload to import it; False if another request took it (or it is gone).

    The file is renamed: of two requests importing the same upload at once (a double click),
    exactly one succeeds. `release` gives it back when the import fails, `discard` removes it.
    """
    if not _TOKEN_RE.fullmatch(token):
        return False
    root = Path(folder)
    try:
        os.rename(root / f"{token}.data", root / f"{token}.claimed")
    except OSError:
        return False
    return True


def release(folder: str | Path, token: str) -> None:
    """Keep again an upload whose import failed, so that it can be imported once corrected."""
    if _TOKEN_RE.fullmatch(token):
        root = Path(folder)
        with contextlib.suppress(OSError):
            os.rename(root / f"{token}.claimed", root / f"{token}.data")


def discard(folder: str | Path, token: str) -> None:
    if _TOKEN_RE.fullmatch(token):
        for suffix in (".data", ".claimed", ".json"):
            (Path(folder) / f"{token}{suffix}").unlink(missing_ok=True)


def kept_folder() -> Path:
    """Where uploads wait for their mapping to be confirmed: under UPLOAD_DIR, off the web root."""
    return Path(current_app.config["UPLOAD_DIR"]) / "imports"


def purge(folder: Path, now: float | None = None) -> int:
    """Remove kept uploads older than STASH_TTL; the number removed."""
    limit = (now or clock.now().timestamp()) - STASH_TTL
    removed = 0
    for path in folder.glob("*.*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
        except OSError:
            continue
    return removed
