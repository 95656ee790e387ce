from datetime import timedelta

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from vendorrisk import clock, idempotency
from vendorrisk.access import portal_only, public, rule_for
from vendorrisk.blueprints.common import transfer, unit_of_work
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.portal import bp, device, limits
from vendorrisk.blueprints.portal.forms import CoverForm, field_names, posted_answers
from vendorrisk.catalog import catalog
from vendorrisk.catalog.scs import COVER_KINDS
from vendorrisk.extensions import db, limiter
from vendorrisk.i18n import current_locale
from vendorrisk.mail.sender import sender
from vendorrisk.models import Assessment, Clarification, Finding
from vendorrisk.scoring.answers import is_visible
from vendorrisk.scoring.answers import progress as answer_progress
from vendorrisk.services import audit, files
from vendorrisk.services.assessments import covers, portal
from vendorrisk.services.assessments import workbook as excel
from vendorrisk.services.assessments.lifecycle import progress_of, states_of
from vendorrisk.services.review import clarifications, findings
from vendorrisk.vocab import LOCALES

NAV_ACTIONS = ("save", "next", "prev", "overview", "submit")
#: What a request of an ended sitting is told (the autosave's JSON, the page's heading).
ENDED = _l("Your session has ended. Please open the link in your email again.")


def rate_limit() -> str:
    """The portal's rate limit per address (its links are guessable only by brute force)."""
    return current_app.config["PORTAL_RATE_LIMIT"]


def _as_contact(invitation) -> None:
    audit.set_actor(audit.Actor(type="contact", label=invitation.email, ip=request.remote_addr))


def lifetime() -> portal.Lifetime:
    """How long a sitting lives, as configured."""
    config = current_app.config
    return portal.Lifetime(
        idle=timedelta(minutes=config["PORTAL_IDLE_MINUTES"]),
        absolute=timedelta(hours=config["PORTAL_SITTING_HOURS"]),
    )


@bp.before_request
def load_sitting():
    g.portal = None
    rule = rule_for(request.endpoint) if request.endpoint else None
    if rule is None or not rule.portal:
        return None
    g.portal_locale = session.get("portal_lang")  # known before the database is asked
    data = session.get("portal") or {}
    sitting = portal.find_sitting(data.get("sitting", "")) if data else None
    if sitting is None:
        return _page("portal/no_sitting.html", 403)
    invitation, now = sitting.invitation, clock.now()
    g.portal_locale = session.get("portal_lang") or invitation.locale
    life = lifetime()
    ended = sitting.end_reason(now, life.idle, life.absolute)
    if ended:
        return _ended(invitation, ended)
    reason = portal.closed_reason(invitation, now)
    if reason and not (reason == "submitted" and request.endpoint == "portal.done"):
        return _gone(invitation, reason)
    portal.touch(sitting, now)
    _as_contact(invitation)
    g.portal, g.sitting = invitation, sitting
    g.assessment = invitation.assessment
    g.template = catalog().get(g.assessment.template_id, g.assessment.template_version)
    if g.template is None:
        abort(500)
    return None


def _ended(invitation, reason: str):
    """A request of a sitting that has ended: nothing is shown or changed, nothing typed is
    lost (a section's answers come back in the form, to save once the link is opened again)."""
    if request.endpoint == "portal.autosave":
        return jsonify(status="ended", message=str(ENDED)), 403
    template = catalog().get(
        invitation.assessment.template_id, invitation.assessment.template_version
    )
    section_id = (request.view_args or {}).get("section_id")
    section = next((s for s in template.sections if s.id == section_id), None)
    if request.endpoint != "portal.save_section" or section is None:
        return _page("portal/ended.html", 403, reason=reason)
    return _page(
        "portal/ended.html",
        403,
        reason=reason,
        section=section,
        kept=posted_answers(request.form, list(section.questions)),
        names=field_names,
        answers={},
        visible={q.id: True for q in section.questions},
        editable=lambda question_id: True,
        result=None,
        file_errors={},
    )


@bp.app_template_global()
def answer_macros(name: str):
    """The macros of a template (an answer type's input under portal/types/, the covers'
    notes), its module made once: an `{% import %}` in the question template made it again for
    each question of a page, a tenth of the page's time."""
    return current_app.jinja_env.get_template(name).module


@bp.context_processor
def requester_context() -> dict:
    """Every portal page names the requester (依頼元) in the supplier's language."""
    return {"requester": sender(current_locale())}


