"""Questionnaires and assessments; for now the read-only questionnaire catalog."""

from flask import Blueprint

bp = Blueprint("assessments", __name__)

from vendorrisk.blueprints.assessments import routes  # noqa: E402,F401
