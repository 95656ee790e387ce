"""Importing suppliers and contacts from CSV or XLSX: reading, mapping, checks, writing, UI, CLI."""

from __future__ import annotations

import csv
import io
import os
import re
import time
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from tests.conftest import PASSWORD, csrf_token_from, renew_audit_log
from tests.conftest import strict_app as conftest_strict_app
from vendorrisk.extensions import db
from vendorrisk.models import (
    AuditEvent,
    Contact,
    Criticality,
    Role,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    TierChange,
    User,
)
from vendorrisk.services.register.imports import columns, files, planning, writing
from vendorrisk.services.register.imports.rows import is_email
from vendorrisk.services.reporting import exports
from vendorrisk.services.users import accounts

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}
#: Valid 法人番号 (check digit first).
CN1, CN2, CN3 = "7010001008844", "2010401006007", "1120001077495"
HEADER = [
    "name_ja", "name_en", "corporate_number", "category", "status", "criticality", "owner_email",
    "services", "country", "website", "shares_personal_info", "shares_confidential_info",
    "has_network_access", "has_admin_access", "max_outage", "replaceability", "next_review_on",
    "notes", "contact_name", "contact_email", "contact_phone", "contact_department",
    "contact_job_title", "contact_locale", "contact_is_primary",
]  # fmt: skip
ROWS = [
    [
        "株式会社みなと情報サービス", "Minato Information Services", CN1, "outsourcing_contractor",
        "active", "high", "OWNER", "基幹システムの運用保守", "JP", "https://minato.example.jp/",
        "yes", "no", "1", "0", "days", "hard", "2027-04-01", "SLA 99.9%", "佐藤 花子",
        "Sato@Minato.example.jp", "03-1234-5678", "情報システム部", "課長", "ja", "yes",
    ],
    [
        "", "", CN1, "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
        "John Smith", "john@minato.example.jp", "", "", "", "en", "no",
    ],
    [
        "北海クラウド株式会社", "", "", "cloud_service", "", "", "", "", "us", "", "", "", "",
        "", "", "", "2027/1/5", "", "", "", "", "", "", "", "",
    ],
]  # fmt: skip


