"""Refused requests leave a trace in the audit log: a 403, a CSRF failure, a 429, and input no
form sends (a control character, a page past any list: web.refuse_hostile_input).

errors.py's handlers name each refusal as they answer it (`errors.refused`); one after_request hook
(`record`) writes it, and also counts a 403 or 429 answered without an exception (the portal's
"no sitting" page). 404s are not refusals and are not recorded.

The refused request keeps nothing: its transaction is rolled back first, and the audit row is
written and committed on its own, so it lands whatever the request had begun.

A flood cannot fill the table: each row carries a dedupe key — SHA-256 of (kind, who, route,
minute), "who" being the user if one is logged in, else the address — under a unique index, and
is inserted with ON CONFLICT DO NOTHING. So each (kind, who, route) gives at most one row a
minute, exactly, across every worker and host, with no store besides the database; the route is
the URL rule (`/suppliers/<int:supplier_id>`), not the path, so varying an id or a made-up path
does not multiply rows (the path itself is in the row).
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from flask import Response, g, request
from flask_login import current_user
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vendorrisk import clock
from vendorrisk.errors import REFUSALS
from vendorrisk.extensions import db, release_session
from vendorrisk.gunicorn_logging import redact
from vendorrisk.models import AuditEvent
from vendorrisk.services import audit

log = logging.getLogger("vendorrisk.refusals")


def _actor() -> audit.Actor:
    address = (request.remote_addr or "")[:45] or None
    if current_user and current_user.is_authenticated:
        return audit.Actor("user", current_user.email, current_user.id, address)
    return audit.Actor("system", "anonymous", None, address)


def _dedupe_key(action: str, actor: audit.Actor, minute: str) -> str:
    who = f"user:{actor.user_id}" if actor.user_id else f"address:{actor.ip}"
    route = request.url_rule.rule if request.url_rule else "(no route)"
    return hashlib.sha256(f"{action}|{who}|{route}|{minute}".encode()).hexdigest()


def _write(action: str, reason: str) -> None:
    now = clock.now()
    actor = _actor()
    line = (request.method, redact(request.path), request.endpoint or "")  # no link tokens
    row = audit.refusal_row(action, actor, line, reason, now)
    row["dedupe_key"] = _dedupe_key(action, actor, now.strftime("%Y-%m-%dT%H:%M"))
    db.session.rollback()  # the refused request keeps nothing; the row stands on its own
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(AuditEvent).values(**row).on_conflict_do_nothing(index_elements=["dedupe_key"])
    db.session.execute(stmt)
    db.session.commit()


def record(response: Response) -> Response:
    """after_request: write the refusal this request was answered with, if it was one."""
    action, reason = g.pop("refusal", (REFUSALS.get(response.status_code), ""))
    if action is None:
        return response
    try:
        _write(action, reason)
    except sa.exc.SQLAlchemyError:  # a refusal stays a refusal, not a 500
        log.exception("refused %s %s not recorded in the audit log", request.method, request.path)
        release_session()
    return response
