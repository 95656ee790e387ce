"""Request plumbing: login sessions, the audit actor, security headers, hostile input, template
context."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from vendorrisk import clock, problems, scoping
from vendorrisk.access import rule_for
from vendorrisk.blueprints.common.filters import page_out_of_range
from vendorrisk.errors import (
    CONTROL_CHARACTERS_MESSAGE,
    PAGE_OUT_OF_RANGE_MESSAGE,
    RefusedInput,
    refused,
)
from vendorrisk.extensions import cross_origin_reason, db, login_manager
from vendorrisk.models import User
from vendorrisk.services import audit
from vendorrisk.services.users import sessions, tokens

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def content_security_policy(issuer: str) -> dict[str, str]:
    """CSP, with the OpenID provider's origin among the form targets: Chromium checks every
    redirect a form's answer makes against form-action, and logout (a form) ends at the
    provider's end_session_endpoint."""
    if not issuer:
        return CSP
    parts = urlsplit(issuer)
    return CSP | {"form-action": f"{CSP['form-action']} {parts.scheme}://{parts.netloc}"}


@login_manager.user_loader
def load_user(token: str) -> User | None:
    idle = current_app.config["SESSION_IDLE_MINUTES"]
    with scoping.loading_user():
        user = sessions.load_session(token, clock.now(), idle)
        if db.session.dirty:  # last_seen_at moved on (once a minute): kept whatever it does
            db.session.commit()
    return user


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    """Under /api only, the user of `Authorization: Bearer <token>`; the token is g.api_token.

    An unknown, expired or revoked token loads nobody (401, error="invalid_token"); its last
    use moves on at most once a minute, kept whatever the view does.
    """
    if not problems.in_api():
        return None
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    with scoping.loading_user():
        row = tokens.authenticate(token.strip(), clock.now())
        if row is None:
            g.api_token_refused = True
            return None
        if db.session.dirty:
            db.session.commit()
        user = row.user
    g.api_token = row
    return user


def set_audit_actor() -> None:
    if current_user.is_authenticated:
        actor = audit.Actor(
            type="user", label=current_user.email, user_id=current_user.id, ip=request.remote_addr
        )
    else:
        actor = audit.Actor(type="system", label="anonymous", ip=request.remote_addr)
    audit.set_actor(actor)


#: C0 control characters but tab, line feed and carriage return: nobody types them into a form,
#: PostgreSQL cannot store NUL in text at all, and escape sequences act on terminals reading logs.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _texts() -> Iterator[str]:
    """Every text the request brings: its path, query and form names and values, file names."""
    yield request.path
    for key, value in request.args.items(multi=True):
        yield key
        yield value
    for key, value in request.form.items(multi=True):
        yield key
        yield value
    for key, upload in request.files.items(multi=True):
        yield key
        yield upload.filename or ""


def refuse_hostile_input() -> None:
    """before_request, the one guard for input no form sends: a control character anywhere, or a
    page number past any list, is refused with 400 and a message before a view sees it (rather
    than crash deep inside as a 500, or be stored), and recorded as an attempt (refusals.py).
    No view reads a JSON body."""
    if any(CONTROL_CHARACTERS.search(text) for text in _texts()):
        refused("input_refused", "control characters")
        raise RefusedInput(CONTROL_CHARACTERS_MESSAGE)
    if page_out_of_range(request.args):
        refused("input_refused", "page out of range")
        raise RefusedInput(PAGE_OUT_OF_RANGE_MESSAGE)


def no_store_when_logged_in(response: Response) -> Response:
    """Pages behind a login hold supplier data: no shared or back-button caches."""
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


def can(endpoint: str, method: str = "GET") -> bool:
    """Whether the current user may use a route (for showing links and buttons)."""
    rule = rule_for(endpoint)
    role = current_user.role if current_user.is_authenticated else None
    return bool(rule and rule.allows(role, method))


def sender_profile_is_set() -> bool:
    """Whether letters to suppliers carry a full signature (the send pages warn until then)."""
    from vendorrisk.mail import sender  # here: the profile is a setting, read in a request

    return sender.is_set()


def template_context() -> dict[str, Any]:
    return {"can": can, "sender_profile_is_set": sender_profile_is_set}


def refuse_cross_origin() -> None:
    """A state-changing request from another site is refused before anything else looks at it
    (who is logged in, what the role allows): 400, and no cookie set in answer."""
    config = current_app.config
    unsafe = config.get("WTF_CSRF_METHODS", {"POST", "PUT", "PATCH", "DELETE"})
    if not config.get("WTF_CSRF_ENABLED", True) or request.method not in unsafe:
        return
    reason = cross_origin_reason()
    if reason:
        g.refused_cross_origin = True
        raise CSRFError(reason)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that an answer to a forged cross-site request never
    sets the cookie: the browser sent none (SameSite), and a fresh one would log its user out."""

    def should_set_cookie(self, app: Flask, session) -> bool:
        return not g.get("refused_cross_origin") and super().should_set_cookie(app, session)

    def open_session(self, app: Flask, request):
        """The API reads no cookie (a bearer token is its only credential): no CSRF there."""
        if request.path.startswith(problems.API_PREFIX):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if request.path.startswith(problems.API_PREFIX):
            return  # nor does it ever set one
        super().save_session(app, session, response)


def guard_origin(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.before_request(refuse_cross_origin)


def init_app(app: Flask) -> None:
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:  # client addresses (rate limits, audit log) come from the trusted proxies' headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    # One Talisman per app: it keeps its settings on itself, so a shared one would carry one
    # app's force_https into the next app built in the same process.
    Talisman(
        app,
        force_https=app.config.get("SESSION_COOKIE_SECURE", False),
        session_cookie_secure=app.config.get("SESSION_COOKIE_SECURE", False),
        content_security_policy=content_security_policy(app.config.get("OIDC_ISSUER", "")),
        frame_options="DENY",
        referrer_policy="no-referrer",  # portal URLs hold tokens; nothing here needs a referrer
        strict_transport_security=app.config.get("SESSION_COOKIE_SECURE", False),
    )
    app.before_request(refuse_hostile_input)
    app.before_request(set_audit_actor)
    app.after_request(no_store_when_logged_in)
    app.context_processor(template_context)
