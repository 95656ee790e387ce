"""What the import pages and the CLI show of a plan: the preview's cells, errors and counts."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _

from vendorrisk.services.register.imports.columns import CHOICES, FIELD_BY_KEY
from vendorrisk.services.register.imports.files import Table
from vendorrisk.services.register.imports.planning import Summary
from vendorrisk.services.register.imports.rows import Row, RowError

#: Rows shown in the preview.
PREVIEW_ROWS = 10


def samples(table: Table, n: int = 3) -> list[list[str]]:
    """The first `n` values of each column, for recognising it."""
    found: list[list[str]] = [[] for _header in table.headers]
    for _number, cells in table.rows[:200]:
        for values, cell in zip(found, cells, strict=True):
            if cell and len(values) < n:
                values.append(cell)
    return found


def shown(row: Row, key: str) -> str:
    """A cell of the preview as it will be stored, in the current language."""
    if key not in row.values:
        return row.raw.get(key, "")
    value = row.values[key]
    f = FIELD_BY_KEY[key]
    if f.kind == "choice":
        return str(CHOICES[key][value])
    if f.kind == "bool":
        return _("Yes") if value else _("No")
    if f.kind == "owner":
        return row.raw[key]
    return str(value)


def errors_by_cell(rows: Iterable[Row], headers: dict[str, str]) -> dict[tuple[int, str], str]:
    """(row number, field key) -> the message, for marking cells of the preview."""
    key_of = {header: key for key, header in headers.items()}
    return {(e.row, key_of.get(e.column, "")): e.message for row in rows for e in row.errors}


def error_line(error: RowError) -> str:
    """One error as a line ("Row 3, 法人番号: ...") in the current language."""
    return _(
        "Row %(row)d, %(column)s: %(message)s",
        row=error.row,
        column=error.column,
        message=error.message,
    )


def ignored_column(header: str) -> str:
    return _("The column “%(column)s” is not recognised and is ignored.", column=header)


def nothing_imported() -> str:
    return _(
        "Nothing was imported: correct the rows listed above and try again, or skip the "
        "invalid rows."
    )


def summary_lines(summary: Summary, dry_run: bool = False) -> list[str]:
    """The counts of an import in words; a dry run says that nothing was saved."""
    lines = summary.lines()
    return [_("Dry run: nothing was saved."), *lines] if dry_run else lines
