"""Assessments: their status and scores."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from flask_smorest import abort as abort_with
from werkzeug.datastructures import MultiDict

from vendorrisk import clock
from vendorrisk.access import READERS, REGISTER_EDITORS, access
from vendorrisk.blueprints.api import bp, schemas
from vendorrisk.blueprints.api.pagination import LINK_HEADER, page
from vendorrisk.blueprints.api.suppliers import supplier_or_404
from vendorrisk.blueprints.assessments.forms import SendForm
from vendorrisk.blueprints.assessments.lookups import supplier_templates
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import Assessment
from vendorrisk.services.assessments import lifecycle

TAG = {"tags": ["assessments"]}


@bp.route("/assessments", methods=["GET"])
@access(read=READERS)
@bp.arguments(schemas.AssessmentQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.AssessmentPage, headers=LINK_HEADER)
@bp.doc(**TAG)
def list_assessments(**args):
    """List assessments (filters: supplier_id, status)."""
    stmt = sa.select(Assessment)
    if args["supplier_id"] is not None:
        stmt = stmt.where(Assessment.supplier_id == args["supplier_id"])
    if args["status"]:
        stmt = stmt.where(Assessment.status == args["status"])
    return page(stmt, Assessment.id, args)


@bp.route("/assessments/<int(max=2147483647):assessment_id>", methods=["GET"])
@access(read=READERS)
@bp.response(200, schemas.Assessment)
@bp.doc(**TAG)
def get_assessment(assessment_id: int):
    """One assessment: status, dates, decision and scores."""
    stmt = sa.select(Assessment).where(Assessment.id == assessment_id)
    return db.session.scalar(stmt) or abort(404)


@bp.route("/suppliers/<int(max=2147483647):supplier_id>/assessments", methods=["POST"])
@access(write=REGISTER_EDITORS)
@bp.arguments(schemas.SendQuestionnaire)
@bp.response(201, schemas.Assessment)
@bp.doc(**TAG)
def send_questionnaire(body, supplier_id: int):
    """Send a questionnaire, as the supplier's "send" page does: an emailed link to each chosen
    contact (through the outbox, after the commit), in the contact's language."""
    supplier = supplier_or_404(supplier_id)
    form = SendForm(
        formdata=MultiDict(
            [
                ("template_id", body["template_id"]),
                ("due_on", body["due_on"].isoformat()),
                ("message", body["message"]),
                *(("contact_ids", str(contact_id)) for contact_id in body["contact_ids"]),
            ]
        ),
        meta={"csrf": False},
        templates=supplier_templates(),
        contacts=supplier.contacts,
    )
    if not form.validate():
        abort_with(422, messages={"json": dict(form.errors)})
    return lifecycle.create_assessment(
        supplier,
        catalog().get(form.template_id.data),
        form.due_on.data,
        form.message.data or "",
        form.recipients(supplier, None),
        current_user._get_current_object(),
        clock.now(),
    )
