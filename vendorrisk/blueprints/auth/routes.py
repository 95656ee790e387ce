from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from vendorrisk import sso
from vendorrisk.access import READERS, access, public
from vendorrisk.blueprints.auth import bp, second_factor
from vendorrisk.blueprints.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
)
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import limiter
from vendorrisk.services.users import accounts, logins, reset, sessions


def _typed_email() -> str:
    """Reset mails are also limited per address asked for, known or not."""
    return "forgot:" + (request.form.get("email") or "").strip().lower()[:254]


def safe_next(target: str | None, default: str = "dashboard.index") -> str:
    """Only a path on this site, never another host (open redirect)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for(default)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])  # a flood from one address; failures: throttle
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm(next=request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    attempt = logins.attempt(form.email.data, form.password.data, request.remote_addr)
    if attempt.user is None:
        flash(attempt.refusal, "error")
        return render_template("auth/login.html", form=form), attempt.status
    if attempt.user.mfa_enabled_at is not None:  # the code first: blueprints/auth/second_factor
        return second_factor.ask_for_code(attempt.user, safe_next(form.next.data))
    return second_factor.open_session(attempt.user, safe_next(form.next.data))


@bp.route("/logout", methods=["POST"])
@access(write=READERS)
def logout():
    uses_sso = current_user.uses_sso
    sessions.end_session(current_user.session_token)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    at_provider = sso.logout_url() if uses_sso and sso.enabled() else None
    return redirect(at_provider or url_for("auth.login"))


def _password_refused(error: accounts.UserError):
    """The form again, the reason on the current password (nothing was changed)."""
    form = ChangePasswordForm(next=request.args.get("next"), account=current_user)
    form.current.errors = [str(error)]
    return render_template("auth/password.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@access(write=READERS)
@fails_to(render=_password_refused)
def change_password():
    form = ChangePasswordForm(next=request.args.get("next"), account=current_user)
    if not form.validate_on_submit():
        return render_template("auth/password.html", form=form)
    accounts.change_password(current_user, form.current.data, form.new.data)
    user = current_user._get_current_object()
    sessions.start_session(
        user,
        current_app.config["SESSION_LIFETIME_HOURS"],
        request.remote_addr,
        request.user_agent.string,
    )
    login_user(user)  # this browser continues on a fresh session
    flash(_("Your password has been changed."), "success")
    return redirect(safe_next(form.next.data))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
    return redirect(safe_next(form.next.data))


@bp.route("/forgot", methods=["GET", "POST"])
@public
@limiter.limit("5 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=lambda: _typed_email())
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form)
    reset.ask(form.email.data, request.remote_addr)
    # The same answer whether or not the address has an account (no enumeration).
    flash(
        _(
            "If this address belongs to an account, a link to set a new password has been sent "
            "to it. The link works for %(minutes)d minutes.",
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
        ),
        "info",
    )
    return redirect(url_for(".login"))


def _reset_refused(error: accounts.UserError, token: str):
    return render_template("auth/reset_unusable.html", reason=str(error)), 410


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
@fails_to(render=_reset_refused)
def reset_password(token: str):
    row = reset.usable(token)
    if row is None:
        return _reset_refused(accounts.UserError(reset.LINK_UNUSABLE), token)
    form = NewPasswordForm(account=row.user)
    if not form.validate_on_submit():
        return render_template("auth/reset.html", form=form, user=row.user)
    reset.complete(token, form.new.data)
    flash(_("Your new password is set, and every session of your account has ended."), "success")
    return redirect(url_for(".login"))
