"""The supplier register: create, change, delete, search; evidence files; the audit trail."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from vendorrisk.config import BASE_DIR
from vendorrisk.models import (
    Attestation,
    AuditEvent,
    Contact,
    Contract,
    Role,
    StoredFile,
    Supplier,
    SupplierCategory,
)

VALID = {
    "name_ja": "株式会社みなと情報サービス",
    "name_en": "Minato Information Services",
    "corporate_number": "1180301018771",
    "category": "outsourcing_contractor",
    "status": "active",
    "criticality": "high",
    "country": "JP",
    "services": "基幹システムの運用保守",
    "shares_personal_info": "y",
}
JA = {"Accept-Language": "ja"}
EN = {"Accept-Language": "en"}


def _supplier(ctx, **where):
    with ctx() as session:
        return session.scalar(sa.select(Supplier).filter_by(**where))


def test_procurement_registers_a_supplier_and_the_audit_log_says_who(auth, ctx):
    user = auth.login(Role.procurement)
    response = auth.client.post("/suppliers/new", data=VALID | {"owner_id": str(user.id)})
    assert response.status_code == 302
    supplier = _supplier(ctx, corporate_number="1180301018771")
    assert supplier.name_en == "Minato Information Services"
    assert supplier.shares_personal_info and not supplier.has_admin_access
    assert supplier.owner_id == user.id
    with ctx() as session:
        event = session.scalar(sa.select(AuditEvent).where(AuditEvent.object_type == "suppliers"))
    assert (event.action, event.actor_label, event.object_id) == ("create", user.email, supplier.id)
    assert event.changes["corporate_number"] == "1180301018771"
    page = auth.client.get(response.headers["Location"], headers=JA).get_data(as_text=True)
    assert "株式会社みなと情報サービス" in page and "基幹システムの運用保守" in page


def test_full_width_corporate_number_is_normalised(auth, ctx):
    auth.login(Role.procurement)
    response = auth.client.post(
        "/suppliers/new", data=VALID | {"corporate_number": "１１８０３０１０１８７７１"}
    )
    assert response.status_code == 302
    assert _supplier(ctx, name_ja=VALID["name_ja"]).corporate_number == "1180301018771"


def test_digits_of_other_scripts_are_not_a_corporate_number(auth, ctx):
    auth.login(Role.procurement)
    arabic = "".join(chr(0x0660 + int(d)) for d in "1180301018771")
    response = auth.client.post("/suppliers/new", data=VALID | {"corporate_number": arabic})
    assert response.status_code == 200
    assert _supplier(ctx, name_ja=VALID["name_ja"]) is None


@pytest.mark.parametrize(
    "query",
    [
        "category=bogus",
        "status=x",
        "criticality=zzz",
        "owner=abc",
        "sort=evil",
        "page=-3",
        "owner=99999",
    ],
)
def test_unknown_filter_values_are_ignored_not_an_error(auth, make_supplier, query):
    make_supplier()
    auth.login(Role.procurement)
    response = auth.client.get(f"/suppliers/?{query}", headers=EN)
    assert response.status_code == 200
    assert "1 suppliers found" in response.get_data(as_text=True)


def test_an_unknown_attestation_kind_is_refused_not_an_error(auth, make_supplier):
    supplier = make_supplier()
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/attestations/new", data={"kind": "bogus"}, headers=EN
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_an_inactive_owner_is_kept_when_the_supplier_is_edited(auth, make_user, make_supplier, ctx):
    former = make_user(Role.procurement, active=False, name="退職 済")
    supplier = make_supplier(owner_id=former.id)
    auth.login(Role.procurement)
    page = auth.client.get(f"/suppliers/{supplier.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{former.id}">' in page
    data = VALID | {"name_ja": supplier.name_ja, "owner_id": str(former.id)}
    assert auth.client.post(f"/suppliers/{supplier.id}/edit", data=data).status_code == 302
    assert _supplier(ctx, id=supplier.id).owner_id == former.id


@pytest.mark.parametrize(
    "headers,message",
    [
        (EN, "This is not a valid corporate number"),
        (JA, "法人番号"),
    ],
)
def test_a_bad_corporate_number_is_explained_in_the_users_language_and_keeps_the_input(
    auth, ctx, headers, message
):
    auth.login(Role.procurement)
    response = auth.client.post(
        "/suppliers/new", data=VALID | {"corporate_number": "2180301018771"}, headers=headers
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'value="株式会社みなと情報サービス"' in page  # nothing typed is lost
    assert _supplier(ctx, name_ja=VALID["name_ja"]) is None


def test_a_duplicate_corporate_number_is_refused(auth, make_supplier):
    make_supplier(corporate_number="1180301018771")
    auth.login(Role.procurement)
    response = auth.client.post("/suppliers/new", data=VALID, headers=EN)
    assert "Another supplier already has this corporate number." in response.get_data(as_text=True)


def test_foreign_suppliers_need_no_corporate_number(auth, ctx):
    auth.login(Role.procurement)
    data = VALID | {"corporate_number": "", "country": "us", "name_ja": "Acme Cloud Inc."}
    assert auth.client.post("/suppliers/new", data=data).status_code == 302
    supplier = _supplier(ctx, name_ja="Acme Cloud Inc.")
    assert supplier.corporate_number is None and supplier.country == "US"


def test_changes_are_audited_field_by_field(auth, make_supplier, ctx):
    supplier = make_supplier(criticality="low")
    auth.login(Role.procurement)
    data = VALID | {"name_ja": supplier.name_ja, "criticality": "critical"}
    assert auth.client.post(f"/suppliers/{supplier.id}/edit", data=data).status_code == 302
    with ctx() as session:
        event = session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.action == "update", AuditEvent.object_type == "suppliers"
            )
        )
    assert event.changes["criticality"] == ["low", "critical"]
    assert event.supplier_id == supplier.id


def test_delete_removes_everything_and_keeps_the_record(
    app, auth, make_supplier, make_contact, ctx
):
    supplier = make_supplier()
    make_contact(supplier)
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/attestations/new",
        data=ISMS | {"evidence": (io.BytesIO(_pdf()), "cert.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with ctx() as session:
        stored = session.scalar(sa.select(StoredFile))
    path = Path(app.config["UPLOAD_DIR"]) / stored.storage_key
    assert path.exists()
    assert auth.client.post(f"/suppliers/{supplier.id}/delete").status_code == 302
    assert not path.exists()
    assert auth.client.get(f"/suppliers/files/{stored.id}").status_code == 404
    with ctx() as session:
        assert session.get(Supplier, supplier.id) is None
        assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0
        actions = set(
            session.scalars(sa.select(AuditEvent.object_type).where(AuditEvent.action == "delete"))
        )
    assert actions == {"suppliers", "contacts", "attestations", "stored_files"}


def test_a_replaced_evidence_file_is_removed(app, auth, make_supplier, ctx):
    supplier = make_supplier()
    auth.login(Role.procurement)
    url = f"/suppliers/{supplier.id}/attestations/new?kind=isms"
    auth.client.post(
        url,
        data=ISMS | {"evidence": (io.BytesIO(_pdf()), "old.pdf")},
        content_type="multipart/form-data",
    )
    with ctx() as session:
        attestation = session.scalar(sa.select(Attestation))
        old = attestation.evidence
    edit = f"/suppliers/{supplier.id}/attestations/{attestation.id}/edit"
    response = auth.client.post(
        edit,
        data=ISMS | {"evidence": (io.BytesIO(_pdf()), "new.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with ctx() as session:
        names = session.scalars(sa.select(StoredFile.original_name)).all()
    assert names == ["new.pdf"]
    assert not (Path(app.config["UPLOAD_DIR"]) / old.storage_key).exists()


def test_contacts_one_primary_and_unique_email(auth, make_supplier, ctx):
    supplier = make_supplier()
    auth.login(Role.procurement)
    url = f"/suppliers/{supplier.id}/contacts/new"
    first = {"name": "佐藤 花子", "email": "Sato@Example.jp", "locale": "ja", "is_primary": "y"}
    second = {"name": "John Smith", "email": "john@example.com", "locale": "en", "is_primary": "y"}
    assert auth.client.post(url, data=first).status_code == 302
    assert auth.client.post(url, data=second).status_code == 302
    response = auth.client.post(url, data=first | {"name": "Other"}, headers=EN)
    assert "already has a contact with this email address" in response.get_data(as_text=True)
    with ctx() as session:
        contacts = session.scalars(sa.select(Contact).order_by(Contact.id)).all()
    assert [(c.email, c.is_primary) for c in contacts] == [
        ("sato@example.jp", False),
        ("john@example.com", True),
    ]


def test_contract_clause_checklist(auth, make_supplier, ctx, today):
    supplier = make_supplier()
    auth.login(Role.procurement)
    url = f"/suppliers/{supplier.id}/contracts/new"
    data = {
        "title": "業務委託基本契約",
        "starts_on": (today - timedelta(days=600)).isoformat(),
        "ends_on": (today + timedelta(days=480)).isoformat(),  # in force today
        "clause_security_requirements": "y",
        "clause_incident_notification": "y",
        "incident_notification_hours": "24",
        "clause_audit_rights": "y",
    }
    assert auth.client.post(url, data=data).status_code == 302
    with ctx() as session:
        contract = session.scalar(sa.select(Contract))
        assert contract.clause_count == 3 and contract.incident_notification_hours == 24
    bad = data | {"ends_on": (today - timedelta(days=700)).isoformat()}
    response = auth.client.post(url, data=bad, headers=EN)
    assert "The end date is before the start date." in response.get_data(as_text=True)
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert "Clause coverage of the contract in force: 3 of 7" in page


@pytest.mark.parametrize(
    "data,field_error",
    [
        (
            {
                "kind": "security_action",
                "level": "star1",
                "identifier": "12345",
                "issued_on": "2025-01-10",
            },
            "11 digits starting with 4 or 5",
        ),
        (
            {"kind": "security_action", "identifier": "50000228580", "issued_on": "2025-01-10"},
            "Required for SECURITY ACTION",
        ),
        (
            {"kind": "isms", "identifier": "IS 123456", "issuer": "JQA"},
            "Required for ISMS certification",
        ),
        (
            {
                "kind": "cyber_insurance",
                "issuer": "はるかぜ損保",
                "identifier": "P-1",
                "coverage_limit_jpy": "0",
                "expires_on": "2027-01-01",
            },
            "Number must be at least 1",
        ),
    ],
)
def test_attestations_are_checked_per_kind(auth, make_supplier, data, field_error):
    supplier = make_supplier()
    auth.login(Role.procurement)
    response = auth.client.post(f"/suppliers/{supplier.id}/attestations/new", data=data, headers=EN)
    assert response.status_code == 200
    assert field_error in response.get_data(as_text=True)


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


ISMS = {
    "kind": "isms",
    "identifier": "IS 654321",
    "issuer": "一般財団法人日本品質保証機構",
    "scope": "データセンター運用",
    "issued_on": "2024-04-01",
    "expires_on": "2027-03-31",
}


def test_evidence_is_stored_outside_the_web_root_and_served_as_an_attachment(
    app, auth, make_supplier, ctx
):
    supplier = make_supplier()
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/attestations/new",
        data=ISMS | {"evidence": (io.BytesIO(_pdf()), "../../登録証.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with ctx() as session:
        stored = session.scalar(sa.select(StoredFile))
        attestation = session.scalar(sa.select(Attestation))
    assert attestation.evidence_id == stored.id
    assert stored.original_name == "登録証.pdf" and stored.content_type == "application/pdf"
    path = Path(app.config["UPLOAD_DIR"]) / stored.storage_key
    assert path.read_bytes() == _pdf()
    assert not str(path.resolve()).startswith(str((BASE_DIR / "vendorrisk").resolve()))
    assert len(stored.storage_key) >= 32 and "登録証" not in os.listdir(path.parent)[0]
    download = auth.client.get(f"/suppliers/files/{stored.id}")
    assert download.data == _pdf()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download.close()
    anonymous = app.test_client().get(f"/suppliers/files/{stored.id}")
    assert anonymous.status_code == 302  # not logged in


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"MZ\x90\x00 this is a windows executable", "certificate.pdf", "does not match its name"),
        (_pdf(), "certificate.exe", "This type of file is not accepted"),
        (b"", "empty.pdf", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n....", "scan.jpg", "does not match its name"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_saved(
    auth, make_supplier, ctx, content, name, message
):
    supplier = make_supplier()
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/attestations/new",
        data=ISMS | {"evidence": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=EN,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert 'value="IS 654321"' in page
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Attestation)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0


def test_office_files_are_recognised_by_content(auth, make_supplier, ctx):
    supplier = make_supplier()
    auth.login(Role.procurement)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/attestations/new",
        data=ISMS | {"evidence": (io.BytesIO(_xlsx()), "scope.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def test_child_of_another_supplier_is_not_reachable(auth, make_supplier, make_contact):
    first, second = make_supplier(), make_supplier()
    contact = make_contact(first)
    auth.login(Role.procurement)
    assert auth.client.get(f"/suppliers/{second.id}/contacts/{contact.id}/edit").status_code == 404
    assert (
        auth.client.post(f"/suppliers/{second.id}/contacts/{contact.id}/delete").status_code == 404
    )


def test_supplier_page_shows_everything_at_a_glance(
    auth, make_supplier, make_contact, make_contract, make_attestation, today
):
    supplier = make_supplier(name_ja="株式会社さくらクラウド", has_admin_access=True)
    make_contact(supplier, name="田中 一郎")
    make_contract(supplier, title="クラウド利用契約", clause_audit_rights=True)
    make_attestation(supplier)
    make_attestation(
        supplier,
        kind="cyber_insurance",
        level=None,
        issuer="はるかぜ損害保険",
        identifier="CY-1",
        coverage_limit_jpy=100_000_000,
        expires_on=today - timedelta(days=1),  # the app's day, not the calendar's
    )
    auth.login(Role.auditor)
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=JA).get_data(as_text=True)
    for text in (
        "株式会社さくらクラウド",
        "田中 一郎",
        "クラウド利用契約",
        "50000228580",
        "二つ星",
        "はるかぜ損害保険",
        "¥100,000,000",
        "期限切れ",
    ):
        assert text in page, text
    assert "/edit" not in page  # the auditor sees no edit links


def _bulk(ctx, n: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "name_ja": f"取引先{i:05d}",
            "name_en": f"Supplier {i:05d}",
            "category": list(SupplierCategory)[i % 5].value,
            "status": "active",
            "criticality": ["low", "medium", "high", "critical"][i % 4],
            "services": "",
            "country": "JP",
            "website": "",
            "notes": "",
            "shares_personal_info": False,
            "shares_confidential_info": False,
            "has_network_access": False,
            "has_admin_access": False,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(n)
    ]
    with ctx() as session:
        session.execute(sa.insert(Supplier), rows)
        session.commit()


def test_list_filters_search_sort_and_pages(auth, ctx, make_supplier):
    _bulk(ctx, 120)
    make_supplier(
        name_ja="株式会社100%テスト",
        corporate_number="1180301018771",
        category="cloud_service",
        criticality="critical",
    )
    auth.login(Role.reviewer)
    page = auth.client.get("/suppliers/?q=1180301", headers=EN).get_data(as_text=True)
    assert "株式会社100%テスト" in page and "1 suppliers found" in page
    page = auth.client.get("/suppliers/?q=100%25", headers=EN).get_data(as_text=True)
    assert "1 suppliers found" in page  # % is a character, not a wildcard
    page = auth.client.get(
        "/suppliers/?category=cloud_service&criticality=critical", headers=EN
    ).get_data(as_text=True)
    assert "7 suppliers found" in page
    page = auth.client.get("/suppliers/?sort=-name&page=3", headers=EN).get_data(as_text=True)
    assert "Page 3 of 3" in page and "取引先00020" in page and "取引先00019" in page


@pytest.mark.parametrize("n", [30, 3000])
def test_the_list_takes_a_fixed_number_of_queries(auth, ctx, count_queries, n, request):
    _bulk(ctx, n)
    auth.login(Role.procurement)
    with count_queries() as counter:
        response = auth.client.get("/suppliers/?sort=criticality&page=1")
    assert response.status_code == 200
    request.config.cache.set(f"vendorrisk/list-queries/{n}", counter.count)
    # session + the user's business units (scoping.py) + owner list + the groups (suppliers
    # with one below them, the group filter's choices) + the figures' data version (the count
    # is kept under it) + count + one page of suppliers with their owners + the SCS scheme
    # settings (whether a level below the one asked is a shortfall yet)
    assert counter.count == 8, counter.statements
    with count_queries() as again:  # the count kept: read from this worker, not counted again
        assert auth.client.get("/suppliers/?sort=-criticality&page=2").status_code == 200
    assert again.count == 7 and not [s for s in again.statements if "count(*)" in s]


def test_the_attestation_form_shows_only_the_fields_of_its_kind(auth, make_supplier, ctx):
    supplier = make_supplier()
    auth.login(Role.procurement)
    page = auth.client.get(
        f"/suppliers/{supplier.id}/attestations/new?kind=cyber_insurance", headers=EN
    ).get_data(as_text=True)
    assert 'name="coverage_limit_jpy"' in page and 'name="level"' not in page
    assert '<input type="hidden" name="kind" value="cyber_insurance">' in page
    # A value posted for a field that does not belong to the kind is not kept.
    data = {
        "kind": "security_action",
        "level": "star1",
        "identifier": "41234567890",
        "issued_on": "2025-01-10",
        "scope": "stray",
        "coverage_limit_jpy": "5",
    }
    url = f"/suppliers/{supplier.id}/attestations/new?kind=security_action"
    assert auth.client.post(url, data=data).status_code == 302
    with ctx() as session:
        saved = session.scalar(sa.select(Attestation))
    assert (saved.scope, saved.coverage_limit_jpy, saved.level.value) == ("", None, "star1")


def test_the_dashboard_lists_due_re_checks_that_cannot_be_sent(auth, make_supplier, make_contact):
    from datetime import date as _date

    stranded = make_supplier(name_en="No Contact KK", next_review_on=_date(2020, 1, 1))
    reachable = make_supplier(name_en="Has Contact KK", next_review_on=_date(2020, 1, 1))
    make_contact(reachable)
    auth.login(Role.procurement)
    page = auth.client.get("/", headers=EN).get_data(as_text=True)
    assert "Re-checks due that cannot be sent: no contact" in page
    assert "No Contact KK" in page and "Has Contact KK" not in page
    assert f"/suppliers/{stranded.id}#contacts" in page
