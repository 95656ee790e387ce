"""A question's `format:`: the rules for what a supplier types, checked where it is typed (the
portal, the Excel upload) in the supplier's language; a template naming an unknown one is
refused."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import yaml
from flask_babel import force_locale

from tests.factories import make_answer, make_assessment, make_invitation
from vendorrisk.catalog import Catalog, CatalogError, load_template
from vendorrisk.catalog.formats import (
    FormatError,
    check_date,
    clean_certificate_number,
    clean_security_action_id,
    clean_text,
    date_problem,
)
from vendorrisk.catalog.types import AnswerError
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import Answer
from vendorrisk.models.mixins import hash_token
from vendorrisk.services.register import proposals

TODAY = date(2026, 12, 6)
SUPPLIER = Catalog.from_folder(BASE_DIR / "questionnaires").get("csm-v2-supplier")
TOKEN = "formats-portal-token-" + "f" * 30
SA_ID, ISMS_EXPIRY = "sup-d9s-02", "sup-d9s-08"


# -- the rules, pure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("50000228580", "50000228580"), ("５００００２２８５８０", "50000228580"),
     ("4000-0123-456", "40000123456"), (" 5 0000228580 ", "50000228580")],
)  # fmt: skip
def test_a_security_action_id_is_ipas_eleven_digits_as_written(raw, stored):
    assert clean_security_action_id(raw) == stored
    assert clean_text("security_action_id", raw) == stored


@pytest.mark.parametrize("raw", ["123", "60000228580", "5000022858", "500002285801", "SA-1", ""])
def test_anything_else_is_not_a_security_action_id(raw):
    with pytest.raises(FormatError, match="11-digit number IPA issued"):
        clean_security_action_id(raw)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("IS 123456", "IS 123456"), ("ＪＱＡ－ＩＭ１２３４", "JQA-IM1234"),
     ("ISMS-JP 0123/2024", "ISMS-JP 0123/2024"), ("IC03J0123", "IC03J0123")],
)  # fmt: skip
def test_a_certificate_number_is_kept_as_printed(raw, stored):
    assert clean_certificate_number(raw) == stored
    assert clean_text("certificate_number", raw) == stored


@pytest.mark.parametrize("raw", ["なし", "ISMS", "-123", "x", "取得済み 12345"])
def test_anything_else_is_not_a_certificate_number(raw):
    with pytest.raises(FormatError, match="exactly as printed"):
        clean_certificate_number(raw)


@pytest.mark.parametrize(
    ("fmt", "day", "why"),
    [
        ("issue_date", date(1999, 12, 31), "before 2000"),
        ("issue_date", TODAY + timedelta(days=1), "in the future"),
        ("expiry", date(1999, 12, 31), "before 2000"),
        ("expiry", date(2099, 12, 31), "more than 5 years ahead"),
    ],
)
def test_implausible_dates_are_refused_with_why(fmt, day, why):
    with pytest.raises(FormatError, match=why):
        check_date(fmt, day, TODAY)


@pytest.mark.parametrize(
    ("fmt", "day"),
    [
        ("issue_date", TODAY),
        ("issue_date", date(2000, 1, 1)),
        ("expiry", TODAY - timedelta(days=60)),  # past: answered honestly, flagged in review
        ("expiry", TODAY + timedelta(days=5 * 365)),
    ],
)
def test_plausible_dates_pass(fmt, day):
    check_date(fmt, day, TODAY)


def test_without_a_day_only_the_fixed_bound_is_checked():
    check_date("expiry", date(2099, 12, 31), None)
    with pytest.raises(FormatError, match="before 2000"):
        check_date("issue_date", date(1999, 1, 1), None)


def test_the_register_applies_the_same_rules():
    assert proposals.clean_security_action_id is clean_security_action_id
    assert proposals.date_problem is date_problem
    with pytest.raises(ValueError, match="exactly as printed"):  # the evidence form catches it
        proposals.clean_identifier("isms", "なし")


# -- the questionnaire -------------------------------------------------------------------------


def test_the_supplier_questionnaire_checks_its_identifiers_and_dates():
    formats = {q.id: q.format for q in SUPPLIER.questions if q.format}
    assert formats == {
        "sup-d9s-02": "security_action_id",
        "sup-d9s-03": "issue_date",
        "sup-d9s-05": "certificate_number",
        "sup-d9s-08": "expiry",
        "sup-d9s-13": "expiry",
        "sup-d9s-15": "expiry",
    }


def _with_format(tmp_path, qid: str, fmt):
    data = yaml.safe_load((BASE_DIR / "questionnaires" / "csm-v2-supplier.yaml").read_text("utf-8"))
    data = copy.deepcopy(data)
    for section in data["sections"]:
        for question in section["questions"]:
            if question["id"] == qid:
                question["format"] = fmt
    path = tmp_path / "csm-v2-supplier.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("qid", "fmt", "message"),
    [
        ("sup-d9s-02", "phone_number", "unknown format 'phone_number' (known for text: "),
        ("sup-d9s-08", "certificate_number", "unknown format 'certificate_number' (known for date"),
        ("sup-d9s-01", "expiry", "unknown format 'expiry' (none for this type)"),
        ("sup-d9s-02", 3, "unknown format 3"),
    ],
)
def test_the_loader_refuses_an_unknown_format_naming_file_and_question(tmp_path, qid, fmt, message):
    path = _with_format(tmp_path, qid, fmt)
    with pytest.raises(CatalogError) as caught:
        load_template(path)
    assert str(path) in str(caught.value)
    assert f"question {qid!r}: {message}" in str(caught.value)


def test_types_apply_the_format_in_the_readers_language(app, today):
    sa_id, expiry = SUPPLIER.question(SA_ID), SUPPLIER.question(ISMS_EXPIRY)
    with app.test_request_context(), force_locale("ja"):
        assert sa_id.kind.normalize(sa_id, "５００００２２８５８０") == "50000228580"
        with pytest.raises(AnswerError, match="IPA から発行された11桁の数字"):
            sa_id.kind.normalize(sa_id, "garbage")
        with pytest.raises(AnswerError, match="5年より先の日付です"):
            expiry.kind.normalize(expiry, "2099-12-31")
        with pytest.raises(AnswerError, match="日付ではありません"):
            expiry.kind.normalize(expiry, "2027-02-30")
        later = (today + timedelta(days=365)).isoformat()
        assert expiry.kind.normalize(expiry, later) == later
        # the Excel upload reads a cell through the same clean: its row reports the rule
        with pytest.raises(AnswerError, match="5年より先の日付です"):
            expiry.kind.from_cell(expiry, datetime(2099, 12, 31))
        with pytest.raises(AnswerError, match="IPA から発行された11桁の数字"):
            sa_id.kind.from_cell(sa_id, "12345")


# -- the portal --------------------------------------------------------------------------------


@pytest.fixture
def browser(app, make_supplier, make_contact, today):
    """A Japanese contact's browser on the questionnaire, an SA id and an ISMS expiry saved."""
    supplier = make_supplier()
    contact = make_contact(supplier, locale="ja")
    with app.app_context():
        assessment = make_assessment(supplier, due_on=today + timedelta(days=30))
        make_answer(assessment, "sup-d9s-01", "star2")
        make_answer(assessment, SA_ID, "50000228580")
        make_answer(assessment, "sup-d9s-04", "yes")
        make_answer(assessment, ISMS_EXPIRY, "2028-01-31")
        make_invitation(
            assessment,
            contact,
            token_hash=hash_token(TOKEN),
            expires_at=datetime.combine(today + timedelta(days=60), time(), UTC),
        )
        db.session.commit()
        db.session.remove()
    browser = app.test_client()
    assert browser.post(f"/portal/{TOKEN}", data={"lang": "ja"}).status_code == 302
    return browser


