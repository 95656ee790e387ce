"""The pages that make tokens: a user's own (/auth/tokens) and an admin's service accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from tests.conftest import in_app
from vendorrisk.models import ApiToken, AuditEvent, Role, TokenKind, User


def _shown_token(html: str) -> str:
    return re.search(r'<code id="new-token">([^<]+)</code>', html).group(1)


def test_a_user_makes_a_token_sees_it_once_and_revokes_it(app, auth, today):
    auth.login(Role.reviewer, locale="en")
    expires = (today + timedelta(days=30)).isoformat()
    response = auth.client.post(
        "/auth/tokens", data={"name": "report script", "scope": "read", "expires_on": expires}
    )
    assert response.status_code == 200
    token = _shown_token(response.get_data(as_text=True))
    assert token.startswith("vr_pat_")
    again = auth.client.get("/auth/tokens").get_data(as_text=True)
    assert token not in again and token[:12] in again
    api = auth.client.get("/api/v1/suppliers", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    with in_app(app) as session:
        row = session.scalar(sa.select(ApiToken))
        assert row.kind is TokenKind.personal
    auth.client.post("/auth/tokens/revoke", data={"token_id": str(row.id)})
    api = auth.client.get("/api/v1/suppliers", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_an_expiry_past_the_limit_is_refused_on_the_form(auth, today, app):
    auth.login(Role.reviewer, locale="en")
    too_late = (today + timedelta(days=app.config["API_TOKEN_MAX_DAYS"] + 5)).isoformat()
    response = auth.client.post(
        "/auth/tokens", data={"name": "x", "scope": "read", "expires_on": too_late}
    )
    assert response.status_code == 400
    assert "new-token" not in response.get_data(as_text=True)


def test_an_admin_makes_a_service_account_and_its_token(app, auth, today):
    admin = auth.login(Role.admin, locale="en")
    response = auth.client.post(
        "/admin/service-accounts",
        data={"email": "purchasing@example.jp", "name": "Purchasing", "role": "procurement"},
    )
    assert response.status_code == 302
    with in_app(app) as session:
        account = session.scalar(sa.select(User).where(User.service_account))
    expires = (today + timedelta(days=90)).isoformat()
    response = auth.client.post(
        f"/admin/service-accounts/{account.id}/tokens",
        data={"name": "sync", "scope": "write", "expires_on": expires},
    )
    token = _shown_token(response.get_data(as_text=True))
    assert token.startswith("vr_svc_")
    with in_app(app) as session:
        row = session.scalar(sa.select(ApiToken))
        assert (row.user_id, row.created_by_id) == (account.id, admin.id)
        created = session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.object_type == "api_tokens", AuditEvent.action == "create"
            )
        )
        assert created.actor_user_id == admin.id
        assert token not in str(created.changes)
