import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import (
    FINDING_EDITORS,
    READERS,
    REGISTER_EDITORS,
    REVIEWERS,
    RISK_APPROVERS,
    access,
)
from vendorrisk.blueprints.assessments import bp
from vendorrisk.blueprints.assessments.forms import (
    AcceptRiskForm,
    ActionForm,
    AskForm,
    AssessmentFilterForm,
    CampaignForm,
    CompleteForm,
    ExtendForm,
    FindingFilterForm,
    FindingForm,
    FindingStatusForm,
    InviteForm,
    ReturnForm,
    SendForm,
)
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.i18n import choices, current_locale, options
from vendorrisk.mail import outbox as mail
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Decision,
    Finding,
    FindingStatus,
    Invitation,
    Severity,
    Supplier,
)
from vendorrisk.services.assessments import lifecycle as assessments
from vendorrisk.services.register import suppliers
from vendorrisk.services.reporting import scope
from vendorrisk.services.review import review


def _supplier_templates():
    return [t for t in catalog().current() if t.audience == "supplier"]


def _deliver() -> None:
    """Hand the committed mail to the relay once the response is out; the outbox job retries."""
    mail.deliver_after_response()


@bp.route("/questionnaires/")
@access(read=READERS)
def questionnaires():
    return render_template(
        "assessments/questionnaires.html", templates=catalog().current(), errors=catalog().errors
    )


@bp.route("/questionnaires/<template_id>")
@access(read=READERS)
def questionnaire(template_id: str):
    version = request.args.get("version", type=int)
    template = catalog().get(template_id, version) or abort(404)
    lang = request.args.get("lang")
    if lang not in ("ja", "en"):
        lang = current_locale()
    return render_template("assessments/questionnaire.html", template=template, lang=lang)


@bp.route("/assessments/")
@access(read=READERS)
def index():
    form = AssessmentFilterForm(
        request.args,
        statuses=choices(AssessmentStatus),
        templates=catalog().current(),
        owners=suppliers.owners(),
    )
    stmt = sa.select(Assessment).options(sa.orm.joinedload(Assessment.supplier))
    if form.status.data:
        stmt = stmt.where(Assessment.status == form.status.data)
    if form.template.data:
        stmt = stmt.where(Assessment.template_id == form.template.data)
    flags = {key: form.valid().get(key) == "1" for key in ("overdue", "live")}
    stmt = stmt.where(*scope.assessment_conditions(clock.today(), **flags, within=form.scope()))
    stmt = stmt.order_by(Assessment.due_on.desc(), Assessment.id.desc())
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    counts = (
        dict(
            db.session.execute(
                sa.select(Answer.assessment_id, sa.func.count())
                .where(Answer.assessment_id.in_([a.id for a in page.items]))
                .group_by(Answer.assessment_id)
            ).all()
        )
        if page.items
        else {}
    )
    return render_template(
        "assessments/index.html",
        form=form,
        page=page,
        counts=counts,
        catalog=catalog(),
        today=clock.today(),
    )


