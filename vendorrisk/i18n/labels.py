"""Every label table in one place: the words shown for stored values and keys.

Enum members are looked up through LABELS (by enum type); keys that are not enum members (risk
reasons, contract clauses, roll-up rows) have a table each. The msgids are the ones translated in
vendorrisk/translations: change a word here and in the catalogue together.
"""

from __future__ import annotations

from flask_babel import get_locale, gettext, lazy_pgettext
from flask_babel import lazy_gettext as _l

from vendorrisk.models import (
    AssessmentStatus,
    AttestationKind,
    Criticality,
    Decision,
    FindingStatus,
    ItemStatus,
    OffboardingReason,
    OutboxStatus,
    Role,
    ScsEvaluation,
    SecurityActionLevel,
    Severity,
    SupplierCategory,
    SupplierStatus,
)
from vendorrisk.vocab import Level, Locale, Outage, Replaceability, Tier

#: The risk tier's words (リスク区分: 最重要 / 高 / 中 / 低); 最重要 is the tier's word only.
_SCALE = {
    Tier.low: _l("Low"),
    Tier.medium: _l("Medium"),
    Tier.high: _l("High"),
    Tier.critical: _l("Critical"),
}
#: A finding's severity (深刻度: 重大 / 高 / 中 / 低): its own word for critical, not the tier's.
_SEVERITY = {
    Severity.low: _l("Low"),
    Severity.medium: _l("Medium"),
    Severity.high: _l("High"),
    Severity.critical: lazy_pgettext("finding severity", "Critical"),
}
#: The ten directions as staff pages name them (roll-up, report, dashboard, self-assessment):
#: the guideline's direction in a few internal words. The supplier questionnaire keeps its own
#: section titles, written to the supplier (貴社の…).
DIRECTION_TITLES = {
    1: _l("Direction 1: risk awareness and company-wide policy"),
    2: _l("Direction 2: risk management structure"),
    3: _l("Direction 3: budget and people for security"),
    4: _l("Direction 4: risk identification and treatment plans"),
    5: _l("Direction 5: protection and detection"),
    6: _l("Direction 6: the PDCA cycle"),
    7: _l("Direction 7: incident response"),
    8: _l("Direction 8: recovery"),
    9: _l("Direction 9: security across the supply chain"),
    10: _l("Direction 10: information sharing"),
}

#: Enum type -> member -> label; `label()` and `choices()` read it.
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
        SupplierStatus.offboarding: lazy_pgettext("supplier status", "Offboarding"),
        SupplierStatus.offboarded: _l("Offboarded"),
    },
    OffboardingReason: {
        OffboardingReason.contract_ended: _l("The contract ended"),
        OffboardingReason.retired: _l("The supplier is retired"),
    },
    #: Business criticality (事業上の重要度) is an input to the tier on the tier's own scale.
    Criticality: {member: _SCALE[member.value] for member in Criticality},
    AttestationKind: {
        AttestationKind.security_action: _l("SECURITY ACTION"),
        AttestationKind.isms: _l("ISMS certification (ISO/IEC 27001)"),
        AttestationKind.pmark: _l("Privacy Mark"),
        AttestationKind.ismap: _l("ISMAP"),
        AttestationKind.csms: _l("CSMS certification (IEC 62443)"),
        AttestationKind.soc2: _l("SOC 2 report"),
        AttestationKind.cyber_insurance: _l("Cyber insurance"),
        AttestationKind.scs: _l("SCS evaluation (supply-chain security evaluation scheme)"),
        AttestationKind.tech_info_mgmt: _l("Technology Information Control certification"),
        AttestationKind.tisax: "TISAX",
        AttestationKind.iso27701: _l("ISO/IEC 27701 certification"),
        AttestationKind.pci_dss: "PCI DSS",
        AttestationKind.other: _l("Other certification"),
    },
    ScsEvaluation: {
        ScsEvaluation.self: _l("Self-assessment"),
        ScsEvaluation.third_party: _l("Third-party evaluation"),
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
    Severity: _SEVERITY,
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
    Tier: _SCALE,
    Level: {
        Level.none: _l("None"),
        Level.star1: _l("SECURITY ACTION ★"),
        Level.star2: _l("SECURITY ACTION ★★"),
        Level.star3: "SCS ★3",
        Level.star4: "SCS ★4",
        Level.star5: "SCS ★5",
    },
    Outage: {
        Outage.hours: _l("Hours"),
        Outage.days: _l("A few days"),
        Outage.weeks: _l("A few weeks"),
        Outage.months: _l("Months or more"),
    },
    Replaceability: {
        Replaceability.easy: _l("Easily"),
        Replaceability.moderate: _l("With some effort"),
        Replaceability.hard: _l("Hardly"),
    },
    #: Each language in its own words, untranslated.
    Locale: {Locale.ja: "日本語", Locale.en: "English"},
}

