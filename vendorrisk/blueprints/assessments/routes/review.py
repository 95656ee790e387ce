"""The reviewer's side: the assessments list and page, clarification requests (確認依頼),
certificates and check sheets given as answers (covers), returning answers for changes and
completing the review."""

import sqlalchemy as sa
from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import READERS, REVIEWERS, access
from vendorrisk.blueprints.assessments import bp
from vendorrisk.blueprints.assessments.forms import (
    ActionForm,
    AssessmentFilterForm,
    CoverRejectForm,
    ExtendForm,
    InviteForm,
    review_forms,
)
from vendorrisk.blueprints.assessments.lookups import (
    assessment_or_404,
    back_to_assessment,
    posted_review_form,
    template_of,
)
from vendorrisk.blueprints.common.forms import flash_errors
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.catalog import catalog
from vendorrisk.catalog.scs import COVER_KINDS
from vendorrisk.extensions import db
from vendorrisk.i18n import choices
from vendorrisk.models import Answer, Assessment, AssessmentStatus, Cover, Decision, Finding
from vendorrisk.services.assessments import covers
from vendorrisk.services.assessments import lifecycle as assessments
from vendorrisk.services.register import subcontractors, suppliers
from vendorrisk.services.reporting import scope
from vendorrisk.services.review import clarifications, review
from vendorrisk.services.review import findings as finding_service


def _answer_counts(assessments_shown) -> dict[int, int]:
    """How many answers each listed assessment has (one query for the page)."""
    ids = [a.id for a in assessments_shown]
    if not ids:
        return {}
    query = (
        sa.select(Answer.assessment_id, sa.func.count())
        .where(Answer.assessment_id.in_(ids))
        .group_by(Answer.assessment_id)
    )
    return dict(db.session.execute(query).all())


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
    return render_template(
        "assessments/index.html",
        form=form,
        page=page,
        counts=_answer_counts(page.items),
        catalog=catalog(),
        today=clock.today(),
    )


def _invite_form(assessment: Assessment) -> InviteForm:
    """A link for a contact of the supplier who has none that works."""
    form = InviteForm()
    live = {i.contact_id for i in assessment.invitations if i.revoked_at is None}
    form.contact_id.choices = [
        (c.id, f"{c.name} <{c.email}>") for c in assessment.supplier.contacts if c.id not in live
    ]
    return form


def _review_context(assessment: Assessment, template) -> dict:
    """The score, flags, suggested findings and the last completed assessment to compare."""
    result = review.current_score(assessment, template)
    previous = review.previous_assessment(assessment)
    reviewed = assessment.status in (AssessmentStatus.submitted, AssessmentStatus.completed)
    return {
        "result": result,
        "flags": review.flags(assessment, template, result, clock.today()),
        "suggestions": finding_service.suggested_findings(assessment, template, result)
        if reviewed
        else [],
        "previous": previous,
        "subcontractors": subcontractors.preview(assessment, template)
        if assessment.status == AssessmentStatus.submitted
        else None,
        "previous_answers": {a.question_id: a for a in previous.answers} if previous else {},
        "findings": db.session.scalars(
            sa.select(Finding).where(Finding.assessment_id == assessment.id).order_by(Finding.id)
        ).all(),
        **_covers_context(assessment),
    }


def _covers_context(assessment: Assessment) -> dict:
    """The certificates and check sheets given as answers, each with the questions it answers
    and (while it waits and the review is not completed) its rejection form."""
    return {
        "cover_kinds": COVER_KINDS,
        "cover_questions": {c.id: covers.questions_of(c) for c in assessment.covers},
        "cover_forms": {
            c.id: CoverRejectForm(prefix=f"cover{c.id}")
            for c in assessment.covers
            if c.is_pending and assessment.status in covers.REVIEWABLE
        },
    }


