"""Import suppliers and their contacts from a CSV or XLSX file.

`import_files.read_table` turns the bytes into a header and rows of text (CSV in UTF-8, with or
without BOM, or Shift_JIS; or the first sheet of a workbook), `guess_mapping` maps the headers,
English or Japanese, to fields, `plan` checks every row and matches it with the register without
writing, and `apply` writes a plan in the caller's transaction (flush, never commit). The web
pages and the CLI share all of it. Messages are translated when made, in the current locale.

A row is one supplier and at most one contact. Rows with the same corporate number (or, without
one, the same name in Japanese) are one supplier: their values are merged, and a value that
differs from an earlier row's is an error. An existing supplier is found by corporate number, or
by its exact name when exactly one supplier has it; the cells given overwrite its values and empty
cells leave them. Contacts are matched by (supplier, email address).
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import sqlalchemy as sa
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from vendorrisk.extensions import db
from vendorrisk.i18n import LABELS
from vendorrisk.models import (
    Contact,
    Criticality,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    TierChange,
    User,
)
from vendorrisk.services import audit
from vendorrisk.services.register.imports.files import Table
from vendorrisk.services.review import review
from vendorrisk.validation import is_valid_corporate_number, normalize_corporate_number

#: Rows shown in the preview.
PREVIEW_ROWS = 10
#: Values per IN (...) when loading what the file refers to.
CHUNK = 500


class MappingRefused(ValueError):
    """A column mapping that cannot be used; the message is translated."""


# -- the fields ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One importable column: where it goes, how its text is read, how its header may be spelt."""

    key: str
    label: Any
    kind: str
    #: Attribute of the Supplier or Contact.
    attr: str
    contact: bool = False
    max_length: int = 0
    aliases: tuple[str, ...] = ()
    example: str = ""


def _f(key: str, label: Any, kind: str = "text", **kw: Any) -> Field:
    contact = key.startswith("contact_")
    attr = kw.pop("attr", key.removeprefix("contact_") if contact else key)
    return Field(key, label, kind, attr, contact, **kw)


FIELDS: tuple[Field, ...] = (
    _f("name_ja", _l("Name (Japanese)"), max_length=200,
       aliases=("取引先名", "名称", "会社名", "商号", "取引先名（日本語）", "name"),
       example="株式会社みなと情報サービス"),
    _f("name_en", _l("Name (English)"), max_length=200,
       aliases=("取引先名（英語）", "英語名", "英文名称", "英文社名", "english name"),
       example="Minato Information Services Co., Ltd."),
    _f("corporate_number", _l("Corporate number"), "corporate_number",
       aliases=("法人番号",), example="7010001008844"),
    _f("category", _l("Category"), "choice", aliases=("区分", "取引先区分", "種別"),
       example="outsourcing_contractor"),
    _f("status", _l("Status"), "choice", aliases=("状態", "ステータス", "取引状況"),
       example="active"),
    _f("criticality", _l("Business criticality"), "choice",
       aliases=("業務上の重要度", "事業重要度"), example="high"),
    _f("owner_email", _l("Owner (email address)"), "owner", attr="owner_id",
       aliases=("owner", "社内担当者", "社内担当者メール", "社内担当者メールアドレス"), example=""),
    _f("services", _l("Services provided"), max_length=5000,
       aliases=("提供サービス", "委託業務", "サービス"), example="基幹システムの運用保守"),
    _f("country", _l("Country (ISO code)"), "country",
       aliases=("country", "国", "国コード", "所在国"), example="JP"),
    _f("website", _l("Web site"), "url", max_length=300,
       aliases=("url", "ウェブサイト", "ホームページ", "webサイト"), example="https://www.example.co.jp/"),
    _f("shares_personal_info", _l("Handles personal information we entrust to it"), "bool",
       aliases=("個人情報", "個人情報の取扱い", "個人情報の預託"), example="yes"),
    _f("shares_confidential_info", _l("Holds our confidential information on its systems"), "bool",
       aliases=("機密情報", "機密情報の保管"), example="yes"),
    _f("has_network_access", _l("Has a network connection into our systems"), "bool",
       aliases=("ネットワーク接続", "ネットワーク接続あり"), example="no"),
    _f("has_admin_access", _l("Has administrator access to our systems"), "bool",
       aliases=("管理者権限", "管理者権限あり"), example="yes"),
    _f("max_outage", _l("How long could we bear its stopping?"), "choice",
       aliases=("許容停止期間", "停止許容期間"), example="days"),
    _f("replaceability", _l("How easily could it be replaced?"), "choice",
       aliases=("代替可能性", "代替性"), example="hard"),
    _f("next_review_on", _l("Next re-check"), "date",
       aliases=("次回再評価日", "次回定期再評価", "定期再評価日"), example="2027-04-01"),
    _f("notes", _l("Notes"), max_length=10000, aliases=("備考", "メモ"), example=""),
    _f("contact_name", _l("Contact: name"), max_length=200,
       aliases=("担当者名", "取引先担当者", "取引先担当者名", "担当者氏名"), example="佐藤 花子"),
    _f("contact_email", _l("Contact: email address"), "email", max_length=254,
       aliases=("担当者メール", "担当者メールアドレス", "メールアドレス", "email"),
       example="sato@example.co.jp"),
    _f("contact_phone", _l("Contact: telephone"), max_length=40,
       aliases=("担当者電話番号", "電話番号", "電話", "phone", "tel"), example="03-1234-5678"),
    _f("contact_department", _l("Contact: department"), max_length=200,
       aliases=("担当者部署", "部署", "department"), example="情報システム部"),
    _f("contact_job_title", _l("Contact: job title"), max_length=200,
       aliases=("担当者役職", "役職", "job title"), example="課長"),
    _f("contact_locale", _l("Contact: language"), "choice",
       aliases=("担当者言語", "言語", "language", "locale"), example="ja"),
    _f("contact_is_primary", _l("Contact: primary contact"), "bool",
       aliases=("主担当", "主担当者", "primary contact"), example="yes"),
)  # fmt: skip
FIELD_BY_KEY = {f.key: f for f in FIELDS}
SUPPLIER_FIELDS = tuple(f for f in FIELDS if not f.contact)
CONTACT_FIELDS = tuple(f for f in FIELDS if f.contact)

