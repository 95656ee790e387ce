import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk.access import ADMINS, AUDIT_READERS, access
from vendorrisk.blueprints.admin import bp
from vendorrisk.blueprints.admin.forms import (
    AuditFilterForm,
    EditUserForm,
    NewUserForm,
    ResetPasswordForm,
)
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Role, User
from vendorrisk.services import users


@bp.route("/users")
@access(read=ADMINS)
def users_list():
    rows = db.session.scalars(sa.select(User).order_by(User.email))
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@access(write=ADMINS)
def user_new():
    form = NewUserForm()
    if form.validate_on_submit():
        user, password = users.create_user(
            form.email.data, form.role.data, form.name.data, form.locale.data
        )
        db.session.commit()
        return render_template("admin/one_time_password.html", user=user, password=password)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access(write=ADMINS)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        if user.id == current_user.id and (form.role.data != Role.admin or not form.active.data):
            flash(
                _("You cannot remove your own administrator role or deactivate yourself."), "error"
            )
        else:
            form.populate_obj(user)
            user.role = Role(form.role.data)
            if not user.active:
                users.revoke_sessions(user)
            db.session.commit()
            flash(_("The changes have been saved."), "success")
            return redirect(url_for(".users_list"))
    return render_template(
        "admin/user_form.html", form=form, user=user, reset_form=ResetPasswordForm()
    )


@bp.route("/users/<int:user_id>/reset", methods=["POST"])
@access(write=ADMINS)
def user_reset(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ResetPasswordForm().validate_on_submit():
        return redirect(url_for(".user_edit", user_id=user_id))
    password = users.reset_password(user)
    db.session.commit()
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