def _csv(rows, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as a user may type it
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _file(rows, fmt: str) -> bytes:
    return _csv(rows) if fmt == "csv" else _xlsx(rows)


def _with_owner(email: str) -> list[list[str]]:
    return [HEADER, *([email if c == "OWNER" else c for c in row] for row in ROWS)]


def _import(
    app, data: bytes, name: str = "suppliers.csv", *, skip=False, mapping=None, locale="en"
):
    """Import as the CLI and the web do; return (summary or None, errors as tuples)."""
    with app.app_context(), force_locale(locale):
        table = files.read_table(data, name, 10 * 1024 * 1024)
        chosen = mapping or columns.guess_mapping(table.headers)
        plan = planning.plan(table, chosen, skip_invalid=skip)
        summary = writing.apply(plan, NOW, name) if plan.can_apply else None
        db.session.commit()
        errors = [(e.row, e.column, e.message) for e in plan.errors]
        db.session.remove()
    return summary, errors


def _suppliers(ctx) -> list[Supplier]:
    with ctx() as session:
        found = session.scalars(sa.select(Supplier).order_by(Supplier.id)).all()
        for s in found:
            s.contacts  # noqa: B018 (loaded before the session closes)
        session.expunge_all()
        return list(found)


def _count(ctx, model) -> int:
    with ctx() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


# -- reading and writing ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_file_creates_suppliers_and_contacts_field_by_field(app, ctx, make_user, fmt):
    owner = make_user(Role.procurement, email="owner@example.com")
    summary, errors = _import(app, _file(_with_owner("Owner@Example.com"), fmt), f"s.{fmt}")
    assert errors == []
    assert vars(summary) == {
        "suppliers_created": 2, "suppliers_updated": 0, "suppliers_unchanged": 0,
        "contacts_created": 2, "contacts_updated": 0, "contacts_unchanged": 0,
        "rows_imported": 3, "rows_skipped": 0,
    }  # fmt: skip
    minato, hokkai = _suppliers(ctx)
    assert (minato.name_ja, minato.name_en, minato.corporate_number) == (
        "株式会社みなと情報サービス",
        "Minato Information Services",
        CN1,
    )
    assert minato.category is SupplierCategory.outsourcing_contractor
    assert minato.status is SupplierStatus.active
    assert minato.criticality is Criticality.high
    assert minato.owner_id == owner.id
    assert (minato.services, minato.country, minato.website) == (
        "基幹システムの運用保守",
        "JP",
        "https://minato.example.jp/",
    )
    flags = (
        minato.shares_personal_info,
        minato.shares_confidential_info,
        minato.has_network_access,
        minato.has_admin_access,
    )
    assert flags == (True, False, True, False)
    assert (minato.max_outage, minato.replaceability) == ("days", "hard")
    assert (minato.next_review_on, minato.notes) == (date(2027, 4, 1), "SLA 99.9%")
    # The tier follows the rules, as when the supplier is registered by hand.
    assert minato.tier_source == "rule" and minato.tier is not None
    sato, smith = sorted(minato.contacts, key=lambda c: c.id)
    assert (sato.name, sato.email, sato.phone, sato.department, sato.job_title) == (
        "佐藤 花子",
        "sato@minato.example.jp",
        "03-1234-5678",
        "情報システム部",
        "課長",
    )
    assert (sato.locale, sato.is_primary) == ("ja", True)
    assert (smith.name, smith.email, smith.locale, smith.is_primary) == (
        "John Smith",
        "john@minato.example.jp",
        "en",
        False,
    )
    # Defaults for what the file leaves empty.
    assert (hokkai.name_ja, hokkai.corporate_number, hokkai.country) == (
        "北海クラウド株式会社",
        None,
        "US",
    )
    assert hokkai.category is SupplierCategory.cloud_service
    assert hokkai.status is SupplierStatus.onboarding and hokkai.criticality is Criticality.medium
    assert (hokkai.next_review_on, hokkai.max_outage, hokkai.owner_id) == (
        date(2027, 1, 5),
        "weeks",
        None,
    )
    assert hokkai.contacts == []


def test_every_change_is_audited_with_one_event_for_the_import(app, ctx, make_user):
    make_user(Role.procurement, email="owner@example.com")
    _import(app, _csv(_with_owner("owner@example.com")), "register.csv")
    with ctx() as session:
        events = session.execute(
            sa.select(AuditEvent.action, AuditEvent.object_type, AuditEvent.summary).where(
                AuditEvent.object_type != "users"
            )
        ).all()
    creates = sorted((a, o) for a, o, _ in events if a == "create")
    assert creates == [("create", "contacts")] * 2 + [("create", "suppliers")] * 2
    assert [a for a, _, _ in events if a == "update"] == []  # the tier is in the create
    (summary,) = [s for a, _, s in events if a == "import"]
    assert summary == "suppliers from register.csv: 2 created, 0 updated, 0 rows skipped"
    assert _count(ctx, TierChange) == 2


def test_japanese_headers_and_values_are_recognised(app, ctx):
    header = ["取引先名", "英語名", "法人番号", "区分", "状態", "業務上の重要度", "個人情報",
              "管理者権限", "許容停止期間", "代替性", "次回再評価日", "担当者名", "担当者メール",
              "担当者言語", "主担当"]  # fmt: skip
    row = ["株式会社さくら開発", "Sakura Dev", "７０１０００１－００８８４４", "委託先",
           "取引中", "最重要", "○", "×", "数時間", "代替は困難", "2027/04/01", "山田 太郎",
           "yamada@sakura.example.jp", "英語", "はい"]  # fmt: skip
    with app.app_context():
        assert columns.guess_mapping(header) == [
            "name_ja", "name_en", "corporate_number", "category", "status", "criticality",
            "shares_personal_info", "has_admin_access", "max_outage", "replaceability",
            "next_review_on", "contact_name", "contact_email", "contact_locale",
            "contact_is_primary",
        ]  # fmt: skip
    summary, errors = _import(app, _csv([header, row]))
    assert errors == [] and summary.suppliers_created == 1
    (s,) = _suppliers(ctx)
    assert (s.corporate_number, s.category, s.status, s.criticality) == (
        CN1,
        SupplierCategory.outsourcing_contractor,
        SupplierStatus.active,
        Criticality.critical,
    )
    assert (s.shares_personal_info, s.has_admin_access, s.max_outage, s.replaceability) == (
        True,
        False,
        "hours",
        "hard",
    )
    assert (s.contacts[0].locale, s.contacts[0].is_primary) == ("en", True)


def test_the_translated_labels_are_headers_too(app):
    with app.app_context():
        headers = [
            "名称（日本語）",
            "Corporate number",
            "Business criticality",
            "社内担当者",
            "備考",
            "謎の列",
        ]
        assert columns.guess_mapping(headers) == [
            "name_ja",
            "corporate_number",
            "criticality",
            "owner_email",
            "notes",
            None,
        ]
        # A field goes to the first column that names it only.
        assert columns.guess_mapping(["name_ja", "取引先名"]) == ["name_ja", None]


@pytest.mark.parametrize(
    ("encoding", "name", "notes"),
    [
        ("shift_jis", "株式会社高橋商事", "第２営業部"),
        ("cp932", "株式会社髙橋①商事", "～第２営業部～"),  # Windows' extensions of Shift_JIS
        ("utf-8", "株式会社髙橋①商事", "～第２営業部～"),
        ("utf-8-sig", "株式会社髙橋①商事", "～第２営業部～"),
    ],
)
def test_csv_in_shift_jis_or_utf8_with_or_without_bom(app, ctx, encoding, name, notes):
    data = _csv([["取引先名", "法人番号", "備考"], [name, CN2, notes]], encoding)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    summary, errors = _import(app, data)
    assert errors == [] and summary.suppliers_created == 1
    (s,) = _suppliers(ctx)
    assert (s.name_ja, s.notes, s.corporate_number) == (name, notes, CN2)


def test_leading_zeros_and_phone_numbers_stay_text(app, ctx):
    data = _xlsx(
        [["name_ja", "contact_name", "contact_email", "contact_phone"],
         ["株式会社ゼロ", "零", "zero@example.jp", "0312345678"]]
    )  # fmt: skip
    _import(app, data, "zero.xlsx")
    (s,) = _suppliers(ctx)
    assert s.contacts[0].phone == "0312345678"


# -- row errors ---------------------------------------------------------------------------------


BAD = [
    ["取引先名", "法人番号", "区分", "次回再評価日", "社内担当者", "担当者名", "担当者メール"],
    ["株式会社よい", CN1, "委託先", "2027-01-31", "", "", ""],
    [
        "株式会社わるい",
        "1234567890123",
        "vendor",
        "2027-02-30",
        "nobody@example.com",
        "田中",
        "tanaka@",
    ],
    ["", "", "", "", "", "", ""],
    ["", "", "other", "", "", "鈴木", ""],
]

EXPECTED_BAD = {
    "en": [
        (3, "法人番号", "This is not a valid corporate number (13 digits with a correct check "
                       "digit)."),
        (3, "区分", "“vendor” is not one of the allowed values: group_company (Group company), "
                   "business_partner (Business partner), outsourcing_contractor (Outsourcing "
                   "contractor), cloud_service (Cloud service), other (Other)."),
        (3, "次回再評価日", "“2027-02-30” is not a date: write it as YYYY-MM-DD or YYYY/MM/DD."),
        (3, "社内担当者", "No active user has the email address “nobody@example.com”."),
        (3, "担当者メール", "“tanaka@” is not a valid email address."),
        (5, "担当者メール", "A contact needs a name and an email address."),
        (5, "取引先名", "Give the name in Japanese or the corporate number."),
    ],
    "ja": [
        (3, "法人番号", "法人番号が正しくありません（チェックデジットが正しい13桁の数字を"
                       "入力してください）。"),
        (3, "区分", "「vendor」は使用できる値ではありません。使用できる値: "
                   "group_company (系列企業), business_partner (ビジネスパートナー), "
                   "outsourcing_contractor (委託先), cloud_service (クラウドサービス), "
                   "other (その他)"),
        (3, "次回再評価日", "「2027-02-30」は日付ではありません。"
                           "YYYY-MM-DD または YYYY/MM/DD の形で入力してください。"),
        (3, "社内担当者", "メールアドレス「nobody@example.com」の有効なユーザーがいません。"),
        (3, "担当者メール", "「tanaka@」は正しいメールアドレスではありません。"),
        (5, "担当者メール", "取引先担当者には氏名とメールアドレスの両方が必要です。"),
        (5, "取引先名", "名称（日本語）または法人番号を入力してください。"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_bad_rows_are_listed_by_row_and_column_in_the_users_language(app, ctx, locale):
    summary, errors = _import(app, _csv(BAD), locale=locale)
    assert summary is None
    assert errors == EXPECTED_BAD[locale]
    assert _count(ctx, Supplier) == 0 and _count(ctx, AuditEvent) == 0


def test_the_corporate_number_message_is_the_one_of_the_supplier_form(app):
    with app.test_request_context(headers=JA):
        from vendorrisk.blueprints.suppliers.forms import SupplierForm

        form = SupplierForm(data={"corporate_number": "1234567890123"}, meta={"csrf": False})
        form.validate()
        assert form.corporate_number.errors[0] == EXPECTED_BAD["ja"][0][2]


def test_all_or_nothing_by_default_and_skip_invalid_on_request(app, ctx, make_supplier):
    make_supplier(name_ja="既存の取引先", corporate_number=CN3)
    before = (_count(ctx, Supplier), _count(ctx, Contact), _count(ctx, AuditEvent))
    summary, errors = _import(app, _csv(BAD))
    assert summary is None and len(errors) == 7
    assert (_count(ctx, Supplier), _count(ctx, Contact), _count(ctx, AuditEvent)) == before
    summary, errors = _import(app, _csv(BAD), skip=True)
    assert len(errors) == 7
    assert (summary.suppliers_created, summary.rows_imported, summary.rows_skipped) == (1, 1, 2)
    names = [s.name_ja for s in _suppliers(ctx)]
    assert names == ["既存の取引先", "株式会社よい"]


def test_a_registered_corporate_number_updates_the_supplier(app, ctx, make_supplier, make_contact):
    existing = make_supplier(
        name_ja="株式会社みなと",
        name_en="Minato",
        corporate_number=CN1,
        category=SupplierCategory.business_partner,
        services="旧サービス",
        has_admin_access=True,
    )
    kept = make_contact(existing, name="既存 担当", email="kept@minato.example.jp", is_primary=True)
    changed = make_contact(existing, name="旧 名前", email="sato@minato.example.jp", phone="0")
    data = _csv(
        [["法人番号", "英語名", "区分", "提供サービス", "担当者名", "担当者メール", "電話番号",
          "主担当"],
         ["7010001-008844", "Minato Information Services", "", "", "佐藤 花子",
          "SATO@minato.example.jp", "", ""],
         [CN1, "", "", "", "新人 一郎", "new@minato.example.jp", "090", "yes"]]
    )  # fmt: skip
    summary, errors = _import(app, data)
    assert errors == []
    assert (summary.suppliers_created, summary.suppliers_updated) == (0, 1)
    assert (summary.contacts_created, summary.contacts_updated) == (1, 1)
    (s,) = _suppliers(ctx)
    assert s.id == existing.id
    assert (s.name_ja, s.name_en, s.category, s.services, s.has_admin_access) == (
        "株式会社みなと",
        "Minato Information Services",
        SupplierCategory.business_partner,
        "旧サービス",
        True,
    )
    by_email = {c.email: c for c in s.contacts}
    assert sorted(by_email) == [
        "kept@minato.example.jp",
        "new@minato.example.jp",
        "sato@minato.example.jp",
    ]
    assert by_email["sato@minato.example.jp"].id == changed.id
    assert (by_email["sato@minato.example.jp"].name, by_email["sato@minato.example.jp"].phone) == (
        "佐藤 花子",
        "0",
    )
    # The imported primary contact becomes the only one.
    assert by_email["kept@minato.example.jp"].id == kept.id
    assert [c.email for c in s.contacts if c.is_primary] == ["new@minato.example.jp"]
    # The same file again changes nothing.
    summary, _ = _import(app, data)
    assert (summary.suppliers_updated, summary.suppliers_unchanged, summary.contacts_created) == (
        0,
        1,
        0,
    )
    assert summary.contacts_unchanged == 2
    assert _count(ctx, Supplier) == 1 and _count(ctx, Contact) == 3
    with ctx() as session:
        (update,) = session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.object_type == "suppliers", AuditEvent.action == "update"
            )
        ).all()
        # One event for the supplier: the new value and the tier the rules give it.
        assert update.changes["name_en"] == ["Minato", "Minato Information Services"]
        assert update.changes["tier_source"] == [None, "rule"]


def test_without_corporate_number_a_unique_name_matches_else_a_supplier_is_added(
    app, ctx, make_supplier
):
    unique = make_supplier(name_ja="株式会社ひとつ", notes="")
    make_supplier(name_ja="株式会社ふたつ")
    make_supplier(name_ja="株式会社ふたつ")
    data = _csv([["取引先名", "備考"], ["株式会社ひとつ", "更新"], ["株式会社ふたつ", "三つめ"]])
    summary, errors = _import(app, data)
    assert errors == []
    assert (summary.suppliers_updated, summary.suppliers_created) == (1, 1)
    suppliers = _suppliers(ctx)
    assert [s.notes for s in suppliers if s.id == unique.id] == ["更新"]
    assert [s.name_ja for s in suppliers].count("株式会社ふたつ") == 3


def test_rows_of_one_supplier_are_merged_and_conflicting_values_reported(app, ctx):
    data = _csv(
        [["法人番号", "取引先名", "区分", "担当者名", "担当者メール", "主担当"],
         [CN1, "株式会社みなと", "委託先", "佐藤", "sato@x.example.jp", "はい"],
         [CN1, "", "", "鈴木", "suzuki@x.example.jp", "いいえ"],
         [CN1, "", "cloud_service", "鈴木", "SUZUKI@x.example.jp", "はい"],
         ["", "株式会社みなと", "", "田中", "tanaka@x.example.jp", ""],
         [CN2, "", "", "", "", ""]]
    )  # fmt: skip
    summary, errors = _import(app, data, skip=True)
    assert errors == [
        (4, "区分", "This differs from row 2 of the same supplier (“委託先”)."),
        (4, "主担当", "This differs from row 3 of the same supplier (“いいえ”)."),
        (4, "主担当", "Row 2 already makes another contact the primary one of this supplier."),
        (6, "取引先名", "A new supplier needs its name in Japanese."),
    ]
    assert (summary.suppliers_created, summary.contacts_created, summary.rows_skipped) == (1, 3, 2)
    assert summary.rows_imported == 3
    (s,) = _suppliers(ctx)
    # The row without a corporate number joins the supplier of the same name in the file.
    assert sorted((c.email, c.is_primary) for c in s.contacts) == [
        ("sato@x.example.jp", True),
        ("suzuki@x.example.jp", False),
        ("tanaka@x.example.jp", False),
    ]
    assert s.category is SupplierCategory.outsourcing_contractor


def test_a_name_starting_with_equals_is_stored_as_text_and_exported_safely(app, ctx):
    hostile = {"csv": '=HYPERLINK("http://evil.example","クリック")', "xlsx": "=1+2"}
    for fmt, name in hostile.items():
        _import(app, _file([["name_ja", "notes"], [name, "+1+1"]], fmt), f"h.{fmt}")
    suppliers = _suppliers(ctx)
    assert [(s.name_ja, s.notes) for s in suppliers] == [(hostile["csv"], "+1+1"), ("=1+2", "+1+1")]
    with app.app_context():
        df = exports.frame("suppliers", date(2026, 11, 27))
        buffer = io.BytesIO()
        exports.write(df, buffer, "csv")
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8-sig"))))
    assert sorted(r["name_ja"] for r in rows) == sorted("'" + name for name in hostile.values())


# -- the file -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("list.pdf", b"%PDF-1.4", "Only CSV (.csv) and Excel (.xlsx) files can be imported."),
        ("list.csv", b"", "The file is empty."),
        ("list.csv", b"\r\n ,\r\n", "The file is empty."),
        ("list.csv", b"name_ja\r\n", "The file has a header row but no rows to import."),
        ("list.xlsx", b"name_ja\r\nx\r\n", "The content of the file does not match its name "
         "(.xlsx)."),
        ("list.csv", b"%PDF-1.4\n\x00\x01", "The content of the file does not match its name "
         "(.csv)."),
        ("list.csv", b"\x82\xa0\x85\x40", "The text encoding of the file was not recognised. "
         "Save it as CSV UTF-8 or Shift_JIS."),
        ("list.csv", b"name_ja\na,b\n", "The CSV file could not be read: a row has more cells than "
         "the header row (near line 2)."),
        ("list.csv", b"x" * 2001, "The file is larger than the limit of 1 KB."),
    ],
)  # fmt: skip
def test_files_that_cannot_be_imported_are_refused_with_a_reason(app, name, data, message):
    with app.app_context(), force_locale("en"), pytest.raises(files.FileRefused) as refused:
        files.read_table(data, name, max_bytes=2000)
    assert str(refused.value) == message


