"""Exports to CSV and XLSX: formula injection neutralised, filters honoured, the CLI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AuditEvent,
    Finding,
    Role,
    Severity,
    SupplierCategory,
)
from vendorrisk.services import spreadsheets
from vendorrisk.services.reporting import exports

HOSTILE = ['=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "\nx"]
TODAY = date(2026, 4, 1)


def _xml(text: str) -> str:
    """An XLSX file is XML, whose parsers read a CR as LF: what Excel shows too."""
    return text.replace("\r", "\n")


def test_safe_cell_neutralises_formula_starts_only():
    assert [spreadsheets.safe_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    for harmless in ("株式会社みなと", "a=b", "1-2", "", 42, -2, 1.5, None, TODAY):
        assert spreadsheets.safe_cell(harmless) == harmless


@pytest.fixture
def hostile(app, make_supplier):
    """Suppliers named with each hostile string, an ordinary one, and hostile answers."""
    for text in HOSTILE:
        make_supplier(name_ja=text, name_en=text)
    plain = make_supplier(
        name_ja="株式会社みなと情報サービス",
        name_en="Minato",
        latest_score=72.5,
        next_review_on=date(2026, 9, 30),
        category=SupplierCategory.cloud_service,
    )
    with app.app_context():
        assessment = Assessment(
            supplier_id=plain.id,
            template_id="csm-v2-supplier",
            template_version=1,
            due_on=date(2026, 5, 1),
            status=AssessmentStatus.submitted,
            score=72.5,
        )
        db.session.add(assessment)
        db.session.flush()
        db.session.add_all(
            Answer(assessment_id=assessment.id, question_id=f"q{i}", value=text, comment=text)
            for i, text in enumerate(HOSTILE)
        )
        db.session.add(Answer(assessment_id=assessment.id, question_id="sup-d1-01", value="yes"))
        db.session.add(
            Finding(supplier_id=plain.id, title="=cmd|' /C calc'!A0", severity=Severity.high)
        )
        db.session.commit()
        db.session.remove()
    return plain


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _xlsx_rows(data: bytes) -> list[dict[str, openpyxl.cell.Cell]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header, *rows = sheet.iter_rows()
    return [{h.value: cell for h, cell in zip(header, row, strict=True)} for row in rows]


def _export(app, kind: str, fmt: str) -> bytes:
    with app.app_context():
        buffer = io.BytesIO()
        exports.write(exports.frame(kind, TODAY), buffer, fmt)
        db.session.remove()
    return buffer.getvalue()


def test_hostile_suppliers_are_neutralised_in_csv(app, hostile):
    rows = {r["supplier_id"]: r for r in _csv_rows(_export(app, "suppliers", "csv"))}
    names = sorted(r["name_ja"] for r in rows.values())
    assert names == sorted(["'" + v for v in HOSTILE] + ["株式会社みなと情報サービス"])
    plain = rows[str(hostile.id)]
    assert (plain["name_en"], plain["latest_score"]) == ("Minato", "72.5")
    assert plain["next_review_on"] == "2026-09-30"
    assert plain["required_level"] == "star3" and plain["open_findings"] == "1"


def test_hostile_suppliers_are_neutralised_in_xlsx(app, hostile):
    rows = _xlsx_rows(_export(app, "suppliers", "xlsx"))
    hostile_cells = [r["name_ja"] for r in rows if r["supplier_id"].value != hostile.id]
    assert sorted(c.value for c in hostile_cells) == sorted(_xml("'" + v) for v in HOSTILE)
    assert all(c.data_type == "s" for c in hostile_cells)
    (plain,) = [r for r in rows if r["supplier_id"].value == hostile.id]
    assert plain["name_ja"].value == "株式会社みなと情報サービス"
    assert plain["latest_score"].value == 72.5
    assert plain["next_review_on"].value.date() == date(2026, 9, 30)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_answers_one_row_each_hostile_neutralised(app, hostile, fmt):
    data = _export(app, "answers", fmt)
    expected = str
    if fmt == "csv":
        rows = _csv_rows(data)
        value = {r["question_id"]: (r["answer"], r["comment"]) for r in rows}
    else:
        expected = _xml
        rows = [{k: c.value for k, c in r.items()} for r in _xlsx_rows(data)]
        value = {r["question_id"]: (r["answer"], r["comment"]) for r in rows}
        cells = [c for r in _xlsx_rows(data) for c in (r["answer"], r["comment"])]
        assert all(c.data_type == "s" for c in cells if c.value)
    assert len(rows) == len(HOSTILE) + 1
    for i, text in enumerate(HOSTILE):
        assert value[f"q{i}"] == (expected("'" + text), expected("'" + text))
    (known,) = [r for r in rows if r["question_id"] == "sup-d1-01"]
    assert known["answer"] == "yes" and known["supplier"] == "株式会社みなと情報サービス"
    assert str(known["directive"]) == "1" and known["appendix_a_item"] == "D1-1"
    assert known["question_ja"].startswith("貴社では、経営者が")


def test_assessments_and_findings(app, hostile):
    (assessment,) = _csv_rows(_export(app, "assessments", "csv"))
    assert assessment["template_id"] == "csm-v2-supplier" and assessment["status"] == "submitted"
    assert (assessment["due_on"], assessment["score"]) == ("2026-05-01", "72.5")
    (finding,) = _xlsx_rows(_export(app, "findings", "xlsx"))
    assert finding["title"].value == "'=cmd|' /C calc'!A0" and finding["title"].data_type == "s"
    assert finding["severity"].value == "high"


def test_the_route_honours_the_filter_and_records_the_export(auth, ctx, hostile):
    auth.login(Role.auditor)
    response = auth.client.get("/suppliers/export.csv?category=cloud_service")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=suppliers-")
    rows = _csv_rows(response.data)
    assert [r["name_ja"] for r in rows] == ["株式会社みなと情報サービス"]
    response = auth.client.get("/suppliers/export.xlsx?category=cloud_service")
    assert [r["name_en"].value for r in _xlsx_rows(response.data)] == ["Minato"]
    with ctx() as session:
        summaries = session.scalars(
            sa.select(AuditEvent.summary).where(AuditEvent.action == "export")
        ).all()
    assert sorted(summaries) == ["suppliers csv, 1 rows", "suppliers xlsx, 1 rows"]


def test_the_list_links_to_the_filtered_export(auth, hostile):
    auth.login(Role.procurement)
    page = auth.client.get("/suppliers/?category=cloud_service").get_data(as_text=True)
    assert "/suppliers/export.csv?category=cloud_service" in page
    assert "/suppliers/export.xlsx?category=cloud_service" in page


def test_anonymous_users_cannot_export(client, hostile):
    response = client.get("/suppliers/export.csv")
    assert response.status_code in (302, 401, 403)
    assert "株式会社" not in response.get_data(as_text=True)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_cli_writes_both_formats(runner, hostile, tmp_path, suffix):
    path = tmp_path / f"answers.{suffix}"
    result = runner.invoke(args=["export", "answers", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {len(HOSTILE) + 1} rows to {path}"
    data = path.read_bytes()
    rows = _csv_rows(data) if suffix == "csv" else _xlsx_rows(data)
    assert len(rows) == len(HOSTILE) + 1


@pytest.mark.parametrize(
    ("kind", "name"), [("contacts", "x.csv"), ("suppliers", "x.json"), ("suppliers", "x")]
)
def test_cli_refuses_unknown_kind_or_suffix(runner, app, tmp_path, kind, name):
    result = runner.invoke(args=["export", kind, str(tmp_path / name)])
    assert result.exit_code == 2
    assert not (tmp_path / name).exists()


def test_supplier_export_is_one_query_whatever_the_size(app, make_supplier, count_queries):
    for _ in range(5):
        make_supplier()
    with app.app_context(), count_queries() as counter:
        df = exports.frame("suppliers", TODAY)
        db.session.remove()
    # the suppliers with every column, and the SCS scheme's settings (read once)
    assert (len(df), counter.count) == (5, 2)


def test_an_empty_export_still_has_its_header(app):
    rows = _export(app, "findings", "csv").decode("utf-8-sig").splitlines()
    assert rows == [",".join(exports.COLUMNS["findings"])]


@pytest.fixture
def hostile_cycle(app):
    """A self-assessment cycle whose notes and evidence are hostile strings."""
    from vendorrisk.services.selfassessment import cycles

    with app.app_context():
        template = cycles.current_template()
        cycle = cycles.start_cycle("=2026", TODAY, template, None, datetime.now(UTC))
        for item, text in zip(cycle.items, HOSTILE, strict=False):
            item.notes, item.evidence = text, text
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_self_assessment_exports_every_item_safely(runner, hostile_cycle, tmp_path, suffix):
    path = tmp_path / f"selfassessment.{suffix}"
    result = runner.invoke(args=["export", "selfassessment", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote 41 rows to {path}"
    if suffix == "csv":
        rows = _csv_rows(path.read_bytes())
        notes = [_xml(r["notes"]) for r in rows[: len(HOSTILE)]]
        assert rows[0]["cycle"] == "'=2026"
    else:
        rows = _xlsx_rows(path.read_bytes())
        notes = [_xml(r["notes"].value) for r in rows[: len(HOSTILE)]]
        assert all(r["notes"].data_type == "s" for r in rows[: len(HOSTILE)])
    assert notes == [_xml("'" + v) for v in HOSTILE]


def test_the_roll_up_exports_one_table_per_panel(runner, hostile, tmp_path):
    path = tmp_path / "rollup.xlsx"
    result = runner.invoke(args=["export", "rollup", str(path)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(path)
    assert {"tiers", "coverage", "directives", "trends"} <= set(book.sheetnames)
    csv_path = tmp_path / "rollup.csv"
    assert runner.invoke(args=["export", "rollup", str(csv_path)]).exit_code == 0
    rows = _csv_rows(csv_path.read_bytes())
    assert {r["table"] for r in rows} >= {"tiers", "coverage"}
