"""The file of a supplier import: reading it, and keeping it between the steps.

`read_table` turns the bytes of an upload into a `Table`, a header and rows of text (CSV in
UTF-8, with or without BOM, or Shift_JIS; or the first sheet of a workbook), refusing with
`FileRefused` and a translated message a file that cannot be imported at all: the wrong kind, too
large, too many rows or columns, or a workbook that would take too much memory to read
(`check_workbook`). `stash` keeps an upload on the server under a random token bound to its user
until its mapping is confirmed; `unstash`, `claim`, `release` and `discard` take it back, and
`purge` removes the expired ones. The column mapping, the checks of the rows and the writing are
in `imports`, which builds on this module.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import posixpath
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

import pandas as pd
from flask import current_app
from flask_babel import gettext as _

from vendorrisk import clock
from vendorrisk.services import files

#: At most this many data rows in one file (the app config IMPORT_MAX_ROWS may change it).
MAX_ROWS = 20_000
#: An XLSX file whose parts unzip to more than this is refused (a zip bomb).
MAX_UNZIPPED = 200 * 1024 * 1024
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
    check_workbook(data, max_rows)
    try:
        df = pd.read_excel(
            io.BytesIO(data), sheet_name=0, header=None, dtype=str, na_filter=False,
            engine="calamine",
        )  # fmt: skip
    except Exception:  # the reader raises many kinds of errors for what is not a workbook
        raise FileRefused(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    return _grid(df)


def check_workbook(data: bytes, max_rows: int) -> None:
    """Refuse, before the reader builds its grid, a workbook that would take too much memory.

    The reader allocates every cell from A1 to the last one of the sheet, so a file of a few
    kilobytes with one cell far down or far right would take gigabytes. Every part is unzipped as
    a stream, counting the bytes it really holds (not the sizes the zip declares), and the XML of
    the first sheet is followed cell by cell (not its <dimension>, which may lie or be missing):
    a cell below the row limit (header and some empty rows allowed) or right of MAX_COLUMNS is
    refused at once, as are more shared strings than such a sheet can hold.
    """
    unreadable = FileRefused(_("The file could not be read as an Excel workbook (.xlsx)."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise unreadable
            if sum(info.file_size for info in parts) > MAX_UNZIPPED:
                raise FileRefused(_("The Excel file is too large to be read."))
            first = _first_sheet(archive)
            names = {info.filename for info in parts}
            sheets = {first} if first in names else {n for n in names if _is_sheet(n)}
            scan = _SheetScan(max_rows + 1 + SPARE_ROWS, MAX_COLUMNS)
            budget = [MAX_UNZIPPED]
            for info in parts:
                if info.filename in sheets:
                    if not _plainly_within(archive, info, budget, scan):
                        _unzip(archive, info, [MAX_UNZIPPED], scan.parser())
                elif info.filename.lower().endswith("sharedstrings.xml"):
                    _unzip(archive, info, budget, scan.strings_parser())
                else:
                    _unzip(archive, info, budget)
    except (FileRefused, MemoryError):
        raise
    except Exception:  # zipfile, zlib and expat raise many kinds of errors on a broken file
        raise unreadable from None


#: An XLSX file with more parts than this is refused.
MAX_PARTS = 1000
#: At most this many columns in a file: each is a choice on the mapping page.
MAX_COLUMNS = 100
#: Empty rows allowed in a sheet besides the header and the rows to import (titles, gaps).
SPARE_ROWS = 1000
_CELL_REF = re.compile(r"([A-Za-z]+)([0-9]+)")


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _unzip(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], parser=None):
    """Unzip a part as a stream (into `parser`), refusing the file past the budget of bytes."""
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise FileRefused(_("The Excel file is too large to be read."))
            if parser is not None:
                parser.Parse(chunk, False)
    if parser is not None:
        parser.Parse(b"", True)


#: The start of a cell's tag (any prefix); a whole cell tag with one plain reference, first.
_ANY_CELL = re.compile(rb"<(?:[^\s<>/]*:)?c[\s/>]")
_PLAIN_CELL = re.compile(
    rb'<(?:[^\s<>/]*:)?c\s+r="([A-Z]{1,3})([0-9]{1,7})"'
    rb"(?:\s+(?!(?:[^\s=<>]*:)?r\s*=)[^\s=<>/]+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*/?>"
)


def _plainly_within(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], scan: _SheetScan
) -> bool:
    """The quick check of a sheet (regular expressions, not an XML parser), True if it passes.

    It holds when every cell tag is plain (its reference first, no other attribute named r)
    and the sheet has no comment, CDATA, document type or processing instruction: then every
    "<" starts a tag, so the references found are those of all the cells. The largest, empty
    cells included, must lie within the limits; otherwise the exact scan (`_SheetScan`) decides.
    """
    within = True
    rest = b""
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise FileRefused(_("The Excel file is too large to be read."))
            if not within:
                continue
            data = rest + chunk
            if not rest and data.startswith(b"<?xml") and b"?>" in data:  # the declaration
                data = data[data.index(b"?>") + 2 :]
            cut = max(data.rfind(b"<"), 0)
            part, rest = data[:cut], data[cut:]
            if b"<!" in part or b"<?" in part or len(rest) > 1 << 20:
                within = False
                continue
            cells = _PLAIN_CELL.findall(part)
            if len(cells) != len(_ANY_CELL.findall(part)):
                within = False
            elif cells:
                last_row = max(int(digits) for _letters, digits in cells)
                letters = max({letters for letters, _digits in cells}, key=lambda b: (len(b), b))
                last_column = scan._column(letters.decode())
                within = last_row <= scan.max_row and last_column <= scan.max_column
    # The last tag (the end of the sheet) must not be a cell or anything else.
    return within and not _ANY_CELL.search(rest + b" ") and b"<!" not in rest and b"<?" not in rest


def _expat(start) -> Any:
    """An XML parser calling `start(name, attributes)`; a document type declaration is refused."""
    parser = expat.ParserCreate()
    parser.StartElementHandler = start

    def no_doctype(*_args: Any) -> None:
        raise ValueError("a document type declaration in a workbook")

    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    return parser


def _small_part(archive: zipfile.ZipFile, name: str, start) -> bool:
    """Parse a small part (at most 4 MB unzipped) if the file has it."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return False
    _unzip(archive, info, [4 * 1024 * 1024], _expat(start))
    return True


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The part of the first sheet of the workbook (the one read), from its relationships."""
    ids: list[str] = []
    targets: dict[str, str] = {}

    def sheet(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "sheet":
            ids.extend(v for k, v in attrs.items() if k.endswith(":id"))

    def relationship(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Relationship" and "Id" in attrs:
            targets[attrs["Id"]] = attrs.get("Target", "")

    if not (
        _small_part(archive, "xl/workbook.xml", sheet)
        and _small_part(archive, "xl/_rels/workbook.xml.rels", relationship)
        and ids
        and ids[0] in targets
    ):
        return None
    target = targets[ids[0]]
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)


class _SheetScan:
    """Follows the cells holding a value in a sheet's XML, as the reader places them."""

    def __init__(self, max_row: int, max_column: int) -> None:
        self.max_row, self.max_column = max_row, max_column
        self.row = self.column = 0
        self.in_cell = False
        self.strings = 0
        self.columns: dict[str, int] = {}

    def parser(self) -> Any:
        return _expat(self.start)

    def strings_parser(self) -> Any:
        return _expat(self.string)

    def string(self, name: str, attrs: dict[str, str]) -> None:
        if name == "si" or name.endswith(":si"):
            self.strings += 1
            if self.strings > self.max_row * self.max_column:
                raise FileRefused(_("The Excel file is too large to be read."))

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name if ":" not in name else name.rpartition(":")[2]
        if local == "c":
            ref = attrs.get("r")
            if ref:
                match = _CELL_REF.fullmatch(ref)
                if match is None:
                    raise ValueError(f"cell reference {ref[:20]!r}")
                letters, digits = match.groups()
                self.row = int(digits) if len(digits) <= 9 else self.max_row + 1
                column = self.columns.get(letters)
                self.column = column if column is not None else self._column(letters)
            else:
                self.column += 1
            self.in_cell = True
        elif local == "row":
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() and len(number) <= 9 else self.row + 1
            self.column = 0
            self.in_cell = False
        elif self.in_cell and local in ("v", "is"):
            self.in_cell = False
            if self.row > self.max_row:
                raise FileRefused(
                    _(
                        "The sheet has cells below row %(row)d: at most %(max)d rows can be "
                        "imported at once. Delete what is below the data, or split the file.",
                        row=self.max_row,
                        max=self.max_row - 1 - SPARE_ROWS,
                    )
                )
            if self.column > self.max_column:
                raise FileRefused(too_many_columns())

    def _column(self, letters: str) -> int:
        number = 0
        for letter in letters.upper()[:4]:
            number = number * 26 + ord(letter) - 64
        self.columns[letters] = number
        return number


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
