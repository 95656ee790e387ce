"""Hostile input: NUL and other control bytes, numbers past 64 bits, values outside an enum.

The attacker sends what no form would (a NUL byte in the login email, an escape character in a
supplier's name, `?page=` with 23 digits, `?status=` that names no status). What they must not
get is a 500 — an unhandled error, a stack in the log, a worker that fell over — nor anything
stored: every such request is refused with 400 and a message in the user's language (JSON for a
JSON client), or, for a filter value the list does not know, the list without that filter.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.blueprints.test_access import _api_headers, _is_api, _urls
from vendorrisk.blueprints.common.filters import PAGE_MAX
from vendorrisk.extensions import db
from vendorrisk.models import Role, StoredFile, Supplier

#: What the refusal says, in each language.
REFUSED = {
    "en": "The request contains characters that cannot be accepted",
    "ja": "受け付けられない文字",
}
#: Bytes no person types into a form: NUL, escape, backspace, DEL's neighbour US.
CONTROL = ["\x00", "\x1b", "\x08", "\x1f"]
#: 2**64 and more: past any integer a database column or OFFSET holds.
HUGE = "99999999999999999999999"


def _count(ctx, model) -> int:
    with ctx() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def _refused(response, lang: str = "en") -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, text[:300])
    assert REFUSED[lang] in text, text[:500]


@pytest.mark.parametrize("byte", CONTROL)
def test_a_control_byte_in_the_login_email_is_refused_not_a_crash(client, make_user, byte):
    user = make_user(Role.admin)
    response = client.post(
        "/auth/login",
        data={"email": user.email.replace("@", byte + "@"), "password": "x"},
        headers={"Accept-Language": "en"},
    )
    _refused(response)


def test_the_refusal_speaks_the_users_language(client):
    response = client.post(
        "/auth/login",
        data={"email": "sato\x00@example.jp", "password": "x"},
        headers={"Accept-Language": "ja"},
    )
    _refused(response, "ja")


def test_a_json_client_gets_json(auth):
    auth.login(Role.procurement)
    response = auth.client.post(
        "/suppliers/new",
        data={"name_ja": "株式会社\x00テスト", "category": "cloud_service"},
        headers={"Accept": "application/json", "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert response.is_json and response.json["status"] == "error"
    assert REFUSED["en"] in response.json["message"]


@pytest.mark.parametrize("byte", CONTROL)
def test_a_control_byte_in_a_supplier_name_stores_nothing(auth, ctx, byte):
    auth.login(Role.procurement)
    response = auth.client.post(
        "/suppliers/new",
        data={
            "name_ja": f"株式会社{byte}テスト",
            "category": "cloud_service",
            "status": "active",
            "criticality": "high",
            "country": "JP",
        },
        headers={"Accept-Language": "en"},
    )
    _refused(response)
    assert _count(ctx, Supplier) == 0


def test_tab_and_line_breaks_are_ordinary_text(auth, ctx):
    auth.login(Role.procurement)
    response = auth.client.post(
        "/suppliers/new",
        data={
            "name_ja": "株式会社テスト",
            "category": "cloud_service",
            "status": "active",
            "criticality": "high",
            "country": "JP",
            "notes": "一行目\r\n二行目\t（タブ）",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert _count(ctx, Supplier) == 1


@pytest.mark.parametrize(
    "url",
    [
        "/suppliers/?q=%00",
        "/suppliers/?q=abc%1B",
        "/admin/audit?actor=%00",
        "/admin/audit?action=%00login",
        "/assessments/?status=%00",
        "/findings/?status=open%00",
    ],
)
def test_a_control_byte_in_a_search_or_filter_is_refused(auth, url):
    auth.login(Role.admin)
    _refused(auth.client.get(url, headers={"Accept-Language": "en"}))


@pytest.mark.parametrize("name", ["cert\x00.pdf", "cert\x1b[31m.pdf", "\x00"])
def test_a_control_byte_in_an_uploaded_file_name_stores_nothing(auth, ctx, make_supplier, name):
    supplier = make_supplier()
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/attestations/new",
        data={
            "kind": "isms",
            "identifier": "IS 654321",
            "issued_on": "2024-04-01",
            "expires_on": "2027-03-31",
            "evidence": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), name),
        },
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    _refused(response)
    assert _count(ctx, StoredFile) == 0


def test_a_control_byte_in_the_path_is_refused(auth):
    auth.login(Role.admin)
    _refused(auth.client.get("/suppliers/import/ab%00cd", headers={"Accept-Language": "en"}))


@pytest.mark.parametrize(
    "url",
    [
        f"/suppliers/?page={HUGE}",
        f"/assessments/?page={HUGE}",
        f"/findings/?page={HUGE}",
        f"/admin/audit?page={HUGE}",
        f"/admin/outbox?page={HUGE}",
        f"/suppliers/?page={PAGE_MAX + 1}",
    ],
)
def test_a_page_past_any_list_is_refused(auth, url):
    auth.login(Role.admin)
    response = auth.client.get(url, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "page" in response.get_data(as_text=True).lower()


def test_the_last_sane_page_is_an_empty_list(auth):
    auth.login(Role.admin)
    assert auth.client.get(f"/suppliers/?page={PAGE_MAX}").status_code == 200


@pytest.mark.parametrize("status", ["x", "SENT", "sent'--", "cancelled " * 5])
def test_a_status_outside_the_enum_is_ignored(auth, app, make_supplier, status):
    from tests.factories import make_assessment

    supplier = make_supplier()
    with app.app_context():
        make_assessment(supplier)
        db.session.commit()
    auth.login(Role.reviewer)
    response = auth.client.get(f"/assessments/?status={quote(status)}")
    assert response.status_code == 200
    assert supplier.name_ja in response.get_data(as_text=True)  # the list, unfiltered


#: Every filter name any list reads, each with a value no form offers.
NONSENSE = {
    "page": HUGE,
    "status": "x",
    "category": "x",
    "tier": "x",
    "owner": HUGE,
    "template": "x",
    "overdue": "2",
    "live": "x",
    "severity": "x",
    "age": "x",
    "accepted": "x",
    "action": "x",
    "object_type": "x",
    "actor": "'\"<x>%_\\",
    "criticality": "x",
    "insurance": "x",
    "isms": "x",
    "security_action": "x",
    "clause_missing": "x",
    "clause": "x",
    "level": "x",
    "findings": "x",
    "review": "x",
    "score": "x",
    "expiring": "x",
    "kind": "x",
    "version": HUGE,
    "lang": "x",
    "show": "x",
    "next": "//evil.example",
    "q": "%_\\'",
}


def _query(values: dict[str, str]) -> str:
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in values.items())


@pytest.mark.parametrize("role", list(Role))
def test_every_page_refuses_control_bytes_in_its_query(app, auth, world, role):  # noqa: F811
    api_headers = _api_headers(app, auth.login(role))  # the API takes a token, not the cookie
    query = _query({k: "x\x00" for k in NONSENSE})
    seen = 0
    for endpoint, url, method, access in _urls(app, world):
        if method != "GET" or not access.allows(role, "GET") or endpoint == "static":
            continue
        headers = {"Accept-Language": "en", **(api_headers if _is_api(url) else {})}
        response = auth.client.get(f"{url}?{query}", headers=headers)
        assert response.status_code == 400, (role, url, response.status_code)
        seen += 1
    assert seen > 20


@pytest.mark.parametrize("role", list(Role))
def test_no_page_crashes_on_out_of_range_filters(app, auth, world, role):  # noqa: F811
    api_headers = _api_headers(app, auth.login(role))
    sane = dict(NONSENSE, page="2")
    seen = 0
    for endpoint, url, method, access in _urls(app, world):
        if method != "GET" or not access.allows(role, "GET") or endpoint == "static":
            continue
        headers = api_headers if _is_api(url) else {}
        for values in (NONSENSE, sane):
            response = auth.client.get(f"{url}?{_query(values)}", headers=headers)
            assert response.status_code < 500, (role, url, values["page"])
            if values is sane:
                assert response.status_code != 400, (role, url)
        seen += 1
    assert seen > 20