def test_too_many_rows_are_refused(app):
    data = _csv([["name_ja"], *([f"取引先{i}"] for i in range(6))])
    with app.app_context(), force_locale("ja"), pytest.raises(files.FileRefused) as refused:
        files.read_table(data, "big.csv", 10**6, max_rows=5)
    assert str(refused.value) == (
        "ファイルに6行あります。一度に取り込めるのは5行までです。複数のファイルに分けてください。"
    )


def test_row_numbers_are_those_of_the_spreadsheet(app):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A2"], ws["B2"] = "取引先名", "区分"
    ws["A4"], ws["B4"] = "株式会社いち", "unknown"
    buffer = io.BytesIO()
    wb.save(buffer)
    _, errors = _import(app, buffer.getvalue(), "gaps.xlsx")
    assert [(row, column) for row, column, _ in errors] == [(4, "区分")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_parses_back_through_the_importer(auth, ctx, app, fmt):
    auth.login(Role.procurement)
    response = auth.client.get(f"/suppliers/import/template.{fmt}", headers=EN)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    with app.app_context():
        table = files.read_table(response.data, f"template.{fmt}", 10**6)
        assert table.headers == [f.key for f in columns.FIELDS]
        assert columns.guess_mapping(table.headers) == [f.key for f in columns.FIELDS]
    summary, errors = _import(app, response.data, f"template.{fmt}")
    assert errors == [] and (summary.suppliers_created, summary.contacts_created) == (1, 1)
    (s,) = _suppliers(ctx)
    assert (s.name_ja, s.corporate_number, s.has_network_access, s.next_review_on) == (
        "株式会社みなと情報サービス",
        "7010001008844",
        False,
        date(2027, 4, 1),
    )
    if fmt == "xlsx":
        wb = openpyxl.load_workbook(io.BytesIO(response.data))
        assert wb.sheetnames == ["suppliers", "Help"]
        assert wb["Help"]["A2"].value == "name_ja"


# -- the web pages ------------------------------------------------------------------------------


def _upload(client, data: bytes, name: str, **extra):
    return client.post(
        "/suppliers/import",
        data={"file": (io.BytesIO(data), name), **extra},
        content_type="multipart/form-data",
    )


@pytest.fixture(scope="module")
def csrf_app(tmp_path_factory):
    with conftest_strict_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as app:
        yield app


def _login(app, role=Role.procurement, email="importer@example.com", locale="en"):
    with app.app_context():
        user = User(
            email=email,
            role=role,
            locale=locale,
            password_hash=accounts.hash_password(PASSWORD),
            must_change_password=False,
        )
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def test_mapping_preview_changed_mapping_and_import_through_the_web_with_csrf(csrf_app):
    client = _login(csrf_app)
    page = client.get("/suppliers/import").get_data(as_text=True)
    data = _csv(
        [["取引先名", "コード", "区分", "メモ欄"],
         ["株式会社みなと", CN1, "委託先", "重要な取引先"],
         ["株式会社さくら", "", "クラウドサービス", ""]]
    )  # fmt: skip
    refused = _upload(client, data, "list.csv")
    assert refused.status_code == 400  # no CSRF token
    response = _upload(client, data, "list.csv", csrf_token=csrf_token_from(page))
    assert response.status_code == 302
    mapping_url = response.headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    # Guessed: the recognised headers; "コード" and "メモ欄" are ignored until chosen.
    assert '<option selected value="name_ja">' in page
    assert '<option selected value="category">' in page
    assert page.count('<option selected value="">Ignore this column</option>') == 2
    assert "Outsourcing contractor" in page and "Cloud service" in page  # the preview
    assert CN1 not in page.split("<h2>Preview</h2>")[1].split("</table>")[0]
    token = csrf_token_from(page)
    mapping = {
        "column_0": "name_ja",
        "column_1": "corporate_number",
        "column_2": "category",
        "column_3": "notes",
    }
    page = client.post(mapping_url, data={**mapping, "preview": "1", "csrf_token": token}).get_data(
        as_text=True
    )
    preview = page.split("<h2>Preview</h2>")[1].split("</table>")[0]
    assert CN1 in preview and "重要な取引先" in preview
    with csrf_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Supplier)) == 0
        db.session.remove()
    response = client.post(mapping_url, data={**mapping, "submit": "1", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/suppliers/import/done"
    done = client.get("/suppliers/import/done").get_data(as_text=True)
    assert "<dt>Suppliers created</dt><dd>2</dd>" in done
    with csrf_app.app_context():
        rows = db.session.execute(
            sa.select(Supplier.name_ja, Supplier.corporate_number, Supplier.notes).order_by(
                Supplier.id
            )
        ).all()
        actors = set(
            db.session.scalars(
                sa.select(AuditEvent.actor_label).where(
                    AuditEvent.object_type.in_(["suppliers", "contacts"])
                )
            )
        )
        db.session.remove()
    assert [tuple(r) for r in rows] == [
        ("株式会社みなと", CN1, "重要な取引先"),
        ("株式会社さくら", None, ""),
    ]
    assert actors == {"importer@example.com"}
    # The kept file is gone: the same page is now refused.
    assert client.get(mapping_url).status_code == 302


def test_a_field_chosen_twice_is_refused_on_the_mapping_page(auth):
    auth.login(Role.procurement, locale="en")
    response = _upload(
        auth.client, _csv([["取引先名", "英語名"], ["株式会社いち", "One"]]), "a.csv"
    )
    url = response.headers["Location"]
    page = auth.client.post(
        url, data={"column_0": "name_ja", "column_1": "name_ja", "submit": "1"}
    ).get_data(as_text=True)
    assert "Already chosen for the column “取引先名”." in page
    page = auth.client.post(
        url, data={"column_0": "", "column_1": "name_en", "submit": "1"}
    ).get_data(as_text=True)
    assert "Choose the column of the name in Japanese or of the corporate number." in page


def test_errors_are_shown_in_japanese_and_nothing_is_written_unless_skipping(auth, ctx):
    auth.login(Role.procurement, locale="ja")
    response = _upload(auth.client, _csv(BAD), "bad.csv")
    url = response.headers["Location"]
    page = auth.client.get(url).get_data(as_text=True)
    assert "ファイルの行数: 3（うちエラーのある行: 2）" in page
    for row, column, message in EXPECTED_BAD["ja"]:
        assert f"<tr><td>{row}</td><td>{column}</td><td>{message}</td></tr>" in page
    mapping = {f"column_{i}": key for i, key in enumerate(columns.guess_mapping(BAD[0]))}
    mapping = {k: v or "" for k, v in mapping.items()}
    page = auth.client.post(url, data={**mapping, "submit": "1"}).get_data(as_text=True)
    assert "何も取り込んでいません。" in page
    assert _count(ctx, Supplier) == 0
    response = auth.client.post(url, data={**mapping, "submit": "1", "skip_invalid": "y"})
    assert response.status_code == 302
    page = auth.client.get("/suppliers/import/done").get_data(as_text=True)
    assert (
        "<dt>登録した取引先</dt><dd>1</dd>" in page and "<dt>スキップした行</dt><dd>2</dd>" in page
    )
    assert [s.name_ja for s in _suppliers(ctx)] == ["株式会社よい"]


def test_import_pages_in_japanese_show_no_english(auth):
    from babel.messages.pofile import read_po

    from vendorrisk.config import BASE_DIR

    po = BASE_DIR / "vendorrisk/translations/ja/LC_MESSAGES/messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="ja")
    # A plural (ngettext) has a tuple id: its singular stands for it.
    english = [m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id]
    english = [m for m in english if len(m.split()) >= 2]
    english = [m for m in english if "%(" not in m]
    auth.login(Role.admin, locale="ja")
    url = _upload(auth.client, _csv(_with_owner("")), "a.csv").headers["Location"]
    for page_url in ("/suppliers/import", url):
        html = auth.client.get(page_url).get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
        leaked = [m for m in english if m in text]
        assert leaked == [], (page_url, leaked)


def test_an_upload_belongs_to_its_session_and_expires(auth, app, make_user):
    auth.login(Role.procurement)
    url = _upload(auth.client, _csv([["name_ja"], ["株式会社いち"]]), "a.csv").headers["Location"]
    token = url.rsplit("/", 1)[1]
    assert auth.client.get(url).status_code == 200
    # Another importer, even knowing the address, cannot see it.
    other = app.test_client()
    other_user = make_user(Role.admin)
    other.post("/auth/login", data={"email": other_user.email, "password": PASSWORD})
    assert other.get(url).status_code == 404
    with app.app_context():
        folder = Path(app.config["UPLOAD_DIR"]) / "imports"
        assert files.unstash(folder, token, other_user.id) is None
        assert files.unstash(folder, "../" + token, auth.user.id) is None
        old = time.time() - files.STASH_TTL - 60
        for path in folder.glob(f"{token}.*"):
            os.utime(path, (old, old))
    response = auth.client.get(url)
    assert response.status_code == 302 and response.headers["Location"] == "/suppliers/import"
    # The next upload sweeps the expired files away.
    _upload(auth.client, _csv([["name_ja"], ["株式会社に"]]), "b.csv")
    assert list(folder.glob(f"{token}.*")) == []


def test_an_unreadable_upload_stays_on_the_upload_page_with_the_reason(auth):
    auth.login(Role.procurement, locale="en")
    page = _upload(auth.client, b"%PDF-1.4 hello", "list.csv").get_data(as_text=True)
    assert "The content of the file does not match its name (.csv)." in page
    page = _upload(auth.client, b"", "list.csv").get_data(as_text=True)
    assert "The file is empty." in page


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.admin, True),
        (Role.procurement, True),
        (Role.auditor, False),
        (Role.reviewer, False),
        (Role.ciso, False),
    ],
)
def test_only_admin_and_procurement_may_import(auth, role, allowed):
    auth.login(role, locale="en")
    codes = {
        auth.client.get("/suppliers/import").status_code,
        auth.client.get("/suppliers/import/template.csv").status_code,
        _upload(auth.client, _csv([["name_ja"], ["株式会社いち"]]), "a.csv").status_code,
    }
    assert codes == ({200, 302} if allowed else {403})
    index = auth.client.get("/suppliers/").get_data(as_text=True)
    assert ('href="/suppliers/import"' in index) is allowed


