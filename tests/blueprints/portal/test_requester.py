"""The portal names the requester (依頼元) and its error pages offer what a supplier can do:
contact the requester, never a staff link (a supplier has no dashboard and no login)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import strict_app
from tests.factories import make_assessment, make_invitation
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.mail import sender
from vendorrisk.models import Contact, Invitation, Supplier, SupplierCategory
from vendorrisk.models.mixins import hash_token

TOKEN = "requester-portal-token-" + "r" * 30
PROFILE = {
    "company_ja": "サンプル商事株式会社",
    "company_en": "Sample Trading Co., Ltd.",
    "department_ja": "調達部",
    "department_en": "Procurement Department",
    "person_ja": "田中 一郎",
    "person_en": "Ichiro Tanaka",
    "phone": "03-1234-5678",
    "email": "procurement@sample.co.jp",
    "announcement_url": "https://www.sample.co.jp/supplier-security",
}
STAFF_LINKS = ('href="/"', "/dashboard", "/auth/login")


def _link(app, supplier, contact, today, profile=PROFILE) -> str:
    """An open assessment of the supplier questionnaire, the sender profile, and the link."""
    with app.app_context():
        if profile:
            sender.save(profile)
        assessment = make_assessment(supplier, due_on=today + timedelta(days=30))
        make_invitation(
            assessment,
            contact,
            token_hash=hash_token(TOKEN),
            expires_at=datetime.combine(today + timedelta(days=60), time(), UTC),
        )
        db.session.commit()
        db.session.remove()
    return f"/portal/{TOKEN}"


@pytest.fixture
def link(app, make_supplier, make_contact, today):
    supplier = make_supplier(name_ja="潮騒ソフトウェア株式会社")
    return _link(app, supplier, make_contact(supplier, email="shimizu@example.jp"), today)


def _open(app, link: str, lang: str):
    client = app.test_client()
    response = client.post(link, data={"lang": lang})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/q/"
    return client


def _has_no_staff_link(html: str) -> None:
    for staff in STAFF_LINKS:
        assert staff not in html, staff
    assert "ダッシュボード" not in html and "dashboard" not in html.lower()


@pytest.mark.parametrize(
    ("lang", "company", "department", "person", "heading"),
    [
        ("ja", "サンプル商事株式会社", "調達部", "田中 一郎", "依頼元"),
        (
            "en",
            "Sample Trading Co., Ltd.",
            "Procurement Department",
            "Ichiro Tanaka",
            "Requested by",
        ),
    ],
)
def test_the_landing_page_and_the_overview_name_the_requester(
    app, link, lang, company, department, person, heading
):
    landing = app.test_client().get(f"{link}?lang={lang}").get_data(as_text=True)
    client = _open(app, link, lang)
    overview = client.get("/portal/q/").get_data(as_text=True)
    for page in (landing, overview):
        assert heading in page
        for value in (company, department, person, "03-1234-5678", "procurement@sample.co.jp"):
            assert value in page
        assert 'href="tel:03-1234-5678"' in page
        assert 'href="https://www.sample.co.jp/supplier-security"' in page
        assert company in page.split("</title>")[0]  # the tab names it
    verify = {
        "ja": "このご依頼がサンプル商事株式会社からのものであることは",
        "en": "You can check that this request really comes from Sample Trading Co., Ltd.",
    }
    assert verify[lang] in overview
    section = client.get("/portal/q/section/profile").get_data(as_text=True)
    assert company in section.split("<main>")[0]  # the header line on every page


def test_the_company_falls_back_to_the_configured_name(
    app, make_supplier, make_contact, today, monkeypatch
):
    monkeypatch.setitem(app.config, "COMPANY_NAME_JA", "設定株式会社")
    monkeypatch.setitem(app.config, "COMPANY_NAME_EN", "Configured Corp.")
    supplier = make_supplier()
    link = _link(app, supplier, make_contact(supplier), today, profile=None)
    assert "設定株式会社" in _open(app, link, "ja").get("/portal/q/").get_data(as_text=True)
    assert "Configured Corp." in _open(app, link, "en").get("/portal/q/").get_data(as_text=True)


@pytest.mark.parametrize(("lang", "title"), [("ja", "見つかりません"), ("en", "Not found")])
def test_a_portal_404_offers_the_requester_and_no_staff_link(app, link, lang, title):
    client = _open(app, link, lang)
    for path in ("/portal/q/section/no-such-section", "/portal/q/files/999999", "/portal/a/b/c"):
        response = client.get(path)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert title in html
        assert "03-1234-5678" in html and "procurement@sample.co.jp" in html
        _has_no_staff_link(html)


def test_an_unknown_link_is_a_404_with_the_requester(app, link):
    response = app.test_client().get("/portal/" + "z" * 43 + "?lang=en")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Sample Trading Co., Ltd." in html and "03-1234-5678" in html
    assert "open the page again with the link in the email" in html
    _has_no_staff_link(html)


def test_a_link_no_longer_valid_is_a_410_with_the_requester(app, link, ctx):
    with ctx() as session:
        invitation = session.query(Invitation).one()
        invitation.revoked_at = datetime(2026, 1, 5, tzinfo=UTC)
        session.commit()
    response = app.test_client().get(f"{link}?lang=ja")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "このリンク" in html
    assert "田中 一郎" in html and "03-1234-5678" in html
    _has_no_staff_link(html)


def test_the_page_without_a_sitting_offers_the_requester(app, link):
    response = app.test_client().get("/portal/q/", headers={"Accept-Language": "ja"})
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "サンプル商事株式会社" in html and "03-1234-5678" in html
    _has_no_staff_link(html)


def test_a_csrf_failure_in_the_portal_offers_the_requester(tmp_path_factory):
    with strict_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as strict:
        with strict.app_context():
            today = clock.today()
            supplier = Supplier(
                name_ja="株式会社CSRF", category=SupplierCategory.outsourcing_contractor
            )
            contact = Contact(supplier=supplier, name="佐藤 花子", email="sato@example.jp")
            db.session.add_all([supplier, contact])
            db.session.commit()
            supplier = SimpleNamespace(id=supplier.id)
            contact = SimpleNamespace(id=contact.id, email=contact.email)
        link = _link(strict, supplier, contact, today)
        response = strict.test_client().post(  # no CSRF token: a form from elsewhere
            link, data={"lang": "en"}, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "The form has expired" in html
        assert "Sample Trading Co., Ltd." in html and "03-1234-5678" in html
        _has_no_staff_link(html)


def test_staff_error_pages_keep_the_way_back_to_the_dashboard(auth):
    auth.login()
    html = auth.client.get("/suppliers/999999").get_data(as_text=True)
    assert "ダッシュボードに戻る" in html or "Back to the dashboard" in html
