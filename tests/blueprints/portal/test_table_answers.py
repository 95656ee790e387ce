"""A table question answered in the portal (issue 18): a row of inputs per entry, "Add a row"
without JavaScript, the autosave, problems naming the row and the column, and the Excel file's
one cell read back. The app serves a test template from its own questionnaire folder."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import load_workbook

from tests.catalog.test_table_type import ACME, TOYOTA, template_data, write_template
from tests.conftest import build_app, empty_tables
from tests.factories import make_assessment, make_invitation
from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import Answer, Contact, Supplier, SupplierCategory
from vendorrisk.models.mixins import hash_token

TOKEN = "table-portal-token-" + "t" * 30
SECTION = "/portal/q/section/subcontracting"
Q = "sub-list"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Flask]:
    """An app whose catalog is the test template, its table taking up to 5 rows."""
    folder = tmp_path_factory.mktemp("questionnaires")
    data = template_data()
    data["sections"][0]["questions"][1]["max_rows"] = 5
    write_template(folder, data)
    app = build_app(tmp_path_factory, QUESTIONNAIRE_DIR=str(folder))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():  # the database may be shared (PostgreSQL): its rows go, not its tables
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def portal(served) -> Iterator[SimpleNamespace]:
    """A contact's browser with the test questionnaire open in English."""
    with served.app_context():
        today = clock.today()
        supplier = Supplier(
            name_ja="株式会社再委託テスト", category=SupplierCategory.outsourcing_contractor
        )
        contact = Contact(
            supplier=supplier, name="John Smith", email="john@example.com", locale="en"
        )
        db.session.add_all([supplier, contact])
        db.session.flush()
        assessment = make_assessment(
            supplier, catalog().get("table-test"), due_on=today + timedelta(days=30)
        )
        make_invitation(
            assessment,
            contact,
            token_hash=hash_token(TOKEN),
            locale="en",
            expires_at=datetime.combine(today + timedelta(days=60), time(), UTC),
        )
        db.session.commit()
        assessment_id = assessment.id
        db.session.remove()
    browser = served.test_client()
    assert browser.post(f"/portal/{TOKEN}", data={"lang": "en"}).status_code == 302
    yield SimpleNamespace(app=served, browser=browser, assessment_id=assessment_id)
    with served.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)


def _stored(portal) -> Answer | None:
    with portal.app.app_context():
        answer = db.session.scalar(
            sa.select(Answer).where(
                Answer.assessment_id == portal.assessment_id, Answer.question_id == Q
            )
        )
        if answer is not None:
            db.session.expunge(answer)
        db.session.remove()
    return answer


def _cells(rows: list[dict[str, str]], **extra: str) -> dict[str, Any]:
    """The section's form: the table's cells as the page names them, and its version."""
    data = {f"v-{Q}": "0", "v-sub-yes": "0", "a-sub-yes": "yes"} | extra
    for n, row in enumerate(rows):
        data |= {f"a-{Q}-{n}-{column}": value for column, value in row.items()}
    return data


def _rows_on(page: str) -> int:
    return len(set(re.findall(rf'name="a-{Q}-(\d+)-name"', page)))


def _value(page: str, n: int, column: str) -> str:
    found = re.search(rf'name="a-{Q}-{n}-{column}" value="([^"]*)"', page)
    assert found, (n, column)
    return found.group(1)


FIRST = {"name": "株式会社データ保守", "corporate_number": "7000-0120-50002", "country": "Japan",
         "work": "サーバ保守", "our_data": "personal", "approved_on": "2024-04-01"}  # fmt: skip
SECOND = {"name": "Viet Dev Co.", "country": "VN", "our_data": "none"}
BLANK = {"name": "", "corporate_number": "", "country": "", "work": "", "our_data": ""}


def test_the_table_shows_its_columns_and_rows_to_fill_in(portal):
    page = portal.browser.get(SECTION).get_data(as_text=True)
    assert '<th scope="col">Name <span class="badge muted">Required</span></th>' in page
    assert '<th scope="col">Corporate number</th>' in page and "Our approval date" in page
    assert _rows_on(page) == 3
    assert 'aria-label="Corporate number 2"' in page
    assert f'<input type="date" name="a-{Q}-0-approved_on"' in page
    assert '<option value="personal" >Personal data</option>' in page
    assert f'list="a-{Q}-country-options"' in page and '<option value="JP">Japan</option>' in page
    assert f'name="action" value="rows:{Q}:4"' in page and "Up to 5 rows" in page


