"""Suppliers through the API: the register's rules, the upsert by 法人番号, pages, problems."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import in_app
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Role, Supplier

#: A corporate number with a correct check digit (国税庁's own).
NUMBER = "7000012050002"


def test_the_upsert_by_corporate_number_is_idempotent(app, client, api_caller):
    caller = api_caller(service=True)
    url = f"/api/v1/suppliers/by-corporate-number/{NUMBER}"
    body = {"name_ja": "株式会社サンプル", "category": "outsourcing_contractor"}
    first = client.put(url, json=body, headers=caller.headers)
    second = client.put(url, json=body, headers=caller.headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json["id"] == second.json["id"]
    assert first.json["corporate_number"] == NUMBER
    changed = client.put(url, json={**body, "name_en": "Sample"}, headers=caller.headers)
    assert changed.json["id"] == first.json["id"] and changed.json["name_en"] == "Sample"
    with in_app(app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Supplier)) == 1


def test_changes_are_audited_with_the_token_user_as_actor(app, client, api_caller):
    caller = api_caller()
    response = client.post(
        "/api/v1/suppliers", json={"name_ja": "株式会社監査", "category": "other"},
        headers=caller.headers,
    )  # fmt: skip
    assert response.status_code == 201
    patched = client.patch(
        f"/api/v1/suppliers/{response.json['id']}", json={"notes": "via API"},
        headers=caller.headers,
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json["notes"] == "via API"
    assert patched.json["name_ja"] == "株式会社監査"  # left out: kept
    with in_app(app) as session:
        events = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.object_type == "suppliers")
        ).all()
    assert {event.action for event in events} == {"create", "update"}
    assert {event.actor_user_id for event in events} == {caller.user_id}


def test_the_forms_rules_refuse_with_422_field_errors_in_english(client, api_caller):
    caller = api_caller()
    response = client.post(
        "/api/v1/suppliers",
        json={"name_ja": "株式会社", "category": "other", "corporate_number": "1234567890123"},
        headers={**caller.headers, "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["type"] == "urn:vendorrisk:problem:invalid-input"
    assert problem["errors"] == [
        {
            "pointer": "#/corporate_number",
            "detail": "This is not a valid corporate number (13 digits with a correct check "
            "digit).",
        }
    ]
    assert response.headers["Content-Language"] == "en"


def test_problems_follow_accept_language(client, api_caller):
    caller = api_caller()
    for language in ("ja", "en"):
        response = client.get(
            "/api/v1/suppliers/999999", headers={**caller.headers, "Accept-Language": language}
        )
        assert response.status_code == 404
        assert response.headers["Content-Language"] == language
        assert set(response.json) == {"type", "title", "status", "detail", "instance"}
    english = client.get(
        "/api/v1/suppliers/999999", headers={**caller.headers, "Accept-Language": "en"}
    )
    assert english.json["title"] == "Not found"


def test_types_are_checked_before_the_form(client, api_caller):
    caller = api_caller()
    response = client.post(
        "/api/v1/suppliers", json={"name_ja": 5, "category": "other", "surprise": 1},
        headers={**caller.headers, "Accept-Language": "en"},
    )  # fmt: skip
    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.json["errors"]}
    assert pointers == {"#/name_ja", "#/surprise"}


def test_pages_follow_the_cursor_with_a_link_header(client, api_caller, make_supplier):
    caller = api_caller(Role.auditor)
    made = [make_supplier().id for _ in range(5)]
    seen, url = [], "/api/v1/suppliers?limit=2"
    while url:
        response = client.get(url, headers=caller.headers)
        assert response.status_code == 200
        seen += [item["id"] for item in response.json["items"]]
        link = response.headers.get("Link")
        assert (link is None) == (response.json["next_cursor"] is None)
        url = link[1 : link.index(">")] if link else None
    assert seen == sorted(made)


def test_a_forged_cursor_is_a_422(client, api_caller):
    caller = api_caller()
    response = client.get("/api/v1/suppliers?cursor=bm9wZQ", headers=caller.headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["parameter"] == "cursor"


def test_a_page_costs_the_same_queries_whatever_its_size(client, api_caller, make_supplier,
                                                         count_queries):  # fmt: skip
    caller = api_caller()
    for _ in range(3):
        make_supplier()
    client.get("/api/v1/suppliers", headers=caller.headers)  # the token's last use, kept once
    with count_queries() as few:
        client.get("/api/v1/suppliers?limit=50", headers=caller.headers)
    for _ in range(20):
        make_supplier()
    with count_queries() as many:
        client.get("/api/v1/suppliers?limit=50", headers=caller.headers)
    assert many.count == few.count


def test_filters(client, api_caller, make_supplier):
    caller = api_caller()
    wanted = make_supplier(name_ja="株式会社青空", tier="high")
    make_supplier(name_ja="株式会社夕焼", tier="low")
    response = client.get("/api/v1/suppliers?tier=high&q=青空", headers=caller.headers)
    assert [item["id"] for item in response.json["items"]] == [wanted.id]


def test_contacts_use_the_contact_form(client, api_caller, make_supplier):
    caller = api_caller()
    supplier = make_supplier()
    url = f"/api/v1/suppliers/{supplier.id}/contacts"
    body = {"name": "山田 太郎", "email": "Yamada@Example.jp", "locale": "ja"}
    assert client.post(url, json=body, headers=caller.headers).status_code == 201
    again = client.post(url, json=body, headers=caller.headers)
    assert again.status_code == 422 and again.json["errors"][0]["pointer"] == "#/email"
    listed = client.get(url, headers=caller.headers).json
    assert [contact["email"] for contact in listed] == ["yamada@example.jp"]


def test_an_upsert_that_loses_a_race_is_a_409_and_a_retry_updates(app, client, api_caller):
    """Another writer registers the same 法人番号 between this request's check and its write
    (committed on its own connection just before the flush): the unique index refuses it."""
    caller = api_caller(service=True)
    url = f"/api/v1/suppliers/by-corporate-number/{NUMBER}"
    body = {"name_ja": "株式会社サンプル", "category": "other"}
    with app.app_context():
        engine = db.engine

    raced = []

    def other_writer(session, flush_context, instances):
        if raced or not any(isinstance(obj, Supplier) for obj in session.new):
            return
        raced.append(True)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Supplier.__table__).values(
                    name_ja="先に登録", name_en="", corporate_number=NUMBER, category="other",
                    status="onboarding", criticality="medium", services="", country="JP",
                    website="", notes="", shares_personal_info=False,
                    shares_confidential_info=False, has_network_access=False,
                    has_admin_access=False, created_at=clock.now(), updated_at=clock.now(),
                )
            )  # fmt: skip

    sa.event.listen(Session, "before_flush", other_writer)
    try:
        lost = client.put(url, json=body, headers=caller.headers)
    finally:
        sa.event.remove(Session, "before_flush", other_writer)
    assert lost.status_code == 409
    assert lost.mimetype == "application/problem+json"
    retried = client.put(url, json=body, headers=caller.headers)
    assert retried.status_code == 200 and retried.json["name_ja"] == "株式会社サンプル"


def test_a_units_service_account_files_and_sees_only_its_units_suppliers(app, client, api_caller):
    from vendorrisk.models import BusinessUnit, UnitMembership

    caller = api_caller(service=True)
    with in_app(app) as session:
        east, west = BusinessUnit(code="EAST", name="東"), BusinessUnit(code="WEST", name="西")
        session.add_all([east, west])
        session.flush()
        session.add(UnitMembership(user_id=caller.user_id, unit_id=east.id))
        session.commit()
    body = {"name_ja": "株式会社東の取引先", "category": "other", "unit": "east"}
    created = client.post("/api/v1/suppliers", json=body, headers=caller.headers)
    assert created.status_code == 201 and created.json["unit"] == "EAST"
    refused = client.post(
        "/api/v1/suppliers",
        json={**body, "unit": "WEST"},
        headers={**caller.headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 422
    assert "No business unit of yours has this code." in refused.get_data(as_text=True)
    kept = client.patch(
        f"/api/v1/suppliers/{created.json['id']}", json={"notes": "n"}, headers=caller.headers
    )
    assert kept.status_code == 200 and kept.json["unit"] == "EAST"  # a change keeps the unit
    with in_app(app) as session:
        west_id = session.scalar(sa.select(BusinessUnit.id).where(BusinessUnit.code == "WEST"))
        hidden = Supplier(name_ja="株式会社西", category="other", unit_id=west_id)
        session.add(hidden)
        session.commit()
        hidden_id = hidden.id
    listed = client.get("/api/v1/suppliers", headers=caller.headers).json["items"]
    assert [s["name_ja"] for s in listed] == ["株式会社東の取引先"]
    assert client.get(f"/api/v1/suppliers/{hidden_id}", headers=caller.headers).status_code == 404
