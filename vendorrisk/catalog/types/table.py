"""Rows of cells under the columns the question declares (issue 18: a supplier's subcontractors).

The answer is a list of rows, each the dict of its filled cells by column id; unscored. A cell is
read by its column's own answer type, given the column as its question, so a corporate number, a
date or a choice is checked in a table as in a question of its own. The portal posts a field per
cell (`<name>-<row>-<column id>`); the workbook holds the table in one cell, a line per row, its
cells separated by " | ".
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorrisk.catalog import formats
from vendorrisk.catalog.text import Text, bilingual
from vendorrisk.catalog.types.base import AnswerError, AnswerType, plain, register, spelling_key
from vendorrisk.vocab import Locale

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

    from vendorrisk.catalog.model import Column, Question

#: A cell's field name after the answer's: `-<row>-<column id>`.
CELL_FIELD = re.compile(r"-(\d{1,3})-([a-z0-9_]+)")
#: What separates the cells of a workbook line, as written...
SEPARATOR = " | "
#: ...and as read: a half- or full-width bar (the one a Japanese input method types).
BAR = re.compile(r"\s*[|｜]\s*")
#: The portal shows at least this many rows, and one blank row below those filled.
FIRST_ROWS = 3
#: A cell holds a short text (the comment is there for more).
CELL_CHARS = 200
#: The problems of one answer listed (the others are counted).
SHOWN_PROBLEMS = 5


def _locale() -> str:
    return str(get_locale())  # Text.get reads anything but "en" as Japanese, as the UI does


class Table(AnswerType):
    name = "table"
    title = _l("Table")
    hint = Text(
        "表（1行に1件、列は「 | 」で区切る。*は必須の列）",
        "Table (one row per line, columns separated by “ | ”; * required column)",
    )

    # ---------------------------------------------------------------- labels

    def label(self, question: Question, value: Any, locale: str | None) -> str:
        """A line per row, numbered: "column: value" for each cell filled."""
        if not value:
            return ""
        if not isinstance(value, list):
            return str(value)
        english = locale == Locale.en
        colon, between = (": ", "; ") if english else ("：", "、")
        lines = []
        for n, row in enumerate(value, start=1):
            cells = [
                f"{c.label.get(locale)}{colon}{_shown(c, row[c.id], locale)}"
                for c in question.columns
                if isinstance(row, dict) and row.get(c.id) not in (None, "")
            ]
            lines.append(f"({n}) {between.join(cells)}")
        return "\n".join(lines)

    def header(self, question: Question) -> Text:
        """The columns in their order, as a workbook line has them (* for a required one)."""

        def line(lang: str) -> str:
            return SEPARATOR.join(
                c.label.get(lang) + ("*" if c.required else "") for c in question.columns
            )

        return Text(line(Locale.ja), line(Locale.en))

    # ---------------------------------------------------------------- normalising

    def normalize(self, question: Question, raw: Any) -> list[dict[str, str]] | None:
        """The rows filled in (blank ones dropped), or None when none is."""
        if raw is None or raw == "":
            return None
        return self.clean(question, raw) or None

    def clean(self, question: Question, raw: Any) -> list[dict[str, str]]:
        """The rows filled in, each cell as its column's type stores it; AnswerError naming the
        row and column of each problem, in the reader's language."""
        return _rows(question, raw, lines=False)

    # ---------------------------------------------------------------- the portal form

    def from_form(self, form: MultiDict, name: str) -> list[dict[str, str]]:
        """The rows posted as `<name>-<row>-<column id>` fields, blank ones included, in order."""
        rows: dict[int, dict[str, str]] = {}
        for key in form:
            found = CELL_FIELD.fullmatch(key, len(name)) if key.startswith(name) else None
            if found:
                rows.setdefault(int(found[1]), {})[found[2]] = form.get(key, "")
        return [rows[n] for n in sorted(rows)]

    def to_form(self, question: Question, name: str, value: Any) -> dict[str, Any]:
        """Each cell as its own `<name>-<row>-<column id>` field."""
        return {
            f"{name}-{i}-{column}": cell
            for i, row in enumerate(value or [])
            for column, cell in row.items()
        }

    def rows_shown(self, question: Question, value: Any, asked: str | None) -> int:
        """The rows the portal shows: those given, then blank ones up to FIRST_ROWS (at least
        one), or up to what "Add a row" asked for (`asked`: "<question id>:<rows>"); within
        max_rows, unless more were typed (shown to correct)."""
        given = len(value) if isinstance(value, list) else 0
        qid, _colon, count = (asked or "").partition(":")
        wanted = int(count) if qid == question.id and re.fullmatch(r"\d{1,3}", count) else 0
        return max(given, min(max(given + 1, FIRST_ROWS, wanted), question.max_rows or 1))

    def suggestions(self, column: Column, locale: str | None) -> tuple[tuple[str, str], ...]:
        """(value, label) pairs a text cell offers as it is typed: a country column's."""
        return formats.country_options(locale) if column.format == "country" else ()

    # ---------------------------------------------------------------- the workbook

    def cell(self, question: Question, value: Any) -> str:
        """A line per row, its cells in the columns' order separated by " | " (a choice as its
        labels in both languages, as a choice question's cell); anything but rows (an answer
        from before the question was a table) as it is."""
        if not value:
            return ""
        if not isinstance(value, list):
            return str(value)
        return "\n".join(
            SEPARATOR.join(_written(c, row.get(c.id)) for c in question.columns).rstrip()
            for row in value
        )

    def from_cell(self, question: Question, raw: Any) -> list[dict[str, str]] | None:
        """The lines `cell` writes, read back: cells separated by a bar in the columns' order
        (those missing at the end blank); a line of the column headers is skipped."""
        ids = [c.id for c in question.columns]
        rows = []
        for n, line in enumerate(plain(raw).splitlines(), start=1):
            cells = BAR.split(line.strip()) if line.strip() else []
            if any(cells[len(ids) :]):
                raise AnswerError(
                    _(
                        "Line %(line)d has %(count)d columns; this question has %(max)d. "
                        "Separate them with “ | ” in the order the answer type column shows.",
                        line=n,
                        count=len(cells),
                        max=len(ids),
                    )
                )
            rows.append({} if _is_header(question, cells) else dict(zip(ids, cells, strict=False)))
        return _rows(question, rows, lines=True) or None

    # ---------------------------------------------------------------- samples

    def sample(self, question: Question, rng: random.Random | None = None) -> list[dict[str, str]]:
        """One row, each cell its column type's sample."""
        return [{c.id: c.kind.sample(c, rng) for c in question.columns}]


