"""The audit log in words: changed fields by their labels, values by their labels, users by name.

The log stores plain values (column names, enum values, user ids, ISO timestamps, JSON); staff read
it in their language. A field is named by the form that edits it, or by the table below when no
form does; a value goes through its enum's label, a user id becomes the user's name, a timestamp
the local time to the minute, and a dict (a score's detail, a snapshot) a one-line summary with
the rest folded under <details>: never a dump.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask_babel import format_decimal, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms.fields.core import UnboundField

from vendorrisk.i18n.labels import (
    ITEM_STATUS_LABELS,
    LABELS,
    OFFBOARDING_STEP_LABELS,
    OUTBOX_STATUS_LABELS,
    direction_title,
)
from vendorrisk.models import (
    AssessmentStatus,
    AttestationKind,
    Criticality,
    Decision,
    FindingStatus,
    OffboardingReason,
    Role,
    ScsEvaluation,
    SecurityActionLevel,
    Severity,
    SupplierCategory,
    SupplierStatus,
)
from vendorrisk.vocab import Level, Locale, Outage, Replaceability, Tier

#: Column name -> translated label, filled from the forms that edit those columns.
FIELD_LABELS: dict[str, object] = {}

#: Columns no form edits (set by the review, the rules, the jobs): their labels.
COLUMN_LABELS: dict[str, object] = {
    "tier": _l("Risk tier"),
    "tier_source": _l("Risk tier set by"),
    "reported_by_parent": _l("Reported by its parent"),
    "chain_reviewed_at": _l("Reviewed by procurement at"),
    "reported_in_assessment_id": _l("Reported in the assessment"),
    "subcontractors_new": _l("Subcontractors recorded"),
    "subcontractors_matched": _l("Subcontractors matched"),
    "subcontractors_unlinked": _l("Subcontractors left unlinked"),
    "severity": _l("Severity"),
    "decision": _l("Decision"),
    "score": _l("Score"),
    "score_detail": _l("Score details"),
    "latest_score": _l("Latest score"),
    "latest_score_on": _l("Latest score on"),
    "due_on": _l("Due date"),
    "sent_at": _l("Sent at"),
    "submitted_at": _l("Submitted at"),
    "completed_at": _l("Completed at"),
    "cancelled_at": _l("Cancelled at"),
    "returned_at": _l("Returned at"),
    "resolved_at": _l("Resolved at"),
    "closed_at": _l("Closed at"),
    "review_note": _l("Review note"),
    "reviewer_id": _l("Reviewer"),
    "created_by_id": _l("Created by"),
    "closed_by_id": _l("Closed by"),
    "updated_by_id": _l("Changed by"),
    "accepted_by_id": _l("Risk accepted by"),
    "accepted_reason": _l("Reason for accepting the risk"),
    "accepted_until": _l("Accepted until"),
    "required_action": _l("Required action"),
    "supplier_plan": _l("Supplier's remediation plan"),
    "supplier_plan_at": _l("Remediation plan received at"),
    "visible_to_supplier": _l("Shown to the supplier"),
    "question_id": _l("Question"),
    "template_id": _l("Questionnaire"),
    "template_version": _l("Questionnaire version"),
    "d9_snapshot": _l("Direction 9 snapshot"),
    "open_flag": _l("Open"),
    "comment": _l("Comment"),
    "reason": _l("Reason"),
    "password_hash": _l("Password"),
    "must_change_password": _l("Must change the password at the next login"),
    "password_expires_at": _l("One-time password expires at"),
    "mfa_secret": _l("Second factor secret"),
    "mfa_enabled_at": _l("Second factor turned on at"),
    "mfa_last_step": _l("Last second-factor code used"),
    "mfa_failures": _l("Failed second-factor codes"),
    "mfa_locked_until": _l("Second factor locked until"),
    "last_login_at": _l("Last login"),
    "auth_source": _l("Signs in with"),
    "oidc_issuer": _l("Single sign-on provider"),
    "oidc_subject": _l("Identifier at the single sign-on provider"),
    "undeliverable_at": _l("Mail undeliverable since"),
    "carried_over": _l("Carried over"),
    "carried_over_from_id": _l("Carried over from"),
    "reopened": _l("Returned for changes"),
    "cover_id": _l("Answered by a certificate or check sheet"),
    "contact_id": _l("Contact"),
    "campaign_id": _l("Bulk send"),
    "assessment_id": _l("Assessment"),
    "version": _l("Version"),
    "message": _l("Message"),
    "method": _l("Method"),
    "path": _l("Address"),
    "endpoint": _l("Page"),
    "started_by_id": _l("Started by"),
    "started_at": _l("Started at"),
    "exception_reason": _l("Reason for the exception"),
    "exception_by_id": _l("Exception approved by"),
    "exception_at": _l("Exception approved at"),
    "done_by_id": _l("Done by"),
    "done_at": _l("Done at"),
    "requested_by_id": _l("Requested by"),
    "fulfilled_at": _l("Received at"),
    "stored_file_id": _l("File"),
    "offboarding_id": _l("Offboarding"),
}
#: One column name that means different things in different tables: (table, column) -> label.
TABLE_COLUMN_LABELS: dict[tuple[str, str], object] = {
    ("findings", "title"): _l("Finding"),
    ("findings", "owner_id"): _l("Owner"),
    ("findings", "status"): lazy_pgettext("finding", "Status"),
    ("suppliers", "name_ja"): _l("Name (Japanese)"),
    ("answers", "value"): _l("Answer"),
    ("self_assessment_kpis", "value"): _l("Value"),
    ("self_assessment_cycles", "name"): _l("Cycle"),
    ("offboardings", "reason"): _l("Why the supplier leaves"),
    ("offboarding_steps", "key"): _l("Step"),
}

#: Columns holding a user id: shown as the user's name.
USER_COLUMNS = frozenset(
    {
        "user_id",
        "owner_id",
        "reviewer_id",
        "created_by_id",
        "closed_by_id",
        "updated_by_id",
        "accepted_by_id",
        "uploaded_by_id",
        "changed_by_id",
        "reviewed_by_id",
        "started_by_id",
        "exception_by_id",
        "done_by_id",
        "requested_by_id",
    }
)
#: Columns holding a supplier id, by table: shown as the supplier's name.
SUPPLIER_COLUMNS = frozenset({("suppliers", "parent_id")})
#: Where a column holds an enum value: (table, column) or ("", column) for every table.
VALUE_LABELS: dict[tuple[str, str], dict] = {
    ("suppliers", "status"): LABELS[SupplierStatus],
    ("assessments", "status"): LABELS[AssessmentStatus],
    ("findings", "status"): LABELS[FindingStatus],
    ("self_assessment_items", "status"): ITEM_STATUS_LABELS,
    ("outbox_messages", "status"): OUTBOX_STATUS_LABELS,
    ("offboardings", "reason"): LABELS[OffboardingReason],
    ("offboarding_steps", "key"): {key: words[0] for key, words in OFFBOARDING_STEP_LABELS.items()},
    ("attestations", "level"): LABELS[SecurityActionLevel],
    ("", "tier"): LABELS[Tier],
    ("", "severity"): LABELS[Severity],
    ("", "criticality"): LABELS[Criticality],
    ("", "category"): LABELS[SupplierCategory],
    ("", "decision"): LABELS[Decision],
    ("", "kind"): LABELS[AttestationKind],
    ("", "role"): LABELS[Role],
    ("", "locale"): LABELS[Locale],
    ("", "max_outage"): LABELS[Outage],
    ("", "replaceability"): LABELS[Replaceability],
    ("", "scs_level"): LABELS[Level],
    ("", "required_level_raised"): LABELS[Level],
    ("", "required_scs_level"): LABELS[Level],
    ("", "evaluation"): LABELS[ScsEvaluation],
    ("", "tier_source"): {"rule": _l("by the rules"), "manual": _l("set by hand")},
    ("", "auth_source"): {"password": _l("a password"), "oidc": _l("single sign-on")},
}

#: What an audit event's action means, by its name in the log.
ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Logged in"),
    "logout": _l("Logged out"),
    "login_failed": _l("Failed login"),
    "login_throttled": _l("Login delayed after failures"),
    "login_unlocked": _l("Logins unlocked"),
    "login_expired_password": _l("Expired one-time password"),
    "sso_failed": _l("Single sign-on failed"),
    "sso_refused": _l("Single sign-on refused"),
    "sso_deactivated": _l("Deactivated: no longer in a mapped group"),
    "sso_linked": _l("Account linked to single sign-on"),
    "password_reset_requested": _l("Password reset asked for"),
    "password_reset": _l("Password set by reset link"),
    "portal_opened": _l("Opened the questionnaire"),
    "submitted": _l("Submitted"),
    "mail_bounced": _l("Mail bounced"),
    "mail_retried": _l("Mail sent again"),
    "access_denied": _l("Access refused"),
    "csrf_refused": _l("Form refused (expired or sent from another site)"),
    "rate_limited": _l("Rate limit reached"),
    "input_refused": _l("Input refused"),
    "contact_delegated": _l("Colleague added by the supplier"),
    "evidence_received": _l("Renewed evidence received"),
    "proposal_accepted": _l("Proposed change accepted"),
    "proposal_rejected": _l("Proposed change rejected"),
    "proposal_superseded": _l("Proposed change superseded by a newer statement"),
    "cover_attached": _l("Attached as answers"),
    "cover_accepted": _l("Certificate or check sheet accepted"),
    "cover_rejected": _l("Certificate or check sheet rejected"),
    "template_text_imported": _l("Official guideline text imported into a questionnaire"),
    "portal_finished": _l("Finished for now in the questionnaire"),
    "portal_link_renewed": _l("New questionnaire link sent"),
    "portal_open_refused": _l("Questionnaire link refused"),
    "backup": _l("Backup made"),
    "restore": _l("Backup restored"),
    "export": _l("Exported"),
    "files_swept": _l("Unused files removed"),
    "recovery_code_used": _l("Recovery code used"),
    "second_factor_enabled": _l("Second factor turned on"),
    "second_factor_disabled": _l("Second factor turned off"),
    "second_factor_failed": _l("Wrong second-factor code"),
    "second_factor_refused": _l("Second factor refused"),
    "second_factor_reset": _l("Second factor reset"),
    "second_factor_throttled": _l("Second factor delayed after failures"),
    "session_ended": _l("Session ended"),
    "sessions_ended": _l("Other sessions ended"),
    "subcontractors_recorded": _l("Subcontractors recorded from the answers"),
    "offboarding_started": _l("Offboarding started"),
    "offboarding_step_done": _l("Offboarding step done"),
    "offboarding_links_revoked": _l("Open links revoked for offboarding"),
    "erasure_certificate_requested": _l("Erasure certificate requested"),
    "erasure_certificate_received": _l("Erasure certificate received"),
    "offboarding_completed": _l("Offboarding completed"),
    "offboarding_exception": _l("Offboarded by an approved exception"),
    "offboarding_cancelled": _l("Offboarding stopped"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


OBJECT_LABELS = {
    "attestation_proposals": _l("Proposed register change"),
    "covers": _l("Certificate or check sheet given as answers"),
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
    "offboardings": _l("Offboarding"),
    "offboarding_steps": _l("Offboarding step"),
    "erasure_requests": _l("Erasure certificate request"),
    "clarifications": _l("Clarification"),
    "clarification_messages": _l("Clarification message"),
    "findings": _l("Finding"),
    "settings": _l("Setting"),
    "self_assessment_cycles": _l("Self-assessment cycle"),
    "self_assessment_items": _l("Self-assessment item"),
    "self_assessment_kpis": _l("Self-assessment KPIs"),
}

#: A timestamp or a date as the log stores it (datetime.isoformat()).
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def field_labels_from(*form_classes: type) -> None:
    """Reuse the forms' field labels to name changed columns in the audit log."""
    for form_class in form_classes:
        for name, unbound in vars(form_class).items():
            if isinstance(unbound, UnboundField) and unbound.args and name not in FIELD_LABELS:
                FIELD_LABELS[name] = unbound.args[0]


