"""Spreadsheets: the one formula rule and the one workbook-safety rule, for every file we handle.

A text cell starting with one of `FORMULA_STARTS` could run as a formula (or hide one) when a
spreadsheet opens the file: `safe_cell` prefixes it with "'", and `restored_cell` takes that
prefix off again when one of our own files comes back.

An XLSX file is a zip archive, and a few kilobytes may unzip to gigabytes or describe a sheet of
billions of cells. Every workbook the app reads (the portal's Excel round trip, the supplier
import) goes first through `check_workbook` with the `Limits` of its reader, measured from the
files that reader is meant for: the bytes its parts really unzip to (not the sizes the zip
declares), and the extent of the sheets the reader reads (the cells holding a value and the
<dimension> the sheet claims), before a reader opens it. It raises `WorkbookRefused` with a
translated message. What a reader then reports row by row is kept in `Problems`, which keeps
the first MAX_ERRORS and only counts the rest.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from xml.parsers import expat

from flask_babel import gettext as _

#: Leading characters a spreadsheet may read as the start of a formula (or hide one behind).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: An XLSX file with more parts than this is refused.
MAX_PARTS = 1000
#: Row-by-row problems kept for the person who uploaded the file; the others are only counted.
MAX_ERRORS = 50
_CELL_REF = re.compile(r"([A-Za-z]+)([0-9]+)")
T = TypeVar("T")


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


# -- the workbook-safety rule -------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What one reader accepts of a workbook, set from the files it is meant for."""

    #: Bytes all the parts may unzip to, counted as they are unzipped.
    max_unzipped: int
    #: The last row and column a cell holding a value (or the sheet's <dimension>) may reach.
    max_row: int
    max_column: int
    #: The names of the sheets the reader reads; None: the first sheet only.
    sheets: tuple[str, ...] | None = None


class WorkbookRefused(ValueError):
    """A workbook refused before it is read; the message is translated."""


class TooLarge(WorkbookRefused):
    """A workbook whose parts unzip to more than its reader's limit."""

    def __init__(self) -> None:
        super().__init__(_("The Excel file is too large to be read."))


class Unreadable(WorkbookRefused):
    """A file that is not a workbook, or a broken one."""

    def __init__(self) -> None:
        super().__init__(unreadable())


class OutsideSheet(WorkbookRefused):
    """A cell holding a value (or a <dimension>) below the last row or right of the last column.

    `axis` is "row" or "column", `sheet` the sheet's name (or its part when it has none); the
    caller words the message, as it knows why the limit is.
    """

    def __init__(self, axis: str, sheet: str = "") -> None:
        super().__init__(axis)
        self.axis, self.sheet = axis, sheet


def unreadable() -> str:
    return _("The file could not be read as an Excel workbook (.xlsx).")


def check_workbook(data: bytes, limits: Limits) -> None:
    """Refuse, before any reader opens it, a workbook that would take too much memory or time.

    Every part is unzipped as a stream, counting the bytes it really holds (not the sizes the
    zip declares) against `limits.max_unzipped` (`TooLarge`). The XML of each sheet the reader
    reads is followed cell by cell (the <dimension> may lie or be missing): a cell holding a
    value below `max_row` or right of `max_column`, or a <dimension> claiming more, is refused
    at once (`OutsideSheet`), as are more shared strings than such sheets can hold
    (`TooLarge`); a file that is not a workbook is `Unreadable`.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS:
                raise Unreadable()
            if sum(info.file_size for info in parts) > limits.max_unzipped:
                raise TooLarge()
            sheets = _sheets_read(archive, {info.filename for info in parts}, limits.sheets)
            strings = _SheetScan(limits.max_row, limits.max_column * max(len(sheets), 1))
            budget = [limits.max_unzipped]
            for info in parts:
                if info.filename in sheets:
                    scan = _SheetScan(limits.max_row, limits.max_column, sheets[info.filename])
                    if not _plainly_within(archive, info, budget, scan):
                        _unzip(archive, info, [limits.max_unzipped], scan.parser())
                elif info.filename.lower().endswith("sharedstrings.xml"):
                    _unzip(archive, info, budget, strings.strings_parser())
                else:
                    _unzip(archive, info, budget)
    except (WorkbookRefused, MemoryError):
        raise
    except Exception:  # zipfile, zlib and expat raise many kinds of errors on a broken file
        raise Unreadable() from None


def _sheets_read(
    archive: zipfile.ZipFile, names: set[str], wanted: tuple[str, ...] | None
) -> dict[str, str]:
    """The parts of the sheets a reader reads, with their names, as the reader finds them.

    Without a workbook part to name them, every sheet part counts.
    """
    parts = _sheet_parts(archive)
    if parts is None:
        return {n: n for n in names if _is_sheet(n)}
    chosen = list(parts.items())[:1] if wanted is None else [
        (name, part) for name, part in parts.items() if name in wanted
    ]  # fmt: skip
    return {part: name for name, part in chosen if part in names}


@dataclass
class Problems(Generic[T]):
    """The problems a reader reports: the first `limit` kept, the others only counted."""

    limit: int = MAX_ERRORS
    kept: list[T] = field(default_factory=list)
    more: int = 0

    def add(self, problem: T) -> None:
        if len(self.kept) < self.limit:
            self.kept.append(problem)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.kept)

    def more_message(self) -> str | None:
        """ "…and N more", when some were only counted."""
        if not self.more:
            return None
        return _(
            "…and %(n)d more problems, not listed. Correct the ones above and upload the "
            "file again.",
            n=self.more,
        )


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
#: The extent a sheet claims, in its plainest spelling (any other: the exact scan decides).
_DIMENSION = re.compile(rb'<(?:[^\s<>/]*:)?dimension\s+ref="([A-Za-z0-9:]{1,24})"\s*/>')


def _plainly_within(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], scan: _SheetScan
) -> bool:
    """The quick check of a sheet (regular expressions, not an XML parser), True if it passes.

    It holds when every cell tag is plain (its reference first, no other attribute named r)
    and the sheet has no comment, CDATA, document type or processing instruction: then every
    "<" starts a tag, so the references found are those of all the cells. The largest, empty
    cells included, must lie within the limits; otherwise the exact scan (`_SheetScan`) decides.
    A <dimension> claiming more than the limits is refused here at once (`OutsideSheet`).
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
        if b"dimension" in part:
            claim = _DIMENSION.search(part)
            if claim is None:
                within = False
                continue
            scan.dimension(claim.group(1))
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