def _stored(app, qid: str) -> tuple[str, int]:
    with app.app_context():
        answer = db.session.scalar(sa.select(Answer).where(Answer.question_id == qid))
        found = answer.value, answer.version
        db.session.remove()
        return found


def _save(app, browser, qid: str, value: str):
    return browser.post(
        "/portal/q/section/d9-specifics",
        data={f"v-{qid}": _stored(app, qid)[1], f"a-{qid}": value},
        content_type="multipart/form-data",
    )


def _error_of(html: str, qid: str) -> str:
    block = html.split(f'id="q-{qid}"', 1)[1].split('class="question', 1)[0]
    return block.split('<p class="error" role="alert">', 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize(("qid", "typed", "why"), [
    (ISMS_EXPIRY, "2099-12-31", "有効期限の2099年12月31日（木）は5年より先の日付です。"),
    (SA_ID, "SA-12345", "IPA から発行された11桁の数字です"),
])  # fmt: skip
def test_the_portal_refuses_a_bad_format_in_japanese_and_keeps_the_saved_answer(
    app, browser, qid, typed, why
):
    before = _stored(app, qid)
    response = _save(app, browser, qid, typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert why in _error_of(html, qid)  # the rule's reason, next to the question, in Japanese
    block = html.split(f'id="q-{qid}"', 1)[1].split('class="question', 1)[0]
    assert typed in block  # what they typed stays in the field to correct
    assert _stored(app, qid) == before


@pytest.mark.parametrize(("qid", "typed", "stored"), [
    (ISMS_EXPIRY, "later", None), (SA_ID, "４０００-０１２３-４５６", "40000123456"),
])  # fmt: skip
def test_the_portal_saves_a_valid_answer_as_the_rule_writes_it(
    app, browser, today, qid, typed, stored
):
    if typed == "later":
        typed = stored = (today + timedelta(days=3 * 365)).isoformat()
    response = _save(app, browser, qid, typed)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert _stored(app, qid)[0] == stored


def test_autosave_refuses_it_in_japanese_too(app, browser):
    response = browser.post(
        "/portal/q/autosave",
        data={"question": ISMS_EXPIRY, f"v-{ISMS_EXPIRY}": _stored(app, ISMS_EXPIRY)[1],
              f"a-{ISMS_EXPIRY}": "2099-12-31"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.get_json()["status"] == "invalid"
    assert "5年より先の日付です" in response.get_json()["message"]
    assert _stored(app, ISMS_EXPIRY)[0] == "2028-01-31"
