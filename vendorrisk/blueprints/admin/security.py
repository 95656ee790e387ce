"""Staff login security: whether admins and CISOs must use two-step login, and resetting a
user's second factor when their phone is lost."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SubmitField

from vendorrisk.access import ADMINS, SETTINGS_READERS, access
from vendorrisk.blueprints.admin import bp
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import db
from vendorrisk.models import User
from vendorrisk.models.setting import fingerprint
from vendorrisk.services.users import second_factor


class SecuritySettingsForm(FlaskForm):
    required = BooleanField(_l("Administrators and CISOs must use two-step login"))
    #: The fingerprint of the stored setting shown (models.setting).
    seen = HiddenField()
    submit = SubmitField(_l("Save"))


class ResetSecondFactorForm(FlaskForm):
    submit = SubmitField(_l("Reset two-step login"))


@bp.route("/settings/security", methods=["GET", "POST"])
@access(read=SETTINGS_READERS, write=ADMINS)
@fails_to(".security_settings")  # another admin saved first: theirs is shown, with the reason
def security_settings():
    form = SecuritySettingsForm(
        data={
            "required": second_factor.required_for_admins(),
            "seen": fingerprint(second_factor.SETTINGS_KEY),
        }
    )
    if form.validate_on_submit():
        second_factor.save_required_for_admins(form.required.data, form.seen.data)
        flash(_("The login settings have been saved."), "success")
        return redirect(url_for(".security_settings"))
    return render_template("admin/security_settings.html", form=form)


@bp.route("/users/<int:user_id>/second-factor/reset", methods=["POST"])
@access(write=ADMINS)
def user_reset_second_factor(user_id: int):
    user = db.get_or_404(User, user_id)
    if ResetSecondFactorForm().validate_on_submit():
        second_factor.reset(user)
        flash(
            _(
                "Two-step login of %(email)s is off and their sessions have ended. They log in "
                "with their password and turn it on again.",
                email=user.email,
            ),
            "success",
        )
    return redirect(url_for(".user_edit", user_id=user_id))
