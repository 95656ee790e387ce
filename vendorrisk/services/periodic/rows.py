"""Plain rows the periodic jobs read: what their rules and mails need of suppliers, owners,
contacts, assessments, links and the rest, selected column by column in a few set queries (no
ORM object, no lazy load, nothing for the session to track).

Each row keeps its model's attribute names (and the few properties the mails call:
`Supplier.name_for`, `User.label`, `Attestation.valid_on`), so the mail functions and their
templates read a row as they read the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from vendorrisk.extensions import db
from vendorrisk.models import (
    Assessment,
    Attestation,
    Contact,
    Contract,
    Finding,
    Invitation,
    Supplier,
    User,
    localized_name,
)

_NAMES: dict[type, tuple[str, ...]] = {}


class _Row:
    """A row built from the columns named like its fields (`columns`), with a prefix."""

    __slots__ = ()
    MODEL: ClassVar[Any]

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The fields read from columns (not the rows joined to it)."""
        found = _NAMES.get(cls)
        if found is None:
            found = _NAMES[cls] = tuple(f.name for f in fields(cls) if not f.metadata.get("joined"))
        return found

    @classmethod
    def columns(cls, entity: Any = None, prefix: str = "") -> list[sa.Label]:
        """The columns to select, labelled `prefix` + name (`entity`: an alias of the model)."""
        source = entity if entity is not None else cls.MODEL
        return [getattr(source, name).label(prefix + name) for name in cls.names()]

    @classmethod
    def take(cls, row: Any, prefix: str = "", **joined: Any) -> Any:
        """The row's values under `prefix`, with the rows joined to it; None for an outer join
        that found nothing."""
        mapping = row._mapping
        if mapping[prefix + "id"] is None:
            return None
        return cls(**{name: mapping[prefix + name] for name in cls.names()}, **joined)


def _joined() -> Any:
    return field(default=None, metadata={"joined": True})


@dataclass(slots=True)
class UserRow(_Row):
    MODEL: ClassVar[Any] = User

    id: int
    email: str
    name: str
    locale: str | None
    active: bool

    @property
    def label(self) -> str:
        return self.name or self.email


@dataclass(slots=True)
class SupplierRow(_Row):
    MODEL: ClassVar[Any] = Supplier

    id: int
    name_ja: str
    name_en: str
    next_review_on: date | None
    owner: UserRow | None = _joined()

    @property
    def display_name(self) -> str:
        return self.name_ja or self.name_en

    def name_for(self, locale: str) -> str:
        return localized_name(self.name_ja, self.name_en, locale)


@dataclass(slots=True)
class ContactRow(_Row):
    MODEL: ClassVar[Any] = Contact

    id: int
    supplier_id: int
    name: str
    email: str
    department: str
    job_title: str
    locale: str
    is_primary: bool
    undeliverable_at: datetime | None


@dataclass(slots=True)
class AssessmentRow(_Row):
    MODEL: ClassVar[Any] = Assessment

    id: int
    supplier_id: int | None
    template_id: str
    template_version: int
    status: Any
    due_on: date
    message: str
    sent_at: datetime | None
    returned_at: datetime | None
    completed_at: datetime | None
    supplier: SupplierRow | None = _joined()
    #: Its links, oldest first (when the job read them).
    invitations: list[LinkRow] = field(default_factory=list, metadata={"joined": True})


@dataclass(slots=True)
class LinkRow(_Row):
    """An invitation: one contact's emailed link to an assessment."""

    MODEL: ClassVar[Any] = Invitation

    id: int
    assessment_id: int
    contact_id: int | None
    email: str
    locale: str
    expires_at: datetime
    revoked_at: datetime | None
    contact: ContactRow | None = _joined()
    assessment: AssessmentRow | None = _joined()


