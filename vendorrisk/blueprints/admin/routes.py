import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import idempotency
from vendorrisk.access import ADMINS, AUDIT_READERS, SETTINGS_READERS, access
from vendorrisk.blueprints.admin import bp
from vendorrisk.blueprints.admin.forms import (
    AuditFilterForm,
    DeliverOutboxForm,
    EditUserForm,
    NewUserForm,
    OutboxFilterForm,
    ResetPasswordForm,
    RetryMessageForm,
    RunJobForm,
    ScheduleForm,
    SchemeForm,
    SenderProfileForm,
    UnitForm,
    UnlockLoginsForm,
    rules_from_form,
    tier_rules_form,
)
from vendorrisk.blueprints.common import unit_of_work
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.i18n import current_locale
from vendorrisk.i18n.labels import OUTBOX_STATUS_LABELS
from vendorrisk.mail import sender as sender_profile
from vendorrisk.mail.outbox import WEB_BUDGET, deliver_pending
from vendorrisk.models import (
    AuditEvent,
    BusinessUnit,
    JobRun,
    OutboxMessage,
    OutboxStatus,
    Role,
    User,
)
from vendorrisk.models.base import utcnow
from vendorrisk.models.setting import fingerprint
from vendorrisk.scoring.tiers import TierRules
from vendorrisk.services import audit
from vendorrisk.services.periodic.settings import (
    SETTINGS_KEY,
    ScheduleSettings,
    save_schedule_settings,
    schedule_settings,
)
from vendorrisk.services.register import scs
from vendorrisk.services.review import tiers
from vendorrisk.services.users import accounts, sessions, throttle, units


