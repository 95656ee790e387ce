"""Format rules for what a supplier types: SECURITY ACTION id, certificate number, plausible dates.

Pure (no app, no database): the questionnaire's text and date types apply them to questions
with a `format:`, and the renewed-evidence form, the proposal screen and the review's flags use
the same ones (services/register/proposals.py). Messages are lazy, so they read in the language
of whoever is shown them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from flask import has_app_context
from flask_babel import lazy_gettext as _l

from vendorrisk.i18n import long_date

#: No certificate, declaration or policy we register predates this.
EARLIEST = date(2000, 1, 1)
#: An expiry further ahead than this is not a real ISMS certificate (3 years) or policy.
LONGEST_VALIDITY = timedelta(days=5 * 366)
_SA_ID = re.compile(r"[45]\d{10}")
#: Letters, digits and the separators certificate numbers use ("IS 123456", "JQA-IM1234",
#: "ISMS-JP 0123/2024", "IC03J0123"), with at least one digit.
_CERTIFICATE = re.compile(r"(?=.*\d)[A-Za-z0-9][A-Za-z0-9 ./:()_/-]{1,38}[A-Za-z0-9)]")

#: The `format:` of a text question, and the rule cleaning its answer.
TEXT_FORMATS = ("security_action_id", "certificate_number")
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


def clean_text(fmt: str, raw: str) -> str:
    """A text answer of format `fmt` as stored (FormatError when it does not fit)."""
    if fmt == "security_action_id":
        return clean_security_action_id(raw)
    return clean_certificate_number(raw)


def check_date(fmt: str, day: date, today: date | None) -> None:
    """Refuse an implausible date of format `fmt` (FormatError). Without `today` (outside an
    app: pure checks of samples) only the fixed bound, 2000, can be checked."""
    if today is None and day >= EARLIEST:
        return
    if problem := date_problem(DATE_FORMATS[fmt], day, today or day):
        raise FormatError(problem)
