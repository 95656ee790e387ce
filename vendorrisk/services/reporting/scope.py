"""Conditions shared by the roll-up and the lists its numbers link to.

Each number of the roll-up counts rows matching some of these conditions, and links to a list
(suppliers, assessments, findings) filtered by the very same conditions, so following a link
shows as many rows as the number said. Conditions on Supplier are correlated to the enclosing
select of Supplier, as the SQL twins of services/d9.py are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Contract,
    Finding,
    FindingStatus,
    Severity,
    Supplier,
    SupplierStatus,
)
from vendorrisk.scoring.tiers import LEVELS
from vendorrisk.services.register import chain, d9

#: Score buckets of the latest completed score: name -> [low, high) ("80-100" includes 100).
SCORE_BUCKETS = {
    "0-19": (0, 20),
    "20-39": (20, 40),
    "40-59": (40, 60),
    "60-79": (60, 80),
    "80-100": (80, None),
}
#: Windows, in days, of the "expiring within" numbers.
EXPIRING_DAYS = (30, 90)
#: What may be expiring: an attestation kind, or "contract" (the contracts in force all end).
EXPIRING_KINDS = (*(k.value for k in AttestationKind), "contract")
#: Ages of open findings, in days since raised: name -> (from, to) inclusive, None = no bound.
FINDING_AGES = {"0-30": (0, 30), "31-90": (31, 90), "91+": (91, None)}
#: Risk acceptances by expiry: already expired, or expiring within 30 / 90 days.
ACCEPTANCE_STATES = ("expired", "30", "90")
#: Suppliers not offboarded: the roll-up's population.
LIVE = Supplier.status != SupplierStatus.offboarded


@dataclass(frozen=True)
class Scope:
    """The roll-up's filters: they narrow the suppliers every panel counts."""

    category: str = ""
    tier: str = ""
    owner_id: int | None = None
    #: Template id of the supplier's latest completed assessment.
    template: str = ""
    #: Within the group or chain of this supplier: it and every supplier below it.
    group_id: int | None = None

    def args(self) -> dict[str, Any]:
        """The query-string arguments of this scope, as the lists and the roll-up name them."""
        pairs = {
            "category": self.category,
            "tier": self.tier,
            "owner": self.owner_id,
            "template": self.template,
            "group": self.group_id,
        }
        return {key: value for key, value in pairs.items() if value}

    def of_suppliers(self) -> Scope:
        """This scope without its questionnaire, for lists where an assessment's own
        questionnaire is meant rather than the supplier's latest completed one."""
        return replace(self, template="")


# -- suppliers -------------------------------------------------------------------------------


def latest_completed(column: Any) -> sa.ScalarSelect[Any]:
    """`column` of the supplier's latest completed assessment (by completion, then id)."""
    latest = aliased(Assessment, name="latest_completed")
    pick = (
        sa.select(getattr(latest, column.key))
        .where(latest.supplier_id == Supplier.id, latest.status == AssessmentStatus.completed)
        .order_by(latest.completed_at.desc(), latest.id.desc())
        .limit(1)
    )
    return pick.correlate(Supplier).scalar_subquery()


def supplier_conditions(scope: Scope) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on Supplier for a scope (live or not is left to the caller)."""
    return conditions_on(
        scope,
        category=Supplier.category,
        tier=Supplier.tier,
        owner_id=Supplier.owner_id,
        template=lambda: latest_completed(Assessment.template_id),
        supplier_id=Supplier.id,
    )


def conditions_on(
    scope: Scope, *, category: Any, tier: Any, owner_id: Any, template: Any, supplier_id: Any
) -> list[sa.ColumnElement[bool]]:
    """The scope's conditions on the given columns (`template` is called only when needed;
    `supplier_id` is the column the group's subtree is looked up by)."""
    found: list[sa.ColumnElement[bool]] = []
    if scope.group_id:
        found.append(chain.subtree_ids_condition(scope.group_id, supplier_id))
    if scope.category:
        found.append(category == scope.category)
    if scope.tier == "none":
        found.append(tier.is_(None))
    elif scope.tier:
        found.append(tier == scope.tier)
    if scope.owner_id:
        found.append(owner_id == scope.owner_id)
    if scope.template:
        found.append(template() == scope.template)
    return found


def in_scope(scope: Scope, *, live: bool = False) -> sa.ScalarSelect[int]:
    """The ids of the suppliers in the scope (offboarded too unless `live`), for lists of their
    assessments or findings: `column.in_(in_scope(scope))`."""
    where = (LIVE, *supplier_conditions(scope)) if live else supplier_conditions(scope)
    return sa.select(Supplier.id).where(*where).scalar_subquery()


def score_condition(bucket: str) -> sa.ColumnElement[bool] | None:
    """The latest score in a bucket of SCORE_BUCKETS, "none" (no score) or "any"."""
    if bucket == "none":
        return Supplier.latest_score.is_(None)
    if bucket == "any":
        return Supplier.latest_score.is_not(None)
    if bucket not in SCORE_BUCKETS:
        return None
    low, high = SCORE_BUCKETS[bucket]
    found = Supplier.latest_score >= low
    return found if high is None else sa.and_(found, Supplier.latest_score < high)


