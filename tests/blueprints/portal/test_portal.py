"""The supplier's side, end to end: the emailed link, the portal, saving, evidence, submitting."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import body_of, link_in, strict_app
from vendorrisk.catalog import Catalog
from vendorrisk.i18n import long_date
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AuditEvent,
    Campaign,
    Invitation,
    OutboxMessage,
    Role,
)

TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v2-supplier")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def sent(app, auth, make_supplier, make_contact, smtp_server, ctx, due):
    """Procurement sends the supplier questionnaire to two contacts, in Japanese and English."""
    owner = auth.login(Role.procurement, name="調達 太郎")
    supplier = make_supplier(name_ja="株式会社ポータル検証", owner_id=owner.id)
    ja = make_contact(
        supplier, name="佐藤 花子", email="sato@example.jp", locale="ja", is_primary=True
    )
    en = make_contact(supplier, name="John Smith", email="john@example.com", locale="en")
    response = auth.client.post(
        f"/suppliers/{supplier.id}/send",
        data={
            "template_id": "csm-v2-supplier",
            "due_on": due.isoformat(),
            "contact_ids": [ja.id, en.id],
            f"locale-{ja.id}": "ja",
            f"locale-{en.id}": "en",
            "message": "年次の定期評価です。よろしくお願いいたします。",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assessment_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    mails = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
    return SimpleNamespace(
        assessment_id=assessment_id,
        supplier=supplier,
        owner=owner,
        ja=ja,
        en=en,
        mails=mails,
        smtp=smtp_server,
        link=link_in(mails["sato@example.jp"]),
        link_en=link_in(mails["john@example.com"]),
    )


def _assessment(ctx, assessment_id):
    with ctx() as session:
        return session.get(Assessment, assessment_id)


def _open(app, link: str, lang: str = "ja"):
    """A supplier's browser: follow the link and press its button."""
    client = app.test_client()
    response = client.post(_path(link), data={"lang": lang})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/q/"
    return client


def _value_for(q):
    if q.type == "number":
        return "1,000"  # as a person writes it: stored as 1000
    return q.kind.sample(q)


def _answer_section(client, section, extra=None):
    data = {}
    for q in section.questions:
        data[f"v-{q.id}"] = "0"
        value = _value_for(q)
        if value is not None:
            data.update(q.kind.to_form(q, f"a-{q.id}", value))
        if q.kind.holds_files or q.evidence:
            data[f"f-{q.id}"] = (io.BytesIO(PDF), f"{q.id}.pdf")
    data.update(extra or {})
    return client.post(
        f"/portal/q/section/{section.id}", data=data, content_type="multipart/form-data"
    )


def test_the_whole_path_from_sending_to_submission(app, sent, ctx, due):
    # Each contact received the mail in their language, with the link and the due date.
    ja_mail, en_mail = sent.mails["sato@example.jp"], sent.mails["john@example.com"]
    assert "セキュリティ" in ja_mail["Subject"] and "佐藤 花子" in body_of(ja_mail)
    assert "information security questionnaire" in en_mail[
        "Subject"
    ] and "Dear John Smith" in body_of(en_mail)
    assert f"{due.year}年{due.month}月{due.day}日（" in body_of(ja_mail)  # the due date in prose
    assert "年次の定期評価です" in body_of(ja_mail)
    client = _open(app, sent.link)
    page = client.get("/portal/q/").get_data(as_text=True)
    assert TEMPLATE.title.ja in page and "株式会社ポータル検証" in page
    for section in TEMPLATE.sections:
        response = _answer_section(client, section)
        assert response.status_code == 302, (section.id, response.get_data(as_text=True)[:2000])
    review = client.get("/portal/q/submit").get_data(as_text=True)
    assert "回答を提出する" in review or "提出" in review
    assert client.post("/portal/q/submit").headers["Location"] == "/portal/q/done"
    assessment = _assessment(ctx, sent.assessment_id)
    assert assessment.status == AssessmentStatus.submitted and assessment.submitted_at
    recipients = [m["To"].addresses[0].addr_spec for m in sent.smtp.messages]
    assert recipients.count("sato@example.jp") == 2  # the invitation, then the confirmation
    assert sent.owner.email in recipients  # the owner is told
    with ctx() as session:
        answers = session.scalars(
            sa.select(Answer).where(Answer.assessment_id == sent.assessment_id)
        ).all()
        by_id = {a.question_id: a for a in answers}
        number = next(q for q in TEMPLATE.questions if q.type == "number")
        assert by_id[number.id].value == "1000"
        assert all(by_id[q.id].files for q in TEMPLATE.questions if q.type == "file")
    # The link now explains itself: submitted, 410, in the contact's language.
    response = app.test_client().get(_path(sent.link))
    assert response.status_code == 410
    assert "提出" in response.get_data(as_text=True)


