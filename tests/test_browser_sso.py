"""Single sign-on in Debian's Chromium: the app served by a real WSGI server, the test OpenID
provider on another loopback address, the person pressing the buttons on both sites."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.e2e.harness import CHROMIUM
from tests.e2e.harness import CHROMIUM_ARGS as ARGS
from tests.support.oidc_provider import Person, Provider, running_provider
from tests.support.sso import LABEL, sso_app
from vendorrisk.extensions import db
from vendorrisk.models import Role, User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (CI installs it)",
    ),
]


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture
def site(tmp_path_factory, provider) -> Iterator[tuple[str, object]]:
    """The app with the provider as its single sign-on, served on 127.0.0.1 at a free port."""
    provider.reset()
    served: dict = {}
    server = make_server(
        "127.0.0.1", 0, lambda environ, start: served["app"](environ, start), threaded=True
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    with sso_app(tmp_path_factory, provider, base_url) as app:
        served["app"] = app
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base_url, app
        finally:
            server.shutdown()
            thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _page(browser, lang: str):
    context = browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        extra_http_headers={"Accept-Language": lang},
    )
    page = context.new_page()
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return page


def test_a_reviewer_signs_in_at_the_provider_and_out_again(site, provider, browser, tmp_path):
    base_url, app = site
    provider.add(Person("b-1", "hanako@example.co.jp", "山田 花子", ["vr-reviewers"]))
    page = _page(browser, "ja")
    page.goto(f"{base_url}/suppliers/")
    assert "/auth/login" in page.url
    button = page.locator("#sso")
    assert button.inner_text() == f"{LABEL} でサインイン"
    page.screenshot(path=str(tmp_path / "oidc-login-ja.png"), full_page=True)
    button.click()
    page.wait_for_url(f"{provider.issuer}/authorize?**")
    page.click("text=Sign in as 山田 花子")
    page.wait_for_url(f"{base_url}/suppliers/")
    assert "山田 花子" in page.locator(".who").inner_text()
    assert page.evaluate("window.__csp") == []
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "hanako@example.co.jp"))
        assert user.role is Role.reviewer and user.oidc_subject == "b-1"
        db.session.remove()
    page.click("button:has-text('ログアウト'), button:has-text('Log out')")
    page.wait_for_url(f"{base_url}/auth/login**")  # by way of the provider's end_session
    assert provider.ended_sessions, "the provider was not asked to end its session"
    assert page.evaluate("window.__csp") == []
    page.goto(f"{base_url}/suppliers/")
    assert "/auth/login" in page.url


def test_someone_in_no_mapped_group_is_refused_with_no_session(site, provider, browser, tmp_path):
    base_url, app = site
    provider.add(Person("b-2", "guest@example.co.jp", "Guest", ["all-staff"]))
    page = _page(browser, "en")
    page.goto(f"{base_url}/auth/login")
    page.screenshot(path=str(tmp_path / "oidc-login-en.png"), full_page=True)
    page.click("#sso")
    page.wait_for_url(f"{provider.issuer}/authorize?**")
    page.click("text=Sign in as Guest")
    page.wait_for_url(f"{base_url}/auth/oidc/callback**")
    message = page.locator(".flash, .flashes, [role=alert]").first.inner_text()
    assert f"Your account at {LABEL} is not in a group that may use vendorrisk" in message
    assert page.locator("#sso").is_visible()  # the login page, to try again
    page.screenshot(path=str(tmp_path / "oidc-refused-en.png"), full_page=True)
    page.goto(f"{base_url}/suppliers/")
    assert "/auth/login" in page.url
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
        db.session.remove()