def _shown(states: dict | None = None) -> dict:
    """Progress over the questions shown, and the total this browser last showed when answers
    (the contact's or a colleague's) have changed it since: a count never moves unexplained."""
    if states is None:
        states = states_of(g.assessment)
    progress = answer_progress(g.template, states)
    seen = session.get("portal_shown")
    before = seen[1] if seen and seen[0] == g.assessment.id else progress.total
    session["portal_shown"] = [g.assessment.id, progress.total]
    return {"progress": progress, "changed_from": before if before != progress.total else None}


@bp.after_request
def private(response):
    """Portal pages carry a supplier's answers: never cached, never leaked as a referrer."""
    response.headers["Cache-Control"] = "no-store"  # Referrer-Policy: no-referrer is app-wide
    return response


def _page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def _gone(invitation, reason: str):
    g.portal_locale = g.get("portal_locale") or invitation.locale
    owner = invitation.assessment.supplier.owner if invitation.assessment.supplier else None
    return _page("portal/gone.html", 410, reason=reason, owner=owner, invitation=invitation)


def _invitation_or_404(token: str):
    invitation = portal.find_invitation(token)
    if invitation is None:
        g.portal_locale = request.args.get("lang") if request.args.get("lang") in LOCALES else None
        abort(404)
    g.portal_locale = (
        request.args.get("lang") if request.args.get("lang") in LOCALES else invitation.locale
    )
    return invitation


def _renewal(invitation, token: str, status: int):
    """The page for a browser the link may no longer open in: a fresh link, by mail."""
    return _page(
        "portal/renew.html",
        status,
        invitation=invitation,
        token=token,
        to=portal.masked(invitation.email),
    )


@bp.route("/<token>", methods=["GET"])
@public
@limiter.limit(rate_limit)
def landing(token: str):
    """What a mail scanner sees too: a page and a button, nothing consumed."""
    invitation = _invitation_or_404(token)
    now = clock.now()
    reason = portal.closed_reason(invitation, now)
    if reason:
        return _gone(invitation, reason)
    if not portal.may_open(invitation, device.bound_ids(), now, lifetime()):
        return _renewal(invitation, token, 200)
    template = catalog().get(
        invitation.assessment.template_id, invitation.assessment.template_version
    )
    return render_template(
        "portal/landing.html",
        invitation=invitation,
        token=token,
        template=template,
        assessment=invitation.assessment,
    )


@bp.route("/<token>", methods=["POST"])
@public
@limiter.limit(rate_limit)
@idempotency.exempt  # its result is the new sitting's cookie, which only its own response sets
def exchange(token: str):
    """The button: trade the link for a sitting, then leave the token out of every URL."""
    invitation = _invitation_or_404(token)
    now = clock.now()
    reason = portal.closed_reason(invitation, now)
    if reason:
        return _gone(invitation, reason)
    _as_contact(invitation)
    if not portal.may_open(invitation, device.bound_ids(), now, lifetime()):
        audit.record("portal_open_refused", invitation, summary=invitation.email)
        return _renewal(invitation, token, 403)
    sitting = portal.open_sitting(invitation, request.remote_addr, now)
    session["portal"] = {"sitting": sitting}
    session["portal_lang"] = (
        request.form.get("lang") if request.form.get("lang") in LOCALES else invitation.locale
    )
    return device.bind(redirect(url_for(".overview")), invitation.id)


def _renewal_refused(error: Exception, token: str):
    flash(str(error), "error")
    return _renewal(_invitation_or_404(token), token, 422)


@bp.route("/<token>/renew", methods=["POST"])
@public
@limiter.limit(rate_limit)
@fails_to(render=_renewal_refused)
def renew(token: str):
    """Mail the contact a fresh link for this browser; the old link, and its sittings, end."""
    invitation = _invitation_or_404(token)
    reason = portal.closed_reason(invitation, clock.now())
    if reason:
        return _gone(invitation, reason)
    _as_contact(invitation)
    assessment = invitation.assessment
    template = catalog().get(assessment.template_id, assessment.template_version)
    portal.send_fresh_link(invitation, template, clock.now())
    return render_template("portal/renewed.html", to=portal.masked(invitation.email))


@bp.route("/q/finish", methods=["POST"])
@portal_only
def finish():
    """Finish for now: the answers stay as saved, and this sitting's cookie opens nothing more."""
    portal.finish(g.sitting, clock.now())
    session.pop("portal", None)
    return redirect(url_for(".finished"))


