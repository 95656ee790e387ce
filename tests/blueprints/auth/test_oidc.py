"""Single sign-on with OpenID Connect, against a real provider on loopback (Authlib's server).

The app's Authlib client talks to the provider over HTTP: discovery, keys, the token exchange
(with the PKCE verifier) and userinfo. Nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import PASSWORD, empty_tables
from tests.support.oidc_provider import Client, Person, Provider, running_provider
from tests.support.sso import (
    CLIENT_ID,
    CLIENT_SECRET,
    LABEL,
    SignInBrowser,
    local_path,
    query_of,
    sso_app,
)
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, AuthSource, OutboxMessage, Role, User, UserSession
from vendorrisk.services.users import accounts
from vendorrisk.services.users import second_factor as factor

BASE_URL = "http://127.0.0.1:5000"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def sso(tmp_path_factory, provider):
    """The app with single sign-on; passwords still allowed (the default)."""
    with sso_app(tmp_path_factory, provider, BASE_URL) as app:
        yield app


@pytest.fixture(autouse=True)
def _fresh(sso, provider) -> Iterator[None]:
    provider.reset()
    provider.register(
        Client(
            CLIENT_ID,
            CLIENT_SECRET,
            [f"{BASE_URL}/auth/oidc/callback"],
            [f"{BASE_URL}/auth/login"],
        )
    )
    yield
    with sso.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            empty_tables(conn)


@pytest.fixture
def browser(sso) -> SignInBrowser:
    return SignInBrowser(sso)


def _user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        db.session.remove()
        return user


def _actions(app) -> list[str]:
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
        db.session.remove()
        return actions


def _logged_in(browser: SignInBrowser) -> bool:
    return browser.client.get("/suppliers/").status_code == 200


def test_first_sign_in_makes_the_user_with_the_mapped_role_and_logs_in(sso, provider, browser):
    provider.add(Person("sub-hanako", "Hanako@Example.co.jp", "山田 花子", ["vr-reviewers", "x"]))
    authorize = browser.start(next_url="/suppliers/")
    asked = query_of(authorize)
    assert authorize.startswith(f"{provider.issuer}/authorize?")
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["nonce"] and asked["state"] and asked["scope"] == "openid email profile"
    assert asked["redirect_uri"] == f"{BASE_URL}/auth/oidc/callback"
    response = browser.back_at_app(browser.at_provider(authorize, "sub-hanako"))
    assert response.status_code == 302 and response.headers["Location"] == "/suppliers/"
    assert _logged_in(browser)
    user = _user(sso, "hanako@example.co.jp")
    assert user.role is Role.reviewer and user.name == "山田 花子"
    assert user.auth_source is AuthSource.oidc and user.oidc_subject == "sub-hanako"
    assert user.oidc_issuer == provider.issuer
    assert user.password_hash is None and not user.must_change_password
    assert {"create", "login"} <= set(_actions(sso))
    with browser.client.session_transaction() as sess:  # the same session as a password login
        assert sess["_user_id"] not in (str(user.id), user.email)
        assert not any(key.startswith("_state_") for key in sess)


def test_the_language_chosen_before_signing_in_stays_with_the_new_user(sso, provider, browser):
    provider.add(Person("s19", "lang@example.jp", "Lang", ["vr-audit"]))
    browser.client.post("/auth/language", data={"lang": "en", "next": "/auth/login"})
    browser.sign_in("s19")
    assert _user(sso, "lang@example.jp").locale == "en"
    assert "Suppliers" in browser.client.get("/").get_data(as_text=True)


def test_the_most_privileged_mapped_group_wins(sso, provider, browser):
    provider.add(Person("s1", "many@example.jp", "Many", ["vr-audit", "vr-procurement", "vr-ciso"]))
    assert browser.sign_in("s1").status_code == 302
    assert _user(sso, "many@example.jp").role is Role.ciso


def test_groups_come_from_userinfo_when_the_id_token_lacks_them(sso, provider, browser):
    provider.groups_in_id_token = False
    provider.add(Person("s2", "ui@example.jp", "Userinfo", ["vr-procurement"]))
    assert browser.sign_in("s2").status_code == 302
    assert _user(sso, "ui@example.jp").role is Role.procurement


def test_the_role_follows_the_groups_at_the_next_sign_in(sso, provider, browser):
    person = provider.add(Person("s3", "mover@example.jp", "Mover", ["vr-reviewers"]))
    browser.sign_in("s3")
    person.groups = ["vr-admins"]
    again = SignInBrowser(sso)
    assert again.sign_in("s3").status_code == 302
    assert _user(sso, "mover@example.jp").role is Role.admin
    assert again.client.get("/admin/users").status_code == 200
    with sso.app_context():
        change = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.action == "update", AuditEvent.object_type == "users"
            )
        )
        assert change.changes["role"] == ["reviewer", "admin"]
        db.session.remove()


def test_no_mapped_group_is_refused_in_the_users_language_and_opens_no_session(
    sso, provider, browser
):
    provider.add(Person("s4", "nobody@example.jp", "Nobody", ["everyone"]))
    response = browser.sign_in("s4")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert f"Your account at {LABEL} is not in a group that may use vendorrisk" in page
    assert _user(sso, "nobody@example.jp") is None
    assert not _logged_in(browser)
    assert "sso_refused" in _actions(sso)


def test_leaving_the_groups_deactivates_the_linked_user_and_ends_their_sessions(
    sso, provider, browser
):
    person = provider.add(Person("s5", "leaver@example.jp", "Leaver", ["vr-procurement"]))
    browser.sign_in("s5")
    assert _logged_in(browser)
    person.groups = []
    response = SignInBrowser(sso).sign_in("s5")
    assert response.status_code == 403
    user = _user(sso, "leaver@example.jp")
    assert not user.active
    assert not _logged_in(browser)  # the session opened before has ended
    assert {"sso_deactivated", "sso_refused"} <= set(_actions(sso))
    with sso.app_context():
        change = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.action == "update", AuditEvent.object_type == "users"
            )
        )
        assert change.changes["active"] == [True, False]
        db.session.remove()
    person.groups = ["vr-procurement"]  # back in a group: an administrator reactivates
    refused = SignInBrowser(sso).sign_in("s5")
    assert refused.status_code == 403
    assert "Your vendorrisk account is deactivated" in refused.get_data(as_text=True)


def test_a_state_from_another_browser_is_refused(sso, provider, browser):
    provider.add(Person("s6", "state@example.jp", "State", ["vr-reviewers"]))
    callback = browser.at_provider(browser.start(), "s6")
    other = SignInBrowser(sso)  # the callback reaches a browser that did not start the sign-in
    response = other.back_at_app(callback)
    assert response.status_code == 400
    assert "started in another browser window" in response.get_data(as_text=True)
    forged = callback.replace("state=", "state=forged")
    assert browser.back_at_app(forged).status_code == 400
    assert _user(sso, "state@example.jp") is None
    assert "sso_failed" in _actions(sso)


def test_a_sign_in_back_too_late_is_refused(sso, provider, browser):
    provider.add(Person("s18", "slow@example.jp", "Slow", ["vr-reviewers"]))
    callback = browser.at_provider(browser.start(), "s18")
    with browser.client.session_transaction() as sess:
        sess["oidc_started"] -= 11 * 60  # ten minutes allowed
    response = browser.back_at_app(callback)
    assert response.status_code == 400
    assert "The sign-in took too long" in response.get_data(as_text=True)
    assert _user(sso, "slow@example.jp") is None


def test_an_id_token_not_signed_by_the_providers_key_is_refused(sso, provider, browser):
    provider.forged_signature = True
    provider.add(Person("s21", "forged@example.jp", "Forged", ["vr-admins"]))
    assert browser.sign_in("s21").status_code == 502
    assert _user(sso, "forged@example.jp") is None and not _logged_in(browser)
    with sso.app_context():
        failed = db.session.scalar(
            sa.select(AuditEvent.summary).where(AuditEvent.action == "sso_failed")
        )
        db.session.remove()
    assert failed.startswith("BadSignatureError"), failed


def test_a_rotated_signing_key_is_fetched_anew(sso, provider, browser):
    provider.add(Person("s20", "rotate@example.jp", "Rotate", ["vr-reviewers"]))
    assert browser.sign_in("s20").status_code == 302  # the app now holds the provider's keys
    provider.rotate_key()
    again = SignInBrowser(sso)
    assert again.sign_in("s20").status_code == 302
    assert _logged_in(again)


def test_an_id_token_with_another_nonce_is_refused(sso, provider, browser):
    provider.wrong_nonce = True
    provider.add(Person("s7", "nonce@example.jp", "Nonce", ["vr-reviewers"]))
    response = browser.sign_in("s7")
    assert response.status_code == 502
    assert f"The sign-in with {LABEL} did not succeed" in response.get_data(as_text=True)
    assert _user(sso, "nonce@example.jp") is None and not _logged_in(browser)


def test_an_expired_id_token_is_refused(sso, provider, browser):
    provider.id_token_seconds = -600  # past Authlib's two minutes of leeway
    provider.add(Person("s8", "late@example.jp", "Late", ["vr-reviewers"]))
    assert browser.sign_in("s8").status_code == 502
    assert _user(sso, "late@example.jp") is None


def test_a_code_is_exchanged_only_once(sso, provider, browser):
    provider.add(Person("s9", "replay@example.jp", "Replay", ["vr-reviewers"]))
    authorize = browser.start()
    callback = browser.at_provider(authorize, "s9")
    with browser.client.session_transaction() as sess:
        saved = dict(sess)  # an attacker's copy of the cookie, state included
    assert browser.back_at_app(callback).status_code == 302
    replay = SignInBrowser(sso)
    with replay.client.session_transaction() as sess:
        sess.update(saved)
    assert replay.back_at_app(callback).status_code == 502  # the provider refuses the used code


def test_refusing_at_the_provider_shows_the_login_page(sso, provider, browser):
    provider.add(Person("s10", "deny@example.jp", "Deny", ["vr-reviewers"]))
    callback = browser.at_provider(browser.start(), "")
    assert query_of(callback)["error"] == "access_denied"
    response = browser.back_at_app(callback)
    assert response.status_code == 401
    assert f"The sign-in at {LABEL} was cancelled or refused" in response.get_data(as_text=True)


def test_a_local_user_with_the_same_verified_email_is_linked_once(sso, provider, browser):
    with sso.app_context():
        db.session.add(
            User(
                email="local@example.jp",
                name="Local",
                role=Role.auditor,
                password_hash=accounts.hash_password(PASSWORD),
                must_change_password=False,
            )
        )
        db.session.commit()
    provider.add(Person("s11", "local@example.jp", "Local SSO", ["vr-procurement"]))
    assert browser.sign_in("s11").status_code == 302
    user = _user(sso, "local@example.jp")
    assert user.oidc_subject == "s11" and user.role is Role.procurement
    assert user.password_hash is None  # one account, one way in
    assert "sso_linked" in _actions(sso)
    password = SignInBrowser(sso).client.post(
        "/auth/login", data={"email": "local@example.jp", "password": PASSWORD}
    )
    assert password.status_code == 200  # refused: the form again
    # Another subject claiming the same address is never linked to it.
    provider.add(Person("s12", "local@example.jp", "Impostor", ["vr-admins"]))
    response = SignInBrowser(sso).sign_in("s12")
    assert response.status_code == 409
    assert _user(sso, "local@example.jp").oidc_subject == "s11"


def test_an_unverified_email_is_not_linked_to_a_local_user(sso, provider, browser):
    with sso.app_context():
        db.session.add(
            User(
                email="boss@example.jp",
                role=Role.admin,
                password_hash=accounts.hash_password(PASSWORD),
                must_change_password=False,
            )
        )
        db.session.commit()
    provider.add(
        Person("s13", "boss@example.jp", "Not the boss", ["vr-admins"], email_verified=False)
    )
    response = browser.sign_in("s13")
    assert response.status_code == 409
    assert "could not be linked" in response.get_data(as_text=True)
    user = _user(sso, "boss@example.jp")
    assert user.oidc_subject is None and user.password_hash is not None
    assert not _logged_in(browser)


def test_no_local_second_factor_and_no_password_pages_for_sso_users(sso, provider, browser):
    with sso.app_context():
        factor.save_required_for_admins(True)
        db.session.commit()
    provider.add(Person("s14", "admin@example.jp", "Admin", ["vr-admins"]))
    assert browser.sign_in("s14").status_code == 302
    assert browser.client.get("/admin/users").status_code == 200  # not sent to enrol first
    for page in ("/auth/password", "/auth/second-factor"):
        response = browser.client.get(page, headers=browser.headers)
        assert response.status_code == 302 and response.headers["Location"] == "/"
    header = browser.client.get("/", headers=browser.headers).get_data(as_text=True)
    assert 'href="/auth/password"' not in header
    user = _user(sso, "admin@example.jp")
    edit = browser.client.get(f"/admin/users/{user.id}", headers=browser.headers)
    assert "Single sign-on" in edit.get_data(as_text=True)
    assert f"/admin/users/{user.id}/reset" not in edit.get_data(as_text=True)
    refused = browser.client.post(f"/admin/users/{user.id}/reset", headers=browser.headers)
    assert refused.status_code == 302
    assert _user(sso, "admin@example.jp").password_hash is None
    SignInBrowser(sso).client.post("/auth/forgot", data={"email": "admin@example.jp"})
    with sso.app_context():  # no reset link for an account without a password here
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
        db.session.remove()


def test_logout_ends_the_session_and_the_one_at_the_provider(sso, provider, browser):
    provider.add(Person("s15", "out@example.jp", "Out", ["vr-reviewers"]))
    browser.sign_in("s15")
    response = browser.client.post("/auth/logout")
    assert response.status_code == 302
    at_provider = response.headers["Location"]
    assert at_provider.startswith(f"{provider.issuer}/logout?")
    asked = query_of(at_provider)
    assert asked["client_id"] == "vendorrisk-test"
    assert asked["post_logout_redirect_uri"] == f"{BASE_URL}/auth/login"
    assert not _logged_in(browser)
    with sso.app_context():
        assert db.session.scalar(sa.select(UserSession.revoked_at)) is not None
        db.session.remove()
    back = browser.http.get(at_provider, allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"].startswith(f"{BASE_URL}/auth/login")
    assert provider.ended_sessions and provider.ended_sessions[0]["client_id"] == "vendorrisk-test"
    assert browser.client.get(local_path(back.headers["Location"])).status_code == 200


def test_a_password_user_logs_out_here_only(sso, provider, browser):
    with sso.app_context():
        db.session.add(
            User(
                email="pw@example.jp",
                role=Role.reviewer,
                password_hash=accounts.hash_password(PASSWORD),
                must_change_password=False,
            )
        )
        db.session.commit()
    browser.client.post("/auth/login", data={"email": "pw@example.jp", "password": PASSWORD})
    assert _logged_in(browser)
    assert browser.client.post("/auth/logout").headers["Location"] == "/auth/login"


def test_the_login_page_offers_the_provider_and_the_password_form(sso, browser):
    page = browser.client.get("/auth/login?next=/suppliers/", headers=browser.headers)
    html = page.get_data(as_text=True)
    assert f"Sign in with {LABEL}" in html
    assert 'href="/auth/oidc/login?next=/suppliers/"' in html
    assert 'name="password"' in html


def test_sign_in_is_rate_limited_like_the_login(sso, provider, browser):
    codes = [browser.client.get("/auth/oidc/login").status_code for _ in range(11)]
    assert codes[:10] == [302] * 10 and codes[10] == 429


def test_an_unreachable_provider_shows_the_login_page(tmp_path_factory, provider):
    closed = Provider()
    closed.issuer = "http://127.0.0.2:9"  # discard: nothing listens
    with sso_app(tmp_path_factory, closed, BASE_URL, OIDC_TIMEOUT=2) as app:
        response = SignInBrowser(app).client.get(
            "/auth/oidc/login", headers={"Accept-Language": "en"}
        )
        assert response.status_code == 502
        assert f"{LABEL} could not be reached" in response.get_data(as_text=True)


def test_without_local_passwords_only_the_provider_logs_in(tmp_path_factory, provider):
    with sso_app(tmp_path_factory, provider, BASE_URL, LOCAL_PASSWORDS=False) as app:
        with app.app_context():
            db.session.add(
                User(
                    email="old@example.jp",
                    role=Role.admin,
                    password_hash=accounts.hash_password(PASSWORD),
                    must_change_password=False,
                )
            )
            db.session.commit()
        browser = SignInBrowser(app)
        page = browser.client.get("/auth/login", headers=browser.headers).get_data(as_text=True)
        assert f"Sign in with {LABEL}" in page
        assert 'name="password"' not in page and "/auth/forgot" not in page
        refused = browser.client.post(
            "/auth/login",
            data={"email": "old@example.jp", "password": PASSWORD},
            headers=browser.headers,
        )
        assert refused.status_code == 403
        assert f"Passwords are not used here: please sign in with {LABEL}" in refused.get_data(
            as_text=True
        )
        assert not _logged_in(browser)
        for route in ("/auth/forgot", "/auth/reset/any-token", "/auth/login/code"):
            response = browser.client.get(route)
            assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
        assert (
            browser.client.post("/auth/forgot", data={"email": "old@example.jp"}).status_code == 403
        )
        provider.add(Person("s16", "new@example.jp", "New", ["vr-audit"]))
        assert browser.sign_in("s16").status_code == 302
        assert _logged_in(browser)


def test_without_a_provider_the_sso_routes_do_not_exist(client):
    assert client.get("/auth/oidc/login").status_code == 404
    assert client.get("/auth/oidc/callback?code=x&state=y").status_code == 404
    assert "oidc" not in client.get("/auth/login").get_data(as_text=True)


def test_the_provider_refuses_a_token_request_without_the_pkce_verifier(sso, provider, browser):
    """What the sso relies on: the provider checks PKCE (S256) before it gives a token."""
    provider.add(Person("s17", "pkce@example.jp", "PKCE", ["vr-reviewers"]))
    callback = browser.at_provider(browser.start(), "s17")
    answer = requests.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": query_of(callback)["code"],
            "redirect_uri": f"{BASE_URL}/auth/oidc/callback",
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
