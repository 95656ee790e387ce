"""The offline Excel round trip of the supplier portal: a bilingual workbook out, answers back in.

The workbook is written in Japanese and English at once (the people filling it in and the people
reviewing it may not share a language), so its fixed texts are `Text` pairs, not gettext
messages. Import errors are shown on a portal page and follow the current locale.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, BinaryIO

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from vendorrisk.catalog import Question, Section, Template, Text
from vendorrisk.catalog.text import bilingual
from vendorrisk.catalog.types import AnswerError
from vendorrisk.catalog.types.base import plain
from vendorrisk.models import Answer, Assessment
from vendorrisk.services import spreadsheets
from vendorrisk.services.assessments.portal import Posted, save_answers

log = logging.getLogger(__name__)

INSTRUCTIONS = "説明 Instructions"
LISTS = "lists"
#: Row 1 holds the section title, row 2 the header; questions start here.
FIRST_ROW = 3
ID, TEXT_JA, TEXT_EN, TYPE, ALLOWED, ANSWER, COMMENT, VERSION = range(1, 9)
HEADERS = {
    ID: Text("質問ID", "Question ID"),
    TEXT_JA: Text("質問（日本語）", "Question (Japanese)"),
    TEXT_EN: Text("質問（英語）", "Question (English)"),
    TYPE: Text("回答の種類", "Answer type"),
    ALLOWED: Text("選択肢", "Allowed answers"),
    ANSWER: Text("回答", "ANSWER"),
    COMMENT: Text("コメント", "COMMENT"),
    VERSION: Text("版", "VERSION"),
}
WIDTHS = {
    ID: 14,
    TEXT_JA: 48,
    TEXT_EN: 48,
    TYPE: 18,
    ALLOWED: 34,
    ANSWER: 34,
    COMMENT: 44,
    VERSION: 8,
}
REQUIRED = Text("必須", "Required")
GUIDE = (
    Text(
        "回答欄（ANSWER）とコメント欄（COMMENT）のみご記入ください。"
        "その他の列・シートは変更しないでください。",
        "Fill in only the ANSWER and COMMENT columns; do not change other columns or sheets.",
    ),
    Text(
        "選択式の質問は、セルのドロップダウンから回答を選んでください。",
        "For choice questions, choose the answer from the cell's drop-down list.",
    ),
    Text(
        "複数選択の質問は、選択肢を「;」で区切って記入してください。",
        'For multiple-choice questions, separate the choices with ";".',
    ),
    Text(
        "日付は YYYY-MM-DD の形式（例: 2026-12-31）で記入してください。",
        "Write dates as YYYY-MM-DD (e.g. 2026-12-31).",
    ),
    Text(
        "空欄のセルは保存済みの内容を変更しません。"
        "回答やコメントの削除はポータルで行ってください。",
        "Empty cells leave what is saved unchanged; delete answers or comments in the portal.",
    ),
    Text(
        "前回の評価から引き継いだ回答は、このファイルをアップロードすると確認済みになります。",
        "Answers carried over from the previous assessment count as confirmed once you upload "
        "this file.",
    ),
    Text(
        "Excelには証跡ファイルを添付できません。証跡はポータルでアップロードしてください。",
        "Files cannot be attached in Excel: upload evidence in the portal.",
    ),
    Text(
        "記入後、ポータルの概要ページからこのファイルをアップロードしてください。"
        "誤りがある場合は何も取り込まれず、行ごとに理由が表示されます。",
        "When done, upload this file on the portal's overview page. If any row has a problem, "
        "nothing is imported and each problem is listed by sheet and row.",
    ),
    Text(
        "ダウンロード後にポータルで変更された回答は上書きせず、エラーとして表示します。"
        "その場合はファイルを再度ダウンロードしてください。",
        "An answer changed in the portal after the download is never overwritten: its row is "
        "reported as an error, and you download the file again.",
    ),
)
#: Custom document properties that tie a file to its assessment.
PROP_ASSESSMENT = "vendorrisk.assessment"
PROP_TEMPLATE = "vendorrisk.template"
#: Rows a sheet may have below its questions (notes a supplier adds) and columns right of them.
SPARE_ROWS = 500
SPARE_COLUMNS = 20
#: What a filled-in workbook may unzip to: BASE_UNZIPPED and BYTES_PER_QUESTION for each
#: question. The blank workbook of the largest questionnaire (csm-v2-supplier, 57 questions) is
#: 113 KB unzipped, about 2 KB a question (bench/workbook_bomb.py prints it). Filled in, a
#: question holds an answer and a comment, each at most a few thousand characters of Japanese
#: (3 bytes each); 64 KB a question covers a long text in both, and 1 MB what Excel adds when it
#: saves (styles, theme, calculation chain). That is 4.6 MB for csm-v2-supplier, 40 times its
#: blank file: a real workbook passes, a bomb is refused after reading at most that much.
BASE_UNZIPPED = 1024 * 1024
BYTES_PER_QUESTION = 64 * 1024
#: Characters an Excel cell holds; a longer text answer is written cut (and kept on import).
CELL_LIMIT = 32_767
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE3EC")
INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")
WRAP = Alignment(wrap_text=True, vertical="top")


@dataclass
class RowError:
    sheet: str
    row: int
    message: str


@dataclass
class ImportResult:
    saved: int = 0
    errors: list[RowError] = field(default_factory=list)


def file_name(assessment: Assessment, template: Template) -> str:
    return f"{template.id}-{assessment.id}.xlsx"


# ---------------------------------------------------------------- labels and cell values


def sheet_names(template: Template) -> dict[str, str]:
    """A valid, unique sheet name for each section id (Excel compares names ignoring case)."""
    taken = {INSTRUCTIONS.casefold(), LISTS.casefold()}
    names = {}
    for section in template.sections:
        base = re.sub(r"[\[\]:*?/\\']", "_", section.id)[:31] or "section"
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base[: 31 - len(str(n)) - 1]}~{n}"
        taken.add(name.casefold())
        names[section.id] = name
    return names


# ---------------------------------------------------------------- the workbook


def build_workbook(assessment: Assessment, template: Template) -> io.BytesIO:
    """The questionnaire as a bilingual workbook, pre-filled with the stored answers."""
    wb = Workbook()
    _instructions(wb.active, assessment, template)
    lists = _Lists(wb.create_sheet(LISTS))
    answers = {a.question_id: a for a in assessment.answers}
    for section in template.sections:
        ws = wb.create_sheet(sheet_names(template)[section.id])
        _section_sheet(ws, template, section, answers, lists)
    wb.move_sheet(LISTS, offset=len(wb.sheetnames))
    wb[LISTS].sheet_state = "hidden"
    wb.custom_doc_props.append(StringProperty(name=PROP_ASSESSMENT, value=str(assessment.id)))
    wb.custom_doc_props.append(StringProperty(name=PROP_TEMPLATE, value=template.key))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def _put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write a cell; text always stays text (and within what a cell holds)."""
    if not isinstance(value, str):
        return ws.cell(row, column, value)
    cell = ws.cell(row, column, spreadsheets.safe_cell(value)[:CELL_LIMIT])
    cell.data_type = "s"
    return cell


