"""The demo's reviews: every supplier's risk profile and tier, a questionnaire history for
some (completed reviews with scores, a few submitted ones waiting), and findings in every state."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.demo.register import CORPORATE_NUMBER_SEED
from vendorrisk.demo.suppliers import SUPPLIERS
from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Decision,
    FindingStatus,
    Role,
    Supplier,
    User,
)
from vendorrisk.models.assessment import OPEN_STATUSES
from vendorrisk.services.assessments import lifecycle
from vendorrisk.services.register import subcontractors
from vendorrisk.services.review import review, tiers
from vendorrisk.services.review.findings import (
    accept_risk,
    move_finding,
    raise_finding,
    suggested_findings,
)
from vendorrisk.vocab import Outage, Replaceability

#: The risk profile values drawn for each supplier (the critical ones never tolerate long outages).
OUTAGES = tuple(outage.value for outage in Outage)
REPLACEABILITY = tuple(replaceability.value for replaceability in Replaceability)


def profiles_and_reviews(users: list[User], today: date) -> None:
    """Give every supplier a risk profile and a tier, and a questionnaire history to some:
    completed reviews with scores, and a few submitted ones waiting for a reviewer."""
    rng = random.Random(CORPORATE_NUMBER_SEED + 1)  # noqa: S311 (demo data, not a secret)  # nosec B311
    reviewer = next(u for u in users if u.role == Role.reviewer)
    template = catalog().get("csm-v2-supplier")
    suppliers = db.session.scalars(sa.select(Supplier).order_by(Supplier.id)).all()
    now = datetime.now(UTC)
    for index, supplier in enumerate(suppliers):
        critical = supplier.criticality.value in ("high", "critical")
        supplier.max_outage = OUTAGES[rng.randrange(2) if critical else rng.randrange(1, 4)]
        supplier.replaceability = REPLACEABILITY[rng.randrange(3)]
        tiers.apply_tier_rules(supplier, tiers.tier_rules(), now)
        if template is None or not supplier.contacts or index % 3 == 2:
            continue
        assessment = Assessment(
            supplier=supplier,
            template_id=template.id,
            template_version=template.version,
            due_on=today - timedelta(days=20),
            status=AssessmentStatus.submitted,
            sent_at=now - timedelta(days=50),
            submitted_at=now - timedelta(days=25),
            created_by=supplier.owner,
        )
        db.session.add(assessment)
        listed = LISTED.get(supplier.name_ja)
        for question in template.questions:
            value = _listing(question, _demo_answer(question, rng), listed, today)
            if value is not None:
                assessment.answers.append(Answer(question_id=question.id, value=value))
        db.session.flush()
        if index % 3 == 0:
            decision = (
                Decision.approved if rng.random() < 0.6 else Decision.approved_with_conditions
            )
            review.complete(
                assessment,
                template,
                decision,
                "" if decision == Decision.approved else "指摘事項の是正を条件とする",
                reviewer,
                now - timedelta(days=rng.randrange(5, 15)),
            )


#: The tiers whose first supplier without a questionnaire is sent its tier's pack in the demo.
PACK_TIERS = ("low", "medium", "critical")


def send_packs(today: date) -> list[Assessment]:
    """Send the tier rules' pack to the first supplier of some tiers not being asked already (a
    re-check after a completed review counts): a low-tier supplier gets the lite pack, a
    critical one the full questionnaire (invitations and mail as procurement's send does)."""
    rules, now, sent = tiers.tier_rules(), datetime.now(UTC), []
    open_now = (*OPEN_STATUSES, AssessmentStatus.submitted)
    asked = sa.select(Assessment.supplier_id).where(Assessment.status.in_(open_now))
    for tier in PACK_TIERS:
        template = catalog().get(rules.template_by_tier.get(tier, ""))
        supplier = db.session.scalars(
            sa.select(Supplier)
            .where(Supplier.tier == tier, Supplier.id.not_in(asked), Supplier.contacts.any())
            .order_by(Supplier.id)
            .limit(1)
        ).first()
        if template is None or supplier is None:
            continue
        primary = [c for c in supplier.contacts if c.is_primary] or supplier.contacts[:1]
        sent.append(
            lifecycle.create_assessment(
                supplier,
                template,
                # due after the demo's day and the clock's (a demo loaded as of a past day)
                max(today, clock.today()) + timedelta(days=21),
                "",
                [lifecycle.Recipient(c, c.locale) for c in primary],
                supplier.owner,
                now,
            )
        )
    return sent


#: (status, days since raised, days to the due date) of the demo findings, in turn.
FINDING_STATES = (
    ("open", 12, 48),
    ("in_progress", 40, 20),
    ("open", 100, -10),
    ("resolved", 70, 20),
    ("risk_accepted", 60, 30),
    ("in_progress", 20, 70),
    ("open", 5, 85),
)


def findings(users: list[User], today: date) -> None:
    """Findings the reviewer raised from the completed reviews' suggestions, in every state."""
    ciso = next(u for u in users if u.role == Role.ciso)
    reviewer = next(u for u in users if u.role == Role.reviewer)
    completed = db.session.scalars(
        sa.select(Assessment)
        .where(Assessment.status == AssessmentStatus.completed)
        .order_by(Assessment.id)
    ).all()
    now, turn = datetime.now(UTC), 0
    for assessment in completed:
        template = catalog().get(assessment.template_id, assessment.template_version)
        result = review.current_score(assessment, template)
        for suggestion in suggested_findings(assessment, template, result)[:3]:
            state, age, due = FINDING_STATES[turn % len(FINDING_STATES)]
            turn += 1
            question = template.question(suggestion.question_id)
            finding = raise_finding(
                assessment.supplier,
                {
                    "question_id": question.id,
                    "title": question.text.ja[:300],
                    "severity": suggestion.severity,
                    "required_action": "対策の実施計画と完了予定日を提出してください。",
                    "due_on": today + timedelta(days=due),
                    "owner_id": reviewer.id,
                    "created_at": now - timedelta(days=age),
                },
                assessment,
            )
            if state == "risk_accepted":
                accept_risk(
                    finding, ciso, "代替統制（監視強化）により残留リスクを許容する。",
                    today + timedelta(days=due), today,
                )  # fmt: skip
            elif state != "open":
                move_finding(finding, FindingStatus(state), now)


#: The subcontractors (再委託先) a supplier lists in its answers, by its Japanese name (none:
#: it subcontracts none of our work); the others leave the list empty.
LISTED = {spec["name_ja"]: spec["subcontractors"] for spec in SUPPLIERS if "subcontractors" in spec}


def _listing(question, drawn, listed: tuple[dict, ...] | None, today: date):
    """The answers about subcontracting: "not applicable" and no list for a supplier that uses
    none, its list (subcontracting partly approved in advance) for one that does, no list for
    the others; any other answer as drawn."""
    if question.id == subcontractors.SUBCONTRACTING_QUESTION and listed is not None:
        return "partial" if listed else "na"
    if not subcontractors.is_subcontractor_list(question):
        return drawn
    rows = [
        {k: v for k, v in row.items() if k != "approved"}
        | ({"approved_on": (today + timedelta(days=row["approved"])).isoformat()}
           if row.get("approved") is not None else {})
        for row in listed or ()
    ]  # fmt: skip
    return rows or None


def _demo_answer(question, rng: random.Random):
    """A likely answer from the question's type; "na" keeps the demo free of evidence files."""
    return "na" if question.evidence else question.kind.sample(question, rng)
