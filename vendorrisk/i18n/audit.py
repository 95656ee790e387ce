"""The audit log's words: changed fields named by the forms that edit them, objects by table."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.fields.core import UnboundField

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
