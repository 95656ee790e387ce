"""Service accounts (a purchasing system, a script) and their API tokens, kept by admins."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import ADMINS, access
from vendorrisk.blueprints.admin import bp
from vendorrisk.blueprints.admin.forms import ServiceAccountForm
from vendorrisk.blueprints.common.forms import RevokeTokenForm, TokenForm
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import db
from vendorrisk.models import ApiToken, User
from vendorrisk.services.users import tokens


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.service_account:
        abort(404)
    return user


def _page(account_form=None, token_form=None, new_token=None, for_user=None, status=200):
    accounts = tokens.service_accounts()
    return render_template(
        "admin/service_accounts.html",
        accounts=accounts,
        rows_of={user.id: tokens.tokens_of(user) for user in accounts},
        account_form=account_form or ServiceAccountForm(formdata=None),
        token_form=token_form or TokenForm(formdata=None),
        revoke_form=RevokeTokenForm(formdata=None),
        new_token=new_token,
        for_user=for_user,
        now=clock.now(),
    ), status


def _refused(error, user_id: int):
    form = TokenForm()
    form.expires_on.errors = [str(error)]
    return _page(token_form=form, for_user=_account(user_id), status=400)


@bp.route("/service-accounts", methods=["GET", "POST"])
@access(write=ADMINS)
def service_accounts():
    form = ServiceAccountForm()
    if not form.validate_on_submit():
        return _page(account_form=form, status=400 if form.errors else 200)
    tokens.create_service_account(form.email.data, form.name.data, form.role.data)
    flash(_("The service account has been created. Give it a token."), "success")
    return redirect(url_for(".service_accounts"))


@bp.route("/service-accounts/<int:user_id>/tokens", methods=["POST"])
@access(write=ADMINS)
@fails_to(render=_refused)
def service_token_new(user_id: int):
    user = _account(user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(token_form=form, for_user=user, status=400)
    admin = current_user._get_current_object()
    expires_at = tokens.expiry_of(form.expires_on.data)
    _row, token = tokens.issue(user, form.name.data, form.scope.data, expires_at, admin)
    flash(_("Copy the token now: it is shown only once."), "success")
    return _page(new_token=token, for_user=user)


@bp.route("/service-accounts/tokens/revoke", methods=["POST"])
@access(write=ADMINS)
def service_token_revoke():
    form = RevokeTokenForm()
    if form.validate_on_submit():
        row = db.session.get(ApiToken, int(form.token_id.data))
        if row is not None and row.user.service_account and tokens.revoke(row, clock.now()):
            flash(_("The token has been revoked."), "success")
    return redirect(url_for(".service_accounts"))
