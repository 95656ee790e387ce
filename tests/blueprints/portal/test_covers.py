"""Answering with a certificate or check sheet the supplier already holds (issue 17), from the
emailed link to the reviewer's decision: the portal's form, the covered questions' note and the
way back to answering by hand; the review page's list, accept and reject."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token_from, strict_app
from tests.factories import make_answer, make_assessment, make_invitation
from vendorrisk import clock
from vendorrisk.catalog import Catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Contact,
    Cover,
    CoverStatus,
    Role,
    StoredFile,
    Supplier,
    SupplierCategory,
)
from vendorrisk.models.mixins import hash_token

TEMPLATE = Catalog.from_folder("questionnaires").get("csm-v3-supplier-standard")
TOKEN = "cover-portal-token-" + "c" * 30
ISMS = [q for q in TEMPLATE.questions if "isms" in q.covered_by]
#: An ISMS question the supplier answers itself before attaching the certificate.
TYPED = ISMS[0].id
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCOPE = "適用範囲：本社 ITサービス事業部（当社向け保守業務を含む）、有効期限 2028年3月31日"
EN = {"Accept-Language": "en"}


def _seed(app, today, status=AssessmentStatus.in_progress) -> int:
    """A supplier's contact with a link to a standard-pack questionnaire; the assessment's id."""
    with app.app_context():
        supplier = Supplier(
            name_ja="株式会社認証テスト", category=SupplierCategory.outsourcing_contractor
        )
        contact = Contact(supplier=supplier, name="佐藤 花子", email="sato@example.jp", locale="en")
        db.session.add_all([supplier, contact])
        db.session.flush()
        assessment = make_assessment(
            supplier, TEMPLATE, due_on=today + timedelta(days=30), status=status
        )
        make_answer(assessment, TYPED, "no")
        make_invitation(
            assessment,
            contact,
            token_hash=hash_token(TOKEN),
            locale="en",
            expires_at=datetime.combine(today + timedelta(days=60), time(), UTC),
        )
        db.session.commit()
        return assessment.id


def _open(app, lang: str = "en"):
    """The contact follows the emailed link and presses its button."""
    browser = app.test_client()
    response = browser.post(f"/portal/{TOKEN}", data={"lang": lang})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _attach(browser, kind="isms", scope=SCOPE, data=PDF, name="ISMS登録証.pdf", **extra):
    form = {"kind": kind, "scope": scope, **extra}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return browser.post("/portal/q/covers", data=form, content_type="multipart/form-data")


def _covered(app, assessment_id) -> dict[str, Answer]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Answer).where(Answer.assessment_id == assessment_id))
        return {a.question_id: a for a in rows if a.cover_id is not None}


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        count = sa.select(sa.func.count())
        return (
            db.session.scalar(count.select_from(Cover)),
            db.session.scalar(count.select_from(StoredFile)),
        )


def _submit(app, assessment_id: int) -> None:
    with app.app_context():
        assessment = db.session.get(Assessment, assessment_id)
        assessment.status, assessment.submitted_at = AssessmentStatus.submitted, clock.now()
        db.session.commit()


def _section_of(question_id: str) -> str:
    return next(s.id for s in TEMPLATE.sections if any(q.id == question_id for q in s.questions))


def test_a_certificate_answers_the_questions_it_covers_from_the_portal(app, today):
    assessment_id = _seed(app, today)
    browser = _open(app)
    overview = browser.get("/portal/q/").get_data(as_text=True)
    assert "Answer with a certificate or check sheet you already have" in overview
    kinds = re.findall(r'<option[^>]*value="(\w+)"', overview.split('id="covers"')[1])
    assert kinds == ["isms", "scs", "jama"]  # the kinds this questionnaire takes
    response = _attach(browser)
    assert response.status_code == 302 and response.headers["Location"].endswith("#covers")
    page = browser.get("/portal/q/").get_data(as_text=True)
    covered = _covered(app, assessment_id)
    assert set(covered) == {q.id for q in ISMS} - {TYPED}
    assert f"{len(covered)} questions have been answered with the file you attached" in page
    assert "ISMS登録証.pdf" in page and "Awaiting review" in page
    # Each covered question says so, and may be answered by hand instead.
    qid = next(iter(covered))
    section = browser.get(f"/portal/q/section/{_section_of(qid)}").get_data(as_text=True)
    block = section.split(f'id="q-{qid}"')[1].split('class="question')[0]
    assert "Answered by your ISMS certificate (awaiting review)" in block
    assert f'form="by-hand" name="question" value="{qid}"' in block
    typed = browser.get(f"/portal/q/section/{_section_of(TYPED)}").get_data(as_text=True)
    assert "Answered by your" not in typed.split(f'id="q-{TYPED}"')[1].split('class="question')[0]
    response = browser.post("/portal/q/covers/by-hand", data={"question": qid})
    assert response.headers["Location"].endswith(f"/portal/q/section/{_section_of(qid)}#q-{qid}")
    assert qid not in _covered(app, assessment_id)
    with app.app_context():
        answer = db.session.scalar(sa.select(Answer).where(Answer.question_id == qid))
        assert answer.value is None  # theirs to answer now


def test_the_file_is_kept_outside_the_web_root_like_other_evidence(app, today):
    _seed(app, today)
    browser = _open(app)
    assert _attach(browser).status_code == 302
    with app.app_context():
        stored = db.session.scalar(sa.select(Cover)).file
        key, name = stored.storage_key, stored.original_name
    path = Path(app.config["UPLOAD_DIR"]) / key
    assert path.read_bytes() == PDF and name == "ISMS登録証.pdf"
    assert re.fullmatch(r"[0-9a-f]{48}", key)  # a random name, never the uploaded one
    assert Path(app.static_folder).resolve() not in path.resolve().parents
    assert browser.get(f"/static/{key}").status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "soc2"}, "Choose one of the certificates or check sheets listed."),
        ({"data": None}, "Choose the file to upload."),
        ({"scope": "   "}, "State the scope and the period of validity."),
        ({"name": "certificate.exe"}, "This type of file is not accepted"),
        ({"data": b"MZ\x90\x00", "name": "certificate.pdf"}, "does not match its name"),
    ],
)
def test_a_refused_attachment_says_why_and_keeps_nothing(app, today, change, message):
    assessment_id = _seed(app, today)
    browser = _open(app)
    files_before = set(Path(app.config["UPLOAD_DIR"]).iterdir())
    response = _attach(browser, **change)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    if "scope" not in change:
        assert SCOPE in page  # what was typed comes back
    assert _counts(app) == (0, 0) and _covered(app, assessment_id) == {}
    assert set(Path(app.config["UPLOAD_DIR"]).iterdir()) == files_before


def test_once_submitted_nothing_can_be_attached(app, today):
    assessment_id = _seed(app, today)
    browser = _open(app)
    _submit(app, assessment_id)
    response = _attach(browser)
    assert response.status_code == 410  # the link says it was submitted
    assert _counts(app) == (0, 0) and _covered(app, assessment_id) == {}


@pytest.fixture
def guarded(tmp_path_factory):
    with strict_app(tmp_path_factory, WTF_CSRF_ENABLED=True) as strict:
        yield strict


def test_the_form_needs_its_csrf_token(guarded, today):
    _seed(guarded, today)
    browser = guarded.test_client()
    landing = browser.get(f"/portal/{TOKEN}").get_data(as_text=True)
    opened = browser.post(f"/portal/{TOKEN}", data={"csrf_token": csrf_token_from(landing)})
    assert opened.status_code == 302
    page = browser.get("/portal/q/").get_data(as_text=True)
    assert _attach(browser).status_code == 400
    assert _counts(guarded) == (0, 0)
    token = csrf_token_from(page.split('id="covers"')[1])
    assert _attach(browser, csrf_token=token).status_code == 302
    assert _counts(guarded) == (1, 1)


def _submitted_with_cover(app, today) -> int:
    assessment_id = _seed(app, today)
    assert _attach(_open(app)).status_code == 302
    _submit(app, assessment_id)
    return assessment_id


def test_the_reviewer_sees_the_cover_and_accepts_it(app, auth, today):
    assessment_id = _submitted_with_cover(app, today)
    auth.login(Role.reviewer)
    page = auth.client.get(f"/assessments/{assessment_id}", headers=EN).get_data(as_text=True)
    with app.app_context():
        cover = db.session.scalar(sa.select(Cover))
        cover_id, file_id = cover.id, cover.file_id
    card = page.split(f'id="cover-{cover_id}"')[1].split("</article>")[0]
    assert f'href="/suppliers/files/{file_id}"' in card and SCOPE in card
    assert f"The questions it answers ({len(ISMS) - 1})" in card
    assert ISMS[1].text.en[:40] in card and "Awaiting review" in card
    flags = page.split("<h3>Flags</h3>")[1].split("</ul>")[0]
    assert "Certificate or check sheet to review" in flags
    response = auth.client.post(f"/assessments/{assessment_id}/covers/{cover_id}/accept")
    assert response.status_code == 302 and response.headers["Location"].endswith("#covers")
    with app.app_context():
        assert db.session.get(Cover, cover_id).status == CoverStatus.accepted
    assert len(_covered(app, assessment_id)) == len(ISMS) - 1


def test_a_cover_is_reviewed_only_through_its_own_assessment(app, auth, today, make_supplier):
    assessment_id = _submitted_with_cover(app, today)
    with app.app_context():
        cover_id = db.session.scalar(sa.select(Cover.id))
        other = make_assessment(make_supplier(), TEMPLATE, status=AssessmentStatus.submitted)
        db.session.commit()
        other_id = other.id
    auth.login(Role.reviewer)
    for action in ("accept", "reject"):
        response = auth.client.post(
            f"/assessments/{other_id}/covers/{cover_id}/{action}",
            data={f"cover{cover_id}-reason": "範囲外"},
        )
        assert response.status_code == 404, action
    with app.app_context():
        assert db.session.get(Cover, cover_id).status == CoverStatus.pending
    assert len(_covered(app, assessment_id)) == len(ISMS) - 1


def test_the_reviewer_rejects_it_with_a_reason_and_its_answers_are_cleared(app, auth, today):
    assessment_id = _submitted_with_cover(app, today)
    with app.app_context():
        cover_id = db.session.scalar(sa.select(Cover.id))
    covered = set(_covered(app, assessment_id))
    auth.login(Role.reviewer)
    url = f"/assessments/{assessment_id}/covers/{cover_id}/reject"
    refused = auth.client.post(
        url,
        data={f"cover{cover_id}-reason": ""},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "Give the reason for rejecting it." in refused.get_data(as_text=True)
    assert len(_covered(app, assessment_id)) == len(covered)
    reason = "証明書の適用範囲に当社向け保守業務が含まれていません。"
    response = auth.client.post(url, data={f"cover{cover_id}-reason": reason})
    assert response.status_code == 302
    assert _covered(app, assessment_id) == {}
    with app.app_context():
        cover = db.session.get(Cover, cover_id)
        assert (cover.status, cover.reason) == (CoverStatus.rejected, reason)
        answers = db.session.scalars(sa.select(Answer).where(Answer.question_id.in_(covered)))
        assert {(a.value, a.reopened) for a in answers} == {(None, True)}
    page = auth.client.get(f"/assessments/{assessment_id}", headers=EN).get_data(as_text=True)
    ticked = set(re.findall(r'name="ret-question_ids" value="([^"]+)"[^>]*checked', page))
    assert ticked == covered  # ready to be returned for the supplier to answer


def test_an_auditor_cannot_decide(app, auth, today):
    assessment_id = _submitted_with_cover(app, today)
    with app.app_context():
        cover_id = db.session.scalar(sa.select(Cover.id))
    auth.login(Role.auditor)
    for action in ("accept", "reject"):
        url = f"/assessments/{assessment_id}/covers/{cover_id}/{action}"
        assert auth.client.post(url).status_code == 403
    with app.app_context():
        assert db.session.get(Cover, cover_id).status == CoverStatus.pending
