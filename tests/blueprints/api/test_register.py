"""Contacts, contracts, certifications, the questionnaire sent, and the figures, through the API."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.conftest import in_app
from vendorrisk.models import Assessment, Invitation, OutboxMessage, Role


def test_a_contract_is_checked_by_the_contract_form(client, api_caller, make_supplier):
    caller = api_caller()
    supplier = make_supplier()
    url = f"/api/v1/suppliers/{supplier.id}/contracts"
    bad = client.post(
        url,
        json={"title": "業務委託契約", "starts_on": "2026-04-01", "ends_on": "2026-03-01"},
        headers={**caller.headers, "Accept-Language": "en"},
    )
    assert bad.status_code == 422
    assert bad.json["errors"] == [
        {"pointer": "#/ends_on", "detail": "The end date is before the start date."}
    ]
    made = client.post(
        url, json={"title": "業務委託契約", "clause_audit_rights": True}, headers=caller.headers
    )
    assert made.status_code == 201 and made.json["clause_audit_rights"] is True
    changed = client.patch(
        f"{url}/{made.json['id']}", json={"reference": "C-1"}, headers=caller.headers
    )
    assert changed.json["reference"] == "C-1" and changed.json["clause_audit_rights"] is True
    assert [row["id"] for row in client.get(url, headers=caller.headers).json] == [made.json["id"]]


def test_each_kind_of_certification_asks_its_fields(client, api_caller, make_supplier, today):
    caller = api_caller()
    supplier = make_supplier()
    url = f"/api/v1/suppliers/{supplier.id}/attestations"
    missing = client.post(
        url, json={"kind": "isms"}, headers={**caller.headers, "Accept-Language": "en"}
    )
    assert missing.status_code == 422
    assert {error["pointer"] for error in missing.json["errors"]} == {
        "#/identifier",
        "#/issuer",
        "#/scope",
        "#/expires_on",
    }
    body = {
        "kind": "isms",
        "identifier": "IS 123456",
        "issuer": "BSI",
        "scope": "全社",
        "expires_on": (today + timedelta(days=300)).isoformat(),
    }
    made = client.post(url, json=body, headers=caller.headers)
    assert made.status_code == 201
    changed = client.patch(
        f"{url}/{made.json['id']}", json={"covers_service": True}, headers=caller.headers
    )
    assert changed.status_code == 200 and changed.json["kind"] == "isms"


def test_a_questionnaire_is_sent_with_its_link_through_the_outbox(
    app, client, api_caller, make_supplier, make_contact, today
):
    caller = api_caller()
    supplier = make_supplier()
    contact = make_contact(supplier, locale="en")
    response = client.post(
        f"/api/v1/suppliers/{supplier.id}/assessments",
        json={
            "template_id": "csm-v2-supplier",
            "due_on": (today + timedelta(days=30)).isoformat(),
            "contact_ids": [contact.id],
        },
        headers=caller.headers,
    )
    assert response.status_code == 201, response.json
    assert response.json["status"] == "sent"
    with in_app(app) as session:
        assessment = session.get(Assessment, response.json["id"])
        assert assessment.created_by_id == caller.user_id
        invitation = session.scalar(sa.select(Invitation))
        mail = session.scalar(sa.select(OutboxMessage))
        assert (invitation.email, invitation.locale) == (contact.email, "en")
        assert mail.recipient == contact.email and "/portal/" in mail.body_text


def test_a_questionnaire_to_nobody_is_refused(client, api_caller, make_supplier, today):
    caller = api_caller()
    supplier = make_supplier()
    response = client.post(
        f"/api/v1/suppliers/{supplier.id}/assessments",
        json={
            "template_id": "no-such-template",
            "due_on": (today + timedelta(days=30)).isoformat(),
            "contact_ids": [999],
        },
        headers={**caller.headers, "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert {error["pointer"] for error in response.json["errors"]} == {
        "#/template_id",
        "#/contact_ids",
    }


def test_the_tiers_and_the_figures(client, api_caller, make_supplier):
    caller = api_caller(Role.auditor, scope="read")
    make_supplier(tier="high")
    tiers = client.get("/api/v1/tiers", headers=caller.headers).json
    high = next(row for row in tiers if row["tier"] == "high")
    assert high["suppliers"] == 1 and high["recheck_months"] == 12
    figures = client.get("/api/v1/figures", headers=caller.headers).json
    assert figures["suppliers"] == 1