@bp.route("/suppliers/<int:supplier_id>/send", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
def send(supplier_id: int):
    supplier = suppliers.get_full(supplier_id) or abort(404)
    form = SendForm(templates=_supplier_templates(), contacts=supplier.contacts)
    if form.validate_on_submit():
        chosen = [c for c in supplier.contacts if c.id in form.contact_ids.data]
        recipients = [assessments.Recipient(c, form.locale_for(c, request.form)) for c in chosen]
        try:
            assessment = assessments.create_assessment(
                supplier,
                catalog().get(form.template_id.data),
                form.due_on.data,
                form.message.data or "",
                recipients,
                current_user,
                clock.now(),
            )
        except assessments.AssessmentError as exc:
            form.contact_ids.errors.append(str(exc))
        else:
            db.session.commit()
            _deliver()
            flash(
                _("The questionnaire has been sent to %(n)d contacts.", n=len(recipients)),
                "success",
            )
            return redirect(url_for(".detail", assessment_id=assessment.id))
    return render_template("assessments/send.html", form=form, supplier=supplier)


@bp.route("/assessments/campaign", methods=["GET", "POST"])
@access(write=REGISTER_EDITORS)
def campaign():
    form = CampaignForm(templates=_supplier_templates(), owners=suppliers.owners())
    matched = None
    if form.validate_on_submit():
        criteria = suppliers.SupplierFilter(
            category=form.category.data or "",
            status=form.status.data or "",
            criticality=form.criticality.data or "",
            owner_id=form.owner.data,
        )
        stmt = suppliers.search(criteria).options(sa.orm.selectinload(Supplier.contacts))
        matched = list(db.session.scalars(stmt).unique())
        if form.submit.data and matched:
            result = assessments.run_campaign(
                form.name.data,
                catalog().get(form.template_id.data),
                matched,
                form.due_on.data,
                form.message.data or "",
                current_user,
                criteria.__dict__,
                clock.now(),
            )
            db.session.commit()
            _deliver()
            return render_template("assessments/campaign_done.html", result=result)
    return render_template("assessments/campaign.html", form=form, matched=matched)


def _assessment(assessment_id: int) -> Assessment:
    return assessments.get_full(assessment_id) or abort(404)


def _template_of(assessment: Assessment):
    return catalog().get(assessment.template_id, assessment.template_version) or abort(500)


@bp.route("/assessments/<int:assessment_id>")
@access(read=READERS)
def detail(assessment_id: int):
    assessment = _assessment(assessment_id)
    template = _template_of(assessment)
    invite_form = InviteForm()
    live = {i.contact_id for i in assessment.invitations if i.revoked_at is None}
    invite_form.contact_id.choices = [
        (c.id, f"{c.name} <{c.email}>") for c in assessment.supplier.contacts if c.id not in live
    ]
    result = review.current_score(assessment, template)
    previous = review.previous_assessment(assessment)
    return render_template(
        "assessments/detail.html",
        assessment=assessment,
        template=template,
        result=result,
        flags=review.flags(assessment, template, result, clock.today()),
        suggestions=review.suggested_findings(assessment, template, result)
        if assessment.status in (AssessmentStatus.submitted, AssessmentStatus.completed)
        else [],
        previous=previous,
        previous_answers={a.question_id: a for a in previous.answers} if previous else {},
        findings=db.session.scalars(
            sa.select(Finding).where(Finding.assessment_id == assessment.id).order_by(Finding.id)
        ).all(),
        **_review_forms(assessment, template),
        progress=assessments.progress_of(assessment, template),
        answers={a.question_id: a for a in assessment.answers},
        history=assessments.history(assessment.id),
        invite_form=invite_form,
        extend_form=ExtendForm(due_on=assessment.due_on),
        action_form=ActionForm(),
        now=clock.now(),
        today=clock.today(),
    )


def _act(assessment_id: int, change, message: str):
    """Run a change on an assessment, commit, deliver its mail, and go back to its page."""
    assessment = _assessment(assessment_id)
    try:
        change(assessment, _template_of(assessment))
    except assessments.AssessmentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        _deliver()
        flash(message, "success")
    return redirect(url_for(".detail", assessment_id=assessment_id))


def _invitation(assessment: Assessment, invitation_id: int) -> Invitation:
    found = next((i for i in assessment.invitations if i.id == invitation_id), None)
    return found or abort(404)


@bp.route(
    "/assessments/<int:assessment_id>/invitations/<int:invitation_id>/resend", methods=["POST"]
)
@access(write=REGISTER_EDITORS)
def resend(assessment_id: int, invitation_id: int):
    ActionForm().validate_on_submit() or abort(400)
    return _act(
        assessment_id,
        lambda a, t: assessments.resend(_invitation(a, invitation_id), t, clock.now()),
        _("A new link has been sent."),
    )


@bp.route(
    "/assessments/<int:assessment_id>/invitations/<int:invitation_id>/revoke", methods=["POST"]
)
@access(write=REGISTER_EDITORS)
def revoke(assessment_id: int, invitation_id: int):
    ActionForm().validate_on_submit() or abort(400)
    return _act(
        assessment_id,
        lambda a, t: assessments.revoke(_invitation(a, invitation_id), clock.now()),
        _("The link has been revoked."),
    )


@bp.route("/assessments/<int:assessment_id>/invite", methods=["POST"])
@access(write=REGISTER_EDITORS)
def invite(assessment_id: int):
    form = InviteForm()
    form.contact_id.choices = None
    form.contact_id.validate_choice = False
    if not form.validate_on_submit():
        abort(400)

    def change(assessment, template):
        contact = next(
            (c for c in assessment.supplier.contacts if c.id == form.contact_id.data), None
        ) or abort(404)
        if not assessment.is_open:
            raise assessments.AssessmentError(_("This assessment is no longer open."))
        assessments.invite(assessment, template, contact, form.locale.data, clock.now())

    return _act(assessment_id, change, _("The link has been sent."))


@bp.route("/assessments/<int:assessment_id>/extend", methods=["POST"])
@access(write=REGISTER_EDITORS)
def extend(assessment_id: int):
    form = ExtendForm()
    if not form.validate_on_submit():
        flash(" ".join(map(str, form.due_on.errors)) or _("Enter a valid date."), "error")
        return redirect(url_for(".detail", assessment_id=assessment_id))
    return _act(
        assessment_id,
        lambda a, t: assessments.extend(a, t, form.due_on.data, clock.now()),
        _("The due date has been extended and the contacts informed."),
    )


@bp.route("/assessments/<int:assessment_id>/cancel", methods=["POST"])
@access(write=REGISTER_EDITORS)
def cancel(assessment_id: int):
    ActionForm().validate_on_submit() or abort(400)
    return _act(
        assessment_id,
        lambda a, t: assessments.cancel(a, t, clock.now()),
        _("The assessment has been cancelled and the contacts informed."),
    )


# -- review ---------------------------------------------------------------------------------


def _review_forms(assessment, template):
    lang = current_locale()
    questions = [(q.id, f"{q.id} — {q.text.get(lang)[:80]}") for q in template.questions]
    ask = AskForm(prefix="ask")
    ask.question_id.choices = options(questions)
    ret = ReturnForm(prefix="ret")
    ret.question_ids.choices = options(questions)
    done = CompleteForm(prefix="done")
    done.decision.choices = choices(Decision)
    finding = FindingForm(prefix="finding")
    finding.question_id.choices = options([("", "—"), *questions])
    finding.severity.choices = choices(Severity)
    finding.owner_id.choices = options([("", "—"), *((u.id, u.label) for u in suppliers.owners())])
    return {"ask_form": ask, "return_form": ret, "complete_form": done, "finding_form": finding}


@bp.route("/assessments/<int:assessment_id>/clarifications", methods=["POST"])
@access(write=REVIEWERS)
def ask(assessment_id: int):
    assessment = _assessment(assessment_id)
    form = _review_forms(assessment, _template_of(assessment))["ask_form"]
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".detail", assessment_id=assessment_id))
    return _act(
        assessment_id,
        lambda a, t: review.ask(
            a, t, form.question_id.data, form.body.data, current_user, clock.now()
        ),
        _("The question has been sent to the supplier."),
    )