#: The content types of a workbook's main part (.xlsx, .xlsm, .xltx, .xltm).
_WORKBOOK_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}


def _declared_workbooks(archive: zipfile.ZipFile) -> set[str]:
    """The parts the file's content types declare as its workbook (a reader opens the first)."""
    declared: set[str] = set()

    def override(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Override" and attrs.get("ContentType") in _WORKBOOK_TYPES:
            declared.add(attrs.get("PartName", "").lstrip("/"))

    _small_part(archive, "[Content_Types].xml", override)
    return declared


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str] | None:
    """The part of each sheet by its name, in the workbook's order, from its relationships.

    A workbook declared elsewhere than xl/workbook.xml is refused: a reader would follow that
    one, and its sheets would not be the ones checked.
    """
    if _declared_workbooks(archive) - {"xl/workbook.xml"}:
        raise Unreadable()
    sheets: list[tuple[str, str]] = []
    targets: dict[str, str] = {}

    def sheet(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "sheet":
            ids = [v for k, v in attrs.items() if k.endswith(":id")]
            if ids:
                sheets.append((attrs.get("name", ""), ids[0]))

    def relationship(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Relationship" and "Id" in attrs:
            targets[attrs["Id"]] = attrs.get("Target", "")

    if not (
        _small_part(archive, "xl/workbook.xml", sheet)
        and _small_part(archive, "xl/_rels/workbook.xml.rels", relationship)
        and sheets
        and sheets[0][1] in targets
    ):
        return None
    parts = {}
    for name, rid in sheets:
        target = targets.get(rid, "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        parts.setdefault(name, part)
    return parts


class _SheetScan:
    """Follows the cells holding a value in a sheet's XML, as the reader places them."""

    def __init__(self, max_row: int, max_column: int, sheet: str = "") -> None:
        self.max_row, self.max_column, self.sheet = max_row, max_column, sheet
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
            self.within(self.row, self.column)
        elif local == "dimension":
            self.dimension(attrs.get("ref", "").encode())

    def within(self, row: int, column: int) -> None:
        """Refuse a cell (or a claimed extent) below the last row or right of the last column."""
        if row > self.max_row:
            raise OutsideSheet("row", self.sheet)
        if column > self.max_column:
            raise OutsideSheet("column", self.sheet)

    def dimension(self, ref: bytes) -> None:
        """Refuse a sheet claiming to reach past the limits: some readers size their grid by it.

        A claim that cannot be read is left to the cells, which are followed anyway.
        """
        match = _CELL_REF.fullmatch(ref.rpartition(b":")[2].decode("ascii", "replace"))
        if match is not None:
            letters, digits = match.groups()
            row = int(digits) if len(digits) <= 9 else self.max_row + 1
            self.within(row, self._column(letters))

    def _column(self, letters: str) -> int:
        number = 0
        for letter in letters.upper()[:4]:
            number = number * 26 + ord(letter) - 64
        self.columns[letters] = number
        return number