#: A held or required level in the supplier list's narrow columns (the full name in a tooltip).
LEVEL_ABBREVIATIONS = {
    Level.none: "—",
    Level.star1: "SA★",
    Level.star2: "SA★★",
    Level.star3: "★3",
    Level.star4: "★4",
    Level.star5: "★5",
}

#: A self-assessment item's status: the guideline's and IPA's wording (実施している / ...).
ITEM_STATUS_LABELS = {
    ItemStatus.done: _l("Implemented"),
    ItemStatus.partly: _l("Partly implemented"),
    ItemStatus.not_done: _l("Not implemented"),
    ItemStatus.not_applicable: _l("Not applicable"),
}
#: How an item's status moved since the previous cycle.
CHANGE_LABELS = {
    "improved": _l("Improved"),
    "worsened": _l("Worsened"),
    "unchanged": _l("Unchanged"),
    "changed": _l("Other change"),
}
#: Why an item carried into another edition's cycle is to be confirmed (要確認).
REVIEW_LABELS = {
    "split": _l("Split: one earlier item became several"),
    "merged": _l("Merged: several earlier items became this one (the weakest status carried)"),
    "new": _l("New in this edition: no earlier answer"),
    "dropped": _l("An earlier item that was dropped is closest to this one"),
}
#: The crosswalk's relations, as the cycle page lists where each earlier answer went.
RELATION_LABELS = {
    "same": _l("Same item"),
    "moved": _l("Moved to another direction"),
    "split": _l("Split"),
    "merged": _l("Merged"),
    "new": _l("New"),
    "dropped": _l("Dropped (not carried)"),
}
#: Outbox delivery states as shown (a badge with its words, never colour alone).
OUTBOX_STATUS_LABELS = {
    OutboxStatus.pending.value: _l("Waiting to be sent"),
    OutboxStatus.sent.value: _l("Sent"),
    OutboxStatus.failed.value: _l("Failed"),
}

#: Why a supplier has its inherent risk: one phrase per factor key of the tier rules.
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

