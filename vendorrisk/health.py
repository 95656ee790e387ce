"""/healthz: what a load balancer asks, in a second, whether the neighbours answer."""

from concurrent.futures import Future, ThreadPoolExecutor, wait

import sqlalchemy as sa
from flask import Flask, current_app, jsonify

from vendorrisk.access import public
from vendorrisk.extensions import db, limiter

#: A load balancer asks often and must hear within a second; a check that hangs (a neighbour
#: black-holed) keeps its thread until its own timeouts, not the request.
BUDGET_SECONDS = 1.0
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")
#: The check still under way per neighbour: a poll while one hangs waits on it, never piles up.
_inflight: dict[str, Future] = {}


def _database(app: Flask) -> bool:
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False


def _rate_limits(app: Flask) -> bool:
    """The shared rate-limit storage (Redis) answers; limits switched off need none."""
    with app.app_context():
        return not limiter.enabled or bool(limiter.storage.check())


def _check(name: str, app: Flask) -> Future:
    running = _inflight.get(name)
    if running is None or running.done():
        running = _inflight[name] = _checks.submit(CHECKS[name], app)
    return running


@public
@limiter.exempt
def healthz():
    """200 when the database and the rate-limit storage answer within a second, 503 otherwise."""
    app = current_app._get_current_object()
    pending = {name: _check(name, app) for name in CHECKS}
    wait(pending.values(), timeout=BUDGET_SECONDS)
    states = {
        name: "ok" if future.done() and future.result() else "unreachable"
        for name, future in pending.items()
    }
    healthy = all(state == "ok" for state in states.values())
    return jsonify(status="ok" if healthy else "error", **states), 200 if healthy else 503


CHECKS = {"database": _database, "rate_limits": _rate_limits}


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", view_func=healthz)