@dataclass(slots=True)
class AttestationRow(_Row):
    MODEL: ClassVar[Any] = Attestation

    id: int
    supplier_id: int
    kind: Any
    level: Any
    name: str
    identifier: str
    issued_on: date | None
    confirmed_on: date | None
    expires_on: date | None
    created_at: datetime
    supplier: SupplierRow | None = _joined()

    def valid_on(self, day: date) -> bool:
        """The model's own rule (`Attestation.valid_on`), on this row."""
        return _ATTESTATION_VALID_ON(self, day)


#: The Python side of the hybrid `Attestation.valid_on`: one rule for the model and its row.
_ATTESTATION_VALID_ON = Attestation.__dict__["valid_on"].func


@dataclass(slots=True)
class ContractRow(_Row):
    MODEL: ClassVar[Any] = Contract

    id: int
    supplier_id: int
    title: str
    ends_on: date | None
    supplier: SupplierRow | None = _joined()


@dataclass(slots=True)
class FindingRow(_Row):
    MODEL: ClassVar[Any] = Finding

    id: int
    supplier_id: int
    assessment_id: int | None
    title: str
    severity: Any
    required_action: str
    due_on: date | None
    supplier_plan: str
    accepted_reason: str
    accepted_until: date | None
    created_at: datetime
    supplier: SupplierRow | None = _joined()
    assessment: AssessmentRow | None = _joined()
    owner: UserRow | None = _joined()
    accepted_by: UserRow | None = _joined()


# Suppliers with their owners


OWNER = aliased(User, name="owner")


def supplier_columns() -> list[sa.Label]:
    """A supplier's columns (prefix s_) and its owner's (prefix o_); join with `with_owner`."""
    return SupplierRow.columns(prefix="s_") + UserRow.columns(OWNER, "o_")


def with_owner(query: sa.Select) -> sa.Select:
    """`query` (which joins suppliers) with the owner of each supplier, if any."""
    return query.outerjoin(OWNER, OWNER.id == Supplier.owner_id)


def take_supplier(row: Any, cache: dict[int, SupplierRow]) -> SupplierRow:
    """The supplier of a row selected with `supplier_columns`, one object per supplier."""
    supplier_id = row._mapping["s_id"]
    found = cache.get(supplier_id)
    if found is None:
        owner = UserRow.take(row, "o_")
        found = cache[supplier_id] = SupplierRow.take(row, "s_", owner=owner)
    return found


# Contacts and links


def contacts_of(supplier_ids: Iterable[int] | sa.Select) -> dict[int, list[ContactRow]]:
    """The contacts of these suppliers (ids, or a query of ids), by supplier, oldest first."""
    query = sa.select(*ContactRow.columns()).where(Contact.supplier_id.in_(supplier_ids))
    found: dict[int, list[ContactRow]] = {}
    for row in db.session.execute(query.order_by(Contact.id)):
        contact = ContactRow.take(row)
        found.setdefault(contact.supplier_id, []).append(contact)
    return found


def links_of(assessments: dict[int, AssessmentRow], ids: sa.Select) -> None:
    """Read the links of `assessments` (their ids also as the query `ids`) into each one's
    `invitations`, oldest first, each with its contact (if not deleted)."""
    query = (
        sa.select(*LinkRow.columns(), *ContactRow.columns(prefix="c_"))
        .outerjoin(Contact, Contact.id == Invitation.contact_id)
        .where(Invitation.assessment_id.in_(ids))
        .order_by(Invitation.id)
    )
    for row in db.session.execute(query):
        assessment = assessments.get(row.assessment_id)
        if assessment is not None:
            contact = ContactRow.take(row, "c_")
            assessment.invitations.append(LinkRow.take(row, contact=contact, assessment=assessment))


def users_of(ids: Iterable[int]) -> dict[int, UserRow]:
    """These users, by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(*UserRow.columns()).where(User.id.in_(wanted)))
    return {row.id: UserRow.take(row) for row in rows}


def users_with_role(role: Any) -> list[UserRow]:
    """The active users with this role, oldest first."""
    query = sa.select(*UserRow.columns()).where(User.role == role, User.active).order_by(User.id)
    return [UserRow.take(row) for row in db.session.execute(query)]
