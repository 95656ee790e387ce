"""Review after submission: scores, clarifications, returning, completing, findings, tiers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from markupsafe import escape

from tests.conftest import body_of, in_app, link_in
from tests.factories import make_answer, make_assessment, make_finding, make_invitation
from vendorrisk import clock
from vendorrisk.catalog import Catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Finding,
    FindingStatus,
    Role,
    Supplier,
    TierChange,
)
from vendorrisk.models.mixins import hash_token as token_hash
from vendorrisk.scoring import scores, tiers
from vendorrisk.services.register import scs

TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v2-supplier")
EN = {"Accept-Language": "en"}
CRITICAL = next(q for q in TEMPLATE.questions if q.critical and q.type == "yes_partial_no")
PARTIAL = next(
    q for q in TEMPLATE.questions if q.type == "yes_partial_no" and not q.critical and not q.show_if
)


def _good_value(q):
    if q.evidence:
        return "na"  # keeps the fixture free of evidence files
    return q.kind.sample(q)


@pytest.fixture
def submitted(app, make_user, make_supplier, make_contact, smtp_server):
    """A submitted assessment: everything "yes" except one critical "no" and one "partial"."""
    owner = make_user(Role.procurement)
    supplier = make_supplier(
        name_ja="株式会社レビュー対象",
        owner_id=owner.id,
        shares_confidential_info=True,
        criticality="high",
    )
    contact = make_contact(supplier, email="review@example.jp", locale="ja", is_primary=True)
    token = "review-token-" + "r" * 40
    with app.app_context():
        assessment = make_assessment(
            supplier,
            TEMPLATE,
            due_on=date.today() + timedelta(days=10),
            status=AssessmentStatus.submitted,
            sent_at=datetime.now(UTC),
            submitted_at=datetime.now(UTC),
        )
        for q in TEMPLATE.questions:
            value = _good_value(q)
            if q is CRITICAL:
                value = "no"
            elif q is PARTIAL:
                value = "partial"
            if value is not None:
                make_answer(assessment, q.id, value)
        make_invitation(
            assessment,
            contact,
            locale="ja",
            token_hash=token_hash(token),
            expires_at=datetime.now(UTC) + timedelta(days=30),
        )
        db.session.commit()
        assessment_id = assessment.id
        db.session.remove()
    return SimpleNamespace(
        id=assessment_id,
        supplier=supplier,
        contact=contact,
        owner=owner,
        token=token,
        smtp=smtp_server,
    )


def _get(ctx, model, id_):
    with ctx() as session:
        return session.get(model, id_)


def _open_portal(app, link):
    client = app.test_client()
    path = re.sub(r"^https?://[^/]+", "", link)
    assert client.post(path).status_code == 302
    return client


def test_the_review_page_explains_the_score_and_flags(auth, submitted):
    auth.login(Role.reviewer)
    page = auth.client.get(f"/assessments/{submitted.id}", headers=EN).get_data(as_text=True)
    assert "How the score was made" in page
    assert "Capped at 40" in page
    assert f'href="#q-{CRITICAL.id}"' in page and 'Critical "no"' in page
    assert "Suggested findings" in page and str(escape(PARTIAL.text.en)) in page


def test_completing_stores_the_score_with_the_version_and_sets_tier_and_next_review(
    auth, submitted, ctx
):
    auth.login(Role.reviewer)
    response = auth.client.post(
        f"/assessments/{submitted.id}/complete",
        data={
            "done-decision": "approved_with_conditions",
            "done-note": "是正計画の提出を条件とする",
        },
    )
    assert response.status_code == 302
    assessment = _get(ctx, Assessment, submitted.id)
    assert assessment.status == AssessmentStatus.completed and assessment.completed_at
    assert assessment.score == 40.0  # capped by the critical "no"
    stored = scores.ScoreResult.from_dict(assessment.score_detail)
    assert stored.capped and stored.critical_failures == (CRITICAL.id,)
    assert stored.uncapped > 90
    assert assessment.template_version == TEMPLATE.version
    supplier = _get(ctx, Supplier, submitted.supplier.id)
    assert supplier.latest_score == 40.0
    rules = tiers.DEFAULT_RULES
    assert supplier.tier in tiers.LEVELS and supplier.tier_source == "rule"
    with ctx():
        today = clock.today()  # the company's day (Asia/Tokyo), not the server's
    assert supplier.next_review_on == tiers.next_review(today, supplier.tier, rules)
    assert supplier.latest_score_on == today
    with ctx() as session:
        assert session.scalars(
            sa.select(TierChange).where(TierChange.supplier_id == supplier.id)
        ).all()


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {"done-decision": "approved_with_conditions", "done-note": ""},
            "Give the conditions or the reasons for this decision.",
        ),
        ({"done-decision": "nonsense"}, "Not a valid choice"),
    ],
)
def test_a_decision_needs_its_reasons(auth, submitted, ctx, data, message):
    auth.login(Role.reviewer)
    response = auth.client.post(
        f"/assessments/{submitted.id}/complete", data=data, headers=EN, follow_redirects=True
    )
    assert message in response.get_data(as_text=True)
    assert _get(ctx, Assessment, submitted.id).status == AssessmentStatus.submitted


def test_an_unsubmitted_assessment_cannot_be_completed(auth, submitted, ctx):
    with ctx() as session:
        session.get(Assessment, submitted.id).status = AssessmentStatus.in_progress
        session.commit()
    auth.login(Role.reviewer)
    response = auth.client.post(
        f"/assessments/{submitted.id}/complete",
        headers=EN,
        data={"done-decision": "approved"},
        follow_redirects=True,
    )
    assert "This cannot be done while the assessment is Being answered." in response.get_data(
        as_text=True
    )
    assert _get(ctx, Assessment, submitted.id).status == AssessmentStatus.in_progress


def test_an_auditor_changes_nothing(auth, submitted, ctx):
    auth.login(Role.auditor)
    for url, data in (
        (f"/assessments/{submitted.id}/complete", {"done-decision": "approved"}),
        (f"/assessments/{submitted.id}/clarifications", {}),
        (f"/assessments/{submitted.id}/return", {}),
        (f"/assessments/{submitted.id}/findings", {"finding-title": "x"}),
    ):
        assert auth.client.post(url, data=data).status_code == 403
    assert _get(ctx, Assessment, submitted.id).status == AssessmentStatus.submitted


def test_clarification_through_the_portal_and_mail(app, auth, submitted, ctx):
    reviewer = auth.login(Role.reviewer)
    response = auth.client.post(
        f"/assessments/{submitted.id}/clarifications",
        data={"ask-question_id": PARTIAL.id, "ask-body": "一部実施の範囲を教えてください。"},
    )
    assert response.status_code == 302
    mail = submitted.smtp.messages[-1]
    assert "質問" in mail["Subject"] and "review@example.jp" in mail["To"]
    supplier = _open_portal(app, link_in(mail))
    overview = supplier.get("/portal/q/").get_data(as_text=True)
    assert "一部実施の範囲を教えてください。" in overview
    # The answers stay frozen while the supplier replies.
    section = next(s for s in TEMPLATE.sections if PARTIAL in s.questions)
    frozen = supplier.post(
        f"/portal/q/section/{section.id}", data={f"v-{PARTIAL.id}": "1", f"a-{PARTIAL.id}": "yes"}
    )
    assert frozen.status_code == 409
    with ctx() as session:
        clarification_id = session.get(Assessment, submitted.id).clarifications[0].id
    replied = supplier.post(
        f"/portal/q/clarifications/{clarification_id}",
        data={"body": "東京本社のみで実施しています。"},
    )
    # No other question awaits: the link has closed, so the thanks page, not a closed link.
    assert replied.headers["Location"].endswith("/portal/q/done")
    assert supplier.get(replied.headers["Location"]).status_code == 200
    assert submitted.smtp.messages[-1]["To"].addresses[0].addr_spec == reviewer.email
    page = auth.client.get(f"/assessments/{submitted.id}", headers=EN).get_data(as_text=True)
    assert "東京本社のみで実施しています。" in page and "Answered" in page
    with ctx() as session:
        assert (
            session.scalar(
                sa.select(Answer.value).where(
                    Answer.assessment_id == submitted.id, Answer.question_id == PARTIAL.id
                )
            )
            == "partial"
        )


def test_returned_questions_open_again_and_only_they(app, auth, submitted, ctx):
    auth.login(Role.reviewer)
    response = auth.client.post(
        f"/assessments/{submitted.id}/return",
        data={"ret-question_ids": [CRITICAL.id], "ret-note": "根拠を添えて見直してください。"},
    )
    assert response.status_code == 302
    assert _get(ctx, Assessment, submitted.id).status == AssessmentStatus.returned
    mail = submitted.smtp.messages[-1]
    assert "差し戻" in body_of(mail) or "見直して" in body_of(mail)
    supplier = _open_portal(app, link_in(mail))
    section = next(s for s in TEMPLATE.sections if CRITICAL in s.questions)
    other = next(q for q in section.questions if q is not CRITICAL and q.type == "yes_partial_no")
    with ctx() as session:
        rows = session.execute(
            sa.select(Answer.question_id, Answer.version, Answer.value).where(
                Answer.assessment_id == submitted.id
            )
        ).all()
        versions = {qid: version for qid, version, _ in rows}
        before = {qid: value for qid, _, value in rows}
    refused = supplier.post(
        f"/portal/q/section/{section.id}",
        data={f"v-{other.id}": str(versions[other.id]), f"a-{other.id}": "no"},
    )
    assert refused.status_code == 422
    assert "cannot be changed" in refused.get_data(
        as_text=True
    ) or "変更できません" in refused.get_data(as_text=True)
    allowed = supplier.post(
        f"/portal/q/section/{section.id}",
        data={f"v-{CRITICAL.id}": str(versions[CRITICAL.id]), f"a-{CRITICAL.id}": "yes"},
    )
    assert allowed.status_code == 302
    assert supplier.post("/portal/q/submit").status_code == 302
    assessment = _get(ctx, Assessment, submitted.id)
    assert assessment.status == AssessmentStatus.submitted
    with ctx() as session:
        answers = session.scalars(
            sa.select(Answer).where(Answer.assessment_id == submitted.id)
        ).all()
        assert not any(a.reopened for a in answers)
        assert {a.question_id: a.value for a in answers}[other.id] == before[other.id]


def test_findings_suggested_raised_answered_by_the_supplier_and_resolved(
    app, auth, submitted, ctx, smtp_server
):
    auth.login(Role.reviewer)
    auth.client.post(
        f"/assessments/{submitted.id}/findings",
        data={
            "finding-question_id": CRITICAL.id,
            "finding-title": "インシデント報告体制の未整備",
            "finding-severity": "high",
            "finding-required_action": "報告手順を定めること",
            "finding-due_on": (date.today() + timedelta(days=60)).isoformat(),
            "finding-visible_to_supplier": "y",
        },
    )
    auth.client.post(
        f"/assessments/{submitted.id}/complete",
        data={"done-decision": "approved_with_conditions", "done-note": "指摘事項の是正が条件"},
    )
    with ctx() as session:
        finding = session.scalar(sa.select(Finding))
    # The result letter carries a new link (the old one is retired) while a finding awaits its plan.
    (result,) = [m for m in smtp_server.messages if "/portal/" in body_of(m)]
    token = link_in(result).rsplit("/", 1)[1]
    assert app.test_client().get(f"/portal/{submitted.token}").status_code == 410
    supplier = app.test_client()
    assert supplier.post(f"/portal/{token}").status_code == 302
    overview = supplier.get("/portal/q/").get_data(as_text=True)
    assert "インシデント報告体制の未整備" in overview
    supplier.post(f"/portal/q/findings/{finding.id}", data={"plan": "3月末までに手順書を整備"})
    finding = _get(ctx, Finding, finding.id)
    assert finding.status == FindingStatus.in_progress
    assert finding.supplier_plan == "3月末までに手順書を整備"
    # Resolved, then a move that makes no sense is refused with a message.
    auth.client.post(f"/findings/{finding.id}/status", data={"status": "resolved"})
    assert _get(ctx, Finding, finding.id).status == FindingStatus.resolved
    response = auth.client.post(
        f"/findings/{finding.id}/status",
        data={"status": "in_progress"},
        headers=EN,
        follow_redirects=True,
    )
    assert "A finding cannot go from Resolved to In progress." in response.get_data(as_text=True)
    # With nothing left for the supplier, the link is closed again.
    assert app.test_client().get(f"/portal/{token}").status_code == 410


def test_a_risk_acceptance_needs_a_ciso_a_reason_and_an_expiry(
    auth, make_user, make_supplier, ctx, app
):
    supplier = make_supplier()
    with app.app_context():
        finding = make_finding(supplier, title="MFA未導入", severity="high")
        db.session.commit()
        finding_id = finding.id
        db.session.remove()
    auth.login(Role.reviewer)
    until = (date.today() + timedelta(days=180)).isoformat()
    assert (
        auth.client.post(
            f"/findings/{finding_id}/accept", data={"reason": "代替策あり", "until": until}
        ).status_code
        == 403
    )
    auth.logout()
    ciso = auth.login(Role.ciso)
    response = auth.client.post(
        f"/findings/{finding_id}/accept",
        headers=EN,
        data={"reason": "", "until": until},
        follow_redirects=True,
    )
    assert "This field is required." in response.get_data(as_text=True)
    past = (date.today() - timedelta(days=1)).isoformat()
    response = auth.client.post(
        f"/findings/{finding_id}/accept",
        headers=EN,
        data={"reason": "代替策あり", "until": past},
        follow_redirects=True,
    )
    assert "The due date must be in the future." in response.get_data(as_text=True)
    auth.client.post(
        f"/findings/{finding_id}/accept", data={"reason": "代替策あり", "until": until}
    )
    finding = _get(ctx, Finding, finding_id)
    assert finding.status == FindingStatus.risk_accepted
    assert (finding.accepted_by_id, finding.accepted_reason) == (ciso.id, "代替策あり")
    assert finding.accepted_until.isoformat() == until


def test_the_tier_can_be_set_by_hand_with_a_reason_and_its_history_is_kept(
    auth, make_supplier, ctx
):
    auth.login(Role.procurement)
    response = auth.client.post(
        "/suppliers/new",
        data={
            "name_ja": "株式会社重要度",
            "category": "cloud_service",
            "status": "active",
            "criticality": "critical",
            "country": "JP",
            "max_outage": "hours",
            "replaceability": "hard",
            "shares_confidential_info": "y",
            "has_admin_access": "y",
        },
    )
    supplier_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    supplier = _get(ctx, Supplier, supplier_id)
    assert (supplier.tier, supplier.tier_source) == ("critical", "rule")
    response = auth.client.post(
        f"/suppliers/{supplier_id}/tier",
        data={"tier": "high", "reason": ""},
        headers=EN,
        follow_redirects=True,
    )
    assert "Give the reason" in response.get_data(as_text=True)
    auth.client.post(
        f"/suppliers/{supplier_id}/tier",
        data={"tier": "high", "reason": "代替サービスへの移行計画が確定"},
    )
    supplier = _get(ctx, Supplier, supplier_id)
    assert (supplier.tier, supplier.tier_source) == ("high", "manual")
    # Editing the profile does not undo a person's decision.
    auth.client.post(
        f"/suppliers/{supplier_id}/edit",
        data={
            "name_ja": "株式会社重要度",
            "category": "cloud_service",
            "status": "active",
            "criticality": "critical",
            "country": "JP",
            "max_outage": "hours",
            "replaceability": "hard",
        },
    )
    assert _get(ctx, Supplier, supplier_id).tier == "high"
    page = auth.client.get(f"/suppliers/{supplier_id}", headers=EN).get_data(as_text=True)
    assert "代替サービスへの移行計画が確定" in page and "set by hand" in page
    auth.client.post(f"/suppliers/{supplier_id}/tier/rules")
    supplier = _get(ctx, Supplier, supplier_id)
    assert supplier.tier_source == "rule"
    with ctx() as session:
        history = session.scalars(
            sa.select(TierChange)
            .where(TierChange.supplier_id == supplier_id)
            .order_by(TierChange.id)
        ).all()
    assert [(h.tier, h.source) for h in history][:2] == [("critical", "rule"), ("high", "manual")]
    assert history[-1].source == "rule"


def test_required_and_held_evaluation_levels_and_where_it_stands(
    auth, make_supplier, make_attestation, app
):
    supplier = make_supplier(has_network_access=True)
    make_attestation(supplier)  # SECURITY ACTION ★★
    auth.login(Role.auditor)
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert "SCS ★4" in page and "SECURITY ACTION ★★" in page
    # Before the SCS scheme runs nobody can hold ★4: what is needed, and no alarm.
    assert '<span class="badge muted">★4 required (now: SA★★)</span>' in page
    assert "Not yet evaluated (scheme not started)" in page and "below the required" not in page
    with in_app(app) as session:  # the scheme starts: now it is a shortfall
        scs.save_scheme_settings(scs.SchemeSettings(started_on=date(2000, 1, 1)))
        session.commit()
    page = auth.client.get(f"/suppliers/{supplier.id}", headers=EN).get_data(as_text=True)
    assert '<span class="badge bad">★4 required (now: SA★★)</span>' in page


def test_settings_change_the_rules_and_bad_values_are_explained(auth, ctx):
    auth.login(Role.admin)
    page = auth.client.get("/admin/settings", headers=EN).get_data(as_text=True)
    fields = dict(
        re.findall(
            r'name="([a-z_]+__[a-z_]+|poor_score_below|good_score_from)"'
            r'[^>]*value="([^"]*)"',
            page,
        )
    )
    data = {
        **fields,
        "which": "rules",
        "cadence__critical": "3",
        "template__critical": "csm-v2-supplier",
        "template__high": "csm-v2-supplier",
        "template__medium": "csm-v2-supplier",
        "template__low": "csm-v2-supplier",
    }
    assert auth.client.post("/admin/settings", data=data).status_code == 302
    with ctx():
        from vendorrisk.services.review import tiers

        assert tiers.tier_rules().cadence_months["critical"] == 3
    bad = {**data, "poor_score_below": "90", "good_score_from": "20"}
    response = auth.client.post("/admin/settings", data=bad, headers=EN, follow_redirects=True)
    assert response.status_code == 200 and "tier rules" in response.get_data(as_text=True)


def test_the_schedule_offsets_are_settings_an_admin_changes(auth, ctx):
    from vendorrisk.services.periodic.settings import schedule_settings

    auth.login(Role.admin)
    data = {
        "which": "schedule",
        "schedule-reminder_days_before": "10, 3、1",
        "schedule-overdue_every_days": "5",
        "schedule-escalate_after_days": "10",
        "schedule-expiry_days_before": "60,14",
        "schedule-digest_weekday": "4",
    }
    assert auth.client.post("/admin/settings", data=data).status_code == 302
    with ctx():
        saved = schedule_settings()
    assert saved.reminder_days_before == (10, 3, 1) and saved.expiry_days_before == (60, 14)
    assert (saved.overdue_every_days, saved.digest_weekday) == (5, 4)
    bad = auth.client.post(
        "/admin/settings", headers=EN, data=data | {"schedule-reminder_days_before": "ten"}
    )
    assert "Whole numbers of days" in bad.get_data(as_text=True)
    auth.logout()
    auth.login(Role.ciso)
    assert auth.client.post("/admin/settings", data=data).status_code == 403
