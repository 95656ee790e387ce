"""Adding a colleague (担当者の追加): the contact names a colleague, who gets a link of their own
to the same questionnaire (instead of the mail being forwarded)."""

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from vendorrisk import clock
from vendorrisk.access import portal_only
from vendorrisk.blueprints.common.forms import name_like, one_line
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.blueprints.portal import bp, limits
from vendorrisk.blueprints.portal.routes import rate_limit
from vendorrisk.extensions import limiter
from vendorrisk.i18n import choices
from vendorrisk.mail.sender import sender
from vendorrisk.services.assessments.delegation import Colleague, delegate
from vendorrisk.vocab import Locale

#: Colleagues one link may add: each addition mails an address the contact typed.
DELEGATION_RATE_LIMIT = "5/hour;20/day"


class DelegateForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), name_like], filters=[one_line]
    )
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(),
            Email(
                message=_l("Enter a valid email address, such as name@example.co.jp."),
                check_deliverability=False,
            ),
            Length(max=254),
        ],
        filters=[lambda v: v.strip().lower() if v else v],
    )
    department = StringField(
        _l("Department"), validators=[Length(max=200), name_like], filters=[one_line]
    )
    job_title = StringField(
        _l("Job title"), validators=[Length(max=200), name_like], filters=[one_line]
    )
    locale = SelectField(_l("Language for emails and the questionnaire"), choices=choices(Locale))
    submit = SubmitField(_l("Add and send the link"))

    def colleague(self) -> Colleague:
        fields = ("name", "email", "department", "job_title", "locale")
        return Colleague(**{name: self[name].data or "" for name in fields})


def _page(form: DelegateForm, status: int = 200):
    company = sender(g.get("portal_locale") or g.portal.locale).company  # as 依頼元 says
    return render_template("portal/delegate.html", form=form, company=company), status


def _refused(error: Exception):
    """The form again with what was typed, saying why (nothing was kept)."""
    flash(str(error), "error")
    return _page(DelegateForm(), 422)


@bp.route("/q/delegate", methods=["GET", "POST"])
@portal_only
@limiter.limit(rate_limit, methods=["POST"])
@limiter.limit(lambda: DELEGATION_RATE_LIMIT, key_func=limits.per_link, methods=["POST"])
@fails_to(render=_refused)
def delegate_to_colleague():
    """Name a colleague; they get their own link to this questionnaire and a letter."""
    form = DelegateForm(locale=g.portal.locale)
    if not form.validate_on_submit():
        return _page(form, 422 if form.is_submitted() else 200)
    colleague = form.colleague()
    delegate(g.portal, colleague, g.template, clock.now())
    flash(
        _(
            "%(name)s has been added. We have sent a link of their own to %(email)s.",
            name=colleague.name,
            email=colleague.email,
        ),
        "success",
    )
    return redirect(url_for(".delegate_to_colleague"))
