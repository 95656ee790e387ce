"""The supplier register: procurement's daily tool."""

from flask import Blueprint

bp = Blueprint("suppliers", __name__)

from vendorrisk.blueprints.suppliers import routes  # noqa: E402,F401
