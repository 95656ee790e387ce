"""The portal's progress counts only the questions the supplier can see, the same on the overview
and in the sections, and says why the total changed when an answer shows or hides questions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.factories import make_assessment, make_invitation
from vendorrisk.catalog import Catalog
from vendorrisk.extensions import db
from vendorrisk.models.mixins import hash_token
from vendorrisk.scoring.answers import AnswerState, progress

TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v2-supplier")
TOKEN = "progress-portal-token-" + "p" * 30
#: "Does your company hold ISMS certification?": yes shows four questions about the certificate.
ISMS = "sup-d9s-04"
CERTIFICATE = "sup-d9s-05"


@pytest.fixture
def browser(app, make_supplier, make_contact, today):
    """A supplier's browser with the questionnaire open in English."""
    supplier = make_supplier()
    contact = make_contact(supplier)
    with app.app_context():
        assessment = make_assessment(supplier, due_on=today + timedelta(days=30))
        make_invitation(
            assessment,
            contact,
            token_hash=hash_token(TOKEN),
            expires_at=datetime.combine(today + timedelta(days=60), time(), UTC),
        )
        db.session.commit()
        db.session.remove()
    browser = app.test_client()
    assert browser.post(f"/portal/{TOKEN}", data={"lang": "en"}).status_code == 302
    return browser


def _answer(browser, question_id: str, value: str) -> dict:
    version = 0
    page = browser.get("/portal/q/section/d9-specifics").get_data(as_text=True)
    found = re.search(rf'name="v-{question_id}" value="(\d+)"', page)
    if found:
        version = int(found.group(1))
    response = browser.post(
        "/portal/q/autosave",
        data={"question": question_id, f"v-{question_id}": version, f"a-{question_id}": value},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _count(html: str) -> tuple[int, int]:
    found = re.search(r"Questions shown: (\d+) of (\d+) answered", html)
    assert found, html
    return int(found.group(1)), int(found.group(2))


def _section_totals(html: str) -> int:
    table = html.split("<tbody>")[1].split("</tbody>")[0]
    return sum(int(t) for _, t in re.findall(r"<td>(\d+) of (\d+)</td>", table))


def test_the_count_is_of_the_questions_shown_everywhere(browser):
    overview = browser.get("/portal/q/").get_data(as_text=True)
    assert _count(overview) == (0, 45)
    assert _section_totals(overview) == 45  # the sections add up to the total shown, not 57
    assert "changed from" not in overview and "were added" not in overview
    for path in ("/portal/q/section/d9-specifics", "/portal/q/submit"):
        assert _count(browser.get(path).get_data(as_text=True)) == (0, 45)
    section = browser.get("/portal/q/section/d9-specifics").get_data(as_text=True)
    assert "0 of 10 answered" in section
    assert "Some answers to this question show further questions" in section


def test_a_total_that_grows_or_shrinks_with_an_answer_says_why(browser):
    browser.get("/portal/q/")  # the supplier has seen 45
    saved = _answer(browser, ISMS, "yes")
    assert (saved["answered"], saved["total"]) == (1, 49)
    overview = browser.get("/portal/q/").get_data(as_text=True)
    assert _count(overview) == (1, 49)
    assert _section_totals(overview) == 49
    assert "changed from 45 to 49" in overview
    assert "At first 45 questions were shown" in overview
    assert "4 questions were added by your answer to:" in overview
    assert "Does your company hold ISMS certification" in overview
    assert f'#q-{ISMS}"' in overview  # a link to the answer that added them

    again = browser.get("/portal/q/section/d9-specifics").get_data(as_text=True)
    assert _count(again) == (1, 49)
    assert "changed from" not in again  # said once; the reason stays in the details
    assert "4 questions were added by your answer to:" in again

    _answer(browser, CERTIFICATE, "IS 123456")
    _answer(browser, ISMS, "no")  # the certificate question hides again, with its answer
    back = browser.get("/portal/q/").get_data(as_text=True)
    assert _count(back) == (1, 45)  # the hidden certificate number no longer counts
    assert "changed from 49 to 45" in back  # never backwards without a word
    assert "were added" not in back


def test_the_count_reads_naturally_in_japanese(browser):
    browser.post("/portal/q/language", data={"lang": "ja", "next": "/portal/q/"})
    browser.get("/portal/q/")
    _answer(browser, ISMS, "yes")
    overview = browser.get("/portal/q/").get_data(as_text=True)
    assert "表示中の質問：49問中1問に回答済み" in overview
    assert "表示される質問の数が45問から49問に変わりました" in overview
    assert "次の質問へのご回答により、4問が追加されました" in overview


def test_progress_counts_visible_questions_per_section():
    states = {
        ISMS: AnswerState("no"),
        CERTIFICATE: AnswerState("IS 1"),  # answered, then hidden by the answer above
        "sup-d1-01": AnswerState("yes"),
        "sup-d1-03": AnswerState("yes", carried_over=True),  # counts once confirmed
    }
    result = progress(TEMPLATE, states)
    # csm-v2-supplier@2: version 1's 45 shown, and its 16 new questions but the 3 that start
    # hidden by show_if (sup-x-02, sup-x-13 and sup-x-15, each shown by an answer)
    assert (result.answered, result.total, result.initial) == (2, 58, 58)
    assert sum(s.total for s in result.sections) == result.total
    assert sum(s.answered for s in result.sections) == result.answered
    assert result.section("d1").answered == 1
    assert result.added == () and result.removed == ()
    shown = progress(TEMPLATE, states | {ISMS: AnswerState("yes")})
    assert (shown.answered, shown.total) == (3, 62)  # the certificate number counts again
    assert [(s.question.id, s.count) for s in shown.added] == [(ISMS, 4)]
