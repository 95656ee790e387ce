"""Every error of the API is RFC 9457 problem details; the pages elsewhere stay pages."""

from __future__ import annotations

from datetime import timedelta

from tests.blueprints.api.conftest import Caller
from tests.conftest import strict_app
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import Role
from vendorrisk.services.users import tokens

FIELDS = {"type", "title", "status", "detail", "instance"}


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert set(response.json) >= FIELDS and response.json["status"] == status
    return response.json


def test_400_for_a_body_that_is_not_json(client, api_caller):
    caller = api_caller()
    response = client.post(
        "/api/v1/suppliers",
        data="{not json",
        headers={**caller.headers, "Content-Type": "application/json"},
    )
    _is_problem(response, 400)


def test_415_for_a_body_that_is_not_json_at_all(client, api_caller):
    caller = api_caller()
    response = client.post("/api/v1/suppliers", data={"name_ja": "x"}, headers=caller.headers)
    _is_problem(response, 415)


def test_404_and_405(client, api_caller):
    caller = api_caller()
    _is_problem(client.get("/api/v1/nowhere", headers=caller.headers), 404)
    response = client.delete("/api/v1/suppliers", headers=caller.headers)
    _is_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_422_from_a_service_refusal(client, api_caller, make_supplier, make_contact, today):
    caller = api_caller()
    supplier = make_supplier()
    contact = make_contact(supplier)
    response = client.post(
        f"/api/v1/suppliers/{supplier.id}/assessments",
        json={
            "template_id": "csm-v2-supplier",
            "due_on": today.isoformat(),
            "contact_ids": [contact.id],
        },
        headers={**caller.headers, "Accept-Language": "en"},
    )
    problem = _is_problem(response, 422)
    assert problem["errors"][0]["pointer"] == "#/due_on"


def test_html_pages_stay_pages(client):
    response = client.get("/suppliers/nowhere/at/all")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_429_counts_per_token(tmp_path_factory):
    with strict_app(tmp_path_factory, API_RATE_LIMIT="3 per minute") as app:
        with app.app_context():
            user = tokens.create_service_account("svc@example.com", "Sync", Role.auditor)
            now = clock.now()
            _row, first = tokens.issue(user, "a", "read", now + timedelta(days=1), user, now)
            _row, second = tokens.issue(user, "b", "read", now + timedelta(days=1), user, now)
            db.session.commit()
            db.session.remove()
        client = app.test_client()
        one, two = Caller(0, 0, first).headers, Caller(0, 0, second).headers
        codes = [client.get("/api/v1/suppliers", headers=one).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        _is_problem(client.get("/api/v1/suppliers", headers=one), 429)
        assert client.get("/api/v1/suppliers", headers=two).status_code == 200


def test_400_for_text_no_database_can_store(client, api_caller):
    caller = api_caller()
    for name in ("株式会社\x00", "bad \ud800 half"):
        response = client.post(
            "/api/v1/suppliers", json={"name_ja": name, "category": "other"}, headers=caller.headers
        )
        _is_problem(response, 400)


def test_ids_beyond_a_32_bit_column_are_refused(client, api_caller):
    caller = api_caller()
    response = client.post(
        "/api/v1/suppliers",
        json={"name_ja": "株式会社", "category": "other", "parent_id": 2**40},
        headers=caller.headers,
    )
    assert _is_problem(response, 422)["errors"][0]["pointer"] == "#/parent_id"
