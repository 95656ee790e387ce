"""Planning a supplier import: every row checked and matched with the register, nothing written.

Rows with the same corporate number (or, without one, the same name in Japanese) are one
supplier: their values are merged, and a value that differs from an earlier row's is an error.
An existing supplier is found by corporate number, or by its exact name when exactly one
supplier has it; the cells given overwrite its values and empty cells leave them. Contacts are
matched by (supplier, email address). What the file refers to is loaded in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from vendorrisk import scoping
from vendorrisk.extensions import db
from vendorrisk.models import Contact, Supplier, User
from vendorrisk.services.register.imports.columns import (
    CONTACT_FIELDS,
    FIELD_BY_KEY,
    SUPPLIER_FIELDS,
    check_mapping,
    choice_lookups,
    field_headers,
)
from vendorrisk.services.register.imports.files import Table
from vendorrisk.services.register.imports.rows import CellReader, Row, RowError, read_row

#: Values per IN (...) when loading what the file refers to.
CHUNK = 500


@dataclass
class ContactPlan:
    email: str
    existing: Contact | None
    values: dict[str, Any] = field(default_factory=dict)
    given_by: dict[str, Row] = field(default_factory=dict)

    def changes(self) -> dict[str, Any]:
        if self.existing is None:
            return self.values
        return {k: v for k, v in self.values.items() if getattr(self.existing, k) != v}


@dataclass
class SupplierPlan:
    """One supplier of the file: the rows that name it, merged, and what exists already."""

    existing: Supplier | None
    rows: list[Row] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    given_by: dict[str, Row] = field(default_factory=dict)
    contacts: dict[str, ContactPlan] = field(default_factory=dict)
    primary: tuple[str, Row] | None = None

    def changes(self) -> dict[str, Any]:
        if self.existing is None:
            return self.values
        return {k: v for k, v in self.values.items() if getattr(self.existing, k) != v}

    @property
    def action(self) -> str:
        if self.existing is None:
            return "create"
        return "update" if self.changes() else "unchanged"


@dataclass
class Summary:
    suppliers_created: int = 0
    suppliers_updated: int = 0
    suppliers_unchanged: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    rows_imported: int = 0
    rows_skipped: int = 0

    def lines(self) -> list[str]:
        """The counts in words, in the current language."""
        return [
            _("Suppliers created: %(n)d", n=self.suppliers_created),
            _("Suppliers updated: %(n)d", n=self.suppliers_updated),
            _("Suppliers unchanged: %(n)d", n=self.suppliers_unchanged),
            _("Contacts created: %(n)d", n=self.contacts_created),
            _("Contacts updated: %(n)d", n=self.contacts_updated),
            _("Contacts unchanged: %(n)d", n=self.contacts_unchanged),
            _("Rows imported: %(n)d", n=self.rows_imported),
            _("Rows skipped: %(n)d", n=self.rows_skipped),
        ]


@dataclass
class Plan:
    """What importing a file would do; nothing is written until `writing.apply`."""

    table: Table
    mapping: list[str | None]
    skip_invalid: bool
    rows: list[Row]
    suppliers: list[SupplierPlan]
    errors: list[RowError]

    @property
    def can_apply(self) -> bool:
        return not self.errors or self.skip_invalid

    @property
    def invalid_rows(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    def summary(self) -> Summary:
        s = Summary(rows_skipped=self.invalid_rows if self.skip_invalid else 0)
        for plan in self.suppliers:
            s.rows_imported += len(plan.rows)
            action = plan.action
            s.suppliers_created += action == "create"
            s.suppliers_updated += action == "update"
            s.suppliers_unchanged += action == "unchanged"
            for contact in plan.contacts.values():
                s.contacts_created += contact.existing is None
                changed = contact.existing is not None and bool(contact.changes())
                s.contacts_updated += changed
                s.contacts_unchanged += contact.existing is not None and not changed
        return s

    def headers(self) -> dict[str, str]:
        return field_headers(self.table, self.mapping)


def plan(table: Table, mapping: Sequence[str | None], skip_invalid: bool = False) -> Plan:
    """Check every row and match it with the register, writing nothing."""
    mapping = list(mapping) + [None] * (len(table.headers) - len(mapping))
    check_mapping(mapping)
    columns = [(i, FIELD_BY_KEY[key]) for i, key in enumerate(mapping) if key]
    headers = field_headers(table, mapping)
    reader = CellReader(choice_lookups(), _users(table, mapping))
    rows = [read_row(n, cells, columns, reader, headers) for n, cells in table.rows]
    valid = [row for row in rows if not row.errors]
    suppliers = _group(valid, _Register.load(valid), headers)
    suppliers = _named(suppliers, headers)
    for supplier in suppliers:
        for row in supplier.rows:
            row.action = supplier.action
    errors = sorted((e for row in rows for e in row.errors), key=lambda e: e.row)
    return Plan(table, mapping, skip_invalid, rows, suppliers, errors)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _users(table: Table, mapping: Sequence[str | None]) -> dict[str, int]:
    """Active users by lower-case email, for the owners the file names."""
    if "owner_email" not in mapping:
        return {}
    column = mapping.index("owner_email")
    emails = {cells[column].lower() for _, cells in table.rows if cells[column]}
    found: dict[str, int] = {}
    for chunk in _chunks(emails):
        stmt = sa.select(sa.func.lower(User.email), User.id).where(
            User.active, sa.func.lower(User.email).in_(chunk)
        )
        found.update(dict(db.session.execute(stmt).all()))
    return found


#: A row naming a supplier of another business unit by its corporate number: neither a new
#: supplier (the number is unique) nor an update (not the importing user's to change).
HIDDEN_NUMBER = _l(
    "This corporate number belongs to a supplier of a business unit you do not work for."
)


@dataclass
class _Register:
    """The existing suppliers the rows refer to, with their contacts, loaded in bulk."""

    by_number: dict[str, Supplier]
    by_name: dict[str, list[Supplier]]
    #: Corporate numbers of suppliers of a business unit the importing user does not see.
    hidden_numbers: frozenset[str] = frozenset()

    @classmethod
    def load(cls, rows: list[Row]) -> _Register:
        numbers = {
            row.values["corporate_number"] for row in rows if "corporate_number" in row.values
        }
        by_number = {s.corporate_number: s for s in cls._fetch(Supplier.corporate_number, numbers)}
        # Rows without a corporate number, or with one the register does not know, match by name.
        names = {
            row.values["name_ja"]
            for row in rows
            if "name_ja" in row.values and row.values.get("corporate_number") not in by_number
        }
        by_name: dict[str, list[Supplier]] = {}
        for s in cls._fetch(Supplier.name_ja, names):
            by_name.setdefault(s.name_ja, []).append(s)
        return cls(by_number, by_name, cls._hidden(numbers - by_number.keys()))

    @staticmethod
    def _hidden(numbers: set[str]) -> frozenset[str]:
        found: set[str] = set()
        for chunk in _chunks(numbers):
            stmt = sa.select(Supplier.corporate_number).where(Supplier.corporate_number.in_(chunk))
            found.update(db.session.scalars(stmt, execution_options=scoping.UNSCOPED))
        return frozenset(found)

    @staticmethod
    def _fetch(column: Any, values: set[str]) -> list[Supplier]:
        found: list[Supplier] = []
        for chunk in _chunks(values):
            stmt = sa.select(Supplier).where(column.in_(chunk))
            found += db.session.scalars(stmt.options(selectinload(Supplier.contacts))).all()
        return found

    def match(self, row: Row) -> tuple[Any, Supplier | None]:
        """The key that groups the row, and the existing supplier it updates if any.

        A corporate number the register does not know is given to the supplier of the same
        name that has none, if exactly one such supplier exists (registered before its
        number was known); otherwise the row is a new supplier.
        """
        number = row.values.get("corporate_number")
        if number:
            existing = self.by_number.get(number)
            if existing is None and "name_ja" in row.values:
                same_name = self.by_name.get(row.values["name_ja"], [])
                unnumbered = [s for s in same_name if s.corporate_number is None]
                existing = unnumbered[0] if len(unnumbered) == 1 else None
            return (("id", existing.id) if existing else ("number", number)), existing
        same_name = self.by_name.get(row.values["name_ja"], [])
        if len(same_name) == 1:
            return ("id", same_name[0].id), same_name[0]
        return ("name", row.values["name_ja"]), None


def _group(rows: list[Row], register: _Register, headers: dict[str, str]) -> list[SupplierPlan]:
    """Merge the rows of each supplier; a row whose values contradict an earlier row's is left out.

    A row without a corporate number that no existing supplier matches joins the supplier of
    the file with the same name and a corporate number new to the register, if any.
    """
    matches = [register.match(row) for row in rows]
    numbered = {}
    for row, (key, existing) in zip(rows, matches, strict=True):
        number = row.values.get("corporate_number")
        new_number = existing is None or existing.corporate_number != number
        if number and new_number and "name_ja" in row.values:
            numbered.setdefault(row.values["name_ja"], key)
    plans: dict[Any, SupplierPlan] = {}
    for row, (key, existing) in zip(rows, matches, strict=True):
        if row.values.get("corporate_number") in register.hidden_numbers:
            row.errors = [RowError(row.number, headers["corporate_number"], str(HIDDEN_NUMBER))]
            continue
        if key[0] == "name":
            key = numbered.get(key[1], key)
        supplier = plans.setdefault(key, SupplierPlan(existing))
        row.errors = _conflicts(supplier, row, headers)
        if not row.errors:
            _merge(supplier, row)
    return list(plans.values())


def _differs(given_by: dict[str, Row], values: dict[str, Any], row: Row, headers, keys):
    for attr, key in keys:
        earlier = given_by.get(attr)
        if attr in values and earlier is not None and earlier.values[key] != row.values[key]:
            yield RowError(
                row.number,
                headers[key],
                _(
                    "This differs from row %(row)d of the same supplier (“%(value)s”).",
                    row=earlier.number,
                    value=earlier.raw[key],
                ),
            )


def _conflicts(supplier: SupplierPlan, row: Row, headers: dict[str, str]) -> list[RowError]:
    keys = [(f.attr, f.key) for f in SUPPLIER_FIELDS]
    errors = list(_differs(supplier.given_by, row.supplier_values(), row, headers, keys))
    contact = row.contact_values()
    if contact:
        planned = supplier.contacts.get(contact["email"])
        if planned is not None:
            keys = [(f.attr, f.key) for f in CONTACT_FIELDS]
            errors += _differs(planned.given_by, contact, row, headers, keys)
        if (
            contact.get("is_primary")
            and supplier.primary
            and supplier.primary[0] != contact["email"]
        ):
            errors.append(
                RowError(
                    row.number,
                    headers["contact_is_primary"],
                    _(
                        "Row %(row)d already makes another contact the primary one of this "
                        "supplier.",
                        row=supplier.primary[1].number,
                    ),
                )
            )
    return errors


def _merge(supplier: SupplierPlan, row: Row) -> None:
    supplier.rows.append(row)
    for attr, value in row.supplier_values().items():
        supplier.values[attr] = value
        supplier.given_by.setdefault(attr, row)
    contact = row.contact_values()
    if not contact:
        return
    email = contact["email"]
    if email not in supplier.contacts:
        existing = supplier.existing and next(
            (c for c in supplier.existing.contacts if c.email.lower() == email), None
        )
        supplier.contacts[email] = ContactPlan(email, existing or None)
    planned = supplier.contacts[email]
    for attr, value in contact.items():
        planned.values[attr] = value
        planned.given_by.setdefault(attr, row)
    if contact.get("is_primary"):
        supplier.primary = (email, row)


def _named(suppliers: list[SupplierPlan], headers: dict[str, str]) -> list[SupplierPlan]:
    """Drop the new suppliers that no row names in Japanese, with an error on each of their rows."""
    kept = []
    for supplier in suppliers:
        if supplier.existing is None and "name_ja" not in supplier.values:
            for row in supplier.rows:
                row.errors.append(
                    RowError(
                        row.number,
                        headers["name_ja"],
                        _("A new supplier needs its name in Japanese."),
                    )
                )
        else:
            kept.append(supplier)
    return kept
