"""Suppliers on two editions of the guideline: a supplier's Ver 2.0 answers carried into its
first Ver 3.0 questionnaire through the crosswalk (each to be confirmed), completed assessments
keeping their edition and score, and a roll-up and report that say when scores mix editions."""

from __future__ import annotations

import io
import random
import re
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from tests.factories import make_answer, make_assessment
from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Decision,
    OutboxMessage,
    Role,
)
from vendorrisk.services.assessments import lifecycle
from vendorrisk.services.assessments.lifecycle import counterpart
from vendorrisk.services.reporting import rollup
from vendorrisk.services.reporting.scope import Scope
from vendorrisk.services.review import review

NOW = datetime(2026, 4, 1, 1, 30, tzinfo=UTC)


def _answer_all(assessment, template, rng) -> None:
    """A sampled valid answer to every question, with a comment on each."""
    for question in template.questions:
        make_answer(
            assessment,
            question.id,
            question.kind.sample(question, rng),
            comment=f"{question.id} について",
        )


def _completed(supplier, template, reviewer, rng) -> int:
    assessment = make_assessment(supplier, template, status=AssessmentStatus.submitted)
    _answer_all(assessment, template, rng)
    db.session.flush()
    db.session.refresh(assessment)
    review.complete(assessment, template, Decision.approved, "", reviewer, NOW)
    db.session.commit()
    return assessment.id


@pytest.fixture
def two_editions(app, make_supplier, make_contact, make_user):
    """Supplier 旧版 completed Ver 2.0; supplier 新版 completed Ver 2.0, then was sent Ver 3.0."""
    reviewer = make_user(Role.reviewer)
    old_one = make_supplier(name_ja="旧版株式会社", name_en="Old Edition Ltd")
    new_one = make_supplier(name_ja="新版株式会社", name_en="New Edition Ltd")
    contact = make_contact(new_one, name="佐藤 花子", email="sato@example.jp", locale="ja")
    rng = random.Random(16)
    with app.app_context():
        v2 = catalog().get("csm-v2-supplier")
        _completed(old_one, v2, reviewer, rng)
        v2_id = _completed(new_one, v2, reviewer, rng)
        v3 = catalog().get("csm-v3-supplier")
        recipient = lifecycle.Recipient(db.session.merge(contact), "ja")
        sent = lifecycle.create_assessment(
            db.session.merge(new_one),
            v3,
            clock.today() + timedelta(days=30),
            "",
            [recipient],
            None,
            NOW,
        )
        db.session.commit()
        return {"v2": v2_id, "v3": sent.id, "reviewer": reviewer, "suppliers": (old_one, new_one)}


def test_the_ver_2_answers_are_carried_into_ver_3_through_the_crosswalk(app, two_editions):
    with app.app_context():
        v2, v3 = catalog().get("csm-v2-supplier"), catalog().get("csm-v3-supplier")
        [crosswalk] = [c for c in catalog().crosswalks if c.id == "crosswalk-csm-2.0-3.0"]
        old = {a.question_id: a for a in db.session.get(Assessment, two_editions["v2"]).answers}
        sent = db.session.get(Assessment, two_editions["v3"])
        carried = {a.question_id: a for a in sent.answers}
        assert sent.carried_over_from_id == two_editions["v2"]
        assert carried and all(a.carried_over for a in carried.values())  # to be confirmed

        came_from: dict[str, list[str]] = {}
        for row in crosswalk.rows:
            for target in row.target:
                came_from.setdefault(target, []).extend(row.source)
        v2_ids = {q.id for q in v2.questions}
        twins = {counterpart(q.id): q for q in v2.questions if counterpart(q.id)}
        assert len(twins) == 15  # sup-x-01 … sup-x-15
        for question in v3.questions:
            if counterpart(question.id):  # a series both editions number alike: its twin alone
                twin = twins[counterpart(question.id)]
                if twin.id in old:
                    assert carried[question.id].value == old[twin.id].value, question.id
                continue
            if question.mapping.item is None:  # profile and Direction 9 specifics: same id
                if question.id in v2_ids:
                    assert carried[question.id].value == old[question.id].value, question.id
                    assert carried[question.id].comment == old[question.id].comment
                continue
            sources = [
                q
                for q in v2.questions
                if q.mapping.item in came_from.get(question.mapping.item, [])
                and q.type == question.type
                and not counterpart(q.id)
            ]
            if not sources:  # new in Ver 3.0: nothing to carry
                assert question.id not in carried, question.id
                continue
            values = [old[q.id].value for q in sources]
            kind = question.kind
            scores = [
                kind.score(question, v) for v in values if kind.score(question, v) is not None
            ]
            answer = carried[question.id]
            if len(values) == 1:
                assert answer.value == values[0], question.id
            elif scores:  # several earlier questions: the weakest answer
                assert kind.score(question, answer.value) == min(scores), question.id
        # Direction 9's contract item carries Ver 2.0's D9-2; its new supply-chain item is blank
        d92 = next(q for q in v3.questions if q.mapping.item == "D9-2" and q.kind.scored)
        assert carried[d92.id].value == old["sup-d9-02"].value
        d93 = [q for q in v3.questions if q.mapping.item == "D9-3"]
        assert d93 and not any(q.id in carried for q in d93)
        letter = db.session.scalar(
            sa.select(OutboxMessage).where(
                OutboxMessage.assessment_id == sent.id, OutboxMessage.kind == "invitation"
            )
        )
        path = re.search(r"/portal/[A-Za-z0-9_-]{20,}", letter.body_text).group(0)

    # The supplier is told the questions changed with the edition, in its language.
    browser = app.test_client()
    assert browser.post(path, data={"lang": "en"}).headers["Location"] == "/portal/q/"
    overview = browser.get("/portal/q/").get_data(as_text=True)
    assert "This questionnaire follows Ver 3.0 of the guidelines, the previous one Ver 2.0" in (
        overview
    )


