"""Findings (指摘事項): raised in a review, followed up until closed or their risk accepted."""

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import FINDING_EDITORS, READERS, REVIEWERS, RISK_APPROVERS, access
from vendorrisk.blueprints.assessments import bp
from vendorrisk.blueprints.assessments.forms import (
    AcceptRiskForm,
    FindingFilterForm,
    FindingStatusForm,
)
from vendorrisk.blueprints.assessments.lookups import (
    back_to_assessment,
    posted_review_form,
    supplier_templates,
)
from vendorrisk.blueprints.common.forms import flash_errors
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import db
from vendorrisk.i18n import choices
from vendorrisk.models import Finding, FindingStatus
from vendorrisk.services.register import suppliers
from vendorrisk.services.reporting import scope
from vendorrisk.services.review import findings as finding_service


@bp.route("/assessments/<int:assessment_id>/findings", methods=["POST"])
@access(write=REVIEWERS)
def raise_finding(assessment_id: int):
    assessment, _template, form = posted_review_form(assessment_id, "finding_form")
    if not form.validate_on_submit():
        flash_errors(form)
        return back_to_assessment(assessment_id, anchor="findings")
    finding_service.raise_finding(assessment.supplier, form.finding_data(), assessment)
    return back_to_assessment(assessment_id, _("The finding has been raised."), anchor="findings")


def _findings_query(status: str, form: FindingFilterForm):
    """The findings of a status tab ("open": open or in progress) under the list's filters."""
    stmt = sa.select(Finding).options(
        sa.orm.joinedload(Finding.supplier), sa.orm.joinedload(Finding.owner)
    )
    if status == "open":
        stmt = stmt.where(Finding.is_open)
    elif status in FindingStatus.__members__:
        stmt = stmt.where(Finding.status == status)
    chosen = {k: form.valid().get(k, "") for k in ("severity", "age", "accepted")}
    live = form.valid().get("live") == "1"
    stmt = stmt.where(
        *scope.finding_conditions(clock.today(), **chosen, live=live, within=form.scope())
    )
    return stmt.order_by(Finding.due_on.is_(None), Finding.due_on, Finding.id)


@bp.route("/findings/")
@access(read=READERS)
def findings():
    status = request.args.get("status", "open")
    form = FindingFilterForm(
        request.args, owners=suppliers.owners(), templates=supplier_templates()
    )
    page = db.paginate(
        _findings_query(status, form), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return render_template(
        "assessments/findings.html",
        form=form,
        page=page,
        status=status,
        statuses=list(FindingStatus),
        today=clock.today(),
    )


@bp.route("/findings/<int:finding_id>")
@access(read=READERS)
def finding(finding_id: int):
    item = db.get_or_404(Finding, finding_id)
    status_form = FindingStatusForm(status=item.status.value)
    status_form.status.choices = choices(FindingStatus)
    return render_template(
        "assessments/finding.html",
        finding=item,
        status_form=status_form,
        accept_form=AcceptRiskForm(),
        today=clock.today(),
    )


@bp.route("/findings/<int:finding_id>/status", methods=["POST"])
@access(write=FINDING_EDITORS)
@fails_to(".finding")
def finding_status(finding_id: int):
    item = db.get_or_404(Finding, finding_id)
    form = FindingStatusForm()
    form.status.choices = choices(FindingStatus)
    if form.validate_on_submit():
        finding_service.move_finding(item, FindingStatus(form.status.data), clock.now())
        flash(_("The changes have been saved."), "success")
    return redirect(url_for(".finding", finding_id=finding_id))


@bp.route("/findings/<int:finding_id>/accept", methods=["POST"])
@access(write=RISK_APPROVERS)
@fails_to(".finding")
def accept_risk(finding_id: int):
    item = db.get_or_404(Finding, finding_id)
    form = AcceptRiskForm()
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for(".finding", finding_id=finding_id))
    finding_service.accept_risk(
        item, current_user, form.reason.data, form.until.data, clock.today()
    )
    until = form.until.data.isoformat()
    flash(_("The risk has been accepted until %(date)s.", date=until), "success")
    return redirect(url_for(".finding", finding_id=finding_id))
