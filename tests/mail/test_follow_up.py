"""The letters after a review (mail/follow_up.py), in Japanese and English, compared with their
expected files: the result with findings, without, and not approved; a finding reminder before
and after its due date, a finding resolved, a risk accepted, and a colleague added from the
portal while the questionnaire is open, while a reviewer's question awaits, and after the review.

Each letter is queued with the same fixed records, sender profile and now; the queued row's
recipient, subject, kind, dedupe key and text must equal tests/mail/expected/<kind>.<lang>.txt,
and its HTML part <kind>.<lang>.html. After a deliberate change, rewrite them with
VENDORRISK_WRITE_EXPECTED_MAIL=1 and read every changed file before committing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from tests.conftest import in_app
from tests.mail.expected_mail import (
    NOW,
    assert_matches_expected,
    configured_at_now,
    queued,
)
from vendorrisk.catalog import Catalog
from vendorrisk.mail import follow_up
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Clarification,
    ClarificationMessage,
    Contact,
    Decision,
    Finding,
    FindingStatus,
    Invitation,
    OutboxMessage,
    Role,
    Setting,
    Severity,
    Supplier,
    SupplierCategory,
    User,
)

TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v2-supplier")
LINK = "https://vendorrisk.sample.co.jp/portal/TWFpbFRlc3RGaXhlZFRva2VuXy0wMTIzNDU2Nzg5"
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
#: What the reviewer wrote, in the contact's language.
TEXTS = {
    "ja": {
        "note": "指摘事項1・2について、是正計画を2026年4月30日（木）までにご提出ください。",
        "f1": "アクセスログの保管期間が90日に満たない",
        "f1_action": "アクセスログを1年以上保管する設定に変更し、設定画面の写しをご提出ください。",
        "f2": "再委託先との契約書にセキュリティ要求事項が明記されていない",
        "f2_action": "再委託先との契約書に、当社の情報セキュリティ要求事項と"
        "インシデント発生時の報告義務を追加してください。",
        "plan": "2026年6月中旬までに、ログの保管期間を1年に変更する予定です。",
        "done": "ログの保管期間を1年に変更しました（設定画面の写しを添付済み）。",
        "question": "バックアップの保管場所（社内・社外の別）をお教えください。",
        "reason": "個人情報を取り扱う業務の再委託先について、"
        "管理状況をご回答いただけませんでした。",
    },
    "en": {
        "note": "Please send us your remediation plans for findings 1 and 2 by 30 April 2026.",
        "f1": "Access logs are kept for less than 90 days",
        "f1_action": "Keep access logs for at least one year, and send us a copy of the setting.",
        "f2": "Contracts with subcontractors do not state security requirements",
        "f2_action": "Add our security requirements and the duty to report incidents "
        "to your contracts with subcontractors.",
        "plan": "We will keep logs for one year from mid-June 2026.",
        "done": "Logs are now kept for one year (a copy of the setting is attached).",
        "question": "Where are your backups kept (on your premises or elsewhere)?",
        "reason": "We could not see how subcontractors handling personal data are managed.",
    },
}


@dataclass
class World:
    supplier: Supplier
    contact: Contact
    colleague: Contact
    assessment: Assessment
    invitation: Invitation
    colleague_invitation: Invitation
    f1: Finding
    f2: Finding
    lang: str


def build_world(session, lang: str) -> World:
    """A supplier's contact who answered a completed review with two findings, and the
    colleague she added from the portal; everything in `lang`."""
    text = TEXTS[lang]
    ciso = User(
        id=13, role=Role.ciso, email="ciso@sample.co.jp", name="高橋 三郎", password_hash="x"
    )
    supplier = Supplier(
        id=21,
        name_ja="株式会社テスト物流",
        name_en="Test Logistics Co., Ltd.",
        category=SupplierCategory.outsourcing_contractor,
    )
    contact = Contact(
        id=31,
        supplier=supplier,
        name="佐藤 花子" if lang == "ja" else "Hanako Sato",
        email="sato@test-logistics.jp",
        department="情報システム部" if lang == "ja" else "IT Department",
        job_title="課長" if lang == "ja" else "Manager",
        locale=lang,
    )
    colleague = Contact(
        id=32,
        supplier=supplier,
        name="山田 太郎" if lang == "ja" else "Taro Yamada",
        email="yamada@test-logistics.jp",
        department="情報システム部 インフラ課" if lang == "ja" else "IT Infrastructure",
        locale=lang,
        added_by=contact,
        added_at=NOW,
    )
    assessment = Assessment(
        id=41,
        supplier=supplier,
        template_id=TEMPLATE.id,
        template_version=TEMPLATE.version,
        status=AssessmentStatus.completed,
        due_on=date(2026, 3, 31),
        sent_at=datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        submitted_at=datetime(2026, 3, 25, 0, 0, tzinfo=UTC),
        completed_at=NOW,
        decision=Decision.approved_with_conditions,
        review_note=text["note"],
    )

    def link(id_: int, who: Contact) -> Invitation:
        return Invitation(
            id=id_,
            assessment=assessment,
            contact=who,
            email=who.email,
            locale=lang,
            token_hash=str(id_) * 64,
            created_at=NOW,
            expires_at=datetime(2026, 7, 7, 15, 0, tzinfo=UTC),
        )

    invitation, colleague_invitation = link(5, contact), link(6, colleague)
    f1 = Finding(
        id=83,
        supplier=supplier,
        assessment=assessment,
        title=text["f1"],
        severity=Severity.medium,
        required_action=text["f1_action"],
        due_on=date(2026, 5, 29),
    )
    f2 = Finding(
        id=84,
        supplier=supplier,
        assessment=assessment,
        title=text["f2"],
        severity=Severity.high,
        required_action=text["f2_action"],
        due_on=date(2026, 6, 30),
        accepted_by=ciso,
    )
    session.add_all([Setting(key="sender_profile", value=SENDER), ciso, supplier, contact])
    session.add_all([colleague, assessment, invitation, colleague_invitation, f1, f2])
    session.flush()
    return World(
        supplier, contact, colleague, assessment, invitation, colleague_invitation, f1, f2, lang
    )


def _result_without_findings(w: World):
    w.assessment.decision, w.assessment.review_note = Decision.approved, ""
    return follow_up.result(w.invitation, w.assessment, TEMPLATE, [], None)


def _result_not_approved(w: World):
    """Not approved, with one finding to remediate and one whose risk we accepted."""
    w.assessment.decision, w.assessment.review_note = Decision.rejected, TEXTS[w.lang]["reason"]
    w.f2.status, w.f2.accepted_until = FindingStatus.risk_accepted, date(2026, 9, 30)
    return follow_up.result(w.invitation, w.assessment, TEMPLATE, [w.f1, w.f2], LINK)


def _reminder_after(w: World):
    w.f1.status, w.f1.supplier_plan = FindingStatus.in_progress, TEXTS[w.lang]["plan"]
    stage = ("after", 1)
    return follow_up.finding_reminder(
        w.invitation, w.assessment, TEMPLATE, [w.f1], stage, w.f1.due_on, LINK, date(2026, 6, 8)
    )


def _resolved(w: World):
    w.f1.status, w.f1.resolved_at = FindingStatus.resolved, NOW
    w.f1.supplier_plan = TEXTS[w.lang]["done"]
    return follow_up.finding_resolved(w.invitation, w.f1, TEMPLATE)


def _accepted(w: World):
    w.f2.status, w.f2.accepted_until = FindingStatus.risk_accepted, date(2026, 9, 30)
    w.f2.accepted_reason = "代替の監視で補う（次回契約更新時に見直し）"
    return follow_up.finding_accepted(w.invitation, w.f2, TEMPLATE)


def _delegated(w: World):
    w.assessment.status, w.assessment.due_on = AssessmentStatus.in_progress, date(2026, 4, 30)
    return follow_up.delegated(w.colleague_invitation, LINK, w.contact, TEMPLATE, [])


def _delegated_clarification(w: World):
    """Added while a reviewer's question awaits the supplier: the reply is asked for, not the
    plans of findings raised before completion (the service passes them nonetheless)."""
    w.assessment.status, w.assessment.completed_at = AssessmentStatus.submitted, None
    w.assessment.decision, w.assessment.review_note = None, ""
    clarification = Clarification(question_id="sup-prof-01", created_at=NOW)
    clarification.messages.append(
        ClarificationMessage(
            author_type="reviewer",
            author_label="suzuki@sample.co.jp",
            body=TEXTS[w.lang]["question"],
            created_at=NOW,
        )
    )
    w.assessment.clarifications.append(clarification)
    return follow_up.delegated(w.colleague_invitation, LINK, w.contact, TEMPLATE, [w.f1, w.f2])


def _delegated_findings(w: World):
    return follow_up.delegated(w.colleague_invitation, LINK, w.contact, TEMPLATE, [w.f1, w.f2])


#: Each letter, as its service queues it.
KINDS: dict[str, Callable[[World], object]] = {
    "result": lambda w: follow_up.result(w.invitation, w.assessment, TEMPLATE, [w.f1, w.f2], LINK),
    "result_no_findings": _result_without_findings,
    "result_not_approved": _result_not_approved,
    "finding_reminder_before": lambda w: follow_up.finding_reminder(
        w.invitation,
        w.assessment,
        TEMPLATE,
        [w.f1],
        ("before", 7),
        w.f1.due_on,
        LINK,
        date(2026, 5, 29),
    ),
    "finding_reminder_after": _reminder_after,
    "finding_resolved": _resolved,
    "finding_accepted": _accepted,
    "delegated": _delegated,
    "delegated_clarification": _delegated_clarification,
    "delegated_findings": _delegated_findings,
}


def _letter(app, kind: str, lang: str) -> dict[str, str]:
    return queued(app, build_world, KINDS[kind], lang)


@pytest.fixture
def fixed(app, monkeypatch) -> Iterator[None]:
    yield from configured_at_now(app, monkeypatch)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_letter_matches_its_expected_files(app, fixed, kind, lang):
    assert_matches_expected(f"{kind}.{lang}", queued(app, build_world, KINDS[kind], lang))


def test_the_result_names_no_score_and_keeps_the_acceptance_reason_internal(app, fixed):
    """What stays ours: the score is not in the result, the CISO's reason not in the letter."""
    ja = _letter(app, "finding_accepted", "ja")["txt"]
    assert "代替の監視" not in ja
    assert "スコア" not in _letter(app, "result", "ja")["txt"]


def test_only_the_letters_own_links_are_made_clickable(app, fixed):
    """The portal link and our announcement page are links in the HTML part; an address typed
    by a supplier (here into a colleague's name) stays text."""
    typed = "https://evil.example/login"
    with in_app(app) as session:
        world = build_world(session, "ja")
        world.colleague.name = f"山田 太郎 {typed}"
        _delegated(world)
        [row] = session.scalars(sa.select(OutboxMessage)).all()
        assert typed in row.body_text and typed in row.body_html
        assert f'href="{typed}' not in row.body_html
        assert f'href="{LINK}"' in row.body_html
        assert f'href="{SENDER["announcement_url"]}"' in row.body_html


def test_a_colleague_added_during_a_question_is_not_asked_for_plans(app, fixed):
    """A reviewer's question awaits the supplier: the letter asks for the reply, and lists no
    finding even when the service passes some (raised before the review completes)."""
    for lang in ("ja", "en"):
        text = _letter(app, "delegated_clarification", lang)["txt"]
        assert TEXTS[lang]["f1"] not in text and TEXTS[lang]["f2"] not in text
        assert ("是正計画" if lang == "ja" else "remediation") not in text
