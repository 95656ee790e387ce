"""The offline Excel round trip: real workbooks written, filled in with openpyxl, read back."""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from tests.factories import make_answer, make_assessment, make_invitation
from vendorrisk.catalog import Catalog
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import Answer, Assessment, AssessmentStatus, Invitation
from vendorrisk.services.assessments import portal
from vendorrisk.services.assessments import workbook as excel

TEMPLATE = Catalog.from_folder(BASE_DIR / "questionnaires").get("csm-v2-supplier")
DUE = date.today() + timedelta(days=30)
NOW = datetime.now(UTC)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HYPERLINK = '=HYPERLINK("http://x")'


@pytest.fixture
def setup(make_supplier, make_contact, ctx):
    """An in-progress assessment of the supplier questionnaire, with one invitation."""
    supplier = make_supplier(name_ja="株式会社エクセル検証", name_en="Excel Test K.K.")
    contact = make_contact(supplier)
    with ctx() as session:
        assessment = make_assessment(
            supplier, TEMPLATE, status=AssessmentStatus.in_progress, due_on=DUE
        )
        invitation = make_invitation(
            assessment,
            contact,
            locale="ja",
            token_hash="ab" * 32,
            expires_at=NOW + timedelta(days=40),
        )
        session.commit()
        return SimpleNamespace(
            assessment_id=assessment.id, invitation_id=invitation.id, contact_id=contact.id
        )


def _store(ctx, assessment_id, **answers):
    """Stored answers: question id (with _ for -) -> (value, comment, version[, carried])."""
    with ctx() as session:
        for key, (value, comment, version, *carried) in answers.items():
            make_answer(
                assessment_id,
                key.replace("_", "-"),
                value,
                comment=comment,
                version=version,
                carried_over=bool(carried and carried[0]),
            )
        session.commit()


def _stored(ctx, assessment_id) -> dict[str, Answer]:
    with ctx() as session:
        answers = session.scalars(
            sa.select(Answer).where(Answer.assessment_id == assessment_id)
        ).all()
        for answer in answers:
            session.expunge(answer)
        return {a.question_id: a for a in answers}


def _build(app, assessment_id):
    with app.app_context():
        data = excel.build_workbook(db.session.get(Assessment, assessment_id), TEMPLATE)
        db.session.remove()
    return load_workbook(data)


def _bytes(wb) -> io.BytesIO:
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def _import(app, assessment_id, stream, contact_id=None):
    """As the route does: commit when clean, roll back otherwise."""
    with app.app_context():
        result = excel.import_workbook(
            db.session.get(Assessment, assessment_id), TEMPLATE, stream, contact_id, NOW
        )
        if result.errors:
            db.session.rollback()
        else:
            db.session.commit()
        db.session.remove()
    return result


def _row(wb, qid):
    """The sheet and row of a question in the workbook."""
    for ws in wb.worksheets[1:]:
        for (cell,) in ws.iter_rows(min_row=1, max_col=1):
            if cell.value == qid:
                return ws, cell.row
    raise KeyError(qid)


def _cell(wb, qid, column="F"):
    ws, row = _row(wb, qid)
    return ws[f"{column}{row}"]


def _fill(wb, **answers):
    for key, value in answers.items():
        _cell(wb, key.replace("_", "-")).value = value


def _validation_of(ws, coordinate):
    return next(dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref)


