"""The supplier portal: no account, reached through an emailed link."""

from flask import Blueprint

from vendorrisk import gunicorn_logging

bp = Blueprint("portal", __name__)
bp.record_once(lambda state: gunicorn_logging.install())  # its links' tokens stay out of logs

from vendorrisk.blueprints.portal import delegation, erasure, evidence, routes  # noqa: E402,F401
