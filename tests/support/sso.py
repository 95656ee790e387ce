"""The app set up for single sign-on against the test provider, and a browser's part in it.

The app's test client stands for the browser on the app's side; `requests` carries the same
browser's visit to the provider's page (a real HTTP server on loopback), and the provider's
answer, a redirect to the app's callback, is followed with the test client again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import strict_app
from tests.support.oidc_provider import Client, Provider

CLIENT_ID = "vendorrisk-test"
CLIENT_SECRET = "a-client-secret-for-the-tests-only"  # noqa: S105  # nosec B105
ROLE_MAP = (
    "vr-admins=admin,vr-ciso=ciso,vr-procurement=procurement,vr-reviewers=reviewer,vr-audit=auditor"
)
LABEL = "Test Entra ID"


@contextmanager
def sso_app(
    tmp_path_factory, provider: Provider, base_url: str, **overrides: Any
) -> Iterator[Flask]:
    """An app whose single sign-on is the test provider, registered there as a client."""
    provider.register(
        Client(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uris=[f"{base_url}/auth/oidc/callback"],
            post_logout_redirect_uris=[f"{base_url}/auth/login"],
        )
    )
    settings = {
        "BASE_URL": base_url,
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_ROLE_MAP": ROLE_MAP,
        "OIDC_LABEL": LABEL,
    }
    with strict_app(tmp_path_factory, **(settings | overrides)) as app:
        yield app


def local_path(url: str) -> str:
    """The path and query of an absolute URL of the app (for the test client)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class SignInBrowser:
    """One browser: the app through its test client, the provider over HTTP."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        self.http = requests.Session()
        self.headers = {"Accept-Language": "en"}

    def start(self, next_url: str | None = None) -> str:
        """Press "Sign in with …": the provider's authorization URL the app redirects to."""
        query = {"next": next_url} if next_url else {}
        response = self.client.get("/auth/oidc/login", query_string=query, headers=self.headers)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"]

    def at_provider(self, authorize_url: str, sub: str) -> str:
        """Pick a person on the provider's login page (or refuse, sub=""): where it sends us."""
        page = self.http.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text
        answer = self.http.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def back_at_app(self, callback_url: str):
        return self.client.get(local_path(callback_url), headers=self.headers)

    def sign_in(self, sub: str, next_url: str | None = None):
        """The whole round: the app's answer to the provider's redirect back."""
        return self.back_at_app(self.at_provider(self.start(next_url), sub))


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
