"""Scoped access by business unit (部門): the route × role matrix with a second unit.

The world of test_access.py belongs to unit B. Procurement and reviewers of unit A get 404 at
every URL naming one of its objects — exactly as for an object that does not exist — and each
such attempt is in the audit log; admin, CISO and auditor (no unit of their own) see it all."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.blueprints.test_access import _api_headers, _is_api, _urls
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, BusinessUnit, Role, Supplier, UnitMembership

#: URL arguments naming an object of the world that really exists (the others are made up).
REAL_OBJECTS = {
    "supplier_id",
    "assessment_id",
    "finding_id",
    "contact_id",
    "contract_id",
    "attestation_id",
    "clarification_id",
    "invitation_id",
    "child_id",
}
SCOPED_ROLES = [Role.procurement, Role.reviewer]


@pytest.fixture
def units(app, world):
    with app.app_context():
        a = BusinessUnit(code="JP-EAST", name="東日本調達部", name_en="East Japan procurement")
        b = BusinessUnit(code="SUB-TW", name="台湾子会社", name_en="Taiwan subsidiary")
        db.session.add_all([a, b])
        db.session.flush()
        db.session.get(Supplier, world["supplier_id"]).unit_id = b.id
        db.session.commit()
        ids = a.id, b.id
        db.session.remove()
    return ids


def _join(app, user, unit_id):
    with app.app_context():
        db.session.add(UnitMembership(user_id=user.id, unit_id=unit_id))
        db.session.commit()
        db.session.remove()


def _object_urls(app, world):
    for endpoint, url, method, access in _urls(app, world):
        rule = next(r for r in app.url_map.iter_rules(endpoint))
        if rule.arguments & REAL_OBJECTS and not access.public and not access.portal:
            yield endpoint, url, method, access


def _out_of_scope_events(app, user_id):
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.summary, AuditEvent.changes).where(
                AuditEvent.action == "out_of_scope", AuditEvent.actor_user_id == user_id
            )
        ).all()
        db.session.remove()
    return rows


@pytest.mark.parametrize("role", SCOPED_ROLES)
def test_another_units_objects_are_not_found_and_the_attempt_is_audited(
    app,
    auth,
    world,
    units,
    role,
):
    user = auth.login(role)
    _join(app, user, units[0])
    token = _api_headers(app, user)  # the API answers the same, to the same user's token
    refused = 0
    for endpoint, url, method, access in _object_urls(app, world):
        if not access.allows(role, method) or endpoint == "auth.logout":
            continue
        headers = token if _is_api(url) else {}
        response = auth.client.open(url, method=method, headers=headers)
        response.close()
        assert response.status_code == 404, (role, method, url, response.status_code)
        refused += 1
    assert refused > 10
    assert len(_out_of_scope_events(app, user.id)) >= refused // 2  # one a route and minute


@pytest.mark.parametrize("role", SCOPED_ROLES)
def test_a_units_own_member_sees_its_suppliers(app, auth, world, units, role):
    user = auth.login(role)
    _join(app, user, units[1])
    for path in (
        f"/suppliers/{world['supplier_id']}",
        f"/assessments/{world['assessment_id']}",
    ):
        assert auth.client.get(path).status_code == 200, path
    assert _out_of_scope_events(app, user.id) == []


@pytest.mark.parametrize("role", [Role.admin, Role.ciso, Role.auditor])
def test_company_wide_roles_see_every_unit(app, auth, world, units, role):
    auth.login(role)
    for path in (
        f"/suppliers/{world['supplier_id']}",
        f"/assessments/{world['assessment_id']}",
    ):
        assert auth.client.get(path).status_code == 200, path


def test_a_ciso_given_units_sees_those_only(app, auth, world, units):
    user = auth.login(Role.ciso)
    _join(app, user, units[0])
    assert auth.client.get(f"/suppliers/{world['supplier_id']}").status_code == 404


def test_lists_exports_and_the_rollup_hold_only_the_units_suppliers(
    app, auth, make_supplier, make_user, units, today
):
    from flask_login import login_user

    from vendorrisk.services.reporting import rollup
    from vendorrisk.services.reporting.scope import Scope

    mine = make_supplier(name_ja="株式会社自部門", unit_id=units[0])
    theirs = make_supplier(name_ja="株式会社他部門", unit_id=units[1])
    shared = make_supplier(name_ja="株式会社全社共通")
    user = auth.login(Role.procurement)
    _join(app, user, units[0])
    listed = auth.client.get("/suppliers/?q=株式会社").get_data(as_text=True)
    exported = auth.client.get("/suppliers/export.csv").get_data(as_text=True)
    for page in (listed, exported):
        assert mine.name_ja in page and shared.name_ja in page
        assert theirs.name_ja not in page

    def tier_total(who) -> int:
        with app.test_request_context("/rollup"):
            login_user(who)
            return rollup.compute(today, Scope()).tiers.total.value

    ciso = make_user(Role.ciso)
    with app.app_context():
        everyone = db.session.scalar(
            sa.select(sa.func.count(Supplier.id)).where(Supplier.status != "offboarded")
        )
        db.session.remove()
    assert tier_total(ciso) == everyone
    assert tier_total(user) == everyone - 2  # the world's supplier and `theirs` are unit B's


def test_an_admin_creates_units_and_gives_a_user_hers(app, auth, make_user):
    procurement = make_user(Role.procurement)
    auth.login(Role.admin)
    response = auth.client.post(
        "/admin/units",
        data={"code": "JP-WEST", "name": "西日本調達部", "name_en": "West Japan", "active": "y"},
    )
    assert response.status_code == 302
    twice = auth.client.post(
        "/admin/units",
        data={"code": "jp-west", "name": "重複"},
        headers={"Accept-Language": "en"},
    )
    assert "Another business unit already has this code." in twice.get_data(as_text=True)
    with app.app_context():
        unit = db.session.scalar(sa.select(BusinessUnit).where(BusinessUnit.code == "JP-WEST"))
        assert unit.name_en == "West Japan"
        unit_id = unit.id
        db.session.remove()
    edit = auth.client.get(f"/admin/users/{procurement.id}", headers={"Accept-Language": "en"})
    assert "JP-WEST West Japan" in edit.get_data(as_text=True)
    saved = auth.client.post(
        f"/admin/users/{procurement.id}",
        data={"name": "P", "role": "procurement", "locale": "", "active": "y", "units": [unit_id]},
    )
    assert saved.status_code == 302
    with app.app_context():
        members = db.session.scalars(
            sa.select(UnitMembership.unit_id).where(UnitMembership.user_id == procurement.id)
        ).all()
        logged = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.object_type == "unit_memberships", AuditEvent.action == "create"
            )
        )
        db.session.remove()
    assert members == [unit_id] and logged >= 1


def test_a_scoped_user_files_a_supplier_only_under_her_units(app, auth, units):
    user = auth.login(Role.procurement)
    _join(app, user, units[0])
    page = auth.client.get("/suppliers/new", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert "JP-EAST" in text and "SUB-TW" not in text
    base = {"name_ja": "株式会社部門テスト", "category": "other", "status": "active"}
    base |= {"criticality": "medium", "country": "JP", "max_outage": "weeks"}
    base |= {"replaceability": "moderate", "owner_id": str(user.id)}
    refused = auth.client.post("/suppliers/new", data=base | {"unit_id": str(units[1])})
    assert refused.status_code == 200  # the form again: not a choice
    created = auth.client.post("/suppliers/new", data=base | {"unit_id": str(units[0])})
    assert created.status_code == 302
    with app.app_context():
        supplier = db.session.scalar(sa.select(Supplier).where(Supplier.name_ja == base["name_ja"]))
        assert supplier.unit_id == units[0]
        db.session.remove()


def test_a_procurement_user_of_no_unit_sees_only_the_whole_companys_suppliers(
    auth, make_supplier, world, units
):
    shared = make_supplier(name_ja="株式会社全社")
    auth.login(Role.procurement)
    assert auth.client.get(f"/suppliers/{shared.id}").status_code == 200
    assert auth.client.get(f"/suppliers/{world['supplier_id']}").status_code == 404


def test_a_new_supplier_of_a_one_unit_user_is_filed_under_that_unit_by_default(app, auth, units):
    user = auth.login(Role.procurement)
    _join(app, user, units[0])
    page = auth.client.get("/suppliers/new").get_data(as_text=True)
    assert f'<option selected value="{units[0]}">' in page
