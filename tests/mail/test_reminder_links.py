"""Every reminder carries a new link in the letter itself: the new link opens the questionnaire,
the one mailed before no longer does, and a second run of the job that day changes nothing. The
letters go over a real SMTP server, and their Japanese headers arrive intact."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.header import decode_header, make_header
from urllib.parse import urlsplit

import sqlalchemy as sa
import time_machine

from tests.conftest import body_of, link_in
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.mail import outbox, sender
from vendorrisk.models import Contact, Invitation, OutboxMessage, Role, SupplierStatus
from vendorrisk.services.assessments.lifecycle import Recipient, create_assessment
from vendorrisk.services.periodic.reminders import reminders

DUE = date(2027, 1, 4)
#: 9:00 in Tokyo on the day the questionnaire is sent, 7 days before it is due, and the day after.
SENT = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
WEEK_BEFORE = datetime(2026, 12, 28, 0, 0, tzinfo=UTC)
DAY_AFTER = datetime(2027, 1, 5, 0, 0, tzinfo=UTC)
SENDER = {
    "company_ja": "サンプル商事株式会社",
    "company_en": "Sample Trading Co., Ltd.",
    "department_ja": "調達部",
    "person_ja": "田中 一郎",
    "phone": "03-1234-5678",
    "email": "procurement@sample.co.jp",
    "announcement_url": "https://www.sample.co.jp/supplier-security",
}


def _decoded(header) -> str:
    return str(make_header(decode_header(str(header))))


def _opens(app, link: str) -> int:
    return app.test_client().get(urlsplit(link).path).status_code


def _delivered(app, smtp_server, now: datetime) -> list:
    before = len(smtp_server.messages)
    with app.app_context():
        outbox.deliver_pending(now, limit=50)
        db.session.remove()
    return smtp_server.messages[before:]


def _run_reminders(app, now: datetime) -> int:
    with app.app_context():
        done = reminders(now).done
        db.session.commit()
        db.session.remove()
        return done


def _send(app, make_user, make_supplier, make_contact) -> None:
    owner = make_user(Role.procurement)
    supplier = make_supplier(
        status=SupplierStatus.active, owner_id=owner.id, name_ja="潮騒ソフトウェア株式会社"
    )
    contact = make_contact(
        supplier, email="shimizu@shiosai.example.jp", name="清水 亮", department="営業部",
        job_title="課長", is_primary=True,
    )  # fmt: skip
    with app.app_context():
        sender.save(SENDER)
        contact = db.session.get(Contact, contact.id)
        template = catalog().get("csm-v2-supplier")
        create_assessment(
            contact.supplier, template, DUE, "", [Recipient(contact, "ja")], None, SENT
        )
        db.session.commit()
        db.session.remove()


def test_each_reminder_brings_a_working_link_and_retires_the_one_before(
    app, smtp_server, make_user, make_supplier, make_contact
):
    with time_machine.travel(SENT, tick=False):
        _send(app, make_user, make_supplier, make_contact)
        [invitation] = _delivered(app, smtp_server, SENT)
        first = link_in(invitation)
        assert _opens(app, first) in (200, 302)

    with time_machine.travel(WEEK_BEFORE, tick=False):
        assert _run_reminders(app, WEEK_BEFORE) == 1
        assert _run_reminders(app, WEEK_BEFORE) == 0  # the same day again: nothing, no new link
        [before] = _delivered(app, smtp_server, WEEK_BEFORE)  # one letter, no separate resend
        subject = _decoded(before["Subject"])
        assert subject == (
            "【サンプル商事株式会社】【ご回答期限のご案内】情報セキュリティに関する質問票"
            "（ご回答期限：2027年1月4日（月））"
        )
        body = body_of(before)
        assert (
            "以前お送りしたリンクは無効となりましたので、以下の新しいリンクをご利用ください" in body
        )
        second = link_in(before)
        assert second != first
        assert _opens(app, first) == 410
        assert _opens(app, second) in (200, 302)

    with time_machine.travel(DAY_AFTER, tick=False):
        assert _run_reminders(app, DAY_AFTER) == 2  # and the owner is told
        [overdue] = [
            m
            for m in _delivered(app, smtp_server, DAY_AFTER)
            if m["To"].addresses[0].addr_spec == "shimizu@shiosai.example.jp"
        ]
        assert _decoded(overdue["Subject"]).endswith("（1月12日（火）まで）")
        body = body_of(overdue)
        assert "2027年1月4日（月）のご回答期限を過ぎております" in body
        assert "誠に恐れ入りますが、2027年1月12日（火）までにご回答いただけますと幸いです。" in body
        assert "できるだけ早く" not in body
        third = link_in(overdue)
        assert _opens(app, second) == 410
        assert _opens(app, third) in (200, 302)

    with app.app_context():
        links = db.session.scalars(sa.select(Invitation).order_by(Invitation.id)).all()
        assert [i.revoked_at is None for i in links] == [False, False, True]
        kinds = db.session.scalars(sa.select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        db.session.remove()
    assert kinds == ["invitation", "reminder", "reminder", "reminder_owner"]


def test_the_japanese_invitation_arrives_with_its_headers_intact(
    app, smtp_server, make_user, make_supplier, make_contact
):
    with time_machine.travel(SENT, tick=False):
        _send(app, make_user, make_supplier, make_contact)
        [message] = _delivered(app, smtp_server, SENT)
    raw_subject = message.get("Subject").__str__()
    assert _decoded(raw_subject) == (
        "【サンプル商事株式会社】情報セキュリティに関する質問票ご回答のお願い"
        "（ご回答期限：2027年1月4日（月））"
    )
    assert message["To"].addresses[0].display_name == "清水 亮"
    assert message["To"].addresses[0].addr_spec == "shimizu@shiosai.example.jp"
    body = body_of(message)
    assert body.startswith("潮騒ソフトウェア株式会社\n営業部\n課長 清水 亮 様\n")
    assert "サンプル商事株式会社 調達部の田中 一郎でございます。" in body
    assert "■ 回答期限：2027年1月4日（月）" in body
    assert "下記の電話番号（03-1234-5678）まで" in body
    assert "転送" not in body  # forwarding is not forbidden: a colleague is added instead
    assert "「ご担当者の追加」" in body
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'<a href="{link_in(message)}">' in html