@bp.route("/finished")
@public
def finished():
    g.portal_locale = session.get("portal_lang")
    return render_template("portal/finished.html")


@bp.route("/q/")
@portal_only
def overview():
    return _overview()


def _overview(cover_form: CoverForm | None = None, status: int = 200):
    kinds = covers.kinds_of(g.template)
    return render_template(
        "portal/overview.html",
        clarifications=g.assessment.clarifications,
        findings=findings.open_findings_for_portal(g.assessment),
        carried_edition=_carried_edition(g.assessment, g.template),
        cover_form=cover_form or (_cover_form(kinds) if kinds else None),
        cover_kinds=COVER_KINDS,
        **_shown(),
    ), status


def _cover_form(kinds) -> CoverForm:
    return CoverForm(kinds=kinds, locale=current_locale())


def _carried_edition(assessment, template) -> str | None:
    """The edition ("Ver 2.0") of the earlier questionnaire the answers were carried from, when
    it is not this one's: the supplier is told the questions changed."""
    if assessment.carried_over_from_id is None:
        return None
    earlier = db.session.get(Assessment, assessment.carried_over_from_id)
    if earlier is None or earlier.template_id == template.id:
        return None
    old = catalog().get(earlier.template_id, earlier.template_version)
    return old.guideline.label if old and old.edition != template.edition else None


def _section(section_id: str):
    section = next((s for s in g.template.sections if s.id == section_id), None)
    if section is None:
        abort(404)
    return section


def _neighbours(section):
    ids = [s.id for s in g.template.sections]
    i = ids.index(section.id)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)


def _render_section(section, result=None, file_errors=None, status=200, kept=None):
    states = states_of(g.assessment)  # every answer, as plain rows: conditions and progress
    values = {qid: state.value for qid, state in states.items()}
    ids = [q.id for q in section.questions]
    filed = any(states[qid].has_files for qid in ids if qid in states)  # or answered by a cover
    answers = g.section_answers = portal.answers_of(g.assessment, ids, none_filed=not filed)
    prev_id, next_id = _neighbours(section)
    return render_template(
        "portal/section.html",
        section=section,
        answers=answers,
        values=values,
        visible={q.id: is_visible(g.template, q, values) for q in section.questions},
        names=field_names,
        result=result,
        file_errors=file_errors or {},
        kept=kept or {},
        prev_id=prev_id,
        next_id=next_id,
        editable=_editable,
        triggers={q.show_if.question for q in g.template.questions if q.show_if},
        covered=any(a.cover_id is not None for a in answers.values()),
        **_shown(states),
    ), status


@bp.route("/q/section/<section_id>", methods=["GET"])
@portal_only
def section(section_id: str):
    return _render_section(_section(section_id))


def _frozen():
    """Changes after submission (outside what was returned) are refused, clearly."""
    return render_template("portal/frozen.html"), 409


def _editable(question_id: str) -> bool:
    shown = g.get("section_answers")  # the answers of the section being drawn
    if shown is None:
        shown = portal.answers_of(g.assessment, [question_id])
    return portal.is_editable(g.assessment, shown.get(question_id))


def _store_uploads(section) -> dict[str, str]:
    errors = {}
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    answers = portal.answers_of(g.assessment, (q.id for q in section.questions))
    for q in section.questions:
        if not portal.is_editable(g.assessment, answers.get(q.id)):
            continue
        for upload in request.files.getlist(field_names(q)["files"]):
            if not upload or not upload.filename:
                continue
            try:
                stored = files.store(
                    upload.stream, upload.filename, current_app.config["UPLOAD_DIR"], limit
                )
            except files.UploadError as exc:
                errors[q.id] = str(exc)
                continue
            portal.attach_file(g.assessment, q, stored, g.portal.contact_id, clock.now())
    return errors


def _remove_files() -> None:
    for raw in request.form.getlist("remove_file"):
        stored = portal.file_of(g.assessment, int(raw)) if raw.isdigit() else None
        if stored is not None:
            portal.detach_file(g.assessment, stored, clock.now())