#: The choices of the fields that are not enums (same words as the supplier and contact forms).
OUTAGE_LABELS = {
    "hours": _l("Hours"),
    "days": _l("A few days"),
    "weeks": _l("A few weeks"),
    "months": _l("Months or more"),
}
REPLACEABILITY_LABELS = {
    "easy": _l("Easily"),
    "moderate": _l("With some effort"),
    "hard": _l("Hardly"),
}
LOCALE_LABELS = {"ja": "日本語", "en": "English"}
CHOICES: dict[str, dict[Any, Any]] = {
    "category": LABELS[SupplierCategory],
    "status": LABELS[SupplierStatus],
    "criticality": LABELS[Criticality],
    "max_outage": OUTAGE_LABELS,
    "replaceability": REPLACEABILITY_LABELS,
    "contact_locale": LOCALE_LABELS,
}
#: Other spellings people use for some choices.
SYNONYMS: dict[str, dict[str, Any]] = {
    "category": {
        "グループ会社": SupplierCategory.group_company,
        "委託": SupplierCategory.outsourcing_contractor,
    },
    "contact_locale": {"japanese": "ja", "english": "en", "日本": "ja", "英語": "en"},
}  # fmt: skip
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "はい", "○", "〇", "◯", "有", "あり", "✓"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "いいえ", "×", "✕", "無", "なし", "-", "ー"})