def test_the_links_get_changes_nothing(app, sent, ctx):
    for _ in range(3):  # mail scanners, previews, the person
        response = app.test_client().get(_path(sent.link))
        assert response.status_code == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert "質問票を開く" in response.get_data(as_text=True)
    with ctx() as session:
        invitation = session.scalar(
            sa.select(Invitation).where(Invitation.email == "sato@example.jp")
        )
        assert invitation.first_used_at is None and invitation.use_count == 0
        assert invitation.assessment.status == AssessmentStatus.sent


def test_the_button_opens_a_sitting_and_the_token_never_appears_again(app, sent, ctx):
    client = _open(app, sent.link)
    token = sent.link.rsplit("/", 1)[1]
    page = client.get("/portal/q/")
    assert token not in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    with ctx() as session:
        invitation = session.scalar(
            sa.select(Invitation).where(Invitation.email == "sato@example.jp")
        )
        assert invitation.first_used_at is not None and invitation.use_count == 1
        assert invitation.assessment.status == AssessmentStatus.in_progress
        assert (
            session.scalar(
                sa.select(AuditEvent).where(AuditEvent.action == "portal_opened")
            ).actor_type
            == "contact"
        )
    # The staff page shows that the link was opened.
    staff = sent.supplier  # noqa: F841
    # A later sitting with the same link works too.
    _open(app, sent.link)


def test_forged_and_unknown_tokens_are_404_without_a_trace(app, sent):
    client = app.test_client()
    real = sent.link.rsplit("/", 1)[1]
    forged = real[:-1] + ("B" if real.endswith("A") else "A")  # one character off, never equal
    for token in ("x" * 43, "short", forged):
        response = client.get(f"/portal/{token}")
        assert response.status_code == 404
        assert "Traceback" not in response.get_data(as_text=True)
    assert client.post("/portal/" + "y" * 43).status_code == 404


@pytest.mark.parametrize(
    "how,phrase",
    [
        ("revoked", "取り消され"),
        ("expired", "期間"),
        ("cancelled", "中止"),
    ],
)
def test_closed_links_say_why_in_the_contacts_language(app, sent, ctx, how, phrase):
    with ctx() as session:
        invitation = session.scalar(
            sa.select(Invitation).where(Invitation.email == "sato@example.jp")
        )
        now = datetime.now(UTC)
        if how == "revoked":
            invitation.revoked_at = now
        elif how == "expired":
            invitation.expires_at = now - timedelta(minutes=1)
        else:
            invitation.assessment.status = AssessmentStatus.cancelled
        session.commit()
    response = app.test_client().get(_path(sent.link))
    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert phrase in page, page
    assert "調達 太郎" in page  # whom to ask
    assert app.test_client().post(_path(sent.link)).status_code == 410


def test_a_sitting_stops_when_its_link_is_revoked(app, sent, ctx):
    client = _open(app, sent.link)
    assert client.get("/portal/q/").status_code == 200
    with ctx() as session:
        invitation = session.scalar(
            sa.select(Invitation).where(Invitation.email == "sato@example.jp")
        )
        invitation.revoked_at = datetime.now(UTC)
        session.commit()
    assert client.get("/portal/q/").status_code == 410


def test_no_portal_page_without_a_sitting(app, sent):
    client = app.test_client()
    response = client.get("/portal/q/")
    assert response.status_code == 403
    assert "メール" in response.get_data(as_text=True) or "email" in response.get_data(as_text=True)


