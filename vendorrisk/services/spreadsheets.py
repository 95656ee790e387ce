"""Spreadsheets: the one formula rule and the one workbook-size rule, for every file we handle.

A text cell starting with one of `FORMULA_STARTS` could run as a formula (or hide one) when a
spreadsheet opens the file: `safe_cell` prefixes it with "'", and `restored_cell` takes that
prefix off again when one of our own files comes back.

An XLSX file is a zip archive, and a few kilobytes may unzip to gigabytes or describe a sheet of
billions of cells. `check_size` refuses, before any reader opens it, a workbook whose parts
unzip to more than MAX_UNZIPPED, counting the bytes each part really holds; `check_workbook`
also follows the cells of its first sheet, for readers that allocate every cell from A1 to the
last one. Both raise `WorkbookRefused` with a translated message.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO
from xml.parsers import expat

from flask_babel import gettext as _

#: Leading characters a spreadsheet may read as the start of a formula (or hide one behind).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: An XLSX file whose parts unzip to more than this is refused (a zip bomb).
MAX_UNZIPPED = 200 * 1024 * 1024
#: An XLSX file with more parts than this is refused by `check_workbook`.
MAX_PARTS = 1000
_CELL_REF = re.compile(r"([A-Za-z]+)([0-9]+)")


# -- the formula rule ---------------------------------------------------------------------------


def safe_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet could run as a formula with "'"; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restored_cell(value: Any) -> Any:
    """The reverse of `safe_cell`, so that a round trip leaves the text as it was."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


# -- the workbook-size rule ---------------------------------------------------------------------


class WorkbookRefused(ValueError):
    """A workbook refused before it is read; the message is translated."""


class TooLarge(WorkbookRefused):
    """A workbook whose parts unzip to more than MAX_UNZIPPED."""

    def __init__(self) -> None:
        super().__init__(_("The Excel file is too large to be read."))


class Unreadable(WorkbookRefused):
    """A file that is not a workbook, or a broken one."""

    def __init__(self) -> None:
        super().__init__(unreadable())


class OutsideSheet(WorkbookRefused):
    """A cell holding a value below the last row or right of the last column allowed.

    `axis` is "row" or "column"; the caller words the message, as it knows why the limit is.
    """

    def __init__(self, axis: str) -> None:
        super().__init__(axis)
        self.axis = axis


def unreadable() -> str:
    return _("The file could not be read as an Excel workbook (.xlsx).")


def check_size(stream: BinaryIO) -> None:
    """Refuse a workbook whose parts unzip to more than MAX_UNZIPPED (raise `TooLarge`).

    The sizes the zip declares are checked first, then every part is unzipped as a stream,
    counting the bytes it really holds. A file that is not a zip archive, or a broken one,
    passes: its reader then refuses it in its own words. The stream is left at its start.
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            parts = archive.infolist()
            _check_declared(parts)
            budget = [MAX_UNZIPPED]
            for info in parts:
                _unzip(archive, info, budget)
    except (WorkbookRefused, MemoryError):
        raise
    except Exception:  # zipfile and zlib raise many kinds of errors on a broken file
        return
    finally:
        stream.seek(0)


def _check_declared(parts: list[zipfile.ZipInfo]) -> None:
    if sum(info.file_size for info in parts) > MAX_UNZIPPED:
        raise TooLarge()


def check_workbook(data: bytes, max_row: int, max_column: int) -> None:
    """Refuse, before the reader builds its grid, a workbook that would take too much memory.

    The reader allocates every cell from A1 to the last one of the sheet, so a file of a few
    kilobytes with one cell far down or far right would take gigabytes. Every part is unzipped as
    a stream, counting the bytes it really holds (not the sizes the zip declares), and the XML of
    the first sheet is followed cell by cell (not its <dimension>, which may lie or be missing):
    a cell holding a value below `max_row` or right of `max_column` is refused at once
    (`OutsideSheet`), as are more shared strings than such a sheet can hold (`TooLarge`); a file
    that is not a workbook is `Unreadable`.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise Unreadable()
            _check_declared(parts)
            first = _first_sheet(archive)
            names = {info.filename for info in parts}
            sheets = {first} if first in names else {n for n in names if _is_sheet(n)}
            scan = _SheetScan(max_row, max_column)
            budget = [MAX_UNZIPPED]
            for info in parts:
                if info.filename in sheets:
                    if not _plainly_within(archive, info, budget, scan):
                        _unzip(archive, info, [MAX_UNZIPPED], scan.parser())
                elif info.filename.lower().endswith("sharedstrings.xml"):
                    _unzip(archive, info, budget, scan.strings_parser())
                else:
                    _unzip(archive, info, budget)
    except (WorkbookRefused, MemoryError):
        raise
    except Exception:  # zipfile, zlib and expat raise many kinds of errors on a broken file
        raise Unreadable() from None


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _counted(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> Iterator[bytes]:
    """The unzipped chunks of a part, refusing the file once they pass the budget of bytes."""
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise TooLarge()
            yield chunk


def _unzip(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], parser=None):
    """Unzip a part as a stream (into `parser`), refusing the file past the budget of bytes."""
    for chunk in _counted(archive, info, budget):
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
    for chunk in _counted(archive, info, budget):
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
                raise TooLarge()

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
                raise OutsideSheet("row")
            if self.column > self.max_column:
                raise OutsideSheet("column")

    def _column(self, letters: str) -> int:
        number = 0
        for letter in letters.upper()[:4]:
            number = number * 26 + ord(letter) - 64
        self.columns[letters] = number
        return number