def _key(text: str) -> str:
    """A header or value as compared: width, case, spaces, "_" and "-" ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-・*]+", "", text)


def _in_both_languages(label: Any) -> list[str]:
    spellings = []
    for locale in ("en", "ja"):
        with force_locale(locale):
            spellings.append(str(label))
    return spellings


def header_lookup() -> dict[str, str]:
    """Accepted header spellings -> field key: the key, both labels, and the aliases."""
    lookup: dict[str, str] = {}
    for f in FIELDS:
        for spelling in (f.key, *_in_both_languages(f.label), *f.aliases):
            lookup.setdefault(_key(spelling), f.key)
    return lookup


def choice_lookups() -> dict[str, dict[str, Any]]:
    """Accepted spellings of each choice -> its value: the code and its labels in both languages."""
    lookups: dict[str, dict[str, Any]] = {}
    for key, labels in CHOICES.items():
        table = lookups[key] = {}
        for value, label in labels.items():
            for spelling in (getattr(value, "value", value), *_in_both_languages(label)):
                table.setdefault(_key(spelling), value)
        table.update({_key(s): v for s, v in SYNONYMS.get(key, {}).items()})
    return lookups


def allowed_values(key: str) -> list[str]:
    """The values a choice field takes, as "code (label)" in the current language."""
    return [f"{getattr(v, 'value', v)} ({label})" for v, label in CHOICES[key].items()]


# -- mapping the columns ------------------------------------------------------------------------


def guess_mapping(headers: Sequence[str]) -> list[str | None]:
    """The field each column holds, from its header; None for a column not recognised.

    A field is given to the first column that names it only.
    """
    lookup = header_lookup()
    taken: set[str] = set()
    mapping: list[str | None] = []
    for header in headers:
        key = lookup.get(_key(header))
        mapping.append(key if key and key not in taken else None)
        taken.update({key} if key else set())
    return mapping


def check_mapping(mapping: Sequence[str | None]) -> None:
    """Raise MappingRefused for a field chosen twice or a mapping with nothing to match by."""
    chosen = [key for key in mapping if key]
    for key in chosen:
        if key not in FIELD_BY_KEY:
            raise MappingRefused(_("Unknown field: %(key)s", key=key))
        if chosen.count(key) > 1:
            label = FIELD_BY_KEY[key].label
            raise MappingRefused(_("“%(field)s” is chosen for more than one column.", field=label))
    if not chosen:
        raise MappingRefused(
            _(
                "No column of the file was recognised. The header row must hold the column "
                "names of the template."
            )
        )
    if "name_ja" not in chosen and "corporate_number" not in chosen:
        raise MappingRefused(
            _("Choose the column of the name in Japanese or of the corporate number.")
        )


# -- reading one row ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A problem with a row: its row number in the spreadsheet (header = 1) and column header."""

    row: int
    column: str
    message: str


@dataclass
class Row:
    number: int
    #: Field key -> the cell's text (only cells holding something).
    raw: dict[str, str]
    #: Field key -> the value to store (only cells read without error).
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)
    #: "create", "update" or "unchanged" once matched; "" for a row with errors.
    action: str = ""

    def supplier_values(self) -> dict[str, Any]:
        return {f.attr: self.values[f.key] for f in SUPPLIER_FIELDS if f.key in self.values}

    def contact_values(self) -> dict[str, Any]:
        return {f.attr: self.values[f.key] for f in CONTACT_FIELDS if f.key in self.values}


#: Plain addresses that the contact form's validator (email_validator) always accepts.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]{1,64}(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}",
    re.ASCII | re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def is_email(text: str) -> bool:
    """The contact form's check (email_validator, no DNS), skipped for plain addresses.

    email_validator spends most of a large file's checking time on each address's domain, so
    an address of ASCII letters, digits and the usual signs only goes through it when its
    domain is special-use (.test, .local ...) or it is longer than the limits.
    """
    domain = text.rpartition("@")[2].lower()
    special = any(domain == d or domain.endswith("." + d) for d in SPECIAL_USE_DOMAIN_NAMES)
    local_ok = len(text) - len(domain) - 1 <= 64
    if _PLAIN_EMAIL.fullmatch(text) and not special and local_ok and len(text) <= 254:
        return True
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class CellProblem(ValueError):
    """Why one cell cannot be read (translated)."""


