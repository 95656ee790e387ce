"""Error pages in the user's language: never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from vendorrisk.extensions import db

MESSAGES = {
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
}
CSRF_MESSAGE = _l(
    "The form has expired or was sent from elsewhere. Please reload the page and "
    "try again; nothing was changed."
)


def _page(code: int, message=None):
    title, default = MESSAGES.get(code, MESSAGES[500])
    return render_template("error.html", code=code, title=title, message=message or default), code


def render_error(error: HTTPException):
    return _page(error.code or 500)


def render_csrf_error(error: CSRFError):
    return _page(400, CSRF_MESSAGE)


def render_untrusted_host(error: SecurityError):
    """A Host outside TRUSTED_HOSTS: no URL can be built for it, so no page either."""
    return "400 Bad Request: this server does not answer to that host name.\n", 400, {
        "Content-Type": "text/plain; charset=utf-8"
    }


def render_internal_error(error: Exception):
    db.session.rollback()
    return _page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(SecurityError, render_untrusted_host)
    for code in MESSAGES:
        if code != 500:
            app.register_error_handler(code, render_error)
    app.register_error_handler(500, render_internal_error)
