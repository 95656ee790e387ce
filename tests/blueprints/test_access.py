"""Every route states who may use it, and each role gets exactly what its rule says."""

from __future__ import annotations

import pytest

from tests.factories import make_assessment, make_finding, make_invitation
from vendorrisk.access import PASSWORD_CHANGE_ENDPOINTS, AccessRule
from vendorrisk.blueprints.auth.second_factor import SELF_SERVICE_ENDPOINTS
from vendorrisk.extensions import db
from vendorrisk.models import (
    Clarification,
    OutboxMessage,
    Role,
    Severity,
)

#: Routes a user may POST to whatever the role: they change only the user's own login.
SELF_SERVICE = PASSWORD_CHANGE_ENDPOINTS | SELF_SERVICE_ENDPOINTS


def _rules(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        yield rule, getattr(view, "access_rule", None)


def test_every_route_declares_its_access_rule(app):
    missing = [rule.rule for rule, access in _rules(app) if not isinstance(access, AccessRule)]
    assert missing == []


def test_auditor_may_change_nothing(app):
    for rule, access in _rules(app):
        if access.public or rule.endpoint in SELF_SERVICE:
            continue
        assert Role.auditor not in access.write, rule.rule


def test_a_route_without_a_rule_is_refused(tmp_path_factory):
    from tests.conftest import build_app

    fresh = build_app(tmp_path_factory)

    @fresh.route("/__undeclared")
    def undeclared():
        return "should never be served"

    response = fresh.test_client().get("/__undeclared")
    assert response.status_code == 403
    assert "should never be served" not in response.get_data(as_text=True)
    with fresh.app_context():  # the refusal was audited through this app's own pool
        db.engine.dispose()


@pytest.fixture
def world(make_supplier, make_contact, make_contract, make_attestation, make_user, app):
    supplier = make_supplier()
    owner = make_user(Role.procurement)
    with app.app_context():
        assessment = make_assessment(supplier)
        invitation = make_invitation(assessment, token_hash="0" * 64)
        message = OutboxMessage(
            recipient="x@example.jp",
            subject="s",
            body_text="b",
            kind="test",
            dedupe_key="access-test",
        )
        clarification = Clarification(assessment_id=assessment.id, question_id="sup-d1-01")
        finding = make_finding(
            supplier, assessment_id=assessment.id, title="t", severity=Severity.low
        )
        db.session.add_all([clarification, message])
        db.session.commit()
        ids = (assessment.id, invitation.id, message.id, clarification.id, finding.id)
        db.session.remove()
    return {
        "assessment_id": ids[0],
        "invitation_id": ids[1],
        "message_id": ids[2],
        "clarification_id": ids[3],
        "finding_id": ids[4],
        "token": "t" * 43,
        "job_id": "expire-links",
        "fmt": "csv",
        "section_id": "d1",
        "supplier_id": supplier.id,
        "contact_id": make_contact(supplier).id,
        "contract_id": make_contract(supplier).id,
        "attestation_id": make_attestation(supplier).id,
        "proposal_id": 999999,
        "cover_id": 999999,
        "child_id": make_contact(supplier, email="other@example.jp").id,
        "kind": "contacts",
        "user_id": owner.id,
        "file_id": 999999,
        "template_id": "csm-v2-supplier",
        "filename": "app.css",
        "cycle_id": 999999,
        "question_id": "int-d1-01",
        "subscription_id": 999999,
        "delivery_id": 999999,
    }


def _urls(app, world):
    for rule, access in _rules(app):
        url = rule.build({arg: world[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, url, method, access


@pytest.mark.parametrize("role", list(Role))
def test_each_role_against_each_route(app, auth, world, role):
    auth.login(role)
    checked = 0
    for endpoint, url, method, access in _urls(app, world):
        if endpoint == "auth.logout":
            continue
        response = auth.client.open(url, method=method)
        response.close()
        assert response.status_code < 500, (role, method, url)
        allowed = access.allows(role, method)
        if allowed:
            assert response.status_code != 403, (role, method, url)
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)
        checked += 1
    assert checked > 25


def test_anonymous_is_sent_to_login_except_on_public_routes(app, client, world):
    for _endpoint, url, method, access in _urls(app, world):
        response = client.open(url, method=method)
        response.close()
        if access.portal:
            assert response.status_code == 403, url  # a sitting is needed, not a login
        elif access.public:
            assert response.status_code not in (401, 403), url
        else:
            assert response.status_code == 302, (method, url)
            assert "/auth/login" in response.headers["Location"]
