"""The table answer type (issue 18): columns declared by the question, checked at load; rows
checked cell by cell by each column's own type, with problems naming the row and the column;
a readable summary; the workbook's one cell, a line per row, read back as written."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from vendorrisk.catalog import CatalogError, Question, load_template
from vendorrisk.catalog.formats import FormatError, clean_text, country_name
from vendorrisk.catalog.model import Column
from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types import AnswerError, question_type

TEXT = {"ja": "質問", "en": "Question"}
CHOICES = [
    {"value": "none", "label": {"ja": "取り扱わない", "en": "None"}},
    {"value": "confidential", "label": {"ja": "機密情報", "en": "Confidential information"}},
    {"value": "personal", "label": {"ja": "個人情報", "en": "Personal data"}},
    {"value": "both", "label": {"ja": "機密情報と個人情報", "en": "Both"}},
]
COLUMNS = [
    {"id": "name", "type": "text", "required": True,
     "label": {"ja": "再委託先の名称", "en": "Name"}},
    {"id": "corporate_number", "type": "text", "format": "corporate_number",
     "label": {"ja": "法人番号", "en": "Corporate number"}},
    {"id": "country", "type": "text", "format": "country",
     "label": {"ja": "所在国", "en": "Country"}},
    {"id": "work", "type": "text", "label": {"ja": "委託する業務", "en": "Work done"}},
    {"id": "our_data", "type": "single_choice", "choices": CHOICES,
     "label": {"ja": "当社データの取扱い", "en": "Our data handled"}},
    {"id": "approved_on", "type": "date",
     "label": {"ja": "当社の承認日", "en": "Our approval date"}},
]  # fmt: skip
#: The question of the test template: at most 3 rows, to reach the limit.
TABLE = {
    "id": "sub-list",
    "type": "table",
    "text": {"ja": "当社の業務の再委託先をご記入ください。", "en": "List your subcontractors."},
    "weight": 0,
    "required": False,
    "mapping": {"directive": 9, "item": "D9-2"},
    "columns": COLUMNS,
    "max_rows": 3,
}
ACME = "7000012050002"  # the National Tax Agency's own corporate number
TOYOTA = "1180301018771"


def template_data() -> dict[str, Any]:
    """A Ver 3.0 supplier template of a yes/no question and the table."""
    return {
        "id": "table-test",
        "edition": "csm-3.0",
        "version": 1,
        "audience": "supplier",
        "title": {"ja": "再委託の質問票", "en": "Subcontracting questionnaire"},
        "scoring": {"critical_cap": 40},
        "sections": [
            {
                "id": "subcontracting",
                "title": {"ja": "再委託", "en": "Subcontracting"},
                "questions": [
                    {
                        "id": "sub-yes",
                        "type": "yes_no",
                        "text": TEXT,
                        "weight": 1,
                        "mapping": {"directive": 9, "item": "D9-2"},
                    },
                    copy.deepcopy(TABLE),
                ],
            }
        ],
    }


def write_template(folder: Path, data: dict[str, Any] | None = None) -> Path:
    """The test template (or `data`) as a YAML file of `folder`, named after its id."""
    data = data or template_data()
    path = folder / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def question(tmp_path_factory) -> Question:
    return load_template(write_template(tmp_path_factory.mktemp("table"))).question("sub-list")


@pytest.fixture
def english(app) -> Iterator[None]:
    """Messages as an English-speaking supplier reads them."""
    with app.test_request_context(), force_locale("en"):
        yield


# -- the formats a column may have ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [(ACME, ACME), ("７０００-０１２０-５０００２", ACME), (f" {TOYOTA} ", TOYOTA)],
)
def test_a_corporate_number_is_its_thirteen_digits_with_the_check_digit(raw, stored):
    assert clean_text("corporate_number", raw) == stored


@pytest.mark.parametrize("raw", ["8000012050002", "1180301018772", "700001205000", "法人番号"])
def test_anything_else_is_not_a_corporate_number(raw):
    with pytest.raises(FormatError):
        clean_text("corporate_number", raw)


@pytest.mark.parametrize(
    ("raw", "code"),
    [("JP", "JP"), ("jp", "JP"), ("ＪＰ", "JP"), ("日本", "JP"), ("Japan", "JP"),
     ("アメリカ", "US"), ("United States", "US"), ("ベトナム", "VN"), ("Viet Nam", "VN")],
)  # fmt: skip
def test_a_country_is_stored_as_its_iso_code_given_so_or_by_name(raw, code):
    assert clean_text("country", raw) == code


@pytest.mark.parametrize("raw", ["Atlantis", "EU", "ZZ", "JPN", ""])
def test_anything_else_is_not_a_country(raw):
    with pytest.raises(FormatError, match="two-letter code"):
        clean_text("country", raw)


def test_a_country_reads_as_its_name_in_the_readers_language():
    assert (country_name("VN", "en"), country_name("VN", "ja"), country_name("QQ", "en")) == (
        "Vietnam",
        "ベトナム",
        "QQ",
    )


@pytest.mark.parametrize("fmt", ["corporate_number", "country"])
def test_a_text_question_of_the_new_formats_has_a_valid_sample(fmt):
    text = Column(id="x", type="text", label=Text(*TEXT.values()), format=fmt)
    sample = question_type("text").sample(text)
    assert question_type("text").normalize(text, sample) == sample


# -- the template --------------------------------------------------------------------------------


def test_the_loader_reads_the_columns_and_the_row_limit(question):
    assert question.kind.name == "table" and question.max_rows == 3
    assert [c.id for c in question.columns] == [
        "name", "corporate_number", "country", "work", "our_data", "approved_on"
    ]  # fmt: skip
    name, number, country, _, our_data, approved_on = question.columns
    assert isinstance(name, Column) and name.required and not number.required
    assert (number.format, country.format, approved_on.type) == (
        "corporate_number",
        "country",
        "date",
    )
    assert [c.value for c in our_data.choices] == ["none", "confidential", "personal", "both"]
    assert our_data.choices[2].label.en == "Personal data"
    assert not question.scored and not question.critical


def test_a_table_without_max_rows_takes_30(tmp_path):
    data = template_data()
    del data["sections"][0]["questions"][1]["max_rows"]
    assert load_template(write_template(tmp_path, data)).question("sub-list").max_rows == 30


def _table(d: dict) -> dict:
    return d["sections"][0]["questions"][1]


def _column(d: dict, i: int) -> dict:
    return _table(d)["columns"][i]


REFUSED: dict[str, Callable[[dict], Any]] = {
    "question 'sub-list': duplicate column id 'name'": lambda d: _column(d, 3).update(id="name"),
    "column 'work': unknown column type 'email' (known: text, date, number, single_choice)": (
        lambda d: _column(d, 3).update(type="email")
    ),
    "column 'country': label: missing translation 'en'": lambda d: _column(d, 2).update(
        label={"ja": "所在国"}
    ),
    "column 'work': label: must be a mapping with the keys 'ja' and 'en'": lambda d: _column(
        d, 3
    ).update(label="Work"),
    "column 'Corporate-Number': id must be lower-case letters, digits and _": lambda d: _column(
        d, 1
    ).update(id="Corporate-Number"),
    "column #2: missing key 'id'": lambda d: _column(d, 1).pop("id"),
    "column 'name': missing key 'label'": lambda d: _column(d, 0).pop("label"),
    "column 'work': unknown key 'width'": lambda d: _column(d, 3).update(width=20),
    "column 'approved_on': unknown format 'corporate_number' (known for date: issue_date, "
    "expiry)": lambda d: _column(d, 5).update(format="corporate_number"),
    "column 'work': choices are for single_choice columns, not text": lambda d: _column(
        d, 3
    ).update(choices=CHOICES),
    "column 'our_data': choices must be a non-empty list": lambda d: _column(d, 4).pop("choices"),
    "column 'our_data': choice 1: unknown key 'score'": lambda d: _column(d, 4)["choices"][
        0
    ].update(score=1),
    "column 'name': 'required' must be true or false": lambda d: _column(d, 0).update(
        required="yes"
    ),
    "a table question needs columns: a non-empty list": lambda d: _table(d).pop("columns"),
    "a table has at most 8 columns, not 9": lambda d: _table(d)["columns"].extend(
        {"id": f"extra{i}", "type": "text", "label": TEXT} for i in range(3)
    ),
    "max_rows 0 must be a whole number from 1 to 50": lambda d: _table(d).update(max_rows=0),
    "max_rows 51 must be a whole number from 1 to 50": lambda d: _table(d).update(max_rows=51),
    "max_rows 'ten' must be a whole number from 1 to 50": lambda d: _table(d).update(
        max_rows="ten"
    ),
    "question 'sub-yes': columns is for table questions, not yes_no": lambda d: d["sections"][0][
        "questions"
    ][0].update(columns=COLUMNS),
    "question 'sub-yes': max_rows is for table questions, not yes_no": lambda d: d["sections"][0][
        "questions"
    ][0].update(max_rows=3),
    "an unscored type (table) must have weight 0": lambda d: _table(d).update(weight=1),
    "only scored questions can be critical, not table": lambda d: _table(d).update(critical=True),
}


@pytest.mark.parametrize("expected", list(REFUSED))
def test_a_bad_column_definition_is_refused_with_a_clear_error(tmp_path, expected):
    data = template_data()
    REFUSED[expected](data)
    with pytest.raises(CatalogError) as caught:
        load_template(write_template(tmp_path, data))
    assert expected in str(caught.value)


def test_every_problem_of_the_columns_is_reported_at_once(tmp_path):
    data = template_data()
    _column(data, 1).update(format="iso")
    _column(data, 5).update(type="datetime")
    with pytest.raises(CatalogError) as caught:
        load_template(write_template(tmp_path, data))
    assert len(caught.value.problems) == 2


# -- normalising ---------------------------------------------------------------------------------


def test_rows_are_stored_as_each_columns_type_stores_its_answer(question, english):
    kind = question.kind
    raw = [
        {"name": " 株式会社データ保守 ", "corporate_number": "７０００-０１２０-５０００２",
         "country": "日本", "work": "サーバ\n保守", "our_data": "personal",
         "approved_on": "2024/4/1"},
        {"name": "", "corporate_number": " ", "country": "", "our_data": ""},  # blank: dropped
        {"name": "Viet Dev Co.", "country": "vn", "our_data": "Both"},
    ]  # fmt: skip
    assert kind.normalize(question, raw) == [
        {"name": "株式会社データ保守", "corporate_number": ACME, "country": "JP",
         "work": "サーバ 保守", "our_data": "personal", "approved_on": "2024-04-01"},
        {"name": "Viet Dev Co.", "country": "VN", "our_data": "both"},
    ]  # fmt: skip


@pytest.mark.parametrize("raw", [None, "", [], [{}], [{"name": "  ", "work": ""}, {}]])
def test_a_table_of_blank_rows_is_unanswered(question, english, raw):
    assert question.kind.normalize(question, raw) is None


def _refused(question, raw) -> str:
    with pytest.raises(AnswerError) as caught:
        question.kind.normalize(question, raw)
    return str(caught.value)


def test_a_row_without_its_required_column_names_the_row_and_column(question, english):
    raw = [{"name": "A社"}, {}, {"country": "JP", "work": "保守"}]
    assert _refused(question, raw) == "Row 3, Name: Fill in this column."


def test_a_corporate_number_with_a_wrong_check_digit_is_refused(question, english):
    message = _refused(question, [{"name": "A社", "corporate_number": "8000012050002"}])
    assert message.startswith("Row 1, Corporate number: This corporate number is not valid")
    assert _refused(question, [{"name": "A社", "corporate_number": "12345"}]) == (
        "Row 1, Corporate number: A corporate number has 13 digits."
    )


def test_more_rows_than_max_rows_are_refused(question, english):
    raw = [{"name": f"{n}社"} for n in range(1, 5)]
    assert _refused(question, raw) == "Enter at most 3 rows (there are 4)."
    assert question.kind.normalize(question, raw[:3] + [{}, {}]) == raw[:3]  # blanks don't count


def test_each_cells_own_rule_says_why_in_the_readers_language(question, english):
    raw = [
        {"name": "A社", "country": "Atlantis", "our_data": "some", "approved_on": "昨日"},
        {"name": "B | C"},
        {"name": "D社", "work": "保" * 201},
    ]
    assert _refused(question, raw) == (
        "Row 1, Country: Give the country as its two-letter code (such as JP or US) or its name. "
        "Row 1, Our data handled: “some” is not an allowed answer. Allowed answers: None; "
        "Confidential information; Personal data; Both. "
        "Row 1, Our approval date: “昨日” is not a date. Write dates as YYYY-MM-DD. "
        "Row 2, Name: “|” separates the columns in the Excel file: do not use it in a cell. "
        "Row 3, Work done: At most 200 characters."
    )


def test_many_problems_are_counted_beyond_the_first_five(question, english):
    raw = [{"country": "?", "approved_on": "?"}] * 3  # three problems a row
    message = _refused(question, raw)
    assert message.count("Row ") == 5 and message.endswith("(and 4 more problems)")


def test_a_problem_names_the_column_in_the_suppliers_language(app, question):
    with app.test_request_context(), force_locale("ja"):
        assert "再委託先の名称" in _refused(question, [{"work": "保守"}])


def test_anything_but_a_list_of_rows_is_refused(question, english):
    for raw in ("A社", {"name": "A社"}, ["A社"]):
        with pytest.raises(AnswerError, match="list of rows"):
            question.kind.normalize(question, raw)


# -- reading and showing -------------------------------------------------------------------------

ROWS = [
    {"name": "株式会社データ保守", "corporate_number": ACME, "country": "JP", "work": "サーバ保守",
     "our_data": "personal", "approved_on": "2024-04-01"},
    {"name": "Viet Dev Co.", "country": "VN"},
]  # fmt: skip


def test_the_label_is_a_numbered_line_per_row_in_the_readers_language(question):
    assert question.kind.label(question, ROWS, "en") == (
        "(1) Name: 株式会社データ保守; Corporate number: 7000012050002; Country: Japan; "
        "Work done: サーバ保守; Our data handled: Personal data; Our approval date: 2024-04-01\n"
        "(2) Name: Viet Dev Co.; Country: Vietnam"
    )
    assert question.kind.label(question, ROWS, "ja") == (
        "(1) 再委託先の名称：株式会社データ保守、法人番号：7000012050002、所在国：日本、"
        "委託する業務：サーバ保守、当社データの取扱い：個人情報、当社の承認日：2024-04-01\n"
        "(2) 再委託先の名称：Viet Dev Co.、所在国：ベトナム"
    )
    assert question.kind.label(question, None, "en") == ""


def test_the_portal_form_gives_its_rows_in_order_blank_ones_included(question):
    form = MultiDict(
        [
            ("a-sub-list-10-name", "K社"),
            ("a-sub-list-0-name", "A社"),
            ("a-sub-list-0-country", "JP"),
            ("a-sub-list-2-name", "C社"),
            ("a-sub-list-1-name", ""),
            ("a-sub-list", "stray"),
            ("a-sub-list-x-name", "stray"),
            ("a-sub-list-1-Bad-Id", "stray"),
            ("c-sub-list", "comment"),
            ("v-sub-list", "0"),
        ]
    )
    assert question.kind.from_form(form, "a-sub-list") == [
        {"name": "A社", "country": "JP"},
        {"name": ""},
        {"name": "C社"},
        {"name": "K社"},
    ]


@pytest.mark.parametrize(
    ("value", "asked", "shown"),
    [
        (None, None, 3),  # a blank table: three rows to fill in
        (ROWS, None, 3),  # two given and a blank one
        (ROWS, "sub-list:3", 3),
        (ROWS[:1], "sub-list:3", 3),
        (None, "sub-list:9", 3),  # never beyond max_rows...
        ([{}] * 5, None, 5),  # ...unless as many were typed (shown again to be corrected)
        (None, "other:2", 3),
        (None, "sub-list:x", 3),
    ],
)
def test_the_portal_shows_the_rows_given_and_blank_ones_within_max_rows(
    question, value, asked, shown
):
    assert question.kind.rows_shown(question, value, asked) == shown


def test_add_a_row_shows_one_more_up_to_max_rows(tmp_path):
    data = template_data()
    _table(data)["max_rows"] = 10
    question = load_template(write_template(tmp_path, data)).question("sub-list")
    assert question.kind.rows_shown(question, ROWS, "sub-list:4") == 4
    assert question.kind.rows_shown(question, [{}] * 6, None) == 7


def test_the_sample_is_an_answer_the_type_keeps_as_it_is(question, english):
    for rng in (None, random.Random(7)):
        sample = question.kind.sample(question, rng)
        assert question.kind.normalize(question, sample) == sample
    assert question.kind.sample(question)[0]["corporate_number"] == ACME


# -- the workbook's cell -------------------------------------------------------------------------


def test_the_workbook_cell_is_a_line_per_row_read_back_as_written(question, english):
    cell = question.kind.cell(question, ROWS)
    assert cell == (
        "株式会社データ保守 | 7000012050002 | JP | サーバ保守 | 個人情報 / Personal data | "
        "2024-04-01\n"
        "Viet Dev Co. |  | VN |  |  |"
    )
    assert question.kind.from_cell(question, cell) == ROWS
    assert question.kind.cell(question, None) == ""


def test_a_cell_written_by_hand_is_read_too(question, english):
    typed = (
        "再委託先の名称* | 法人番号 | 所在国 | 委託する業務\n"  # the header, copied: skipped
        "\n"
        f"株式会社データ保守｜{TOYOTA}｜日本｜保守｜機密情報\n"  # full-width bars, a label
        "Viet Dev Co.|| Vietnam"  # no spaces, the last columns left out
    )
    assert question.kind.from_cell(question, typed) == [
        {"name": "株式会社データ保守", "corporate_number": TOYOTA, "country": "JP",
         "work": "保守", "our_data": "confidential"},
        {"name": "Viet Dev Co.", "country": "VN"},
    ]  # fmt: skip
    assert question.kind.from_cell(question, "Name | Corporate number") is None


def test_a_bad_line_of_the_cell_is_named(question, english):
    with pytest.raises(AnswerError) as caught:
        question.kind.from_cell(question, "A社\n\nB社 | 8000012050002")
    assert str(caught.value).startswith(
        "Line 3, Corporate number: This corporate number is not valid"
    )
    with pytest.raises(AnswerError) as caught:
        question.kind.from_cell(question, "A社 | | JP | 保守 | なし | 2024-04-01 | 追記")
    assert str(caught.value) == (
        "Line 1 has 7 columns; this question has 6. Separate them with “ | ” in the order the "
        "answer type column shows."
    )
    with pytest.raises(AnswerError, match="Write at most 3 lines"):
        question.kind.from_cell(question, "A社\nB社\nC社\nD社")


def test_the_header_hint_lists_the_columns_in_their_order(question):
    header = question.kind.header(question)
    assert (
        header.ja
        == "再委託先の名称* | 法人番号 | 所在国 | 委託する業務 | 当社データの取扱い | 当社の承認日"
    )
    assert header.en.startswith("Name* | Corporate number | Country")