def test_one_suppliers_sitting_cannot_reach_another_suppliers_evidence(
    app, sent, auth, make_supplier, make_contact, ctx, due
):
    other = make_supplier(name_ja="株式会社ほかの取引先")
    contact = make_contact(other, email="other@example.jp")
    response = auth.client.post(
        f"/suppliers/{other.id}/send",
        data={
            "template_id": "csm-v2-supplier",
            "due_on": due.isoformat(),
            "contact_ids": [contact.id],
            f"locale-{contact.id}": "ja",
        },
    )
    other_link = link_in(sent.smtp.messages[-1])
    theirs = _open(app, other_link)
    file_q = next(q for q in TEMPLATE.questions if q.type == "file")
    section = next(s for s in TEMPLATE.sections if file_q in s.questions)
    _answer_section(theirs, section)
    with ctx() as session:
        their_file = (
            session.scalar(sa.select(Answer).where(Answer.question_id == file_q.id)).files[0].id
        )
    download = theirs.get(f"/portal/q/files/{their_file}")
    assert download.status_code == 200
    download.close()
    mine = _open(app, sent.link)
    response = mine.get(f"/portal/q/files/{their_file}")
    assert response.status_code == 404
    page = mine.get("/portal/q/").get_data(as_text=True)
    assert "株式会社ほかの取引先" not in page
    assert response.status_code == 404
    # Nor does a staff download route open for a portal sitting.
    assert mine.get(f"/suppliers/files/{their_file}").status_code == 302


def _first_question(type_="yes_partial_no"):
    section = TEMPLATE.sections[1]
    return section, next(q for q in section.questions if q.type == type_)


def test_two_contacts_saving_at_once_never_overwrite_each_other_silently(app, sent, ctx):
    section, q = _first_question()
    first, second = _open(app, sent.link), _open(app, sent.link_en, "en")
    # Both have the section open: no answer yet, version 0.
    assert (
        first.post(
            f"/portal/q/section/{section.id}", data={f"v-{q.id}": "0", f"a-{q.id}": "yes"}
        ).status_code
        == 302
    )
    response = second.post(
        f"/portal/q/section/{section.id}", data={f"v-{q.id}": "0", f"a-{q.id}": "no"}
    )
    assert response.status_code == 409
    assert "Someone else saved this answer" in response.get_data(as_text=True)
    with ctx() as session:
        answer = session.scalar(sa.select(Answer).where(Answer.question_id == q.id))
        assert (answer.value, answer.version) == ("yes", 1)
    # Having seen it, the second contact may change it on purpose.
    assert (
        second.post(
            f"/portal/q/section/{section.id}", data={f"v-{q.id}": "1", f"a-{q.id}": "no"}
        ).status_code
        == 302
    )
    with ctx() as session:
        answer = session.scalar(sa.select(Answer).where(Answer.question_id == q.id))
        assert (answer.value, answer.version) == ("no", 2)


