"""Who sees which supplier: scoped access by business unit (部門), enforced in one place.

access.py says which routes a role may use; this module says which suppliers a user may see
through them. A supplier belongs to one business unit or to none (the whole company's); a user
works for any number of units (UnitMembership). The rule:

- admin, CISO and auditor with no unit see every supplier (with units: those units only, a
  configured set, e.g. a subsidiary's CISO);
- everyone else — procurement and reviewers — sees the suppliers of their units and those of no
  unit. A company that has defined no unit sees, as before, everything.

It is enforced on the ORM, not in each view: while a logged-in user's request runs, every ORM
SELECT (lists, exports, roll-up, object look-ups, relationship loads) gets a criterion on each
entity that belongs to a supplier — the supplier itself, anything with a `supplier_id`, and
anything with an `assessment_id` — so an out-of-scope object is simply not found: 404, as an
object that never existed. That 404 is recorded in the audit log as a refusal
(`out_of_scope`) when the object does exist. Jobs, the CLI and the supplier portal (no staff
login) see everything, as they did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from vendorrisk.errors import refused
from vendorrisk.extensions import db
from vendorrisk.models import (
    AuditEvent,
    BusinessUnit,
    OutboxMessage,
    Role,
    StoredFile,
    Supplier,
    UnitMembership,
)

#: Roles that see the whole register unless given units of their own.
COMPANY_WIDE_ROLES = frozenset({Role.admin, Role.ciso, Role.auditor})
#: Tables that keep a supplier's id for the record, not as its data: never hidden.
UNSCOPED_TABLES = frozenset({AuditEvent.__tablename__, OutboxMessage.__tablename__})
_UNSET = object()
_OPTION = "vendorrisk_unscoped"
#: Execution options of a statement that must see every supplier whoever asks: uniqueness
#: checks (a corporate number registered by another unit), counts kept for admins.
UNSCOPED = {_OPTION: True}


def units_of(user: Any) -> frozenset[int]:
    """The business units the user works for."""
    rows = db.session.scalars(
        sa.select(UnitMembership.unit_id).where(UnitMembership.user_id == user.id),
        execution_options=UNSCOPED,
    )
    return frozenset(rows)


#: Stands for "the company has units" among a user's unit ids (no unit has this id).
_ANY_UNIT = -1


def scope_of(user: Any) -> frozenset[int] | None:
    """The units whose suppliers the user sees (besides those of no unit); None: every one.

    One statement: the user's units, and whether the company has any unit at all."""
    any_unit = sa.select(sa.literal(_ANY_UNIT)).where(sa.exists(sa.select(BusinessUnit.id)))
    mine = sa.select(UnitMembership.unit_id).where(UnitMembership.user_id == user.id)
    found = set(db.session.scalars(sa.union_all(mine, any_unit), execution_options=UNSCOPED))
    company_has_units = _ANY_UNIT in found
    units = frozenset(found - {_ANY_UNIT})
    if not units and (user.role in COMPANY_WIDE_ROLES or not company_has_units):
        return None  # a company without units: every supplier is the whole company's
    return units


def current_scope() -> frozenset[int] | None:
    """The logged-in user's scope for this request (worked out once); None outside requests,
    for anonymous visitors and for users who see everything."""
    if not has_request_context() or g.get("_vr_loading_user"):
        return None  # the user's own load (sessions, users) is not the register
    found = g.get("_vr_scope", _UNSET)
    if found is not _UNSET:
        return found
    user = current_user._get_current_object()  # loads the user first if nothing did yet
    scope = scope_of(user) if user and user.is_authenticated else None
    g._vr_scope = scope
    return scope


@contextmanager
def loading_user() -> Iterator[None]:
    """Around a user loader: its statements run unscoped (and do not ask for the user again)."""
    g._vr_loading_user = True
    try:
        yield
    finally:
        g._vr_loading_user = False


def cache_key() -> tuple[int, ...] | None:
    """What figures kept for later (reporting/cache.py) depend on besides their own key."""
    scope = current_scope()
    return None if scope is None else tuple(sorted(scope))


def visible_supplier_ids(scope: frozenset[int]) -> sa.Select:
    suppliers = Supplier.__table__
    return sa.select(suppliers.c.id).where(_supplier_condition(suppliers.c.unit_id, scope))


def _supplier_condition(unit_id: Any, scope: frozenset[int]) -> sa.ColumnElement[bool]:
    if not scope:
        return unit_id.is_(None)
    return sa.or_(unit_id.is_(None), unit_id.in_(sorted(scope)))


def _scoped_entities() -> list[tuple[type, sa.Table]]:
    """Every mapped class whose rows belong to a supplier (directly or through one parent)."""
    found = []
    for mapper in db.Model.registry.mappers:
        table = mapper.local_table
        if isinstance(table, sa.Table) and table.name not in UNSCOPED_TABLES | {"stored_files"}:
            found.append((mapper.class_, table))
    return found


