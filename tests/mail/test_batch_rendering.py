"""A job's batch of mails rendered together (`render.many`: each template compiled once per
language, in the mail environment of that language) says exactly what each mail rendered on
its own says (`render.one`: Flask's render_template under the mail's language), in Japanese and
English, whatever the names, dates and links, and whatever a supplier typed: a name made of
template syntax stays text, and markup is escaped in the HTML parts just the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.conftest import in_app
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.mail import follow_up, messages, outbox, questionnaire, render
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Contact,
    Contract,
    Finding,
    FindingStatus,
    Invitation,
    OutboxMessage,
    Role,
    SecurityActionLevel,
    Setting,
    Severity,
    Supplier,
    SupplierCategory,
    User,
)
from vendorrisk.scoring.stages import Stage
from vendorrisk.services.periodic.expire_links import expire_links
from vendorrisk.services.periodic.expiry_alerts import expiry_alerts
from vendorrisk.services.periodic.finding_reminders import finding_reminders
from vendorrisk.services.periodic.reminders import reminders

JST = ZoneInfo("Asia/Tokyo")
TEMPLATE_ID = "csm-v2-supplier"
SENDER = {
    "company_ja": "サンプル商事株式会社",
    "company_en": "Sample Trading Co., Ltd.",
    "department_ja": "調達部",
    "department_en": "Procurement Department",
    "person_ja": "田中 一郎",
    "person_en": "Ichiro Tanaka",
    "phone": "03-1234-5678",
    "email": "supplier-security@sample.co.jp",
    "announcement_url": "https://www.sample.co.jp/sustainability/supply-chain-security",
}
#: What suppliers typed, some of it hostile: template syntax, markup, quotes, a foreign link.
NAMES = [
    ("株式会社テスト物流", "Test Logistics Co., Ltd."),
    ("<script>alert(1)</script>&株式会社", "{{ 7 * 7 }} & Sons <b>Ltd</b>"),
    ("{% raw %}株式会社{{ config }}", ""),
    ('有限会社"引用"', 'Quote\'s "Works" https://evil.example/phish'),
]
PEOPLE = [
    ("佐藤 花子", "情報システム部", "課長"),
    ("Hanako Sato", "IT {{ department }}", ""),
    ("{{ self }} 太郎", "https://evil.example/login", "<i>部長</i>"),
    ("", "", ""),
]


def _today() -> date:
    return date.today() + timedelta(days=30)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), JST).astimezone(UTC)


def _link(id_: int, assessment: Assessment, contact: Contact, due: date) -> Invitation:
    return Invitation(
        id=id_,
        assessment=assessment,
        contact=contact,
        email=contact.email,
        locale=contact.locale,
        token_hash=f"{id_:064d}",
        created_at=_at(_today() - timedelta(days=40)),
        expires_at=_at(due + timedelta(days=14)),
    )


def _world(session) -> dict:
    """Four suppliers, each with a Japanese and an English contact, an open assessment, a
    completed one with findings, their links, an attestation and a contract; our users in both
    languages."""
    today = _today()
    session.add(Setting(key="sender_profile", value=SENDER))
    owners = [
        User(
            id=7101, role=Role.procurement, email="o1@sample.co.jp", name="調達 一郎", locale="ja"
        ),
        User(id=7102, role=Role.procurement, email="o2@sample.jp", name="<b>J</b>", locale="en"),
        User(id=7103, role=Role.ciso, email="ciso@sample.co.jp", name=""),
    ]
    for owner in owners:
        owner.password_hash = "x"
    session.add_all(owners)
    kinds = [
        (AttestationKind.isms, "", None),
        (AttestationKind.cyber_insurance, "", None),
        (AttestationKind.security_action, "", SecurityActionLevel.star2),
        (AttestationKind.other, "{{ 1 + 1 }} 独自認証 <u>", None),
    ]
    world: dict = {"owners": owners, "suppliers": []}
    for n, (name_ja, name_en) in enumerate(NAMES):
        supplier = Supplier(
            id=7200 + n,
            name_ja=name_ja,
            name_en=name_en,
            owner=owners[n % 2],
            category=SupplierCategory.outsourcing_contractor,
            next_review_on=today - timedelta(days=n),
        )
        contacts = [_contact(7300 + 2 * n + k, supplier, locale, n + k) for k, locale in
                    enumerate(("ja", "en"))]  # fmt: skip
        due = today + timedelta(days=(7, 0, -8, -15)[n])
        assessment = Assessment(
            id=7400 + n,
            supplier=supplier,
            template_id=TEMPLATE_ID,
            template_version=1,
            status=(AssessmentStatus.sent, AssessmentStatus.returned)[n % 2],
            due_on=due,
            sent_at=_at(today - timedelta(days=40)),
            message=f"ご確認ください {{{{ n }}}} <{n}>",
        )
        review = Assessment(
            id=7450 + n,
            supplier=supplier,
            template_id=TEMPLATE_ID,
            template_version=1,
            status=AssessmentStatus.completed,
            due_on=today - timedelta(days=60),
            sent_at=_at(today - timedelta(days=90)),
            completed_at=_at(today - timedelta(days=40)),
        )
        links = [_link(7500 + 2 * n + k, assessment, c, due) for k, c in enumerate(contacts)]
        review_links = [_link(7550 + 2 * n + k, review, c, due) for k, c in enumerate(contacts)]
        kind, other_name, level = kinds[n]
        attestation = Attestation(
            id=7600 + n,
            supplier=supplier,
            kind=kind,
            name=other_name,
            level=level,
            identifier=("", "IS 123 <x>", "SA-{{ 9 }}", "Z&Z")[n],
            expires_on=today + timedelta(days=(30, 7, 0, -3)[n]),
            issued_on=today - timedelta(days=400),
        )
        contract = Contract(
            id=7700 + n,
            supplier=supplier,
            title=f"業務委託契約 {{{{ {n} }}}} <契約>",
            ends_on=today + timedelta(days=(90, 30, -2, 7)[n]),
        )
        findings = [_finding(7800 + 2 * n + k, review, owners, n, k) for k in range(2)]
        session.add_all([supplier, *contacts, assessment, review, *links, *review_links])
        session.add_all([attestation, contract, *findings])
        world["suppliers"].append(
            {
                "supplier": supplier,
                "contacts": contacts,
                "assessment": assessment,
                "review": review,
                "links": links,
                "review_links": review_links,
                "attestation": attestation,
                "contract": contract,
                "findings": findings,
            }
        )
    session.flush()
    return world


def _contact(id_: int, supplier: Supplier, locale: str, n: int) -> Contact:
    person, department, title = PEOPLE[n % len(PEOPLE)]
    return Contact(
        id=id_,
        supplier=supplier,
        name=person,
        locale=locale,
        email=f"c{id_}@supplier.example.jp",
        department=department,
        job_title=title,
        is_primary=id_ % 2 == 0,
    )


def _finding(id_: int, review: Assessment, owners: list[User], n: int, k: int) -> Finding:
    """Open findings due before and after today; one risk accepted per supplier."""
    accepted = k == n % 2
    today = _today()
    return Finding(
        id=id_,
        supplier=review.supplier,
        assessment=review,
        title=f"指摘 {{% if x %}}{n}-{k} <img src=x>",
        severity=list(Severity)[(n + k) % 4],
        required_action="" if k else "ログを1年保管\n設定の写しを提出 {{ x }}",
        supplier_plan="" if n % 2 else "6月までに対応 <予定>",
        due_on=today + timedelta(days=(7, -1, 7, -8)[(n + k) % 4]),
        owner=owners[k],
        status=FindingStatus.risk_accepted if accepted else FindingStatus.open,
        accepted_by=owners[2] if accepted else None,
        accepted_reason="理由 <b>{{ r }}</b>" if accepted else "",
        accepted_until=today + timedelta(days=30) if accepted else None,
    )


def _every_mail(world: dict) -> None:
    """Each kind of mail a job writes, to each supplier's contacts and our users."""
    template = catalog().get(TEMPLATE_ID, 1)
    today = _today()
    owner, other_owner, ciso = world["owners"]
    stages = [Stage("before", today, 7), Stage("due_today", today, 0), Stage("overdue", today, 8)]
    for n, s in enumerate(world["suppliers"]):
        assessment, attestation = s["assessment"], s["attestation"]
        for k, (invitation, contact) in enumerate(zip(s["links"], s["contacts"], strict=True)):
            link = f"https://vendorrisk.sample.co.jp/portal/tok{n}{k}_{'x' * 40}"
            for stage in stages:
                reply_by = today + timedelta(days=7) if stage.kind == "overdue" else None
                questionnaire.reminder(invitation, link, template, stage, reply_by)
            questionnaire.invitation(invitation, link, template)
            questionnaire.evidence_request(
                attestation, contact, 7, today, link.replace("/portal/", "/portal/e/"),
                _at(today + timedelta(days=30 + n), hour=n * 5),
            )  # fmt: skip
            for kind, days in (("before", 7), ("after", 8)):
                follow_up.finding_reminder(
                    s["review_links"][k],
                    s["review"],
                    template,
                    s["findings"],
                    (kind, days),
                    s["findings"][0].due_on,
                    link,
                    today + timedelta(days=9),
                )
        for user in (owner, other_owner):
            messages.overdue_to_owner(
                assessment, template, user, stages[2], today, [c.email for c in s["contacts"]]
            )
            messages.assessment_expired(assessment, template, user, today)
            messages.escalation(assessment, template, user, today)
            received = _at(today - timedelta(days=2)) if n == 1 else None
            asked = [] if n == 2 else s["contacts"]
            messages.attestation_expiring(user, attestation, 7, today, asked, received)
            messages.contract_ending(user, s["contract"], 30, today)
            messages.acceptance_expiring(user, s["findings"][n % 2], 30, today)
            messages.declaration_check(user, attestation, today)
            messages.recheck_no_contact(s["supplier"], user)