@bp.route(
    "/assessments/<int:assessment_id>/clarifications/<int:clarification_id>/close", methods=["POST"]
)
@access(write=REVIEWERS)
def close_clarification(assessment_id: int, clarification_id: int):
    ActionForm().validate_on_submit() or abort(400)

    def change(a, t):
        found = next((c for c in a.clarifications if c.id == clarification_id), None)
        review.close_clarification(found or abort(404), clock.now())

    return _act(assessment_id, change, _("The question has been closed."))


@bp.route("/assessments/<int:assessment_id>/return", methods=["POST"])
@access(write=REVIEWERS)
def return_for_changes(assessment_id: int):
    assessment = _assessment(assessment_id)
    form = _review_forms(assessment, _template_of(assessment))["return_form"]
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".detail", assessment_id=assessment_id))
    return _act(
        assessment_id,
        lambda a, t: review.return_for_changes(
            a, t, form.question_ids.data, form.note.data, current_user, clock.now()
        ),
        _("The assessment has been returned to the supplier for changes."),
    )


@bp.route("/assessments/<int:assessment_id>/complete", methods=["POST"])
@access(write=REVIEWERS)
def complete(assessment_id: int):
    assessment = _assessment(assessment_id)
    form = _review_forms(assessment, _template_of(assessment))["complete_form"]
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".detail", assessment_id=assessment_id))
    return _act(
        assessment_id,
        lambda a, t: review.complete(
            a, t, Decision(form.decision.data), form.note.data or "", current_user, clock.now()
        ),
        _("The review has been completed."),
    )


