"""Single sign-on: to the company's OpenID provider and back, logged in as the local login does.

A user of the provider is asked no local second factor (the provider does MFA, by its own
conditional-access rules) and never a password change. Anything the provider answers that
cannot be used (an error, a stale or forged state, a bad token, no answer at all) shows the
login page with a message and is audited; it is never a 500. With VENDORRISK_LOCAL_PASSWORDS
off, the password form is gone and every password route refuses.
"""

from __future__ import annotations

import requests
from authlib.integrations.base_client import MismatchingStateError
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from vendorrisk import clock, sso
from vendorrisk.access import public
from vendorrisk.blueprints.auth import bp, second_factor
from vendorrisk.blueprints.auth.forms import LoginForm
from vendorrisk.blueprints.auth.routes import safe_next
from vendorrisk.extensions import limiter
from vendorrisk.services import audit
from vendorrisk.services.users import sso as sign_ins

#: The signed-session keys of where to go once signed in, and of when the sign-in started.
NEXT = "oidc_next"
STARTED = "oidc_started"
#: A sign-in not back from the provider within this long is refused (its state is stale).
SIGN_IN_SECONDS = 10 * 60
#: Password routes: refused when VENDORRISK_LOCAL_PASSWORDS is off (the login form: its POST).
PASSWORD_ENDPOINTS = frozenset(
    {"auth.login_code", "auth.forgot_password", "auth.reset_password", "auth.change_password"}
)
#: What a user of the provider has no use for: the provider keeps their password and MFA.
LOCAL_ONLY_ENDPOINTS = frozenset(
    {"auth.change_password", "auth.second_factor_page", "auth.second_factor_off"}
)
CANCELLED = _l("The sign-in at %(provider)s was cancelled or refused.")
STALE = _l(
    "The sign-in took too long or was started in another browser window. Please sign in again."
)
FAILED = _l(
    "The sign-in with %(provider)s did not succeed. Please try again, and ask an administrator "
    "if it keeps failing."
)
UNREACHABLE = _l("%(provider)s could not be reached. Please try again in a few minutes.")


def login_page(message: str, status: int):
    """The login page with `message`, as a refused password login shows it."""
    flash(message, "error")
    return render_template("auth/login.html", form=LoginForm(next=session.get(NEXT))), status


def _failure(error: Exception):
    """The login page saying why the sign-in did not succeed (the details go to the log)."""
    provider = {"provider": sso.label()}
    code = getattr(error, "error", None)
    if code == "access_denied":
        message, status = CANCELLED % provider, 401
    elif code == "mismatching_state":
        message, status = STALE, 400
    elif isinstance(error, requests.RequestException):
        message, status = UNREACHABLE % provider, 502
    else:
        message, status = FAILED % provider, 502
    current_app.logger.warning("Single sign-on failed: %r", error)
    audit.record("sso_failed", summary=f"{type(error).__name__}: {error}"[:300])
    return login_page(str(message), status)


@bp.route("/oidc/login")
@public
@limiter.limit("10 per minute")
def oidc_login():
    if not sso.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    session[NEXT] = safe_next(request.args.get("next"))
    session[STARTED] = clock.now().timestamp()
    try:
        sso.metadata()
        return sso.client().authorize_redirect(_callback_url())
    except sso.PROVIDER_ERRORS as error:
        return _failure(error)


def _callback_url() -> str:
    """The redirect URI registered at the provider: on BASE_URL, whatever Host was used."""
    return current_app.config["BASE_URL"] + url_for("auth.oidc_callback")


@bp.route("/oidc/callback")
@public
@limiter.limit("10 per minute")
def oidc_callback():
    if not sso.enabled():
        abort(404)
    started = session.pop(STARTED, None)
    age = clock.now().timestamp() - started if isinstance(started, int | float) else -1
    if not 0 <= age <= SIGN_IN_SECONDS:
        return _failure(MismatchingStateError(description="no sign-in started, or too long ago"))
    try:
        identity = _identity()
    except sso.PROVIDER_ERRORS as error:
        return _failure(error)
    result = sign_ins.sign_in(
        identity, sso.role_map(), sso.label(), session.get("lang"), sso.unit_map()
    )
    if result.user is None:
        return login_page(result.refusal, result.status)
    next_url = session.get(NEXT) or url_for("dashboard.index")
    return second_factor.open_session(result.user, next_url)  # as the password login does


def _identity() -> sign_ins.Identity:
    """Who signed in: the validated ID token's claims, with userinfo's where the groups lack."""
    client, metadata = sso.client(), sso.metadata()
    token = client.authorize_access_token()  # state, PKCE verifier, ID token and nonce checked
    if not token.get("userinfo"):
        raise sso.ProviderError("the token response has no ID token")
    claims = dict(token["userinfo"])
    groups_claim = current_app.config["OIDC_GROUPS_CLAIM"]
    if groups_claim not in claims and metadata.get("userinfo_endpoint"):
        more = dict(client.userinfo(token=token))
        if more.get("sub") != claims["sub"]:  # OIDC Core 5.3.2: the same user, or none of it
            raise sso.ProviderError("userinfo is of another subject")
        claims = more | claims  # the ID token's own claims win
    return sign_ins.identity_from_claims(claims, groups_claim)


@bp.before_request
def passwords_only_where_used():
    """Password routes refuse when local passwords are off, and for users of the provider."""
    endpoint = request.endpoint or ""
    provider = {"provider": sso.label()}
    if current_user.is_authenticated and current_user.uses_sso:
        if endpoint in LOCAL_ONLY_ENDPOINTS:
            flash(_("You sign in with %(provider)s: it keeps your password and MFA.", **provider))
            return redirect(url_for("dashboard.index"))
        return None
    if sso.password_login_allowed():
        return None
    if endpoint in PASSWORD_ENDPOINTS or (endpoint == "auth.login" and request.method == "POST"):
        message = _("Passwords are not used here: please sign in with %(provider)s.", **provider)
        if request.method == "POST":
            return login_page(message, 403)
        flash(message, "error")
        return redirect(url_for("auth.login"))
    return None


@bp.app_context_processor
def sign_in_choices() -> dict:
    """What the login page and the header offer: the provider's button, the password form."""
    return {
        "sso_label": sso.label() if sso.enabled() else None,
        "local_passwords": sso.password_login_allowed(),
    }
