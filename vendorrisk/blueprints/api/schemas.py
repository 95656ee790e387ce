"""What the API takes and gives, as marshmallow schemas (the OpenAPI document is made from them).

Input schemas check types only; the register's rules (check digits, uniqueness, the chain) are
the forms' (blueprints/api/forms.py), so the API and the pages refuse the same things.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from vendorrisk.models import (
    AssessmentStatus,
    AttestationKind,
    Criticality,
    FindingStatus,
    ScsEvaluation,
    SecurityActionLevel,
    Severity,
    SupplierCategory,
    SupplierStatus,
)
from vendorrisk.vocab import SCS_LEVELS, Locale, Outage, Replaceability, Tier

#: The largest id a row can have (a 32-bit integer column on PostgreSQL).
MAX_ID = 2**31 - 1


def _one_of(enum_cls) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum_cls])


def _enum(enum_cls, **kwargs) -> fields.String:
    return fields.String(validate=_one_of(enum_cls), **kwargs)


class ProblemError(ma.Schema):
    pointer = fields.String(metadata={"description": "JSON Pointer into the request body"})
    parameter = fields.String(metadata={"description": "The query parameter at fault"})
    detail = fields.String(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.List(fields.Nested(ProblemError))


class ListQuery(ma.Schema):
    limit = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=200),
        metadata={"description": "Items per page (default API_PAGE_SIZE, at most 200)."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=100),
        metadata={"description": "The `next_cursor` of the previous page."},
    )


class SupplierQuery(ListQuery):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "Part of the name (Japanese or English) or corporate number."},
    )
    tier = _enum(Tier, load_default="")
    status = _enum(SupplierStatus, load_default="")
    category = _enum(SupplierCategory, load_default="")
    criticality = _enum(Criticality, load_default="")
    updated_since = fields.AwareDateTime(
        load_default=None,
        metadata={"description": "Only suppliers changed at or after this moment (ISO 8601)."},
    )


class Supplier(ma.Schema):
    id = fields.Integer(required=True)
    name_ja = fields.String(required=True)
    name_en = fields.String(required=True)
    corporate_number = fields.String(required=True, allow_none=True)
    category = fields.String(required=True)
    status = fields.String(required=True)
    criticality = fields.String(required=True)
    tier = fields.String(required=True, allow_none=True)
    latest_score = fields.Float(required=True, allow_none=True)
    latest_score_on = fields.Date(required=True, allow_none=True)
    next_review_on = fields.Date(required=True, allow_none=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    #: The code of the business unit (部門) that owns it; null: the whole company's.
    unit = fields.Function(
        lambda s: s.unit.code if s.unit else None, required=True, allow_none=True
    )
    services = fields.String(required=True)
    country = fields.String(required=True)
    website = fields.String(required=True)
    shares_personal_info = fields.Boolean(required=True)
    shares_confidential_info = fields.Boolean(required=True)
    has_network_access = fields.Boolean(required=True)
    has_admin_access = fields.Boolean(required=True)
    max_outage = fields.String(required=True)
    replaceability = fields.String(required=True)
    notes = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class SupplierPage(ma.Schema):
    items = fields.List(fields.Nested(Supplier), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class SupplierChanges(ma.Schema):
    """A supplier's fields as written; any left out keep their value (their default when new)."""

    class Meta:
        unknown = ma.RAISE

    name_ja = fields.String(validate=validate.Length(max=200))
    name_en = fields.String(validate=validate.Length(max=200))
    corporate_number = fields.String(allow_none=True, validate=validate.Length(max=20))
    category = _enum(SupplierCategory)
    status = _enum(SupplierStatus)
    criticality = _enum(Criticality)
    owner_id = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    parent_id = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    #: A business unit's code (one of the caller's units); null: the whole company's.
    unit = fields.String(allow_none=True, validate=validate.Length(max=40))
    subcontracting_approved_on = fields.Date(allow_none=True)
    services = fields.String(validate=validate.Length(max=5000))
    country = fields.String(validate=validate.Length(max=2))
    website = fields.String(validate=validate.Length(max=300))
    shares_personal_info = fields.Boolean()
    shares_confidential_info = fields.Boolean()
    has_network_access = fields.Boolean()
    has_admin_access = fields.Boolean()
    max_outage = _enum(Outage)
    replaceability = _enum(Replaceability)
    notes = fields.String(validate=validate.Length(max=10000))
    next_review_on = fields.Date(allow_none=True)


