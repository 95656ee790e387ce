"""Two-step login: the code after the password, turning it on (QR code) and off, and the rule
that an admin or CISO does nothing else until it is on (when the setting asks for it).

Between the right password and the right code the browser holds only a short-lived note in its
signed session cookie (who, since when, where to go next); no login session exists yet.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from vendorrisk import clock
from vendorrisk.access import PASSWORD_CHANGE_ENDPOINTS, READERS, access, public, rule_for
from vendorrisk.blueprints.auth import bp
from vendorrisk.blueprints.auth.account_forms import DisableForm, EnrolForm, LoginCodeForm
from vendorrisk.blueprints.common.unit_of_work import fails_to
from vendorrisk.extensions import db, limiter
from vendorrisk.models import User
from vendorrisk.models.mixins import hash_token
from vendorrisk.services.users import second_factor as factor
from vendorrisk.services.users import sessions
from vendorrisk.services.users.second_factor import Check

#: The signed-session key of a login waiting for its code, and how long it waits.
PENDING = "second_factor_pending"
PENDING_SECONDS = 5 * 60
#: How long a QR code shown may be confirmed.
ENROL_SECONDS = 30 * 60
#: What an admin or CISO who must enrol may still use.
WHILE_ENROLLING = PASSWORD_CHANGE_ENDPOINTS | {"auth.second_factor_page"}
#: Routes that change only the user's own login: every role may use them.
SELF_SERVICE_ENDPOINTS = frozenset(
    {
        "auth.second_factor_page",
        "auth.second_factor_off",
        "auth.sessions_page",
        "auth.tokens_page",
        "auth.revoke_token",
    }
)


def refusal(result: Check) -> str:
    if result is Check.wrong:
        return _("The code is not correct.")
    return _(
        "Too many wrong codes: no code is accepted for %(minutes)d minutes.",
        minutes=factor.LOCK_MINUTES,
    )


def _password_mark(user: User) -> str:
    """Changes with the password: a reset meanwhile voids the waiting login."""
    return hash_token(user.password_hash)[:16]


def ask_for_code(user: User, next_url: str):
    """After the right password: note who, briefly, and ask for the code (no session yet)."""
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "at": clock.now().timestamp(),
        "next": next_url,
        "mark": _password_mark(user),
    }
    return redirect(url_for("auth.login_code"))


def _pending_user() -> User | None:
    note = session.get(PENDING)
    if not isinstance(note, dict) or not isinstance(note.get("user"), int):
        return None
    age = clock.now().timestamp() - float(note.get("at") or 0)
    user = db.session.get(User, note["user"]) if 0 <= age <= PENDING_SECONDS else None
    if user is None or not user.active or user.mfa_enabled_at is None:
        return None
    return user if note.get("mark") == _password_mark(user) else None


def open_session(user: User, next_url: str):
    """Log the user in on a fresh session and go on to `next_url` (a path made safe)."""
    session.clear()  # the note goes; nothing of the half-logged-in state carries over
    sessions.start_session(
        user,
        current_app.config["SESSION_LIFETIME_HOURS"],
        request.remote_addr,
        request.user_agent.string,
    )
    login_user(user)
    return redirect(next_url)  # made safe by login() before it was noted or passed


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    form = LoginCodeForm()
    if not form.validate_on_submit():
        return render_template("auth/login_code.html", form=form)
    result = factor.check_code(user, form.code.data, clock.now())
    if result is Check.accepted:
        return open_session(user, session[PENDING]["next"])
    form.code.errors = [refusal(result)]
    return render_template("auth/login_code.html", form=form), 401 if result is Check.wrong else 429


def _enrolment(user: User, form: EnrolForm):
    """The enrolment page: the QR code and text of the secret in the form (a new one if none)."""
    secret = factor.unseal(form.sealed.data, ENROL_SECONDS) if form.sealed.data else None
    if secret is None:
        secret = factor.new_secret()
        form.sealed.data = factor.seal(secret)
    qr = factor.qr_svg(factor.provisioning_uri(user, secret), _("QR code for your authenticator"))
    return render_template("auth/enrol.html", form=form, qr=qr, secret=factor.grouped(secret))


def _status(user: User, form: DisableForm, status: int = 200):
    left = factor.recovery_codes_left(user)
    required = factor.required_for(user)
    page = render_template("auth/second_factor.html", form=form, left=left, required=required)
    return page, status


@bp.route("/second-factor", methods=["GET", "POST"])
@access(write=READERS)
@limiter.limit("10 per minute", methods=["POST"])
@fails_to(".second_factor_page")
def second_factor_page():
    user = current_user._get_current_object()
    if user.mfa_enabled_at is not None:
        return _status(user, DisableForm(formdata=None))
    form = EnrolForm()
    if form.validate_on_submit():
        result = factor.enrol(user, form.sealed.data, form.code.data, clock.now())
        if isinstance(result, factor.Enrolled):
            return render_template("auth/recovery_codes.html", codes=result.recovery_codes)
        form.code.errors = [refusal(result)]
    return _enrolment(user, form)


@bp.route("/second-factor/off", methods=["POST"])
@access(write=READERS)
@limiter.limit("10 per minute", methods=["POST"])
@fails_to(".second_factor_page")
def second_factor_off():
    user = current_user._get_current_object()
    form = DisableForm()
    if not form.validate_on_submit():
        return _status(user, form, 400)
    result = factor.disable(user, form.code.data, clock.now())
    if result is Check.accepted:
        flash(_("Two-step login is off. Every other session of your account has ended."), "info")
        return redirect(url_for(".second_factor_page"))
    form.code.errors = [refusal(result)]
    return _status(user, form, 401 if result is Check.wrong else 429)


@bp.before_app_request
def second_factor_first():
    """An admin or CISO without a second factor, when the setting asks for one, enrols first."""
    if not current_user.is_authenticated or request.endpoint in WHILE_ENROLLING:
        return None
    rule = rule_for(request.endpoint) if request.endpoint else None
    if rule is None or rule.public or rule.portal or not factor.must_enrol(current_user):
        return None
    flash(_("Your role must use two-step login. Turn it on to continue."), "info")
    return redirect(url_for("auth.second_factor_page"))
