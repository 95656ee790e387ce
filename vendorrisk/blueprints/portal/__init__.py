"""The supplier portal: no account, reached through an emailed link."""

from flask import Blueprint

bp = Blueprint("portal", __name__)

from vendorrisk.blueprints.portal import evidence, routes  # noqa: E402,F401