def _contracts_in_force(today: date) -> tuple[sa.ColumnElement[bool], ...]:
    """The supplier's contracts in force today."""
    return (Contract.supplier_id == Supplier.id, Contract.in_force_on(today))


def expiring_condition(kind: str, days: int, today: date) -> sa.ColumnElement[bool] | None:
    """The supplier's cover of `kind` lapses within `days`: the latest expiry of its attestations
    of that kind falls in [today, today + days] and none of them is without an expiry date (it
    never lapses, as Attestation.valid_on says); for "contract", every contract in force ends
    by then (none is open-ended or runs longer)."""
    if kind not in EXPIRING_KINDS or days not in EXPIRING_DAYS:
        return None
    last = today + timedelta(days=days)
    if kind != "contract":
        until = d9.valid_until(AttestationKind(kind))
        permanent = sa.exists().where(
            Attestation.supplier_id == Supplier.id,
            Attestation.kind == AttestationKind(kind),
            Attestation.expires_on.is_(None),
        )
        return sa.and_(until >= today, until <= last, ~permanent)
    ending = sa.exists().where(*_contracts_in_force(today), Contract.ends_on <= last)
    lasting = sa.exists().where(
        *_contracts_in_force(today), sa.or_(Contract.ends_on.is_(None), Contract.ends_on > last)
    )
    return sa.and_(ending, ~lasting)


def clause_condition(clause: str, today: date) -> sa.ColumnElement[bool] | None:
    """The best contract in force has the clause (the opposite of d9's clause_missing)."""
    if clause not in d9.CONTRACT_CLAUSES:
        return None
    bit = 1 << d9.CONTRACT_CLAUSES.index(clause)
    return sa.func.coalesce(d9.clause_mask(today), 0).bitwise_and(bit) != 0


# -- assessments ---------------------------------------------------------------------------


def assessment_overdue(today: date) -> sa.ColumnElement[bool]:
    """A supplier's assessment past its due date and still open (the lists' "Overdue" badge)."""
    return sa.and_(Assessment.supplier_id.is_not(None), Assessment.is_overdue(today))


# -- findings --------------------------------------------------------------------------------


def day_start(day: date, zone: str | None = None) -> datetime:
    """The first moment (UTC) of a day where the company is (or in the time zone `zone`)."""
    where = ZoneInfo(zone or current_app.config["TIMEZONE"])
    return datetime.combine(day, time.min, where).astimezone(UTC)


def finding_age_condition(
    age: str, today: date, zone: str | None = None
) -> sa.ColumnElement[bool] | None:
    """Raised this many days ago (a name of FINDING_AGES), counted in the company's days (or in
    those of the time zone `zone`)."""
    if age not in FINDING_AGES:
        return None
    youngest, oldest = FINDING_AGES[age]
    found = [Finding.created_at < day_start(today - timedelta(days=youngest - 1), zone)]
    if oldest is not None:
        found.append(Finding.created_at >= day_start(today - timedelta(days=oldest), zone))
    return sa.and_(*found)


def acceptance_condition(state: str, today: date) -> sa.ColumnElement[bool] | None:
    """An accepted risk whose acceptance has expired, or expires within 30 or 90 days."""
    if state not in ACCEPTANCE_STATES:
        return None
    accepted = Finding.status == FindingStatus.risk_accepted
    if state == "expired":
        return sa.and_(accepted, Finding.accepted_until < today)
    last = today + timedelta(days=int(state))
    return sa.and_(accepted, Finding.accepted_until >= today, Finding.accepted_until <= last)


def severity_values() -> list[str]:
    """Severities, most severe first."""
    return [s.value for s in reversed(Severity)]


def tiers() -> list[str]:
    """Tiers, highest first."""
    return list(reversed(LEVELS))


# -- the lists' filters -------------------------------------------------------------------------


def assessment_conditions(
    today: date, *, overdue: bool = False, live: bool = False, within: Scope | None = None
) -> list[sa.ColumnElement[bool]]:
    """The assessment list's roll-up filters: overdue ones of the suppliers in scope, of the
    suppliers not offboarded only when `live`.

    The scope's template is left to the list (an assessment's own questionnaire)."""
    found = [assessment_overdue(today)] if overdue else []
    suppliers = (within or Scope()).of_suppliers()
    if suppliers.args() or live:
        found.append(Assessment.supplier_id.in_(in_scope(suppliers, live=live)))
    return found


def finding_conditions(
    today: date,
    *,
    severity: str = "",
    age: str = "",
    accepted: str = "",
    live: bool = False,
    within: Scope | None = None,
) -> list[sa.ColumnElement[bool]]:
    """The finding list's roll-up filters (of the suppliers not offboarded only when `live`);
    empty or unknown values add none."""
    within = within or Scope()
    scoped = within.args() or live
    found = [
        Finding.severity == severity if severity in Severity.__members__ else None,
        finding_age_condition(age, today),
        acceptance_condition(accepted, today),
        Finding.supplier_id.in_(in_scope(within, live=live)) if scoped else None,
    ]
    return [condition for condition in found if condition is not None]
