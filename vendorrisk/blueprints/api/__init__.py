"""Machine-facing endpoints: the health check."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from vendorrisk.blueprints.api import routes  # noqa: E402,F401