def test_the_workbook_is_bilingual_and_prefilled(app, setup, ctx):
    _store(
        ctx,
        setup.assessment_id,
        sup_d1_01=("yes", HYPERLINK, 3),
        sup_d9s_09=(["pmark", "soc2"], "", 1),
        sup_d9s_03=("2026-04-01", "", 2),
        sup_prof_01=("-セキュリティ推進室", "", 1),
        sup_d5_01=("partial", "前回の回答", 1, True),
    )
    wb = _build(app, setup.assessment_id)

    section_sheets = [excel.sheet_names(TEMPLATE)[s.id] for s in TEMPLATE.sections]
    assert wb.sheetnames == ["説明 Instructions", *section_sheets, "lists"]
    assert "d9-specifics" in section_sheets and wb["lists"].sheet_state == "hidden"
    intro = "\n".join(
        str(c.value) for row in wb["説明 Instructions"].iter_rows() for c in row if c.value
    )
    for text in (
        TEMPLATE.title.ja,
        TEMPLATE.title.en,
        "株式会社エクセル検証",
        "Excel Test K.K.",
        DUE.isoformat(),
        "YYYY-MM-DD",
        "ポータル",
        "upload evidence in the portal",
    ):
        assert text in intro

    # one row per question of the template, each once, in its order (computed, not a count)
    ids = [c.value for ws in wb.worksheets[1:-1] for (c,) in ws.iter_rows(min_row=3, max_col=1)]
    assert ids == [q.id for q in TEMPLATE.questions] and len(set(ids)) == len(ids)
    d1 = wb["d1"]
    assert d1["A1"].value == "セキュリティ方針（指示1） / Security policy (Direction 1)"
    question = TEMPLATE.question("sup-d1-01")
    assert (d1["A3"].value, d1["F2"].value) == ("sup-d1-01", "回答\nANSWER")
    assert question.text.ja in d1["B3"].value and question.text.en in d1["C3"].value
    assert "実施している / Implemented" in d1["E3"].value
    assert d1.column_dimensions["H"].hidden and d1.freeze_panes == "B3"
    assert not d1["F3"].protection.locked and not d1["G3"].protection.locked
    assert d1["A3"].protection.locked and d1["H3"].protection.locked

    # Prefilled answers, as labels; a comment that looks like a formula stays text.
    assert d1["F3"].value == "実施している / Implemented"
    assert d1["G3"].value == "'" + HYPERLINK and d1["G3"].data_type == "s"
    assert d1["H3"].value == 3 and d1["H4"].value == 0
    assert (
        _cell(wb, "sup-d9s-09").value
        == "プライバシーマーク / Privacy Mark; SOC 2 報告書 / SOC 2 report"
    )
    assert _cell(wb, "sup-d9s-03").value == "2026-04-01"
    assert _cell(wb, "sup-prof-01").value == "'-セキュリティ推進室"
    assert _cell(wb, "sup-d5-01").value == "一部実施している / Partially implemented"
    assert "ポータル" in _cell(wb, "sup-d1-02-file").value
    assert "sup-d9s-01" in _cell(wb, "sup-d9s-03", "E").value  # when it applies

    # Drop-downs read their lists from the hidden sheet.
    lists = wb["lists"]
    for qid, label in (
        ("sup-d1-01", "わからない / Unknown"),
        ("sup-d9s-04", "はい / Yes"),
        ("sup-d9s-01", "二つ星（★★）を宣言している / Declared ★★ (two stars)"),
    ):
        ws, row = _row(wb, qid)
        validation = _validation_of(ws, f"F{row}")
        assert validation.type == "list" and validation.formula1.startswith("'lists'!$")
        column = validation.formula1.split("!$")[1][0]
        assert label in [c.value for (c,) in lists[f"{column}1:{column}10"]]
    ws, row = _row(wb, "sup-d9s-09")  # several choices: no single-value drop-down
    assert not any(f"F{row}" in dv.sqref for dv in ws.data_validations.dataValidation)


def test_a_filled_workbook_round_trips(app, setup, ctx):
    _store(
        ctx,
        setup.assessment_id,
        sup_d1_01=("yes", HYPERLINK, 3),
        sup_d5_01=("partial", "前回の回答", 1, True),
        sup_d9s_02=("50000228580", "", 1),
    )
    wb = _build(app, setup.assessment_id)
    _fill(
        wb,
        sup_d1_01="一部実施している",
        sup_d1_03="Not implemented",
        sup_d2_01="  YES ",
        sup_d2_02="該当しない / Not applicable",
        sup_d9s_04="いいえ",
        sup_d9s_01="二つ星（★★）を宣言している",
        sup_d9s_14="star3",
        sup_prof_01="情報セキュリティ部 security@example.jp",
        sup_prof_02=1000000,
        sup_d9s_18="2,500",
        sup_d9s_03=date(2025, 12, 31),
        sup_d9s_08="2027/1/5",
        sup_d9s_09="Privacy Mark、SOC 2 報告書 ; csms",
        sup_d9s_02=None,  # empty: left as it is
        sup_d1_02_file="policy.pdf",
    )  # evidence is uploaded in the portal, not here
    _cell(wb, "sup-d2-01", "G").value = "全社で実施しています。"
    _cell(wb, "sup-d3-01", "G").value = "+ 来期に予定"  # a comment without an answer

    result = _import(app, setup.assessment_id, _bytes(wb), setup.contact_id)

    assert result.errors == []
    stored = _stored(ctx, setup.assessment_id)
    values = {qid: a.value for qid, a in stored.items()}
    assert values == {
        "sup-d1-01": "partial",
        "sup-d1-03": "no",
        "sup-d2-01": "yes",
        "sup-d2-02": "na",
        "sup-d9s-04": "no",
        "sup-d9s-01": "star2",
        "sup-d9s-14": "star3",
        "sup-prof-01": "情報セキュリティ部 security@example.jp",
        "sup-prof-02": "1000000",
        "sup-d9s-18": "2500",
        "sup-d9s-03": "2025-12-31",
        "sup-d9s-08": "2027-01-05",
        "sup-d9s-09": ["pmark", "soc2", "csms"],
        "sup-d9s-02": "50000228580",
        "sup-d5-01": "partial",
        "sup-d3-01": None,
    }
    # Changed, and the carried-over answer confirmed; the untouched one is not counted.
    assert result.saved == len(values) - 1
    assert (stored["sup-d1-01"].version, stored["sup-d1-01"].comment) == (4, HYPERLINK)
    assert stored["sup-d5-01"].version == 2 and not stored["sup-d5-01"].carried_over
    assert stored["sup-d9s-02"].version == 1
    assert stored["sup-d2-01"].comment == "全社で実施しています。"
    assert stored["sup-d3-01"].comment == "+ 来期に予定"
    assert stored["sup-d2-01"].version == 1 and stored["sup-d2-01"].contact_id == setup.contact_id

    # Uploading the same file again changes nothing.
    again = _import(app, setup.assessment_id, _bytes(_build(app, setup.assessment_id)))
    assert (again.saved, again.errors) == (0, [])