# -- the CLI ------------------------------------------------------------------------------------


def test_cli_imports_and_prints_the_summary(runner, ctx, tmp_path, make_user):
    make_user(Role.procurement, email="owner@example.com")
    path = tmp_path / "suppliers.xlsx"
    path.write_bytes(
        _xlsx([[*HEADER, "extra"], *([*r, "x"] for r in _with_owner("owner@example.com")[1:])])
    )
    result = runner.invoke(args=["import-suppliers", str(path)])
    assert result.exit_code == 0, result.output
    assert "The column “extra” is not recognised and is ignored." in result.output
    assert "Suppliers created: 2" in result.output and "Contacts created: 2" in result.output
    assert _count(ctx, Supplier) == 2
    with ctx() as session:
        labels = session.execute(
            sa.select(AuditEvent.actor_label, AuditEvent.action)
            .where(AuditEvent.object_type != "users")
            .distinct()
        ).all()
    assert sorted(labels) == [("cli", "create"), ("cli", "import")]


def test_cli_lists_errors_by_row_and_column_and_exits_non_zero(runner, ctx, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(BAD))
    result = runner.invoke(args=["import-suppliers", str(path), "--locale", "ja"])
    assert result.exit_code == 1
    assert f"3行目・法人番号: {EXPECTED_BAD['ja'][0][2]}" in result.output
    assert "5行目・取引先名: 名称（日本語）または法人番号を入力してください。" in result.output
    assert "何も取り込んでいません。" in result.output
    assert _count(ctx, Supplier) == 0
    result = runner.invoke(args=["import-suppliers", str(path), "--skip-invalid", "--dry-run"])
    assert result.exit_code == 2
    assert "Row 3, 区分:" in result.output and "Dry run: nothing was saved." in result.output
    assert "Suppliers created: 1" in result.output and "Rows skipped: 2" in result.output
    assert _count(ctx, Supplier) == 0 and _count(ctx, AuditEvent) == 0
    result = runner.invoke(args=["import-suppliers", str(path), "--skip-invalid"])
    assert result.exit_code == 2
    assert _count(ctx, Supplier) == 1


