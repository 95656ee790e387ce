"""End to end in Debian's Chromium, driven by Playwright: what a procurement officer does."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from tests.e2e.harness import CHROMIUM
from tests.e2e.harness import CHROMIUM_ARGS as ARGS
from vendorrisk.models import Role

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (CI installs it)",
    ),
]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(tmp_path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
        page = context.new_page()
        try:
            yield page
        finally:
            page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
            context.close()
            browser.close()


def test_procurement_registers_a_supplier_in_the_browser(live_server, page, make_user):
    user = make_user(Role.procurement, email="buyer@example.com")
    page.goto(f"{live_server}/suppliers/")
    assert "/auth/login" in page.url
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{live_server}/suppliers/")
    page.click("text=取引先を登録")
    page.fill("#name_ja", "株式会社ブラウザ検証")
    page.fill("#name_en", "Browser Check Co., Ltd.")
    page.fill("#corporate_number", "2180301018771")
    page.select_option("#category", "cloud_service")
    page.check("#has_network_access")
    page.click("#submit")
    error = page.locator(".has-error .error").first
    assert "法人番号" in error.inner_text()
    assert page.input_value("#name_ja") == "株式会社ブラウザ検証"  # nothing typed is lost
    assert page.is_checked("#has_network_access")
    page.fill("#corporate_number", "1180301018771")
    page.click("#submit")
    page.wait_for_selector("h1:has-text('株式会社ブラウザ検証')")
    assert "1180301018771" in page.content()
    page.click("button[value=en]")
    page.wait_for_selector("text=Data and access shared")
    page.click("text=Suppliers")
    assert page.locator("table.list tbody tr").count() == 1


#: The sender profile the portal names as the requester (依頼元).
REQUESTER = {
    "company_ja": "サンプル商事株式会社",
    "company_en": "Sample Trading Co., Ltd.",
    "department_ja": "調達部",
    "person_ja": "田中 一郎",
    "phone": "03-1234-5678",
    "email": "procurement@sample.co.jp",
    "announcement_url": "https://www.sample.co.jp/supplier-security",
}


@pytest.fixture
def portal_link(app, live_server, make_supplier, make_contact):
    """An open assessment of the supplier questionnaire and a link to it."""
    from datetime import UTC, date, datetime, timedelta

    from tests.factories import make_assessment, make_invitation
    from vendorrisk.extensions import db
    from vendorrisk.mail import sender
    from vendorrisk.models.mixins import hash_token as token_hash

    supplier = make_supplier(name_ja="株式会社ブラウザ回答")
    contact = make_contact(supplier, email="answer@example.jp")
    token = "browser-portal-token-" + "x" * 30
    with app.app_context():
        sender.save(REQUESTER)
        assessment = make_assessment(supplier, due_on=date.today() + timedelta(days=30))
        make_invitation(
            assessment,
            contact,
            token_hash=token_hash(token),
            expires_at=datetime.now(UTC) + timedelta(days=60),
        )
        db.session.commit()
        assessment_id = assessment.id
        db.session.remove()
    return f"{live_server}/portal/{token}", assessment_id


def _stored(app, assessment_id, question_id):
    from vendorrisk.extensions import db
    from vendorrisk.models import Answer

    with app.app_context():
        value = db.session.scalar(
            sa.select(Answer.value).where(
                Answer.assessment_id == assessment_id, Answer.question_id == question_id
            )
        )
        db.session.remove()
    return value


def test_the_portal_shows_conditions_and_saves_as_the_supplier_types(app, page, portal_link):
    link, assessment_id = portal_link
    page.goto(link)
    assert "/portal/q/" not in page.url  # the link's page itself changes nothing
    assert "サンプル商事株式会社" in page.locator("aside.requester").inner_text()
    page.click("button.big-button")
    page.wait_for_url("**/portal/q/")
    requester = page.locator("aside.requester")  # 依頼元: who asks, and whom to call
    assert "田中 一郎" in requester.inner_text() and "03-1234-5678" in requester.inner_text()
    assert "サンプル商事株式会社" in page.title()
    assert "表示中の質問" in page.locator(".shown-count").inner_text()
    page.goto(page.url + "section/d9-specifics")
    certificate = page.locator("#q-sup-d9s-05")
    assert certificate.is_hidden()
    page.check("input[name='a-sup-d9s-04'][value='yes']")  # ISMS certified: yes
    certificate.wait_for(state="visible")
    page.fill("textarea[name='a-sup-d9s-05']", "IS 123456")
    # No button pressed: the answer saves itself.
    page.locator("#q-sup-d9s-05 .save-state:has-text('保存しました')").wait_for(timeout=10000)
    assert _stored(app, assessment_id, "sup-d9s-05") == "IS 123456"
    assert _stored(app, assessment_id, "sup-d9s-04") == "yes"
    page.reload()
    assert page.input_value("textarea[name='a-sup-d9s-05']") == "IS 123456"
    page.check("input[name='a-sup-d9s-04'][value='no']")
    certificate.wait_for(state="hidden")


def test_the_ciso_reads_the_roll_up_and_prints_the_report_offline(
    live_server, page, runner, make_user
):
    """Charts drawn with nothing from outside the server and no CSP violation; also on paper."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    ciso = make_user(Role.ciso, email="ciso-browser@example.com")
    outside: list[str] = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server) or route.request.url.startswith("data:")
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto(f"{live_server}/auth/login")
    page.fill("#email", ciso.email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_load_state()
    for path in ("/rollup", "/report", "/self-assessment/"):
        page.goto(f"{live_server}{path}")
        assert page.evaluate("window.__csp") == [], path
        charts = page.locator("svg.chart-svg")
        assert charts.count() > 0, path
        assert charts.first.bounding_box()["width"] > 300, path
        marks = page.locator("svg.chart-svg rect.bar, svg.chart-svg circle.point")
        sizes = [marks.nth(i).bounding_box() for i in range(marks.count())]
        assert max(box["width"] for box in sizes if box) > 5, path  # drawn, not collapsed
    # On paper: the navigation and the buttons go, the charts stay.
    page.emulate_media(media="print")
    assert not page.locator(".topbar nav").is_visible()
    assert page.locator("svg.chart-svg").first.is_visible()
    assert outside == []
