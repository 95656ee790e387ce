"""The management report and the export route: top risks ranked as promised, both languages."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import openpyxl
import pytest
import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Finding, FindingStatus, Role, Severity, SupplierStatus
from vendorrisk.services.reporting import report

TODAY = date(2026, 11, 27)


@pytest.fixture
def risks(app, make_supplier, make_attestation):
    """Five suppliers whose order in the top risks is known by hand."""
    made = {
        # critical tier, scored 80, needs ★4 (admin access), holds ★2 declaration: gap 2
        "crit": make_supplier(name_ja="重要社", tier="critical", latest_score=80.0,
                              has_admin_access=True),
        # high tier, no score, needs ★3, holds nothing: gap 3
        "high": make_supplier(name_ja="高位社", tier="high"),
        # medium tier, needs ★3, holds ★2: gap 1 -> listed, after the high tiers
        "gap": make_supplier(name_ja="不足社", tier="medium", latest_score=90.0),
        # low tier, meets nothing required? holds ★3 via SCS: no gap, no findings -> not listed
        "fine": make_supplier(name_ja="問題なし社", tier="low", scs_level="star3"),
        # critical, but offboarded -> never listed
        "gone": make_supplier(name_ja="取引終了社", tier="critical",
                              status=SupplierStatus.offboarded),
    }  # fmt: skip
    make_attestation(made["crit"])
    make_attestation(made["gap"])
    with app.app_context():
        db.session.add_all(
            [
                Finding(supplier_id=made["gap"].id, title="=HYPERLINK(\"x\")",
                        severity=Severity.critical, due_on=date(2026, 10, 1),
                        created_at=datetime(2026, 9, 1, tzinfo=UTC)),
                Finding(supplier_id=made["high"].id, title="Backups untested",
                        severity=Severity.high, due_on=date(2027, 1, 31),
                        created_at=datetime(2026, 11, 20, 22, tzinfo=UTC)),
                Finding(supplier_id=made["high"].id, title="Old finding", severity=Severity.low,
                        created_at=datetime(2026, 1, 1, tzinfo=UTC)),
                Finding(supplier_id=made["crit"].id, title="Closed", severity=Severity.critical,
                        status=FindingStatus.resolved),
                Finding(supplier_id=made["gone"].id, title="Of an offboarded supplier",
                        severity=Severity.critical),
            ]
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
    return made


def test_top_risks_rank_tier_then_gap_then_findings(app, risks, scheme_running):
    with app.app_context():
        top = report.top_risks(TODAY)
    assert [s.name_ja for s in top.suppliers] == ["重要社", "高位社", "不足社"]
    crit, high, gap = top.suppliers
    assert (crit.required, crit.held, crit.short, crit.serious_findings) == (
        "star4", "star2", True, 0
    )  # fmt: skip
    assert (high.required, high.held, high.short, high.serious_findings) == (
        "star3", "none", True, 1
    )  # fmt: skip
    assert (high.open_findings, gap.serious_findings, gap.short) == (2, 1, True)


def test_before_the_scheme_runs_a_level_below_is_no_top_risk(app, risks):
    """Only the tier and serious findings bring a supplier in: 不足社 (medium tier, holds ★★
    where ★3 is asked) is listed for its critical finding, not as short of a level."""
    with app.app_context():
        top = report.top_risks(TODAY)
    assert [(s.name_ja, bool(s.short)) for s in top.suppliers] == [
        ("重要社", False),
        ("高位社", False),
        ("不足社", False),
    ]
    # Only high and critical; ages in the company's days (Tokyo: 2026-11-20 22:00 UTC is the 21st).
    assert [(f.title, f.severity, f.age_days) for f in top.findings] == [
        ('=HYPERLINK("x")', Severity.critical, 87),
        ("Backups untested", Severity.high, 6),
    ]


@pytest.mark.parametrize(
    ("lang", "heading", "tier"), [("ja", "主要なリスク", "最重要"), ("en", "Top risks", "Critical")]
)
def test_the_printable_report_in_either_language(auth, risks, lang, heading, tier):
    auth.login(Role.ciso, locale="en" if lang == "ja" else "ja")
    page = auth.client.get(f"/report?lang={lang}").get_data(as_text=True)
    assert heading in page and tier in page
    links = [page.index(f'href="/suppliers/{risks[key].id}"') for key in ("crit", "high", "gap")]
    assert links == sorted(links)
    for key in ("fine", "gone"):
        assert f'href="/suppliers/{risks[key].id}"' not in page
    assert "data-print" in page
    assert f'href="/report.xlsx?lang={lang}"' in page


def test_the_workbook_is_safe_and_in_the_chosen_language(auth, ctx, risks):
    auth.login(Role.auditor)
    response = auth.client.get("/report.xlsx?lang=ja")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book["主要なリスク"]
    assert sheet["A1"].value.startswith("サプライチェーン")
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["取引先", "リスク区分", "スコア"]
    assert [sheet.cell(row=r, column=1).value for r in (4, 5, 6)] == ["重要社", "高位社", "不足社"]
    findings = book["重大な指摘事項"]
    assert findings["A4"].value == '\'=HYPERLINK("x")'
    assert findings["A4"].data_type == "s"
    with ctx():
        summaries = db.session.scalars(
            sa.select(AuditEvent.summary).where(AuditEvent.action == "export")
        ).all()
    assert summaries == ["management report xlsx (ja)"]


@pytest.mark.parametrize("kind", ["assessments", "answers", "findings", "suppliers"])
def test_every_kind_exports_from_the_web(auth, risks, kind):
    auth.login(Role.auditor)
    response = auth.client.get(f"/export/{kind}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(f"attachment; filename={kind}-")
    assert response.data.startswith(b"\xef\xbb\xbf")


def test_an_unknown_kind_is_not_found(auth):
    auth.login(Role.ciso)
    assert auth.client.get("/export/passwords.csv").status_code == 404


@pytest.fixture
def two_cycles(app):
    """Two cycles: directive 1 goes from not done (0) to done (100); a KPI from 60 to 90."""
    from vendorrisk.models import ItemStatus
    from vendorrisk.services.selfassessment import cycles, kpis

    now = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        template = cycles.current_template()
        first = cycles.start_cycle("2025年度", date(2026, 3, 31), template, None, now)
        d1 = [i for i in first.items if i.question_id.startswith("int-d1-")]
        for item in first.items:
            item.status = ItemStatus.not_done if item in d1 else ItemStatus.partly
        kpis.save_kpis(first, {"training_completion": 60.0}, first.kpi_version)
        cycles.close_cycle(first, None, now, date(2026, 3, 31))
        second = cycles.start_cycle("2026年度", date(2026, 9, 30), template, None, now)
        for item in second.items:
            if item.question_id.startswith("int-d1-"):
                item.status = ItemStatus.done
        kpis.save_kpis(second, {"training_completion": 90.0}, second.kpi_version)
        db.session.commit()
        db.session.remove()


def test_the_report_compares_the_last_two_self_assessment_cycles(auth, two_cycles):
    auth.login(Role.ciso)
    page = auth.client.get("/report?lang=en").get_data(as_text=True)
    section = page.split("Our own self-assessment", 1)[1]
    assert "Cycle 2026年度" in section and "previous cycle 2025年度" in section
    assert "Cybersecurity Management Guidelines Ver 2.0" in section
    assert "Edition break" not in section
    assert "Text(" not in section
    direction_1 = "<tr><td>Direction 1: risk awareness and company-wide policy</td>"
    row = section.split(direction_1, 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">100</td><td class="num">0</td>' in row.replace(".0<", "<")
    assert "+100.0" in row
    kpi = section.split("Security training completion rate", 1)[1].split("</tr>", 1)[0]
    assert "90" in kpi and "60" in kpi


def test_the_workbook_has_the_self_assessment_sheets(auth, two_cycles):
    auth.login(Role.ciso)
    book = openpyxl.load_workbook(io.BytesIO(auth.client.get("/report.xlsx?lang=en").data))
    sheet = book["Self-assessment"]
    header = [c.value for c in sheet[3]]
    assert header == ["Direction", "Title", "2026年度", "2025年度", "Change", "Edition"]
    first = [c.value for c in sheet[4]]
    assert first[0] == 1 and first[2:] == [100, 0, 100, "Ver 2.0"]
    assert first[1].startswith("Direction 1")
    kpis = {row[0].value: row for row in book["KPIs"].iter_rows(min_row=4)}
    assert [c.value for c in kpis["Security training completion rate"][2:]] == [90, 60]


def test_the_report_opens_with_the_roll_up_of_live_suppliers(auth, risks):
    auth.login(Role.ciso)
    page = auth.client.get("/report?lang=en").get_data(as_text=True)
    glance = page.split("The supply chain at a glance", 1)[1].split("</table>", 1)[0]
    figures = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>', glance))
    assert figures["Live suppliers"] == "4"
    assert figures["Average latest score"] == "85.0"  # (80 + 90) / 2: the others have none
    assert figures["Open findings"] == "3"
    book = openpyxl.load_workbook(io.BytesIO(auth.client.get("/report.xlsx?lang=ja").data))
    assert book.sheetnames[:3] == ["全体状況", "スコアの低い指示", "四半期ごとの推移"]
    sheet = {row[0].value: row for row in book["全体状況"].iter_rows(min_row=4)}
    assert sheet["対象の取引先"][1].value == 4
    assert sheet["未解決の指摘事項：重大"][1].value == 1


def test_the_roll_up_export_follows_the_page_filters(auth, risks):
    auth.login(Role.ciso)
    page = auth.client.get("/rollup?tier=critical").get_data(as_text=True)
    assert 'href="/export/rollup.csv?tier=critical"' in page
    rows = list(csv.DictReader(io.StringIO(auth.client.get("/export/rollup.csv?tier=critical")
                                           .data.decode("utf-8-sig"))))  # fmt: skip
    (live,) = {r["live_suppliers"] for r in rows if r["table"] == "coverage"}
    assert live == "1"  # 重要社: the other critical supplier is offboarded
    everyone = auth.client.get("/export/rollup.csv").data.decode("utf-8-sig")
    (live,) = {r["live_suppliers"] for r in csv.DictReader(io.StringIO(everyone))
               if r["table"] == "coverage"}  # fmt: skip
    assert live == "4"


def test_the_lists_link_to_their_exports(auth, risks):
    auth.login(Role.reviewer)
    assessments = auth.client.get("/assessments/").get_data(as_text=True)
    assert "/export/assessments.xlsx" in assessments and "/export/answers.csv" in assessments
    assert "/export/findings.csv" in auth.client.get("/findings/").get_data(as_text=True)
    page = auth.client.get("/self-assessment/").get_data(as_text=True)
    assert "/export/selfassessment.xlsx" in page
