"""The whole correspondence with one supplier, over a real SMTP server, in Japanese and English.

Procurement sends the questionnaire; the supplier saves an answer; the reminder a week before
the due date brings a new link (the old one is gone), the overdue one a soft new date; the contact
adds a colleague from the portal; the answers are submitted (an ISMS expiry other than the
register's among them, which only becomes a proposal); the review completes with a finding,
reminded before its due date; the ISMS nears its expiry, and the renewed evidence is asked for,
sent, and accepted by procurement on the proposal screen. Each letter as received is compared
with tests/mail/expected/correspondence/<step>.<lang>.txt (To, decoded Subject, text body, link
tokens replaced); VENDORRISK_WRITE_EXPECTED_MAIL=1 rewrites them, as for test_messages.py.
"""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, date, datetime
from email.header import decode_header, make_header
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import body_of, csrf_token_from
from tests.mail.expected_mail import CONFIG
from tests.mail.test_messages import SENDER
from vendorrisk.catalog import Catalog, catalog
from vendorrisk.extensions import db
from vendorrisk.mail import outbox, sender
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    AuditEvent,
    Decision,
    Role,
    Severity,
    SupplierStatus,
    User,
)
from vendorrisk.models.proposal import AttestationProposal, ProposalStatus
from vendorrisk.services.periodic.expiry_alerts import expiry_alerts
from vendorrisk.services.periodic.finding_reminders import finding_reminders
from vendorrisk.services.periodic.reminders import reminders
from vendorrisk.services.review import findings, review

EXPECTED = Path(__file__).parent / "expected" / "correspondence"
REWRITE = os.environ.get("VENDORRISK_WRITE_EXPECTED_MAIL") == "1"
TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v2-supplier")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LINK = re.compile(r"https://\S+?/portal/(?:e/)?[A-Za-z0-9_-]{20,}")
TOKEN = re.compile(r"/portal/(e/)?[A-Za-z0-9_-]{20,}")


def _at(day: date, hour: int = 9) -> datetime:
    """`hour` o'clock in Tokyo on `day`."""
    return datetime(day.year, day.month, day.day, hour - 9, tzinfo=UTC)


DUE = date(2027, 1, 4)
SENT = _at(date(2026, 12, 1))
WEEK_BEFORE = _at(date(2026, 12, 28))
DAY_AFTER = _at(date(2027, 1, 5))
SUBMITTED = _at(date(2027, 1, 6))
REVIEWED = _at(date(2027, 1, 8))
FINDING_DUE = date(2027, 2, 26)
FINDING_WEEK_BEFORE = _at(date(2027, 2, 19))
ISMS_EXPIRES = date(2027, 3, 31)
MONTH_BEFORE_EXPIRY = _at(date(2027, 3, 1))
RENEWED = _at(date(2027, 3, 2))
ACCEPTED = _at(date(2027, 3, 3))
NEW_EXPIRY = date(2030, 3, 31)

PEOPLE = {
    "ja": {
        "contact": {"name": "清水 亮", "department": "営業部", "job_title": "課長"},
        "colleague": {"name": "山田 太郎", "department": "情報システム部", "job_title": "主任"},
    },
    "en": {
        "contact": {
            "name": "Ryo Shimizu",
            "department": "Sales Department",
            "job_title": "Manager",
        },
        "colleague": {
            "name": "Taro Yamada",
            "department": "IT Department",
            "job_title": "Engineer",
        },
    },
}
CONTACT = "shimizu@shiosai.example.jp"
COLLEAGUE = "yamada@shiosai.example.jp"
#: What the supplier states of its certifications: an ISMS expiry the register does not hold.
STATED = {
    "sup-d9s-01": "star2", "sup-d9s-02": "50000228580", "sup-d9s-03": "2025-06-01",
    "sup-d9s-04": "yes", "sup-d9s-05": "IS 555", "sup-d9s-06": "JQA", "sup-d9s-07": "本社",
    "sup-d9s-08": "2029-12-31", "sup-d9s-10": "no", "sup-d9s-14": "none",
}  # fmt: skip


class Correspondence:
    """The mail received so far, and the steps' shared means: deliver, compare, open links."""

    def __init__(self, app, smtp_server, lang: str) -> None:
        self.app, self.smtp, self.lang = app, smtp_server, lang
        self.seen = 0
        self.browser = app.test_client()

    def arrived(self, to: str, now: datetime | None = None) -> list:
        """The letters to `to` received since the last call (delivering what is due at `now`)."""
        if now is not None:
            with self.app.app_context():
                outbox.deliver_pending(now, limit=50)
                db.session.remove()
        new, self.seen = self.smtp.messages[self.seen :], len(self.smtp.messages)
        return [m for m in new if m["To"].addresses[0].addr_spec == to]

    def compare(self, step: str, message) -> str:
        """The letter equals its expected file; its link, also in the HTML part."""
        subject = str(make_header(decode_header(str(message["Subject"]))))
        shown = TOKEN.sub(
            lambda m: f"/portal/{m.group(1) or ''}<token>",
            f"To: {message['To']}\nSubject: {subject}\n\n{body_of(message)}".replace("\r\n", "\n"),
        )
        path = EXPECTED / f"{step}.{self.lang}.txt"
        if REWRITE:
            path.parent.mkdir(exist_ok=True)
            path.write_text(shown, encoding="utf-8")
        assert shown == path.read_text(encoding="utf-8"), path.name
        links = LINK.findall(body_of(message))
        html = message.get_body(preferencelist=("html",)).get_content()
        assert links and all(f'href="{link}"' in html for link in links)
        return links[0]

    def open(self, link: str, client=None):
        """Follow the link in the contact's browser (a link is bound to the first browser that
        opens it), or in `client`'s, press its button, see the questionnaire."""
        client = client or self.browser
        response = client.post(urlsplit(link).path, data={"lang": self.lang})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert response.headers["Location"] == "/portal/q/"
        return client

    def status(self, link: str) -> int:
        return self.app.test_client().get(urlsplit(link).path).status_code