@bp.route("/assessments/<int:assessment_id>/findings", methods=["POST"])
@access(write=REVIEWERS)
def raise_finding(assessment_id: int):
    assessment = _assessment(assessment_id)
    form = _review_forms(assessment, _template_of(assessment))["finding_form"]
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".detail", assessment_id=assessment_id, _anchor="findings"))
    review.raise_finding(
        assessment.supplier,
        {
            "question_id": form.question_id.data or None,
            "title": form.title.data,
            "severity": Severity(form.severity.data),
            "required_action": form.required_action.data,
            "due_on": form.due_on.data,
            "owner_id": form.owner_id.data,
            "visible_to_supplier": form.visible_to_supplier.data,
        },
        assessment,
    )
    db.session.commit()
    flash(_("The finding has been raised."), "success")
    return redirect(url_for(".detail", assessment_id=assessment_id, _anchor="findings"))


# -- findings -------------------------------------------------------------------------------


@bp.route("/findings/")
@access(read=READERS)
def findings():
    status = request.args.get("status", "open")
    form = FindingFilterForm(
        request.args, owners=suppliers.owners(), templates=_supplier_templates()
    )
    chosen = {k: form.valid().get(k, "") for k in ("severity", "age", "accepted")}
    stmt = sa.select(Finding).options(
        sa.orm.joinedload(Finding.supplier), sa.orm.joinedload(Finding.owner)
    )
    if status == "open":
        stmt = stmt.where(Finding.status.in_([FindingStatus.open, FindingStatus.in_progress]))
    elif status in FindingStatus.__members__:
        stmt = stmt.where(Finding.status == status)
    live = form.valid().get("live") == "1"
    stmt = stmt.where(
        *scope.finding_conditions(clock.today(), **chosen, live=live, within=form.scope())
    )
    stmt = stmt.order_by(Finding.due_on.is_(None), Finding.due_on, Finding.id)
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
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
def finding_status(finding_id: int):
    item = db.get_or_404(Finding, finding_id)
    form = FindingStatusForm()
    form.status.choices = choices(FindingStatus)
    if form.validate_on_submit():
        try:
            review.move_finding(item, FindingStatus(form.status.data), clock.now())
        except assessments.AssessmentError as exc:
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The changes have been saved."), "success")
    return redirect(url_for(".finding", finding_id=finding_id))


@bp.route("/findings/<int:finding_id>/accept", methods=["POST"])
@access(write=RISK_APPROVERS)
def accept_risk(finding_id: int):
    item = db.get_or_404(Finding, finding_id)
    form = AcceptRiskForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for(".finding", finding_id=finding_id))
    try:
        review.accept_risk(item, current_user, form.reason.data, form.until.data, clock.today())
    except assessments.AssessmentError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(
            _("The risk has been accepted until %(date)s.", date=form.until.data.isoformat()),
            "success",
        )
    return redirect(url_for(".finding", finding_id=finding_id))