def test_autosave_saves_one_answer_and_reports_conflicts(app, sent, ctx):
    section, q = _first_question()
    client = _open(app, sent.link)
    response = client.post(
        "/portal/q/autosave",
        data={"question": q.id, f"v-{q.id}": "0", f"a-{q.id}": "partial", f"c-{q.id}": "計画中"},
    )
    assert response.status_code == 200 and response.json["status"] == "saved"
    assert response.json["version"] == 1
    stale = client.post(
        "/portal/q/autosave", data={"question": q.id, f"v-{q.id}": "0", f"a-{q.id}": "no"}
    )
    assert stale.status_code == 409 and stale.json["value"] == "partial"
    bad = client.post(
        "/portal/q/autosave", data={"question": q.id, f"v-{q.id}": "1", f"a-{q.id}": "maybe"}
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"MZ\x90\x00binary", "policy.pdf", "一致しません"),
        (b"", "empty.pdf", "空"),
        (b"%PDF-1.4\n" + b"0" * 200_000, "big.pdf", "97 KB"),
    ],
)
def test_bad_evidence_gets_a_clear_message_and_the_answers_stay_saved(
    app, sent, ctx, content, name, message
):
    app.config["MAX_UPLOAD_BYTES"], saved_limit = 100_000, app.config["MAX_UPLOAD_BYTES"]
    try:
        file_q = next(q for q in TEMPLATE.questions if q.type == "file")
        section = next(s for s in TEMPLATE.sections if file_q in s.questions)
        other = next(q for q in section.questions if q.type == "yes_partial_no")
        client = _open(app, sent.link)
        response = client.post(
            f"/portal/q/section/{section.id}",
            data={
                f"v-{other.id}": "0",
                f"a-{other.id}": "yes",
                f"f-{file_q.id}": (io.BytesIO(content), name),
            },
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_UPLOAD_BYTES"] = saved_limit
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with ctx() as session:
        assert (
            session.scalar(sa.select(Answer.value).where(Answer.question_id == other.id)) == "yes"
        )
        assert session.scalar(sa.select(Answer).where(Answer.question_id == file_q.id)) is None


def test_submit_lists_what_is_missing_with_links(app, sent, ctx):
    client = _open(app, sent.link)
    evidence_q = next(q for q in TEMPLATE.questions if q.evidence and q.type == "yes_no")
    section = next(s for s in TEMPLATE.sections if evidence_q in s.questions)
    client.post(
        f"/portal/q/section/{section.id}",
        data={f"v-{evidence_q.id}": "0", f"a-{evidence_q.id}": "yes"},
    )
    response = client.post("/portal/q/submit")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"#q-{evidence_q.id}" in page and "証跡ファイルがありません" in page
    first = TEMPLATE.sections[0].questions[0]
    assert f"/portal/q/section/{TEMPLATE.sections[0].id}#q-{first.id}" in page
    assert _assessment(ctx, sent.assessment_id).status == AssessmentStatus.in_progress


def test_conditional_questions_are_not_required_while_hidden(app, sent):
    conditional = next(q for q in TEMPLATE.questions if q.show_if and q.required)
    client = _open(app, sent.link)
    page = client.get("/portal/q/submit").get_data(as_text=True)
    assert f"#q-{conditional.id}" not in page


def test_the_portal_speaks_the_contacts_language_and_switches(app, sent):
    client = _open(app, sent.link_en, "en")
    page = client.get("/portal/q/").get_data(as_text=True)
    assert TEMPLATE.title.en in page and "Due date" in page
    client.post("/portal/q/language", data={"lang": "ja", "next": "/portal/q/"})
    page = client.get("/portal/q/").get_data(as_text=True)
    assert TEMPLATE.title.ja in page and "回答期限" in page


def test_resend_revokes_the_old_link_and_mails_a_new_one(app, auth, sent, ctx):
    with ctx() as session:
        invitation = session.scalar(
            sa.select(Invitation).where(Invitation.email == "sato@example.jp")
        )
    before = len(sent.smtp.messages)
    response = auth.client.post(
        f"/assessments/{sent.assessment_id}/invitations/{invitation.id}/resend"
    )
    assert response.status_code == 302
    new_mail = sent.smtp.messages[before]
    new_link = link_in(new_mail)
    assert new_link != sent.link and "新しいリンク" in body_of(new_mail)
    assert app.test_client().get(_path(sent.link)).status_code == 410
    assert app.test_client().get(_path(new_link)).status_code == 200


def test_extend_and_cancel_are_mailed_and_audited(app, auth, sent, ctx, due):
    new_due = due + timedelta(days=14)
    auth.client.post(
        f"/assessments/{sent.assessment_id}/extend", data={"due_on": new_due.isoformat()}
    )
    assert _assessment(ctx, sent.assessment_id).due_on == new_due
    assert any(long_date(new_due, "ja") in body_of(m) for m in sent.smtp.messages[2:])
    auth.client.post(f"/assessments/{sent.assessment_id}/cancel")
    assert _assessment(ctx, sent.assessment_id).status == AssessmentStatus.cancelled
    kinds = [m["Subject"] for m in sent.smtp.messages]
    assert any("Withdrawn" in s for s in kinds) and any("取り下げ" in s for s in kinds)
    with ctx() as session:
        changes = session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.assessment_id == sent.assessment_id, AuditEvent.action == "update"
            )
        ).all()
        assert any("due_on" in e.changes for e in changes)
        assert any(e.changes.get("status") == ["sent", "cancelled"] for e in changes)
    assert app.test_client().get(_path(sent.link)).status_code == 410


