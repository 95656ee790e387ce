"""The API tokens page: a user's personal access tokens, made (shown once) and revoked."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from vendorrisk import clock
from vendorrisk.access import READERS, access
from vendorrisk.blueprints.auth import bp
from vendorrisk.blueprints.common.forms import RevokeTokenForm, TokenForm
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import limiter
from vendorrisk.models import Role
from vendorrisk.services.users import tokens


def render_page(form: TokenForm, new_token: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    return render_template(
        "auth/tokens.html",
        form=form,
        revoke_form=RevokeTokenForm(),
        rows=tokens.tokens_of(user),
        new_token=new_token,
        now=clock.now(),
        max_days=current_app.config["API_TOKEN_MAX_DAYS"],
    ), status


def _refused(error: tokens.TokenError):
    form = TokenForm()
    form.expires_on.errors = [str(error)]
    return render_page(form, status=400)


@bp.route("/tokens", methods=["GET", "POST"])
@access(write=READERS)
@limiter.limit("10 per minute", methods=["POST"])
@fails_to(render=_refused)
def tokens_page():
    form = TokenForm()
    if not form.validate_on_submit():
        return render_page(form, status=400 if form.errors else 200)
    user = current_user._get_current_object()
    scope = "read" if user.role is Role.auditor else form.scope.data  # the auditor only reads
    expires_at = tokens.expiry_of(form.expires_on.data)
    _row, token = tokens.issue(user, form.name.data, scope, expires_at, user, clock.now())
    flash(_("Copy the token now: it is shown only once."), "success")
    return render_page(TokenForm(formdata=None), new_token=token)


@bp.route("/tokens/revoke", methods=["POST"])
@access(write=READERS)
def revoke_token():
    form = RevokeTokenForm()
    if form.validate_on_submit():
        row = tokens.own_token(current_user._get_current_object(), int(form.token_id.data))
        if row is not None and tokens.revoke(row, clock.now()):
            flash(_("The token has been revoked."), "success")
    return redirect(url_for(".tokens_page"))
