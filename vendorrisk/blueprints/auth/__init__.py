"""Login (with its second step, or single sign-on through the OpenID provider), logout,
password change, sessions and language choice."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from vendorrisk.blueprints.auth import oidc, routes, second_factor, sessions  # noqa: E402,F401
