"""After the review: the result reaches each contact with the findings and a working link,
finding reminders go before and after the due date once each, and a finding resolved or
accepted is told to the supplier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_assessment, make_finding, make_invitation
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Decision,
    Finding,
    FindingStatus,
    Invitation,
    OutboxMessage,
    Role,
    Severity,
    User,
)
from vendorrisk.services.assessments import portal
from vendorrisk.services.periodic.finding_reminders import finding_reminders, finding_stage
from vendorrisk.services.review import findings as finding_service
from vendorrisk.services.review import review

#: 10:30 on 1 April 2026 in Tokyo: the review is completed.
COMPLETED = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)
DUE = date(2026, 5, 29)


def _at(day: date) -> datetime:
    """09:15 in Tokyo on `day`, when the job runs."""
    return datetime(day.year, day.month, day.day, 0, 15, tzinfo=UTC)


def _mails(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def submitted(app, make_supplier, make_contact, make_user):
    """A submitted assessment: two contacts with links (one address bounces), two findings
    raised by the reviewer (one kept internal)."""
    supplier = make_supplier(name_ja="株式会社結果通知")
    sato = make_contact(supplier, name="佐藤 花子", email="sato@example.jp", locale="ja")
    smith = make_contact(supplier, name="John Smith", email="john@example.com", locale="en")
    gone = make_contact(
        supplier, name="不達 太郎", email="gone@example.jp", undeliverable_at=COMPLETED
    )
    reviewer = make_user(Role.reviewer)
    with app.app_context():
        assessment = make_assessment(
            supplier, status=AssessmentStatus.submitted, due_on=date(2026, 3, 31)
        )
        links = {}
        for contact, locale in ((sato, "ja"), (smith, "en"), (gone, "ja")):
            invitation = make_invitation(assessment, contact, locale=locale)
            links[contact.email] = invitation
        make_finding(
            supplier,
            assessment_id=assessment.id,
            title="アクセスログの保管期間が不足",
            severity=Severity.medium,
            required_action="1年以上保管してください。",
            due_on=DUE,
            created_at=COMPLETED,
        )
        make_finding(
            supplier,
            assessment_id=assessment.id,
            title="社内メモ",
            visible_to_supplier=False,
            created_at=COMPLETED,
        )
        db.session.commit()
        ids = {email: i.id for email, i in links.items()}
        assessment_id = assessment.id
    return assessment_id, ids, reviewer


def _complete(app, assessment_id: int, reviewer: User, decision=Decision.approved_with_conditions):
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        template = catalog().get(assessment.template_id, assessment.template_version)
        note = "" if decision == Decision.approved else "指摘事項の是正を条件とします。"
        review.complete(assessment, template, decision, note, reviewer, COMPLETED)
        db.session.commit()


def _token_of(body: str) -> str:
    return body.split("/portal/")[1].split()[0]


def test_complete_queues_the_result_with_the_findings_and_a_working_link(app, submitted, client):
    assessment_id, links, reviewer = submitted
    _complete(app, assessment_id, reviewer)
    with app.app_context():
        mails = {m.recipient: m for m in _mails("result")}
        assert set(mails) == {"sato@example.jp", "john@example.com"}  # not the bounced one
        ja = mails["sato@example.jp"]
        assert "条件付き承認" in ja.body_text and "指摘事項の是正を条件とします。" in ja.body_text
        assert "アクセスログの保管期間が不足" in ja.body_text and "社内メモ" not in ja.body_text
        assert "2026年5月29日（金）" in ja.body_text
        sato = db.session.get(Invitation, links["sato@example.jp"]).contact_id
        assert ja.dedupe_key == f"result:{assessment_id}:c{sato}"
        assert "Approved with conditions" in mails["john@example.com"].body_text
        token = _token_of(ja.body_text)
        new = portal.find_invitation(token)
        assert new is not None and new.contact.email == "sato@example.jp"
        assert portal.closed_reason(new, COMPLETED) is None  # the portal opens after completion
        old = db.session.get(Invitation, links["sato@example.jp"])
        assert old.revoked_at == COMPLETED  # the earlier link was rotated
        assert new.expires_at > datetime(2026, 5, 29, tzinfo=UTC)
    response = client.post(f"/portal/{token}", data={"lang": "ja"})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/q/"
    page = client.get("/portal/q/").get_data(as_text=True)
    assert "アクセスログの保管期間が不足" in page


def test_telling_the_result_again_leaves_the_links_already_sent_working(app, submitted):
    """The letter is queued once per contact; a second call must not revoke the link that
    letter carries while queueing nothing that would carry a new one."""
    assessment_id, links, reviewer = submitted
    _complete(app, assessment_id, reviewer)
    with app.app_context():
        token = _token_of(_mails("result")[0].body_text)
        assessment = db.session.get(Assessment, assessment_id)
        template = catalog().get(assessment.template_id, assessment.template_version)
        assert (
            finding_service.tell_result(assessment, template, COMPLETED + timedelta(hours=1)) == 0
        )
        db.session.commit()
        assert len(_mails("result")) == 2
        kept = portal.find_invitation(token)
        assert kept is not None and kept.revoked_at is None


def test_a_result_without_findings_thanks_and_carries_no_link(app, submitted):
    assessment_id, links, reviewer = submitted
    with app.app_context():
        db.session.execute(sa.delete(Finding).where(Finding.assessment_id == assessment_id))
        db.session.commit()
    _complete(app, assessment_id, reviewer, Decision.approved)
    with app.app_context():
        mails = _mails("result")
        assert len(mails) == 2
        assert all("/portal/" not in m.body_text for m in mails)
        assert "承認" in mails[0].body_text
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))
        assert count == 3  # no new link


@pytest.fixture
def completed(app, submitted):
    assessment_id, links, reviewer = submitted
    _complete(app, assessment_id, reviewer)
    return assessment_id


def _run(app, day: date) -> int:
    with app.app_context():
        result = finding_reminders(_at(day))
        db.session.commit()
        return result.done


def test_finding_reminders_go_before_and_after_the_due_date_once_each(app, completed):
    assert _run(app, DUE - timedelta(days=8)) == 0
    assert _run(app, DUE - timedelta(days=7)) == 2  # each contact
    assert _run(app, DUE - timedelta(days=7)) == 0  # a second run sends nothing twice
    assert _run(app, DUE - timedelta(days=6)) == 0
    assert _run(app, DUE + timedelta(days=1)) == 2
    assert _run(app, DUE + timedelta(days=1)) == 0
    with app.app_context():
        mails = _mails("finding_reminder")
        before = [m for m in mails if ":before:" in m.dedupe_key]
        after = [m for m in mails if ":after:" in m.dedupe_key]
        assert len(before) == len(after) == 2
        ja_after = next(m for m in after if m.recipient == "sato@example.jp")
        assert "2026年6月8日（月）までに" in ja_after.body_text  # a soft new date, a weekday
        new = portal.find_invitation(_token_of(ja_after.body_text))
        assert new is not None and portal.closed_reason(new, _at(DUE + timedelta(days=1))) is None
        live = db.session.scalars(
            sa.select(Invitation).where(
                Invitation.assessment_id == completed,
                Invitation.email == "sato@example.jp",
                Invitation.revoked_at.is_(None),
            )
        ).all()
        assert [i.id for i in live] == [new.id]  # one live link per contact


def test_no_reminder_for_a_resolved_finding(app, completed):
    with app.app_context():
        finding = db.session.scalar(sa.select(Finding).where(Finding.visible_to_supplier))
        finding_service.move_finding(finding, FindingStatus.resolved, COMPLETED)
        db.session.commit()
    assert _run(app, DUE - timedelta(days=7)) == 0
    assert _run(app, DUE + timedelta(days=1)) == 0


def test_a_stage_missed_is_caught_up_within_days_not_weeks():
    told = date(2026, 4, 1)
    assert finding_stage(DUE, told, DUE - timedelta(days=5)).kind == "before"
    assert finding_stage(DUE, told, DUE + timedelta(days=9)).days == 8
    assert finding_stage(DUE, told, DUE + timedelta(days=40)) is None
    assert finding_stage(DUE, DUE - timedelta(days=7), DUE - timedelta(days=7)) is None


def test_the_reminder_job_queries_do_not_grow_with_the_findings(app, completed, count_queries):
    def run_counting(day: date) -> int:
        with count_queries() as counter:
            _run(app, day)
        return counter.count

    one = run_counting(DUE - timedelta(days=7))
    with app.app_context():
        assessment = db.session.get(Assessment, completed)
        for n in range(5):
            make_finding(
                assessment.supplier_id,
                assessment_id=completed,
                title=f"追加の指摘事項{n}",
                due_on=DUE + timedelta(days=7),
                created_at=COMPLETED,
            )
        db.session.commit()
    six = run_counting(DUE)  # 7 days before the new findings' due date
    assert six == one


def test_resolved_and_accepted_findings_are_told_to_the_contacts(app, completed, make_user):
    ciso = make_user(Role.ciso)
    with app.app_context():
        visible = db.session.scalar(sa.select(Finding).where(Finding.visible_to_supplier))
        finding_service.move_finding(visible, FindingStatus.resolved, COMPLETED)
        db.session.commit()
        resolved = _mails("finding_resolved")
        assert sorted(m.recipient for m in resolved) == ["john@example.com", "sato@example.jp"]
        assert "解決済み" in next(m for m in resolved if m.locale == "ja").body_text
        finding_service.move_finding(visible, FindingStatus.open, COMPLETED)
        user = db.session.get(User, ciso.id)
        finding_service.accept_risk(visible, user, "代替統制で許容", date(2026, 9, 30), DUE)
        db.session.commit()
        accepted = _mails("finding_accepted")
        assert len(accepted) == 2
        ja = next(m for m in accepted if m.locale == "ja").body_text
        assert "2026年9月30日（水）" in ja and "代替統制" not in ja
        internal = db.session.scalar(sa.select(Finding).where(~Finding.visible_to_supplier))
        finding_service.move_finding(internal, FindingStatus.resolved, COMPLETED)
        db.session.commit()
        assert len(_mails("finding_resolved")) == 2  # an internal finding is not told
