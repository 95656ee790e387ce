"""Format rules for what a supplier types: SECURITY ACTION id, certificate number, corporate
number, country, plausible dates.

Pure (no app, no database): the questionnaire's text and date types apply them to questions
with a `format:`, and the renewed-evidence form, the proposal screen and the review's flags use
the same ones (services/register/proposals.py). Messages are lazy, so they read in the language
of whoever is shown them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, timedelta

from babel import Locale
from flask import has_app_context
from flask_babel import lazy_gettext as _l

from vendorrisk.i18n import long_date
from vendorrisk.validation import (
    CORPORATE_NUMBER_RE,
    is_valid_corporate_number,
    normalize_corporate_number,
)
from vendorrisk.vocab import LOCALES

#: No certificate, declaration or policy we register predates this.
EARLIEST = date(2000, 1, 1)
#: An expiry further ahead than this is not a real ISMS certificate (3 years) or policy.
LONGEST_VALIDITY = timedelta(days=5 * 366)
_SA_ID = re.compile(r"[45]\d{10}")
#: Letters, digits and the separators certificate numbers use ("IS 123456", "JQA-IM1234",
#: "ISMS-JP 0123/2024", "IC03J0123"), with at least one digit.
_CERTIFICATE = re.compile(r"(?=.*\d)[A-Za-z0-9][A-Za-z0-9 ./:()_/-]{1,38}[A-Za-z0-9)]")

#: Babel's two-letter regions that are no country (the EU, the euro zone, the UN, outlying
#: Oceania, pseudo-locales, "unknown"): the others are ISO 3166-1 alpha-2 codes.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
#: Everyday names of countries that CLDR spells otherwise (アメリカ合衆国, United Kingdom...).
_COUNTRY_ALIASES = {
    **{"アメリカ": "US", "米国": "US", "USA": "US", "英国": "GB", "UK": "GB"},
    **{"香港": "HK", "Hong Kong": "HK", "Korea": "KR", "Viet Nam": "VN"},
}

#: The `format:` of a text question, and the rule cleaning its answer.
TEXT_FORMATS = ("security_action_id", "certificate_number", "corporate_number", "country")
#: The `format:` of a date question, and the register field whose plausibility it checks.
DATE_FORMATS = {"issue_date": "issued_on", "expiry": "expires_on"}
#: Every `format:` a template may name.
FORMATS = (*TEXT_FORMATS, *DATE_FORMATS)


class FormatError(ValueError):
    """A typed value that does not fit its format; str() reads in the current language."""


def _plain(text: str) -> str:
    """Full-width letters and digits as ASCII, spaces collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()


def clean_security_action_id(raw: str) -> str:
    """An IPA SECURITY ACTION declaration id: 11 digits starting with 4 or 5 (else FormatError)."""
    text = re.sub(r"[\s-]", "", _plain(raw))
    if not _SA_ID.fullmatch(text):
        raise FormatError(
            _l(
                "The SECURITY ACTION declaration ID is the 11-digit number IPA issued "
                "(it starts with 4 or 5)."
            )
        )
    return text


def clean_certificate_number(raw: str) -> str:
    """A certificate or policy number as printed on it (FormatError for anything else)."""
    text = _plain(raw)
    if not _CERTIFICATE.fullmatch(text):
        raise FormatError(
            _l(
                "Give the number exactly as printed on the certificate or policy "
                "(for example IS 123456)."
            )
        )
    return text


def clean_corporate_number(raw: str) -> str:
    """A 法人番号: 13 digits whose first is the check digit of the other 12 (FormatError for
    anything else, saying which)."""
    digits = normalize_corporate_number(_plain(raw))
    if not CORPORATE_NUMBER_RE.fullmatch(digits):
        raise FormatError(_l("A corporate number has 13 digits."))
    if not is_valid_corporate_number(digits):
        raise FormatError(
            _l(
                "This corporate number is not valid: its first digit (the check digit) does not "
                "match the other 12 digits. Check the number on the National Tax Agency's "
                "Corporate Number Publication Site."
            )
        )
    return digits


@functools.cache
def _countries() -> dict[str, dict[str, str]]:
    """Each country's name in Japanese and English (CLDR's, through Babel), by alpha-2 code."""
    names = {lang: Locale(lang).territories for lang in LOCALES}
    return {
        code: {lang: names[lang].get(code, code) for lang in LOCALES}
        for code in sorted(names["en"])
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


@functools.cache
def _country_spellings() -> dict[str, str]:
    """The code of each accepted spelling (ignoring case): the code, either name, an alias."""
    spellings = {code.casefold(): code for code in _countries()}
    for code, names in _countries().items():
        for name in names.values():
            spellings.setdefault(name.casefold(), code)
    for alias, code in _COUNTRY_ALIASES.items():
        spellings.setdefault(alias.casefold(), code)
    return spellings


def clean_country(raw: str) -> str:
    """A country as its ISO 3166-1 alpha-2 code (JP), given so or by its Japanese or English
    name (FormatError for anything else)."""
    code = _country_spellings().get(_plain(raw).casefold())
    if code is None:
        raise FormatError(
            _l("Give the country as its two-letter code (such as JP or US) or its name.")
        )
    return code


def country_name(code: str, locale: str | None) -> str:
    """A stored country code as its name in the given language (Japanese unless English)."""
    names = _countries().get(code)
    return names["en" if locale == "en" else "ja"] if names else code


@functools.cache
def country_options(locale: str | None) -> tuple[tuple[str, str], ...]:
    """(code, name) of every country, by name in the given language: an input's suggestions."""
    named = ((code, country_name(code, locale)) for code in _countries())
    return tuple(sorted(named, key=lambda pair: pair[1]))


def _written(day: date) -> str:
    """A date as the message's prose writes it (ISO outside an app, where no language is set)."""
    return long_date(day) if has_app_context() else day.isoformat()


def date_problem(name: str, day: date, today: date) -> str | None:
    """Why a stated `issued_on` or `expires_on` date is implausible (None when it is not)."""
    if day < EARLIEST:
        return str(_l("%(date)s is before 2000.", date=_written(day)))
    if name == "issued_on" and day > today:
        return str(_l("The date %(date)s is in the future.", date=_written(day)))
    if name == "expires_on" and day > today + LONGEST_VALIDITY:
        return str(_l("The expiry date %(date)s is more than 5 years ahead.", date=_written(day)))
    return None


def stated_date_problem(name: str, day: date, today: date) -> str | None:
    """As date_problem, and an expiry already past (the review flags both)."""
    if name == "expires_on" and EARLIEST <= day < today:
        return str(_l("The expiry date %(date)s has already passed.", date=_written(day)))
    return date_problem(name, day, today)


#: The rule of each text format.
_TEXT_RULES = {
    "security_action_id": clean_security_action_id,
    "certificate_number": clean_certificate_number,
    "corporate_number": clean_corporate_number,
    "country": clean_country,
}


def clean_text(fmt: str, raw: str) -> str:
    """A text answer of format `fmt` as stored (FormatError when it does not fit)."""
    return _TEXT_RULES[fmt](raw)


def check_date(fmt: str, day: date, today: date | None) -> None:
    """Refuse an implausible date of format `fmt` (FormatError). Without `today` (outside an
    app: pure checks of samples) only the fixed bound, 2000, can be checked."""
    if today is None and day >= EARLIEST:
        return
    if problem := date_problem(DATE_FORMATS[fmt], day, today or day):
        raise FormatError(problem)
