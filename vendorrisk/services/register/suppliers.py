"""The supplier register: search, create, change and delete suppliers and what belongs to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    Attestation,
    AttestationKind,
    AuditEvent,
    Contact,
    Contract,
    Criticality,
    StoredFile,
    Supplier,
    User,
)
from vendorrisk.scoring.tiers import LEVELS
from vendorrisk.services import files
from vendorrisk.services.register import chain, d9, offboarding
from vendorrisk.services.reporting import chain_panel, scope
from vendorrisk.validation import normalize_corporate_number

_CRITICALITY_ORDER = sa.case(
    {c.value: i for i, c in enumerate(Criticality)}, value=Supplier.criticality
)
_TIER_ORDER = sa.case({tier: i for i, tier in enumerate(LEVELS)}, value=Supplier.tier)
_INSURANCE_UNTIL = d9.valid_until(AttestationKind.cyber_insurance)
SORTS: dict[str, tuple[Any, ...]] = {
    "name": (Supplier.name_ja.asc(), Supplier.id.asc()),
    "-name": (Supplier.name_ja.desc(), Supplier.id.desc()),
    "criticality": (_CRITICALITY_ORDER.desc(), Supplier.name_ja.asc(), Supplier.id.asc()),
    "-criticality": (_CRITICALITY_ORDER.asc(), Supplier.name_ja.asc(), Supplier.id.asc()),
    "tier": (
        Supplier.tier.is_(None),
        _TIER_ORDER.desc(),
        Supplier.name_ja.asc(),
        Supplier.id.asc(),
    ),
    "-tier": (
        Supplier.tier.is_(None),
        _TIER_ORDER.asc(),
        Supplier.name_ja.asc(),
        Supplier.id.asc(),
    ),
    "score": (Supplier.latest_score.is_(None), Supplier.latest_score.asc(), Supplier.id.asc()),
    "-score": (Supplier.latest_score.is_(None), Supplier.latest_score.desc(), Supplier.id.asc()),
    "next_review": (
        Supplier.next_review_on.is_(None),
        Supplier.next_review_on.asc(),
        Supplier.id.asc(),
    ),
    "insurance": (_INSURANCE_UNTIL.is_(None), _INSURANCE_UNTIL.asc(), Supplier.id.asc()),
    "-updated": (Supplier.updated_at.desc(), Supplier.id.desc()),
}


@dataclass(frozen=True)
class SupplierFilter:
    q: str = ""
    category: str = ""
    status: str = ""
    owner_id: int | None = None
    criticality: str = ""
    sort: str = "name"
    #: Risk tier, one of scoring.tiers.LEVELS.
    tier: str = ""
    #: The Direction 9 filters, as d9.conditions takes them.
    insurance: str = ""
    isms: str = ""
    security_action: str = ""
    clause_missing: str = ""
    level: str = ""
    findings: str = ""
    overdue: bool = False
    #: The roll-up's drill-downs (services/reporting/scope.py): template of the latest completed
    #: assessment, score bucket, cover of a kind lapsing within `within` days, clause present.
    template: str = ""
    score: str = ""
    expiring: str = ""
    within: int = 90
    clause: str = ""
    #: Within the group or chain of this supplier: it and every supplier below it.
    group_id: int | None = None
    #: What is known of its subcontractors (reporting/chain_panel.py KEYS: "known", "listed",
    #: "approved", "assessed", "personal_abroad"), the roll-up's chain panel.
    subcontractors: str = ""

    def d9_filters(self) -> dict[str, Any]:
        return {
            "insurance": self.insurance,
            "isms": self.isms,
            "security_action": self.security_action,
            "clause_missing": self.clause_missing,
            "level": self.level,
            "findings": self.findings,
            "overdue": self.overdue,
        }


def search(f: SupplierFilter, today: date | None = None) -> sa.Select:
    """Suppliers matching the filter, with their owner, in the chosen order.

    `today` (by default the company's today) dates the expiry and re-check filters.
    """
    stmt = sa.select(Supplier).options(joinedload(Supplier.owner))
    if f.q.strip():
        q = f.q.strip()
        conditions = [
            Supplier.name_ja.icontains(q, autoescape=True),
            Supplier.name_en.icontains(q, autoescape=True),
        ]
        digits = normalize_corporate_number(q)
        if digits.isdigit():
            conditions.append(Supplier.corporate_number.startswith(digits, autoescape=True))
        stmt = stmt.where(sa.or_(*conditions))
    for column, value in (
        (Supplier.category, f.category),
        (Supplier.status, "" if f.status == "live" else f.status),
        (Supplier.criticality, f.criticality),
        (Supplier.tier, "" if f.tier == "none" else f.tier),
    ):
        if value:
            stmt = stmt.where(column == value)
    stmt = stmt.where(*_drilldown_conditions(f, today or clock.today()))
    if f.owner_id:
        stmt = stmt.where(Supplier.owner_id == f.owner_id)
    if any(f.d9_filters().values()):
        stmt = stmt.where(*d9.conditions(today or clock.today(), **f.d9_filters()))
    return stmt.order_by(*SORTS.get(f.sort, SORTS["name"]))


def _drilldown_conditions(f: SupplierFilter, today: date) -> list[sa.ColumnElement[bool]]:
    """The filters the roll-up's numbers link with ("live" status, no tier, template, ...)."""
    found = [
        scope.LIVE if f.status == "live" else None,
        Supplier.tier.is_(None) if f.tier == "none" else None,
        scope.latest_completed(Assessment.template_id) == f.template if f.template else None,
        scope.score_condition(f.score) if f.score else None,
        scope.expiring_condition(f.expiring, f.within, today) if f.expiring else None,
        scope.clause_condition(f.clause, today) if f.clause else None,
        chain.subtree_ids_condition(f.group_id) if f.group_id else None,
        chain_panel.condition(f.subcontractors) if f.subcontractors else None,
    ]
    return [condition for condition in found if condition is not None]


def get_full(supplier_id: int) -> Supplier | None:
    """A supplier with everything its page shows, in a fixed number of queries."""
    return db.session.scalar(
        sa.select(Supplier)
        .where(Supplier.id == supplier_id)
        .options(
            joinedload(Supplier.owner),
            selectinload(Supplier.contacts),
            selectinload(Supplier.contracts),
            selectinload(Supplier.attestations),
        )
    )


def history(supplier_id: int, limit: int = 50) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.supplier_id == supplier_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def assessments_of(supplier_id: int) -> list[Assessment]:
    return list(
        db.session.scalars(
            sa.select(Assessment)
            .where(Assessment.supplier_id == supplier_id)
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        )
    )


def owners(keep_id: int | None = None) -> list[User]:
    """Active users who can own suppliers, plus the current owner even if since deactivated."""
    condition = User.active if keep_id is None else sa.or_(User.active, User.id == keep_id)
    return list(
        db.session.scalars(sa.select(User).where(condition).order_by(User.name, User.email))
    )


def apply(obj: Any, fields: dict[str, Any]) -> Any:
    """Set the given columns on a model and add it to the session.

    A new parent of a supplier is checked first (chain.check_parent refuses a cycle or a chain
    too deep with a chain.ChainError), and a status only the offboarding checklist sets is
    refused (offboarding.StatusFollowsChecklist), so that nothing is changed when refused."""
    offboarding.check_status_change(obj, fields)
    if isinstance(obj, Supplier) and fields.get("parent_id", obj.parent_id) != obj.parent_id:
        chain.check_parent(obj.id, fields["parent_id"])
    for key, value in fields.items():
        setattr(obj, key, value)
    db.session.add(obj)
    db.session.flush()
    return obj


def create_supplier(fields: dict[str, Any]) -> Supplier:
    return apply(Supplier(), fields)


def add_contact(supplier: Supplier, fields: dict[str, Any]) -> Contact:
    contact = apply(Contact(supplier=supplier), fields)
    if contact.is_primary:
        _single_primary(contact)
    return contact


def update_contact(contact: Contact, fields: dict[str, Any]) -> Contact:
    apply(contact, fields)
    if contact.is_primary:
        _single_primary(contact)
    return contact


def _single_primary(contact: Contact) -> None:
    """Only one primary contact per supplier."""
    for other in contact.supplier.contacts:
        if other is not contact and other.is_primary:
            other.is_primary = False
    db.session.flush()


def add_contract(supplier: Supplier, fields: dict[str, Any]) -> Contract:
    return apply(Contract(supplier=supplier), fields)


def add_attestation(supplier: Supplier, fields: dict[str, Any]) -> Attestation:
    return apply(Attestation(supplier=supplier), fields)


def delete(obj: Any) -> None:
    """Delete a supplier or one of its parts, with the files only it held."""
    held = _files_held_by(obj)
    if isinstance(obj, Supplier):
        chain.detach_children(obj)
    db.session.delete(obj)
    db.session.flush()
    for stored in held:
        files.discard(stored)


def replace_file(obj: Any, relation: str, new: StoredFile | None) -> None:
    """Attach a new evidence or document file; the one it replaces goes if nothing else uses it."""
    if new is None:
        return
    old = getattr(obj, relation)
    setattr(obj, relation, new)
    if old is not None and old is not new:
        files.discard(old)


def _files_held_by(obj: Any) -> list[StoredFile]:
    if isinstance(obj, Attestation):
        return [obj.evidence] if obj.evidence else []
    if isinstance(obj, Contract):
        return [obj.document] if obj.document else []
    if isinstance(obj, Supplier):
        held = [a.evidence for a in obj.attestations if a.evidence]
        held += [c.document for c in obj.contracts if c.document]
        answers = db.session.scalars(
            sa.select(Answer).join(Assessment).where(Assessment.supplier_id == obj.id)
        )
        held += [f for answer in answers for f in answer.files]
        return list({f.id: f for f in held}.values())
    return []


def active_contract(supplier: Supplier, today: date) -> Contract | None:
    """The contract in force today with the most clauses, if any."""
    live = [c for c in supplier.contracts if c.in_force_on(today)]
    return max(live, key=lambda c: (c.clause_count, c.id), default=None)
