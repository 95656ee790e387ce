"""API tokens: hashed at rest, shown once, expiring, revocable, scoped; bearer only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, in_app
from vendorrisk import clock
from vendorrisk.models import ApiToken, AuditEvent, Role, User
from vendorrisk.models.mixins import hash_token
from vendorrisk.services.users import tokens

PROBLEM = "application/problem+json"


def test_a_token_is_kept_only_as_its_hash_and_a_short_prefix(app, api_caller):
    caller = api_caller()
    assert caller.token.startswith("vr_pat_") and len(caller.token) > 40
    with in_app(app) as session:
        row = session.get(ApiToken, caller.token_id)
        assert row.token_hash == hash_token(caller.token)
        assert row.display_prefix == caller.token[:12]
        stored = session.execute(sa.text("SELECT * FROM api_tokens")).mappings().one()
        assert caller.token not in " ".join(str(value) for value in stored.values())


def test_a_service_account_gets_a_service_token_and_cannot_log_in(app, client, api_caller):
    caller = api_caller(service=True)
    assert caller.token.startswith("vr_svc_")
    with in_app(app) as session:
        user = session.get(User, caller.user_id)
        assert user.service_account
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code != 302  # the form again: a service account has no password
    assert client.get("/api/v1/suppliers", headers=caller.headers).status_code == 200


def test_the_token_user_is_current_user_and_its_last_use_is_kept(app, client, api_caller):
    caller = api_caller()
    assert client.get("/api/v1/suppliers", headers=caller.headers).status_code == 200
    with in_app(app) as session:
        assert session.get(ApiToken, caller.token_id).last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer vr_pat_forged"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_no_or_a_bad_token_is_refused_with_401(client, headers):
    response = client.get("/api/v1/suppliers", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["status"] == 401 and response.json["instance"] == "/api/v1/suppliers"


def test_the_session_cookie_is_no_credential_for_the_api(auth):
    auth.login(Role.admin)
    response = auth.client.get("/api/v1/suppliers")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_an_expired_token_is_refused(app, client, api_caller):
    caller = api_caller()
    with in_app(app) as session:
        row = session.get(ApiToken, caller.token_id)
        row.created_at = clock.now() - timedelta(days=10)
        row.expires_at = clock.now() - timedelta(seconds=1)
        session.commit()
    response = client.get("/api/v1/suppliers", headers=caller.headers)
    assert response.status_code == 401
    assert response.json["type"] == "urn:vendorrisk:problem:invalid-token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_revoked_token_is_refused_and_the_revocation_audited(app, client, api_caller):
    caller = api_caller()
    with in_app(app) as session:
        assert tokens.revoke(session.get(ApiToken, caller.token_id))
        session.commit()
        events = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.object_type == "api_tokens")
        ).all()
    assert [event.action for event in events] == ["create", "update"]
    assert events[0].changes["token_hash"] == "•••"
    assert all(caller.token not in str(event.changes) for event in events)
    assert "revoked_at" in events[1].changes
    assert client.get("/api/v1/suppliers", headers=caller.headers).status_code == 401


def test_a_deactivated_user_s_token_is_refused(app, client, api_caller):
    caller = api_caller()
    with in_app(app) as session:
        session.get(User, caller.user_id).active = False
        session.commit()
    assert client.get("/api/v1/suppliers", headers=caller.headers).status_code == 401


def test_a_read_token_may_not_write(client, api_caller):
    caller = api_caller(Role.admin, scope="read")
    assert client.get("/api/v1/suppliers", headers=caller.headers).status_code == 200
    response = client.post(
        "/api/v1/suppliers", json={"name_ja": "株式会社テスト", "category": "other"},
        headers=caller.headers,
    )  # fmt: skip
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert response.json["type"] == "urn:vendorrisk:problem:insufficient-scope"


def test_the_role_still_decides(client, api_caller):
    caller = api_caller(Role.auditor)
    response = client.post(
        "/api/v1/suppliers", json={"name_ja": "株式会社テスト", "category": "other"},
        headers=caller.headers,
    )  # fmt: skip
    assert response.status_code == 403
    assert response.mimetype == PROBLEM


def test_every_token_expires_within_the_limit(app, make_user):
    with in_app(app) as session:
        user = session.get(User, make_user().id)
        now = clock.now()
        for expiry in (now, now + timedelta(days=app.config["API_TOKEN_MAX_DAYS"] + 1)):
            with pytest.raises(tokens.TokenError):
                tokens.issue(user, "x", "read", expiry, user, now)
