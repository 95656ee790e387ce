"""The unit of work every view runs in, as indico's `RH.process` does for its request handlers.

A view parses, calls services (which flush, never commit) and renders; what happens to the
transaction is decided here, once, after the view returns:

- the view wrote something: commit once, run what it asked to run after the commit, then hand
  the mail it queued to delivery once the response is out (`mail.outbox`);
- it wrote nothing (a page, a form sent back with errors): nothing is committed, so the form's
  one-time key stays usable (`vendorrisk.idempotency`);
- a service refused (`errors.ServiceError`): roll back — the bytes of an upload go with it
  (`services.files`) — and answer as the view declared with `fails_to`;
- anything else raised: roll back and let the error pages answer (`vendorrisk.errors`); a
  database that cannot be reached is left to them, as they drop the connection without waiting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, flash, g, redirect, request, url_for
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.mail import outbox

#: session.info: something was written since the view started.
_WROTE = "vendorrisk_unit_of_work_wrote"


@dataclass
class _Work:
    """What the running view asked of its unit of work."""

    discarded: bool = False
    on_commit: list[Callable[[], Any]] = field(default_factory=list)
    on_rollback: list[Callable[[], Any]] = field(default_factory=list)


def _work() -> _Work:
    return g.unit_of_work


def fails_to(
    endpoint: str | None = None,
    *,
    anchor: str | None = None,
    render: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare what a view answers when a service refuses its request (a ServiceError).

    With `endpoint`, the message is flashed and the browser sent there, with the view's own URL
    arguments that the endpoint takes (and `anchor`, formatted with them). With `render`, it is
    called as `render(error, **view_args)` after the rollback and shows the message itself (on a
    field, or flashed). A view without either lets the error through: a bug, logged as one.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.fails_to = render or functools.partial(_redirect, endpoint, anchor)
        return view

    return decorate


def _redirect(endpoint: str, anchor: str | None, error: ServiceError, **view_args: Any):
    flash(str(error), "error")
    if endpoint.startswith("."):
        endpoint = f"{request.blueprint}{endpoint}"
    taken = set().union(*(rule.arguments for rule in current_app.url_map.iter_rules(endpoint)))
    args = {name: value for name, value in view_args.items() if name in taken}
    if anchor:
        args["_anchor"] = anchor.format(**view_args)
    return redirect(url_for(endpoint, **args))


def discard() -> None:
    """Keep nothing this request changed (a refused workbook, an import that lost a race): roll
    back now, and commit nothing after the view. What the view reads next starts afresh."""
    _work().discarded = True
    _roll_back()


def on_commit(action: Callable[[], Any]) -> None:
    """Run `action` once the view's changes are committed (and commit even if it wrote nothing)."""
    _work().on_commit.append(action)


def on_rollback(action: Callable[[], Any]) -> None:
    """Run `action` if the view's changes are rolled back or fail to commit."""
    _work().on_rollback.append(action)


def _roll_back() -> None:
    db.session.rollback()
    _run(_work().on_rollback)


def _run(actions: list[Callable[[], Any]]) -> None:
    while actions:
        actions.pop(0)()


def _wrote() -> bool:
    session = db.session
    if session.info.get(_WROTE) or session.new or session.deleted:
        return True
    return any(session.is_modified(obj) for obj in session.dirty)


def _finish() -> None:
    """After the view: commit what it wrote, then what waits on the commit, then the mail."""
    work = _work()
    if work.discarded or not (work.on_commit or _wrote()):
        return
    try:
        db.session.commit()
    except BaseException:
        _run(work.on_rollback)
        raise
    work.on_rollback.clear()
    _run(work.on_commit)
    if g.get("queued_mail"):
        outbox.deliver_after_response()


def run_in_unit_of_work(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view, committed once after it returns, or rolled back when it raises."""

    @functools.wraps(view)
    def unit_of_work(*args: Any, **kwargs: Any) -> Any:
        g.unit_of_work = _Work()  # afresh: an app context (and its g) may outlive a request
        db.session.info.pop(_WROTE, None)  # the request's one-time key is not the view's write
        try:
            response = view(*args, **kwargs)
        except ServiceError as error:
            _roll_back()
            answer = getattr(view, "fails_to", None)
            if answer is None:
                raise
            return answer(error, **kwargs)
        except sa.exc.DBAPIError:
            _run(_work().on_rollback)  # the session is released by errors.py
            raise
        except BaseException:
            _roll_back()
            raise
        _finish()
        return response

    return unit_of_work


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, flush_context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def init_app(app: Flask) -> None:
    """Run every blueprint's views in a unit of work (after the blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if "." in endpoint:
            app.view_functions[endpoint] = run_in_unit_of_work(view)