def test_the_staff_page_shows_who_was_invited_opened_and_progress(app, auth, sent):
    client = _open(app, sent.link)
    section, q = _first_question()
    client.post(f"/portal/q/section/{section.id}", data={f"v-{q.id}": "0", f"a-{q.id}": "yes"})
    page = auth.client.get(
        f"/assessments/{sent.assessment_id}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "sato@example.jp" in page and "john@example.com" in page
    assert "Not opened" in page  # John has not opened his link
    assert "(1 times)" in page
    assert re.search(r"1 of \d+ answered", page)


def test_previous_completed_answers_are_carried_over_and_must_be_confirmed(
    app, auth, sent, ctx, smtp_server, due
):
    section, q = _first_question()
    client = _open(app, sent.link)
    client.post(
        f"/portal/q/section/{section.id}",
        data={f"v-{q.id}": "0", f"a-{q.id}": "yes", f"c-{q.id}": "全社で実施"},
    )
    with ctx() as session:
        previous = session.get(Assessment, sent.assessment_id)
        previous.status, previous.completed_at = AssessmentStatus.completed, datetime.now(UTC)
        session.commit()
    response = auth.client.post(
        f"/suppliers/{sent.supplier.id}/send",
        data={
            "template_id": "csm-v2-supplier",
            "due_on": due.isoformat(),
            "contact_ids": [sent.ja.id],
            f"locale-{sent.ja.id}": "ja",
        },
    )
    new_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    client = _open(app, link_in(smtp_server.messages[-1]))
    page = client.get(f"/portal/q/section/{section.id}").get_data(as_text=True)
    assert "前回の回答を引き継ぎました" in page or "引き継ぎ" in page
    assert "全社で実施" in page
    missing = client.get("/portal/q/submit").get_data(as_text=True)
    assert f"#q-{q.id}" in missing
    client.post(
        f"/portal/q/section/{section.id}",
        data={f"v-{q.id}": "1", f"a-{q.id}": "yes", f"c-{q.id}": "全社で実施"},
    )
    with ctx() as session:
        answer = session.scalar(
            sa.select(Answer).where(Answer.assessment_id == new_id, Answer.question_id == q.id)
        )
        assert answer.carried_over is False and answer.value == "yes"


def test_sending_needs_a_contact_and_a_future_date(auth, make_supplier, make_contact, due, today):
    auth.login(Role.procurement)
    supplier = make_supplier()
    contact = make_contact(supplier)
    page = auth.client.get(f"/suppliers/{supplier.id}/send", headers={"Accept-Language": "en"})
    assert "Send the questionnaire" in page.get_data(as_text=True)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/send",
        headers={"Accept-Language": "en"},
        data={
            "template_id": "csm-v2-supplier",
            "due_on": today.isoformat(),  # the company's today: not in the future
            "contact_ids": [contact.id],
        },
    )
    assert "The due date must be in the future." in response.get_data(as_text=True)
    response = auth.client.post(
        f"/suppliers/{supplier.id}/send",
        headers={"Accept-Language": "en"},
        data={"template_id": "csm-v2-supplier", "due_on": due.isoformat()},
    )
    assert "Choose at least one contact." in response.get_data(as_text=True)


def test_a_campaign_sends_to_every_matching_supplier(
    app, auth, make_supplier, make_contact, smtp_server, ctx, due
):
    auth.login(Role.procurement)
    cloud = [make_supplier(category="cloud_service", status="active") for _ in range(3)]
    for s in cloud[:2]:
        make_contact(s, email=f"c{s.id}@example.jp", is_primary=True)
    make_supplier(category="group_company", status="active")
    data = {
        "name": "2026年度 クラウド定期評価",
        "template_id": "csm-v2-supplier",
        "category": "cloud_service",
        "status": "active",
        "due_on": due.isoformat(),
    }
    preview = auth.client.post(
        "/assessments/campaign", data=data | {"preview": "1"}, headers={"Accept-Language": "en"}
    )
    assert "3 suppliers match" in preview.get_data(as_text=True)
    done = auth.client.post(
        "/assessments/campaign", data=data | {"submit": "1"}, headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "2 assessments have been sent." in done
    assert "Not sent: suppliers without a contact" in done
    assert len(smtp_server.messages) == 2
    with ctx() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Assessment)) == 2