def _instructions(ws: Worksheet, assessment: Assessment, template: Template) -> None:
    ws.title = INSTRUCTIONS
    supplier = assessment.supplier
    lines = [
        (Text("質問票", "Questionnaire"), template.title.ja),
        (None, template.title.en),
        (Text("取引先", "Supplier"), supplier.name_ja if supplier else ""),
        (None, supplier.name_en if supplier else ""),
        (Text("回答期限", "Due date"), assessment.due_on.isoformat()),
        (None, ""),
        (Text("記入方法", "How to fill in this file"), ""),
    ]
    lines += [(None, f"・{t.ja}") for t in GUIDE] + [(None, "")]
    lines += [(None, f"• {t.en}") for t in GUIDE]
    for row, (label, value) in enumerate(lines, start=1):
        if label is not None:
            _put(ws, row, 1, bilingual(label)).font = BOLD
        _put(ws, row, 2, value).alignment = WRAP
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 110


class _Lists:
    """The hidden sheet of drop-down lists: a list formula of its own is limited to 255 chars."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.refs: dict[tuple[str, ...], str] = {}

    def ref(self, labels: tuple[str, ...]) -> str:
        if labels not in self.refs:
            column = len(self.refs) + 1
            for row, label in enumerate(labels, start=1):
                _put(self.ws, row, column, label)
            letter = get_column_letter(column)
            self.refs[labels] = f"{quote_sheetname(LISTS)}!${letter}$1:${letter}${len(labels)}"
        return self.refs[labels]


def _section_sheet(
    ws: Worksheet, template: Template, section: Section, answers: dict[str, Answer], lists: _Lists
) -> None:
    _put(ws, 1, ID, bilingual(section.title)).font = Font(bold=True, size=12)
    for column, header in HEADERS.items():
        cell = _put(ws, 2, column, f"{header.ja}\n{header.en}")
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
    validations: dict[str, DataValidation] = {}
    for row, question in enumerate(section.questions, start=FIRST_ROW):
        _question_row(ws, row, question, answers.get(question.id), _condition(template, question))
        labels = tuple(bilingual(t) for t in question.kind.labels(question).values())
        if labels and not question.kind.multiple:
            ref = lists.ref(labels)
            if ref not in validations:
                validations[ref] = _dropdown(ws, ref)
            validations[ref].add(ws.cell(row, ANSWER).coordinate)
    _layout(ws)


def _question_row(
    ws: Worksheet, row: int, question: Question, answer: Answer | None, condition: str
) -> None:
    help_text = question.help or Text("", "")
    _put(ws, row, ID, question.id)
    _put(ws, row, TEXT_JA, _with_help(question.text.ja, help_text.ja, "※ "))
    _put(ws, row, TEXT_EN, _with_help(question.text.en, help_text.en, "Note: "))
    _put(ws, row, TYPE, _type_cell(question))
    _put(ws, row, ALLOWED, "\n\n".join(filter(None, [_allowed(question), condition])))
    _put(ws, row, ANSWER, question.kind.cell(question, answer.value if answer else None))
    _put(ws, row, COMMENT, answer.comment if answer else "")
    _put(ws, row, VERSION, answer.version if answer else 0)
    for column in range(ID, VERSION):
        ws.cell(row, column).alignment = WRAP
    editable = [COMMENT] if question.kind.holds_files else [ANSWER, COMMENT]
    for column in editable:
        cell = ws.cell(row, column)
        cell.protection, cell.fill, cell.number_format = Protection(locked=False), INPUT_FILL, "@"


def _type_cell(question: Question) -> str:
    """What the answer takes: the type's hint, whether it is required, and a table's columns
    in the order each of its lines gives them (in each language)."""
    lines = [bilingual(question.kind.hint)] + ([bilingual(REQUIRED)] if question.required else [])
    if question.columns:
        header = question.kind.header(question)
        lines += ["", header.ja, header.en]
    return "\n".join(lines)


def _allowed(question: Question) -> str:
    """The answers a choice accepts; for a table, those of each of its choice columns."""
    lines = [bilingual(t) for t in question.kind.labels(question).values()]
    for column in question.columns:
        if column.choices:
            choices = "; ".join(bilingual(c.label) for c in column.choices)
            lines.append(f"{bilingual(column.label)}: {choices}")
    return "\n".join(lines)


def _condition(template: Template, question: Question) -> str:
    """When a conditional question applies, in both languages."""
    if question.show_if is None:
        return ""
    target = template.question(question.show_if.question)
    labels = target.kind.labels(target)
    values = [labels[v] if v in labels else Text(v, v) for v in question.show_if.values]
    return (
        f"※ {target.id} が「{'」「'.join(t.ja for t in values)}」の場合に回答 / "
        f"Answer only if {target.id} is: {'; '.join(t.en for t in values)}"
    )


def _with_help(text: str, help_text: str, mark: str) -> str:
    return f"{text}\n\n{mark}{help_text}" if help_text else text


def _dropdown(ws: Worksheet, ref: str) -> DataValidation:
    validation = DataValidation(
        type="list",
        formula1=ref,
        allow_blank=True,
        showDropDown=False,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="回答 / Answer",
        error="一覧から選択してください。 / Please choose from the list.",
    )
    ws.add_data_validation(validation)
    return validation


def _layout(ws: Worksheet) -> None:
    for column, width in WIDTHS.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.column_dimensions[get_column_letter(VERSION)].hidden = True
    ws.freeze_panes = ws.cell(FIRST_ROW, TEXT_JA)
    # No password: the protection only keeps ids and versions from being edited by accident.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


# ---------------------------------------------------------------- import


@dataclass
class _Row:
    """One question row as read from the file."""

    sheet: str
    row: int
    question: Question
    answer: Any
    comment: Any
    version: Any


def limits(template: Template) -> spreadsheets.Limits:
    """What a workbook of `template` may hold: its question sheets are read, nothing else."""
    longest = max((len(section.questions) for section in template.sections), default=0)
    return spreadsheets.Limits(
        max_unzipped=BASE_UNZIPPED + BYTES_PER_QUESTION * len(template.questions),
        max_row=FIRST_ROW - 1 + longest + SPARE_ROWS,
        max_column=VERSION + SPARE_COLUMNS,
        sheets=tuple(sheet_names(template).values()),
    )


def import_workbook(
    assessment: Assessment,
    template: Template,
    stream: BinaryIO,
    contact_id: int | None,
    now: datetime,
) -> ImportResult:
    """Save the answers of a filled-in workbook: all of them, or none when any row is wrong.

    The file goes through the workbook-safety rule first (`limits`), so that a bomb is refused
    before a row is read; the problems listed are at most `spreadsheets.MAX_ERRORS`.
    """
    data = stream.read()
    try:
        spreadsheets.check_workbook(data, limits(template))
    except spreadsheets.OutsideSheet as outside:
        return _failed(_outside(outside.sheet))
    except spreadsheets.Unreadable:
        return _failed(_not_excel())
    except spreadsheets.WorkbookRefused as refused:
        return _failed(str(refused))
    try:
        rows = _read(io.BytesIO(data), assessment, template)
    except Exception:  # openpyxl raises many kinds of errors for what is not an XLSX file
        log.info("unreadable Excel upload for assessment %s", assessment.id, exc_info=True)
        return _failed(_not_excel())
    if isinstance(rows, str):
        return _failed(rows)
    return _import_rows(assessment, template, rows, contact_id, now)


def _not_excel() -> str:
    return _(
        "The file is not an Excel file (.xlsx). Download the Excel file from "
        "the portal, fill it in and upload it again."
    )


def _outside(sheet: str) -> str:
    return _(
        "Sheet %(sheet)s has content outside the rows and columns of the questionnaire. "
        "Nothing was read. Delete what was added below or to the right of the questions, or "
        "download the Excel file again from the portal and enter your answers in it.",
        sheet=sheet,
    )


def _read(
    stream: BinaryIO, assessment: Assessment, template: Template
) -> list[_Row | RowError] | str:
    """The question rows of the file, or why it is not this assessment's workbook."""
    wb = load_workbook(stream, read_only=True, data_only=True)
    try:
        return _belongs(wb, assessment, template) or list(_rows(wb, template))
    finally:
        wb.close()