@bp.route("/users")
@access(read=ADMINS)
def users_list():
    rows = db.session.scalars(sa.select(User).order_by(User.email))
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@access(write=ADMINS)
def user_new():
    form = NewUserForm()
    form.units.set_units(units.all_units(), current_locale())
    if form.validate_on_submit():
        user, password = accounts.create_user(
            form.email.data, form.role.data, form.name.data, form.locale.data
        )
        units.set_units(user, form.units.data)
        return render_template("admin/one_time_password.html", user=user, password=password)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access(write=ADMINS)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user, units=units.unit_ids_of(user))
    form.units.set_units(units.all_units(), current_locale())
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != Role.admin or not form.active.data):
            flash(
                _("You cannot remove your own administrator role or deactivate yourself."), "error"
            )
        else:
            units.set_units(user, form.units.data)
            del form.units  # not a column: populate_obj would set it on the user
            form.populate_obj(user)
            user.role = Role(form.role.data)
            if not user.active:
                sessions.revoke_sessions(user)
            flash(_("The changes have been saved."), "success")
            return redirect(url_for(".users_list"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        reset_form=ResetPasswordForm(),
        unlock_form=UnlockLoginsForm(),
        locked_until=throttle.locked_until(user.email, utcnow()),
    )


@bp.route("/units", methods=["GET", "POST"])
@access(read=ADMINS | SETTINGS_READERS, write=ADMINS)
def units_list():
    """The business units (部門) that own suppliers, and a form for a new one."""
    form = UnitForm()
    if form.validate_on_submit():
        unit = units.save_unit(None, form.fields())
        flash(_("The business unit %(code)s has been created.", code=unit.code), "success")
        return redirect(url_for(".units_list"))
    return render_template(
        "admin/units.html", units=units.all_units(), counts=units.supplier_counts(), form=form
    )


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@access(read=ADMINS | SETTINGS_READERS, write=ADMINS)
def unit_edit(unit_id: int):
    unit = db.get_or_404(BusinessUnit, unit_id)
    form = UnitForm(obj=unit, unit_id=unit.id)
    if form.validate_on_submit():
        units.save_unit(unit, form.fields())
        flash(_("The changes have been saved."), "success")
        return redirect(url_for(".units_list"))
    return render_template("admin/unit_form.html", unit=unit, form=form)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@access(write=ADMINS)
def user_unlock(user_id: int):
    user = db.get_or_404(User, user_id)
    if UnlockLoginsForm().validate_on_submit():
        throttle.unlock(user)
        flash(_("Logins to %(email)s are no longer delayed.", email=user.email), "success")
    return redirect(url_for(".user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/reset", methods=["POST"])
@access(write=ADMINS)
@idempotency.exempt  # each copy shows the password it set: the last one shown is the valid one
@fails_to(".user_edit")  # a user of single sign-on has no password to reset
def user_reset(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ResetPasswordForm().validate_on_submit():
        return redirect(url_for(".user_edit", user_id=user_id))
    password = accounts.reset_password(user)
    return render_template("admin/one_time_password.html", user=user, password=password)


@bp.route("/audit")
@access(read=AUDIT_READERS)
def audit_log():
    form = AuditFilterForm(request.args)
    stmt = sa.select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if form.action.data:
        stmt = stmt.where(AuditEvent.action == form.action.data)
    if form.object_type.data:
        stmt = stmt.where(AuditEvent.object_type == form.object_type.data)
    if form.actor.data:
        stmt = stmt.where(
            AuditEvent.actor_label.icontains(form.actor.data.strip(), autoescape=True)
        )
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("admin/audit.html", form=form, page=page)


@bp.route("/outbox")
@access(read=ADMINS)
def outbox():
    form = OutboxFilterForm(request.args)
    stmt = sa.select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    if form.status.data in OUTBOX_STATUS_LABELS:
        stmt = stmt.where(OutboxMessage.status == form.status.data)
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template(
        "admin/outbox.html",
        form=form,
        page=page,
        status_labels=OUTBOX_STATUS_LABELS,
        deliver_form=DeliverOutboxForm(),
    )


@bp.route("/outbox/<int:message_id>")
@access(read=ADMINS)
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "admin/outbox_message.html",
        message=message,
        status_labels=OUTBOX_STATUS_LABELS,
        retry_form=RetryMessageForm(),
    )


@bp.route("/outbox/deliver", methods=["POST"])
@access(write=ADMINS)
def outbox_deliver():
    if DeliverOutboxForm().validate_on_submit():
        report = deliver_pending(budget=WEB_BUDGET)  # the rest: the deliver-mail job
        flash(
            _(
                "Delivery run: %(sent)d sent, %(retried)d to be retried, %(failed)d failed.",
                sent=report.sent,
                retried=report.retried,
                failed=report.failed,
            ),
            "error" if report.failed else "success",
        )
    return redirect(url_for(".outbox"))


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@access(write=ADMINS)
def outbox_retry(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if RetryMessageForm().validate_on_submit():
        if message.status == OutboxStatus.failed:
            message.status = OutboxStatus.pending
            message.next_attempt_at = utcnow()
            audit.record("mail_retried", message, summary=message.recipient)
            flash(_("The message will be sent again with the next delivery run."), "success")
        else:
            flash(_("Only a message that failed can be sent again."), "error")
    return redirect(url_for(".outbox_message", message_id=message_id))


def _settings_forms(which: str | None):
    """The tier-rules and schedule forms; the one posted (`which`) holds what was sent."""
    posted = request.form if which else None
    templates = [t for t in catalog().current() if t.audience == "supplier"]
    form = tier_rules_form(
        tiers.tier_rules(),
        templates,
        posted if which == "rules" else None,
        seen=fingerprint(tiers.TIER_RULES_KEY),  # a post without it is checked against nothing
    )
    plan = schedule_settings()
    schedule_form = ScheduleForm(
        formdata=posted if which == "schedule" else None,
        prefix="schedule",
        data={
            "reminder_days_before": ", ".join(map(str, plan.reminder_days_before)),
            "overdue_every_days": plan.overdue_every_days,
            "escalate_after_days": plan.escalate_after_days,
            "expiry_days_before": ", ".join(map(str, plan.expiry_days_before)),
            "digest_weekday": plan.digest_weekday,
            "seen": fingerprint(SETTINGS_KEY),
        },
    )
    return form, schedule_form


def _save_rules(form):
    """Save the posted tier rules (a redirect), or flash why they cannot be (None)."""
    try:
        rules = TierRules.from_dict(rules_from_form(form))
    except ValueError as exc:
        flash(str(exc), "error")
        return None
    tiers.save_tier_rules(rules, form.seen.data)
    flash(
        _("The rules have been saved. Tiers change as suppliers are next assessed or edited."),
        "success",
    )
    return redirect(url_for(".settings"))


def _save_schedule(schedule_form):
    """Save the posted schedule (a redirect), or flash why it cannot be (None)."""
    try:
        plan = ScheduleSettings.from_dict(schedule_form.settings_data())
    except (TypeError, ValueError) as exc:
        flash(str(exc), "error")
        return None
    save_schedule_settings(plan, schedule_form.seen.data)
    flash(_("The schedule has been saved."), "success")
    return redirect(url_for(".settings"))


def _sender_form(which: str | None) -> SenderProfileForm:
    """The sender profile as stored, or as posted when it is the form sent."""
    return SenderProfileForm(
        formdata=request.form if which == "sender" else None,
        prefix="sender",
        data={**sender_profile.stored(), "seen": sender_profile.fingerprint()},
    )


def _scheme_form(which: str | None) -> SchemeForm:
    """The SCS scheme settings as stored, or as posted when it is the form sent."""
    stored = scs.scheme_settings()
    return SchemeForm(
        formdata=request.form if which == "scheme" else None,
        prefix="scheme",
        data={
            "started_on": stored.started_on,
            "interim": stored.interim,
            "seen": fingerprint(scs.SCHEME_KEY),
        },
    )


def _save_scheme(scheme_form: SchemeForm):
    settings = scs.SchemeSettings(scheme_form.started_on.data, scheme_form.interim.data)
    scs.save_scheme_settings(settings, scheme_form.seen.data)
    flash(_("The scheme settings have been saved."), "success")
    return redirect(url_for(".settings", _anchor="scheme"))


def _save_sender(sender_form: SenderProfileForm):
    """Save the posted sender profile (audited as a setting) and show the page again."""
    sender_profile.save(sender_form.profile_data(), sender_form.seen.data)
    flash(_("The sender profile has been saved. Supplier mail now shows it."), "success")
    return redirect(url_for(".settings", _anchor="sender"))


@bp.route("/settings", methods=["GET", "POST"])
@access(read=SETTINGS_READERS, write=ADMINS)
@fails_to(".settings")  # another admin saved first: their values are shown, with the reason
def settings():
    """Tier rules, re-check cadences, the schedule and the sender profile: audited settings."""
    which = request.form.get("which") if request.method == "POST" else None
    form, schedule_form = _settings_forms(which)
    sender_form = _sender_form(which)
    scheme_form = _scheme_form(which)
    saved = None
    if which == "rules" and form.validate_on_submit():
        saved = _save_rules(form)
    elif which == "schedule" and schedule_form.validate_on_submit():
        saved = _save_schedule(schedule_form)
    elif which == "sender" and sender_form.validate_on_submit():
        saved = _save_sender(sender_form)
    elif which == "scheme" and scheme_form.validate_on_submit():
        saved = _save_scheme(scheme_form)
    return saved or render_template(
        "admin/settings.html",
        form=form,
        schedule_form=schedule_form,
        sender_form=sender_form,
        scheme_form=scheme_form,
    )


@bp.route("/jobs")
@access(read=SETTINGS_READERS)
def jobs_page():
    """Each scheduled job, its next and last run, and its last result."""
    from vendorrisk import clock, jobs

    now = clock.now()
    zone = current_app.config["TIMEZONE"]
    rows = [(job, jobs.next_run(job, now, zone)) for job in jobs.JOBS]
    recent = db.session.scalars(sa.select(JobRun).order_by(JobRun.id.desc()).limit(30)).all()
    return render_template(
        "admin/jobs.html", rows=rows, last=jobs.last_runs(), recent=recent, run_form=RunJobForm()
    )


@bp.route("/jobs/<job_id>/run", methods=["POST"])
@access(write=ADMINS)
def run_job_now(job_id: str):
    from vendorrisk import jobs

    if job_id in jobs.JOB_BY_ID and RunJobForm().validate_on_submit():
        # The job commits on its own: it runs once this request (and its form's key) is kept.
        unit_of_work.on_commit(lambda: _run_and_report(job_id))
    return redirect(url_for(".jobs_page"))


def _run_and_report(job_id: str) -> None:
    from vendorrisk import jobs

    run = jobs.run_job(job_id)
    flash(
        _("%(job)s: %(outcome)s", job=job_id, outcome=run.summary or run.error or run.outcome),
        "success" if run.outcome == "ok" else "error",
    )
