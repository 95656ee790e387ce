"""The model rules: each hybrid's Python side and SQL side agree, on the boundary days.

Every rule is asked twice of the same rows, once of the loaded objects and once as a WHERE clause,
on the day before, the day of and the day after each boundary; a few known answers pin the rule
itself, so both sides cannot drift together unseen. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import (
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Contract,
    Finding,
    FindingStatus,
    ItemStatus,
    SelfAssessmentCycle,
    SelfAssessmentItem,
    Severity,
    Supplier,
)

D = date(2026, 6, 15)
DAYS = (D - timedelta(days=1), D, D + timedelta(days=1))
MAYBE_D = (None, *DAYS)


def _agree(model, rule, rows, day=None) -> dict:
    """The ids for which `rule` holds, asked in Python and in SQL; both must be the same."""
    args = () if day is None else (day,)
    python = {row.id for row in rows if (getattr(row, rule)(*args) if args else getattr(row, rule))}
    expression = getattr(model, rule)(*args) if args else getattr(model, rule)
    sql = set(db.session.scalars(sa.select(model.id).where(expression)))
    assert python == sql, (model.__name__, rule, day)
    return python


@pytest.fixture
def supplier_id(make_supplier) -> int:
    return make_supplier().id


def test_contract_in_force_on(ctx, supplier_id):
    with ctx() as session:
        contracts = [
            Contract(supplier_id=supplier_id, title="c", starts_on=start, ends_on=end)
            for start, end in product(MAYBE_D, MAYBE_D)
            if start is None or end is None or start <= end
        ]
        session.add_all(contracts)
        session.flush()
        for day in DAYS:
            _agree(Contract, "in_force_on", contracts, day)
        ending_on_d = next(c for c in contracts if c.starts_on is None and c.ends_on == D)
        starting_on_d = next(c for c in contracts if c.starts_on == D and c.ends_on is None)
        assert ending_on_d.in_force_on(D) and not ending_on_d.in_force_on(DAYS[2])
        assert starting_on_d.in_force_on(D) and not starting_on_d.in_force_on(DAYS[0])


def test_attestation_valid_on(ctx, supplier_id):
    with ctx() as session:
        attestations = [
            Attestation(supplier_id=supplier_id, kind=AttestationKind.isms, expires_on=day)
            for day in MAYBE_D
        ]
        session.add_all(attestations)
        session.flush()
        for day in DAYS:
            _agree(Attestation, "valid_on", attestations, day)
        expiring_on_d = next(a for a in attestations if a.expires_on == D)
        assert expiring_on_d.valid_on(D) and not expiring_on_d.valid_on(DAYS[2])
        assert all(a.valid_on(date.max) for a in attestations if a.expires_on is None)


def test_finding_is_open_and_is_overdue(ctx, supplier_id, make_user):
    ciso = make_user("ciso")
    with ctx() as session:
        findings = []
        for status, due_on in product(FindingStatus, MAYBE_D):
            accepted = status is FindingStatus.risk_accepted
            findings.append(
                Finding(
                    supplier_id=supplier_id,
                    title="f",
                    severity=Severity.high,
                    status=status,
                    due_on=due_on,
                    accepted_by_id=ciso.id if accepted else None,
                    accepted_until=D if accepted else None,
                )
            )
        session.add_all(findings)
        session.flush()
        open_ids = _agree(Finding, "is_open", findings)
        assert open_ids == {
            f.id for f in findings if f.status in (FindingStatus.open, FindingStatus.in_progress)
        }
        for day in DAYS:
            overdue = _agree(Finding, "is_overdue", findings, day)
            assert overdue <= open_ids
        due_on_d = [f for f in findings if f.is_open and f.due_on == D]
        assert not any(f.is_overdue(D) for f in due_on_d)
        assert all(f.is_overdue(DAYS[2]) for f in due_on_d)


def test_assessment_is_overdue(ctx, supplier_id):
    with ctx() as session:
        assessments = [
            Assessment(
                supplier_id=supplier_id,
                template_id="csm-v2-supplier",
                template_version=1,
                status=status,
                due_on=due_on,
            )
            for status, due_on in product(AssessmentStatus, DAYS)
        ]
        session.add_all(assessments)
        session.flush()
        for day in DAYS:
            _agree(Assessment, "is_overdue", assessments, day)
        due_on_d = [a for a in assessments if a.due_on == D]
        assert not any(a.is_overdue(D) for a in due_on_d)
        assert {a.status for a in due_on_d if a.is_overdue(DAYS[2])} == {
            AssessmentStatus.sent,
            AssessmentStatus.in_progress,
            AssessmentStatus.returned,
        }


def test_supplier_is_review_overdue(ctx):
    with ctx() as session:
        suppliers = [
            Supplier(name_ja=f"テスト{n}", category="other", next_review_on=review)
            for n, review in enumerate(MAYBE_D)
        ]
        session.add_all(suppliers)
        session.flush()
        for day in DAYS:
            _agree(Supplier, "is_review_overdue", suppliers, day)
        assert not any(s.is_review_overdue(D) for s in suppliers if s.next_review_on == D)


def test_self_assessment_item_is_overdue_only_while_the_cycle_is_open(ctx):
    with ctx() as session:
        cycle = SelfAssessmentCycle(
            name="2026", as_of=D, template_id="csm-v2-internal", template_version=1
        )
        session.add(cycle)
        session.flush()
        item = SelfAssessmentItem(
            cycle_id=cycle.id, question_id="q", status=ItemStatus.partly, target_on=D
        )
        session.add(item)
        session.flush()
        assert not item.is_overdue(D) and item.is_overdue(DAYS[2])
        cycle.closed_at, cycle.open_flag = datetime(2026, 6, 16, tzinfo=UTC), None
        assert not item.is_overdue(DAYS[2])
        cycle.closed_at, cycle.open_flag = None, True
        item.status = ItemStatus.done
        assert not item.is_overdue(DAYS[2])


def test_finding_is_serious(ctx, supplier_id):
    with ctx() as session:
        findings = [Finding(supplier_id=supplier_id, title="f", severity=s) for s in Severity]
        session.add_all(findings)
        session.flush()
        serious = _agree(Finding, "is_serious", findings)
        assert {f.severity for f in findings if f.id in serious} == {
            Severity.high,
            Severity.critical,
        }
