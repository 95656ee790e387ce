"""Supplier tiers: the tier rules (a setting), the tier they give a supplier's risk profile and
latest score, a person's override and its reason, and the history of tier changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext

from vendorrisk.extensions import db
from vendorrisk.models import (
    Attestation,
    AttestationKind,
    Setting,
    Supplier,
    TierChange,
    User,
    WebhookEvent,
)
from vendorrisk.models.setting import save as save_setting
from vendorrisk.scoring.tiers import (
    DEFAULT_RULES,
    HELD_ORDER,
    LEVELS,
    InherentRisk,
    Profile,
    TierDecision,
    TierRules,
    decide_tier,
    inherent_risk,
    required_level,
)
from vendorrisk.services import webhooks
from vendorrisk.services.assessments.lifecycle import AssessmentError
from vendorrisk.services.register import scs
from vendorrisk.services.webhooks import payloads
from vendorrisk.vocab import Outage, Replaceability, TierSource

TIER_RULES_KEY = "tier_rules"


# -- the rules ---------------------------------------------------------------------------------


def tier_rules() -> TierRules:
    row = db.session.get(Setting, TIER_RULES_KEY)
    return TierRules.from_dict(row.value) if row else DEFAULT_RULES


def save_tier_rules(rules: TierRules, seen: str | None = None) -> None:
    """Store the rules; SettingConflict if `seen` is no longer the stored value's."""
    save_setting(TIER_RULES_KEY, rules.to_dict(), seen)


# -- tiering -----------------------------------------------------------------------------------


def profile_of(supplier: Supplier) -> Profile:
    return Profile(
        shares_personal_info=supplier.shares_personal_info,
        shares_confidential_info=supplier.shares_confidential_info,
        has_network_access=supplier.has_network_access,
        has_admin_access=supplier.has_admin_access,
        max_outage=Outage(supplier.max_outage),
        replaceability=Replaceability(supplier.replaceability),
        criticality=getattr(supplier.criticality, "value", supplier.criticality),
    )


def held_level(supplier: Supplier, today: date) -> str:
    """The highest of the SECURITY ACTION declarations and SCS evaluations in force."""
    held = "none"
    for a in supplier.attestations:
        level = _attested_level(a)
        if level and a.valid_on(today):
            held = max(held, level, key=HELD_ORDER.index)
    return held


def _attested_level(attestation: Attestation) -> str | None:
    if attestation.kind is AttestationKind.security_action and attestation.level:
        return attestation.level.value
    if attestation.kind is AttestationKind.scs:
        return attestation.scs_level
    return None


def interim_held(supplier: Supplier, today: date) -> bool:
    """It holds an ISMS certificate in force whose scope covers the service (the interim
    equivalent of the level asked while the SCS scheme does not run)."""
    return any(
        a.kind is AttestationKind.isms and a.covers_service and a.valid_on(today)
        for a in supplier.attestations
    )


def _record_tier(
    supplier: Supplier, tier: str, source: str, reason: str, user: User | None, now: datetime
) -> None:
    if supplier.tier == tier and supplier.tier_source == source:
        return
    db.session.add(
        TierChange(
            supplier_id=supplier.id,
            previous=supplier.tier,
            tier=tier,
            source=source,
            reason=reason,
            changed_at=now,
            changed_by_id=user.id if user else None,
        )
    )
    if supplier.tier is not None and supplier.tier != tier:  # a new supplier's first: no event
        data = payloads.tier_changed(supplier, supplier.tier, tier, source)
        webhooks.emit(WebhookEvent.supplier_tier_changed, data, now)
    supplier.tier, supplier.tier_source = tier, source


def apply_tier_rules(supplier: Supplier, rules: TierRules, now: datetime) -> TierDecision:
    """Recompute the tier by the rules; a person's override stays until a person lifts it."""
    decision = decide_tier(inherent_risk(profile_of(supplier), rules), supplier.latest_score, rules)
    if supplier.tier_source != TierSource.manual:
        _record_tier(
            supplier, decision.tier, TierSource.rule, ", ".join(decision.reasons), None, now
        )
    return decision


def override_tier(supplier: Supplier, tier: str, reason: str, user: User, now: datetime) -> None:
    if tier not in LEVELS:
        raise AssessmentError(gettext("Choose a tier."))
    if not reason.strip():
        raise AssessmentError(gettext("Give the reason for setting the tier by hand."))
    _record_tier(supplier, tier, TierSource.manual, reason.strip(), user, now)


def clear_override(supplier: Supplier, user: User, now: datetime) -> None:
    """Hand the tier back to the rules."""
    rules = tier_rules()
    decision = decide_tier(inherent_risk(profile_of(supplier), rules), supplier.latest_score, rules)
    _record_tier(supplier, decision.tier, TierSource.rule, ", ".join(decision.reasons), user, now)


@dataclass(frozen=True)
class RiskView:
    inherent: InherentRisk
    #: The SCS level asked (the rules', or a person's raise above it) and the rules' own.
    required: str
    required_by_rule: str
    required_reasons: tuple[str, ...]
    held: str
    #: Where the supplier stands against the level asked (scs.LevelState).
    state: str
    rule_decision: TierDecision

    @property
    def raised(self) -> bool:
        return self.required != self.required_by_rule


def risk_view(supplier: Supplier, today: date) -> RiskView:
    """Everything the supplier page shows about its risk, from the profile and the rules."""
    rules = tier_rules()
    profile = profile_of(supplier)
    inherent = inherent_risk(profile, rules)
    by_rule, reasons = required_level(profile)
    asked = scs.required(by_rule, supplier.required_level_raised)
    held = held_level(supplier, today)
    return RiskView(
        inherent,
        asked,
        by_rule,
        reasons,
        held,
        scs.state(asked, held, interim_held(supplier, today), today, scs.scheme_settings()),
        decide_tier(inherent, supplier.latest_score, rules),
    )


def tier_history(supplier_id: int) -> list[TierChange]:
    return list(
        db.session.scalars(
            sa.select(TierChange)
            .where(TierChange.supplier_id == supplier_id)
            .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        )
    )
