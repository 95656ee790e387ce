"""Login, sessions, passwords, one-time passwords, CSRF and rate limits."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from argon2 import extract_parameters

from tests.conftest import PASSWORD, csrf_token_from
from tests.conftest import strict_app as conftest_strict_app
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Role, User, UserSession
from vendorrisk.services.users import accounts


def test_login_opens_a_server_side_session_and_logout_ends_it(auth, ctx):
    user = auth.login(Role.procurement)
    assert auth.client.get("/suppliers/").status_code == 200
    stolen_cookie = auth.client.get_cookie("session").value
    auth.logout()
    with ctx() as session:
        row = session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
        assert row.revoked_at is not None
    # Replaying the cookie captured before logout no longer works.
    auth.client.set_cookie("session", stolen_cookie)
    response = auth.client.get("/suppliers/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_login_starts_a_new_session(client, make_user):
    user = make_user(Role.reviewer)
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] not in (str(user.id), user.email)


def test_wrong_password_is_refused_and_audited(client, make_user, ctx):
    user = make_user(Role.ciso)
    response = client.post(
        "/auth/login",
        data={"email": user.email, "password": "wrong password!"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "The email address or password is not correct." in response.get_data(as_text=True)
    with ctx() as session:
        event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login_failed"))
        assert event.summary == user.email


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user(Role.ciso, active=False)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200


def test_deactivating_a_user_ends_their_sessions(app, auth, make_user, ctx):
    target = make_user(Role.reviewer)
    other = app.test_client()
    other.post("/auth/login", data={"email": target.email, "password": PASSWORD})
    assert other.get("/suppliers/").status_code == 200
    auth.login(Role.admin)
    auth.client.post(
        f"/admin/users/{target.id}", data={"name": "x", "role": "reviewer", "locale": ""}
    )
    assert other.get("/suppliers/").status_code == 302
    with ctx() as session:
        assert all(
            s.revoked_at
            for s in session.scalars(sa.select(UserSession).where(UserSession.user_id == target.id))
        )


def test_changing_the_password_ends_every_other_session(app, auth, ctx):
    user = auth.login(Role.reviewer)
    other = app.test_client()
    other.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert other.get("/suppliers/").status_code == 200
    response = auth.client.post(
        "/auth/password",
        data={
            "current": PASSWORD,
            "new": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert auth.client.get("/suppliers/").status_code == 200  # this browser carries on
    assert other.get("/suppliers/").status_code == 302  # the other one must log in again
    with ctx() as session:
        live = session.scalars(
            sa.select(UserSession).where(
                UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
            )
        ).all()
    assert len(live) == 1


def test_logins_are_recorded_under_the_user(auth, ctx):
    user = auth.login(Role.ciso)
    with ctx() as session:
        event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login"))
    assert (event.actor_type, event.actor_label, event.actor_user_id) == (
        "user",
        user.email,
        user.id,
    )


def test_next_never_leaves_the_site(client, make_user):
    user = make_user(Role.ciso)
    for target in ("https://evil.example/", "//evil.example/x"):
        response = client.post(
            "/auth/login", data={"email": user.email, "password": PASSWORD, "next": target}
        )
        assert response.headers["Location"] == "/"
        client.post("/auth/logout")


def test_passwords_are_argon2id_above_owasp_floor(app):
    with app.app_context():
        encoded = accounts.hash_password("a long enough password")
    params = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$")
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2


def test_passwords_shorter_than_12_are_refused(app):
    with app.app_context(), pytest.raises(accounts.UserError):
        accounts.hash_password("elevenchars")


def test_create_user_prints_a_one_time_password_that_must_be_changed(app, runner, client, ctx):
    result = runner.invoke(args=["create-user", "--email", "Ciso@Example.com", "--role", "ciso"])
    assert result.exit_code == 0, result.output
    one_time = re.search(r"One-time password: (\S+)", result.output).group(1)
    response = client.post("/auth/login", data={"email": "ciso@example.com", "password": one_time})
    assert response.status_code == 302
    # Any page leads to the password change until it is done.
    assert "/auth/password" in client.get("/suppliers/").headers["Location"]
    response = client.post(
        "/auth/password",
        data={"current": one_time, "new": "short", "confirm": "short"},
        headers={"Accept-Language": "en"},
    )
    assert "Use at least 12 characters." in response.get_data(as_text=True)
    client.post("/auth/password", data={"current": one_time, "new": PASSWORD, "confirm": PASSWORD})
    assert client.get("/suppliers/").status_code == 200
    with ctx() as session:
        user = session.scalar(sa.select(User).where(User.email == "ciso@example.com"))
        assert user.must_change_password is False


def test_create_user_refuses_a_duplicate(runner, make_user):
    user = make_user(Role.ciso)
    result = runner.invoke(args=["create-user", "--email", user.email, "--role", "ciso"])
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_there_is_no_default_account(app, ctx):
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_admin_creates_a_user_and_sees_the_one_time_password_once(auth, ctx):
    auth.login(Role.admin)
    response = auth.client.post(
        "/admin/users/new", data={"email": "new@example.com", "role": "reviewer", "name": "新人"}
    )
    page = response.get_data(as_text=True)
    password = re.search(r'<p class="secret"><code>([^<]+)</code>', page).group(1)
    with ctx() as session:
        user = session.scalar(sa.select(User).where(User.email == "new@example.com"))
        assert accounts.verify_password(user, password)
        assert password not in user.password_hash


@pytest.fixture(scope="module")
def strict_app(tmp_path_factory):
    with conftest_strict_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as app:
        yield app


def test_forms_without_a_csrf_token_are_refused(strict_app):
    client = strict_app.test_client()
    with strict_app.app_context():
        _, password = accounts.create_user("csrf@example.com", Role.admin)
        db.session.commit()
    response = client.post(
        "/auth/login",
        data={"email": "csrf@example.com", "password": password},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login", data={"email": "csrf@example.com", "password": password, "csrf_token": token}
    )
    assert response.status_code == 302


def test_login_attempts_are_rate_limited_per_address(strict_app):
    client = strict_app.test_client()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    codes = [  # another account each time: the failure throttle (tests/security) stays out
        client.post(
            "/auth/login",
            data={"email": f"x{i}@example.com", "password": "nope", "csrf_token": token},
            environ_base={"REMOTE_ADDR": "127.0.0.9"},
        ).status_code
        for i in range(12)
    ]
    assert codes[:10] == [200] * 10
    assert codes[10:] == [429, 429]
    other = client.post(
        "/auth/login",
        data={"email": "x@example.com", "password": "nope", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "127.0.0.10"},
    )
    assert other.status_code == 200


def test_security_headers(client):
    response = client.get("/auth/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "rate_limits": "ok"}


def test_failed_logins_to_one_account_are_delayed_whatever_the_address(strict_app):
    """The count per account is of failures only (tests/security/test_login_throttle.py)."""
    client = strict_app.test_client()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    codes = [
        client.post(
            "/auth/login",
            data={"email": "victim@example.com", "password": "x", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"127.0.1.{i}"},
        ).status_code
        for i in range(6)
    ]
    assert codes[:5] == [200] * 5 and codes[5] == 429
