"""The SCS ★ decision (サプライチェーン強化に向けたセキュリティ対策評価制度) for each supplier.

What we ask: METI's buyer flow gives ★4 on any of three triggers, else ★3
(``scoring.tiers.required_level``); a person may raise ★3 to ★4 (or ★5) for further factors,
with the reason kept in RequiredLevelChange, and hand it back to the rules. What it holds: the
higher of a SECURITY ACTION declaration and an SCS evaluation in force (attestations).

Until the scheme runs nobody can hold ★3 or ★4, so a supplier below the level asked is "not
yet evaluated" (制度開始前), never short of it; an admin may count an ISMS certificate whose scope
covers the service as the interim equivalent. Once the admin sets the day the scheme started, a
supplier below the level asked falls short. No step count is ever shown: "★4 required (now:
none)" says what is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context
from flask_babel import gettext

from vendorrisk import clock
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import (
    Attestation,
    AttestationKind,
    Contract,
    RequiredLevelChange,
    Setting,
    Supplier,
    User,
)
from vendorrisk.models.setting import save as save_setting
from vendorrisk.scoring.tiers import HELD_ORDER, add_months
from vendorrisk.vocab import SCS_LEVELS, TierSource

SCHEME_KEY = "scs_scheme"
#: What may count as the equivalent of the level asked until the scheme runs.
INTERIMS = ("isms", "none")


class LevelState(StrEnum):
    """Where a supplier stands against the level asked of it."""

    #: It holds the level asked, or more.
    met = "met"
    #: The scheme does not run yet and it holds the interim equivalent (an ISMS covering us).
    interim = "interim"
    #: The scheme does not run yet: it cannot be evaluated (制度開始前 / 未評価).
    not_running = "not_running"
    #: The scheme runs and it holds less than asked.
    short = "short"


@dataclass(frozen=True)
class SchemeSettings:
    """The admin's settings of the scheme: when evaluations began, and the interim equivalent."""

    #: The day ★3/★4 evaluations began; None while the scheme does not run.
    started_on: date | None = None
    #: Until then: "isms" (an ISMS certificate whose scope covers the service) or "none".
    interim: str = "isms"

    def __post_init__(self) -> None:
        if self.interim not in INTERIMS:
            raise ValueError(f"interim must be one of {INTERIMS}, not {self.interim!r}")

    def running(self, today: date) -> bool:
        return self.started_on is not None and self.started_on <= today

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_on": self.started_on.isoformat() if self.started_on else None,
            "interim": self.interim,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SchemeSettings:
        if not isinstance(data, dict):
            raise ValueError(f"the scheme settings must be a mapping, not {data!r}")
        started = data.get("started_on")
        return cls(
            started_on=date.fromisoformat(started) if started else None,
            interim=data.get("interim", "isms"),
        )


def scheme_settings() -> SchemeSettings:
    """The stored settings, read once per request or job (a page asks several times)."""
    if has_app_context() and "scs_scheme" in g:
        return g.scs_scheme
    row = db.session.get(Setting, SCHEME_KEY)
    settings = SchemeSettings.from_dict(row.value) if row else SchemeSettings()
    if has_app_context():
        g.scs_scheme = settings
    return settings


def save_scheme_settings(settings: SchemeSettings, seen: str | None = None) -> None:
    """Store the settings; SettingConflict if `seen` is no longer the stored value's."""
    save_setting(SCHEME_KEY, settings.to_dict(), seen)
    if has_app_context():
        g.pop("scs_scheme", None)


def rank(level: str) -> int:
    return HELD_ORDER.index(level)


def required(rule_level: str, raised: str | None) -> str:
    """The level asked: the rules' level, or a person's raise above it."""
    return raised if raised and rank(raised) > rank(rule_level) else rule_level


def state(
    asked: str, held: str, interim_held: bool, today: date, scheme: SchemeSettings
) -> LevelState:
    if rank(held) >= rank(asked):
        return LevelState.met
    if scheme.running(today):
        return LevelState.short
    if interim_held and scheme.interim == "isms":
        return LevelState.interim
    return LevelState.not_running


def contract_level_missed(
    contract: Contract | None, held: str, today: date, scheme: SchemeSettings
) -> bool:
    """The contract in force requires a level by a day now past, the scheme runs, and the
    supplier holds less than that level (before the scheme runs nobody can hold it)."""
    if contract is None or not contract.required_scs_level or not contract.required_scs_by:
        return False
    return (
        contract.required_scs_by < today
        and scheme.running(today)
        and rank(held) < rank(contract.required_scs_level)
    )


# -- SECURITY ACTION: still declared? ------------------------------------------------------------

#: How often the owner checks a SECURITY ACTION declaration is still listed by IPA: a
#: self-declaration has no expiry, but the declarer can withdraw it (or IPA revoke it).
DECLARATION_CHECK_MONTHS = 12


def declaration_check_due(attestation: Attestation, today: date) -> date | None:
    """When the declaration's next still-declared check is due: a year after it was last
    confirmed (or declared, or recorded); None for anything but a declaration in force."""
    if attestation.kind is not AttestationKind.security_action or not attestation.valid_on(today):
        return None
    basis = (
        attestation.confirmed_on or attestation.issued_on or clock.local_day(attestation.created_at)
    )
    return add_months(basis, DECLARATION_CHECK_MONTHS)


# -- a person's raise ----------------------------------------------------------------------------


class LevelError(ServiceError):
    """A raise that cannot be made; the message says why, in the user's language."""


def raise_level(
    supplier: Supplier, rule_level: str, level: str, reason: str, user: User, now: datetime
) -> RequiredLevelChange:
    """Ask `level` above the rules' level, for the reason given (kept in the history)."""
    if level not in SCS_LEVELS or rank(level) <= rank(rule_level):
        raise LevelError(gettext("Choose a level above the one the rules ask for."))
    if not reason.strip():
        raise LevelError(gettext("Give the reason for asking a higher level."))
    before = required(rule_level, supplier.required_level_raised)
    supplier.required_level_raised = level
    return _record(supplier, before, level, TierSource.manual, reason.strip(), user, now)


def hand_back(
    supplier: Supplier, rule_level: str, triggers: tuple[str, ...], user: User, now: datetime
) -> RequiredLevelChange | None:
    """Let the rules decide the level again (None when nobody had raised it)."""
    if supplier.required_level_raised is None:
        return None
    before = required(rule_level, supplier.required_level_raised)
    supplier.required_level_raised = None
    return _record(supplier, before, rule_level, TierSource.rule, ", ".join(triggers), user, now)


def _record(
    supplier: Supplier,
    before: str,
    level: str,
    source: str,
    reason: str,
    user: User,
    now: datetime,
) -> RequiredLevelChange:
    change = RequiredLevelChange(
        supplier_id=supplier.id,
        previous=before,
        level=level,
        source=source,
        reason=reason,
        changed_by_id=user.id,
        changed_at=now,
    )
    db.session.add(change)
    return change


def level_history(supplier_id: int) -> list[RequiredLevelChange]:
    return list(
        db.session.scalars(
            sa.select(RequiredLevelChange)
            .where(RequiredLevelChange.supplier_id == supplier_id)
            .order_by(RequiredLevelChange.changed_at.desc(), RequiredLevelChange.id.desc())
        )
    )