def test_any_bad_row_rejects_the_whole_file(app, setup, ctx):
    _store(ctx, setup.assessment_id, sup_d2_02=("no", "", 1))
    wb = _build(app, setup.assessment_id)
    _fill(
        wb,
        sup_d2_01="yes",
        sup_d2_02="partial",
        sup_d9s_09="pmark; sometimes",
        sup_d1_01="たぶん",
        sup_d9s_03="2026-13-45",
        sup_prof_02="約100人",
    )
    d2 = wb["d2"]
    d2["A10"], d2["F10"] = "sup-zz-99", "yes"
    d2["A11"], d2["F11"] = "sup-d1-03", "yes"  # also on sheet d1
    assert (wb["d1"]["A3"].value, wb["d9-specifics"]["A5"].value) == ("sup-d1-01", "sup-d9s-03")

    with app.app_context(), force_locale("ja"):
        result = excel.import_workbook(
            db.session.get(Assessment, setup.assessment_id), TEMPLATE, _bytes(wb), None, NOW
        )
        db.session.rollback()
        db.session.remove()

    places = [(e.sheet, e.row) for e in result.errors]
    assert places == [
        ("profile", 4),
        ("d1", 3),
        ("d2", 10),
        ("d2", 11),
        ("d9-specifics", 5),
        ("d9-specifics", 11),
    ]
    by_place = {(e.sheet, e.row): e.message for e in result.errors}
    assert "たぶん" in by_place["d1", 3]
    assert "実施している; 一部実施している; 実施していない" in by_place["d1", 3]
    assert "Implemented" not in by_place["d1", 3]  # allowed answers in the user's language
    assert "sup-zz-99" in by_place["d2", 10]
    assert "sup-d1-03" in by_place["d2", 11] and "d1" in by_place["d2", 11]
    assert "2026-13-45" in by_place["d9-specifics", 5]
    assert "sometimes" in by_place["d9-specifics", 11]
    assert "約100人" in by_place["profile", 4]
    assert result.saved == 0
    stored = _stored(ctx, setup.assessment_id)
    assert list(stored) == ["sup-d2-02"] and stored["sup-d2-02"].value == "no"


def test_an_answer_changed_in_the_portal_after_the_download_is_a_conflict(app, setup, ctx):
    _store(ctx, setup.assessment_id, sup_d1_01=("yes", "", 1))
    wb = _build(app, setup.assessment_id)
    with app.app_context():  # meanwhile, someone saves in the portal
        portal.save_answers(
            db.session.get(Assessment, setup.assessment_id),
            TEMPLATE,
            {"sup-d1-01": portal.Posted("no", "", 1)},
            None,
            NOW,
        )
        db.session.commit()
    _fill(wb, sup_d1_01="partial", sup_d2_01="yes")

    result = _import(app, setup.assessment_id, _bytes(wb))

    assert [(e.sheet, e.row) for e in result.errors] == [("d1", 3)]
    assert "download" in result.errors[0].message.lower()
    stored = _stored(ctx, setup.assessment_id)
    assert list(stored) == ["sup-d1-01"]
    assert (stored["sup-d1-01"].value, stored["sup-d1-01"].version) == ("no", 2)


