"""A real OpenID provider on loopback for the single sign-on tests, built on Authlib's server.

Authlib's authorization server (flask_oauth2) with its authorization-code grant, the OpenID
Connect extension (ID tokens signed RS256 with a key made at start, nonce required) and PKCE
(S256 required), and its RP-initiated logout endpoint; discovery, JWKS and userinfo are a few
lines each. Its /authorize page is a tiny login form: pick a person (or refuse). It runs in a
thread on 127.0.0.2 — another loopback address than the app's 127.0.0.1, so the browser keeps
the two sites' cookies apart, and coming back to the app is a cross-site navigation, as with a
real provider.

Tests change what it does through the `Provider` object: who exists (`people`), whether groups
travel in the ID token or only in userinfo, a wrong nonce, an expired or forged ID token, a
rotated signing key.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, jsonify, render_template_string, request
from joserfc.jwk import KeySet, RSAKey
from markupsafe import escape
from werkzeug.serving import make_server

HOST = "127.0.0.2"
SCOPES = frozenset({"openid", "email", "profile"})


@dataclass
class Person:
    """Someone with an account at the provider."""

    sub: str
    email: str
    name: str
    groups: list[str] = field(default_factory=list)
    email_verified: bool = True


@dataclass
class Client(ClientMixin):
    """The relying party registered at the provider (vendorrisk)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    """An authorization code, kept until it is exchanged (once)."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd", "mfa"]


class Provider:
    """The provider's state, which the tests read and change."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4)})
        self.issuer = ""
        self.reset()

    def reset(self) -> None:
        self.people: dict[str, Person] = {}
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, tuple[Person, str]] = {}
        self.nonces: set[str] = set()
        #: Groups in the ID token (as Entra ID's "groups" claim), or only from userinfo.
        self.groups_in_id_token = True
        #: The ID token carries another nonce than the one asked for (a replayed token).
        self.wrong_nonce = False
        #: Seconds the ID token lives; negative: already expired when issued.
        self.id_token_seconds = 300
        #: ID tokens signed by a key not in the JWKS, under the published key's id (a forgery).
        self.forged_signature = False
        self.ended_sessions: list[dict] = []

    def add(self, person: Person) -> Person:
        self.people[person.sub] = person
        return person

    def register(self, client: Client) -> Client:
        self.clients[client.client_id] = client
        return client

    def rotate_key(self) -> None:
        """A new signing key, the old one withdrawn from the JWKS at once."""
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(4)})

    def jwks(self) -> dict:
        return KeySet([self.key]).as_dict(private=False)


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def provider(self) -> Provider:
        return self.server.provider

    def save_authorization_code(self, code: str, request) -> None:
        data = request.payload.data
        self.provider.nonces.add(data.get("nonce"))
        self.provider.codes[code] = Code(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            person=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=int(time.time()),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        row = self.provider.codes.get(code)
        return row if row is not None and row.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Person:
        return authorization_code.person


class _IDTokens(OpenIDCode):
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request) -> bool:
        return nonce in self.provider.nonces

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        if self.provider.forged_signature:
            return RSAKey.generate_key(2048, parameters={"kid": self.provider.key.kid})
        return self.provider.key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict:
        return {"alg": "RS256", "kid": self.provider.key.kid}

    def get_client_claims(self, client: Client) -> dict:
        now = int(time.time())
        return {
            "iss": self.provider.issuer,
            "aud": [client.client_id],
            "iat": now,
            "exp": now + self.provider.id_token_seconds,
        }

    def get_authorization_code_claims(self, authorization_code: Code) -> dict:
        claims = super().get_authorization_code_claims(authorization_code)
        if self.provider.wrong_nonce:
            claims["nonce"] = "not-the-nonce-asked-for"
        return claims

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return user_info(user, with_groups=self.provider.groups_in_id_token)


def user_info(person: Person, with_groups: bool) -> UserInfo:
    info = UserInfo(
        sub=person.sub, name=person.name, email=person.email, email_verified=person.email_verified
    )
    if with_groups:
        info["groups"] = list(person.groups)
    return info


class _EndSession(EndSessionEndpoint):
    def get_server_jwks(self) -> dict:
        return self.server.provider.jwks()

    def is_post_logout_redirect_uri_legitimate(self, request, uri, client, logout_hint) -> bool:
        return client is not None  # a registered client naming a registered URI (as Keycloak)

    def end_session(self, end_session_request) -> None:
        self.server.provider.ended_sessions.append(dict(end_session_request.request.payload.data))


LOGIN_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Test provider: sign in</title></head><body><h1>Test provider</h1>
<form method="post" action="/authorize?{{ query }}">
{% for person in people %}<button type="submit" name="sub" value="{{ person.sub }}">
Sign in as {{ person.name }}</button>
{% endfor %}<button type="submit" name="sub" value="">Refuse</button></form></body></html>"""


def create_provider_app(provider: Provider) -> Flask:
    """The provider's Flask app (not vendorrisk's: its own cookie name, no session used)."""
    app = Flask("test_oidc_provider")
    app.config.update(SESSION_COOKIE_NAME="provider_session", SECRET_KEY=secrets.token_hex(16))
    server = AuthorizationServer(
        app,
        query_client=lambda client_id: provider.clients.get(client_id),
        save_token=lambda token, req: provider.tokens.__setitem__(
            token["access_token"], (req.user, token["scope"])
        ),
    )
    server.provider = provider
    server.register_grant(_CodeGrant, [_IDTokens(provider), CodeChallenge(required=True)])
    server.register_endpoint(_EndSession)

    @app.get("/.well-known/openid-configuration")
    def discovery():
        base = provider.issuer
        return jsonify(
            issuer=base,
            authorization_endpoint=f"{base}/authorize",
            token_endpoint=f"{base}/token",
            userinfo_endpoint=f"{base}/userinfo",
            jwks_uri=f"{base}/jwks",
            end_session_endpoint=f"{base}/logout",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            scopes_supported=sorted(SCOPES),
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    @app.get("/jwks")
    def jwks():
        return jsonify(provider.jwks())

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        person = provider.people.get(request.form.get("sub", ""))
        try:
            grant = server.get_consent_grant(end_user=person)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)
        if request.method == "GET":
            query = urlencode(list(request.args.items(multi=True)))
            people = list(provider.people.values())
            return render_template_string(LOGIN_FORM, query=query, people=people)
        # No person (refused): Authlib answers access_denied to the client.
        return server.create_authorization_response(grant=grant, grant_user=person)

    @app.post("/token")
    def token():
        return server.create_token_response()

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        held = provider.tokens.get(value) if scheme.lower() == "bearer" else None
        if held is None:
            return jsonify(error="invalid_token"), 401, {"WWW-Authenticate": "Bearer"}
        return jsonify(dict(user_info(held[0], with_groups=True)))

    @app.route("/logout", methods=["GET", "POST"])
    def logout():
        answer = server.create_endpoint_response("end_session")
        return answer or f"<p>Signed out of the test provider {escape(provider.issuer)}.</p>"

    return app


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider served on HOST at a free port, in a thread, until the block ends."""
    provider = Provider()
    server = make_server(HOST, 0, create_provider_app(provider), threaded=True)
    provider.issuer = f"http://{HOST}:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
