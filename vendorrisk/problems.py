"""Errors of the API as RFC 9457 problem details (application/problem+json), in the caller's
language: the same statuses and words as the error pages, as JSON a program can read.

errors.py answers every error; for a request under /api it hands the answer here instead of
drawing a page. `errors` lists what was wrong with which field, each with a JSON Pointer into
the request body (`pointer`) or the query parameter's name (`parameter`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, json, request
from flask_babel import lazy_gettext as _l

#: Where the API lives: every error under it is answered as problem details.
API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"
#: The problem types beyond the plain status ("about:blank"): a URN names each.
INVALID_INPUT = "urn:vendorrisk:problem:invalid-input"
INVALID_TOKEN = "urn:vendorrisk:problem:invalid-token"  # noqa: S105  # nosec B105 a URN
INSUFFICIENT_SCOPE = "urn:vendorrisk:problem:insufficient-scope"
CONFLICT = "urn:vendorrisk:problem:conflict"

#: Details of the statuses only the API answers (the others share the error pages' words).
DETAILS = {
    401: _l("Send a valid API token in the Authorization header: Authorization: Bearer <token>."),
    409: _l("The request conflicts with the current state of the resource."),
    415: _l("Send the request body as JSON (Content-Type: application/json)."),
    422: _l("The request has invalid fields; nothing was changed."),
}
TITLES = {
    401: _l("Not authenticated"),
    409: _l("Conflict"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
}
INVALID_TOKEN_DETAIL = _l("The API token is unknown, expired or revoked.")
READ_ONLY_DETAIL = _l("This API token may only read (scope \u201cread\u201d).")


def in_api() -> bool:
    """Whether the request is the API's (matched or not)."""
    return request.path.startswith(API_PREFIX)


def problem(
    status: int,
    title: Any,
    detail: Any,
    *,
    type_: str = "about:blank",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem details response: type, title, status, detail, instance (and errors)."""
    body: dict[str, Any] = {
        "type": type_,
        "title": str(title),
        "status": status,
        "detail": str(detail),
        "instance": request.path,
    }
    if errors:
        body["errors"] = [{k: str(v) for k, v in error.items()} for error in errors]
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE
    )
    response.headers.update(headers or {})
    response.headers["Content-Language"] = _language()
    if status == 401:
        response.headers["WWW-Authenticate"] = _challenge(type_)
    return response


def _language() -> str:
    from vendorrisk.i18n import current_locale  # here: i18n imports the models

    return current_locale()


def _challenge(type_: str) -> str:
    """RFC 6750's WWW-Authenticate: Bearer, with error="invalid_token" when one was refused."""
    if type_ == INVALID_TOKEN:
        return 'Bearer realm="vendorrisk", error="invalid_token"'
    return 'Bearer realm="vendorrisk"'


def field_errors(messages: Any, location: str = "json") -> list[dict[str, str]]:
    """webargs/marshmallow or WTForms messages ({field: [message, ...]}) as problem errors."""
    if not isinstance(messages, dict):
        return [{"detail": str(messages)}]
    key = "pointer" if location in ("json", "body") else "parameter"
    found: list[dict[str, str]] = []
    for name, value in messages.items():
        if isinstance(value, dict):  # a nested object (or a list's item) of the body
            for inner in field_errors(value, location):
                where = inner.get(key, "").lstrip("#/")
                inner[key] = f"#/{name}/{where}" if key == "pointer" else f"{name}.{where}"
                found.append(inner)
            continue
        for message in value if isinstance(value, list | tuple) else [value]:
            where = f"#/{name}" if key == "pointer" else str(name)
            found.append({key: where, "detail": str(translated(message))})
    return found


#: marshmallow's own messages (English only) in the caller's language.
MARSHMALLOW_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field may not be empty (null)."),
    "Unknown field.": _l("Unknown field."),
    "Not a valid string.": _l("Not a valid text."),
    "Not a valid integer.": _l("Not a valid whole number."),
    "Not a valid number.": _l("Not a valid number."),
    "Not a valid boolean.": _l("Not true or false."),
    "Not a valid date.": _l("Not a valid date (YYYY-MM-DD)."),
    "Not a valid datetime.": _l("Not a valid date and time (ISO 8601)."),
    "Invalid input type.": _l("Not a valid JSON object."),
}


def translated(message: Any) -> Any:
    if isinstance(message, str):
        return MARSHMALLOW_MESSAGES.get(message, message)
    return message