def test_each_assessment_keeps_its_edition_and_the_roll_up_says_when_they_mix(
    app, auth, two_editions
):
    with app.app_context():
        sent = db.session.get(Assessment, two_editions["v3"])
        v3 = catalog().get("csm-v3-supplier")
        rng = random.Random(3)
        for answer in sent.answers:  # the supplier confirms what was carried
            answer.carried_over = False
        missing = {q.id for q in v3.questions} - {a.question_id for a in sent.answers}
        for question in v3.questions:
            if question.id in missing:
                sent.answers.append(
                    Answer(question_id=question.id, value=question.kind.sample(question, rng))
                )
        sent.status = AssessmentStatus.submitted
        db.session.flush()
        reviewer = db.session.merge(two_editions["reviewer"])
        result = review.complete(sent, v3, Decision.approved, "", reviewer, NOW)
        db.session.commit()
        old = db.session.get(Assessment, two_editions["v2"])
        assert (old.template_id, sent.template_id) == ("csm-v2-supplier", "csm-v3-supplier")
        assert sent.score == result.overall and old.score is not None
        sent_score = sent.score

        found = rollup.compute(clock.today(), Scope())
        assert found.mixed_editions
        by_edition = {e.edition: e for e in found.editions}
        assert set(by_edition) == {"Ver 2.0", "Ver 3.0"}
        assert (by_edition["Ver 2.0"].suppliers, by_edition["Ver 3.0"].suppliers) == (1, 1)
        assert by_edition["Ver 3.0"].average == round(sent.score, 1)
        others = db.session.scalars(
            sa.select(Assessment.score).where(Assessment.template_id == "csm-v2-supplier")
        ).all()
        assert by_edition["Ver 2.0"].average in {round(s, 1) for s in others}
        # One questionnaire in the filters: one edition, nothing mixed
        alone = rollup.compute(clock.today(), Scope(template="csm-v3-supplier"))
        assert not alone.mixed_editions and [e.edition for e in alone.editions] == ["Ver 3.0"]

    auth.login(Role.ciso, locale="en")
    page = auth.client.get("/rollup", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "These scores mix editions of the guideline." in page
    assert '<th scope="row">Ver 2.0</th>' in page and '<th scope="row">Ver 3.0</th>' in page
    filtered = auth.client.get("/rollup?template=csm-v3-supplier").get_data(as_text=True)
    assert "These scores mix editions" not in filtered
    report = auth.client.get("/report?lang=en").get_data(as_text=True)
    assert "These scores mix editions of the guideline." in report
    book = openpyxl.load_workbook(io.BytesIO(auth.client.get("/report.xlsx?lang=en").data))
    figures = {row[0].value: row[1].value for row in book["Roll-up"].iter_rows(min_row=4)}
    assert figures["Average latest score, Ver 3.0"] == round(sent_score, 1)
    assert "Average latest score, Ver 2.0" in figures


def test_the_tier_rules_choose_the_edition_of_the_next_re_check(
    app, auth, make_contact, two_editions
):
    """The admin moves the high tier to Ver 3.0: the supplier's re-check goes out on it, its
    Ver 2.0 answers carried for confirmation; the settings page names each questionnaire's
    edition first."""
    from dataclasses import replace

    from vendorrisk.models import Supplier, SupplierStatus
    from vendorrisk.services.periodic.recheck import recheck
    from vendorrisk.services.review import tiers

    old_one, _ = two_editions["suppliers"]
    make_contact(old_one, name="田中 一郎", email="tanaka@example.jp", locale="ja")
    with app.app_context():
        rules = tiers.tier_rules()
        moved = {**rules.template_by_tier, "high": "csm-v3-supplier"}
        tiers.save_tier_rules(replace(rules, template_by_tier=moved))
        supplier = db.session.get(Supplier, old_one.id)
        supplier.tier, supplier.next_review_on = "high", clock.today() - timedelta(days=1)
        supplier.status = SupplierStatus.active
        db.session.commit()
    auth.login(Role.admin, locale="en")
    settings = auth.client.get("/admin/settings").get_data(as_text=True)
    assert "Ver 3.0 — " in settings and "Ver 2.0 — " in settings
    with app.app_context():
        result = recheck(clock.now())
        assert result.done == 1, result
        sent = db.session.scalars(
            sa.select(Assessment)
            .where(Assessment.supplier_id == old_one.id)
            .order_by(Assessment.id.desc())
        ).first()
        assert sent.template_id == "csm-v3-supplier" and sent.status == AssessmentStatus.sent
        assert sent.carried_over_from_id is not None and sent.answers
        assert all(a.carried_over for a in sent.answers)
