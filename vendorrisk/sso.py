"""Single sign-on with OpenID Connect: this app's client of the company's provider (Authlib).

Configured by VENDORRISK_OIDC_* (config.py). Building the app does no network work: the
provider's discovery document (`<issuer>/.well-known/openid-configuration`) and its keys are
fetched at the first sign-in and kept by the client (the keys again when a token names a key
they lack, as after a rotation). The authorization request carries state, nonce and a PKCE
challenge (S256); Authlib checks the ID token's signature, iss, aud, exp, iat and nonce.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, url_for
from joserfc.errors import JoseError

from vendorrisk.models import Role
from vendorrisk.services.users.sso_roles import parse_role_map, parse_unit_map

#: app.extensions key of the registered client (one OAuth registry per app: Authlib's keeps
#: its clients on itself, so a shared one would mix two apps' providers in one process).
EXTENSION = "vendorrisk.oidc"
SCOPES = "openid email profile"


class ProviderError(Exception):
    """The provider answered something this app cannot use (logged, shown as a failure)."""


#: What the provider or its answer may raise: each is a failed sign-in, never a 500.
PROVIDER_ERRORS = (
    AuthlibBaseError,
    JoseError,
    requests.RequestException,
    ProviderError,
    KeyError,
    TypeError,
    ValueError,
)


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def init_app(app: Flask) -> None:
    """Register the provider's client when an issuer is configured (no request is made)."""
    try:
        app.extensions["vendorrisk.oidc_roles"] = parse_role_map(app.config["OIDC_ROLE_MAP"])
    except ValueError as exc:
        raise RuntimeError(f"VENDORRISK_OIDC_ROLE_MAP: {exc}") from None
    try:
        app.extensions["vendorrisk.oidc_units"] = parse_unit_map(app.config["OIDC_UNIT_MAP"])
    except ValueError as exc:
        raise RuntimeError(f"VENDORRISK_OIDC_UNIT_MAP: {exc}") from None
    if not app.config["OIDC_ISSUER"]:
        return
    client = OAuth(app).register(
        "oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=discovery_url(app.config["OIDC_ISSUER"]),
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "default_timeout": app.config["OIDC_TIMEOUT"],
        },
    )
    app.extensions[EXTENSION] = client


def enabled() -> bool:
    return EXTENSION in current_app.extensions


def client() -> Any:
    return current_app.extensions[EXTENSION]


def role_map() -> dict[str, Role]:
    return current_app.extensions["vendorrisk.oidc_roles"]


def unit_map() -> dict[str, frozenset[str]]:
    return current_app.extensions["vendorrisk.oidc_units"]


def label() -> str:
    return current_app.config["OIDC_LABEL"]


def metadata() -> dict:
    """The provider's discovery document, once its issuer is checked (OIDC Discovery 4.3)."""
    document = client().load_server_metadata()
    if document.get("issuer") != current_app.config["OIDC_ISSUER"]:
        raise ProviderError(f"discovery names issuer {document.get('issuer')!r}")
    return document


def password_login_allowed() -> bool:
    """Whether the password form and routes are in use (VENDORRISK_LOCAL_PASSWORDS)."""
    return bool(current_app.config["LOCAL_PASSWORDS"])


def logout_url() -> str | None:
    """Where logout sends a user of the provider: its end_session_endpoint (RP-initiated
    logout), back to our login page afterwards; None when it advertises none or is unreachable.
    """
    try:
        endpoint = metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        back = current_app.config["BASE_URL"] + url_for("auth.login")
        logout = client().create_logout_url(
            post_logout_redirect_uri=back, client_id=current_app.config["OIDC_CLIENT_ID"]
        )
        return logout["url"]
    except PROVIDER_ERRORS as error:
        current_app.logger.warning("No logout at the provider: %r", error)
        return None
