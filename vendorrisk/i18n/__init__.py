"""Japanese and English: locale choice, time zone, and translated labels for enum values."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_decimal, get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField

from vendorrisk.extensions import babel
from vendorrisk.models import (
    AssessmentStatus,
    AttestationKind,
    Criticality,
    Decision,
    FindingStatus,
    Role,
    SecurityActionLevel,
    Severity,
    SupplierCategory,
    SupplierStatus,
    localized_name,
)

LABELS = {
    Role: {
        Role.admin: _l("Administrator"),
        Role.ciso: _l("CISO"),
        Role.procurement: _l("Procurement"),
        Role.reviewer: _l("Reviewer"),
        Role.auditor: _l("Auditor (read-only)"),
    },
    SupplierCategory: {
        SupplierCategory.group_company: _l("Group company"),
        SupplierCategory.business_partner: _l("Business partner"),
        SupplierCategory.outsourcing_contractor: _l("Outsourcing contractor"),
        SupplierCategory.cloud_service: _l("Cloud service"),
        SupplierCategory.other: _l("Other"),
    },
    SupplierStatus: {
        SupplierStatus.onboarding: _l("Onboarding"),
        SupplierStatus.active: lazy_pgettext("supplier status", "Active"),
        SupplierStatus.offboarded: _l("Offboarded"),
    },
    Criticality: {
        Criticality.low: _l("Low"),
        Criticality.medium: _l("Medium"),
        Criticality.high: _l("High"),
        Criticality.critical: _l("Critical"),
    },
    AttestationKind: {
        AttestationKind.security_action: _l("SECURITY ACTION"),
        AttestationKind.isms: _l("ISMS certification (ISO/IEC 27001)"),
        AttestationKind.pmark: _l("Privacy Mark"),
        AttestationKind.ismap: _l("ISMAP"),
        AttestationKind.csms: _l("CSMS certification (IEC 62443)"),
        AttestationKind.soc2: _l("SOC 2 report"),
        AttestationKind.cyber_insurance: _l("Cyber insurance"),
        AttestationKind.other: _l("Other certification"),
    },
    AssessmentStatus: {
        AssessmentStatus.draft: _l("Draft"),
        AssessmentStatus.sent: _l("Sent"),
        AssessmentStatus.in_progress: _l("Being answered"),
        AssessmentStatus.submitted: _l("Submitted"),
        AssessmentStatus.returned: _l("Returned for changes"),
        AssessmentStatus.completed: _l("Completed"),
        AssessmentStatus.cancelled: _l("Cancelled"),
        AssessmentStatus.expired: _l("Expired"),
    },
    Severity: {
        Severity.low: _l("Low"),
        Severity.medium: _l("Medium"),
        Severity.high: _l("High"),
        Severity.critical: _l("Critical"),
    },
    FindingStatus: {
        FindingStatus.open: _l("Open"),
        FindingStatus.in_progress: _l("In progress"),
        FindingStatus.resolved: _l("Resolved"),
        FindingStatus.risk_accepted: _l("Risk accepted"),
    },
    Decision: {
        Decision.approved: _l("Approved"),
        Decision.approved_with_conditions: _l("Approved with conditions"),
        Decision.rejected: _l("Rejected"),
    },
    SecurityActionLevel: {
        SecurityActionLevel.star1: _l("★ one star"),
        SecurityActionLevel.star2: _l("★★ two stars"),
    },
}

ANSWER_TYPES = {
    "yes_partial_no": _l("Yes / partial / no / not applicable"),
    "yes_no": _l("Yes / no"),
    "single_choice": _l("Single choice"),
    "multi_choice": _l("Multiple choice"),
    "text": _l("Text"),
    "number": _l("Number"),
    "date": _l("Date"),
    "file": _l("File"),
}

#: Column name -> translated label, filled from the forms that edit those columns.
FIELD_LABELS: dict[str, object] = {}

OBJECT_LABELS = {
    "suppliers": _l("Supplier"),
    "contacts": _l("Contact"),
    "contracts": _l("Contract"),
    "attestations": _l("Certification or declaration"),
    "users": _l("User"),
    "stored_files": _l("File"),
    "assessments": _l("Assessment"),
    "invitations": _l("Invitation"),
    "answers": _l("Answer"),
    "campaigns": _l("Bulk send"),
    "outbox_messages": _l("Mail"),
    "evidence_requests": _l("Evidence request"),
    "clarifications": _l("Clarification"),
    "clarification_messages": _l("Clarification message"),
    "findings": _l("Finding"),
    "settings": _l("Setting"),
    "self_assessment_cycles": _l("Self-assessment cycle"),
    "self_assessment_items": _l("Self-assessment item"),
    "self_assessment_kpis": _l("Self-assessment KPIs"),
}


def field_labels_from(*form_classes: type) -> None:
    """Reuse the forms' field labels to name changed columns in the audit log."""
    for form_class in form_classes:
        for name, unbound in vars(form_class).items():
            if isinstance(unbound, UnboundField) and unbound.args and name not in FIELD_LABELS:
                FIELD_LABELS[name] = unbound.args[0]