def _failed(message: str) -> ImportResult:
    return ImportResult(errors=[RowError(sheet="", row=0, message=message)])


def _belongs(wb: Any, assessment: Assessment, template: Template) -> str | None:
    """Why the file is not this assessment's workbook, if it is not."""
    props = {p.name: str(p.value) for p in wb.custom_doc_props}
    expected = {PROP_ASSESSMENT: str(assessment.id), PROP_TEMPLATE: template.key}
    if any(props.get(k, v) != v for k, v in expected.items()):
        return _(
            "This Excel file belongs to another questionnaire. Download the Excel file of "
            "this questionnaire from the portal."
        )
    if not set(sheet_names(template).values()) & set(wb.sheetnames):
        return _(
            "The file contains none of the questionnaire's sheets. Upload the Excel file "
            "downloaded from the portal."
        )
    return None


def _rows(wb: Any, template: Template) -> Iterator[_Row | RowError]:
    known = {q.id: q for q in template.questions}
    last_row = limits(template).max_row  # checked before; the reader stops there too
    for name in sheet_names(template).values():
        if name not in wb.sheetnames:
            continue  # a deleted sheet just leaves its answers as they are
        cells = wb[name].iter_rows(
            min_row=FIRST_ROW, max_row=last_row, max_col=VERSION, values_only=True
        )
        for number, values in enumerate(cells, start=FIRST_ROW):
            values = tuple(values) + (None,) * (VERSION - len(values))
            qid = str(values[ID - 1]).strip() if values[ID - 1] is not None else ""
            if not qid:
                continue
            if qid not in known:
                yield RowError(name, number, _("Unknown question ID: %(id)s.", id=qid))
                continue
            yield _Row(
                name,
                number,
                known[qid],
                values[ANSWER - 1],
                values[COMMENT - 1],
                values[VERSION - 1],
            )


