"""Sending questionnaires (procurement): to one supplier from its page, in bulk, and the links
that follow — sent again, revoked, added — with the due date extended or the assessment
cancelled."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import REGISTER_EDITORS, access
from vendorrisk.blueprints.assessments import bp
from vendorrisk.blueprints.assessments.forms import (
    ActionForm,
    CampaignForm,
    ExtendForm,
    InviteForm,
    SendForm,
)
from vendorrisk.blueprints.assessments.lookups import (
    assessment_or_404,
    back_to_assessment,
    supplier_templates,
    template_of,
)
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import Assessment, Invitation, Supplier
from vendorrisk.services.assessments import lifecycle as assessments
from vendorrisk.services.register import suppliers
from vendorrisk.services.review import tiers


def _send_form(supplier: Supplier) -> SendForm:
    """The send form, with the questionnaire the tier rules give the supplier's tier chosen."""
    suggested = tiers.tier_rules().template_by_tier.get(supplier.tier or "")
    return SendForm(templates=supplier_templates(), contacts=supplier.contacts, suggested=suggested)


def _send_page(supplier_id: int, error: Exception | None = None):
    """The send form, as posted; a refusal of the service is shown on the contacts."""
    supplier = suppliers.get_full(supplier_id) or abort(404)
    form = _send_form(supplier)
    if error is not None:
        form.contact_ids.errors = [str(error)]
    return render_template("assessments/send.html", form=form, supplier=supplier)


@bp.route("/suppliers/<int:supplier_id>/send", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
@fails_to(render=lambda error, supplier_id: _send_page(supplier_id, error))
def send(supplier_id: int):
    """Where procurement expects it: on the supplier, under /suppliers/<id>/send."""
    supplier = suppliers.get_full(supplier_id) or abort(404)
    form = _send_form(supplier)
    if not form.validate_on_submit():
        return render_template("assessments/send.html", form=form, supplier=supplier)
    recipients = form.recipients(supplier, request.form)
    assessment = assessments.create_assessment(
        supplier,
        catalog().get(form.template_id.data),
        form.due_on.data,
        form.message.data or "",
        recipients,
        current_user,
        clock.now(),
    )
    flash(_("The questionnaire has been sent to %(n)d contacts.", n=len(recipients)), "success")
    return redirect(url_for(".detail", assessment_id=assessment.id))


@bp.route("/assessments/campaign", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
def campaign():
    form = CampaignForm(templates=supplier_templates(), owners=suppliers.owners())
    if not form.validate_on_submit():
        return render_template("assessments/campaign.html", form=form, matched=None)
    criteria = form.criteria()
    stmt = suppliers.search(criteria).options(sa.orm.selectinload(Supplier.contacts))
    matched = list(db.session.scalars(stmt).unique())
    if not (form.submit.data and matched):
        return render_template("assessments/campaign.html", form=form, matched=matched)
    if form.template_id.data == assessments.BY_TIER:
        rules = tiers.tier_rules()

        def chosen(supplier: Supplier):  # a supplier not yet tiered is asked the medium pack
            return catalog().get(rules.template_by_tier.get(supplier.tier or "medium", ""))
    else:
        chosen = catalog().get(form.template_id.data)
    result = assessments.run_campaign(
        form.name.data,
        chosen,
        matched,
        form.due_on.data,
        form.message.data or "",
        current_user,
        criteria.__dict__,
        clock.now(),
    )
    return render_template("assessments/campaign_done.html", result=result)


def _invitation(assessment: Assessment, invitation_id: int) -> Invitation:
    found = next((i for i in assessment.invitations if i.id == invitation_id), None)
    return found or abort(404)


@bp.route(
    "/assessments/<int:assessment_id>/invitations/<int:invitation_id>/resend", methods=["POST"]
)
@access(write=REGISTER_EDITORS)
@fails_to(".detail")
def resend(assessment_id: int, invitation_id: int):
    ActionForm().validate_on_submit() or abort(400)
    assessment = assessment_or_404(assessment_id)
    template = template_of(assessment)
    assessments.resend(_invitation(assessment, invitation_id), template, clock.now())
    return back_to_assessment(assessment_id, _("A new link has been sent."))


@bp.route(
    "/assessments/<int:assessment_id>/invitations/<int:invitation_id>/revoke", methods=["POST"]
)
@access(write=REGISTER_EDITORS)
@fails_to(".detail")
def revoke(assessment_id: int, invitation_id: int):
    ActionForm().validate_on_submit() or abort(400)
    assessment = assessment_or_404(assessment_id)
    assessments.revoke(_invitation(assessment, invitation_id), clock.now())
    return back_to_assessment(assessment_id, _("The link has been revoked."))


@bp.route("/assessments/<int:assessment_id>/invite", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".detail")
def invite(assessment_id: int):
    form = InviteForm()
    form.contact_id.choices = None
    form.contact_id.validate_choice = False
    form.validate_on_submit() or abort(400)
    assessment = assessment_or_404(assessment_id)
    template = template_of(assessment)
    contacts = assessment.supplier.contacts
    contact = next((c for c in contacts if c.id == form.contact_id.data), None) or abort(404)
    if not assessment.is_open:
        raise assessments.AssessmentError(_("This assessment is no longer open."))
    assessments.invite(assessment, template, contact, form.locale.data, clock.now())
    return back_to_assessment(assessment_id, _("The link has been sent."))


@bp.route("/assessments/<int:assessment_id>/extend", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".detail")
def extend(assessment_id: int):
    form = ExtendForm()
    if not form.validate_on_submit():
        flash(" ".join(map(str, form.due_on.errors)) or _("Enter a valid date."), "error")
        return back_to_assessment(assessment_id)
    assessment = assessment_or_404(assessment_id)
    assessments.extend(assessment, template_of(assessment), form.due_on.data, clock.now())
    return back_to_assessment(
        assessment_id, _("The due date has been extended and the contacts informed.")
    )


@bp.route("/assessments/<int:assessment_id>/cancel", methods=["POST"])
@access(write=REGISTER_EDITORS)
@fails_to(".detail")
def cancel(assessment_id: int):
    ActionForm().validate_on_submit() or abort(400)
    assessment = assessment_or_404(assessment_id)
    assessments.cancel(assessment, template_of(assessment), clock.now())
    return back_to_assessment(
        assessment_id, _("The assessment has been cancelled and the contacts informed.")
    )