@dataclass(frozen=True)
class _Reader:
    """What reading a cell needs besides its text: the choice spellings and the users."""

    choices: dict[str, dict[str, Any]]
    users: dict[str, int]

    def read(self, f: Field, text: str) -> Any:
        if f.max_length and len(text) > f.max_length:
            raise CellProblem(_("At most %(n)d characters.", n=f.max_length))
        return getattr(self, f"_{f.kind}")(f, text)

    def _text(self, f: Field, text: str) -> str:
        return text

    def _corporate_number(self, f: Field, text: str) -> str:
        digits = normalize_corporate_number(unicodedata.normalize("NFKC", text))
        digits = digits.removesuffix(".0")  # a number cell of a workbook
        if not is_valid_corporate_number(digits):
            raise CellProblem(
                _("This is not a valid corporate number (13 digits with a correct check digit).")
            )
        return digits

    def _choice(self, f: Field, text: str) -> Any:
        value = self.choices[f.key].get(_key(text))
        if value is None:
            raise CellProblem(
                _(
                    "“%(value)s” is not one of the allowed values: %(allowed)s.",
                    value=text,
                    allowed=", ".join(allowed_values(f.key)),
                )
            )
        return value

    def _bool(self, f: Field, text: str) -> bool:
        word = _key(text)
        if word in TRUE_WORDS or text in TRUE_WORDS:
            return True
        if word in FALSE_WORDS or text in FALSE_WORDS:
            return False
        raise CellProblem(
            _("“%(value)s” is not yes or no (yes/no, はい/いいえ, 1/0, ○/×).", value=text)
        )

    def _date(self, f: Field, text: str) -> date:
        match = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?: 00:00:00)?", text)
        try:
            return date(*(int(g) for g in match.groups()))  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            raise CellProblem(
                _("“%(value)s” is not a date: write it as YYYY-MM-DD or YYYY/MM/DD.", value=text)
            ) from None

    def _email(self, f: Field, text: str) -> str:
        if not is_email(text):
            raise CellProblem(_("“%(value)s” is not a valid email address.", value=text))
        return text.lower()

    def _owner(self, f: Field, text: str) -> int:
        email = self._email(f, text)
        if email not in self.users:
            raise CellProblem(_("No active user has the email address “%(value)s”.", value=text))
        return self.users[email]

    def _country(self, f: Field, text: str) -> str:
        code = unicodedata.normalize("NFKC", text).upper()
        if not re.fullmatch(r"[A-Z]{2}", code):
            raise CellProblem(_("Two capital letters, such as JP or US."))
        return code

    def _url(self, f: Field, text: str) -> str:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in text:
            raise CellProblem(
                _("“%(value)s” is not a web address starting with http:// or https://.", value=text)
            )
        return text


def _read_row(
    number: int, cells: list[str], columns: list[tuple[int, Field]], reader: _Reader, headers
) -> Row:
    row = Row(number, {}, {})
    for index, f in columns:
        text = cells[index]
        if not text:
            continue
        row.raw[f.key] = text
        try:
            row.values[f.key] = reader.read(f, text)
        except CellProblem as problem:
            row.errors.append(RowError(number, headers[f.key], str(problem)))
    _check_contact(row, headers)
    if "corporate_number" not in row.raw and "name_ja" not in row.raw:
        row.errors.append(
            RowError(
                number, headers["name_ja"], _("Give the name in Japanese or the corporate number.")
            )
        )
    return row


def _check_contact(row: Row, headers: dict[str, str]) -> None:
    given = [f.key for f in CONTACT_FIELDS if f.key in row.raw]
    for key in ("contact_name", "contact_email"):
        if given and key not in row.raw:
            row.errors.append(
                RowError(
                    row.number, headers[key], _("A contact needs a name and an email address.")
                )
            )


# -- the plan -----------------------------------------------------------------------------------


@dataclass
class ContactPlan:
    email: str
    existing: Contact | None
    values: dict[str, Any] = field(default_factory=dict)
    given_by: dict[str, Row] = field(default_factory=dict)

    def changes(self) -> dict[str, Any]:
        if self.existing is None:
            return self.values
        return {k: v for k, v in self.values.items() if getattr(self.existing, k) != v}


@dataclass
class SupplierPlan:
    """One supplier of the file: the rows that name it, merged, and what exists already."""

    existing: Supplier | None
    rows: list[Row] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    given_by: dict[str, Row] = field(default_factory=dict)
    contacts: dict[str, ContactPlan] = field(default_factory=dict)
    primary: tuple[str, Row] | None = None

    def changes(self) -> dict[str, Any]:
        if self.existing is None:
            return self.values
        return {k: v for k, v in self.values.items() if getattr(self.existing, k) != v}

    @property
    def action(self) -> str:
        if self.existing is None:
            return "create"
        return "update" if self.changes() else "unchanged"


