"""The REST API (/api/v1) and its OpenAPI 3.1 document (/api/v1/openapi.json).

Callers authenticate with `Authorization: Bearer <token>` only (web.load_user_from_token): the
token's user is flask_login's current_user, so the access rules and the audit log's actor are
the same as on the pages. No session cookie is read or set under /api, so the API needs no CSRF
token. Errors are RFC 9457 problem details (vendorrisk/problems.py). Routes are split by
resource; `schemas` describes what they take and give, `forms` checks input with the register's
own forms, `pagination` pages with a cursor.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask_smorest import Api, Blueprint
from flask_smorest.spec import prepare_response

from vendorrisk import problems
from vendorrisk.access import SAFE_METHODS, public
from vendorrisk.errors import CONTROL_CHARACTERS_MESSAGE, RefusedInput, ServiceError, refused
from vendorrisk.extensions import csrf, limiter, login_manager, release_session
from vendorrisk.models import TokenScope
from vendorrisk.web import CONTROL_CHARACTERS

PREFIX = "/api/v1"

bp = Blueprint(
    "api",
    __name__,
    description="The supplier register, assessments, findings and the roll-up's figures.",
)


class ProblemApi(Api):
    """flask-smorest's Api, with errors documented (and answered, by errors.py) as problem
    details instead of its own JSON, and no error handler of its own over the HTML pages."""

    def _register_error_handlers(self) -> None:
        """errors.py answers every error (problem details under /api, pages elsewhere)."""

    def _register_responses(self) -> None:
        from vendorrisk.blueprints.api.schemas import ProblemSchema

        for status in HTTPStatus:  # named as flask-smorest refers to them (UNPROCESSABLE_ENTITY)
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "A problem (RFC 9457)", "schema": ProblemSchema}
        prepare_response(response, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _token_key() -> str:
    """Rate limits count per token (per address before a token is known)."""
    token = g.get("api_token")
    return f"api-token:{token.id}" if token is not None else f"api-addr:{request.remote_addr}"


def _api_rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


@bp.before_request
def refuse_read_only_token_writes():
    """A token of scope "read" may only read, whatever its user's role allows."""
    token = g.get("api_token")
    if token is not None and token.scope is TokenScope.read and request.method not in SAFE_METHODS:
        return problems.problem(
            403,
            problems.TITLES.get(403) or "Forbidden",
            problems.READ_ONLY_DETAIL,
            type_=problems.INSUFFICIENT_SCOPE,
        )
    return None


@bp.before_request
def refuse_bodies_other_than_json():
    """A body to write is JSON: anything else is refused (415) rather than read as empty."""
    if request.method in ("POST", "PUT", "PATCH") and not request.is_json:
        return problems.problem(415, problems.TITLES[415], problems.DETAILS[415])
    return None


#: What no text field may hold: web.CONTROL_CHARACTERS, and a lone UTF-16 surrogate (which no
#: database can store as text).
UNSTORABLE = re.compile(f"{CONTROL_CHARACTERS.pattern}|[\ud800-\udfff]")


def _texts(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


@bp.before_request
def refuse_unstorable_text():
    """A JSON body is checked as the form guard checks forms (web.refuse_hostile_input)."""
    body = request.get_json(silent=True) if request.is_json else None
    if any(UNSTORABLE.search(text) for text in _texts(body)):
        refused("input_refused", "control characters")
        raise RefusedInput(CONTROL_CHARACTERS_MESSAGE)


@bp.errorhandler(sa.exc.IntegrityError)
def lost_a_race(error: sa.exc.IntegrityError):
    """Another request wrote the same unique value (a corporate number, a contact's address)
    between this one's check and its write: 409, nothing kept; the caller may simply retry."""
    release_session()
    return problems.problem(
        409, problems.TITLES[409], problems.DETAILS[409], type_=problems.CONFLICT
    )


@bp.errorhandler(ServiceError)
def service_refused(error: ServiceError):
    """A service refused (the unit of work rolled back): 422 with its message."""
    return problems.problem(422, problems.TITLES[422], str(error), type_=problems.INVALID_INPUT)


def openapi_json():
    """The OpenAPI 3.1 document of this API."""
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]._openapi_json()


def init_app(app: Flask) -> None:
    """Mount the API at /api/v1 with its document; one Api per app (it keeps its spec)."""
    from vendorrisk.blueprints.api import (  # noqa: F401  the routes, by resource
        assessments,
        figures,
        findings,
        register,
        suppliers,
    )

    app.config.setdefault("API_TITLE", "vendorrisk API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "components": {
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API token (vr_pat_… or vr_svc_…).",
                    }
                }
            },
            "security": [{"bearer": []}],
        },
    )
    api = ProblemApi(app)
    csrf.exempt(bp)  # no cookie is read under /api: a forged request has no credential
    limiter.limit(_api_rate_limit, key_func=_token_key)(bp)
    api.register_blueprint(bp, url_prefix=PREFIX)
    app.view_functions["api-docs.openapi_json"] = public(openapi_json)
    login_manager.blueprint_login_views["api"] = None  # 401, not the login page
