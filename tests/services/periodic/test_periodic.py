"""The periodic jobs, driven with a given "now": re-checks, reminders, expiry alerts, digests."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.conftest import body_of, empty_tables
from tests.factories import make_answer, make_assessment, make_finding
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.mail import outbox
from vendorrisk.models import (
    OPEN_STATUSES,
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Contact,
    Contract,
    EvidenceRequest,
    Finding,
    FindingStatus,
    Invitation,
    OutboxMessage,
    Role,
    Severity,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    User,
)
from vendorrisk.services.assessments import lifecycle as assessments
from vendorrisk.services.assessments.lifecycle import Recipient
from vendorrisk.services.periodic.expire_links import expire_links
from vendorrisk.services.periodic.expiry_alerts import expiry_alerts
from vendorrisk.services.periodic.recheck import recheck
from vendorrisk.services.periodic.reminders import reminders
from vendorrisk.services.periodic.settings import (
    ScheduleSettings,
    save_schedule_settings,
    schedule_settings,
)
from vendorrisk.services.periodic.weekly_digest import weekly_digest

JST = ZoneInfo("Asia/Tokyo")
TEMPLATE_ID = "csm-v2-supplier"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JOBS = (recheck, reminders, expiry_alerts, expire_links, weekly_digest)


def _first_monday_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


#: Day 0 of the simulated year: a Monday after today (services refuse due dates in the past).
S = _first_monday_after(date.today() + timedelta(days=7))


def at(day: date, hour: int = 9) -> datetime:
    """That day at the given hour in Tokyo, in UTC (as the scheduler passes "now")."""
    return datetime.combine(day, time(hour), JST).astimezone(UTC)


def run_day(now: datetime) -> dict:
    """Every job once, each committed on its own, as the scheduler does."""
    results = {}
    for job in JOBS:
        results[job.__name__] = job(now)
        db.session.commit()
    return results


def _outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


def _state() -> tuple:
    """What the jobs create or change: mails, evidence requests, assessments and their states."""
    count = sa.func.count
    return db.session.execute(
        sa.select(
            sa.select(count(OutboxMessage.id)).scalar_subquery(),
            sa.select(count(EvidenceRequest.id)).scalar_subquery(),
            sa.select(count(Assessment.id)).scalar_subquery(),
            sa.select(count(Assessment.id))
            .where(Assessment.status.in_(OPEN_STATUSES))
            .scalar_subquery(),
        )
    ).one()


def _rows(**filters) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).filter_by(**filters)))


def test_settings_round_trip_and_refuse_bad_values_by_name(app, ctx):
    settings = ScheduleSettings.from_dict({"reminder_days_before": [1, 14], "digest_weekday": 4})
    assert settings.reminder_days_before == (14, 1)
    assert ScheduleSettings.from_dict(settings.to_dict()) == settings
    for bad, key in (
        ({"overdue_every_days": 0}, "overdue_every_days"),
        ({"digest_weekday": 7}, "digest_weekday"),
        ({"expiry_days_before": [30, 30]}, "expiry_days_before"),
        ({"reminder_days_before": "7"}, "reminder_days_before"),
        ({"escalate_after_days": True}, "escalate_after_days"),
        ({"remind_daily": True}, "remind_daily"),
    ):
        with pytest.raises(ValueError, match=key):
            ScheduleSettings.from_dict(bad)
    with ctx():
        assert schedule_settings() == ScheduleSettings()
        save_schedule_settings(settings)
        db.session.commit()
    with ctx():
        assert schedule_settings() == settings


# -- a simulated year -------------------------------------------------------------------------


@pytest.fixture
def world(app, make_user, make_supplier, make_contact, make_attestation, make_contract):
    """A small supplier base with something to do, spread over a year from S."""
    owner = make_user(Role.procurement, name="調達 太郎")
    ciso_en = make_user(Role.ciso, name="Chief Security", locale="en")
    ciso_ja = make_user(Role.ciso, name="情報 統括")
    make_user(Role.ciso, name="退職 済", active=False)
    active = {"status": SupplierStatus.active, "owner_id": owner.id}
    alpha = make_supplier(name_ja="株式会社アルファ", name_en="Alpha", tier="high", **active,
                          next_review_on=S + timedelta(days=20))  # fmt: skip
    a1 = make_contact(alpha, email="a1@alpha.example.jp", is_primary=True)
    make_contact(alpha, email="a2@alpha.example.jp")
    isms = make_attestation(alpha, kind=AttestationKind.isms, level=None, identifier="IS 12345",
                            expires_on=S + timedelta(days=100))  # fmt: skip
    make_contract(alpha, ends_on=S + timedelta(days=200))
    beta = make_supplier(name_ja="ベータ株式会社", name_en="Beta", tier="medium", **active)
    b1 = make_contact(beta, name="Jane Doe", email="jane@beta.example.com", locale="en",
                      is_primary=True)  # fmt: skip
    gamma = make_supplier(name_ja="ガンマ合同会社", name_en="Gamma", tier="low", **active,
                          next_review_on=S + timedelta(days=30))  # fmt: skip
    make_attestation(gamma, kind=AttestationKind.pmark, level=None,
                     expires_on=S + timedelta(days=5))  # fmt: skip
    delta = make_supplier(name_ja="デルタ株式会社", tier="high", status=SupplierStatus.offboarded,
                          owner_id=owner.id, next_review_on=S + timedelta(days=10))  # fmt: skip
    make_contact(delta, email="d@delta.example.jp", is_primary=True)
    make_attestation(delta, kind=AttestationKind.cyber_insurance, level=None,
                     expires_on=S + timedelta(days=50))  # fmt: skip
    with app.app_context():
        template = catalog().get(TEMPLATE_ID)
        previous = _completed(alpha.id, template, S - timedelta(days=160))
        make_finding(
            gamma,
            title="バックアップの定期的な復旧テスト",
            severity=Severity.medium,
            owner_id=owner.id,
            status=FindingStatus.risk_accepted,
            accepted_by_id=ciso_en.id,
            accepted_reason="代替策あり",
            accepted_until=S + timedelta(days=45),
        )
        contact = db.session.get(Contact, b1.id)
        beta_assessment = assessments.create_assessment(
            contact.supplier,
            template,
            S + timedelta(days=10),
            "",
            [Recipient(contact, "en")],
            None,
            at(S, 8),
        )
        db.session.commit()
        ids = SimpleNamespace(previous=previous.id, beta_assessment=beta_assessment.id)
        db.session.remove()
    return SimpleNamespace(
        owner=owner, ciso_en=ciso_en, ciso_ja=ciso_ja, alpha=alpha, a1=a1, beta=beta, b1=b1,
        gamma=gamma, delta=delta, isms=isms, template=template, **vars(ids),
    )  # fmt: skip


def _completed(supplier_id: int, template, when: datetime | date) -> Assessment:
    when = at(when) if isinstance(when, date) else when
    done = make_assessment(
        supplier_id,
        template,
        due_on=when.date(),
        status=AssessmentStatus.completed,
        sent_at=when - timedelta(days=30),
        submitted_at=when - timedelta(days=5),
        completed_at=when,
        score=80.0,
    )
    for q in [q for q in template.questions if q.type == "yes_partial_no"][:2]:
        make_answer(done, q.id, "yes", comment="継続")
    db.session.flush()
    return done


def _days(rows) -> dict[tuple[str, str], list[int]]:
    found = defaultdict(list)
    for row in rows:
        found[(row.recipient, row.kind)].append((row.sent_at.astimezone(JST).date() - S).days)
    return {key: sorted(days) for key, days in found.items()}


def test_a_simulated_year_sends_every_mail_on_its_day_exactly_once(app, world, smtp_server):
    mondays = list(range(0, 365, 7))
    received: list[tuple[int, str, str]] = []
    bodies: dict[tuple[int, str], str] = {}
    notes_on: dict[int, dict] = {}
    with app.app_context():
        state = _state()
        for n in range(365):
            now = at(S + timedelta(days=n))
            notes_on[n] = run_day(now)
            if _state() != state:
                # the same day again (a restart, a second scheduler) adds nothing; a run that
                # changed nothing leaves the same state behind, so the busy days are the test
                state = _state()
                run_day(now)
                assert _state() == state, f"day {n}"
            before = len(smtp_server.messages)
            outbox.deliver_pending(now, limit=500)
            for message in smtp_server.messages[before:]:
                to = message["To"].addresses[0].addr_spec
                received.append((n, to, " ".join(str(message["Subject"]).split())))
                bodies[(n, to)] = body_of(message)
            if n == 9:  # Beta submits after the day's reminder
                submitted = db.session.get(Assessment, world.beta_assessment)
                submitted.status = AssessmentStatus.submitted
                submitted.submitted_at = at(S + timedelta(days=9), 10)
                db.session.commit()
                state = _state()

        rows = _rows(status="sent")
        assert _outbox_count() == len(rows)  # everything queued was delivered
        # what the relay received is exactly what the outbox says was sent, on that day
        assert Counter(received) == Counter(
            ((r.sent_at.astimezone(JST).date() - S).days, r.recipient, r.subject) for r in rows
        )
        owner, a1, b1 = world.owner.email, world.a1.email, world.b1.email
        cisos = (world.ciso_en.email, world.ciso_ja.email)
        expected = {
            (b1, "invitation"): [0],
            (b1, "reminder"): [3, 9],  # 7 and 1 day before; the 14-day one predates the send
            (a1, "invitation"): [20],  # the re-check
            (a1, "reminder"): [36, 43, 49, 50, 51, 58],
            (a1, "evidence_request"): [10, 70, 93, 100],  # ISMS: 90, 30, 7 days before and on
            (owner, "reminder_owner"): [51, 58],
            (owner, "assessment_expired"): [65],
            (owner, "recheck_no_contact"): [30],
            # Gamma's Privacy Mark (7 days, caught up on day 0, then on the day), the risk
            # acceptance, Alpha's ISMS, Alpha's contract
            (owner, "expiry"): sorted([0, 5, 15, 38, 45, 10, 70, 93, 100, 110, 170, 193, 200]),
            (world.ciso_en.email, "expiry"): [15, 38, 45],  # the CISO who accepted the risk
            **{(c, "escalation"): [57] for c in cisos},
            **{(c, "digest"): mondays for c in cisos},
        }
        assert _days(rows) == expected

        # the re-check: one new assessment on day 20, answers carried over from the last one
        alpha = db.session.scalars(
            sa.select(Assessment).where(
                Assessment.supplier_id == world.alpha.id, Assessment.id != world.previous
            )
        ).all()
        assert len(alpha) == 1
        recheck = alpha[0]
        assert recheck.sent_at == at(S + timedelta(days=20))
        assert recheck.due_on == S + timedelta(days=50)
        assert recheck.carried_over_from_id == world.previous
        assert [(a.value, a.carried_over) for a in recheck.answers] == [("yes", True)] * 2
        assert recheck.status == AssessmentStatus.expired  # never answered: links ran out
        assert {i.email for i in recheck.invitations} == {a1}  # the primary contact only
        # each of the 6 reminders brought a new link and retired the one before
        assert len(recheck.invitations) == 7
        assert sum(i.revoked_at is None for i in recheck.invitations) == 1
        assert "ガンマ合同会社" in notes_on[30]["recheck"].summary()
        assert _rows(recipient="d@delta.example.jp") == []  # offboarded: left alone

    # each evidence request replaced the one before
    with app.app_context():
        requests = db.session.scalars(sa.select(EvidenceRequest).order_by(EvidenceRequest.id)).all()
        assert [(r.created_at.astimezone(JST).date() - S).days for r in requests] == [
            10,
            70,
            93,
            100,
        ]
        assert all(
            r.expires_at == n.created_at for r, n in zip(requests, requests[1:], strict=False)
        )

    by_subject = {(n, to): subject for n, to, subject in received}
    assert by_subject[(57, world.ciso_en.email)].startswith("Escalation: Alpha")
    assert "Reminder:" in by_subject[(3, b1)]
    week_2 = bodies[(14, world.ciso_en.email)]
    assert "Submitted in the last 7 days: 1" in week_2 and "Beta" in week_2
    week_8 = bodies[(56, world.ciso_en.email)]
    assert "Overdue questionnaires: 1" in week_8 and "Alpha" in week_8
    assert "Re-checks due but no contact to send them to: 1" in week_8 and "Gamma" in week_8
    assert "ガンマ合同会社" in bodies[(56, world.ciso_ja.email)]


def test_reminders_stop_when_submitted_or_cancelled_and_escalate_once(
    app, make_user, make_supplier, make_contact
):
    owner = make_user(Role.procurement)
    cisos = [make_user(Role.ciso), make_user(Role.ciso, locale="en")]
    make_user(Role.reviewer)
    ids = {}
    with app.app_context():
        template = catalog().get(TEMPLATE_ID)
        for name in ("cancelled", "submitted"):
            supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id)
            contact = db.session.get(Contact, make_contact(supplier, is_primary=True).id)
            ids[name] = assessments.create_assessment(
                contact.supplier, template, S + timedelta(days=10), "",
                [Recipient(contact, "ja")], None, at(S, 8),
            ).id  # fmt: skip
        db.session.commit()
        for n in range(0, 40):
            now = at(S + timedelta(days=n))
            reminders(now)
            db.session.commit()
            if n == 5:
                done = db.session.get(Assessment, ids["submitted"])
                done.status, done.submitted_at = AssessmentStatus.submitted, now
            if n == 20:
                assessments.cancel(db.session.get(Assessment, ids["cancelled"]), template, now)
            db.session.commit()
        assert len(_rows(kind="reminder", assessment_id=ids["submitted"])) == 1  # day 3 only
        # cancelled on day 20: reminders on days 3, 9, 10, 11 and 18, none after
        keys = [r.dedupe_key for r in _rows(kind="reminder", assessment_id=ids["cancelled"])]
        assert sorted(k.split(":")[2:5] for k in keys) == sorted(
            [
                ["before", str(S + timedelta(10)), "7"],
                ["before", str(S + timedelta(10)), "1"],
                ["due_today", str(S + timedelta(10)), "0"],
                ["overdue", str(S + timedelta(10)), "1"],
                ["overdue", str(S + timedelta(10)), "8"],
            ]
        )
        escalations = _rows(kind="escalation")
        assert sorted(r.recipient for r in escalations) == sorted(c.email for c in cisos)
        assert {r.assessment_id for r in escalations} == {ids["cancelled"]}
        assert len(_rows(kind="reminder_owner")) == 2


def test_a_missed_reminder_is_sent_once_when_the_scheduler_comes_back(
    app, make_user, make_supplier, make_contact
):
    owner = make_user(Role.procurement)
    supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id)
    with app.app_context():
        contact = db.session.get(Contact, make_contact(supplier, is_primary=True).id)
        assessments.create_assessment(
            contact.supplier, catalog().get(TEMPLATE_ID), S + timedelta(days=20), "",
            [Recipient(contact, "ja")], None, at(S, 8),
        )  # fmt: skip
        db.session.commit()
        # down from day 1 to day 14: the 14-day (day 6) and 7-day (day 13) reminders were missed
        done = []
        for n in (15, 15, 16, 17, 18):
            done.append(reminders(at(S + timedelta(days=n))).done)
            db.session.commit()
        assert done == [1, 0, 0, 0, 0]  # the latest missed one, once; nothing until day 19
        keys = [r.dedupe_key.split(":")[2:5] for r in _rows(kind="reminder")]
        assert keys == [["before", str(S + timedelta(20)), "7"]]


def test_every_reminder_carries_a_new_link_and_retires_the_old_one(
    app, make_user, make_supplier, make_contact
):
    owner = make_user(Role.procurement)
    supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id)
    with app.app_context():
        contact = db.session.get(Contact, make_contact(supplier, is_primary=True).id)
        assessment = assessments.create_assessment(
            contact.supplier, catalog().get(TEMPLATE_ID), S + timedelta(days=20), "",
            [Recipient(contact, "ja")], None, at(S, 8),
        )  # fmt: skip
        db.session.commit()
        for _ in range(2):
            reminders(at(S + timedelta(days=6)))  # the 14-day reminder
            db.session.commit()
        db.session.refresh(assessment)
        old, new = assessment.invitations
        assert old.revoked_at == at(S + timedelta(days=6))
        assert new.expires_at == assessments.invitation_expiry(assessment.due_on)
        resent, reminder = _rows(kind="resend"), _rows(kind="reminder")
        assert resent == [] and len(reminder) == 1  # one letter: the reminder carries the link
        assert re.search(r"/portal/[A-Za-z0-9_-]{40,}", reminder[0].body_text)
        assert "以前お送りしたリンクは無効となりました" in reminder[0].body_text


def test_recheck_happens_once_per_review_date(app, make_user, make_supplier, make_contact):
    owner = make_user(Role.procurement)
    procurement = make_user(Role.procurement)
    due = S + timedelta(days=1)
    supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id, tier="critical",
                             next_review_on=due)  # fmt: skip
    make_contact(supplier, email="bounced@example.jp", undeliverable_at=at(S))
    orphan = make_supplier(status=SupplierStatus.active, tier="low", next_review_on=due)
    with app.app_context():
        result = recheck(at(S))
        assert (result.done, result.skipped) == (0, 0)  # not yet
        result = recheck(at(due))
        db.session.commit()
        assert (result.done, result.skipped) == (0, 2)  # the only address bounced; no contacts
        told = {(r.recipient, r.dedupe_key.split(":")[1]) for r in _rows(kind="recheck_no_contact")}
        assert told == {  # the owner; procurement for the supplier without an owner
            (owner.email, str(supplier.id)),
            (owner.email, str(orphan.id)),
            (procurement.email, str(orphan.id)),
        }
        make_contact(supplier, email="new@example.jp")  # procurement fixes the contact
        result = recheck(at(due + timedelta(days=1)))
        db.session.commit()
        assert result.done == 1
        created = db.session.scalar(
            sa.select(Assessment).where(Assessment.supplier_id == supplier.id)
        )
        assessments.cancel(created, catalog().get(TEMPLATE_ID), at(due + timedelta(days=2)))
        db.session.commit()
        # cancelled by a person: the job does not send it again for the same review date
        assert recheck(at(due + timedelta(days=3))).done == 0
        db.session.get(Supplier, supplier.id).next_review_on = due + timedelta(days=200)
        db.session.commit()
        assert recheck(at(due + timedelta(days=200))).done == 1
        assert len(_rows(kind="recheck_no_contact")) == 3


def test_expire_links_closes_assessments_whose_links_all_ran_out(
    app, make_user, make_supplier, make_contact
):
    owner = make_user(Role.procurement)
    supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id)
    with app.app_context():
        contact = db.session.get(Contact, make_contact(supplier, is_primary=True).id)
        assessment = assessments.create_assessment(
            contact.supplier, catalog().get(TEMPLATE_ID), S + timedelta(days=10), "",
            [Recipient(contact, "ja")], None, at(S, 8),
        )  # fmt: skip
        db.session.commit()
        end = assessments.invitation_expiry(assessment.due_on)
        assert expire_links(end - timedelta(seconds=1)).done == 0
        assert expire_links(end).done == 1
        db.session.commit()
        assert db.session.get(Assessment, assessment.id).status == AssessmentStatus.expired
        assert expire_links(end + timedelta(days=1)).done == 0
        assert [r.recipient for r in _rows(kind="assessment_expired")] == [owner.email]


# -- the number of queries does not grow with the supplier base -------------------------------


def _quiet_suppliers(app, count: int, due_in: int = 10, expiring_in: int = 50) -> None:
    """Suppliers with open assessments, attestations, contracts and acceptances, none due today
    (with `due_in` 7 and `expiring_in` 30, each has a reminder due and an attestation and a
    contract expiring: mail to its contact and to its owner)."""
    today = S
    with app.app_context():
        version = catalog().get(TEMPLATE_ID).version
        user = User(email=f"quiet-{count}@example.com", password_hash="x", role=Role.ciso)
        db.session.add(user)
        for n in range(count):
            supplier = Supplier(
                name_ja=f"静穏{count}-{n}",
                category=SupplierCategory.other,
                status=SupplierStatus.active,
                tier="low",
                owner=user,
                next_review_on=today + timedelta(days=100),
            )
            contact = Contact(supplier=supplier, name="担当", email=f"q{n}@example.jp")
            expiring = today + timedelta(days=expiring_in)
            supplier.attestations = [Attestation(kind=AttestationKind.isms, expires_on=expiring)]
            supplier.contracts = [Contract(title="契約", ends_on=expiring)]
            assessment = Assessment(
                supplier=supplier,
                template_id=TEMPLATE_ID,
                template_version=version,
                status=AssessmentStatus.sent,
                due_on=today + timedelta(days=due_in),
                sent_at=at(today - timedelta(days=0 if due_in >= 10 else 30), 8),
            )
            assessment.invitations = [
                Invitation(
                    contact=contact,
                    email=contact.email,
                    token_hash=f"{count:04d}{n:060d}",
                    expires_at=at(today + timedelta(days=30)),
                )
            ]
            db.session.add_all([supplier, contact, assessment])
            db.session.add(
                Finding(
                    supplier=supplier,
                    title="受容",
                    severity=Severity.low,
                    status=FindingStatus.risk_accepted,
                    accepted_by=user,
                    accepted_until=today + timedelta(days=50),
                )
            )
        db.session.commit()


def test_the_number_of_queries_does_not_grow_with_the_suppliers(app, count_queries):
    counts = []
    for size in (20, 200):
        with app.app_context(), db.engine.begin() as conn:
            empty_tables(conn)
        _quiet_suppliers(app, size)
        with app.app_context():
            loaded = db.session.scalar(sa.select(sa.func.count(Assessment.id)))
            assert loaded == size
            per_job = []
            for job in (reminders, expiry_alerts, recheck):
                with count_queries() as counter:
                    result = job(at(S))
                assert result.done == 0, job.__name__
                per_job.append(counter.count)
            db.session.rollback()
        counts.append(per_job)
    assert counts[0] == counts[1]


def test_a_busy_day_queues_its_mail_in_the_same_number_of_queries(app, count_queries):
    """Every supplier has a reminder due and an attestation and a contract expiring: the jobs
    select in a fixed number of queries and write their mail in one batch (the new links and
    evidence requests they carry go in one flush), so neither grows with the mail queued."""
    counts = []
    for size in (4, 24):
        with app.app_context(), db.engine.begin() as conn:
            empty_tables(conn)
        _quiet_suppliers(app, size, due_in=7, expiring_in=30)
        with app.app_context():
            per_job = []
            for job in (reminders, expiry_alerts):
                with count_queries() as counter:
                    result = job(at(S))
                assert result.done >= size, (job.__name__, result)
                reads = [q for q in counter.statements if q.lstrip().upper().startswith("SELECT")]
                mail = [q for q in counter.statements if "INSERT INTO outbox_messages" in q]
                per_job.append((len(reads), len(mail)))
            queued = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
            assert queued >= 3 * size
            db.session.rollback()
        counts.append(per_job)
    assert counts[0] == counts[1], counts