@bp.route("/q/section/<section_id>", methods=["POST"])
@portal_only
def save_section(section_id: str):
    section = _section(section_id)
    if not g.assessment.is_open:
        return _frozen()
    posted = posted_answers(request.form, list(section.questions))
    result = portal.save_answers(g.assessment, g.template, posted, g.portal.contact_id, clock.now())
    _remove_files()
    file_errors = _store_uploads(section)
    if result.conflicts or result.errors or file_errors:
        kept = {qid: posted[qid] for qid in result.errors if qid in posted}  # shown to correct
        status = 409 if result.conflicts else 422
        return _render_section(section, result, file_errors, status=status, kept=kept)
    flash(_("Your answers have been saved."), "success")
    return redirect(_after_save(section, request.form.get("action", "save")))


def _after_save(section, action: str) -> str:
    prev_id, next_id = _neighbours(section)
    if action.startswith("rows:"):  # a table's "Add a row" ("rows:<question id>:<rows>")
        asked = action.removeprefix("rows:")
        anchor = "q-" + asked.partition(":")[0]
        return url_for(".section", section_id=section.id, rows=asked, _anchor=anchor)
    if action == "next" and next_id:
        return url_for(".section", section_id=next_id)
    if action == "prev" and prev_id:
        return url_for(".section", section_id=prev_id)
    if action == "overview":
        return url_for(".overview")
    if action == "submit":
        return url_for(".review")
    return url_for(".section", section_id=section.id)


def _autosaved(result, qid: str):
    """The autosave's JSON answer: saved (with our version), a conflict (with theirs), invalid."""
    if result.conflicts:
        theirs = result.conflicts[0].theirs
        return jsonify(
            status="conflict",
            version=theirs.version,
            value=theirs.value,
            comment=theirs.comment,
            message=_("Someone else changed this answer. Reload the page to see it."),
        ), 409
    if result.errors:
        return jsonify(status="invalid", message=result.errors[qid]), 422
    version = result.versions.get(qid)  # ours, not a later one
    if version is None:  # nothing was saved: an empty first answer
        answer = portal.answers_of(g.assessment, [qid], with_files=False).get(qid)
        version = answer.version if answer else 0
    progress = progress_of(g.assessment, g.template)
    return jsonify(
        status="saved",
        version=version,
        progress=progress.percent,
        answered=progress.answered,
        total=progress.total,  # of the questions shown, as the page's count says
    )


@bp.route("/q/autosave", methods=["POST"])
@portal_only
def autosave():
    """JavaScript saves one question as it is typed; the same rules as the form."""
    if not g.assessment.is_open:
        return jsonify(
            status="frozen",
            message=_("The answers have been submitted and can no longer be changed."),
        ), 409
    qid = request.form.get("question", "")
    try:
        question = g.template.question(qid)
    except KeyError:
        abort(404)
    posted = posted_answers(request.form, [question])
    now = clock.now()
    result = portal.save_answers(g.assessment, g.template, posted, g.portal.contact_id, now)
    return _autosaved(result, qid)


@bp.route("/q/files/<int:file_id>")
@portal_only
@transfer.download
def download(file_id: int):
    stored = portal.file_of(g.assessment, file_id)
    if stored is None:
        abort(404)
    path = files.path_of(stored, current_app.config["UPLOAD_DIR"])
    if not path.is_file():
        abort(404)
    return send_file(
        path, mimetype=stored.content_type, as_attachment=True, download_name=stored.original_name
    )


@bp.route("/q/submit", methods=["GET"])
@portal_only
def review():
    return render_template(
        "portal/submit.html", missing=portal.missing(g.assessment, g.template), **_shown()
    )


@bp.route("/q/submit", methods=["POST"])
@portal_only
def submit():
    if not g.assessment.is_open:
        return _frozen()
    missing = portal.missing(g.assessment, g.template)
    if missing:
        return render_template("portal/submit.html", missing=missing, **_shown()), 422
    portal.submit(g.assessment, g.template, g.portal, clock.now())
    return redirect(url_for(".done"))


@bp.route("/q/done")
@portal_only
def done():
    return render_template("portal/done.html")


@bp.route("/q/language", methods=["POST"])
@portal_only
def language():
    if request.form.get("lang") in LOCALES:
        session["portal_lang"] = request.form["lang"]
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/portal/q/") else url_for(".overview"))


@bp.route("/q/excel", methods=["GET"])
@portal_only
@transfer.download
def excel_download():
    data = excel.build_workbook(g.assessment, g.template)
    return send_file(
        data,
        as_attachment=True,
        download_name=excel.file_name(g.assessment, g.template),
        mimetype=files.XLSX,
    )


