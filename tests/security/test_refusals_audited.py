"""Refused requests leave a trace: the attacker probing roles, forging forms or hammering links.

Each 403, CSRF failure and 429 leaves exactly one audit row (who, from where, what they asked),
written even though the refused request itself keeps nothing; a flood of them leaves one row a
minute for each (kind, who, route), not one per request; a 404 is not a refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from tests.conftest import AuthActions, strict_app
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Role, Supplier
from vendorrisk.services.audit import REFUSALS
from vendorrisk.services.users import accounts

#: A fixed instant in the middle of a minute: the dedupe window is the minute.
NOON = datetime(2026, 12, 7, 3, 0, 20, tzinfo=UTC)


def _refusals(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.in_(REFUSALS)).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        db.session.remove()
    return list(rows)


def _count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_role_probing_an_admin_page_leaves_one_row(app, auth):
    user = auth.login(Role.procurement)
    response = auth.client.get("/admin/users", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 403
    [row] = _refusals(app)
    assert (row.action, row.actor_type, row.actor_user_id) == ("access_denied", "user", user.id)
    assert row.actor_label == user.email and row.ip == "198.51.100.7"
    assert row.summary == "GET /admin/users"
    assert row.changes["endpoint"] == "admin.users_list"


def test_a_refused_change_keeps_nothing_but_its_row(app, auth):
    auth.login(Role.auditor)
    response = auth.client.post("/suppliers/new", data={"name_ja": "株式会社なりすまし"})
    assert response.status_code == 403
    assert _count(app, Supplier) == 0
    [row] = _refusals(app)
    assert row.summary == "POST /suppliers/new"


def test_an_anonymous_portal_probe_without_a_sitting_leaves_one_row(app, client):
    response = client.get("/portal/q/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403
    [row] = _refusals(app)
    assert (row.action, row.actor_label, row.actor_user_id) == ("access_denied", "anonymous", None)
    assert row.ip == "203.0.113.9"


def test_a_nul_byte_sent_to_the_login_leaves_one_row_without_it(app, client):
    for _ in range(5):
        response = client.post("/auth/login", data={"email": "admin\x00@x.jp", "password": "x"})
        assert response.status_code == 400
    [row] = _refusals(app)
    assert (row.action, row.summary) == ("input_refused", "POST /auth/login")
    assert row.changes["reason"] == "control characters"


def test_a_missing_page_is_no_refusal(app, auth):
    auth.login(Role.admin)
    assert auth.client.get("/suppliers/987654").status_code == 404
    assert auth.client.get("/no/such/page").status_code == 404
    assert _refusals(app) == []


@pytest.fixture
def guarded(tmp_path_factory) -> Iterator[Flask]:
    """CSRF and rate limits on, as deployed; the portal's link limit low enough to reach."""
    with strict_app(
        tmp_path_factory, WTF_CSRF_ENABLED=True, PORTAL_RATE_LIMIT="3 per minute"
    ) as strict:
        yield strict


def test_a_forged_form_leaves_one_row_and_changes_nothing(guarded):
    with guarded.app_context():
        user, password = accounts.create_user("victim@example.co.jp", Role.procurement)
        user.must_change_password = False
        db.session.commit()
    client = guarded.test_client()
    response = client.post(
        "/suppliers/new",
        data={"name_ja": "株式会社偽装", "category": "cloud_service"},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )
    assert response.status_code == 400
    assert _count(guarded, Supplier) == 0
    [row] = _refusals(guarded)
    assert row.action == "csrf_refused" and row.actor_label == "anonymous"
    assert "cross-site" in row.changes["reason"]


def test_a_form_without_its_token_leaves_one_row(guarded):
    response = guarded.test_client().post(
        "/auth/login", data={"email": "a@example.co.jp", "password": "x"}
    )
    assert response.status_code == 400
    [row] = _refusals(guarded)
    assert row.action == "csrf_refused" and row.summary == "POST /auth/login"
    assert "token" in row.changes["reason"].lower()


def test_control_bytes_in_a_refused_path_are_kept_as_text(guarded):
    response = guarded.test_client().post(
        "/auth/login%00%1b[2J", headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 400
    [row] = _refusals(guarded)
    assert row.summary == "POST /auth/login\\x00\\x1b[2J"


def test_hammering_a_link_leaves_one_row_for_the_429(guarded):
    client = guarded.test_client()
    answers = [
        client.get("/portal/" + "x" * 43, environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code
        for _ in range(4)
    ]
    assert answers[-1] == 429 and 429 not in answers[:-1]
    [row] = _refusals(guarded)
    assert row.action == "rate_limited" and row.ip == "192.0.2.44"
    assert "3 per 1 minute" in row.changes["reason"]


def test_a_flood_leaves_one_row_a_minute_per_who_and_route(app, auth):
    with time_machine.travel(NOON, tick=False) as traveller:
        user = auth.login(Role.reviewer)
        for n in range(100):  # the same route with ever other ids, and one other route
            assert auth.client.get(f"/admin/users/{n + 1}").status_code == 403
        assert auth.client.get("/admin/outbox").status_code == 403
        rows = _refusals(app)
        assert [(r.action, r.actor_user_id, r.changes["endpoint"]) for r in rows] == [
            ("access_denied", user.id, "admin.user_edit"),
            ("access_denied", user.id, "admin.outbox"),
        ]
        traveller.shift(timedelta(minutes=1))
        for _ in range(100):
            auth.client.get("/admin/users/1")
    assert len(_refusals(app)) == 3  # the next minute: one more, not a hundred


def test_a_flood_from_many_users_is_one_row_each(app, make_user):
    with time_machine.travel(NOON, tick=False):
        for _ in range(3):
            auditor = AuthActions(app.test_client(), make_user)
            auditor.login(Role.auditor)
            for _ in range(30):
                assert auditor.client.post("/suppliers/new").status_code == 403
    assert len({r.actor_user_id for r in _refusals(app)}) == len(_refusals(app)) == 3
