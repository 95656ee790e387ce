"""Japanese and English: locale choice, time zone, and the formatting of dates, money and options.

The words themselves are in labels.py (values and keys) and audit.py (the audit log's fields).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_decimal, get_locale
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from vendorrisk.extensions import babel
from vendorrisk.i18n.audit import (
    action_label,
    audit_filled,
    audit_value,
    field_label,
    label_of,
    object_label,
)
from vendorrisk.i18n.labels import (
    LABELS,
    label,
    level_abbreviation,
    level_name,
    level_short,
    risk_reason,
    tier_name,
)
from vendorrisk.models import localized_name
from vendorrisk.vocab import Locale


def answer_label(question: object, value: object, locale: str | None = None) -> str:
    """How an answer reads in the current (or given) language; its answer type holds the labels."""
    return question.kind.label(question, value, locale or current_locale())


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs (options given as such pass through)."""
    return [p if isinstance(p, SelectChoice) else SelectChoice(*p) for p in pairs]


def choices(enum_cls: type) -> list[SelectChoice]:
    """Select options for every member of an enum, with its labels from labels.LABELS."""
    return options((m.value, LABELS[enum_cls][m]) for m in enum_cls)


def select_locale() -> str:
    """The user's choice, else the session's choice, else the browser's Accept-Language.

    Outside a request (the CLI, whose help is English) messages are English.
    """
    if not has_request_context():
        return "en"
    languages = current_app.config["LANGUAGES"]
    if g.get("portal_locale") in languages:  # the supplier portal follows the contact
        return g.portal_locale
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def local_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in the configured time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


def local_date(value: date | None) -> str:
    return value.isoformat() if value else ""


#: A date in prose: 2027年1月4日（月） / Monday, 4 January 2027 (Babel's CLDR patterns).
LONG_DATE = {Locale.ja: "y年M月d日（EEE）", Locale.en: "EEEE, d MMMM y"}
#: A date in a table or a list: 2027/01/04 / 4 Jan 2027.
TABLE_DATE = {Locale.ja: "yyyy/MM/dd", Locale.en: "d MMM y"}


def long_date(value: date | None, locale: str | None = None) -> str:
    """A date as prose writes it, in the given (or current) language."""
    if value is None:
        return ""
    lang = locale or current_locale()
    return format_date(value, LONG_DATE.get(lang, LONG_DATE[Locale.en]), locale=lang)


def table_date(value: date | None, locale: str | None = None) -> str:
    """A date as a table or a list shows it, in the given (or current) language."""
    if value is None:
        return ""
    lang = locale or current_locale()
    return format_date(value, TABLE_DATE.get(lang, TABLE_DATE[Locale.en]), locale=lang)


def yen(value: int | None) -> str:
    if value is None:
        return ""
    return f"¥{format_decimal(value, format='#,##0')}"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters.update(
        label=label,
        localdt=local_datetime,
        localdate=local_date,
        longdate=long_date,
        tabledate=table_date,
        yen=yen,
        field_label=field_label,
        object_label=object_label,
        audit_value=audit_value,
        audit_filled=audit_filled,
        risk_reason=risk_reason,
        tier_name=tier_name,
        level_name=level_name,
        level_abbreviation=level_abbreviation,
        level_short=level_short,
        label_of=label_of,
        action_label=action_label,
    )
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LABELS[Locale],
        current_locale=current_locale,
        answer_label=answer_label,
        tier_name=tier_name,
        level_name=level_name,
        localized_name=localized_name,
    )


def current_locale() -> str:
    return str(get_locale() or Locale.ja)
