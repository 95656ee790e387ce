"""Adding a colleague from the portal (担当者の追加): the colleague becomes a contact recorded
with who added them, gets a link of their own by mail (over real SMTP), and it is audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import body_of, csrf_token_from, link_in, strict_app
from tests.factories import make_assessment, make_invitation
from vendorrisk.extensions import db
from vendorrisk.models import (
    AuditEvent,
    Contact,
    Invitation,
    OutboxMessage,
    Supplier,
    SupplierCategory,
)
from vendorrisk.models.mixins import hash_token

TOKEN = "DelegationTestToken_" + "x" * 30
COLLEAGUE = {
    "name": "山田 太郎",
    "email": "Yamada@Example.jp",
    "department": "情報システム部 インフラ課",
    "job_title": "主任",
    "locale": "ja",
}


def _seed(app: Flask) -> int:
    """A supplier's contact with a link to an open questionnaire (due far ahead); its id."""
    with app.app_context():
        supplier = Supplier(
            name_ja="株式会社委任テスト", category=SupplierCategory.outsourcing_contractor
        )
        contact = Contact(
            supplier=supplier,
            name="佐藤 花子",
            email="sato@example.jp",
            department="情報システム部",
            locale="ja",
        )
        db.session.add_all([supplier, contact])
        db.session.flush()
        assessment = make_assessment(supplier, due_on=date(2099, 1, 31))
        make_invitation(assessment, contact, token_hash=hash_token(TOKEN), locale="ja")
        db.session.commit()
        return contact.id


def _open(app: Flask, lang: str = "ja"):
    client = app.test_client()
    response = client.post(f"/portal/{TOKEN}", data={"lang": lang})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_the_colleague_gets_a_working_link_of_their_own(app, smtp_server):
    inviter_id = _seed(app)
    client = _open(app)
    page = client.get("/portal/q/delegate").get_data(as_text=True)
    assert "ご担当者の追加" in page
    response = client.post("/portal/q/delegate", data=COLLEAGUE)
    assert response.status_code == 302
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "山田 太郎様をご担当者として追加し" in confirmation
    with app.app_context():
        colleague = db.session.scalar(
            sa.select(Contact).where(Contact.email == "yamada@example.jp")
        )
        assert colleague.added_by_contact_id == inviter_id and colleague.added_at is not None
        assert colleague.department == "情報システム部 インフラ課"
        [link] = db.session.scalars(
            sa.select(Invitation).where(Invitation.contact_id == colleague.id)
        ).all()
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "contact_delegated")
        ).all()
        assert event.actor_type == "contact" and event.actor_label == "sato@example.jp"
        assert event.object_id == link.id and "yamada@example.jp" in event.summary
        own = db.session.scalar(sa.select(Invitation).where(Invitation.contact_id == inviter_id))
        assert own.revoked_at is None  # the inviter's link keeps working
    [mail] = [
        m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == "yamada@example.jp"
    ]
    body = body_of(mail)
    assert "佐藤 花子様（貴社 情報システム部）より" in body and "2099年1月31日" in body
    assert "セキュリティ質問票のご担当者ご登録のお知らせ" in mail["Subject"]
    colleague_client = app.test_client()
    path = re.sub(r"^https?://[^/]+", "", link_in(mail))
    opened = colleague_client.post(path, data={"lang": "ja"})
    assert opened.status_code == 302 and opened.headers["Location"] == "/portal/q/"
    assert "株式会社委任テスト" in colleague_client.get("/portal/q/").get_data(as_text=True)


