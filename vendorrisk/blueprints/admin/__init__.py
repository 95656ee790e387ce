"""Administration: users and roles, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from vendorrisk.blueprints.admin import routes  # noqa: E402,F401
