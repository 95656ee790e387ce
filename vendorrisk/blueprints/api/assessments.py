"""Assessments: their status and scores."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from vendorrisk.access import READERS, access
from vendorrisk.blueprints.api import bp, schemas
from vendorrisk.blueprints.api.pagination import LINK_HEADER, page
from vendorrisk.extensions import db
from vendorrisk.models import Assessment

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
