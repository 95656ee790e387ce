"""The columns of a supplier import: the fields a file may hold, and which column holds which.

`FIELDS` lists every importable column with its label and the other spellings people give its
header, in English or Japanese; `guess_mapping` maps a file's headers to fields and
`check_mapping` refuses a mapping that cannot be imported. The choice fields accept their code
or their label in either language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorrisk.i18n.labels import LABELS
from vendorrisk.models import Criticality, SupplierCategory, SupplierStatus
from vendorrisk.services.register.imports.files import Table
from vendorrisk.vocab import Locale, Outage, Replaceability


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


def _stored_as_text(vocabulary: type) -> dict[str, Any]:
    """The labels of a vocab enum whose column stores plain text, keyed by that text."""
    return {member.value: text for member, text in LABELS[vocabulary].items()}


CHOICES: dict[str, dict[Any, Any]] = {
    "category": LABELS[SupplierCategory],
    "status": LABELS[SupplierStatus],
    "criticality": LABELS[Criticality],
    "max_outage": _stored_as_text(Outage),
    "replaceability": _stored_as_text(Replaceability),
    "contact_locale": _stored_as_text(Locale),
}
#: Other spellings people use for some choices.
SYNONYMS: dict[str, dict[str, Any]] = {
    "category": {
        "グループ会社": SupplierCategory.group_company,
        "委託": SupplierCategory.outsourcing_contractor,
    },
    "contact_locale": {"japanese": "ja", "english": "en", "日本": "ja", "英語": "en"},
}  # fmt: skip


def comparable(text: str) -> str:
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
            lookup.setdefault(comparable(spelling), f.key)
    return lookup


def choice_lookups() -> dict[str, dict[str, Any]]:
    """Accepted spellings of each choice -> its value: the code and its labels in both languages."""
    lookups: dict[str, dict[str, Any]] = {}
    for key, labels in CHOICES.items():
        table = lookups[key] = {}
        for value, label in labels.items():
            for spelling in (getattr(value, "value", value), *_in_both_languages(label)):
                table.setdefault(comparable(spelling), value)
        table.update({comparable(s): v for s, v in SYNONYMS.get(key, {}).items()})
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
        key = lookup.get(comparable(header))
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


def field_headers(table: Table, mapping: Sequence[str | None]) -> dict[str, str]:
    """Field key -> the header of its column in the file (its label when not in the file)."""
    shown = {f.key: str(f.label) for f in FIELDS}
    shown.update({key: table.headers[i] for i, key in enumerate(mapping) if key})
    return shown
