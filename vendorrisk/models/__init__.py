"""The data model: one module per aggregate."""

from vendorrisk.models.api_token import ApiToken, TokenKind, TokenScope
from vendorrisk.models.assessment import (
    OPEN_STATUSES,
    Answer,
    Assessment,
    AssessmentStatus,
    Campaign,
    Invitation,
    PortalSitting,
    answer_files,
)
from vendorrisk.models.attestation import (
    Attestation,
    AttestationKind,
    ScsEvaluation,
    SecurityActionLevel,
)
from vendorrisk.models.audit import AuditEvent
from vendorrisk.models.contract import CONTRACT_CLAUSES, Contract
from vendorrisk.models.cover import Cover, CoverStatus
from vendorrisk.models.data_version import DataVersion
from vendorrisk.models.evidence_request import EvidenceRequest
from vendorrisk.models.idempotency_key import IdempotencyKey
from vendorrisk.models.job_run import JobRun
from vendorrisk.models.login_throttle import LoginThrottle, ThrottleScope
from vendorrisk.models.offboarding import STEPS as OFFBOARDING_STEPS
from vendorrisk.models.offboarding import (
    ErasureRequest,
    Offboarding,
    OffboardingReason,
    OffboardingStep,
)
from vendorrisk.models.outbox import OutboxMessage, OutboxStatus
from vendorrisk.models.password_reset import PasswordReset
from vendorrisk.models.proposal import AttestationProposal
from vendorrisk.models.review import (
    OPEN_FINDING_STATUSES,
    Clarification,
    ClarificationMessage,
    Decision,
    Finding,
    FindingStatus,
    RequiredLevelChange,
    Severity,
    TierChange,
)
from vendorrisk.models.rollup import AREA_COLUMNS, AreaScore, RollupSnapshot
from vendorrisk.models.selfassessment import (
    SETTLED_STATUSES,
    ItemStatus,
    SelfAssessmentCycle,
    SelfAssessmentItem,
    SelfAssessmentKpi,
)
from vendorrisk.models.setting import Setting
from vendorrisk.models.stored_file import StoredFile
from vendorrisk.models.supplier import (
    SHARING_FLAGS,
    Contact,
    Criticality,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    localized_name,
)
from vendorrisk.models.unit import BusinessUnit, UnitMembership
from vendorrisk.models.user import AuthSource, RecoveryCode, Role, User, UserSession
from vendorrisk.models.webhook import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookFormat,
    WebhookSubscription,
)

__all__ = [
    "BusinessUnit",
    "UnitMembership",
    "ApiToken",
    "TokenKind",
    "TokenScope",
    "ErasureRequest",
    "OFFBOARDING_STEPS",
    "Offboarding",
    "OffboardingReason",
    "OffboardingStep",
    "AttestationProposal",
    "OPEN_FINDING_STATUSES",
    "SETTLED_STATUSES",
    "localized_name",
    "ItemStatus",
    "SelfAssessmentCycle",
    "SelfAssessmentItem",
    "SelfAssessmentKpi",
    "AREA_COLUMNS",
    "AreaScore",
    "RollupSnapshot",
    "JobRun",
    "LoginThrottle",
    "PasswordReset",
    "ThrottleScope",
    "Clarification",
    "ClarificationMessage",
    "Decision",
    "EvidenceRequest",
    "IdempotencyKey",
    "Finding",
    "FindingStatus",
    "Setting",
    "Severity",
    "RequiredLevelChange",
    "TierChange",
    "OPEN_STATUSES",
    "Answer",
    "Assessment",
    "AssessmentStatus",
    "Campaign",
    "Invitation",
    "OutboxMessage",
    "OutboxStatus",
    "PortalSitting",
    "answer_files",
    "CONTRACT_CLAUSES",
    "SHARING_FLAGS",
    "Attestation",
    "AttestationKind",
    "AuditEvent",
    "Contact",
    "Contract",
    "Cover",
    "CoverStatus",
    "DataVersion",
    "Criticality",
    "RecoveryCode",
    "Role",
    "AuthSource",
    "ScsEvaluation",
    "SecurityActionLevel",
    "StoredFile",
    "Supplier",
    "SupplierCategory",
    "SupplierStatus",
    "User",
    "UserSession",
    "DeliveryStatus",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookFormat",
    "WebhookSubscription",
]
