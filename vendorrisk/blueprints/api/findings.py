"""Findings raised from answers."""

from __future__ import annotations

import sqlalchemy as sa

from vendorrisk.access import READERS, access
from vendorrisk.blueprints.api import bp, schemas
from vendorrisk.blueprints.api.pagination import LINK_HEADER, page
from vendorrisk.models import Finding


@bp.route("/findings", methods=["GET"])
@access(read=READERS)
@bp.arguments(schemas.FindingQuery, location="query", as_kwargs=True)
@bp.response(200, schemas.FindingPage, headers=LINK_HEADER)
@bp.doc(tags=["findings"])
def list_findings(**args):
    """List findings (filters: supplier_id, status, severity)."""
    stmt = sa.select(Finding)
    for column, value in (
        (Finding.supplier_id, args["supplier_id"]),
        (Finding.status, args["status"]),
        (Finding.severity, args["severity"]),
    ):
        if value:
            stmt = stmt.where(column == value)
    return page(stmt, Finding.id, args)
