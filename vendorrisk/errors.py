"""Error pages in the user's language: never a stack trace, never a bare server page.

A neighbour that fails (the database down or partitioned) is told apart from a bug: 503 with
"try again", against 500 "logged". JSON endpoints (autosave) get JSON. A page that cannot be
drawn because the failure reaches the layout itself (the logged-in user cannot be loaded) falls
back to a plain page that needs nothing but the message.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, g, jsonify, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, SecurityError

from vendorrisk.extensions import release_session
from vendorrisk.vocab import LOCALES

log = logging.getLogger("vendorrisk.errors")

MESSAGES = {
    401: (_l("Not logged in"), _l("Please log in to see this page.")),
    409: (_l("Conflict"), _l("Someone else changed this in the meantime. Please reload.")),
    415: (_l("Unsupported media type"), _l("This kind of content cannot be accepted here.")),
    422: (_l("Invalid input"), _l("Some of the input is not valid; nothing was changed.")),
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("Your role does not allow this page or action.")),
    404: (_l("Not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed"), _l("This action cannot be done this way.")),
    410: (_l("No longer available"), _l("This link is no longer valid.")),
    413: (_l("File too large"), _l("The upload is larger than the limit.")),
    429: (_l("Too many requests"), _l("Please wait a moment before trying again.")),
    500: (
        _l("Something went wrong"),
        _l("The error has been logged. Nothing you saved before was lost."),
    ),
    503: (
        _l("Temporarily unavailable"),
        _l(
            "The service cannot reach its database right now. Nothing you saved before was "
            "lost. Please try again in a few minutes."
        ),
    ),
}
#: What a supplier is told instead, where the staff wording would not fit (no role, no login);
#: it shows on every portal page, the renewed-evidence links' (/portal/e/...) among them.
PORTAL_MESSAGES = {
    403: (
        _l("This page cannot be opened"),
        _l("Please open the page again with the link in the email we sent you."),
    ),
    404: (
        _l("Not found"),
        _l(
            "There is nothing at this address. Please open the page again with the link in "
            "the email we sent you."
        ),
    ),
}
CSRF_MESSAGE = _l(
    "The form has expired or was sent from elsewhere. Please reload the page and "
    "try again; nothing was changed."
)
CONTROL_CHARACTERS_MESSAGE = _l(
    "The request contains characters that cannot be accepted (control characters such as NUL). "
    "Please remove them and try again; nothing was changed."
)
PAGE_OUT_OF_RANGE_MESSAGE = _l(
    "That page number is out of range. Please go back to the list and choose a page."
)
#: Refusals answered by status: the audit action each is recorded under (vendorrisk/refusals.py).
REFUSALS = {403: "access_denied", 429: "rate_limited"}
#: Seconds a client is asked to wait before retrying when a neighbour is down.
RETRY_AFTER = 30


class ServiceError(ValueError):
    """A service refusing what was asked, with a message for the person who asked.

    Services raise it (or a subclass) and never commit; the view's unit of work rolls back and
    shows the message where the view declared (`blueprints/common/unit_of_work.fails_to`). A
    ValueError still, so that code catching the older per-service errors keeps working.
    """


class RefusedInput(BadRequest):
    """A request refused for what it carries, before any view sees it: 400 with `message`."""

    def __init__(self, message) -> None:
        super().__init__()
        self.message = message


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def in_portal() -> bool:
    """Whether the request is the supplier portal's (matched or not): a supplier, not staff."""
    return request.path == "/portal" or request.path.startswith("/portal/")


def _requester(code: int):
    """Whom a supplier can ask (the sender profile), in the portal's language. With the
    database down (503) only the company's configured name, so the page never waits on it."""
    # Imported here: models.setting imports this module's ServiceError.
    from vendorrisk.i18n import current_locale
    from vendorrisk.mail.sender import FIELDS, sender

    if g.get("portal_locale") is None and session.get("portal_lang") in LOCALES:
        g.portal_locale = session["portal_lang"]  # before the view (CSRF, 429, no route)
    if code == 503 and "sender_profile" not in g:
        # The profile as read once per request, here unread: the page (and the portal's
        # context processor) then name the configured company without asking the database.
        g.sender_profile = dict.fromkeys(FIELDS, "")
    return sender(current_locale())