def field_label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


def object_label(table: str) -> str:
    return str(OBJECT_LABELS.get(table, table))


def audit_value(value: object) -> str:
    """A changed value as shown in the audit log."""
    if value is True:
        return "✓"
    if value is False or value is None or value == "":
        return "—"
    return str(value)


def label_of(value: object, field: object) -> str:
    """The label a select field shows for a value."""
    for choice in getattr(field, "choices", None) or ():
        if str(getattr(choice, "value", None)) == str(value):
            return str(choice.label)
    return str(value)


def audit_filled(changes: dict) -> list[tuple[str, object]]:
    """The fields of a created or deleted object that hold something (ids left out)."""
    return [
        (k, v)
        for k, v in changes.items()
        if v not in (None, "", False) and k not in ("id", "supplier_id")
    ]


#: Labels of the fixed answers, by answer type (the guideline's and IPA's wording).
ANSWER_LABELS = {
    "yes_partial_no": {
        "yes": _l("Implemented"),
        "partial": _l("Partly implemented"),
        "no": _l("Not implemented"),
        "na": _l("Not applicable"),
        "unknown": _l("Don't know"),
    },
    "yes_no": {"yes": _l("Yes"), "no": _l("No"), "na": _l("Not applicable")},
}


RISK_REASONS = {
    "personal_info": _l("handles personal information we entrust to it"),
    "confidential_info": _l("our confidential information sits on its systems"),
    "network_access": _l("can reach our internal systems over the network"),
    "admin_access": _l("has administrator access to our systems"),
    "outage_hours": _l("we could bear its stopping for hours only"),
    "outage_days": _l("we could bear its stopping for a few days only"),
    "outage_weeks": _l("we could bear its stopping for a few weeks"),
    "outage_months": _l("we could bear its stopping for months"),
    "hard_to_replace": _l("hard to replace"),
    "moderate_to_replace": _l("replaceable with some effort"),
    "easy_to_replace": _l("easily replaced"),
    "criticality_critical": _l("business criticality: critical"),
    "criticality_high": _l("business criticality: high"),
    "criticality_medium": _l("business criticality: medium"),
    "criticality_low": _l("business criticality: low"),
    "unscored": _l("not yet assessed"),
}
TIER_NAMES = {
    "low": _l("Low"),
    "medium": _l("Medium"),
    "high": _l("High"),
    "critical": _l("Critical"),
}
LEVEL_NAMES = {
    "none": _l("None"),
    "star1": _l("SECURITY ACTION ★"),
    "star2": _l("SECURITY ACTION ★★"),
    "star3": "SCS ★3",
    "star4": "SCS ★4",
    "star5": "SCS ★5",
}


def risk_reason(key: str) -> str:
    """A tier or risk reason key in words."""
    if key in RISK_REASONS:
        return str(RISK_REASONS[key])
    if key.startswith("inherent_"):
        return str(_l("inherent risk %(level)s", level=TIER_NAMES.get(key[9:], key[9:])))
    if key.startswith("score_below_"):
        return str(_l("latest score below %(n)s", n=key[12:]))
    if key.startswith("score_from_"):
        return str(_l("latest score %(n)s or more", n=key[11:]))
    return key


def tier_name(tier: str | None) -> str:
    return str(TIER_NAMES.get(tier or "", "—"))


def level_name(level: str | None) -> str:
    return str(LEVEL_NAMES.get(level or "none", level))


def answer_label(question: object, value: object, locale: str | None = None) -> str:
    """How an answer reads in the current (or given) language."""
    if value is None or value == "":
        return ""
    if isinstance(value, list):
        return ", ".join(answer_label(question, v, locale) for v in value)
    fixed = ANSWER_LABELS.get(question.type)
    if fixed is not None:
        return str(fixed.get(value, value))
    if question.choices:
        return question.choice_label(value, locale or current_locale())
    return str(value)


LANGUAGE_NAMES = {"ja": "日本語", "en": "English"}


def label(value: object) -> str:
    """The translated label of an enum value."""
    table = LABELS.get(type(value))
    return str(table[value]) if table and value in table else str(value)


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs (options given as such pass through)."""
    return [p if isinstance(p, SelectChoice) else SelectChoice(*p) for p in pairs]


def choices(enum_cls: type) -> list[SelectChoice]:
    """Select options for every member of an enum, with translated labels."""
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
        yen=yen,
        field_label=field_label,
        object_label=object_label,
        audit_value=audit_value,
        audit_filled=audit_filled,
        risk_reason=risk_reason,
        tier_name=tier_name,
        level_name=level_name,
        label_of=label_of,
    )
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        current_locale=current_locale,
        answer_types=ANSWER_TYPES,
        answer_label=answer_label,
        ANSWER_LABELS=ANSWER_LABELS,
        tier_name=tier_name,
        level_name=level_name,
        localized_name=localized_name,
    )


def current_locale() -> str:
    return str(get_locale() or "ja")
