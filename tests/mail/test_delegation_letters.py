"""The letter to a colleague added from the portal says what is asked now (担当者の追加): while a
reviewer's question awaits the supplier, a reply to it, not the remediation plans of findings
(one raised already, before the review completes). Over a real SMTP server, in both languages;
the colleague's own link opens the portal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.header import decode_header, make_header
from urllib.parse import urlsplit

import pytest
import time_machine

from tests.conftest import body_of, link_in
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.mail import outbox, sender
from vendorrisk.models import Assessment, AssessmentStatus, Contact, Role, Severity, User
from vendorrisk.services.assessments.lifecycle import Recipient, create_assessment
from vendorrisk.services.review import clarifications, findings

#: 9:00 in Tokyo: the questionnaire sent, answered, and asked about.
SENT = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
SUBMITTED = datetime(2026, 12, 10, 0, 0, tzinfo=UTC)
ASKED = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)
DUE = date(2027, 1, 4)
SENDER = {
    "company_ja": "サンプル商事株式会社",
    "company_en": "Sample Trading Co., Ltd.",
    "department_ja": "調達部",
    "person_ja": "田中 一郎",
    "phone": "03-1234-5678",
    "email": "procurement@sample.co.jp",
    "announcement_url": "https://www.sample.co.jp/supplier-security",
}
COLLEAGUE = "yamada@shiosai.example.jp"
#: What the colleague's letter says, and must not say, by language.
EXPECT = {
    "ja": {
        "subject": "【サンプル商事株式会社】セキュリティ質問票 ご回答内容についてのご確認のお願い"
        "（ご担当者ご登録のお知らせ）",
        "asks": "当社からのご質問へのご返答をご入力ください",
        "not": ("是正計画", "指摘事項", "回答期限"),
    },
    "en": {
        "subject": "[Sample Trading Co., Ltd.] You have been added as a contact: our question "
        "about your answers to the security questionnaire",
        "asks": "where you will find our question, and reply to it there",
        "not": ("remediation", "finding", "Due date"),
    },
}


def _received(app, smtp_server, now: datetime, to: str) -> list:
    """Every letter to `to` so far, delivering what is due at `now` (a request sends its own
    after its commit)."""
    with app.app_context():
        outbox.deliver_pending(now, limit=50)
        db.session.remove()
    return [m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == to]


def _asked_about_submitted_answers(app, make_user, make_supplier, make_contact, lang) -> None:
    """A questionnaire sent, submitted, a finding raised for the supplier, and a reviewer's
    question about one answer: the contact gets a link to reply."""
    reviewer = make_user(Role.reviewer, name="鈴木 次郎")
    supplier = make_supplier(
        name_ja="潮騒ソフトウェア株式会社", name_en="Shiosai Software Co., Ltd."
    )
    contact = make_contact(
        supplier, email="shimizu@shiosai.example.jp", name="清水 亮", locale=lang
    )
    with app.app_context():
        sender.save(SENDER)
        template = catalog().get("csm-v2-supplier")
        contact = db.session.get(Contact, contact.id)
        assessment = create_assessment(
            contact.supplier, template, DUE, "", [Recipient(contact, lang)], None, SENT
        )
        assessment.status, assessment.submitted_at = AssessmentStatus.submitted, SUBMITTED
        findings.raise_finding(
            assessment.supplier,
            {
                "title": "アクセスログの保管期間が不足している",
                "severity": Severity.medium,
                "due_on": date(2027, 2, 26),
                "visible_to_supplier": True,
                "created_at": ASKED,
            },
            assessment,
        )
        clarifications.ask(
            db.session.get(Assessment, assessment.id),
            template,
            template.sections[0].questions[0].id,
            "バックアップの保管場所をお教えください。",
            db.session.get(User, reviewer.id),
            ASKED,
        )
        db.session.commit()
        db.session.remove()


def _portal(app, link: str, lang: str):
    client = app.test_client()
    response = client.post(urlsplit(link).path, data={"lang": lang})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_colleague_added_during_a_question_is_asked_to_reply_to_it(
    app, smtp_server, make_user, make_supplier, make_contact, lang
):
    with time_machine.travel(ASKED, tick=False):
        _asked_about_submitted_answers(app, make_user, make_supplier, make_contact, lang)
        _invitation, question = _received(app, smtp_server, ASKED, "shimizu@shiosai.example.jp")
        client = _portal(app, link_in(question), lang)
        colleague = {"name": "山田 太郎", "email": COLLEAGUE, "locale": lang}
        response = client.post("/portal/q/delegate", data=colleague)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]

        [letter] = _received(app, smtp_server, ASKED, COLLEAGUE)
        expect = EXPECT[lang]
        assert str(make_header(decode_header(str(letter["Subject"])))) == expect["subject"]
        body = body_of(letter)
        assert expect["asks"] in body
        assert not [word for word in expect["not"] if word in body], body
        assert "アクセスログ" not in body  # the finding is not the supplier's before the result
        _portal(app, link_in(letter), lang)  # the colleague's own link opens the portal
