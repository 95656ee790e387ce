"""Two-step login, attacked: someone holds a staff member's password (phished, reused, read over
a shoulder) and tries to get in without the phone, to guess the code, to replay a code seen, to
reuse a recovery code, or to switch the second factor on or off with a stolen session.

ASVS 5.0: 6.3.3 (MFA for access), 6.5.1 (codes usable once), 6.5.2 (recovery codes hashed),
6.5.3 (CSPRNG secrets), 6.5.5 (TOTP lifetime), 6.3.1 / 6.6.3-style brute-force limit on codes,
7.5.1 (re-authentication to change MFA), 7.4.3 (other sessions end when a factor changes),
6.4.4 / 6.5.6 (an admin revokes a lost factor).
"""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient

from tests.conftest import PASSWORD
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS
from vendorrisk import clock
from vendorrisk.models import AuditEvent, RecoveryCode, Role, Setting, User, UserSession
from vendorrisk.models.mixins import hash_token
from vendorrisk.services.users import second_factor

EN = {"Accept-Language": "en"}


def _log_in(client: FlaskClient, user: User):
    return client.post("/auth/login", data={"email": user.email, "password": PASSWORD}, headers=EN)


def _code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


@pytest.fixture
def moment():
    """The clock, stopped; `moment.shift(STEP)` moves it to the next TOTP step."""
    with time_machine.travel(datetime.now(UTC), tick=False) as traveller:
        yield traveller


STEP = timedelta(seconds=30)


def _next_code(moment, secret: str) -> str:
    """The code of the next time-step (each code is accepted once: a new login needs a new one)."""
    moment.shift(STEP)
    return _code(secret)


def _wrong_code(secret: str) -> str:
    """A code that no step around now has (so never right by chance)."""
    totp = pyotp.TOTP(secret)
    step = totp.timecode(clock.now())
    near = {totp.generate_otp(s) for s in range(step - 2, step + 3)}
    return next(f"{n:06d}" for n in range(1, 100) if f"{n:06d}" not in near)