def test_rows_saved_through_the_form_drop_the_blank_ones(portal):
    response = portal.browser.post(SECTION, data=_cells([FIRST, BLANK, SECOND], action="save"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _stored(portal).value == [
        {"name": "株式会社データ保守", "corporate_number": ACME, "country": "JP",
         "work": "サーバ保守", "our_data": "personal", "approved_on": "2024-04-01"},
        {"name": "Viet Dev Co.", "country": "VN", "our_data": "none"},
    ]  # fmt: skip
    page = portal.browser.get(SECTION).get_data(as_text=True)
    assert _rows_on(page) == 3  # the two saved, and a blank one
    assert (_value(page, 0, "corporate_number"), _value(page, 1, "country")) == (ACME, "VN")
    assert _value(page, 2, "name") == ""
    assert '<option value="personal" selected>Personal data</option>' in page


def test_add_a_row_saves_and_comes_back_with_one_more_up_to_max_rows(portal):
    response = portal.browser.post(SECTION, data=_cells([FIRST], action=f"rows:{Q}:4"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"{SECTION}?rows={Q}:4#q-{Q}"
    assert _stored(portal).value[0]["name"] == "株式会社データ保守"  # saved on the way
    page = portal.browser.get(response.headers["Location"]).get_data(as_text=True)
    assert _rows_on(page) == 4 and f'value="rows:{Q}:5"' in page
    page = portal.browser.get(f"{SECTION}?rows={Q}:5").get_data(as_text=True)
    assert _rows_on(page) == 5 and f'value="rows:{Q}:' not in page  # max_rows: no more to add
    assert _rows_on(portal.browser.get(f"{SECTION}?rows={Q}:9").get_data(as_text=True)) == 5


def test_a_bad_row_names_its_row_and_column_and_is_shown_again_to_correct(portal):
    bad = {"name": "", "corporate_number": "8000012050002", "country": "JP"}
    response = portal.browser.post(SECTION, data=_cells([FIRST, bad], action="save"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Row 2, Name: Fill in this column." in page
    assert "Row 2, Corporate number: This corporate number is not valid" in page
    assert _value(page, 1, "corporate_number") == "8000012050002"  # as typed
    assert _stored(portal) is None  # the table is not saved...
    with portal.app.app_context():  # ...the section's other answers are
        saved = db.session.scalars(
            sa.select(Answer.question_id).where(Answer.assessment_id == portal.assessment_id)
        ).all()
        db.session.remove()
    assert saved == ["sub-yes"]


def test_the_autosave_saves_a_table_as_its_cells_are_typed(portal):
    saved = portal.browser.post(
        "/portal/q/autosave",
        data={"question": Q} | _cells([SECOND]),
        headers={"Accept": "application/json"},
    )
    assert saved.status_code == 200 and saved.get_json()["status"] == "saved"
    assert _stored(portal).value == [{"name": "Viet Dev Co.", "country": "VN", "our_data": "none"}]
    refused = portal.browser.post(
        "/portal/q/autosave",
        data={"question": Q, f"v-{Q}": saved.get_json()["version"], f"a-{Q}-0-name": "A社",
              f"a-{Q}-0-country": "Atlantis"},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert refused.get_json()["message"].startswith("Row 1, Country: Give the country as its")


def _excel(portal):
    response = portal.browser.get("/portal/q/excel")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    ws = wb["subcontracting"]
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 1).value == Q)
    return wb, ws, row


def _upload(portal, wb):
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return portal.browser.post(
        "/portal/q/excel",
        data={"workbook": (out, "filled.xlsx")},
        content_type="multipart/form-data",
    )


def test_the_excel_file_holds_the_table_in_one_cell_and_reads_it_back(portal):
    portal.browser.post(SECTION, data=_cells([FIRST], action="save"))
    wb, ws, row = _excel(portal)
    kind, allowed, answer = (ws.cell(row, column).value for column in (4, 5, 6))
    assert kind.splitlines()[2:] == [
        "再委託先の名称* | 法人番号 | 所在国 | 委託する業務 | 当社データの取扱い | 当社の承認日",
        "Name* | Corporate number | Country | Work done | Our data handled | Our approval date",
    ]
    assert "当社データの取扱い / Our data handled: 取り扱わない / None; 機密情報" in allowed
    assert answer == (
        f"株式会社データ保守 | {ACME} | JP | サーバ保守 | 個人情報 / Personal data | 2024-04-01"
    )

    ws.cell(row, 6).value = answer + f"\nトヨタ保守｜{TOYOTA}｜日本｜保守"
    response = _upload(portal, wb)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _stored(portal).value[1] == {
        "name": "トヨタ保守", "corporate_number": TOYOTA, "country": "JP", "work": "保守"
    }  # fmt: skip

    wb, ws, row = _excel(portal)
    ws.cell(row, 6).value = "A社\nB社 | 8000012050002"
    response = _upload(portal, wb)
    assert response.status_code == 422
    assert "Line 2, Corporate number: This corporate number is not valid" in response.get_data(
        as_text=True
    )
    assert len(_stored(portal).value) == 2  # nothing imported
