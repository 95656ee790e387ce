"""The home page: the state of the supplier register at a glance."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from vendorrisk.blueprints.dashboard import report, routes  # noqa: E402,F401
