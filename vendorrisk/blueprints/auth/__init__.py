"""Login (with its second step, or single sign-on through the OpenID provider), logout,
password change, sessions and language choice."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from vendorrisk.blueprints.auth import (  # noqa: E402,F401
    oidc,
    routes,
    second_factor,
    sessions,
    tokens,
)