class NewSupplier(SupplierChanges):
    name_ja = fields.String(required=True, validate=validate.Length(max=200))
    category = _enum(SupplierCategory, required=True)


class UpsertSupplier(NewSupplier):
    """The supplier as the purchasing system knows it; the corporate number is in the path."""


class Contact(ma.Schema):
    id = fields.Integer(required=True)
    supplier_id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)
    department = fields.String(required=True)
    job_title = fields.String(required=True)
    locale = fields.String(required=True)
    is_primary = fields.Boolean(required=True)


class NewContact(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = fields.String(required=True, validate=validate.Length(max=200))
    email = fields.String(required=True, validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(max=40))
    department = fields.String(validate=validate.Length(max=200))
    job_title = fields.String(validate=validate.Length(max=200))
    locale = _enum(Locale)
    is_primary = fields.Boolean()


class ContactChanges(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = fields.String(validate=validate.Length(max=200))
    email = fields.String(validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(max=40))
    department = fields.String(validate=validate.Length(max=200))
    job_title = fields.String(validate=validate.Length(max=200))
    locale = _enum(Locale)
    is_primary = fields.Boolean()


CLAUSES = (
    "clause_security_requirements",
    "clause_incident_notification",
    "clause_audit_rights",
    "clause_subcontracting_approval",
    "clause_data_return_deletion",
    "clause_policy_compliance",
    "clause_cyber_insurance",
)
SCS_LEVEL_VALUES = [level.value for level in SCS_LEVELS]


class Contract(ma.Schema):
    id = fields.Integer(required=True)
    supplier_id = fields.Integer(required=True)
    title = fields.String(required=True)
    reference = fields.String(required=True)
    starts_on = fields.Date(required=True, allow_none=True)
    ends_on = fields.Date(required=True, allow_none=True)
    incident_notification_hours = fields.Integer(required=True, allow_none=True)
    required_scs_level = fields.String(required=True, allow_none=True)
    required_scs_by = fields.Date(required=True, allow_none=True)
    notes = fields.String(required=True)
    clause_security_requirements = fields.Boolean(required=True)
    clause_incident_notification = fields.Boolean(required=True)
    clause_audit_rights = fields.Boolean(required=True)
    clause_subcontracting_approval = fields.Boolean(required=True)
    clause_data_return_deletion = fields.Boolean(required=True)
    clause_policy_compliance = fields.Boolean(required=True)
    clause_cyber_insurance = fields.Boolean(required=True)


class ContractChanges(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    title = fields.String(validate=validate.Length(max=200))
    reference = fields.String(validate=validate.Length(max=100))
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    incident_notification_hours = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(min=1, max=8760)
    )
    required_scs_level = fields.String(allow_none=True, validate=validate.OneOf(SCS_LEVEL_VALUES))
    required_scs_by = fields.Date(allow_none=True)
    notes = fields.String(validate=validate.Length(max=10000))
    clause_security_requirements = fields.Boolean()
    clause_incident_notification = fields.Boolean()
    clause_audit_rights = fields.Boolean()
    clause_subcontracting_approval = fields.Boolean()
    clause_data_return_deletion = fields.Boolean()
    clause_policy_compliance = fields.Boolean()
    clause_cyber_insurance = fields.Boolean()


class NewContract(ContractChanges):
    title = fields.String(required=True, validate=validate.Length(max=200))


class Attestation(ma.Schema):
    id = fields.Integer(required=True)
    supplier_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    level = fields.String(required=True, allow_none=True)
    scs_level = fields.String(required=True, allow_none=True)
    evaluation = fields.String(required=True, allow_none=True)
    ledger_ref = fields.String(required=True)
    covers_service = fields.Boolean(required=True)
    name = fields.String(required=True)
    identifier = fields.String(required=True)
    issuer = fields.String(required=True)
    scope = fields.String(required=True)
    issued_on = fields.Date(required=True, allow_none=True)
    expires_on = fields.Date(required=True, allow_none=True)
    coverage_limit_jpy = fields.Integer(required=True, allow_none=True)
    notes = fields.String(required=True)


class AttestationChanges(ma.Schema):
    """A certification's fields; which ones a kind needs is the register's rule (422 if not)."""

    class Meta:
        unknown = ma.RAISE

    level = fields.String(allow_none=True, validate=_one_of(SecurityActionLevel))
    scs_level = fields.String(allow_none=True, validate=validate.OneOf(SCS_LEVEL_VALUES))
    evaluation = fields.String(allow_none=True, validate=_one_of(ScsEvaluation))
    ledger_ref = fields.String(validate=validate.Length(max=300))
    covers_service = fields.Boolean()
    name = fields.String(validate=validate.Length(max=200))
    identifier = fields.String(validate=validate.Length(max=100))
    issuer = fields.String(validate=validate.Length(max=200))
    scope = fields.String(validate=validate.Length(max=5000))
    issued_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    coverage_limit_jpy = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(min=1, max=10**15)
    )
    notes = fields.String(validate=validate.Length(max=10000))


class NewAttestation(AttestationChanges):
    kind = _enum(AttestationKind, required=True)


class SendQuestionnaire(ma.Schema):
    """Send a questionnaire to some of the supplier's contacts (each in their language)."""

    class Meta:
        unknown = ma.RAISE

    template_id = fields.String(required=True, validate=validate.Length(max=100))
    due_on = fields.Date(required=True)
    contact_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=100),
    )
    message = fields.String(load_default="", validate=validate.Length(max=5000))


