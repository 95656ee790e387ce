"""The attacker's workbooks: decompression bombs, sheets claiming to be huge, thousands of bad
rows and uploads in a loop, against the portal's Excel upload and the supplier import.

Each test is the attack as sent (the workbook the portal hands out, reworked by hand) and checks
what the attacker must not get: a worker reading the file, a page of every error, more uploads.
That the file was refused before a row was read is shown by the reader never being opened.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import strict_app
from tests.factories import make_answer, make_assessment, make_invitation
from vendorrisk.catalog import Catalog
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    AssessmentStatus,
    Contact,
    Invitation,
    Role,
    Supplier,
    SupplierCategory,
)
from vendorrisk.services.assessments import portal
from vendorrisk.services.assessments import workbook as excel

TEMPLATE = Catalog.from_folder(BASE_DIR / "questionnaires").get("csm-v2-supplier")
NOW = datetime.now(UTC)
#: The first question sheet of the portal workbook (the first sheet is the instructions).
QUESTIONS_SHEET = "xl/worksheets/sheet2.xml"
FIRST_SHEET = "xl/worksheets/sheet1.xml"
UNKNOWN_ROW = b'<row><c t="inlineStr"><is><t>NO-SUCH-QUESTION</t></is></c></row>'
TOO_LARGE_JA = "Excelファイルのサイズが大きすぎるため、読み込めません。"
KEPT = ("yes", "保存済みのコメント")


# ---------------------------------------------------------------- the attacker's workbooks


def _rework(data: bytes, part: str, rows: bytes = b"", dimension: bytes | None = None) -> bytes:
    """The workbook with the rows of sheet `part` replaced by `rows` and its dimension by
    `dimension` (b"": none, as an attacker leaves it out); every other part as it was."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            xml = source.read(info)
            if info.filename == part:
                head, _, rest = xml.partition(b"<sheetData>")
                tail = rest[rest.index(b"</sheetData>") :]
                if dimension is not None:
                    claim = b'<dimension ref="%s"/>' % dimension if dimension else b""
                    head = re.sub(rb'<dimension ref="[^"]*"\s*/>', claim, head)
                xml = head + b"<sheetData>" + rows + tail
            archive.writestr(info, xml)
    return out.getvalue()


