"""The daily jobs are set-based: each reads its candidates with their contacts, owners and
dedupe keys, and writes its assessments, links, audit events and mail, in a fixed number of
statements. Five suppliers with something due, or fifty, cost each job the same, webhook
events (finding.overdue, attestation.expiring) included."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from tests.conftest import empty_tables
from tests.services.periodic.test_periodic import S, at
from vendorrisk.extensions import db
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
    OffboardingReason,
    OutboxMessage,
    Role,
    Severity,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from vendorrisk.services.periodic.expire_links import expire_links
from vendorrisk.services.periodic.expiry_alerts import expiry_alerts
from vendorrisk.services.periodic.finding_reminders import finding_reminders
from vendorrisk.services.periodic.offboarding_reminders import offboarding_reminders
from vendorrisk.services.periodic.recheck import recheck
from vendorrisk.services.periodic.reminders import reminders
from vendorrisk.services.periodic.weekly_digest import weekly_digest
from vendorrisk.services.register import offboarding

#: The daily run, in the scheduler's order (S is a Monday: the digest is due).
JOBS = (
    expire_links,
    recheck,
    reminders,
    finding_reminders,
    expiry_alerts,
    offboarding_reminders,
    weekly_digest,
)


def _supplier(name: str, owner: User, locale: str = "ja", **fields) -> tuple[Supplier, Contact]:
    supplier = Supplier(
        name_ja=f"株式会社{name}",
        name_en=f"{name} Ltd.",
        category=SupplierCategory.outsourcing_contractor,
        status=SupplierStatus.active,
        owner=owner,
        tier="medium",
        **{"next_review_on": S + timedelta(days=200)} | fields,
    )
    contact = Contact(
        supplier=supplier, name=f"担当 {name}", email=f"{name}@example.jp", locale=locale,
        is_primary=True,
    )  # fmt: skip
    db.session.add_all([supplier, contact])
    return supplier, contact


def _open(supplier: Supplier, contact: Contact, due: date, link_until: datetime) -> None:
    assessment = Assessment(
        supplier=supplier,
        template_id="csm-v2-supplier",
        template_version=1,
        status=AssessmentStatus.sent,
        due_on=due,
        sent_at=at(S - timedelta(days=60)),
    )
    db.session.add(assessment)
    db.session.add(
        Invitation(
            assessment=assessment,
            contact=contact,
            email=contact.email,
            locale=contact.locale,
            token_hash=f"{contact.email:0>64}"[-64:],
            expires_at=link_until,
        )  # fmt: skip
    )


def _register(app, n: int) -> None:
    """`n` suppliers of each kind with something due on S."""
    with app.app_context():
        owner = User(
            role=Role.procurement, email="owner@sample.co.jp", name="調達", password_hash="x"
        )
        ciso = User(role=Role.ciso, email="ciso@sample.co.jp", name="CISO", password_hash="x")
        db.session.add_all([owner, ciso])
        db.session.add(  # every event is queued for it, in the jobs' own statements
            WebhookSubscription(
                url="https://hooks.example.com/x",
                events=[event.value for event in WebhookEvent],
                secret_sealed="sealed",
            )
        )
        for i in range(n):
            locale = ("ja", "en")[i % 2]
            # A re-check due, carried from a completed review whose finding is coming due, with
            # an attestation, a declaration, a contract and a risk acceptance expiring.
            supplier, contact = _supplier(f"r{i}", owner, locale, next_review_on=S)
            review = Assessment(
                supplier=supplier, template_id="csm-v2-supplier", template_version=1,
                status=AssessmentStatus.completed, due_on=S - timedelta(days=90),
                sent_at=at(S - timedelta(days=120)), completed_at=at(S - timedelta(days=60)),
            )  # fmt: skip
            db.session.add(review)
            db.session.add(
                Invitation(
                    assessment=review,
                    contact=contact,
                    email=contact.email,
                    locale=locale,
                    token_hash=f"r{i:063d}",
                    expires_at=at(S + timedelta(days=60)),
                )  # fmt: skip
            )
            db.session.add_all(
                [
                    Finding(
                        supplier=supplier, assessment=review, title=f"指摘 {i}",
                        severity=Severity.medium, due_on=S + timedelta(days=7),
                    ),
                    Finding(
                        supplier=supplier, assessment=review, title=f"期限超過 {i}",
                        severity=Severity.high, due_on=S - timedelta(days=1),
                    ),
                    Finding(
                        supplier=supplier, title=f"受容 {i}", severity=Severity.low,
                        status=FindingStatus.risk_accepted, accepted_by=ciso, owner=owner,
                        accepted_until=S + timedelta(days=30),
                    ),
                    Attestation(
                        supplier=supplier, kind=AttestationKind.isms, identifier=f"IS {i}",
                        expires_on=S + timedelta(days=30),
                    ),
                    Attestation(
                        supplier=supplier, kind=AttestationKind.security_action, level="star1",
                        issued_on=S - timedelta(days=800),
                    ),
                    Contract(supplier=supplier, title=f"契約 {i}", ends_on=S + timedelta(days=7)),
                ]
            )  # fmt: skip
            # Questionnaires due in a week, and overdue long enough to escalate.
            supplier, contact = _supplier(f"b{i}", owner, locale)
            _open(supplier, contact, S + timedelta(days=7), at(S + timedelta(days=30)))
            supplier, contact = _supplier(f"o{i}", owner, locale)
            _open(supplier, contact, S - timedelta(days=8), at(S + timedelta(days=30)))
            # A questionnaire whose every link has run out.
            supplier, contact = _supplier(f"x{i}", owner, locale)
            _open(supplier, contact, S - timedelta(days=40), at(S - timedelta(days=20)))
            # An offboarding started a week ago.
            supplier, _ = _supplier(f"f{i}", owner, locale)
            db.session.flush()
            offboarding.start(
                supplier, OffboardingReason.contract_ended, "", owner, at(S - timedelta(days=7))
            )
        db.session.commit()


def _statements(app, count_queries, n: int) -> dict[str, tuple[int, int]]:
    """Each job's statements and what it did, on a register of `n` of each kind."""
    with app.app_context(), db.engine.begin() as conn:
        empty_tables(conn)
    _register(app, n)
    found = {}
    with app.app_context():
        for job in JOBS:
            before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
            with count_queries() as counter:
                result = job(at(S))
            db.session.commit()
            mails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) - before
            found[job.__name__] = (counter.count, result.done, mails)
        events = sa.select(WebhookDelivery.event, sa.func.count()).group_by(WebhookDelivery.event)
        found["webhooks"] = dict(db.session.execute(events).all())
    return found


def test_each_daily_job_costs_the_same_statements_for_5_or_50_suppliers_due(app, count_queries):
    few, many = _statements(app, count_queries, 5), _statements(app, count_queries, 50)
    for job in JOBS:
        name = job.__name__
        (few_statements, few_done, few_mails), (statements, done, mails) = few[name], many[name]
        if name != "weekly_digest":
            assert done == 10 * few_done and few_done >= 5, (name, few[name], many[name])
            assert mails == 10 * few_mails and few_mails >= 5, (name, few[name], many[name])
        assert statements == few_statements, (name, few[name], many[name])
    assert few["webhooks"] == {"finding.overdue": 5, "attestation.expiring": 5}
    assert many["webhooks"] == {"finding.overdue": 50, "attestation.expiring": 50}