def _problem(code: int, message=None, error: Exception | None = None):
    """The API's answer: RFC 9457 problem details in the caller's language (problems.py)."""
    from vendorrisk import problems

    title, default = MESSAGES.get(code, MESSAGES[500])
    title = problems.TITLES.get(code, title)
    detail = message or problems.DETAILS.get(code) or default
    type_, found = "about:blank", []
    data = getattr(error, "data", None) or {}
    if data.get("messages"):  # webargs (a schema) or a form: which fields, and why
        type_ = problems.INVALID_INPUT
        for location, messages in data["messages"].items():
            found += problems.field_errors(messages, location)
    if code == 401 and g.get("api_token_refused"):
        type_, detail = problems.INVALID_TOKEN, problems.INVALID_TOKEN_DETAIL
    if code == 409:
        type_ = problems.CONFLICT
    headers = {"Retry-After": str(RETRY_AFTER)} if code == 503 else {}
    if code == 429 and error is not None:
        headers.update(dict(getattr(error, "headers", None) or {}))
    if code == 405 and isinstance(error, HTTPException):
        headers.update({k: v for k, v in error.get_headers() if k == "Allow"})
    return problems.problem(code, title, detail, type_=type_, errors=found, headers=headers)


def _page(code: int, message=None, error: Exception | None = None):
    if request.path.startswith("/api/"):
        return _problem(code, message, error)
    portal = in_portal()
    title, default = (PORTAL_MESSAGES if portal else {}).get(code) or MESSAGES.get(
        code, MESSAGES[500]
    )
    message = message or default
    headers = {"Retry-After": str(RETRY_AFTER)} if code == 503 else {}
    if _wants_json():
        return jsonify(status="error", message=str(message)), code, headers
    context = {"code": code, "title": title, "message": message}
    try:
        if portal:
            context["requester"] = _requester(code)
        page = render_template("portal/error.html" if portal else "error.html", **context)
    except Exception:  # the layout itself failed (the user could not be loaded): a plain page
        log.exception("the error page for %s could not be drawn", code)
        g._login_user = AnonymousUserMixin()
        page = render_template("error_plain.html", **context)
    return page, code, headers


def refused(action: str, reason: str = "") -> None:
    """Name the refusal this request is answered with, for the audit log (refusals.record)."""
    g.refusal = (action, reason)


def render_error(error: HTTPException):
    if error.code in REFUSALS:  # 429's description names the limit; 403's says nothing more
        refused(REFUSALS[error.code], str(error.description) if error.code == 429 else "")
    return _page(error.code or 500, getattr(error, "message", None), error)


def render_csrf_error(error: CSRFError):
    refused("csrf_refused", str(error.description or ""))
    return _page(400, CSRF_MESSAGE, error)


def render_untrusted_host(error: SecurityError):
    """A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page either."""
    return (
        "400 Bad Request: this server does not answer to that host name.\n",
        400,
        {"Content-Type": "text/plain; charset=utf-8"},
    )


def render_database_unavailable(error: sa.exc.DBAPIError):
    """The database refused, reset or timed out: a neighbour's failure, not a bug."""
    if not error.connection_invalidated and not isinstance(
        error, sa.exc.OperationalError | sa.exc.InterfaceError
    ):
        # A bug (a statement the database refuses), not an outage: logged with its traceback
        # as Flask logs every other unhandled error (this handler takes it before Flask would).
        log.error("error on %s %s", request.method, request.path, exc_info=error)
        return render_internal_error(error)
    log.error("database unavailable: %s", error.orig)
    release_session()
    g._login_user = AnonymousUserMixin()  # the page must not wait on the database again
    return _page(503)


def render_internal_error(error: Exception):
    release_session()
    return _page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(SecurityError, render_untrusted_host)
    app.register_error_handler(sa.exc.DBAPIError, render_database_unavailable)
    for code in MESSAGES:
        if code not in (500, 503):
            app.register_error_handler(code, render_error)
    app.register_error_handler(500, render_internal_error)
    from vendorrisk import refusals

    app.after_request(refusals.record)  # 403, CSRF and 429 in the audit log
