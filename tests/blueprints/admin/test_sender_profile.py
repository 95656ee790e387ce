"""The sender profile on the settings page: admins keep who writes to suppliers, validated,
audited and safe against a second admin saving at the same time; the letters show it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, csrf_token_from
from tests.conftest import strict_app as conftest_strict_app
from vendorrisk.extensions import db
from vendorrisk.mail import sender
from vendorrisk.models import AuditEvent, Role, Setting, User
from vendorrisk.services.users import accounts

EN = {"Accept-Language": "en"}
JA = {"Accept-Language": "ja"}
PROFILE = {
    "company_ja": "サンプル商事株式会社",
    "company_en": "Sample Trading Co., Ltd.",
    "department_ja": "調達部",
    "department_en": "Procurement Department",
    "person_ja": "田中 一郎",
    "person_en": "Ichiro Tanaka",
    "phone": "+81 (3) 1234-5678",
    "email": "procurement@sample.co.jp",
    "announcement_url": "https://www.sample.co.jp/supplier-security",
}


def _form(client, **changes: str) -> dict[str, str]:
    """The sender form as the page shows it (with its fingerprint), with PROFILE and `changes`."""
    page = client.get("/admin/settings", headers=EN).get_data(as_text=True)
    seen = re.search(r'name="sender-seen"[^>]*value="([^"]*)"', page)
    data = {f"sender-{name}": value for name, value in (PROFILE | changes).items()}
    return data | {"which": "sender", "sender-seen": seen.group(1) if seen else ""}


def _stored(app) -> dict | None:
    with app.app_context():
        row = db.session.get(Setting, sender.KEY)
        value = dict(row.value) if row else None
        db.session.remove()
        return value


def test_an_admin_saves_the_profile_and_every_letter_signs_with_it(app, client, auth):
    auth.login(Role.admin)
    response = client.post("/admin/settings", data=_form(client), headers=EN)
    assert response.status_code == 302 and response.location.endswith("/admin/settings#sender")
    assert _stored(app) == PROFILE
    page = client.get("/admin/settings", headers=EN).get_data(as_text=True)
    assert "The sender profile has been saved" in page
    assert 'value="https://www.sample.co.jp/supplier-security"' in page
    with app.app_context():
        english, japanese = sender.sender("en"), sender.sender("ja")
        assert english.signature_lines == [
            "Sample Trading Co., Ltd.",
            "Procurement Department",
            "Ichiro Tanaka",
            "TEL: +81 (3) 1234-5678",
            "E-mail: procurement@sample.co.jp",
        ]
        assert (japanese.company, japanese.person) == ("サンプル商事株式会社", "田中 一郎")
        audit = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.changes).where(
                AuditEvent.object_type == "settings"
            )
        ).all()
        db.session.remove()
    assert [tuple(a) for a in audit] == [("create", {"key": "sender_profile", "value": PROFILE})]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "phone",
            "03-1234-5678 内線12",
            "数字、ハイフン、+、かっこ、スペースのみで入力してください。",
        ),
        ("phone", "tel:0312345678", "数字、ハイフン、+、かっこ、スペースのみで入力してください。"),
        (
            "email",
            "procurement@",
            "メールアドレスの形式が正しくありません。",
        ),
        ("announcement_url", "http://www.sample.co.jp/supplier-security", "https://"),
        ("announcement_url", "javascript:alert(1)", "https://"),
        ("company_ja", "", "このフィールドは必須です。"),
    ],
)
def test_a_bad_value_is_refused_in_the_users_language(app, client, auth, field, value, message):
    auth.login(Role.admin, locale="ja")
    response = client.post("/admin/settings", data=_form(client, **{field: value}), headers=JA)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "以下の項目を修正してください。" in page
    assert _stored(app) is None


def test_a_stale_form_does_not_overwrite_what_another_admin_saved(app, client, auth):
    auth.login(Role.admin)
    stale = _form(client)
    assert (
        client.post("/admin/settings", data=_form(client, phone="03-0000-0000")).status_code == 302
    )
    response = client.post("/admin/settings", data=stale, headers=EN, follow_redirects=True)
    assert "Someone else saved these settings" in response.get_data(as_text=True)
    assert _stored(app)["phone"] == "03-0000-0000"


@pytest.mark.parametrize("role", [Role.procurement, Role.ciso, Role.auditor])
def test_only_an_admin_may_change_it(app, client, auth, role):
    auth.login(role)
    data = {f"sender-{k}": v for k, v in PROFILE.items()} | {"which": "sender"}
    assert client.post("/admin/settings", data=data).status_code == 403
    assert _stored(app) is None


@pytest.fixture
def csrf_app(tmp_path_factory):  # per test: its tables are emptied before the next test runs
    with conftest_strict_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as app:
        yield app


def test_a_post_without_the_forms_csrf_token_is_refused(csrf_app):
    with csrf_app.app_context():
        db.session.add(
            User(
                email="csrf-admin@sample.co.jp",
                name="Admin",
                role=Role.admin,
                password_hash=accounts.hash_password(PASSWORD),
                must_change_password=False,
            )
        )
        db.session.commit()
        db.session.remove()
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
    login = {"email": "csrf-admin@sample.co.jp", "password": PASSWORD, "csrf_token": token}
    assert client.post("/auth/login", data=login).status_code == 302
    data = _form(client)
    assert client.post("/admin/settings", data=data).status_code == 400
    page = client.get("/admin/settings", headers=EN).get_data(as_text=True)
    sender_form = next(f for f in page.split("<form")[1:] if 'value="sender"' in f)
    data["sender-csrf_token"] = csrf_token_from(
        sender_form.replace("sender-csrf_token", "csrf_token")
    )
    assert client.post("/admin/settings", data=data).status_code == 302
    assert _stored(csrf_app) == PROFILE


def test_the_send_page_warns_until_the_profile_is_set(app, client, auth, make_supplier):
    supplier = make_supplier()
    auth.login(Role.procurement)
    warning = "The sender profile is not set"
    page = client.get(f"/suppliers/{supplier.id}/send", headers=EN).get_data(as_text=True)
    assert warning in page and "Please ask an administrator" in page
    japanese = client.get(f"/suppliers/{supplier.id}/send", headers=JA).get_data(as_text=True)
    assert "依頼元が設定されていません" in japanese
    with app.app_context():
        sender.save(PROFILE)
        db.session.commit()
    page = client.get(f"/suppliers/{supplier.id}/send", headers=EN).get_data(as_text=True)
    assert warning not in page
