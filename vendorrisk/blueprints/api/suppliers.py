"""Suppliers and their contacts: list, read, create, change, and keep in step by 法人番号."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort as abort_with

from vendorrisk import clock
from vendorrisk.access import READERS, REGISTER_EDITORS, access
from vendorrisk.blueprints.api import bp, schemas
from vendorrisk.blueprints.api.forms import validated
from vendorrisk.blueprints.api.pagination import LINK_HEADER, page
from vendorrisk.blueprints.suppliers.forms import INVALID_CORPORATE_NUMBER, SupplierForm
from vendorrisk.extensions import db
from vendorrisk.models import Supplier, SupplierStatus
from vendorrisk.services.register import suppliers
from vendorrisk.services.register.suppliers import SupplierFilter
from vendorrisk.services.review import tiers
from vendorrisk.services.users import units
from vendorrisk.validation import is_valid_corporate_number, normalize_corporate_number

TAG = {"tags": ["suppliers"]}


def supplier_or_404(supplier_id: int) -> Supplier:
    """The supplier, read through the ORM (so the register's row-level rules apply)."""
    return db.session.scalar(sa.select(Supplier).where(Supplier.id == supplier_id)) or abort(404)


def _unit_id(code: str | None, choices: list) -> int | None:
    """The id of the unit of this code among the caller's choices; 422 on any other code."""
    if code is None or code == "":
        return None
    found = next((u.id for u in choices if u.code.lower() == code.lower()), None)
    if found is None:
        message = _("No business unit of yours has this code.")
        abort_with(422, messages={"json": {"unit": [message]}})
    return found


def _save(supplier: Supplier | None, body: dict[str, Any]) -> Supplier:
    """Check `body` with the supplier form over the current values; create or change; tier."""
    if supplier is None:
        body = {"status": SupplierStatus.onboarding.value, **body}  # the model's default
    keep_unit = supplier.unit_id if supplier else None
    choices = units.choices_for(current_user, keep_id=keep_unit)
    if "unit" in body:
        body = {**body, "unit_id": _unit_id(body.pop("unit"), choices)}
    form = validated(
        SupplierForm,
        body,
        supplier,
        owners=suppliers.owners(keep_id=supplier.owner_id if supplier else None),
        units=choices,
        supplier_id=supplier.id if supplier else None,
    )
    if supplier is None:
        supplier = suppliers.create_supplier(form.model_data())
    else:
        suppliers.apply(supplier, form.model_data())
    tiers.apply_tier_rules(supplier, tiers.tier_rules(), clock.now())
    return supplier


@bp.route("/suppliers", methods=["GET"])
@access(read=READERS)
@bp.arguments(schemas.SupplierQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.SupplierPage, headers=LINK_HEADER)
@bp.doc(**TAG)
def list_suppliers(**args):
    """List suppliers (filters: q, tier, status, category, criticality, updated_since)."""
    criteria = SupplierFilter(
        q=args["q"],
        tier=args["tier"],
        status=args["status"],
        category=args["category"],
        criticality=args["criticality"],
    )
    stmt = suppliers.search(criteria, clock.today())
    if args["updated_since"] is not None:
        stmt = stmt.where(Supplier.updated_at >= args["updated_since"])
    return page(stmt, Supplier.id, args)


@bp.route("/suppliers", methods=["POST"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.NewSupplier)
@bp.response(201, schemas.Supplier)
@bp.doc(**TAG)
def create_supplier(body):
    """Register a supplier (the register's rules: check digit, unique corporate number...)."""
    body.setdefault("owner_id", current_user.id)
    return _save(None, body)


@bp.route("/suppliers/<int(max=2147483647):supplier_id>", methods=["GET"])
@access(read=READERS)
@bp.response(200, schemas.Supplier)
@bp.doc(**TAG)
def get_supplier(supplier_id: int):
    """One supplier."""
    return supplier_or_404(supplier_id)


@bp.route("/suppliers/<int(max=2147483647):supplier_id>", methods=["PATCH"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.SupplierChanges)
@bp.response(200, schemas.Supplier)
@bp.doc(**TAG)
def update_supplier(body, supplier_id: int):
    """Change some of a supplier's fields; those left out keep their value."""
    return _save(supplier_or_404(supplier_id), body)


@bp.route("/suppliers/by-corporate-number/<string:corporate_number>", methods=["PUT"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.UpsertSupplier)
@bp.response(200, schemas.Supplier, description="The supplier was already registered: updated.")
@bp.alt_response(201, schema=schemas.Supplier, description="The supplier was registered.")
@bp.doc(**TAG)
def upsert_supplier(body, corporate_number: str):
    """Register or update the supplier with this 法人番号 (idempotent: a purchasing system keeps
    the register in step). Fields left out keep their value (their default when new)."""
    number = normalize_corporate_number(corporate_number)
    if not is_valid_corporate_number(number):
        abort_with(422, messages={"path": {"corporate_number": [_invalid_number()]}})
    if body.get("corporate_number") not in (None, number):
        abort_with(422, messages={"json": {"corporate_number": [_path_differs()]}})
    supplier = db.session.scalar(sa.select(Supplier).where(Supplier.corporate_number == number))
    created = supplier is None
    saved = _save(supplier, {**body, "corporate_number": number})
    return saved, 201 if created else 200


def _invalid_number() -> str:
    return str(INVALID_CORPORATE_NUMBER)


def _path_differs() -> str:
    from flask_babel import gettext

    return gettext("The corporate number in the body differs from the one in the URL.")