def test_cli_refuses_unreadable_files_and_unrecognised_headers(runner, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(_csv([["コード", "謎"], ["1", "x"]]))
    result = runner.invoke(args=["import-suppliers", str(path)])
    assert result.exit_code == 1
    assert "The column “コード” is not recognised and is ignored." in result.output
    assert "No column of the file was recognised." in result.output
    other = tmp_path / "list.txt"
    other.write_text("name_ja\nx\n")
    result = runner.invoke(args=["import-suppliers", str(other)])
    assert result.exit_code == 1
    assert "Only CSV (.csv) and Excel (.xlsx) files can be imported." in result.output


# -- performance --------------------------------------------------------------------------------


def _numbered_rows(n: int) -> list[list[str]]:
    from vendorrisk.validation import corporate_number_check_digit

    rows = [
        ["name_ja", "corporate_number", "category", "owner_email", "contact_name", "contact_email"]
    ]
    for i in range(n):
        base = f"{i:012d}"
        number = f"{corporate_number_check_digit(base)}{base}"
        rows.append(
            [f"取引先{i}", number, "委託先", "owner@example.com", f"担当{i}", f"c{i}@example.jp"]
        )
    return rows


def test_queries_do_not_grow_with_the_rows(app, count_queries, make_user, make_supplier):
    make_user(Role.procurement, email="owner@example.com")
    counts = []
    for n in (10, 100):
        rows = _numbered_rows(n)
        for i, row in enumerate(rows[1 : n // 2 + 1]):
            make_supplier(name_ja=f"既存{n}-{i}", corporate_number=row[1])  # half are updates
        with count_queries() as counter:
            summary, errors = _import(app, _csv(rows))
        assert errors == [] and summary.suppliers_created == n // 2
        counts.append(counter.count)
        with app.app_context(), db.engine.begin() as conn:
            for table in ("tier_changes", "contacts", "suppliers"):
                conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
            renew_audit_log(conn)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize(
    "address",
    [
        "sato@minato.example.jp", "A_b+c-d@Mail.Example.CO.JP", "-a@x.jp", "a-@x.jp", "a@x.j",
        "a..b@x.jp", ".a@x.jp", "a.@x.jp", "a@-x.jp", "a@x-.jp", "a@x..jp", "a@x", "a@localhost",
        "a@x.test", "a@x.invalid", "a@sub.local", "a@x.123", "a b@x.jp", "a@x.jp.", "@x.jp",
        "山田@example.jp", "yamada@例え.jp", "x" * 65 + "@x.jp", "a@" + "b" * 64 + ".jp",
    ],
)  # fmt: skip
def test_the_email_check_is_the_contact_forms(address):
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
        expected = True
    except EmailNotValidError:
        expected = False
    assert is_email(address) is expected


# -- review fixes: escaping, limits, double submit, matching ---------------------------------------


def test_a_hostile_header_is_escaped_in_the_preview_and_the_mapping_errors(auth):
    auth.login(Role.procurement, locale="en")
    data = _csv([["<script>x</script>", "<b>h</b>"], ["株式会社<img src=x>", "a"]])
    url = _upload(auth.client, data, "<i>n</i>.csv").headers["Location"]
    page = auth.client.get(url).get_data(as_text=True)
    # The name is cut at the last "/" as a path would be: "i>.csv".
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<small>i&gt;.csv</small>" in page
    # The preview: the hostile header names a mapped column.
    page = auth.client.post(
        url, data={"column_0": "name_ja", "column_1": "", "preview": "1"}
    ).get_data(as_text=True)
    preview = page.split("<h2>Preview</h2>")[1]
    assert '<th scope="col">&lt;script&gt;x&lt;/script&gt;</th>' in preview
    assert "株式会社&lt;img src=x&gt;" in preview
    # The mapping error names the hostile header of the first column.
    page = auth.client.post(
        url, data={"column_0": "name_ja", "column_1": "name_ja", "submit": "1"}
    ).get_data(as_text=True)
    assert "Already chosen for the column “&lt;script&gt;x&lt;/script&gt;”." in page
    for raw in ("<script>x", "<b>h", "<img", "<i>n"):
        assert raw not in page


def _far_cell_workbook(row: int, column: int) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name_ja", "corporate_number"])
    ws.append(["株式会社いち", CN1])
    ws.cell(row=row, column=column, value="x")
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


ROWS_REFUSED = (
    "The sheet has cells below row 1006: at most 5 rows can be imported at once. Delete what is "
    "below the data, or split the file."
)
COLUMNS_REFUSED = (
    "The file has more than 100 columns. Delete the columns that are not to be imported and "
    "upload it again."
)


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (1_000_000, 200, ROWS_REFUSED),
        (1007, 1, ROWS_REFUSED),  # 5 rows + the header + 1000 empty rows allowed
        (3, 101, COLUMNS_REFUSED),
        (1_048_576, 16_384, ROWS_REFUSED),
    ],
)
def test_a_tiny_workbook_reaching_far_is_refused_before_it_is_read(app, row, column, message):
    data = _far_cell_workbook(row, column)
    assert len(data) < 6000
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # what openpyxl declares
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    last = openpyxl.utils.get_column_letter(max(column, 2))
    # openpyxl writes it with its own serializer or with lxml when installed: "/>" or " />".
    assert re.search(rf'<dimension ref="A1:{last}{row}"\s*/>', sheet)
    with app.app_context(), force_locale("en"), pytest.raises(files.FileRefused) as refused:
        files.read_table(data, "far.xlsx", 10**6, max_rows=5)
    assert str(refused.value) == message


def test_a_workbook_just_within_the_limits_is_read(app):
    data = _far_cell_workbook(1006, 100)
    with app.app_context():
        table = files.read_table(data, "near.xlsx", 10**6, max_rows=5)
    assert len(table.headers) == 100 and [n for n, _ in table.rows] == [2, 1006]


def _with_sheet(sheet_xml: bytes, lie_about: str | None = None, claimed: int = 0) -> bytes:
    """A workbook of openpyxl whose first sheet is replaced; a part's sizes may be falsified."""
    source = zipfile.ZipFile(io.BytesIO(_xlsx([["name_ja"], ["x"]])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            is_sheet = info.filename == "xl/worksheets/sheet1.xml"
            archive.writestr(info.filename, sheet_xml if is_sheet else source.read(info))
    data = bytearray(buffer.getvalue())
    if lie_about:
        name = lie_about.encode()
        for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
            start = 0
            while (start := data.find(signature, start)) >= 0:
                if data[start + name_at : start + name_at + len(name)] == name:
                    data[start + size_at : start + size_at + 4] = claimed.to_bytes(4, "little")
                start += 4
    return bytes(data)


SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s'
    b"<sheetData>%s</sheetData></worksheet>"
)
HEAD_ROWS = (
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>name_ja</t></is></c></row>'
    b'<row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c></row>'
)


@pytest.mark.parametrize(
    ("sheet", "message"),
    [
        # The dimension lies: the cells are what counts.
        (SHEET % (b'<dimension ref="A1:A2"/>', HEAD_ROWS + b'<row r="90000"><c r="B90000">'
                  b"<v>1</v></c></row>"), ROWS_REFUSED),
        # No dimension, no references: the cells are counted as the reader places them.
        (SHEET % (b"", HEAD_ROWS + b"<row>" + b"<c><v>1</v></c>" * 101 + b"</row>"),
         COLUMNS_REFUSED),
        (SHEET % (b"", HEAD_ROWS + b"<row/>" * 1004 + b"<row><c><v>1</v></c></row>"),
         ROWS_REFUSED),
        # A reference beyond any sheet.
        (SHEET % (b"", HEAD_ROWS + b'<row><c r="A99999999999"><v>1</v></c></row>'),
         ROWS_REFUSED),
        # Whatever the spelling, the reference the reader uses counts: a prefix, a comment
        # before the cell, or a second reference (the reader takes the last; refused).
        (SHEET % (b"", HEAD_ROWS + b'<row><y:c xmlns:y="urn:y" r="A9999"><y:v>1</y:v></y:c>'
                  b"</row>"), ROWS_REFUSED),
        (SHEET % (b"", HEAD_ROWS + b'<row><!-- x --><c r="A9999"><v>1</v></c></row>'),
         ROWS_REFUSED),
        (SHEET % (b"", HEAD_ROWS + b'<row><c r="A3" r="A9999"><v>1</v></c></row>'),
         "The file could not be read as an Excel workbook (.xlsx)."),
        (SHEET % (b"", HEAD_ROWS + b'<row><c r="A3" x="<c r=&quot;"><v>1</v></c></row>'),
         "The file could not be read as an Excel workbook (.xlsx)."),
        # A document type (entities) is never part of a workbook.
        (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]>' + SHEET % (b"", HEAD_ROWS),
         "The file could not be read as an Excel workbook (.xlsx)."),
    ],
)  # fmt: skip
def test_a_hand_made_sheet_is_measured_by_its_cells(app, sheet, message):
    with app.app_context(), force_locale("en"), pytest.raises(files.FileRefused) as refused:
        files.read_table(_with_sheet(sheet), "made.xlsx", 10**6, max_rows=5)
    assert str(refused.value) == message


def test_the_hand_made_sheet_without_references_is_read(app):
    rows = b'<row><c t="inlineStr"><is><t>name_ja</t></is></c></row><row><c t="inlineStr">'
    rows += b"<is><t>a</t></is></c><c/><c><v>7</v></c></row>"
    with app.app_context():
        table = files.read_table(_with_sheet(SHEET % (b"", rows)), "made.xlsx", 10**6, 5)
    assert table.headers == ["name_ja", "(B)", "(C)"] and table.rows == [(2, ["a", "", "7"])]


def test_the_real_unzipped_size_is_measured_not_the_declared_one(app, monkeypatch):
    monkeypatch.setattr(files, "BASE_UNZIPPED", 1024 * 1024)
    monkeypatch.setattr(files, "BYTES_PER_ROW", 0)
    padded = SHEET % (b" " * (2 * 1024 * 1024), HEAD_ROWS)  # 2 MB that zip to 2 KB
    honest = _with_sheet(padded)
    lying = _with_sheet(padded, lie_about="xl/worksheets/sheet1.xml", claimed=len(SHEET))
    assert len(honest) < 20_000
    with app.app_context(), force_locale("en"):
        for data, message in (
            (honest, "The Excel file is too large to be read."),
            (lying, "The file could not be read as an Excel workbook (.xlsx)."),
        ):
            with pytest.raises(files.FileRefused) as refused:
                files.read_table(data, "big.xlsx", 10**6)
            assert str(refused.value) == message
        # Within the limit, the same sheet is read.
        monkeypatch.setattr(files, "BASE_UNZIPPED", 3 * 1024 * 1024)
        assert files.read_table(honest, "big.xlsx", 10**6).rows == [(2, ["a"])]


def test_a_very_wide_csv_is_refused_with_the_reason(auth, app):
    data = (",".join(["name_ja"] + [f"c{i}" for i in range(20_000)]) + "\n株式会社甲\n").encode()
    with app.app_context(), force_locale("en"), pytest.raises(files.FileRefused) as refused:
        files.read_table(data, "wide.csv", 10**6)
    assert str(refused.value) == COLUMNS_REFUSED
    # A header of 100 columns is fine; a wider row below it is refused as before.
    ok = _csv([["name_ja", *(f"c{i}" for i in range(99))], ["株式会社甲"]])
    with app.app_context():
        assert len(files.read_table(ok, "ok.csv", 10**6).headers) == 100
    auth.login(Role.procurement, locale="ja")
    response = _upload(auth.client, data, "wide.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "ファイルの列数が100列を超えています。" in page and len(page) < 100_000


def _race(monkeypatch, during) -> None:
    """Run `during()` (another request) inside the next import request, once it has planned."""
    real_plan = planning.plan
    pending = [during]

    def plan_then_let_the_other_request_in(*args, **kwargs):
        result = real_plan(*args, **kwargs)
        if pending:
            pending.pop()()
        return result

    monkeypatch.setattr(planning, "plan", plan_then_let_the_other_request_in)


def _second_client(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_pressing_import_twice_imports_once(auth, app, ctx, monkeypatch):
    auth.login(Role.procurement, locale="en")
    data = _csv([["name_ja", "corporate_number"], ["株式会社甲", ""], ["株式会社乙", CN1]])
    url = _upload(auth.client, data, "a.csv").headers["Location"]
    form = {"column_0": "name_ja", "column_1": "corporate_number", "submit": "1"}
    double_click = _second_client(app, auth.client)
    responses = []
    # Both requests read the kept file and plan before either writes.
    _race(monkeypatch, lambda: responses.append(double_click.post(url, data=form)))
    first = auth.client.post(url, data=form)
    (second,) = responses
    assert second.status_code == 302 and second.headers["Location"] == "/suppliers/import/done"
    assert first.status_code == 302 and first.headers["Location"] == "/suppliers/import"
    page = auth.client.get("/suppliers/import").get_data(as_text=True)
    assert "This file is being imported or has been imported already." in page
    assert sorted((s.name_ja, s.corporate_number) for s in _suppliers(ctx)) == [
        ("株式会社乙", CN1),
        ("株式会社甲", None),
    ]
    with ctx() as session:
        imports_audited = session.scalars(
            sa.select(AuditEvent.summary).where(AuditEvent.action == "import")
        ).all()
    assert imports_audited == ["suppliers from a.csv: 2 created, 0 updated, 0 rows skipped"]
    # The file is gone; a third press is refused too.
    folder = Path(app.config["UPLOAD_DIR"]) / "imports"
    assert list(folder.glob(url.rsplit("/", 1)[1] + ".*")) == []
    assert auth.client.post(url, data=form).headers["Location"] == "/suppliers/import"


def test_a_supplier_saved_meanwhile_gives_a_message_not_an_error_page(auth, app, ctx, monkeypatch):
    auth.login(Role.procurement, locale="en")
    data = _csv([["name_ja", "corporate_number"], ["株式会社乙", CN1]])
    url = _upload(auth.client, data, "a.csv").headers["Location"]
    other_url = _upload(auth.client, data, "b.csv").headers["Location"]
    form = {"column_0": "name_ja", "column_1": "corporate_number", "submit": "1"}
    other = _second_client(app, auth.client)
    responses = []
    _race(monkeypatch, lambda: responses.append(other.post(other_url, data=form)))
    response = auth.client.post(url, data=form)
    assert responses[0].headers["Location"] == "/suppliers/import/done"
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "some of these suppliers or contacts were saved by someone else meanwhile" in page
    assert '<span class="badge muted">No change</span>' in page  # the preview, planned again
    assert [(s.name_ja, s.corporate_number) for s in _suppliers(ctx)] == [("株式会社乙", CN1)]
    # The upload is kept: importing it again now finds the supplier and changes nothing.
    response = auth.client.post(url, data=form)
    assert response.headers["Location"] == "/suppliers/import/done"
    done = auth.client.get("/suppliers/import/done").get_data(as_text=True)
    assert "<dt>Suppliers already up to date</dt><dd>1</dd>" in done
    assert _count(ctx, Supplier) == 1


@pytest.mark.parametrize("number_first", [True, False])
def test_an_unknown_corporate_number_goes_to_the_supplier_of_that_name_without_one(
    app, ctx, make_supplier, number_first
):
    known = make_supplier(name_ja="株式会社丙", corporate_number=None, notes="")
    numbered = make_supplier(name_ja="株式会社丁", corporate_number=CN2)
    rows = [["株式会社丙", CN1, ""], ["株式会社丙", "", "メモ"]]
    rows = rows if number_first else rows[::-1]
    data = _csv([["name_ja", "corporate_number", "notes"], *rows, ["株式会社丁", CN3, ""]])
    summary, errors = _import(app, data)
    assert errors == []
    # 株式会社丁 has another number: a different company of the same name is added.
    assert (summary.suppliers_updated, summary.suppliers_created) == (1, 1)
    found = {(s.id, s.name_ja, s.corporate_number, s.notes) for s in _suppliers(ctx)}
    assert found == {
        (known.id, "株式会社丙", CN1, "メモ"),
        (numbered.id, "株式会社丁", CN2, ""),
        (max(known.id, numbered.id) + 1, "株式会社丁", CN3, ""),
    }


def test_an_unknown_corporate_number_and_two_suppliers_of_that_name_adds_one(
    app, ctx, make_supplier
):
    make_supplier(name_ja="株式会社丙", corporate_number=None)
    make_supplier(name_ja="株式会社丙", corporate_number=None)
    summary, errors = _import(app, _csv([["name_ja", "corporate_number"], ["株式会社丙", CN1]]))
    assert errors == [] and summary.suppliers_created == 1
    assert sorted(str(s.corporate_number) for s in _suppliers(ctx)) == [CN1, "None", "None"]


@pytest.mark.parametrize("role", [Role.auditor, Role.reviewer, Role.ciso])
def test_a_refused_role_cannot_post_to_the_mapping_page(auth, app, ctx, role):
    auth.login(Role.procurement, locale="en")
    url = _upload(auth.client, _csv([["name_ja"], ["株式会社いち"]]), "a.csv").headers["Location"]
    refused = app.test_client()
    user = auth.make_user(role)
    refused.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    form = {"column_0": "name_ja", "submit": "1", "skip_invalid": "y"}
    assert refused.post(url, data=form).status_code == 403
    assert refused.get(url).status_code == 403
    assert refused.get("/suppliers/import/done").status_code == 403
    assert _count(ctx, Supplier) == 0
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "import")) == 0
    # The upload is still there for its owner.
    assert auth.client.get(url).status_code == 200


def test_the_mapping_post_without_csrf_token_is_refused(csrf_app):
    client = _login(csrf_app, email="csrf-mapping@example.com")
    page = client.get("/suppliers/import").get_data(as_text=True)
    data = _csv([["name_ja"], ["株式会社いち"]])
    response = _upload(client, data, "a.csv", csrf_token=csrf_token_from(page))
    url = response.headers["Location"]
    form = {"column_0": "name_ja", "submit": "1"}

    def count() -> int:
        with csrf_app.app_context():
            n = db.session.scalar(
                sa.select(sa.func.count()).where(Supplier.name_ja == "株式会社いち")
            )
            db.session.remove()
        return n

    assert client.post(url, data=form).status_code == 400
    assert client.post(url, data={**form, "csrf_token": "forged"}).status_code == 400
    assert count() == 0
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={**form, "csrf_token": token})
    assert response.headers["Location"] == "/suppliers/import/done"
    assert count() == 1