def _rows(session) -> list[tuple]:
    return list(
        session.execute(
            sa.select(
                OutboxMessage.dedupe_key,
                OutboxMessage.recipient,
                OutboxMessage.recipient_name,
                OutboxMessage.subject,
                OutboxMessage.kind,
                OutboxMessage.locale,
                OutboxMessage.contact_id,
                OutboxMessage.assessment_id,
                OutboxMessage.body_text,
                OutboxMessage.body_html,
            ).order_by(OutboxMessage.dedupe_key)
        )
    )


def test_a_batch_writes_each_mail_as_one_mail_alone_does(app):
    with in_app(app) as session:
        world = _world(session)
        _every_mail(world)  # no batch: each mail rendered by Flask as it is queued
        alone = _rows(session)
        session.execute(sa.delete(OutboxMessage))
        with outbox.batched():
            _every_mail(world)
        together = _rows(session)
    assert len(alone) == 4 * 2 * 7 + 4 * 2 * 8
    assert together == alone
    assert {row.locale for row in alone} == {"ja", "en"}
    texts = "\n".join(row.body_text for row in alone)
    htmls = "\n".join(row.body_html for row in alone)
    # What suppliers typed is text: never evaluated, escaped in HTML, their links not linked.
    assert "{{ 7 * 7 }} & Sons <b>Ltd</b>" in texts and "49" not in texts
    assert "{{ 7 * 7 }} &amp; Sons &lt;b&gt;Ltd&lt;/b&gt;" in htmls
    assert "<script>" not in htmls and "&lt;script&gt;alert(1)&lt;/script&gt;" in htmls
    assert "{% raw %}株式会社{{ config }}" in texts
    assert 'href="https://evil.example' not in htmls
    assert 'href="https://vendorrisk.sample.co.jp/portal/tok00_' in htmls
    # The dates of the Japanese letters, and the English ones.
    assert f"{_today().year}年" in texts and "（" in texts


