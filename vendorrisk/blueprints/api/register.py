"""What belongs to a supplier in the register: contacts, contracts, certifications.

Each is listed, created and changed with the register's own form (blueprints/api/forms.py) and
service (services/register/suppliers.py), as on the supplier's page; files are not taken here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort

from vendorrisk.access import READERS, REGISTER_EDITORS, access
from vendorrisk.blueprints.api import bp, schemas
from vendorrisk.blueprints.api.forms import validated
from vendorrisk.blueprints.api.suppliers import supplier_or_404
from vendorrisk.blueprints.suppliers.forms import AttestationForm, ContactForm, ContractForm
from vendorrisk.extensions import db
from vendorrisk.models import Attestation, Contact, Contract
from vendorrisk.services.register import suppliers

ID = "int(max=2147483647)"
TAG = {"tags": ["register"]}


def _child(model: type, supplier_id: int, child_id: int) -> Any:
    stmt = sa.select(model).where(model.id == child_id, model.supplier_id == supplier_id)
    return db.session.scalar(stmt) or abort(404)


# -- contacts ----------------------------------------------------------------------------------


@bp.route(f"/suppliers/<{ID}:supplier_id>/contacts", methods=["GET"])
@access(read=READERS)
@bp.response(200, schemas.Contact(many=True))
@bp.doc(**TAG)
def list_contacts(supplier_id: int):
    """A supplier's contacts."""
    return supplier_or_404(supplier_id).contacts


@bp.route(f"/suppliers/<{ID}:supplier_id>/contacts", methods=["POST"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.NewContact)
@bp.response(201, schemas.Contact)
@bp.doc(**TAG)
def create_contact(body, supplier_id: int):
    """Add a contact (one email address once per supplier; one primary contact)."""
    supplier = supplier_or_404(supplier_id)
    form = validated(ContactForm, body, supplier_id=supplier_id)
    return suppliers.add_contact(supplier, form.model_data())


@bp.route(f"/suppliers/<{ID}:supplier_id>/contacts/<{ID}:contact_id>", methods=["PATCH"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.ContactChanges)
@bp.response(200, schemas.Contact)
@bp.doc(**TAG)
def update_contact(body, supplier_id: int, contact_id: int):
    """Change some of a contact's fields; those left out keep their value."""
    contact = _child(Contact, supplier_id, contact_id)
    form = validated(ContactForm, body, contact, supplier_id=supplier_id, contact_id=contact_id)
    return suppliers.update_contact(contact, form.model_data())


# -- contracts ---------------------------------------------------------------------------------


@bp.route(f"/suppliers/<{ID}:supplier_id>/contracts", methods=["GET"])
@access(read=READERS)
@bp.response(200, schemas.Contract(many=True))
@bp.doc(**TAG)
def list_contracts(supplier_id: int):
    """A supplier's contracts with their Direction 9 security clauses."""
    return supplier_or_404(supplier_id).contracts


@bp.route(f"/suppliers/<{ID}:supplier_id>/contracts", methods=["POST"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.NewContract)
@bp.response(201, schemas.Contract)
@bp.doc(**TAG)
def create_contract(body, supplier_id: int):
    """Record a contract."""
    supplier = supplier_or_404(supplier_id)
    return suppliers.add_contract(supplier, validated(ContractForm, body).model_data())


@bp.route(f"/suppliers/<{ID}:supplier_id>/contracts/<{ID}:contract_id>", methods=["PATCH"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.ContractChanges)
@bp.response(200, schemas.Contract)
@bp.doc(**TAG)
def update_contract(body, supplier_id: int, contract_id: int):
    """Change some of a contract's fields; those left out keep their value."""
    contract = _child(Contract, supplier_id, contract_id)
    return suppliers.apply(contract, validated(ContractForm, body, contract).model_data())


# -- certifications and declarations -------------------------------------------------------------


@bp.route(f"/suppliers/<{ID}:supplier_id>/attestations", methods=["GET"])
@access(read=READERS)
@bp.response(200, schemas.Attestation(many=True))
@bp.doc(**TAG)
def list_attestations(supplier_id: int):
    """A supplier's certifications, declarations and insurance (reviewed facts)."""
    return supplier_or_404(supplier_id).attestations


@bp.route(f"/suppliers/<{ID}:supplier_id>/attestations", methods=["POST"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.NewAttestation)
@bp.response(201, schemas.Attestation)
@bp.doc(**TAG)
def create_attestation(body, supplier_id: int):
    """Record a certification or declaration; each kind asks its own fields."""
    supplier = supplier_or_404(supplier_id)
    form = validated(AttestationForm, body, kind_fixed=True)
    return suppliers.add_attestation(supplier, form.model_data())


@bp.route(f"/suppliers/<{ID}:supplier_id>/attestations/<{ID}:attestation_id>", methods=["PATCH"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.AttestationChanges)
@bp.response(200, schemas.Attestation)
@bp.doc(**TAG)
def update_attestation(body, supplier_id: int, attestation_id: int):
    """Change some fields of a certification (its kind stays)."""
    attestation = _child(Attestation, supplier_id, attestation_id)
    form = validated(AttestationForm, body, attestation, kind_fixed=True)
    return suppliers.apply(attestation, form.model_data())