def test_a_corporate_number_of_another_units_supplier_is_a_row_error(app, auth, make_supplier):
    from vendorrisk.models import BusinessUnit, UnitMembership

    with app.app_context():
        east, west = BusinessUnit(code="EAST", name="東"), BusinessUnit(code="WEST", name="西")
        db.session.add_all([east, west])
        db.session.commit()
        east_id, west_id = east.id, west.id
        db.session.remove()
    make_supplier(name_ja="株式会社西の取引先", corporate_number=CN1, unit_id=west_id)
    user = auth.login(Role.procurement, locale="en")
    with app.app_context():
        db.session.add(UnitMembership(user_id=user.id, unit_id=east_id))
        db.session.commit()
        db.session.remove()
    data = _csv([["取引先名", "法人番号"], ["株式会社西の取引先", CN1], ["株式会社東", ""]])
    url = _upload(auth.client, data, "a.csv").headers["Location"]
    page = auth.client.post(
        url, data={"column_0": "name_ja", "column_1": "corporate_number", "submit": "1"}
    ).get_data(as_text=True)
    assert "belongs to a supplier of a business unit you do not work for" in page
    with app.app_context():
        names = db.session.scalars(
            sa.select(Supplier.name_ja).where(
                Supplier.name_ja.in_(["株式会社西の取引先", "株式会社東"])
            )
        ).all()
        db.session.remove()
    assert names == ["株式会社西の取引先"]  # nothing imported while a row is in error
