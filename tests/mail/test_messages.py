"""Every mail the product sends, in Japanese and in English, compared with an expected file.

Each kind is queued through its `messages` (staff) or `questionnaire` (supplier) function with
the same fixed records, a fixed sender profile and a fixed now; the queued row's recipient,
subject, kind, dedupe key and text body must equal tests/mail/expected/<kind>.<lang>.txt, and
its HTML body <kind>.<lang>.html. After a deliberate change to a mail, rewrite the files with
VENDORRISK_WRITE_EXPECTED_MAIL=1 and read the diff before committing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import in_app
from tests.mail.expected_mail import (
    EXPECTED,
    NOW,
    assert_matches_expected,
    configured_at_now,
    queued,
)
from vendorrisk.catalog import Catalog, Template
from vendorrisk.mail import messages, questionnaire, sender
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Clarification,
    ClarificationMessage,
    Contact,
    Contract,
    EvidenceRequest,
    Finding,
    FindingStatus,
    Invitation,
    OutboxMessage,
    PasswordReset,
    Role,
    SecurityActionLevel,
    Severity,
    StoredFile,
    Supplier,
    SupplierCategory,
    User,
)
from vendorrisk.scoring.stages import Stage
from vendorrisk.services.periodic.weekly_digest import digest_sections

TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v2-supplier")
TODAY = date(2026, 4, 1)
#: A day when the questionnaire (due on 30 April) is 8 days overdue.
LATE = date(2026, 5, 8)
LINK = "https://vendorrisk.sample.co.jp/portal/TWFpbFRlc3RGaXhlZFRva2VuXy0wMTIzNDU2Nzg5"
EVIDENCE_LINK = "https://vendorrisk.sample.co.jp/portal/e/RXZpZGVuY2VGaXhlZFRva2VuXy0wMTIzNDU2Nzg5"
RESET_LINK = "https://vendorrisk.sample.co.jp/auth/reset/UmVzZXRGaXhlZFRva2VuXy0wMTIzNDU2Nzg5MDEy"
RESET_FOR = timedelta(minutes=30)
#: The settings a mail shows, fixed whatever the environment says.
#: Who writes to suppliers (the sender profile an admin keeps in the settings).
SENDER = {
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


@dataclass
class World:
    """The fixed records every mail is written about."""

    template: Template
    owner: User
    reviewer: User
    ciso: User
    supplier: Supplier
    contact: Contact
    assessment: Assessment
    invitation: Invitation
    clarification: Clarification
    attestation: Attestation
    contract: Contract
    finding: Finding
    evidence: EvidenceRequest


def build_world(session, lang: str) -> World:
    """One supplier with its contact, owner and reviewer in `lang`, an assessment sent to them."""

    def user(id: int, role: Role, email: str, name: str) -> User:
        return User(id=id, role=role, email=email, name=name, locale=lang, password_hash="x")

    owner = user(11, Role.procurement, "tanaka@sample.co.jp", "田中 一郎")
    reviewer = user(12, Role.reviewer, "suzuki@sample.co.jp", "鈴木 次郎")
    ciso = user(13, Role.ciso, "takahashi@sample.co.jp", "高橋 三郎")
    supplier = Supplier(
        id=21,
        name_ja="株式会社テスト物流",
        name_en="Test Logistics Co., Ltd.",
        category=SupplierCategory.outsourcing_contractor,
        owner=owner,
        next_review_on=TODAY,
    )
    contact = Contact(
        id=31,
        supplier=supplier,
        name="佐藤 花子" if lang == "ja" else "Hanako Sato",
        email="sato@test-logistics.jp",
        locale=lang,
        department="情報システム部" if lang == "ja" else "IT Department",
        job_title="課長" if lang == "ja" else "Manager",
    )
    assessment = Assessment(
        id=41,
        supplier=supplier,
        template_id=TEMPLATE.id,
        template_version=TEMPLATE.version,
        status=AssessmentStatus.submitted,
        due_on=date(2026, 4, 30),
        message="年次のご確認です。ご協力をお願いいたします。",
        sent_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        submitted_at=NOW,
        reviewer=reviewer,
        review_note="A-3 の証跡（規程の写し）を添付してください。",
    )
    invitation = Invitation(
        id=51,
        assessment=assessment,
        contact=contact,
        email=contact.email,
        locale=lang,
        token_hash="0" * 64,
        created_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        expires_at=datetime(2026, 5, 7, 15, 0, tzinfo=UTC),
    )
    clarification = Clarification(
        id=61, assessment=assessment, question_id=TEMPLATE.questions[0].id, created_at=NOW
    )
    clarification.messages = [
        ClarificationMessage(
            id=71,
            author_type="reviewer",
            author_label=reviewer.email,
            body="対象範囲を教えてください。",
            created_at=NOW,
        ),
        ClarificationMessage(
            id=72,
            author_type="contact",
            author_label=contact.email,
            body="本社と物流センターの2拠点です。",
            created_at=NOW,
        ),
    ]
    attestation = Attestation(
        id=81,
        supplier=supplier,
        kind=AttestationKind.isms,
        identifier="IS 123456",
        issued_on=date(2023, 5, 1),
        expires_on=date(2026, 4, 30),
    )
    contract = Contract(
        id=82,
        supplier=supplier,
        title="業務委託基本契約",
        starts_on=date(2024, 5, 1),
        ends_on=date(2026, 4, 30),
    )
    finding = Finding(
        id=83,
        supplier=supplier,
        assessment=assessment,
        title="アクセスログの保管期間が90日に満たない",
        severity=Severity.medium,
        status=FindingStatus.risk_accepted,
        accepted_by=ciso,
        accepted_reason="代替の監視で補う（次回契約更新時に見直し）",
        accepted_until=date(2026, 4, 30),
    )
    stored = StoredFile(
        id=85,
        storage_key="e" * 64,
        original_name="ISMS登録証_2026.pdf",
        content_type="application/pdf",
        size=123456,
        sha256="0" * 64,
        created_at=NOW,
    )
    evidence = EvidenceRequest(
        id=84,
        attestation=attestation,
        contact=contact,
        email=contact.email,
        locale=lang,
        token_hash="1" * 64,
        created_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        expires_at=datetime(2026, 5, 31, 15, 0, tzinfo=UTC),
        fulfilled_at=NOW,
        stored_file=stored,
    )
    session.add_all(
        [owner, reviewer, ciso, supplier, contact, assessment, invitation, clarification]
        + [attestation, contract, finding, stored, evidence]
    )
    session.flush()
    sender.save(SENDER)
    return World(
        TEMPLATE,
        owner,
        reviewer,
        ciso,
        supplier,
        contact,
        assessment,
        invitation,
        clarification,
        attestation,
        contract,
        finding,
        evidence,
    )


#: Each mail kind, as its service queues it.
KINDS: dict[str, Callable[[World], object]] = {
    "invitation": lambda w: questionnaire.invitation(w.invitation, LINK, w.template),
    "resend": lambda w: questionnaire.resend(w.invitation, LINK, w.template),
    "clarification": lambda w: questionnaire.clarification_asked(w.invitation, LINK, w.template),
    "returned": lambda w: questionnaire.returned(w.invitation, LINK, w.template),
    "due_extended": lambda w: questionnaire.due_extended(w.invitation, w.template),
    "cancelled": lambda w: questionnaire.cancelled(w.invitation, w.template),
    "submitted": lambda w: questionnaire.submitted(w.invitation, w.template),
    "submitted_owner": lambda w: messages.submitted_to_owner(w.assessment, w.template, w.owner),
    "clarification_reply": lambda w: messages.clarification_answered(w.clarification, w.reviewer),
    # the periodic jobs
    "recheck_no_contact": lambda w: messages.recheck_no_contact(w.supplier, w.owner),
    "reminder_before": lambda w: questionnaire.reminder(
        w.invitation, LINK, w.template, Stage("before", date(2026, 4, 23), 7)
    ),
    "reminder_due_today": lambda w: questionnaire.reminder(
        w.invitation, LINK, w.template, Stage("due_today", date(2026, 4, 30), 0)
    ),
    "reminder_overdue": lambda w: questionnaire.reminder(
        w.invitation, LINK, w.template, Stage("overdue", date(2026, 5, 1), 1), date(2026, 5, 8)
    ),
    "overdue_to_owner": lambda w: messages.overdue_to_owner(
        w.assessment, w.template, w.owner, Stage("overdue", LATE, 8), LATE, [w.contact.email]
    ),
    "escalation": lambda w: messages.escalation(w.assessment, w.template, w.ciso, LATE),
    "assessment_expired": lambda w: messages.assessment_expired(
        w.assessment, w.template, w.owner, LATE
    ),
    "evidence_request": lambda w: questionnaire.evidence_request(
        w.attestation, w.contact, 30, TODAY, EVIDENCE_LINK, w.evidence.expires_at
    ),
    "attestation_expiring": lambda w: messages.attestation_expiring(
        w.owner, w.attestation, 30, TODAY, [w.contact], None
    ),
    "contract_ending": lambda w: messages.contract_ending(w.owner, w.contract, 30, TODAY),
    "acceptance_expiring": lambda w: messages.acceptance_expiring(w.ciso, w.finding, 30, TODAY),
    "evidence_received": lambda w: messages.evidence_received(
        w.owner,
        w.evidence,
        w.evidence.stored_file,
        date(2029, 4, 30),
        date(2026, 4, 30),
        TODAY,
    ),
    "digest": lambda w: messages.digest(w.ciso, digest_sections(NOW, TODAY), TODAY),
    # staff accounts
    "password_reset": lambda w: messages.password_reset(
        PasswordReset(id=91, user=w.reviewer, token_hash="2" * 64, expires_at=NOW + RESET_FOR),
        RESET_LINK,
    ),
}


@pytest.fixture
def fixed(app, monkeypatch) -> Iterator[None]:
    yield from configured_at_now(app, monkeypatch)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_mail_matches_its_expected_files(app, fixed, kind, lang):
    assert_matches_expected(f"{kind}.{lang}", queued(app, build_world, KINDS[kind], lang))


def test_every_expected_file_belongs_to_a_mail_kind():
    """A kind removed from the product takes its expected files with it."""
    from tests.mail.test_follow_up import KINDS as FOLLOW_UP  # the letters after a review

    names = {p.name for p in EXPECTED.iterdir() if p.is_file()}
    kinds = {f"{kind}.{lang}" for kind in [*KINDS, *FOLLOW_UP] for lang in ("ja", "en")}
    assert names == {f"{name}.{ending}" for name in kinds for ending in ("txt", "html")}


@pytest.mark.parametrize(
    ("lang", "asked", "never"),
    [
        ("ja", "更新後の宣言の内容がわかる書類", ("取得", "認定", "証明書")),
        ("en", "a document showing the renewed declaration", ("certificate", "Certification:")),
    ],
)
def test_a_security_action_renewal_is_asked_for_as_a_declaration(app, fixed, lang, asked, never):
    """SECURITY ACTION is a self-declaration: nothing obtained, certified or certificated."""
    with in_app(app) as session:
        world = build_world(session, lang)
        world.attestation.kind = AttestationKind.security_action
        world.attestation.level = SecurityActionLevel.star2
        KINDS["evidence_request"](world)
        [row] = session.scalars(sa.select(OutboxMessage)).all()
    assert asked in row.body_text
    assert [word for word in never if word in row.body_text] == []
