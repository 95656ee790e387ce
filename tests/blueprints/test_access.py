"""Every route states who may use it, and each role gets exactly what its rule says."""

from __future__ import annotations

import pytest

from vendorrisk.access import PASSWORD_CHANGE_ENDPOINTS, AccessRule
from vendorrisk.blueprints.auth.second_factor import SELF_SERVICE_ENDPOINTS
from vendorrisk.extensions import db
from vendorrisk.models import (
    Role,
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


def _api_headers(app, user) -> dict[str, str]:
    """A write token of `user`: the API takes no session cookie, only a bearer token."""
    from datetime import timedelta

    from vendorrisk import clock
    from vendorrisk.models import User
    from vendorrisk.services.users import tokens

    with app.app_context():
        owner = db.session.get(User, user.id)
        now = clock.now()
        _row, token = tokens.issue(owner, "access", "write", now + timedelta(days=1), owner, now)
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def _is_api(url: str) -> bool:
    return url.startswith("/api/")


def _urls(app, world):
    for rule, access in _rules(app):
        url = rule.build({arg: world[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, url, method, access


@pytest.mark.parametrize("role", list(Role))
def test_each_role_against_each_route(app, auth, world, role):
    user = auth.login(role)
    api_headers = _api_headers(app, user)
    checked = 0
    for endpoint, url, method, access in _urls(app, world):
        if endpoint == "auth.logout":
            continue
        headers = api_headers if _is_api(url) else {}
        response = auth.client.open(url, method=method, headers=headers)
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
        elif _is_api(url):
            assert response.status_code == 401, (method, url)  # no token: no login page
        else:
            assert response.status_code == 302, (method, url)
            assert "/auth/login" in response.headers["Location"]
