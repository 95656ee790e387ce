"""Forged cross-site requests, over HTTPS as deployed: what a browser sends decides.

Chromium's own POSTs here carry no Referer (the app's `Referrer-Policy: no-referrer`),
`Origin: null` and `Sec-Fetch-Site: same-origin`; an attacker's page makes the victim's
browser send `Sec-Fetch-Site: cross-site` and its own Origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token_from, strict_app
from vendorrisk.extensions import db
from vendorrisk.models import Contact, OutboxMessage, Role, Supplier, SupplierCategory
from vendorrisk.services.users import accounts

HOST = "vendorrisk.example.co.jp"
SITE = f"https://{HOST}"
#: What Chromium sends with a form posted from one of the app's own pages.
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[Flask]:
    """The production settings that matter here: HTTPS only, trusted hosts, CSRF on."""
    with strict_app(
        tmp_path_factory,
        WTF_CSRF_ENABLED=True,
        BASE_URL=SITE,
        TRUSTED_HOSTS=[HOST],
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_NAME="__Host-session",
        SERVER_NAME=HOST,  # the test client's default address, as a browser would use it
        PREFERRED_URL_SCHEME="https",
    ) as app:
        yield app


def _browser(app: Flask) -> FlaskClient:
    return app.test_client()


def _login(app: Flask, email: str, role: Role = Role.procurement) -> FlaskClient:
    with app.app_context():
        user, password = accounts.create_user(email, role)
        user.must_change_password = False
        db.session.commit()
    client = _browser(app)
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _new_supplier(client: FlaskClient, headers: dict[str, str], name: str):
    token = csrf_token_from(client.get("/suppliers/new").get_data(as_text=True))
    return client.post(
        "/suppliers/new",
        data={
            "name_ja": name,
            "category": "cloud_service",
            "status": "active",
            "criticality": "high",
            "country": "JP",
            "csrf_token": token,
        },
        headers=headers | {"Accept-Language": "en"},
    )


def test_a_browser_logs_in_over_https_without_a_referer(deployed):
    client = _login(deployed, "https-login@example.com")
    assert client.get("/suppliers/").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        SAME_ORIGIN,
        {"Origin": SITE},  # a browser that sends no Sec-Fetch-Site but a real Origin
        {"Origin": f"{SITE}:443"},
        {"Sec-Fetch-Site": "none"},  # the user's own action, such as a resubmitted form
        {},  # no browser at all: the token alone decides
    ],
    ids=["chromium", "origin-only", "origin-with-port", "user-initiated", "not-a-browser"],
)
def test_same_origin_posts_are_accepted(deployed, headers):
    client = _login(deployed, f"accept-{len(headers)}-{hash(str(headers))}@example.com")
    before = _count(deployed, Supplier)
    response = _new_supplier(client, headers, "株式会社同一オリジン")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _count(deployed, Supplier) == before + 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": f"https://evil.{HOST}"},
        {"Origin": "https://attacker.example"},
        {"Origin": f"http://{HOST}"},  # the same host over plain HTTP is another origin
        {"Origin": "null"},  # a sandboxed frame or data: URL, with no Sec-Fetch-Site to vouch
    ],
    ids=["cross-site", "sibling-subdomain", "foreign-origin", "downgraded", "opaque-origin"],
)
def test_cross_origin_posts_are_refused_and_change_nothing(deployed, headers):
    """Even with a valid token (say, leaked): the browser's word on the origin refuses it."""
    client = _login(deployed, f"refuse-{hash(str(headers))}@example.com")
    before = _count(deployed, Supplier)
    response = _new_supplier(client, headers, "株式会社クロスサイト")
    assert response.status_code == 400
    assert "The form has expired or was sent from elsewhere" in response.get_data(as_text=True)
    assert _count(deployed, Supplier) == before
    assert client.get("/suppliers/").status_code == 200  # the victim is still logged in


def test_cross_site_logout_is_refused(deployed):
    client = _login(deployed, "logout-victim@example.com")
    token = csrf_token_from(client.get("/suppliers/").get_data(as_text=True))
    refused = client.post(
        "/auth/logout", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert refused.status_code == 400
    assert client.get("/suppliers/").status_code == 200


def test_a_forged_post_without_the_victims_cookie_sets_none(deployed):
    """The browser withholds the SameSite cookie from another site's POST: the answer must not
    set a fresh one either, or the victim would be logged out by the attempt."""
    anonymous = deployed.test_client()
    refused = anonymous.post(
        "/suppliers/new",
        data={"name_ja": "株式会社クロスサイト"},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"},
    )
    assert refused.status_code == 400  # refused as forged, not redirected to a login page
    assert refused.headers.getlist("Set-Cookie") == []


def test_the_supplier_opens_the_questionnaire_over_https(deployed):
    """The landing page's button posts with Origin: null; Sec-Fetch-Site vouches for it."""
    client = _login(deployed, "sender@example.com")
    with deployed.app_context():
        supplier = Supplier(name_ja="株式会社リンク検証", category=SupplierCategory.cloud_service)
        contact = Contact(supplier=supplier, name="佐藤 花子", email="sato@example.jp")
        db.session.add_all([supplier, contact])
        db.session.commit()
        supplier_id, contact_id = supplier.id, contact.id
    form = client.get(f"/suppliers/{supplier_id}/send").get_data(as_text=True)
    sent = client.post(
        f"/suppliers/{supplier_id}/send",
        data={
            "template_id": "csm-v2-supplier",
            "due_on": "2099-01-04",
            "contact_ids": [contact_id],
            f"locale-{contact_id}": "ja",
            "message": "",
            "csrf_token": csrf_token_from(form),
        },
        headers=SAME_ORIGIN,
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    with deployed.app_context():
        body = db.session.scalar(sa.select(OutboxMessage.body_text))
    path = re.search(rf"{SITE}(/portal/[A-Za-z0-9_-]{{40,}})", body).group(1)
    supplier_browser = _browser(deployed)
    landing = supplier_browser.get(path)
    assert landing.headers["Referrer-Policy"] == "no-referrer"
    token = csrf_token_from(landing.get_data(as_text=True))
    forged = _browser(deployed).post(
        path, data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert forged.status_code == 400
    opened = supplier_browser.post(path, data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert opened.status_code == 302 and opened.headers["Location"] == "/portal/q/"
    assert supplier_browser.get("/portal/q/").status_code == 200


def test_a_host_not_trusted_is_refused_and_never_reaches_a_link(deployed):
    client = deployed.test_client()
    response = client.get("/auth/login", base_url="https://attacker.example")
    assert response.status_code == 400


def test_the_session_cookie_is_for_this_https_host_alone(deployed):
    client = _browser(deployed)
    response = client.get("/auth/login")
    cookie = next(
        header for header in response.headers.getlist("Set-Cookie") if "session=" in header
    )
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
