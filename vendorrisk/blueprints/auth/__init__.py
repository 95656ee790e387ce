"""Login, logout, password change and language choice."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from vendorrisk.blueprints.auth import routes  # noqa: E402,F401