def _import_rows(
    assessment: Assessment,
    template: Template,
    rows: list[_Row | RowError],
    contact_id: int | None,
    now: datetime,
) -> ImportResult:
    existing = {a.question_id: a for a in assessment.answers}
    errors: spreadsheets.Problems[RowError] = spreadsheets.Problems()
    posted: dict[str, Posted] = {}
    where: dict[str, _Row] = {}
    for row in rows:
        if isinstance(row, RowError):
            errors.add(row)
            continue
        qid = row.question.id
        if qid in where:
            errors.add(_twice(row, where[qid]))
            continue
        where[qid] = row
        try:
            item = _posted(row, existing.get(qid))
        except AnswerError as exc:
            errors.add(RowError(row.sheet, row.row, str(exc)))
            continue
        if item is not None:
            posted[qid] = item
    if errors:
        return ImportResult(errors=_capped(errors))
    return _save(assessment, template, posted, where, contact_id, now)


def _twice(row: _Row, first: _Row) -> RowError:
    message = _(
        "Question %(id)s appears more than once (also on sheet %(sheet)s, row %(row)d).",
        id=row.question.id,
        sheet=first.sheet,
        row=first.row,
    )
    return RowError(row.sheet, row.row, message)


def _posted(row: _Row, stored: Answer | None) -> Posted | None:
    """What the row asks to save (None: nothing); AnswerError with a translated message."""
    question = row.question
    raw = None if question.kind.holds_files else _cell_text(row.answer)
    comment = _cell_text(row.comment)
    if raw is None and comment is None:
        return None
    stored_value = stored.value if stored else None
    stored_comment = (stored.comment or "") if stored else ""
    value = question.kind.from_cell(question, raw) if raw is not None else None
    if value is None or _cut_copy(value, stored_value):
        value = stored_value  # an empty cell leaves the answer as it is
    comment = plain(comment)[:5000] if comment is not None else stored_comment
    version = _version(row.version)
    changed = (value, comment) != (stored_value, stored_comment)
    if changed and version != (stored.version if stored else 0):
        raise AnswerError(_conflict())
    return Posted(value=value, comment=comment, version=version)