@bp.route("/q/excel", methods=["POST"])
@portal_only
@limiter.limit(rate_limit)
@limiter.limit(limits.excel_rate_limit, key_func=limits.per_link)
def excel_upload():
    if not g.assessment.is_open:
        return _frozen()
    upload = request.files.get("workbook")
    if not upload or not upload.filename:
        flash(_("Choose the Excel file to upload."), "error")
        return redirect(url_for(".overview"))
    result = excel.import_workbook(
        g.assessment, g.template, upload.stream, g.portal.contact_id, clock.now()
    )
    if result.errors:  # a workbook is taken whole or not at all
        unit_of_work.discard()
        return render_template("portal/excel_errors.html", result=result), 422
    flash(_("%(n)d answers were imported from the Excel file.", n=result.saved), "success")
    return redirect(url_for(".overview"))


def _cover_refused(error: Exception):
    """The overview again with what was typed, saying why (nothing was kept: rolled back)."""
    flash(str(error), "error")
    return _overview(_cover_form(covers.kinds_of(g.template)), 422)


@bp.route("/q/covers", methods=["POST"])
@portal_only
@limiter.limit(rate_limit)
@fails_to(render=_cover_refused)
def attach_cover():
    """Answer the questions a certificate or check sheet the supplier holds covers, with it."""
    if not g.assessment.is_open:
        return _frozen()
    form = _cover_form(covers.kinds_of(g.template))
    if not form.validate_on_submit():
        return _overview(form, 422)
    config, upload = current_app.config, form.file.data
    stored = files.store(
        upload.stream, upload.filename, config["UPLOAD_DIR"], config["MAX_UPLOAD_BYTES"]
    )
    attached = covers.attach(
        g.assessment,
        g.template,
        form.kind.data,
        stored,
        form.scope.data,
        g.portal.contact,
        clock.now(),
    )
    flash(
        ngettext(
            "%(num)d question has been answered with the file you attached. We will review it; "
            "you may still answer any of them yourself.",
            "%(num)d questions have been answered with the file you attached. We will review it; "
            "you may still answer any of them yourself.",
            attached.covered,
        ),
        "success",
    )
    return redirect(url_for(".overview", _anchor="covers"))


@bp.route("/q/covers/by-hand", methods=["POST"])
@portal_only
@fails_to(".overview")
def answer_by_hand():
    """Take a question back from the certificate that answered it, to answer it by hand."""
    if not g.assessment.is_open:
        return _frozen()
    try:
        question = g.template.question(request.form.get("question", ""))
    except KeyError:
        abort(404)
    covers.answer_by_hand(g.assessment, question.id, g.portal.contact_id, clock.now())
    flash(_("Please answer this question yourself."), "success")
    section = next(s for s in g.template.sections if question in s.questions)
    return redirect(url_for(".section", section_id=section.id, _anchor=f"q-{question.id}"))


@bp.route("/q/clarifications/<int:clarification_id>", methods=["POST"])
@portal_only
@fails_to(".overview", anchor="clarification-{clarification_id}")
def clarification_reply(clarification_id: int):
    clarification = db.session.get(Clarification, clarification_id)
    if clarification is None or clarification.assessment_id != g.assessment.id:
        abort(404)
    body = (request.form.get("body") or "").strip()
    if not body:
        flash(_("Write your answer before sending."), "error")
    else:
        clarifications.reply(clarification, g.portal, body[:10000], clock.now())
        flash(_("Your answer has been sent."), "success")
        if portal.closed_reason(g.portal, clock.now()):  # no question awaits: link closed
            return redirect(url_for(".done"))
    return redirect(url_for(".overview", _anchor=f"clarification-{clarification_id}"))


@bp.route("/q/findings/<int:finding_id>", methods=["POST"])
@portal_only
@fails_to(".overview", anchor="finding-{finding_id}")
def finding_plan(finding_id: int):
    finding = db.session.get(Finding, finding_id)
    if (
        finding is None
        or finding.assessment_id != g.assessment.id
        or not finding.visible_to_supplier
    ):
        abort(404)
    plan = (request.form.get("plan") or "").strip()
    if not plan:
        flash(_("Write your remediation plan before sending."), "error")
    else:
        findings.supplier_plan(finding, plan[:10000], clock.now())
        flash(_("Your remediation plan has been sent."), "success")
    return redirect(url_for(".overview", _anchor=f"finding-{finding_id}"))
