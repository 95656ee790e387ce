import sqlalchemy as sa
from flask import jsonify

from vendorrisk.access import public
from vendorrisk.blueprints.api import bp
from vendorrisk.extensions import db, limiter


@bp.route("/healthz")
@public
@limiter.exempt
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