def _answer(client, section, stated: dict | None = None) -> None:
    """Save a section as a supplier fills it in, with a PDF wherever evidence is asked for."""
    data = {}
    for q in section.questions:
        data[f"v-{q.id}"] = "0"
        value = (stated or {}).get(q.id, q.kind.sample(q))
        if value is not None:
            data.update(q.kind.to_form(q, f"a-{q.id}", value))
        if q.kind.holds_files or q.evidence:
            data[f"f-{q.id}"] = (io.BytesIO(PDF), f"{q.id}.pdf")
    response = client.post(
        f"/portal/q/section/{section.id}", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, (section.id, response.get_data(as_text=True)[:2000])


def _isms(app) -> tuple[date, list[AttestationProposal]]:
    """The register's ISMS expiry and the proposals waiting for a decision."""
    with app.app_context():
        isms = db.session.scalar(
            sa.select(Attestation).where(Attestation.kind == AttestationKind.isms)
        )
        pending = db.session.scalars(
            sa.select(AttestationProposal)
            .where(AttestationProposal.status == ProposalStatus.pending)
            .order_by(AttestationProposal.id)
        ).all()
        db.session.expunge_all()
        return isms.expires_on, pending


@pytest.fixture
def fixed(app, monkeypatch):
    for key, value in CONFIG.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_whole_correspondence_with_a_supplier(
    app, fixed, auth, smtp_server, make_supplier, make_contact, make_attestation, make_user, lang
):
    mail = Correspondence(app, smtp_server, lang)
    people = PEOPLE[lang]

    # 1. Procurement sends the questionnaire from the supplier's page.
    with time_machine.travel(SENT, tick=False):
        owner = auth.login(Role.procurement, name="田中 一郎", locale=lang)
        supplier = make_supplier(
            status=SupplierStatus.active, owner_id=owner.id,
            name_ja="潮騒ソフトウェア株式会社", name_en="Shiosai Software Co., Ltd.",
        )  # fmt: skip
        contact = make_contact(
            supplier, email=CONTACT, locale=lang, is_primary=True, **people["contact"]
        )
        make_attestation(
            supplier, kind=AttestationKind.isms, level=None, identifier="IS 555",
            issuer="JQA", scope="本社", issued_on=date(2024, 4, 1), expires_on=ISMS_EXPIRES,
        )  # fmt: skip
        with app.app_context():
            sender.save(SENDER)
            db.session.commit()
        response = auth.client.post(
            f"/suppliers/{supplier.id}/send",
            data={
                "template_id": TEMPLATE.id,
                "due_on": DUE.isoformat(),
                "contact_ids": [contact.id],
                f"locale-{contact.id}": lang,
                "message": "",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        assessment_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
        [invitation] = mail.arrived(CONTACT)
        first = mail.compare("01_invitation", invitation)

        # 2. The supplier opens the link and saves the first section.
        _answer(mail.open(first), TEMPLATE.sections[0])

    # 3. A week before the due date: a reminder with a new link; the old one is gone.
    with time_machine.travel(WEEK_BEFORE, tick=False):
        with app.app_context():
            assert reminders(WEEK_BEFORE).done == 1
            db.session.commit()
        [reminder] = mail.arrived(CONTACT, WEEK_BEFORE)
        second = mail.compare("02_reminder", reminder)
        assert second != first and mail.status(first) == 410
        mail.open(second)

    # 4. The due date has passed: the overdue letter, with a new link and a soft new date.
    with time_machine.travel(DAY_AFTER, tick=False):
        with app.app_context():
            reminders(DAY_AFTER)
            db.session.commit()
        [overdue] = mail.arrived(CONTACT, DAY_AFTER)
        third = mail.compare("03_overdue", overdue)
        assert mail.status(second) == 410

        # 5. The contact adds a colleague, who gets a link of their own.
        supplier_client = mail.open(third)
        added = supplier_client.post(
            "/portal/q/delegate", data=people["colleague"] | {"email": COLLEAGUE, "locale": lang}
        )
        assert added.status_code == 302, added.get_data(as_text=True)[:2000]
        [delegated] = mail.arrived(COLLEAGUE)
        mail.open(mail.compare("04_delegated", delegated), app.test_client())

    # 6. The supplier answers the rest and submits: what it states waits for a person.
    with time_machine.travel(SUBMITTED, tick=False):
        supplier_client = mail.open(third)
        for section in TEMPLATE.sections[1:]:
            _answer(supplier_client, section, STATED)
        submitted = supplier_client.post("/portal/q/submit")
        assert submitted.headers["Location"] == "/portal/q/done"
        mail.arrived(CONTACT)  # the receipt, not part of this story
        expiry, pending = _isms(app)
        assert expiry == ISMS_EXPIRES  # the register is unchanged
        [stated] = [p for p in pending if p.kind == AttestationKind.isms]
        assert stated.fields == {"expires_on": "2029-12-31"}

    # 7. Staff raise a finding for the supplier and approve with conditions: the result letter.
    with time_machine.travel(REVIEWED, tick=False):
        reviewer = make_user(Role.reviewer, name="鈴木 次郎", locale=lang)
        with app.app_context():
            assessment = db.session.get(Assessment, assessment_id)
            assert assessment.status == AssessmentStatus.submitted
            findings.raise_finding(
                assessment.supplier,
                {
                    "title": "アクセスログの保管期間が不足している",
                    "severity": Severity.medium,
                    "required_action": "アクセスログを1年以上保管してください。",
                    "due_on": FINDING_DUE,
                    "visible_to_supplier": True,
                    "created_at": REVIEWED,
                },
                assessment,
            )
            template = catalog().get(assessment.template_id, assessment.template_version)
            review.complete(
                assessment, template, Decision.approved_with_conditions,
                "指摘事項の是正を条件として承認します。", db.session.get(User, reviewer.id),
                REVIEWED,
            )  # fmt: skip
            db.session.commit()
            db.session.remove()
        [result] = mail.arrived(CONTACT, REVIEWED)
        page = mail.open(mail.compare("05_result", result)).get("/portal/q/")
        assert "アクセスログの保管期間が不足している" in page.get_data(as_text=True)

    # 8. A week before the finding's due date: its reminder.
    with time_machine.travel(FINDING_WEEK_BEFORE, tick=False):
        with app.app_context():
            assert finding_reminders(FINDING_WEEK_BEFORE).done == 2  # contact and colleague
            db.session.commit()
        [finding_reminder] = mail.arrived(CONTACT, FINDING_WEEK_BEFORE)
        mail.compare("06_finding_reminder", finding_reminder)

    # 9. A month before the ISMS expires: the renewed evidence is asked for, and sent.
    with time_machine.travel(MONTH_BEFORE_EXPIRY, tick=False):
        with app.app_context():
            expiry_alerts(MONTH_BEFORE_EXPIRY)
            db.session.commit()
        [asked] = mail.arrived(CONTACT, MONTH_BEFORE_EXPIRY)
        evidence_link = mail.compare("07_evidence_request", asked)
        assert "/portal/e/" in evidence_link
    with time_machine.travel(RENEWED, tick=False):
        path = urlsplit(evidence_link).path
        evidence_client = app.test_client()
        assert evidence_client.get(path).status_code == 200
        sent_back = evidence_client.post(
            path,
            data={"expires_on": NEW_EXPIRY.isoformat(), "file": (io.BytesIO(PDF), "ISMS.pdf")},
            content_type="multipart/form-data",
        )
        assert sent_back.status_code == 200, sent_back.get_data(as_text=True)[:2000]
        expiry, pending = _isms(app)
        assert expiry == ISMS_EXPIRES  # still the register's own
        [renewal] = [p for p in pending if p.evidence_request_id is not None]
        assert renewal.fields == {"expires_on": NEW_EXPIRY.isoformat()}
        # the answers' older statement of the same ISMS gives way to the renewed evidence
        assert [p.id for p in pending if p.kind == AttestationKind.isms] == [renewal.id]
        with app.app_context():
            assert db.session.get(AttestationProposal, stated.id).status == "superseded"

    # ... and procurement accepts it on the proposal screen.
    with time_machine.travel(ACCEPTED, tick=False):
        accepter = auth.login(Role.procurement, locale=lang)  # weeks later: a new session
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            screen = auth.client.get(f"/suppliers/{supplier.id}/proposals")
            accept = f"/suppliers/{supplier.id}/proposals/{renewal.id}/accept"
            assert accept in screen.get_data(as_text=True)
            assert auth.client.post(accept).status_code == 400  # no token, no change
            token = csrf_token_from(screen.get_data(as_text=True))
            assert auth.client.post(accept, data={"csrf_token": token}).status_code == 302
        finally:
            app.config["WTF_CSRF_ENABLED"] = False
        expiry, pending = _isms(app)
        assert expiry == NEW_EXPIRY
        assert [p for p in pending if p.kind == AttestationKind.isms] == []
        with app.app_context():
            event = db.session.scalar(
                sa.select(AuditEvent).where(AuditEvent.action == "proposal_accepted")
            )
            assert (event.actor_user_id, event.object_id) == (accepter.id, renewal.id)
            assert event.supplier_id == supplier.id