def test_a_bulk_send_by_tier_asks_each_supplier_its_pack(
    app, auth, make_supplier, make_contact, smtp_server, ctx, today
):
    auth.login(Role.procurement)
    tiers = {}
    for tier in ("low", "medium", "critical", None):
        supplier = make_supplier(category="cloud_service", status="active", tier=tier)
        make_contact(supplier, email=f"c{supplier.id}@example.jp", is_primary=True)
        tiers[supplier.id] = tier
    data = {
        "name": "2026年度 リスク区分別の定期評価",
        "template_id": "by-tier",
        "category": "cloud_service",
        "status": "active",
        "due_on": (today + timedelta(days=30)).isoformat(),  # the app's day, whatever the calendar
        "submit": "1",
    }
    done = auth.client.post(
        "/assessments/campaign", data=data, headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "4 assessments have been sent." in done
    with ctx() as session:
        sent = {tiers[a.supplier_id]: a.template_id for a in session.scalars(sa.select(Assessment))}
        campaign = session.scalar(sa.select(Campaign))
    assert sent == {
        "low": "csm-v3-supplier-lite",
        "medium": "csm-v3-supplier-standard",
        "critical": "csm-v3-supplier",
        None: "csm-v3-supplier-standard",  # not yet tiered: the medium pack
    }
    assert campaign.template_id == "by-tier"
    assert len(smtp_server.messages) == 4
    # A tier whose questionnaire the catalog lacks: named apart, not as "without a contact".
    with ctx() as session:
        from vendorrisk.services.review import tiers as tier_rules

        rules = tier_rules.tier_rules().to_dict()
        rules["template_by_tier"]["low"] = "no-such-questionnaire"
        tier_rules.save_tier_rules(tier_rules.TierRules.from_dict(rules))
        session.commit()
    done = auth.client.post(
        "/assessments/campaign",
        data=data | {"name": "2回目"},
        headers={"Accept-Language": "en"},
    ).get_data(as_text=True)
    assert "3 assessments have been sent." in done
    assert "Not sent: no questionnaire for their tier" in done
    assert "Not sent: suppliers without a contact" not in done


@pytest.fixture(scope="module")
def limited_app(tmp_path_factory):
    with strict_app(tmp_path_factory, PORTAL_RATE_LIMIT="5 per minute") as app:
        yield app


def test_token_lookups_are_rate_limited_per_address(limited_app):
    client = limited_app.test_client()
    codes = [
        client.get(f"/portal/{'z' * 43}", environ_base={"REMOTE_ADDR": "127.0.0.7"}).status_code
        for _ in range(7)
    ]
    assert codes == [404] * 5 + [429] * 2
    assert (
        client.get(f"/portal/{'z' * 43}", environ_base={"REMOTE_ADDR": "127.0.0.8"}).status_code
        == 404
    )


def test_outbox_rows_are_written_with_the_change(app, sent, ctx):
    with ctx() as session:
        rows = session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.assessment_id == sent.assessment_id)
        ).all()
    assert {r.locale for r in rows} == {"ja", "en"}
    assert all(r.dedupe_key.startswith("invitation:") for r in rows)


def test_a_portal_page_and_an_autosave_ask_the_database_little(app, sent, count_queries):
    """The hottest requests of the product (issue 19): the sitting comes with its invitation
    and assessment in one query; a section page and an autosave ask a fixed few, however many
    answers there are."""
    section, q = _first_question()
    client = _open(app, sent.link)
    client.get(f"/portal/q/section/{section.id}")  # the sitting's once-a-minute touch is done
    with count_queries() as unfiled:
        assert client.get(f"/portal/q/section/{section.id}").status_code == 200
    assert _answer_section(client, section).status_code == 302  # with a file on each evidence

    with count_queries() as page:
        shown = client.get(f"/portal/q/section/{section.id}")
    filed = [q for q in section.questions if q.kind.holds_files or q.evidence]
    assert filed and all(f"{q.id}.pdf" in shown.get_data(as_text=True) for q in filed)
    with count_queries() as save:
        response = client.post(
            "/portal/q/autosave", data={"question": q.id, f"v-{q.id}": "1", f"a-{q.id}": "no"}
        )
        assert response.json["status"] == "saved"

    sittings = [s for s in page.statements + save.statements if "FROM portal_sittings" in s]
    assert all("JOIN invitations" in s and "JOIN assessments" in s for s in sittings), sittings
    # The sitting; every answer as plain rows (conditions, progress, which hold files); the
    # section's answers as objects; their files; a setting. The files are read only when the
    # rows say some answer of the section holds one; the certificates given as answers only
    # when one of its answers is one's.
    assert page.count <= 5, [s[:60] for s in page.statements]
    assert unfiled.count <= 4, [s[:60] for s in unfiled.statements]
    assert not [s for s in unfiled.statements if "stored_files" in s or "FROM covers" in s]
    whole = [s for s in page.statements + save.statements if s.startswith("SELECT answers.id")]
    assert whole and all("answers.question_id IN" in s for s in whole), whole
    # The sitting, the answer read, its files, the versioned update, the value, the audit row.
    assert save.count <= 6, [s[:70] for s in save.statements]