def _rows(question: Question, raw: Any, lines: bool) -> list[dict[str, str]]:
    """The rows of `raw` that are not blank, checked; problems name the row (or, in a workbook
    cell, the line) by its place among all of them."""
    if not isinstance(raw, list | tuple) or not all(isinstance(row, dict) for row in raw):
        raise AnswerError("a table answer is a list of rows, each a dict of cells by column id")
    rows, problems = [], []
    for n, row in enumerate(raw, start=1):
        if all(_blank(row.get(c.id)) for c in question.columns):
            continue
        cells = {}
        for column in question.columns:
            try:
                value = _cell(column, row.get(column.id))
            except AnswerError as exc:
                problems.append(_at(n, column, str(exc), lines))
                continue
            if value is not None:
                cells[column.id] = value
        rows.append(cells)
    limit = question.max_rows or 0
    if len(rows) > limit:
        problems.insert(0, _too_many(limit, len(rows), lines))
    if problems:
        raise AnswerError(_listed(problems))
    return rows


def _blank(raw: Any) -> bool:
    return raw is None or not plain(raw)


def _cell(column: Column, raw: Any) -> Any:
    """A cell as its column's type stores it (None when blank), one line of at most CELL_CHARS
    characters without a bar; AnswerError saying why not, in the reader's language."""
    text = " ".join(plain(raw).split()) if raw is not None else ""
    if not text:
        if column.required:
            raise AnswerError(_("Fill in this column."))
        return None
    if len(text) > CELL_CHARS:
        raise AnswerError(_("At most %(n)d characters.", n=CELL_CHARS))
    if BAR.search(text):
        raise AnswerError(
            _("“|” separates the columns in the Excel file: do not use it in a cell.")
        )
    return column.kind.from_cell(column, text)


def _at(n: int, column: Column, problem: str, lines: bool) -> str:
    label = column.label.get(_locale())
    if lines:
        return _("Line %(line)d, %(column)s: %(problem)s", line=n, column=label, problem=problem)
    return _("Row %(row)d, %(column)s: %(problem)s", row=n, column=label, problem=problem)


def _too_many(limit: int, count: int, lines: bool) -> str:
    if lines:
        return _("Write at most %(max)d lines (there are %(count)d).", max=limit, count=count)
    return _("Enter at most %(max)d rows (there are %(count)d).", max=limit, count=count)


def _listed(problems: list[str]) -> str:
    """The first SHOWN_PROBLEMS problems, and how many more there are."""
    shown = " ".join(problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    if more <= 0:
        return shown
    return shown + " " + ngettext("(and %(num)d more problem)", "(and %(num)d more problems)", more)


def _shown(column: Column, value: Any, locale: str | None) -> str:
    """A stored cell as staff read it: a choice by its label, a country by its name."""
    if column.format == "country":
        return formats.country_name(str(value), locale)
    return column.kind.label(column, value, locale)


def _written(column: Column, value: Any) -> str:
    """A stored cell as the workbook writes it (read back by the column's type)."""
    if value in (None, ""):
        return ""
    labels = column.kind.labels(column)
    return bilingual(labels[value]) if value in labels else str(value)


def _is_header(question: Question, cells: list[str]) -> bool:
    """Whether a line's cells are the column headers (copied from the answer type column)."""
    names = {
        spelling_key(name)
        for c in question.columns
        for name in (c.label.ja, c.label.en, bilingual(c.label))
    }
    filled = [spelling_key(cell.rstrip("*＊ ")) for cell in cells if cell]
    return bool(filled) and all(cell in names for cell in filled)


register(Table())