@bp.route("/assessments/<int:assessment_id>")
@access(read=READERS)
def detail(assessment_id: int):
    assessment = assessment_or_404(assessment_id)
    template = template_of(assessment)
    return render_template(
        "assessments/detail.html",
        assessment=assessment,
        template=template,
        **_review_context(assessment, template),
        **review_forms(template, suppliers.owners()),
        progress=assessments.progress_of(assessment, template),
        answers={a.question_id: a for a in assessment.answers},
        history=assessments.history(assessment.id),
        invite_form=_invite_form(assessment),
        extend_form=ExtendForm(due_on=assessment.due_on),
        action_form=ActionForm(),
        now=clock.now(),
        today=clock.today(),
    )


@bp.route("/assessments/<int:assessment_id>/clarifications", methods=["POST"])
@access(write=REVIEWERS)
@fails_to(".detail")
def ask(assessment_id: int):
    assessment, template, form = posted_review_form(assessment_id, "ask_form")
    if not form.validate_on_submit():
        flash_errors(form)
        return back_to_assessment(assessment_id)
    now = clock.now()
    clarifications.ask(
        assessment, template, form.question_id.data, form.body.data, current_user, now
    )
    return back_to_assessment(assessment_id, _("The question has been sent to the supplier."))


@bp.route(
    "/assessments/<int:assessment_id>/clarifications/<int:clarification_id>/close", methods=["POST"]
)
@access(write=REVIEWERS)
@fails_to(".detail")
def close_clarification(assessment_id: int, clarification_id: int):
    ActionForm().validate_on_submit() or abort(400)
    assessment = assessment_or_404(assessment_id)
    found = next((c for c in assessment.clarifications if c.id == clarification_id), None)
    clarifications.close_clarification(found or abort(404), clock.now())
    return back_to_assessment(assessment_id, _("The question has been closed."))


@bp.route("/assessments/<int:assessment_id>/return", methods=["POST"])
@access(write=REVIEWERS)
@fails_to(".detail")
def return_for_changes(assessment_id: int):
    assessment, template, form = posted_review_form(assessment_id, "return_form")
    if not form.validate_on_submit():
        flash_errors(form)
        return back_to_assessment(assessment_id)
    review.return_for_changes(
        assessment, template, form.question_ids.data, form.note.data, current_user, clock.now()
    )
    return back_to_assessment(
        assessment_id, _("The assessment has been returned to the supplier for changes.")
    )


@bp.route("/assessments/<int:assessment_id>/complete", methods=["POST"])
@access(write=REVIEWERS)
@fails_to(".detail")
def complete(assessment_id: int):
    assessment, template, form = posted_review_form(assessment_id, "complete_form")
    if not form.validate_on_submit():
        flash_errors(form)
        return back_to_assessment(assessment_id)
    decision, note = Decision(form.decision.data), form.note.data or ""
    review.complete(assessment, template, decision, note, current_user, clock.now())
    return back_to_assessment(assessment_id, _("The review has been completed."))


def _cover_or_404(assessment_id: int, cover_id: int) -> Cover:
    cover = db.session.get(Cover, cover_id)
    if cover is None or cover.assessment_id != assessment_id:
        abort(404)
    return cover


@bp.route("/assessments/<int:assessment_id>/covers/<int:cover_id>/accept", methods=["POST"])
@access(write=REVIEWERS)
@fails_to(".detail", anchor="covers")
def accept_cover(assessment_id: int, cover_id: int):
    ActionForm().validate_on_submit() or abort(400)
    covers.review(_cover_or_404(assessment_id, cover_id), True, "", current_user, clock.now())
    return back_to_assessment(
        assessment_id,
        _("The certificate or check sheet has been accepted; the answers it gave stand."),
        anchor="covers",
    )


@bp.route("/assessments/<int:assessment_id>/covers/<int:cover_id>/reject", methods=["POST"])
@access(write=REVIEWERS)
@fails_to(".detail", anchor="covers")
def reject_cover(assessment_id: int, cover_id: int):
    cover = _cover_or_404(assessment_id, cover_id)
    form = CoverRejectForm(prefix=f"cover{cover_id}")
    if not form.validate_on_submit():
        flash_errors(form)
        return back_to_assessment(assessment_id, anchor="covers")
    covers.review(cover, False, form.reason.data, current_user, clock.now())
    return back_to_assessment(
        assessment_id,
        _("The certificate or check sheet has been rejected and the answers it gave cleared."),
        anchor="covers",
    )
