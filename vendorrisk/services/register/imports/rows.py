"""Reading one row of a supplier import: each cell checked and turned into the value to store.

A cell's text is read by the kind of its field (choice, yes/no, date, email address, owner,
corporate number ...); a cell that cannot be read is a `RowError` naming its row and column,
with a translated message. A row needs a name in Japanese or a corporate number, and a contact
needs a name and an email address.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from flask_babel import gettext as _

from vendorrisk.services.register.imports.columns import (
    CONTACT_FIELDS,
    SUPPLIER_FIELDS,
    Field,
    allowed_values,
    comparable,
)
from vendorrisk.validation import is_valid_corporate_number, normalize_corporate_number

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "はい", "○", "〇", "◯", "有", "あり", "✓"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "いいえ", "×", "✕", "無", "なし", "-", "ー"})


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
class CellReader:
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
        value = self.choices[f.key].get(comparable(text))
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
        word = comparable(text)
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


def read_row(
    number: int, cells: list[str], columns: list[tuple[int, Field]], reader: CellReader, headers
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
