"""Cursor pagination: `limit` items after the opaque `cursor`, in id order, with the next page's
cursor in the body (`next_cursor`) and in a `Link: <…>; rel="next"` header (RFC 8288).

A cursor is the last id seen, so a page never shifts when rows are added or removed meanwhile,
and each page is one indexed range query whatever its depth (no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import sqlalchemy as sa
from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_smorest import abort

from vendorrisk.extensions import db

BAD_CURSOR = _l("This cursor is not one the API gave; start again from the first page.")
LINK_HEADER = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (absent on the last page).',
        "schema": {"type": "string"},
    }
}


def _encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind == "id" and value.isdigit() and len(value) < 19:
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    abort(422, messages={"query": {"cursor": [str(BAD_CURSOR)]}})
    raise AssertionError  # abort raises


def page(stmt: sa.Select, id_column: Any, args: dict[str, Any]) -> tuple[dict, int, dict]:
    """One page of `stmt` (an ORM select) by `id_column`: the body, 200 and the Link header."""
    limit = args.get("limit") or current_app.config["API_PAGE_SIZE"]
    if args.get("cursor"):
        stmt = stmt.where(id_column > _decode(args["cursor"]))
    rows = list(
        db.session.scalars(stmt.order_by(None).order_by(id_column).limit(limit + 1)).unique()
    )
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encode(items[-1].id) if more else None
    headers = {}
    if next_cursor:
        query = {**request.args.to_dict(), "cursor": next_cursor}
        url = url_for(request.endpoint, **(request.view_args or {}), **query, _external=True)
        headers["Link"] = f'<{url}>; rel="next"'
    return {"items": items, "next_cursor": next_cursor}, 200, headers