class AssessmentQuery(ListQuery):
    supplier_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = _enum(AssessmentStatus, load_default="")


class Assessment(ma.Schema):
    id = fields.Integer(required=True)
    supplier_id = fields.Integer(required=True, allow_none=True)
    template_id = fields.String(required=True)
    template_version = fields.Integer(required=True)
    status = fields.String(required=True)
    due_on = fields.Date(required=True)
    sent_at = fields.AwareDateTime(required=True, allow_none=True)
    submitted_at = fields.AwareDateTime(required=True, allow_none=True)
    completed_at = fields.AwareDateTime(required=True, allow_none=True)
    decision = fields.String(required=True, allow_none=True)
    score = fields.Float(required=True, allow_none=True)
    score_detail = fields.Dict(required=True, allow_none=True)


class AssessmentPage(ma.Schema):
    items = fields.List(fields.Nested(Assessment), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class FindingQuery(ListQuery):
    supplier_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    status = _enum(FindingStatus, load_default="")
    severity = _enum(Severity, load_default="")


class Finding(ma.Schema):
    id = fields.Integer(required=True)
    supplier_id = fields.Integer(required=True)
    assessment_id = fields.Integer(required=True, allow_none=True)
    question_id = fields.String(required=True, allow_none=True)
    title = fields.String(required=True)
    severity = fields.String(required=True)
    required_action = fields.String(required=True)
    due_on = fields.Date(required=True, allow_none=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True)
    resolved_at = fields.AwareDateTime(required=True, allow_none=True)
    accepted_until = fields.Date(required=True, allow_none=True)


class FindingPage(ma.Schema):
    items = fields.List(fields.Nested(Finding), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class TierCount(ma.Schema):
    tier = fields.String(required=True, metadata={"description": 'A tier, or "none".'})
    suppliers = fields.Integer(required=True)


class TierCategoryCount(ma.Schema):
    category = fields.String(required=True)
    suppliers = fields.Integer(required=True)


class TierRow(ma.Schema):
    tier = fields.String(required=True, metadata={"description": 'A tier, or "none".'})
    suppliers = fields.Integer(required=True)
    by_category = fields.List(fields.Nested(TierCategoryCount), required=True)
    recheck_months = fields.Integer(required=True, allow_none=True)
    questionnaire = fields.String(required=True, allow_none=True)


class Figures(ma.Schema):
    """The roll-up's headline figures over the live suppliers (services/reporting/rollup)."""

    today = fields.Date(required=True)
    suppliers = fields.Integer(required=True)
    tiers = fields.List(fields.Nested(TierCount), required=True)
    scored = fields.Integer(required=True)
    average_score = fields.Float(required=True, allow_none=True)
    overdue_assessments = fields.Integer(required=True)
    overdue_rechecks = fields.Integer(required=True)
    open_findings = fields.Integer(required=True)
