from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from vendorrisk.access import READERS, access, public
from vendorrisk.blueprints.auth import bp
from vendorrisk.blueprints.auth.forms import ChangePasswordForm, LanguageForm, LoginForm
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import limiter
from vendorrisk.services import audit
from vendorrisk.services.users import accounts


def _login_email() -> str:
    """Failed logins are also limited per account, whichever address they come from."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


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
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("20 per hour", methods=["POST"], key_func=lambda: _login_email())
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            audit.record("login_failed", summary=form.email.data.strip().lower()[:254])
            flash(_("The email address or password is not correct."), "error")
        else:
            session.clear()  # a new session on login: nothing of the anonymous one carries over
            accounts.start_session(
                user,
                current_app.config["SESSION_LIFETIME_HOURS"],
                request.remote_addr,
                request.user_agent.string,
            )
            login_user(user)
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@access(write=READERS)
def logout():
    accounts.end_session(current_user.session_token)
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


def _password_refused(error: accounts.UserError):
    """The form again, the reason on the current password (nothing was changed)."""
    form = ChangePasswordForm(next=request.args.get("next"))
    form.current.errors = [str(error)]
    return render_template("auth/password.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@access(write=READERS)
@fails_to(render=_password_refused)
def change_password():
    form = ChangePasswordForm(next=request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("auth/password.html", form=form)
    accounts.change_password(current_user, form.current.data, form.new.data)
    user = current_user._get_current_object()
    accounts.start_session(
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