@pytest.mark.parametrize("content", [PDF, os.urandom(4096), b"", b"PK\x03\x04broken zip"])
def test_a_file_that_is_not_an_excel_file(app, setup, ctx, content):
    result = _import(app, setup.assessment_id, io.BytesIO(content))
    assert result.saved == 0
    assert [(e.sheet, e.row) for e in result.errors] == [("", 0)]
    assert "not an Excel file (.xlsx)" in result.errors[0].message


def test_a_workbook_of_something_else_is_refused(app, setup, ctx, make_supplier):
    unrelated = Workbook()
    unrelated.active["A3"] = "sup-d1-01"
    result = _import(app, setup.assessment_id, _bytes(unrelated))
    assert (
        len(result.errors) == 1 and "none of the questionnaire's sheets" in result.errors[0].message
    )

    other = make_supplier()
    with ctx() as session:
        another = make_assessment(other, TEMPLATE, status=AssessmentStatus.in_progress, due_on=DUE)
        session.commit()
        another_id = another.id
    wb = _build(app, another_id)
    _fill(wb, sup_d1_01="yes")
    result = _import(app, setup.assessment_id, _bytes(wb))
    assert len(result.errors) == 1 and "another questionnaire" in result.errors[0].message
    assert _stored(ctx, setup.assessment_id) == {}


def test_a_text_longer_than_a_cell_survives_the_round_trip(app, setup, ctx):
    long_text = "=" + "長い回答。" * 8000
    _store(ctx, setup.assessment_id, sup_prof_03=(long_text, "", 1))
    wb = _build(app, setup.assessment_id)
    assert len(_cell(wb, "sup-prof-03").value) == excel.CELL_LIMIT
    _fill(wb, sup_d1_01="yes")
    assert _import(app, setup.assessment_id, _bytes(wb)).errors == []
    assert _stored(ctx, setup.assessment_id)["sup-prof-03"].value == long_text


def test_a_workbook_too_large_once_unzipped_is_refused(app, setup, monkeypatch):
    wb = _build(app, setup.assessment_id)
    monkeypatch.setattr(excel, "BASE_UNZIPPED", 10_000)
    monkeypatch.setattr(excel, "BYTES_PER_QUESTION", 0)
    result = _import(app, setup.assessment_id, _bytes(wb))
    assert [e.message for e in result.errors] == ["The Excel file is too large to be read."]


def test_sheet_names_are_valid_and_unique():
    names = excel.sheet_names(TEMPLATE)
    assert list(names) == [s.id for s in TEMPLATE.sections]
    assert len({n.casefold() for n in names.values()}) == len(names)
    assert all(len(n) <= 31 for n in names.values())


# ---------------------------------------------------------------- through the portal


@pytest.fixture
def supplier_client(app, setup, client):
    """A client holding a portal sitting opened from the invitation."""
    with app.app_context():
        token = portal.open_sitting(
            db.session.get(Invitation, setup.invitation_id), "127.0.0.1", NOW
        )
        db.session.commit()
        db.session.remove()
    with client.session_transaction() as session:
        session["portal"] = {"sitting": token}
    return client


def _download(client):
    response = client.get("/portal/q/excel")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    return response


def test_download_and_upload_through_the_portal(app, setup, ctx, supplier_client):
    response = _download(supplier_client)
    assert f"csm-v2-supplier-{setup.assessment_id}.xlsx" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    _fill(wb, sup_d1_01="Implemented", sup_prof_02=250)

    response = supplier_client.post(
        "/portal/q/excel",
        data={"workbook": (_bytes(wb), "filled.xlsx")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302 and response.headers["Location"] == "/portal/q/"
    stored = _stored(ctx, setup.assessment_id)
    assert {q: a.value for q, a in stored.items()} == {"sup-d1-01": "yes", "sup-prof-02": "250"}
    assert stored["sup-d1-01"].contact_id == setup.contact_id


def test_an_upload_with_bad_rows_shows_them_and_saves_nothing(app, setup, ctx, supplier_client):
    wb = load_workbook(io.BytesIO(_download(supplier_client).data))
    _fill(wb, sup_d1_01="Implemented", sup_d9s_03="31/12/2026")

    response = supplier_client.post(
        "/portal/q/excel",
        data={"workbook": (_bytes(wb), "filled.xlsx")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "d9-specifics" in page and "<td>5</td>" in page and "31/12/2026" in page
    assert 'href="/portal/q/"' in page
    assert _stored(ctx, setup.assessment_id) == {}

    response = supplier_client.post(
        "/portal/q/excel",
        data={"workbook": (io.BytesIO(PDF), "evidence.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "<td>—</td>" in response.get_data(as_text=True)