#: The short name of each Direction 9 clause (a CONTRACT_CLAUSES name), as on the contract table.
CLAUSE_LABELS = {
    "clause_security_requirements": _l("Security requirements"),
    "clause_incident_notification": _l("Incident notification duty"),
    "clause_audit_rights": _l("Right to audit"),
    "clause_subcontracting_approval": _l("Subcontracting approval"),
    "clause_data_return_deletion": _l("Return and deletion of data"),
    "clause_policy_compliance": _l("Policy compliance"),
    "clause_cyber_insurance": _l("Cyber insurance"),
}
#: The offboarding checklist's steps (models.offboarding.STEPS): (name, what it asks), in order.
OFFBOARDING_STEP_LABELS = {
    "data_returned": (
        _l("Data returned"),
        _l("The supplier returned the data we entrusted to it (the contract's return clause)."),
    ),
    "erasure_certificate": (
        _l("Erasure certificate received"),
        _l(
            "The supplier certified that it erased our data from its systems and backups; "
            "the certificate is kept here."
        ),
    ),
    "access_removed": (
        _l("Accounts and network access removed"),
        _l("Its accounts on our systems, VPN and network connections, and keys are removed."),
    ),
    "links_revoked": (
        _l("Open links revoked"),
        _l(
            "Its questionnaire and renewed-evidence links stop working; questionnaires still "
            "waiting for answers are withdrawn and its contacts told."
        ),
    ),
    "findings_closed": (
        _l("Findings closed or accepted"),
        _l("None of its findings is still open: each is resolved or its risk accepted."),
    ),
}
#: NIST CSF function names.
CSF_NAMES = {
    "GV": _l("Govern"),
    "ID": _l("Identify"),
    "PR": _l("Protect"),
    "DE": _l("Detect"),
    "RS": _l("Respond"),
    "RC": _l("Recover"),
}
#: The roll-up's coverage rows: key -> label.
COVERAGE_LABELS = {
    "security_action_star1": _l("SECURITY ACTION ★ or more"),
    "security_action_star2": _l("SECURITY ACTION ★★ (two stars)"),
    "isms_valid": _l("Valid ISMS certification"),
    "insurance_valid": _l("Valid cyber insurance"),
    "level_meets": _l("Meets the required evaluation level"),
    "level_below": _l("Below the required evaluation level"),
    "level_interim": _l("Interim: ISMS covering the service"),
    "level_not_running": _l("Not yet evaluated (scheme not started)"),
}
#: The roll-up's chain panel (services/reporting/chain_panel.py KEYS): what each count counts.
CHAIN_LABELS = {
    "known": _l("Subcontractors known"),
    "listed": _l("Subcontractors registered"),
    "approved": _l("All subcontractors approved"),
    "assessed": _l("All subcontractors assessed"),
    "personal_abroad": _l("Our personal information abroad below it"),
}
#: The coverage shares the trends chart, and their names there.
TREND_SHARES = {
    "security_action_star1": _l("SECURITY ACTION ★ or more"),
    "isms_valid": _l("Valid ISMS certification"),
    "insurance_valid": _l("Valid cyber insurance"),
    "clauses_all": _l("All seven contract clauses"),
    "level_meets": _l("Meets the required evaluation level"),
}
#: Risk acceptances by expiry (the roll-up's ACCEPTANCE_STATES).
ACCEPTANCE_LABELS = {
    "expired": _l("Acceptance expired"),
    "30": _l("Expiring within 30 days"),
    "90": _l("Expiring within 90 days"),
}


_LABELS_IN: dict[tuple[str, type, object], str] = {}


def label(value: object) -> str:
    """The translated label of an enum value (looked up once per language: lists show one on
    every row)."""
    kind = type(value)
    table = LABELS.get(kind)
    if not table or value not in table:
        return str(value)
    key = (str(get_locale()), kind, value)
    text = _LABELS_IN.get(key)
    if text is None:
        text = _LABELS_IN[key] = str(table[value])
    return text


def risk_reason(key: str) -> str:
    """A tier or risk reason key in words."""
    if key in RISK_REASONS:
        return str(RISK_REASONS[key])
    if key.startswith("inherent_"):
        return str(_l("inherent risk %(level)s", level=LABELS[Tier].get(key[9:], key[9:])))
    if key.startswith("score_below_"):
        return str(_l("latest score below %(n)s", n=key[12:]))
    if key.startswith("score_from_"):
        return str(_l("latest score %(n)s or more", n=key[11:]))
    return key


def direction_title(number: object) -> str:
    """A direction (1..10, as a number or text) by its staff-side title."""
    try:
        return str(DIRECTION_TITLES[int(str(number))])
    except (KeyError, ValueError):
        return str(_l("Direction %(n)s", n=number))


def tier_name(tier: str | None) -> str:
    """A tier (stored as text) in words; "—" before the first decision."""
    return str(LABELS[Tier].get(tier or "", "—"))


def level_abbreviation(level: str) -> str:
    """A level (stored as text) in a narrow column."""
    return LEVEL_ABBREVIATIONS.get(level, level)


def level_short(level: str | None) -> str:
    """A level in a sentence's parentheses: "★4", "SA★", or "none" in words."""
    if not level or level == Level.none:
        return gettext("none")
    return level_abbreviation(level)


def level_name(level: str | None) -> str:
    """A held or required evaluation level (stored as text) in words."""
    return str(LABELS[Level].get(level or Level.none, level))