def _owner_condition(
    table: sa.Table, visible: sa.Select, assessments: sa.Select, mapper: Any = None
) -> Any:
    """A condition on `table`'s rows saying they belong to a visible supplier, following at most
    one foreign key (answer_files → answers, erasure_requests → offboardings); None: no owner.
    Given the mapper, the condition is on its class's attribute, so that the ORM can move it onto
    an alias (a joined eager load); a bare table column stays on the table's own name."""

    def column(name: str) -> Any:
        found = table.c[name]
        return mapper.get_property_by_column(found).class_attribute if mapper else found

    if "supplier_id" in table.c:
        return column("supplier_id").in_(visible)
    if "assessment_id" in table.c:
        return column("assessment_id").in_(assessments)
    for key in table.foreign_keys:
        parent = key.column.table
        if parent.name in ("suppliers", "stored_files", "users") or parent is table:
            continue
        if "supplier_id" in parent.c or "assessment_id" in parent.c:
            inner = _owner_condition(parent, visible, assessments)
            return column(key.parent.name).in_(sa.select(key.column).where(inner))
    return None


def _hidden_files(visible: sa.Select, assessments: sa.Select) -> sa.CompoundSelect | None:
    """Stored files held by anything of a supplier outside the scope (contract and attestation
    files, answer attachments, evidence, erasure certificates, covers)."""
    hidden = []
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name != "stored_files" or table.name in UNSCOPED_TABLES:
                continue
            owned = _owner_condition(table, visible, assessments)
            if owned is not None:
                column = key.parent
                hidden.append(sa.select(column).where(column.is_not(None), sa.not_(owned)))
    return sa.union_all(*hidden) if hidden else None


def criteria(scope: frozenset[int]) -> list[Any]:
    """The loader criteria that hide what lies outside `scope`."""
    suppliers = visible_supplier_ids(scope)
    assessments_table = db.metadata.tables["assessments"]
    assessments = sa.select(assessments_table.c.id).where(
        assessments_table.c.supplier_id.in_(suppliers)
    )
    options = []
    for cls, table in _entities():
        if cls is Supplier:
            condition = _supplier_condition(Supplier.unit_id, scope)
        else:
            condition = _owner_condition(table, suppliers, assessments, sa.inspect(cls))
            if condition is None:
                continue
        options.append(with_loader_criteria(cls, condition, include_aliases=True))
    hidden = _hidden_files(suppliers, assessments)
    if hidden is not None:
        options.append(
            with_loader_criteria(StoredFile, StoredFile.id.not_in(hidden), include_aliases=True)
        )
    return options


_ENTITIES: list[tuple[type, sa.Table]] = []


def _entities() -> list[tuple[type, sa.Table]]:
    if not _ENTITIES:
        _ENTITIES.extend(_scoped_entities())
    return _ENTITIES


@event.listens_for(Session, "do_orm_execute")
def _add_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # loads of what was already found carry the criteria found with it
    if state.execution_options.get(_OPTION):
        return
    scope = current_scope()
    if scope is None:
        return
    options = g.get("_vr_criteria")
    if options is None:  # built once a request: the same for each of its statements
        options = g._vr_criteria = criteria(scope)
    state.statement = state.statement.options(*options)


#: URL arguments that name an object of the register, and the table it lives in.
OBJECT_ARGUMENTS = {
    "supplier_id": "suppliers",
    "assessment_id": "assessments",
    "finding_id": "findings",
    "contact_id": "contacts",
    "contract_id": "contracts",
    "attestation_id": "attestations",
    "clarification_id": "clarifications",
    "proposal_id": "attestation_proposals",
    "cover_id": "covers",
    "invitation_id": "invitations",
    "file_id": "stored_files",
    "child_id": None,  # a supplier's contact, contract or attestation: any of the three
}


def _class_of(table_name: str) -> type:
    return next(m.class_ for m in db.Model.registry.mappers if m.local_table.name == table_name)


def _hidden_object() -> str | None:
    """The URL's object that exists but lies outside the user's units, as "table #id"."""
    for argument, value in (request.view_args or {}).items():
        if argument not in OBJECT_ARGUMENTS or not isinstance(value, int):
            continue
        names = OBJECT_ARGUMENTS[argument] or ("contacts", "contracts", "attestations")
        for name in [names] if isinstance(names, str) else names:
            if db.session.get(_class_of(name), value) is not None:
                break  # in scope (a child_id names one of three kinds: one is enough)
            table = db.metadata.tables[name]
            hit = db.session.execute(
                sa.select(table.c.id).where(table.c.id == value),
                execution_options={_OPTION: True},
            ).first()
            if hit is not None:
                return f"{name} #{value}"
    return None


def refuse_hidden_objects() -> None:
    """before_request: a URL naming another unit's object is answered 404 before its view runs
    (so no form check or redirect of the view tells it apart from a missing object), and the
    attempt is recorded in the audit log (refusals.record)."""
    if not request.view_args or current_scope() is None:
        return
    hidden = _hidden_object()
    if hidden:
        refused("out_of_scope", hidden)
        abort(404)


def init_app(app: Flask) -> None:
    # before_request hooks run in order: this one after the login and the route's access rule
    app.before_request(refuse_hidden_objects)
