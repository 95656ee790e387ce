"""The benchmark's data set, small: its rows hang together, and the app works on them.

bench/data.py writes with explicit ids and foreign keys unchecked (for speed); this is the guard
that what it writes is what the app itself would have: every reference resolves, scores and
stored area scores agree, the emailed links open, an answer saves, a ready assessment submits,
and the app's own inserts take ids after the loaded ones (PostgreSQL's sequences advanced).
Runs on SQLite, and on PostgreSQL with VENDORRISK_TEST_DATABASE_URL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bench import data
from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    AreaScore,
    Assessment,
    AssessmentStatus,
    Attestation,
    Contact,
    Contract,
    Finding,
    Invitation,
    RollupSnapshot,
    Supplier,
    User,
)
from vendorrisk.models.mixins import hash_token
from vendorrisk.services.assessments import lifecycle

N = 40
SEED = 7


@pytest.fixture
def loaded(app):
    with app.app_context():
        data.populate(N, SEED)
        yield
        db.session.remove()


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def dangling() -> list[str]:
    """Every foreign key value that names no row (nulls aside)."""
    found = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            parent = fk.column.table.alias("parent")
            orphans = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(table.outerjoin(parent, fk.parent == parent.c[fk.column.name]))
                .where(fk.parent.is_not(None), parent.c[fk.column.name].is_(None))
            )
            if orphans:
                found.append(f"{table.name}.{fk.parent.name}: {orphans}")
    return found


def test_the_register_hangs_together(loaded):
    assert count(User) == data.OWNERS + 3
    assert count(Supplier) == N
    assert dangling() == []
    completed = db.session.scalars(
        sa.select(Assessment).where(Assessment.status == AssessmentStatus.completed)
    ).all()
    onboarding = count(Supplier, Supplier.status == "onboarding")
    assert len(completed) == data.CYCLES * (N - onboarding)
    assert count(AreaScore) == len(completed)
    assert count(Answer, Answer.carried_over.is_(False)) >= 50 * len(completed)
    assert count(Attestation, Attestation.kind == "security_action") > 0
    assert count(Contract) >= N and count(Finding) > 0
    assert count(RollupSnapshot) == 4 * count(Supplier, Supplier.status != "offboarded")
    for supplier in db.session.scalars(sa.select(Supplier).where(Supplier.status != "onboarding")):
        latest = max(
            (a for a in supplier.assessments if a.status == AssessmentStatus.completed),
            key=lambda a: a.completed_at,
        )
        assert supplier.latest_score == latest.score
        assert supplier.next_review_on is not None


def test_the_links_open_an_answer_saves_and_a_ready_one_submits(app, loaded, client):
    with app.app_context():
        today = clock.today()
        open_ones = db.session.scalars(
            sa.select(Assessment)
            .where(Assessment.status.in_(("sent", "in_progress")))
            .where(Assessment.due_on >= today - timedelta(days=10))
            .order_by(Assessment.id)
        ).all()
        for assessment in open_ones:
            (invitation,) = assessment.invitations
            assert invitation.token_hash == hash_token(data.token_for(SEED, assessment.id))
        sent = next(a.id for a in open_ones if a.status == "sent")
        ready = [a.id for a in open_ones if a.status == "in_progress"]
    assert ready, "no assessment ready to submit at this size and seed"

    response = client.post(f"/portal/{data.token_for(SEED, sent)}")
    assert response.status_code == 302
    page = client.get("/portal/q/section/d5").get_data(as_text=True)
    question, version = re.search(r'name="v-([^"]+)" value="(\d+)"', page).groups()
    response = client.post(
        "/portal/q/autosave",
        data={"question": question, f"v-{question}": version, f"a-{question}": "partial"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["version"] == int(version) + 1

    client.post("/portal/q/finish")
    assert client.post(f"/portal/{data.token_for(SEED, ready[0])}").status_code == 302
    response = client.post("/portal/q/submit")
    assert response.status_code == 302 and response.location.endswith("/portal/q/done")


def test_the_app_inserts_after_the_loaded_ids(app, loaded):
    with app.app_context():
        supplier = db.session.scalars(
            sa.select(Supplier).where(Supplier.status == "active").order_by(Supplier.id.desc())
        ).first()
        highest = {
            model: db.session.scalar(sa.select(sa.func.max(model.id)))
            for model in (Assessment, Invitation, Answer, Contact, Contract, Attestation)
        }
        contact = Contact(supplier=supplier, name="追加 担当", email="added@example.jp")
        db.session.add_all(
            [
                contact,
                Contract(supplier=supplier, title="追加契約"),
                Attestation(supplier=supplier, kind="pmark"),
                User(email="new@example.co.jp", password_hash="x", role="auditor"),
                Supplier(name_ja="新規取引先", category="other"),
            ]
        )
        db.session.flush()
        template = catalog().get(data.TEMPLATE)
        for open_one in [a for a in supplier.assessments if a.status in ("sent", "in_progress")]:
            open_one.status = AssessmentStatus.cancelled
        assessment = lifecycle.create_assessment(
            supplier, template, clock.today() + timedelta(days=30), "", [
                lifecycle.Recipient(contact, "ja")], None, clock.now()
        )  # fmt: skip
        db.session.commit()
        assert assessment.id > highest[Assessment]
        assert min(a.id for a in assessment.answers) > highest[Answer]
        assert assessment.invitations[0].id > highest[Invitation]
        assert contact.id > highest[Contact]