def _enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Turn two-step login on as the logged-in user: (secret, recovery codes shown)."""
    page = client.get("/auth/second-factor", headers=EN).get_data(as_text=True)
    secret = (
        re.search(r'class="totp-key"><code>([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    )
    sealed = re.search(r'name="sealed" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/auth/second-factor",
        data={"sealed": sealed, "code": _code(secret), "password": PASSWORD},
        headers=EN,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-7-]+)</code></li>", response.get_data(as_text=True))
    return secret, codes


@pytest.fixture
def enrolled(app, make_user, moment):
    """A reviewer with two-step login on, logged out again: (user, secret, recovery codes)."""
    user = make_user(Role.reviewer)
    browser = app.test_client()
    assert _log_in(browser, user).status_code == 302
    secret, codes = _enrol(browser)
    browser.post("/auth/logout")
    return user, secret, codes


def _live_sessions(ctx, user: User) -> int:
    with ctx() as session:
        return session.scalar(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        )


def _events(ctx, action: str) -> list[AuditEvent]:
    with ctx() as session:
        return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_the_password_alone_no_longer_opens_an_enrolled_account(app, enrolled, ctx, moment):
    user, secret, _codes = enrolled
    attacker = app.test_client()
    response = _log_in(attacker, user)
    # The right password leads to the code page, not into the application.
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login/code")
    assert _live_sessions(ctx, user) == 0
    for page in ("/", "/suppliers/", "/auth/sessions"):
        refused = attacker.get(page)
        assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    with attacker.session_transaction() as cookie:
        assert "_user_id" not in cookie  # half logged in: nothing in the cookie opens a page

    # With the code from the phone, the owner gets in (and only then a session starts).
    owner = app.test_client()
    _log_in(owner, user)
    code = _next_code(moment, secret)
    assert owner.post("/auth/login/code", data={"code": code}).status_code == 302
    assert owner.get("/suppliers/").status_code == 200
    assert _live_sessions(ctx, user) == 1


def test_the_waiting_login_expires(app, enrolled, moment):
    user, secret, _codes = enrolled
    browser = app.test_client()
    _log_in(browser, user)
    moment.shift(timedelta(minutes=6))
    late = browser.post("/auth/login/code", data={"code": _code(secret)})
    assert late.status_code == 302 and late.headers["Location"].endswith("/auth/login")
    assert browser.get("/suppliers/").status_code == 302


def test_a_forged_waiting_note_is_worthless(app, enrolled, make_user):
    """The note is signed: writing another user's id into a cookie needs SECRET_KEY."""
    user, secret, _codes = enrolled
    browser = app.test_client()
    forged = '{"second_factor_pending": {"user": %d, "at": 9e12}}'.replace("%d", str(user.id))
    browser.set_cookie("session", forged)
    response = browser.post("/auth/login/code", data={"code": _code(secret)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")


def test_five_wrong_codes_make_the_account_wait_and_are_audited(app, enrolled, ctx, moment):
    user, secret, _codes = enrolled
    attacker = app.test_client()
    _log_in(attacker, user)
    statuses = [
        attacker.post("/auth/login/code", data={"code": _wrong_code(secret)}, headers=EN)
        for _ in range(5)
    ]
    assert [r.status_code for r in statuses] == [401, 401, 401, 401, 429]
    assert "Too many wrong codes" in statuses[-1].get_data(as_text=True)
    # Now even the right code is not checked: not from this browser ...
    code = _next_code(moment, secret)
    assert attacker.post("/auth/login/code", data={"code": code}).status_code == 429
    # ... nor from a fresh one at another address with the right password.
    other = app.test_client()
    _log_in(other, user)
    response = other.post(
        "/auth/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert response.status_code == 429
    assert _live_sessions(ctx, user) == 0
    assert len(_events(ctx, "second_factor_failed")) == 5
    assert len(_events(ctx, "second_factor_throttled")) == 1
    assert len(_events(ctx, "second_factor_refused")) == 2
    assert all(e.object_id == user.id for e in _events(ctx, "second_factor_failed"))

    # Once the wait is over the owner gets in.
    with ctx() as session:
        row = session.get(User, user.id)
        row.mfa_locked_until = clock.now() - timedelta(seconds=1)
        session.commit()
    owner = app.test_client()
    _log_in(owner, user)
    assert owner.post("/auth/login/code", data={"code": code}).status_code == 302


def test_a_replayed_code_is_refused(app, enrolled, ctx, moment):
    """A code seen over the owner's shoulder (or relayed by a phishing page) after they used it."""
    user, secret, _codes = enrolled
    owner = app.test_client()
    _log_in(owner, user)
    code = _next_code(moment, secret)
    assert owner.post("/auth/login/code", data={"code": code}).status_code == 302
    attacker = app.test_client()
    _log_in(attacker, user)
    replay = attacker.post("/auth/login/code", data={"code": code}, headers=EN)
    assert replay.status_code == 401
    assert "The code is not correct." in replay.get_data(as_text=True)
    assert attacker.get("/suppliers/").status_code == 302
    assert _live_sessions(ctx, user) == 1


def test_a_recovery_code_works_once(app, enrolled, ctx):
    user, _secret, codes = enrolled
    assert len(codes) == 10 and len(set(codes)) == 10
    first = app.test_client()
    _log_in(first, user)
    response = first.post("/auth/login/code", data={"code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302
    assert first.get("/suppliers/").status_code == 200
    second = app.test_client()
    _log_in(second, user)
    assert second.post("/auth/login/code", data={"code": codes[0]}).status_code == 401
    assert second.get("/suppliers/").status_code == 302
    assert [e.summary for e in _events(ctx, "recovery_code_used")] == [f"{user.email} (9 left)"]


def test_recovery_codes_and_the_secret_are_not_stored_readable(app, enrolled, ctx):
    user, secret, codes = enrolled
    with ctx() as session:
        stored = session.scalars(
            sa.select(RecoveryCode.token_hash).where(RecoveryCode.user_id == user.id)
        ).all()
        row = session.get(User, user.id)
        assert sorted(stored) == sorted(hash_token(c.replace("-", "")) for c in codes)
        assert secret not in row.mfa_secret and row.mfa_secret.startswith("gAAAA")  # Fernet
        with app.test_request_context():
            assert second_factor.unseal(row.mfa_secret) == secret
    # 24 base32 characters: 120 bits each, so a plain SHA-256 suffices (ASVS 6.5.2).
    assert all(len(c.replace("-", "")) == 24 for c in codes)


def test_enrolment_needs_a_valid_code_and_the_password(app, auth, ctx):
    user = auth.login(Role.procurement)
    page = auth.client.get("/auth/second-factor", headers=EN).get_data(as_text=True)
    assert "<svg" in page and "<script" not in page.split("<main>")[1]  # QR drawn here, no CDN
    secret = (
        re.search(r'class="totp-key"><code>([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    )
    sealed = re.search(r'name="sealed" type="hidden" value="([^"]+)"', page).group(1)
    attempts = [
        {"sealed": sealed, "code": _wrong_code(secret), "password": PASSWORD},
        {"sealed": sealed, "code": _code(secret), "password": "not the password"},
        {"sealed": sealed[:-4] + "AAAA", "code": _code(secret), "password": PASSWORD},
    ]
    for data in attempts:
        response = auth.client.post("/auth/second-factor", data=data, headers=EN)
        assert "Two-step login is on" not in response.get_data(as_text=True)
        with ctx() as session:
            row = session.get(User, user.id)
            assert row.mfa_enabled_at is None and row.mfa_secret is None
    # An attacker's own secret, sealed by nobody but the server, cannot be slipped in either.
    mine = pyotp.random_base32(32)
    forged = {"sealed": mine, "code": pyotp.TOTP(mine).now(), "password": PASSWORD}
    auth.client.post("/auth/second-factor", data=forged)
    with ctx() as session:
        assert session.get(User, user.id).mfa_enabled_at is None
    ok = auth.client.post(
        "/auth/second-factor",
        data={"sealed": sealed, "code": _code(secret), "password": PASSWORD},
        headers=EN,
    )
    assert "Two-step login is on" in ok.get_data(as_text=True)
    assert [e.summary for e in _events(ctx, "second_factor_enabled")] == [user.email]


def test_turning_it_on_ends_the_other_sessions(app, make_user, ctx):
    user = make_user(Role.reviewer)
    elsewhere, here = app.test_client(), app.test_client()
    _log_in(elsewhere, user)
    _log_in(here, user)
    _enrol(here)
    assert elsewhere.get("/suppliers/").status_code == 302
    assert here.get("/suppliers/").status_code == 200


def test_a_stolen_session_cannot_turn_it_off(app, enrolled, ctx, moment):
    user, secret, _codes = enrolled
    browser = app.test_client()
    _log_in(browser, user)
    browser.post("/auth/login/code", data={"code": _next_code(moment, secret)})
    for data in (
        {"password": "guessed password", "code": _wrong_code(secret)},
        {"password": "guessed password", "code": ""},
        {"password": PASSWORD, "code": _wrong_code(secret)},
    ):
        assert browser.post("/auth/second-factor/off", data=data).status_code in (400, 401)
        with ctx() as session:
            assert session.get(User, user.id).mfa_enabled_at is not None
    response = browser.post(
        "/auth/second-factor/off", data={"password": PASSWORD, "code": _next_code(moment, secret)}
    )
    assert response.status_code == 302
    with ctx() as session:
        row = session.get(User, user.id)
        assert row.mfa_enabled_at is None and row.mfa_secret is None
        assert not session.scalars(
            sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id)
        ).all()
    assert len(_events(ctx, "second_factor_disabled")) == 1


def _require_for_admins(ctx, on: bool = True) -> None:
    with ctx() as session:
        session.merge(Setting(key="security", value={"second_factor_for_admins": on}))
        session.commit()


@pytest.mark.parametrize("role", [Role.admin, Role.ciso])
def test_admin_and_ciso_must_enrol_when_the_setting_is_on(app, auth, ctx, role):
    _require_for_admins(ctx)
    auth.login(role)
    for method, url in (("GET", "/suppliers/"), ("GET", "/"), ("POST", "/auth/sessions")):
        response = auth.client.open(url, method=method)
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/auth/second-factor"), url
    assert auth.client.get("/auth/second-factor").status_code == 200
    _enrol(auth.client)
    assert auth.client.get("/suppliers/").status_code == 200
    # Required for the role: it cannot be switched off again.
    response = auth.client.post(
        "/auth/second-factor/off", data={"password": PASSWORD, "code": "123456"}
    )
    assert response.status_code == 302
    with ctx() as session:
        assert session.scalar(sa.select(User.mfa_enabled_at).where(User.role == role))


def test_other_roles_are_not_made_to_enrol(app, auth, ctx):
    _require_for_admins(ctx)
    auth.login(Role.procurement)
    assert auth.client.get("/suppliers/").status_code == 200


def test_the_setting_is_off_by_default_and_only_an_admin_sets_it(app, auth, ctx):
    auth.login(Role.ciso)
    assert auth.client.get("/suppliers/").status_code == 200
    assert auth.client.post("/admin/settings/security", data={"required": "y"}).status_code == 403
    auth.logout()
    auth.login(Role.admin)
    assert auth.client.post("/admin/settings/security", data={"required": "y"}).status_code == 302
    with ctx() as session:
        assert session.get(Setting, "security").value == {"second_factor_for_admins": True}
    # The admin who switched it on is the first to be sent to enrol.
    assert auth.client.get("/suppliers/").headers["Location"].endswith("/auth/second-factor")
    [saved] = [e for e in _events(ctx, "create") if e.object_type == "settings"]
    assert saved.actor_label == auth.user.email


def test_an_admin_resets_a_lost_second_factor_audited(app, enrolled, auth, ctx, moment):
    user, secret, _codes = enrolled
    victim_browser = app.test_client()
    _log_in(victim_browser, user)
    victim_browser.post("/auth/login/code", data={"code": _next_code(moment, secret)})
    auth.login(Role.admin)
    assert auth.client.post(f"/admin/users/{user.id}/second-factor/reset").status_code == 302
    with ctx() as session:
        row = session.get(User, user.id)
        assert row.mfa_enabled_at is None and row.mfa_secret is None
    assert victim_browser.get("/suppliers/").status_code == 302  # their sessions ended
    [event] = _events(ctx, "second_factor_reset")
    assert event.object_id == user.id and event.actor_label == auth.user.email
    # A reviewer may not reset anyone's.
    auth.logout()
    auth.login(Role.reviewer)
    assert auth.client.post(f"/admin/users/{user.id}/second-factor/reset").status_code == 403


@pytest.mark.browser
@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)
def test_the_qr_code_is_drawn_under_the_strict_csp_in_chromium(app, make_user, tmp_path):
    """No CDN, no inline script or style: the browser shows the code and reports no violation."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    user = make_user(Role.ciso)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    complaints: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
            page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/auth/login")
            page.fill("#email", user.email)
            page.fill("#password", PASSWORD)
            page.click("#submit")
            page.goto(f"{base}/auth/second-factor")
            box = page.locator(".qr svg").bounding_box()
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.reload()
            page.screenshot(path=str(tmp_path / "enrol.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert box and box["width"] > 150 and box["height"] > 150
    assert complaints == []
    assert all(url.startswith(base) for url in requests)  # nothing fetched from elsewhere