def test_an_address_already_registered_is_reused_not_duplicated(app):
    _seed(app)
    client = _open(app)
    assert client.post("/portal/q/delegate", data=COLLEAGUE).status_code == 302
    assert client.post("/portal/q/delegate", data=COLLEAGUE).status_code == 302
    with app.app_context():
        rows = db.session.scalars(sa.select(Contact).where(Contact.email == "yamada@example.jp"))
        [colleague] = rows.all()
        links = db.session.scalars(
            sa.select(Invitation).where(Invitation.contact_id == colleague.id)
        ).all()
        assert [i.revoked_at is None for i in links] == [False, True]  # the new link replaces


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("ja", "メールアドレスの形式が正しくありません"),
        ("en", "Enter a valid email address, such as name@example.co.jp."),
    ],
)
def test_a_bad_address_is_refused_clearly_in_each_language(app, lang, message):
    _seed(app)
    client = _open(app, lang)
    response = client.post("/portal/q/delegate", data=COLLEAGUE | {"email": "yamada@"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_ones_own_address_is_refused(app):
    _seed(app)
    client = _open(app)
    response = client.post("/portal/q/delegate", data=COLLEAGUE | {"email": "SATO@example.jp"})
    assert response.status_code == 422
    assert "ご自身のメールアドレスが入力されています" in response.get_data(as_text=True)


def test_ones_own_contact_is_refused_after_its_address_changed(app):
    """The register's address was corrected after the link went out: typing the new one is
    still the contact's own (their links would otherwise be revoked under them)."""
    inviter_id = _seed(app)
    with app.app_context():
        db.session.get(Contact, inviter_id).email = "hanako.sato@example.jp"
        db.session.commit()
    client = _open(app)
    response = client.post(
        "/portal/q/delegate", data=COLLEAGUE | {"email": "hanako.sato@example.jp"}
    )
    assert response.status_code == 422
    assert "ご自身のメールアドレスが入力されています" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("name", "山田 https://evil.example/login"),
        ("department", "情報システム部\n至急 www.evil.example にログイン"),
        ("job_title", "主任\r\nBcc: x@example.jp"),
    ],
)
def test_a_web_address_or_line_break_in_a_name_is_refused(app, field, typed):
    """What the contact types is printed in mail we sign: never a link or a new paragraph."""
    _seed(app)
    client = _open(app, "en")
    response = client.post("/portal/q/delegate", data=COLLEAGUE | {field: typed})
    assert response.status_code == 422
    assert "without a web address or line breaks" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_spaces_in_a_name_are_made_one(app):
    _seed(app)
    client = _open(app)
    client.post("/portal/q/delegate", data=COLLEAGUE | {"name": "  山田　　太郎 "})
    with app.app_context():
        added = db.session.scalar(sa.select(Contact).where(Contact.email == "yamada@example.jp"))
        assert added.name == "山田 太郎"


@pytest.fixture
def guarded(tmp_path_factory) -> Iterator[Flask]:
    with strict_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as strict:
        yield strict


def test_the_form_needs_its_csrf_token(guarded):
    _seed(guarded)
    client = guarded.test_client()
    landing = client.get(f"/portal/{TOKEN}").get_data(as_text=True)
    opened = client.post(
        f"/portal/{TOKEN}", data={"lang": "ja", "csrf_token": csrf_token_from(landing)}
    )
    assert opened.status_code == 302
    page = client.get("/portal/q/delegate").get_data(as_text=True)
    assert client.post("/portal/q/delegate", data=COLLEAGUE).status_code == 400
    with guarded.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
    accepted = client.post(
        "/portal/q/delegate", data=COLLEAGUE | {"csrf_token": csrf_token_from(page)}
    )
    assert accepted.status_code == 302
    with guarded.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2


def test_the_supplier_page_says_who_added_the_colleague(app, auth):
    _seed(app)
    client = _open(app)
    client.post("/portal/q/delegate", data=COLLEAGUE)
    auth.login("procurement")
    with app.app_context():
        supplier_id = db.session.scalar(sa.select(Supplier.id))
    page = auth.client.get(f"/suppliers/{supplier_id}").get_data(as_text=True)
    assert "佐藤 花子 がポータルから追加" in page or "Added by 佐藤 花子" in page