def _cut_copy(value: Any, stored: Any) -> bool:
    """Whether a text is the start of a stored one too long for a cell (as written there)."""
    return (
        isinstance(value, str)
        and isinstance(stored, str)
        and len(spreadsheets.safe_cell(stored)) > CELL_LIMIT
        and stored.startswith(value)
    )


def _conflict() -> str:
    return _(
        "This answer was changed in the portal after the file was downloaded. Download "
        "the Excel file again and enter your changes there."
    )


def _cell_text(value: Any) -> Any:
    """A cell value with our formula guard removed; None for an empty cell."""
    if isinstance(value, str):
        value = spreadsheets.restored_cell(value.strip())
        return value or None
    return value


def _version(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(Decimal(str(value).strip()))
    except (ArithmeticError, ValueError):
        return -1  # never matches: a changed answer on this row is a conflict


def _capped(errors: spreadsheets.Problems[RowError]) -> list[RowError]:
    """The problems kept, and a last line saying how many more there are."""
    more = errors.more_message()
    return errors.kept + ([RowError("", 0, more)] if more else [])


def _save(
    assessment: Assessment,
    template: Template,
    posted: dict[str, Posted],
    where: dict[str, _Row],
    contact_id: int | None,
    now: datetime,
) -> ImportResult:
    result = save_answers(assessment, template, posted, contact_id, now)
    errors = [
        RowError(where[c.question.id].sheet, where[c.question.id].row, _conflict())
        for c in result.conflicts
    ]
    errors += [
        RowError(where[qid].sheet, where[qid].row, message)
        for qid, message in result.errors.items()
    ]
    return ImportResult(saved=len(result.saved), errors=errors)