def field_label(key: str, table: str = "") -> str:
    """A changed column by its label: the table's own word, a form's label, or the column table."""
    found = TABLE_COLUMN_LABELS.get((table, key)) or FIELD_LABELS.get(key) or COLUMN_LABELS.get(key)
    return str(found or key)


def object_label(table: str) -> str:
    return str(OBJECT_LABELS.get(table, table))


def audit_value(value: object, key: str = "", table: str = "") -> str:
    """A stored value as staff read it: labels, user names, local time, folded details."""
    if value is True:
        return "✓"
    if value is False or value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return audit_time(value)
    if isinstance(value, date):
        return _table_date(value)
    if key in USER_COLUMNS and isinstance(value, int):
        return user_name(value)
    if (table, key) in SUPPLIER_COLUMNS and isinstance(value, int):
        return supplier_name(value)
    if isinstance(value, dict | list):
        return folded(value)
    labels = VALUE_LABELS.get((table, key)) or VALUE_LABELS.get(("", key))
    if labels and value in labels:
        return str(labels[value])
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        return audit_time(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if isinstance(value, str) and _ISO_DATE.match(value):
        return _table_date(date.fromisoformat(value))
    return str(value)


def audit_time(value: datetime) -> str:
    """A moment in the configured zone, to the minute: 2027/01/04 10:30 (ja), 4 Jan 2027 10:30."""
    if value.tzinfo is None:  # stored in UTC
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    local = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return f"{_table_date(local.date())} {local:%H:%M}"


def user_name(user_id: int) -> str:
    """A user's name; the names of every account come in one query per request."""
    names = _user_names()
    return names.get(user_id) or _("user #%(id)s", id=user_id)


def supplier_name(supplier_id: int) -> str:
    """A supplier's name in the reader's language; each one looked up once per request."""
    from vendorrisk.extensions import db
    from vendorrisk.i18n import current_locale
    from vendorrisk.models import Supplier, localized_name

    names = g.setdefault("audit_supplier_names", {}) if has_app_context() else {}
    if supplier_id not in names:
        row = db.session.execute(
            sa.select(Supplier.name_ja, Supplier.name_en).where(Supplier.id == supplier_id)
        ).first()
        names[supplier_id] = localized_name(*row, current_locale()) if row else None
    return names[supplier_id] or _("supplier #%(id)s", id=supplier_id)


def _user_names() -> dict[int, str]:
    # Staff accounts are few: one query for all of them costs less than one per event, and a
    # page of events (or a supplier's whole history) then needs no other.
    if has_app_context() and "audit_user_names" in g:
        return g.audit_user_names
    from vendorrisk.extensions import db
    from vendorrisk.models import User

    names = dict(db.session.execute(sa.select(User.id, User.name)).all())
    if has_app_context():
        g.audit_user_names = names
    return names


def folded(value: dict | list) -> Markup:
    """A dict or list: a one-line summary, and its content folded under <details>."""
    summary = _summary(value)
    return Markup("<details class='audit-details'><summary>{}</summary>{}</details>").format(
        summary, _tree(value, depth=0)
    )


def _summary(value: dict | list) -> str:
    if isinstance(value, dict) and "overall" in value:
        score = value["overall"]
        return _("score %(score)s", score=_number(score)) + " " + _("(details)")
    return _("%(n)d values", n=len(value)) + " " + _("(details)")


def _tree(value: Any, depth: int) -> Markup:
    """Nested lists of labelled values, three levels at most (deeper ones on one line)."""
    if isinstance(value, dict) and "directives" in value and "overall" in value:
        value = _score_lines(value)
    if not isinstance(value, dict | list):
        return escape(audit_value(value))
    if depth >= 2:
        return escape(", ".join(audit_value(v) for v in _leaves(value)))
    items = value.items() if isinstance(value, dict) else enumerate(value, start=1)
    return Markup("<ul>{}</ul>").format(
        Markup("").join(
            Markup("<li>{}: {}</li>").format(
                field_label(str(k)) if isinstance(k, str) else k, _tree(v, depth + 1)
            )
            for k, v in items
        )
    )


def _score_lines(detail: dict) -> dict:
    """A score's detail as a person reads it: overall, the cap, then each direction's score."""
    lines: dict[str, object] = {str(_("Overall score")): detail.get("overall")}
    if detail.get("capped"):
        lines[str(_("Capped at"))] = detail.get("cap")
    for row in detail.get("directives") or ():
        lines[direction_title(row.get("directive"))] = row.get("score")
    return lines


def _leaves(value: Any) -> list:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _number(value: float) -> str:
    """A float as a count (no decimals) when whole, else to one decimal."""
    return format_decimal(value, format="#,##0" if float(value).is_integer() else "#,##0.0")


def _table_date(value: date) -> str:
    from vendorrisk.i18n import table_date  # the package imports this module

    return table_date(value)


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
