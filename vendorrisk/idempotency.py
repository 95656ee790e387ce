"""One-time form keys: a double click, a retry after an error page or a racing copy of a form
does its work once, and shows the first result.

Every POST form carries a random key beside its CSRF token (the `idempotency_field()` template
global, fresh at each rendering). Before the view runs, one hook inserts (key, actor, endpoint)
with INSERT … ON CONFLICT DO NOTHING into the request's own transaction, so the key commits with
the change the view commits and disappears with a rollback: a first attempt that failed leaves
its retry free, and a form sent back with errors (nothing committed) keeps its key usable. A copy
whose key is already there does not run the view: it is redirected where the first response went,
or told that the work was done. On PostgreSQL a racing copy waits on the unique index until the
first commits, then sees the conflict. Keys belong to a user or a portal sitting: anyone else's
copy of a key is a different key. Requests without a key (API clients, pages from before) run as
they always did. Keys are purged after KEEP by the purge-idempotency-keys job.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vendorrisk import clock
from vendorrisk.access import SAFE_METHODS, rule_for
from vendorrisk.extensions import db
from vendorrisk.models import IdempotencyKey

log = logging.getLogger("vendorrisk.idempotency")

#: The form field that carries the key.
FIELD = "idempotency_key"
#: How long a used key is remembered: far beyond any retry or double click.
KEEP = timedelta(days=7)
#: How long a copy waits for the first request to say where its result is.
WAIT_SECONDS = 5.0
ALREADY_DONE = _l(
    "This form had already been sent, and what it asked for was done then. It has not been "
    "done a second time."
)
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TABLE = IdempotencyKey.__table__
#: session.info: the key this request inserted, until its transaction commits or rolls back;
#: then the key committed with the view's change; and whether anything was written since.
_PENDING = "vendorrisk_idempotency_pending"
_COMMITTED = "vendorrisk_idempotency_committed"
_WROTE = "vendorrisk_idempotency_wrote_after_commit"


def field() -> Markup:
    """The hidden input carrying a new one-time key (put it beside each form's CSRF token)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, secrets.token_urlsafe(16)
    )


def exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let a view run for every copy of its form: its result lives in the response alone (a new
    password shown once, a cookie set), and running it twice is harmless."""
    view.idempotency_exempt = True
    return view


def _actor() -> str | None:
    """Whose keys these are: the portal sitting on its pages, else the logged-in user."""
    rule = rule_for(request.endpoint)
    if rule is not None and rule.portal:
        sitting = (session.get("portal") or {}).get("sitting")
        if not sitting:
            return None
        return "sitting:" + hashlib.sha256(sitting.encode()).hexdigest()[:64]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return None


def _claim_of_request() -> tuple[str, str, str] | None:
    """(key, actor, endpoint) when this request carries a key that counts, else None."""
    if request.method in SAFE_METHODS or request.endpoint is None:
        return None
    key = request.form.get(FIELD, "")
    view = current_app.view_functions.get(request.endpoint)
    if not _KEY.fullmatch(key) or getattr(view, "idempotency_exempt", False):
        return None
    actor = _actor()
    return (key, actor, request.endpoint) if actor else None


def check_key() -> Response | None:
    """before_request: run the view for a key's first request only; copies get its result."""
    claim = _claim_of_request()
    if claim is None:
        return None
    key, actor, endpoint = claim
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(_TABLE)
        .values(key=key, actor=actor, endpoint=endpoint, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["key", "actor", "endpoint"])
        .returning(_TABLE.c.id)
    )
    if db.session.execute(stmt).scalar() is not None:
        db.session.info[_PENDING] = claim
        return None
    db.session.rollback()  # nothing done yet; and SQLite's write lock is let go while we wait
    return _first_result(claim, actor.startswith("sitting:"))


def _where(claim: tuple[str, str, str]):
    key, actor, endpoint = claim
    return (_TABLE.c.key == key, _TABLE.c.actor == actor, _TABLE.c.endpoint == endpoint)


def _outcome(claim: tuple[str, str, str]) -> sa.Row | None:
    """The first request's status and redirect, waiting a little while it is still running."""
    deadline = time.monotonic() + WAIT_SECONDS
    query = sa.select(_TABLE.c.status, _TABLE.c.location, _TABLE.c.created_at).where(*_where(claim))
    while True:
        row = db.session.execute(query).first()
        db.session.rollback()  # a fresh look each time, holding nothing
        recent = row is not None and clock.now() - row.created_at < timedelta(minutes=1)
        if row is None or row.status is not None or not recent or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def _first_result(claim: tuple[str, str, str], portal: bool) -> Response | tuple[str, int]:
    row = _outcome(claim)
    if row is not None and row.location:
        flash(str(ALREADY_DONE), "info")
        return redirect(row.location, 303)
    if portal:
        g.portal_locale = session.get("portal_lang")
    home = url_for("portal.overview") if portal else url_for("dashboard.index")
    return render_template("already_done.html", message=ALREADY_DONE, home=home), 200


def record_outcome(response: Response) -> Response:
    """after_request: note where the first request's result is, once its key has committed."""
    claim = db.session.info.pop(_COMMITTED, None)
    if claim is None:
        return response
    if db.session.info.get(_WROTE) or db.session.new or db.session.dirty or db.session.deleted:
        log.warning("%s left changes uncommitted; its key's result is not recorded", claim[2])
        return response
    location = response.headers.get("Location") if response.status_code in range(300, 400) else None
    local = location and location.startswith("/") and not location.startswith("//")
    try:
        db.session.execute(
            sa.update(_TABLE)
            .where(*_where(claim))
            .values(
                status=response.status_code,
                location=location if local and len(location) <= 2000 else None,
            )
        )
        db.session.commit()
    except sa.exc.SQLAlchemyError:  # the change itself is committed; copies get the message
        log.exception("the result of %s could not be recorded", claim[2])
        db.session.rollback()
    return response


@event.listens_for(Session, "after_commit")
def _key_committed(db_session: Session) -> None:
    db_session.info.pop(_WROTE, None)
    claim = db_session.info.pop(_PENDING, None)
    if claim is not None:
        db_session.info[_COMMITTED] = claim


@event.listens_for(Session, "after_soft_rollback")
def _key_rolled_back(db_session: Session, previous_transaction) -> None:
    """A rolled-back key is gone: the request did nothing, and a retry may do it."""
    if not previous_transaction.nested:
        db_session.info.pop(_PENDING, None)
        db_session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_flush")
def _wrote(db_session: Session, flush_context: Any) -> None:
    """Something was written after the key committed: recording its result would commit it."""
    if _COMMITTED in db_session.info:
        db_session.info[_WROTE] = True


def purge(now: datetime) -> int:
    """Forget the keys older than KEEP; the number removed."""
    return db.session.execute(sa.delete(_TABLE).where(_TABLE.c.created_at < now - KEEP)).rowcount


def init_app(app: Flask) -> None:
    app.add_template_global(field, "idempotency_field")
    app.before_request(check_key)
    app.after_request(record_outcome)