@dataclass
class Summary:
    suppliers_created: int = 0
    suppliers_updated: int = 0
    suppliers_unchanged: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    rows_imported: int = 0
    rows_skipped: int = 0

    def lines(self) -> list[str]:
        """The counts in words, in the current language."""
        return [
            _("Suppliers created: %(n)d", n=self.suppliers_created),
            _("Suppliers updated: %(n)d", n=self.suppliers_updated),
            _("Suppliers unchanged: %(n)d", n=self.suppliers_unchanged),
            _("Contacts created: %(n)d", n=self.contacts_created),
            _("Contacts updated: %(n)d", n=self.contacts_updated),
            _("Contacts unchanged: %(n)d", n=self.contacts_unchanged),
            _("Rows imported: %(n)d", n=self.rows_imported),
            _("Rows skipped: %(n)d", n=self.rows_skipped),
        ]


@dataclass
class Plan:
    """What importing a file would do; nothing is written until `apply`."""

    table: Table
    mapping: list[str | None]
    skip_invalid: bool
    rows: list[Row]
    suppliers: list[SupplierPlan]
    errors: list[RowError]

    @property
    def can_apply(self) -> bool:
        return not self.errors or self.skip_invalid

    @property
    def invalid_rows(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    def summary(self) -> Summary:
        s = Summary(rows_skipped=self.invalid_rows if self.skip_invalid else 0)
        for plan in self.suppliers:
            s.rows_imported += len(plan.rows)
            action = plan.action
            s.suppliers_created += action == "create"
            s.suppliers_updated += action == "update"
            s.suppliers_unchanged += action == "unchanged"
            for contact in plan.contacts.values():
                s.contacts_created += contact.existing is None
                changed = contact.existing is not None and bool(contact.changes())
                s.contacts_updated += changed
                s.contacts_unchanged += contact.existing is not None and not changed
        return s

    def headers(self) -> dict[str, str]:
        return _headers(self.table, self.mapping)


def _headers(table: Table, mapping: Sequence[str | None]) -> dict[str, str]:
    """Field key -> the header of its column in the file (its label when not in the file)."""
    shown = {f.key: str(f.label) for f in FIELDS}
    shown.update({key: table.headers[i] for i, key in enumerate(mapping) if key})
    return shown


def plan(table: Table, mapping: Sequence[str | None], skip_invalid: bool = False) -> Plan:
    """Check every row and match it with the register, writing nothing."""
    mapping = list(mapping) + [None] * (len(table.headers) - len(mapping))
    check_mapping(mapping)
    columns = [(i, FIELD_BY_KEY[key]) for i, key in enumerate(mapping) if key]
    headers = _headers(table, mapping)
    reader = _Reader(choice_lookups(), _users(table, mapping))
    rows = [_read_row(n, cells, columns, reader, headers) for n, cells in table.rows]
    valid = [row for row in rows if not row.errors]
    suppliers = _group(valid, _Register.load(valid), headers)
    suppliers = _named(suppliers, headers)
    for supplier in suppliers:
        for row in supplier.rows:
            row.action = supplier.action
    errors = sorted((e for row in rows for e in row.errors), key=lambda e: e.row)
    return Plan(table, mapping, skip_invalid, rows, suppliers, errors)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _users(table: Table, mapping: Sequence[str | None]) -> dict[str, int]:
    """Active users by lower-case email, for the owners the file names."""
    if "owner_email" not in mapping:
        return {}
    column = mapping.index("owner_email")
    emails = {cells[column].lower() for _, cells in table.rows if cells[column]}
    found: dict[str, int] = {}
    for chunk in _chunks(emails):
        stmt = sa.select(sa.func.lower(User.email), User.id).where(
            User.active, sa.func.lower(User.email).in_(chunk)
        )
        found.update(dict(db.session.execute(stmt).all()))
    return found


@dataclass
class _Register:
    """The existing suppliers the rows refer to, with their contacts, loaded in bulk."""

    by_number: dict[str, Supplier]
    by_name: dict[str, list[Supplier]]

    @classmethod
    def load(cls, rows: list[Row]) -> _Register:
        numbers = {
            row.values["corporate_number"] for row in rows if "corporate_number" in row.values
        }
        by_number = {s.corporate_number: s for s in cls._fetch(Supplier.corporate_number, numbers)}
        # Rows without a corporate number, or with one the register does not know, match by name.
        names = {
            row.values["name_ja"]
            for row in rows
            if "name_ja" in row.values and row.values.get("corporate_number") not in by_number
        }
        by_name: dict[str, list[Supplier]] = {}
        for s in cls._fetch(Supplier.name_ja, names):
            by_name.setdefault(s.name_ja, []).append(s)
        return cls(by_number, by_name)

    @staticmethod
    def _fetch(column: Any, values: set[str]) -> list[Supplier]:
        found: list[Supplier] = []
        for chunk in _chunks(values):
            stmt = sa.select(Supplier).where(column.in_(chunk))
            found += db.session.scalars(stmt.options(selectinload(Supplier.contacts))).all()
        return found

    def match(self, row: Row) -> tuple[Any, Supplier | None]:
        """The key that groups the row, and the existing supplier it updates if any.

        A corporate number the register does not know is given to the supplier of the same
        name that has none, if exactly one such supplier exists (registered before its
        number was known); otherwise the row is a new supplier.
        """
        number = row.values.get("corporate_number")
        if number:
            existing = self.by_number.get(number)
            if existing is None and "name_ja" in row.values:
                same_name = self.by_name.get(row.values["name_ja"], [])
                unnumbered = [s for s in same_name if s.corporate_number is None]
                existing = unnumbered[0] if len(unnumbered) == 1 else None
            return (("id", existing.id) if existing else ("number", number)), existing
        same_name = self.by_name.get(row.values["name_ja"], [])
        if len(same_name) == 1:
            return ("id", same_name[0].id), same_name[0]
        return ("name", row.values["name_ja"]), None


def _group(rows: list[Row], register: _Register, headers: dict[str, str]) -> list[SupplierPlan]:
    """Merge the rows of each supplier; a row whose values contradict an earlier row's is left out.

    A row without a corporate number that no existing supplier matches joins the supplier of
    the file with the same name and a corporate number new to the register, if any.
    """
    matches = [register.match(row) for row in rows]
    numbered = {}
    for row, (key, existing) in zip(rows, matches, strict=True):
        number = row.values.get("corporate_number")
        new_number = existing is None or existing.corporate_number != number
        if number and new_number and "name_ja" in row.values:
            numbered.setdefault(row.values["name_ja"], key)
    plans: dict[Any, SupplierPlan] = {}
    for row, (key, existing) in zip(rows, matches, strict=True):
        if key[0] == "name":
            key = numbered.get(key[1], key)
        supplier = plans.setdefault(key, SupplierPlan(existing))
        row.errors = _conflicts(supplier, row, headers)
        if not row.errors:
            _merge(supplier, row)
    return list(plans.values())


def _differs(given_by: dict[str, Row], values: dict[str, Any], row: Row, headers, keys):
    for attr, key in keys:
        earlier = given_by.get(attr)
        if attr in values and earlier is not None and earlier.values[key] != row.values[key]:
            yield RowError(
                row.number,
                headers[key],
                _(
                    "This differs from row %(row)d of the same supplier (“%(value)s”).",
                    row=earlier.number,
                    value=earlier.raw[key],
                ),
            )


def _conflicts(supplier: SupplierPlan, row: Row, headers: dict[str, str]) -> list[RowError]:
    keys = [(f.attr, f.key) for f in SUPPLIER_FIELDS]
    errors = list(_differs(supplier.given_by, row.supplier_values(), row, headers, keys))
    contact = row.contact_values()
    if contact:
        planned = supplier.contacts.get(contact["email"])
        if planned is not None:
            keys = [(f.attr, f.key) for f in CONTACT_FIELDS]
            errors += _differs(planned.given_by, contact, row, headers, keys)
        if (
            contact.get("is_primary")
            and supplier.primary
            and supplier.primary[0] != contact["email"]
        ):
            errors.append(
                RowError(
                    row.number,
                    headers["contact_is_primary"],
                    _(
                        "Row %(row)d already makes another contact the primary one of this "
                        "supplier.",
                        row=supplier.primary[1].number,
                    ),
                )
            )
    return errors


def _merge(supplier: SupplierPlan, row: Row) -> None:
    supplier.rows.append(row)
    for attr, value in row.supplier_values().items():
        supplier.values[attr] = value
        supplier.given_by.setdefault(attr, row)
    contact = row.contact_values()
    if not contact:
        return
    email = contact["email"]
    if email not in supplier.contacts:
        existing = supplier.existing and next(
            (c for c in supplier.existing.contacts if c.email.lower() == email), None
        )
        supplier.contacts[email] = ContactPlan(email, existing or None)
    planned = supplier.contacts[email]
    for attr, value in contact.items():
        planned.values[attr] = value
        planned.given_by.setdefault(attr, row)
    if contact.get("is_primary"):
        supplier.primary = (email, row)


def _named(suppliers: list[SupplierPlan], headers: dict[str, str]) -> list[SupplierPlan]:
    """Drop the new suppliers that no row names in Japanese, with an error on each of their rows."""
    kept = []
    for supplier in suppliers:
        if supplier.existing is None and "name_ja" not in supplier.values:
            for row in supplier.rows:
                row.errors.append(
                    RowError(
                        row.number,
                        headers["name_ja"],
                        _("A new supplier needs its name in Japanese."),
                    )
                )
        else:
            kept.append(supplier)
    return kept


# -- writing ------------------------------------------------------------------------------------


def apply(plan: Plan, now: datetime, source: str = "") -> Summary:
    """Write the plan (its valid rows when skipping invalid ones) and flush, audited."""
    if not plan.can_apply:
        raise ValueError("a plan with errors is applied only when skipping invalid rows")
    summary = plan.summary()
    rules = review.tier_rules()
    audit.record(
        "import",
        summary=(
            f"suppliers from {source or 'a file'}: {summary.suppliers_created} created, "
            f"{summary.suppliers_updated} updated, {summary.rows_skipped} rows skipped"
        ),
        changes=dict(vars(summary)),
    )
    db.session.flush()  # the first write: SQLite holds its write lock from here to the commit
    with db.session.no_autoflush:
        written = [(planned, *_write_supplier(planned)) for planned in plan.suppliers]
        _give_ids(Supplier, [supplier for _p, supplier, _changed in written])
        contacts = [c for planned, s, _changed in written for c in _write_contacts(planned, s)]
        _give_ids(Contact, contacts)
        for _planned, supplier, changed in written:
            if changed:  # created or changed: the tier goes into the same audited insert or update
                review.apply_tier_rules(supplier, rules, now)
        tier_changes = [t for t in db.session.new if isinstance(t, TierChange)]
        _give_ids(TierChange, tier_changes)
    # No relationship() orders tier changes after their suppliers within one flush.
    for change in tier_changes:
        db.session.expunge(change)
    db.session.flush()
    db.session.add_all(tier_changes)
    db.session.flush()
    return summary


def _give_ids(model: type, objects: list[Any]) -> None:
    """Number new rows before the flush so that they are inserted in batches.

    The ORM inserts one row at a time when it must read back each generated key and the database
    cannot say in which order RETURNING gives them (SQLite). PostgreSQL hands out numbers from
    the table's sequence; on SQLite the transaction already holds the only write lock, so the
    numbers after the largest are free.
    """
    objects = [o for o in objects if o.id is None]
    if not objects:
        return
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        series = sa.func.generate_series(1, len(objects)).table_valued("n")
        ids = db.session.scalars(sa.select(sa.func.nextval(sequence)).select_from(series)).all()
    else:
        first = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
        ids = range(first, first + len(objects))
    for obj, new_id in zip(objects, ids, strict=True):
        obj.id = new_id


#: What a new supplier holds before the file's values: the columns' defaults.
_NEW_SUPPLIER = {
    column.key: column.default.arg
    for column in Supplier.__table__.columns
    if column.default is not None and column.default.is_scalar
} | {"category": SupplierCategory.other}


def _write_supplier(planned: SupplierPlan) -> tuple[Supplier, bool]:
    changes = planned.changes()
    supplier = planned.existing
    if supplier is None:
        supplier = Supplier(**(_NEW_SUPPLIER | changes))
        db.session.add(supplier)
    else:
        for attr, value in changes.items():
            setattr(supplier, attr, value)
    return supplier, bool(changes)


def _write_contacts(planned: SupplierPlan, supplier: Supplier) -> list[Contact]:
    """Change the supplier's contacts named in the file; return the new ones (added)."""
    added = []
    for contact in planned.contacts.values():
        if contact.existing is None:
            added.append(Contact(supplier_id=supplier.id, **contact.values))
        else:
            for attr, value in contact.changes().items():
                setattr(contact.existing, attr, value)
    if planned.primary and planned.existing is not None:
        for other in planned.existing.contacts:  # loaded with the supplier
            if other.is_primary and other.email.lower() != planned.primary[0]:
                other.is_primary = False
    db.session.add_all(added)
    return added


# -- the template and the preview ---------------------------------------------------------------


def template_frame() -> pd.DataFrame:
    """The template: every column (English header) and one example row."""
    return pd.DataFrame([[f.example for f in FIELDS]], columns=[f.key for f in FIELDS])


def help_rows() -> list[tuple[str, str, str]]:
    """Each column of the template: its name, meaning and accepted values (current language)."""
    rows = []
    for f in FIELDS:
        if f.kind == "choice":
            accepted = ", ".join(allowed_values(f.key))
        else:
            accepted = str(KIND_HELP.get(f.kind, ""))
        rows.append((f.key, str(f.label), accepted))
    return rows


def samples(table: Table, n: int = 3) -> list[list[str]]:
    """The first `n` values of each column, for recognising it."""
    found: list[list[str]] = [[] for _header in table.headers]
    for _number, cells in table.rows[:200]:
        for values, cell in zip(found, cells, strict=True):
            if cell and len(values) < n:
                values.append(cell)
    return found


KIND_HELP = {
    "corporate_number": _l(
        "13 digits, checked with its check digit; leave empty for foreign companies."
    ),
    "bool": _l("yes / no (also はい / いいえ, 1 / 0, ○ / ×)"),
    "date": _l("YYYY-MM-DD or YYYY/MM/DD"),
    "owner": _l("The email address of an active user"),
    "email": _l("An email address"),
    "country": _l("Two capital letters, such as JP or US."),
    "url": _l("A web address starting with http:// or https://"),
}  # fmt: skip


def write_template(target: io.BytesIO, fmt: str) -> None:
    """The template as CSV (UTF-8 with BOM) or XLSX (the columns, then a sheet explaining them)."""
    from vendorrisk.services.reporting import exports

    if fmt == "csv":
        exports.write(template_frame(), target, "csv")
        return
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        template_frame().to_excel(writer, index=False, sheet_name="suppliers")
        columns = [_("Column"), _("Meaning"), _("Accepted values")]
        help_sheet = pd.DataFrame(help_rows(), columns=columns)
        help_sheet.to_excel(writer, index=False, sheet_name=_("Help"))


def shown(row: Row, key: str) -> str:
    """A cell of the preview as it will be stored, in the current language."""
    if key not in row.values:
        return row.raw.get(key, "")
    value = row.values[key]
    f = FIELD_BY_KEY[key]
    if f.kind == "choice":
        return str(CHOICES[key][value])
    if f.kind == "bool":
        return _("Yes") if value else _("No")
    if f.kind == "owner":
        return row.raw[key]
    return str(value)


def errors_by_cell(rows: Iterable[Row], headers: dict[str, str]) -> dict[tuple[int, str], str]:
    """(row number, field key) -> the message, for marking cells of the preview."""
    key_of = {header: key for key, header in headers.items()}
    return {(e.row, key_of.get(e.column, "")): e.message for row in rows for e in row.errors}


def error_line(error: RowError) -> str:
    """One error as a line ("Row 3, 法人番号: ...") in the current language."""
    return _(
        "Row %(row)d, %(column)s: %(message)s",
        row=error.row,
        column=error.column,
        message=error.message,
    )


def ignored_column(header: str) -> str:
    return _("The column “%(column)s” is not recognised and is ignored.", column=header)


def nothing_imported() -> str:
    return _(
        "Nothing was imported: correct the rows listed above and try again, or skip the "
        "invalid rows."
    )


def summary_lines(summary: Summary, dry_run: bool = False) -> list[str]:
    """The counts of an import in words; a dry run says that nothing was saved."""
    lines = summary.lines()
    return [_("Dry run: nothing was saved."), *lines] if dry_run else lines