def _unzipped(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def _padded(data: bytes, part: str, size: int) -> bytes:
    """The workbook with `size` bytes of blanks added to sheet `part` (they zip to almost none)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            xml = source.read(info)
            if info.filename == part:
                with archive.open(part, "w") as member:
                    member.write(xml[: xml.rindex(b"</worksheet>")])
                    blanks = b" " * (1 << 20)
                    for _ in range(size >> 20):
                        member.write(blanks)
                    member.write(b"</worksheet>")
                continue
            archive.writestr(info, xml)
    return out.getvalue()


# ---------------------------------------------------------------- a supplier's sitting


def _open_sitting(app, invitation_id: int, ip: str = "127.0.0.1"):
    """A supplier's browser holding a sitting opened from the invitation."""
    with app.app_context():
        token = portal.open_sitting(db.session.get(Invitation, invitation_id), ip, NOW)
        db.session.commit()
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    with client.session_transaction() as session:
        session["portal"] = {"sitting": token}
        session["portal_lang"] = "ja"
    return client


def _assessment(supplier_name: str, email: str) -> SimpleNamespace:
    """An in-progress assessment with one saved answer, and its invitation (in an app context)."""
    supplier = Supplier(name_ja=supplier_name, category=SupplierCategory.other)
    contact = Contact(supplier=supplier, name="攻撃 太郎", email=email)
    db.session.add_all([supplier, contact])
    db.session.flush()
    assessment = make_assessment(
        supplier, TEMPLATE, status=AssessmentStatus.in_progress, due_on=NOW.date() + timedelta(30)
    )
    make_answer(assessment, "sup-d1-01", KEPT[0], comment=KEPT[1], version=1)
    invitation = make_invitation(assessment, contact, locale="ja", expires_at=NOW + timedelta(40))
    db.session.commit()
    return SimpleNamespace(assessment_id=assessment.id, invitation_id=invitation.id)


@pytest.fixture
def attacker(app):
    """A supplier contact's sitting (in Japanese) and the workbook the portal gave them."""
    with app.app_context():
        made = _assessment("株式会社攻撃検証", "attacker@example.jp")
    client = _open_sitting(app, made.invitation_id)
    workbook = client.get("/portal/q/excel").data
    return SimpleNamespace(client=client, workbook=workbook, **vars(made))


@pytest.fixture
def reads(monkeypatch):
    """How many times the portal's reader opened a workbook (it still does the real work)."""
    opened = []
    real = excel.load_workbook

    def counting(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(excel, "load_workbook", counting)
    return opened


def _upload(client, data: bytes):
    return client.post(
        "/portal/q/excel",
        data={"workbook": (io.BytesIO(data), "回答.xlsx")},
        content_type="multipart/form-data",
    )


def _problems(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"<[^>]+>|\s+", " ", cells[-1]).strip()
        for cells in (re.findall(r"<td>(.*?)</td>", row, re.S) for row in body.split("<tr>")[1:])
    ]


def _kept(app, assessment_id: int) -> tuple:
    with app.app_context():
        answer = db.session.scalar(sa.select(Answer).where(Answer.assessment_id == assessment_id))
        return answer.value, answer.comment


# ---------------------------------------------------------------- the portal upload


def test_a_decompression_bomb_is_refused_by_the_portal_before_a_row_is_read(app, attacker, reads):
    # 150,000 rows of an unknown question ID: a few hundred KB that unzip to about 9 MB,
    # under the old 200 MB limit, twice the new one for this questionnaire.
    bomb = _rework(attacker.workbook, QUESTIONS_SHEET, UNKNOWN_ROW * 150_000, dimension=b"")
    assert len(bomb) < 300_000 and 8 << 20 < _unzipped(bomb) < 200 << 20
    response = _upload(attacker.client, bomb)
    assert response.status_code == 422
    assert _problems(response.get_data(as_text=True)) == [TOO_LARGE_JA]
    assert reads == []  # the reader never opened it
    assert _kept(app, attacker.assessment_id) == KEPT  # nothing already saved is lost
    # The real workbook goes through the same rule, and is read.
    assert _unzipped(attacker.workbook) < excel.limits(TEMPLATE).max_unzipped // 10
    assert _upload(attacker.client, attacker.workbook).status_code == 302 and reads == [1]


@pytest.mark.parametrize("dimension", [b"A1:XFD1048576", b"A1:H1048576", b"A1:XFD3"])
def test_a_sheet_claiming_a_huge_dimension_is_refused_before_it_is_read(
    app, attacker, reads, dimension
):
    # A tiny file whose question sheet claims to reach the last row or column of Excel.
    sheet = _rework(attacker.workbook, QUESTIONS_SHEET, b"", dimension=dimension)
    with zipfile.ZipFile(io.BytesIO(sheet)) as archive:
        assert b'<dimension ref="%s"' % dimension in archive.read(QUESTIONS_SHEET)
    response = _upload(attacker.client, sheet)
    assert response.status_code == 422
    [problem] = _problems(response.get_data(as_text=True))
    assert "質問票の行と列の外に内容があります" in problem and "何も読み込んでいません" in problem
    assert reads == []
    assert _kept(app, attacker.assessment_id) == KEPT


def test_a_value_far_below_the_questions_is_refused_before_it_is_read(app, attacker, reads):
    far = b'<row r="900000"><c r="A900000" t="inlineStr"><is><t>x</t></is></c></row>'
    response = _upload(attacker.client, _rework(attacker.workbook, QUESTIONS_SHEET, far))
    assert response.status_code == 422 and reads == []


def _relocated(data: bytes, sheet: bytes) -> bytes:
    """The workbook declared at evil/workbook.xml, its first question sheet at evil/sheet.xml;
    xl/workbook.xml left as a decoy."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            archive.writestr(info, source.read(info).replace(b"/xl/workbook.xml", b"/evil/wb.xml"))
        rels = re.sub(
            rb'Target="/?(?:xl/)?', b'Target="/xl/', source.read("xl/_rels/workbook.xml.rels")
        )
        archive.writestr(
            "evil/_rels/wb.xml.rels", rels.replace(b"/xl/worksheets/sheet2.xml", b"/evil/sheet.xml")
        )
        archive.writestr("evil/wb.xml", source.read("xl/workbook.xml"))
        archive.writestr("evil/sheet.xml", sheet)
    return out.getvalue()


def test_a_workbook_declared_elsewhere_is_refused_before_it_is_read(app, attacker, reads):
    # The reader follows the content types to the workbook part; the checks must not look at
    # a decoy while the reader reads another sheet, full of rows (within the size limit).
    with zipfile.ZipFile(io.BytesIO(attacker.workbook)) as archive:
        xml = archive.read(QUESTIONS_SHEET)
    head, _, rest = xml.partition(b"<sheetData>")
    head = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", head)
    sheet = head + b"<sheetData>" + UNKNOWN_ROW * 20_000 + rest[rest.index(b"</sheetData>") :]
    response = _upload(attacker.client, _relocated(attacker.workbook, sheet))
    assert response.status_code == 422
    [problem] = _problems(response.get_data(as_text=True))
    assert "Excelファイル（.xlsx）ではありません" in problem
    assert reads == []


def test_a_workbook_of_thousands_of_parts_is_refused_before_it_is_read(app, attacker, reads):
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(attacker.workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        for n in range(1000):  # with the real parts, more than any workbook of ours holds
            archive.writestr(f"xl/media/part{n}.bin", b"")
    response = _upload(attacker.client, out.getvalue())
    assert response.status_code == 422 and reads == []


def test_thousands_of_unknown_ids_give_a_short_page_of_problems(app, attacker):
    # Within the limits: 500 rows of unknown IDs on each question sheet (thousands in all).
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>NO-%d</t></is></c></row>' % (n, n, n)
        for n in range(3, 503)
    )
    data = attacker.workbook
    question_sheets = [f"xl/worksheets/sheet{n}.xml" for n in range(2, len(TEMPLATE.sections) + 2)]
    for part in question_sheets:
        data = _rework(data, part, rows, dimension=b"")
    total = 500 * len(question_sheets)
    assert total > 2000
    response = _upload(attacker.client, data)
    assert response.status_code == 422
    problems = _problems(response.get_data(as_text=True))
    assert len(problems) == 50 + 1
    assert all("NO-" in p for p in problems[:-1])
    more = total - 50
    assert problems[-1].startswith(f"…ほかに{more}件の問題があります")
    assert _kept(app, attacker.assessment_id) == KEPT


# ---------------------------------------------------------------- the supplier import


def _import(client, data: bytes):
    return client.post(
        "/suppliers/import",
        data={"file": (io.BytesIO(data), "suppliers.xlsx")},
        content_type="multipart/form-data",
    )


def test_the_same_bomb_is_refused_by_the_supplier_import(app, attacker, auth):
    # The portal's bomb carries its weight in a sheet the import does not read: the whole
    # file still counts, and 48 MB unzipped is more than any list of suppliers needs.
    bomb = _padded(attacker.workbook, QUESTIONS_SHEET, 48 << 20)
    assert len(bomb) < 200_000
    auth.login(Role.procurement, locale="ja")
    response = _import(auth.client, bomb)
    assert response.status_code == 200  # the form again, with the reason; nothing kept
    assert TOO_LARGE_JA in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        (b"A1:XFD2", "ファイルの列数が100列を超えています。"),
        (b"A1:B1048576", "シートの21001行目より下にセルがあります。"),
    ],
)
def test_the_import_refuses_a_first_sheet_claiming_a_huge_dimension(
    app, attacker, auth, dimension, message
):
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>name_ja</t></is></c></row>'
    header += '<row r="2"><c r="A2" t="inlineStr"><is><t>株式会社甲</t></is></c></row>'.encode()
    claim = _rework(attacker.workbook, FIRST_SHEET, header, dimension=dimension)
    auth.login(Role.procurement, locale="ja")
    response = _import(auth.client, claim)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


# ---------------------------------------------------------------- uploads in a loop


@pytest.fixture
def limited(tmp_path_factory):
    with strict_app(tmp_path_factory, PORTAL_EXCEL_RATE_LIMIT="3 per hour") as app:
        with app.app_context():
            first = _assessment("株式会社連投検証", "loop@example.jp")
            other = _assessment("株式会社別会社", "other@example.jp")
        yield SimpleNamespace(app=app, first=first, other=other)


def test_uploads_in_a_loop_are_refused_per_link_not_only_per_address(limited):
    client = _open_sitting(limited.app, limited.first.invitation_id)
    workbook = client.get("/portal/q/excel").data
    codes = [_upload(client, workbook).status_code for _ in range(3)]
    assert codes == [302, 302, 302]
    refused = _upload(client, workbook)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "しばらく待ってから、もう一度お試しください。" in page
    # A new sitting from the same link, from another address, does not start the count again.
    again = _open_sitting(limited.app, limited.first.invitation_id, ip="198.51.100.9")
    assert _upload(again, workbook).status_code == 429
    # Another supplier's link, from the first address, is not held up.
    other = _open_sitting(limited.app, limited.other.invitation_id)
    other_workbook = other.get("/portal/q/excel").data
    assert _upload(other, other_workbook).status_code == 302