def _deterministic_tokens(monkeypatch) -> None:
    serial = itertools.count()
    monkeypatch.setattr(
        "vendorrisk.models.mixins.secrets.token_urlsafe", lambda n: f"token{next(serial):038d}"
    )


def _one_day_of_jobs(app, monkeypatch, rendering: Callable | None) -> list[tuple]:
    """The outbox after a day of the jobs that write letters with new links, on a fresh
    world; `rendering` replaces `render.many` when given."""
    _deterministic_tokens(monkeypatch)
    if rendering is not None:
        monkeypatch.setattr(render, "many", rendering)
    with in_app(app) as session:
        _world(session)
        session.commit()
        now = _at(_today())
        for job in (expire_links, reminders, finding_reminders, expiry_alerts):
            job(now)
            session.commit()
        rows = _rows(session)
    with app.app_context(), db.engine.begin() as conn:
        from tests.conftest import empty_tables

        empty_tables(conn)
    return rows


@pytest.fixture
def one_by_one() -> Iterator[Callable]:
    yield lambda drafts: [render.one(draft) for draft in drafts]


def test_the_jobs_write_the_same_letters_whether_rendered_together_or_one_by_one(
    app, monkeypatch, one_by_one
):
    together = _one_day_of_jobs(app, monkeypatch, None)
    alone = _one_day_of_jobs(app, monkeypatch, one_by_one)
    kinds = {row.kind for row in together}
    assert {"reminder", "reminder_owner", "evidence_request", "expiry", "finding_reminder"} <= kinds
    assert together == alone
