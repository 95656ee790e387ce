"""The CISO's roll-up: stored area scores, quarterly snapshots, every panel, filters and links."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from tests.factories import make_answer, make_assessment, make_finding
from vendorrisk import clock, jobs
from vendorrisk.catalog import Catalog
from vendorrisk.catalog.loader import parse_template
from vendorrisk.config import BASE_DIR
from vendorrisk.extensions import db
from vendorrisk.models import (
    AreaScore,
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Contract,
    Decision,
    Finding,
    FindingStatus,
    Role,
    RollupSnapshot,
    SecurityActionLevel,
    Severity,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    User,
)
from vendorrisk.models.contract import CONTRACT_CLAUSES
from vendorrisk.scoring.scores import ScoreResult, area_scores, score
from vendorrisk.services.reporting import areas, frames, history, rollup
from vendorrisk.services.reporting.scope import Scope

TOKYO = ZoneInfo("Asia/Tokyo")
EN = {"Accept-Language": "en"}
TEMPLATE = Catalog.from_folder(BASE_DIR / "questionnaires").get("csm-v2-supplier")

# ------------------------------------------------------------------ the pure function, by hand


def _q(qid: str, qtype: str, weight: float, directive: int, csf: list[str]) -> dict:
    text = {"ja": "質問", "en": "Question"}
    mapping = {"directive": directive, "item": None, "csf": csf}
    return {"id": qid, "type": qtype, "text": text, "weight": weight, "mapping": mapping}


def _areas_template():
    text = {"ja": "領域", "en": "Areas"}
    questions = [
        _q("q1", "yes_partial_no", 1, 1, ["ID.AM-1", "ID.AM-2"]),  # ID once, not twice
        _q("q2", "yes_partial_no", 3, 1, ["PR.AC-1", "ID.GV-3"]),  # PR and ID
        _q("q3", "yes_partial_no", 2, 7, ["RS.RP-1"]),
        _q("q4", "yes_partial_no", 1, 7, []),
        _q("q5", "yes_partial_no", 1, 9, ["ID.SC-1"]),  # answered "na": left out everywhere
        _q("q6", "yes_partial_no", 2, 8, ["RC.RP-1"]),
        _q("q7", "yes_no", 2, 5, ["DE.CM-1", "PR.DS-1"]),
    ]
    return parse_template(
        {
            "id": "areas",
            "version": 1,
            "audience": "supplier",
            "title": text,
            "description": text,
            "scoring": {"critical_cap": 40},
            "sections": [{"id": "s", "title": text, "questions": questions}],
        },
        Path("areas.yaml"),
    )


ANSWERS = {"q1": "yes", "q2": "partial", "q3": "no", "q4": "yes", "q5": "na", "q6": "partial"}


def test_area_scores_are_weighted_means_per_directive_and_per_csf_function():
    template = _areas_template()
    result = score(template, {**ANSWERS, "q7": "yes"})
    assert area_scores(template, result) == {
        ("directive", "1"): 62.5,  # (1*1 + 3*0.5) / 4
        ("directive", "5"): 100.0,
        ("directive", "7"): 33.3,  # (2*0 + 1*1) / 3
        ("directive", "8"): 50.0,
        # directive 9: only "not applicable", nothing counted, left out
        ("csf", "ID"): 62.5,  # q1 (w1, 1) and q2 (w3, 0.5); q5 left out
        ("csf", "PR"): 70.0,  # q2 (w3, 0.5) and q7 (w2, 1): 3.5 / 5
        ("csf", "DE"): 100.0,
        ("csf", "RS"): 0.0,
        ("csf", "RC"): 50.0,
        # GV: no question mapped
    }


def test_area_scores_read_a_stored_result_the_same_way():
    template = _areas_template()
    result = score(template, {**ANSWERS, "q7": "no"})
    stored = ScoreResult.from_dict(result.to_dict())
    areas = area_scores(template, stored)
    assert areas == area_scores(template, result)
    assert areas[("csf", "PR")] == 30.0  # (3*0.5 + 2*0) / 5
    assert areas[("csf", "DE")] == 0.0


def test_the_supplier_questionnaire_maps_every_csf_function_but_govern():
    answers = {q.id: "yes" for q in TEMPLATE.questions if q.type in ("yes_partial_no", "yes_no")}
    areas = area_scores(TEMPLATE, score(TEMPLATE, answers))
    assert {key for kind, key in areas if kind == "csf"} == {"ID", "PR", "DE", "RS", "RC"}
    assert {key for kind, key in areas if kind == "directive"} == {str(n) for n in range(1, 11)}


def test_quarters():
    assert history.quarter_start(date(2026, 11, 27)) == date(2026, 10, 1)
    assert history.quarter_start(date(2027, 3, 31)) == date(2027, 1, 1)
    assert history.previous_quarter(date(2027, 1, 1)) == date(2026, 10, 1)
    assert history.quarter_label(date(2026, 7, 1)) == "2026 Q3"


# ------------------------------------------------------------------ storing on completion


def _good(q):
    if q.evidence:
        return "na"
    if q.type in ("yes_partial_no", "yes_no"):
        return "partial" if q.type == "yes_partial_no" and q.mapping.directive == 7 else "yes"
    if q.type == "single_choice":
        return q.choices[0].value
    if q.type == "multi_choice":
        return [q.choices[0].value]
    return {"text": "回答", "number": "10", "date": "2027-03-31"}.get(q.type)


def test_completing_a_review_stores_its_area_scores_and_backfill_restores_them(
    app, make_supplier, make_user, runner
):
    supplier = make_supplier()
    reviewer = make_user(Role.reviewer)
    with app.app_context():
        from vendorrisk.services.review import review

        assessment = make_assessment(supplier, TEMPLATE, status=AssessmentStatus.submitted)
        for q in TEMPLATE.questions:
            if (value := _good(q)) is not None:
                make_answer(assessment, q.id, value)
        db.session.flush()
        by = db.session.get(User, reviewer.id)
        result = review.complete(assessment, TEMPLATE, Decision.approved, "", by, datetime.now(UTC))
        db.session.commit()
        expected = area_scores(TEMPLATE, result)
        row = db.session.scalar(sa.select(AreaScore))
        assert (row.assessment_id, row.supplier_id) == (assessment.id, supplier.id)
        stored = row.areas()
        assert stored == expected
        assert row.csf_gv is None  # the supplier questionnaire maps nothing to Govern
        # direction 7: five items "partial" (weight 1 each, 0.5) and sup-x-12, past incidents
        # (weight 0.5), answered with its first choice, which scores 1: (5 * 0.5 + 0.5) / 5.5
        assert stored[("directive", "7")] == 54.5 and stored[("directive", "1")] == 100.0
        db.session.execute(sa.delete(AreaScore))
        db.session.commit()
    result = runner.invoke(args=["rollup", "backfill"])
    assert result.exit_code == 0, result.output
    assert "Area scores stored for 1 assessments." in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(AreaScore)).areas() == expected
        assert history.backfill_area_scores() == 0  # nothing left to do


# ------------------------------------------------------------------ a small supply chain by hand


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), TOKYO).astimezone(UTC)


def _completed(session, supplier, areas, score, days_ago, template="csm-v2-supplier"):
    done = clock.today() - timedelta(days=days_ago)
    assessment = make_assessment(
        supplier,
        template_id=template,
        due_on=done,
        status=AssessmentStatus.completed,
        completed_at=_at(done),
        score=score,
    )
    session.add(
        AreaScore(
            assessment_id=assessment.id, supplier_id=supplier.id, **AreaScore.values_of(areas)
        )
    )
    return assessment


def _areas(d1, d2, d9=None, id_=None, pr=None):
    found = {("directive", "1"): d1, ("directive", "2"): d2, ("directive", "9"): d9}
    found |= {("csf", "ID"): id_, ("csf", "PR"): pr}
    return {key: value for key, value in found.items() if value is not None}


def _finding(session, supplier, severity, days_ago, status=FindingStatus.open, **extra):
    created = _at(clock.today() - timedelta(days=days_ago))
    make_finding(
        supplier,
        title=f"{severity.value} {days_ago}",
        severity=severity,
        status=status,
        created_at=created,
        updated_at=created,
        **extra,
    )


def _attest(session, supplier, kind, expires_in=None, level=None):
    today = clock.today()
    session.add(
        Attestation(
            supplier_id=supplier.id,
            kind=kind,
            level=level,
            identifier="X",
            expires_on=None if expires_in is None else today + timedelta(days=expires_in),
        )
    )


def _contract(session, supplier, clauses, ends_in=None, started=-400):
    today = clock.today()
    session.add(
        Contract(
            supplier_id=supplier.id,
            title="基本契約",
            starts_on=today + timedelta(days=started),
            ends_on=None if ends_in is None else today + timedelta(days=ends_in),
            **dict.fromkeys(clauses, True),
        )
    )


@pytest.fixture
def chain(app, make_user, make_supplier):
    """Six live suppliers and an offboarded one, with known scores, covers and findings.

    S1 critical outsourcing (owner A): 35, ★★, ISMS ends in 20 days, insurance in 60, a 7-clause
       contract ending in 25 days, network access (★4 required), re-check and an assessment late.
    S2 high cloud (owner B): 72 on another questionnaire, ★1, ISMS expired, SCS ★3 (meets),
       a 3-clause open-ended contract.
    S3 high outsourcing (owner A): two completed assessments, the latest 88; nothing held.
    S4 medium business partner (owner B): no score, insurance for 200 days, an ended contract,
       an open assessment not yet due.
    S5 low group company (owner A, onboarding): 15, ★1 until 90-10 days, a 7-clause contract
       ending in 10 days beside an open-ended 2-clause one.
    S6 cloud, no tier, no owner, nothing. S7 offboarded critical outsourcing, 10, one open finding
       and an assessment five days late (neither counted: the roll-up counts live suppliers).
    """
    owner_a = make_user(Role.procurement, name="Owner A")
    owner_b = make_user(Role.procurement, name="Owner B")
    out = SupplierCategory.outsourcing_contractor
    cloud = SupplierCategory.cloud_service
    today = clock_today(app)
    s1 = make_supplier(
        name_en="S1",
        category=out,
        tier="critical",
        owner_id=owner_a.id,
        status=SupplierStatus.active,
        has_network_access=True,
        latest_score=35.0,
        next_review_on=today - timedelta(days=5),
    )
    s2 = make_supplier(
        name_en="S2",
        category=cloud,
        tier="high",
        owner_id=owner_b.id,
        status=SupplierStatus.active,
        latest_score=72.0,
        scs_level="star3",
        scs_expires_on=today + timedelta(days=300),
        next_review_on=today + timedelta(days=100),
    )
    s3 = make_supplier(
        name_en="S3",
        category=out,
        tier="high",
        owner_id=owner_a.id,
        status=SupplierStatus.active,
        latest_score=88.0,
        next_review_on=today + timedelta(days=10),
    )
    s4 = make_supplier(
        name_en="S4",
        category=SupplierCategory.business_partner,
        tier="medium",
        owner_id=owner_b.id,
        status=SupplierStatus.active,
    )
    s5 = make_supplier(
        name_en="S5",
        category=SupplierCategory.group_company,
        tier="low",
        owner_id=owner_a.id,
        status=SupplierStatus.onboarding,
        latest_score=15.0,
    )
    s6 = make_supplier(name_en="S6", category=cloud, status=SupplierStatus.active)
    s7 = make_supplier(
        name_en="S7",
        category=out,
        tier="critical",
        owner_id=owner_a.id,
        status=SupplierStatus.offboarded,
        latest_score=10.0,
    )
    with app.app_context():
        session = db.session
        _completed(session, s1, _areas(40, 20, 60, 30, 50), 35.0, 40)
        _completed(session, s2, _areas(80, 60, 70, 90, 70), 72.0, 30, template="other-template")
        _completed(session, s3, _areas(10, 10, 10, 10, 10), 20.0, 400)
        _completed(session, s3, _areas(90, 100, 95, 85, 100), 88.0, 20)
        _completed(session, s5, _areas(10, 30, id_=21), 15.0, 50)
        _completed(session, s7, _areas(0, 0, 0, 0, 0), 10.0, 60)
        session.add_all(
            [
                Assessment(
                    supplier_id=s1.id,
                    template_id="csm-v2-supplier",
                    template_version=1,
                    due_on=today - timedelta(days=3),
                    status=AssessmentStatus.sent,
                ),
                Assessment(
                    supplier_id=s4.id,
                    template_id="csm-v2-supplier",
                    template_version=1,
                    due_on=today + timedelta(days=10),
                    status=AssessmentStatus.in_progress,
                ),
                Assessment(
                    supplier_id=s7.id,
                    template_id="csm-v2-supplier",
                    template_version=1,
                    due_on=today - timedelta(days=5),
                    status=AssessmentStatus.sent,
                ),
            ]
        )
        sa_kind, isms, insurance = (
            AttestationKind.security_action,
            AttestationKind.isms,
            AttestationKind.cyber_insurance,
        )
        _attest(session, s1, sa_kind, level=SecurityActionLevel.star2)
        _attest(session, s1, isms, 20)
        _attest(session, s1, insurance, 60)
        _attest(session, s2, sa_kind, level=SecurityActionLevel.star1)
        _attest(session, s2, isms, -10)
        _attest(session, s4, insurance, 200)
        _attest(session, s5, sa_kind, 80, level=SecurityActionLevel.star1)
        three = (
            "clause_security_requirements",
            "clause_incident_notification",
            "clause_audit_rights",
        )
        _contract(session, s1, CONTRACT_CLAUSES, ends_in=25)
        _contract(session, s2, three)
        _contract(session, s4, CONTRACT_CLAUSES, ends_in=-1)
        _contract(session, s5, CONTRACT_CLAUSES, ends_in=10)
        _contract(session, s5, three[:2])
        _finding(session, s1, Severity.high, 10)
        _finding(session, s1, Severity.critical, 45, FindingStatus.in_progress)
        _finding(session, s2, Severity.medium, 100)
        _finding(session, s4, Severity.low, 0)
        _finding(session, s4, Severity.low, 30)
        _finding(session, s4, Severity.low, 31)
        _finding(session, s6, Severity.critical, 200)
        _finding(session, s7, Severity.high, 5)
        _finding(session, s2, Severity.high, 5, FindingStatus.resolved)
        accepted = {"accepted_by_id": owner_a.id, "accepted_reason": "r"}
        _finding(
            session,
            s2,
            Severity.low,
            70,
            FindingStatus.risk_accepted,
            accepted_until=today + timedelta(days=20),
            **accepted,
        )
        _finding(
            session,
            s3,
            Severity.medium,
            70,
            FindingStatus.risk_accepted,
            accepted_until=today - timedelta(days=1),
            **accepted,
        )
        _finding(
            session,
            s1,
            Severity.medium,
            70,
            FindingStatus.risk_accepted,
            accepted_until=today + timedelta(days=60),
            **accepted,
        )
        session.commit()
    return SimpleNamespace(
        today=today, a=owner_a, b=owner_b, s1=s1, s2=s2, s3=s3, s4=s4, s5=s5, s6=s6, s7=s7
    )


def clock_today(app) -> date:
    with app.app_context():
        return clock.today()


def _compute(app, today, **filters):
    with app.app_context():
        try:
            return rollup.compute(today, Scope(**filters))
        finally:
            db.session.remove()


def _values(numbers):
    return [n.value for n in numbers]


# ------------------------------------------------------------------ every panel


def test_suppliers_by_tier_and_category(app, chain):
    tiers = _compute(app, chain.today).tiers
    assert [c.value for c in tiers.categories] == [
        "group_company",
        "business_partner",
        "outsourcing_contractor",
        "cloud_service",
        "other",
    ]
    table = {row.tier: _values(row.cells) + [row.total.value] for row in tiers.rows}
    assert table == {
        "critical": [0, 0, 1, 0, 0, 1],  # S7 is offboarded: not counted
        "high": [0, 0, 1, 1, 0, 2],
        "medium": [0, 1, 0, 0, 0, 1],
        "low": [1, 0, 0, 0, 0, 1],
        "none": [0, 0, 0, 1, 0, 1],
    }
    assert _values(tiers.totals) == [1, 1, 2, 2, 0] and tiers.total.value == 6
    high_cloud = tiers.rows[1].cells[3]
    assert high_cloud.endpoint == "suppliers.index"
    assert high_cloud.args == {"status": "live", "tier": "high", "category": "cloud_service"}


def test_score_distribution(app, chain):
    scores = _compute(app, chain.today).scores
    assert [(b, n.value) for b, n in scores.buckets] == [
        ("0-19", 1),  # S5 15
        ("20-39", 1),  # S1 35
        ("40-59", 0),
        ("60-79", 1),  # S2 72
        ("80-100", 1),  # S3 88
        ("none", 2),  # S4, S6
    ]
    assert scores.scored.value == 4
    assert scores.average == 52.5  # (15 + 35 + 72 + 88) / 4


def test_weakest_directives_use_each_suppliers_latest_completed_assessment(app, chain):
    result = _compute(app, chain.today)
    directives = {
        r.key: (r.average, r.worst, r.worst_name_en, r.suppliers) for r in result.directives
    }
    assert directives == {
        "1": (55.0, 10.0, "S5", 4),  # (40 + 80 + 90 + 10) / 4; S3's older 10 not counted
        "2": (52.5, 20.0, "S1", 4),  # (20 + 60 + 100 + 30) / 4
        "9": (75.0, 60.0, "S1", 3),  # (60 + 70 + 95) / 3
    }
    csf = {r.key: (r.average, r.worst, r.worst_name_en, r.suppliers) for r in result.csf}
    assert csf == {
        "ID": (56.5, 21.0, "S5", 4),  # (30 + 90 + 85 + 21) / 4
        "PR": (73.3, 50.0, "S1", 3),  # (50 + 70 + 100) / 3
    }


def test_heat_map_of_the_critical_and_high_tiers_weakest_first(app, chain):
    heat = _compute(app, chain.today).heat
    assert heat.columns == [str(n) for n in range(1, 11)]
    assert [(r.name_en, r.tier, r.score) for r in heat.rows] == [
        ("S1", "critical", 35.0),
        ("S2", "high", 72.0),
        ("S3", "high", 88.0),
    ]
    assert heat.rows[0].cells == [40.0, 20.0, None, None, None, None, None, None, 60.0, None]
    assert heat.total == 3
    assert [tier for tier, _ in heat.lists] == ["critical", "high"]


def test_heat_map_is_capped_with_the_full_count(app, chain, monkeypatch):
    monkeypatch.setattr(areas, "HEAT_ROWS", 2)
    heat = _compute(app, chain.today).heat
    assert [r.name_en for r in heat.rows] == ["S1", "S2"] and heat.total == 3


def test_coverage_of_the_directive_9_controls(app, chain):
    coverage = _compute(app, chain.today).coverage
    assert coverage.live.value == 6
    assert {r.key: (r.count.value, r.share) for r in coverage.rows} == {
        "security_action_star1": (3, 50.0),  # S1 ★★, S2 ★, S5 ★
        "security_action_star2": (1, 16.7),
        "isms_valid": (1, 16.7),  # S1; S2's has expired
        "insurance_valid": (2, 33.3),  # S1, S4
        "level_meets": (1, 16.7),  # S2 holds SCS ★3 as required
        # The scheme is not running yet: the others are not yet evaluated, not short of it.
        "level_below": (0, 0.0),
        "level_interim": (0, 0.0),
        "level_not_running": (5, 83.3),
    }
    clauses = {r.key: r.count.value for r in coverage.clauses}
    assert clauses == {
        "clause_security_requirements": 3,  # S1, S2, S5 (S4's contract has ended)
        "clause_incident_notification": 3,
        "clause_audit_rights": 3,
        "clause_subcontracting_approval": 2,
        "clause_data_return_deletion": 2,
        "clause_policy_compliance": 2,
        "clause_cyber_insurance": 2,
    }


def test_overdue_work(app, chain):
    overdue = _compute(app, chain.today).overdue
    assert overdue.assessments.value == 1  # S1's, three days late (not offboarded S7's)
    assert overdue.rechecks.value == 1  # S1
    assert overdue.assessments.endpoint == "assessments.index"
    assert overdue.assessments.args == {"overdue": "1", "live": "1"}


def test_expiring_within_30_and_90_days(app, chain):
    expiring = {str(r.kind): _values(r.within) for r in _compute(app, chain.today).expiring}
    assert expiring["isms"] == [1, 1]  # S1 in 20 days
    assert expiring["cyber_insurance"] == [0, 1]  # S1 in 60 days (S4's in 200)
    assert expiring["security_action"] == [0, 1]  # S5 in 80 days; S1's and S2's never expire
    assert expiring["contract"] == [1, 1]  # S1's only contract ends in 25 days; S5 has another
    assert expiring["pmark"] == [0, 0]


def test_open_findings_by_severity_and_age_and_risk_acceptances(app, chain):
    findings = _compute(app, chain.today).findings
    table = {r.severity.value: _values(r.ages) + [r.total.value] for r in findings.rows}
    assert table == {
        "critical": [0, 1, 1, 2],  # S1 45 days (in progress), S6 200 days
        "high": [1, 0, 0, 1],  # S1 10 days (S7's 5 days: offboarded, not counted)
        "medium": [0, 0, 1, 1],  # S2 100 days
        "low": [2, 1, 0, 3],  # S4: 0 and 30 days, 31 days
    }
    assert _values(findings.totals) == [3, 2, 2] and findings.total.value == 7
    assert findings.total.args == {"status": "open", "live": "1"}
    assert [(s, n.value) for s, n in findings.acceptances] == [("expired", 1), ("30", 1), ("90", 2)]


def test_every_panel_follows_the_filters(app, chain):
    high = _compute(app, chain.today, tier="high")
    assert high.tiers.total.value == 2 and high.scores.average == 80.0
    assert {r.key: (r.average, r.worst) for r in high.directives}["1"] == (85.0, 80.0)
    assert [r.name_en for r in high.heat.rows] == ["S2", "S3"]
    assert high.coverage.live.value == 2 and high.overdue.assessments.value == 0
    assert high.findings.total.value == 1  # S2's medium
    assert [n.value for _, n in high.findings.acceptances] == [1, 1, 1]
    owner_a = _compute(app, chain.today, owner_id=chain.a.id)
    assert owner_a.tiers.total.value == 3  # S1, S3, S5 (S7 offboarded)
    # S1's late assessment and its two open findings (S7's are offboarded)
    assert owner_a.overdue.assessments.value == 1 and owner_a.findings.total.value == 2
    template = _compute(app, chain.today, template="csm-v2-supplier")
    assert template.tiers.total.value == 3  # S2's latest was on another questionnaire
    assert template.scores.scored.value == 3
    assert template.overdue.assessments.args["template"] == "csm-v2-supplier"
    cloud = _compute(app, chain.today, category="cloud_service")
    assert cloud.tiers.total.value == 2 and cloud.coverage.live.value == 2
    assert [str(r.kind) for r in cloud.expiring if any(_values(r.within))] == []
    untiered = _compute(app, chain.today, tier="none")
    assert untiered.tiers.total.value == 1 and untiered.findings.total.value == 1


# ------------------------------------------------------------------ snapshots and trends


def _rows(app, period):
    with app.app_context():
        rows = db.session.scalars(
            sa.select(RollupSnapshot)
            .where(RollupSnapshot.period == period)
            .order_by(RollupSnapshot.supplier_id)
        ).all()
        keep = [c.name for c in RollupSnapshot.__table__.columns if c.name != "id"]
        return [tuple(getattr(r, c) for c in keep) for r in rows]


def _run_snapshot(app, day):
    with app.app_context():
        run = jobs.run_job("rollup-snapshot", _at(day, 2))
        db.session.remove()
    return run


def test_the_snapshot_job_captures_the_quarter_and_is_idempotent(app, chain):
    today = chain.today
    period = history.quarter_start(today)
    past = history.previous_quarter(period)
    with app.app_context():
        db.session.add(
            RollupSnapshot(
                period=past,
                supplier_id=chain.s1.id,
                captured_on=past,
                category="cloud_service",
                tier="low",
                owner_id=None,
                template_id=None,
                score=50.0,
                security_action=0,
                isms_valid=False,
                insurance_valid=False,
                clauses=0,
                level_met=False,
                open_findings=9,
                review_overdue=False,
                assessment_overdue=False,
            )
        )
        db.session.commit()
    before = _rows(app, past)
    run = _run_snapshot(app, today)
    assert run.outcome == "ok", run.error
    assert run.summary.startswith("6 done")
    first = _rows(app, period)
    assert len(first) == 6  # the live suppliers; S7 is offboarded
    with app.app_context():
        s1 = db.session.scalar(
            sa.select(RollupSnapshot).where(
                RollupSnapshot.period == period, RollupSnapshot.supplier_id == chain.s1.id
            )
        )
        assert (s1.category, s1.tier, s1.owner_id, s1.template_id, s1.score) == (
            "outsourcing_contractor",
            "critical",
            chain.a.id,
            "csm-v2-supplier",
            35.0,
        )
        assert (s1.security_action, s1.isms_valid, s1.insurance_valid, s1.clauses) == (
            2,
            True,
            True,
            7,
        )
        assert (s1.level_met, s1.open_findings, s1.review_overdue, s1.assessment_overdue) == (
            False,
            2,
            True,
            True,
        )
        assert s1.captured_on == today
    assert _run_snapshot(app, today).outcome == "ok"
    assert _rows(app, period) == first  # the same rows again
    assert _rows(app, past) == before  # the past quarter untouched
    with app.app_context():
        db.session.get(Supplier, chain.s2.id).latest_score = 99.0
        db.session.commit()
    _run_snapshot(app, today)
    assert [row[7] for row in _rows(app, period)] == [35.0, 99.0, 88.0, None, 15.0, None]
    # A run for a day of the past quarter leaves it alone: a later quarter has rows.
    late = _run_snapshot(app, past + timedelta(days=5))
    assert late.outcome == "ok" and late.summary.startswith("0 done, 1 skipped")
    assert _rows(app, past) == before


def test_trends_read_the_stored_quarters_with_the_filters(app, chain):
    today = chain.today
    period = history.quarter_start(today)
    past = history.previous_quarter(period)
    common = {
        "captured_on": past,
        "owner_id": None,
        "template_id": "csm-v2-supplier",
        "level_met": False,
        "open_findings": 1,
        "assessment_overdue": False,
    }
    with app.app_context():
        db.session.add_all(
            [
                RollupSnapshot(
                    period=past,
                    supplier_id=chain.s1.id,
                    category="cloud_service",
                    tier="high",
                    score=50.0,
                    security_action=1,
                    isms_valid=True,
                    insurance_valid=False,
                    clauses=7,
                    review_overdue=True,
                    **common,
                ),
                RollupSnapshot(
                    period=past,
                    supplier_id=chain.s2.id,
                    category="cloud_service",
                    tier="low",
                    score=70.0,
                    security_action=0,
                    isms_valid=False,
                    insurance_valid=False,
                    clauses=3,
                    review_overdue=False,
                    **common,
                ),
            ]
        )
        db.session.commit()
    _run_snapshot(app, today)
    trends = _compute(app, today).trends
    assert [p.period for p in trends] == [past, period]
    old, now = trends
    assert (old.suppliers, old.average_score, old.review_overdue, old.open_findings) == (
        2,
        60.0,
        1,
        2,
    )
    assert old.shares == {
        "security_action_star1": 50.0,
        "security_action_star2": 0.0,
        "isms_valid": 50.0,
        "insurance_valid": 0.0,
        "clauses_all": 50.0,
        "level_meets": 0.0,
    }
    assert now.suppliers == 6 and now.average_score == 52.5
    assert (now.review_overdue, now.assessment_overdue) == (1, 1)
    # The current quarter agrees with the live panels: S1 2, S2 1, S4 3, S6 1 (not S7's).
    assert now.open_findings == 7 == _compute(app, today).findings.total.value
    assert now.shares["security_action_star1"] == 50.0 and now.shares["clauses_all"] == 33.3
    high = _compute(app, today, tier="high").trends
    assert [(p.suppliers, p.average_score) for p in high] == [(1, 50.0), (2, 80.0)]


# ------------------------------------------------------------------ the page


def _counts_on(page: str) -> list[tuple[str, int]]:
    found = re.findall(r'<a class="rollup-count[^"]*" href="([^"]+)">(\d+)</a>', page)
    return [(html.unescape(href), int(n)) for href, n in found]


LIST_TOTALS = {
    "/suppliers/": r"(\d+) suppliers found",
    "/assessments/": r"(\d+) assessments",
    "/findings/": r"(\d+) findings",
}


def test_every_number_opens_a_list_of_that_many_rows(auth, chain):
    auth.login(Role.ciso, locale="en")
    for query in ("", "?tier=high", f"?owner={chain.a.id}&template=csm-v2-supplier"):
        page = auth.client.get(f"/rollup{query}", headers=EN).get_data(as_text=True)
        counts = _counts_on(page)
        assert len(counts) > 60
        for href, expected in counts:
            path = href.split("?")[0]
            listed = auth.client.get(href, headers=EN).get_data(as_text=True)
            found = re.search(LIST_TOTALS[path], listed)
            shown = int(found.group(1)) if found else 0
            assert shown == expected, (query, href)


def test_the_page_shows_the_panels_and_keeps_the_filters_in_its_links(auth, chain):
    auth.login(Role.ciso, locale="en")
    page = auth.client.get("/rollup?tier=high", headers=EN).get_data(as_text=True)
    for heading in (
        "Suppliers by tier and category",
        "Score distribution",
        "Weakest directions across the supply chain",
        "Average score by NIST CSF function",
        "Critical and high tiers: score by direction",
        "Coverage of the Direction 9 controls",
        "Overdue work",
        "Expiring within 30 and 90 days",
        "Open findings by severity and age",
        "Trends by quarter",
    ):
        assert heading in page, heading
    assert "<svg" in page and "<script" not in page.split("</head>")[1]
    assert 'style="' not in page
    assert all("tier=high" in href for href, _ in _counts_on(page))
    assert 'href="http' not in page  # nothing from outside the server


def test_the_home_page_links_to_the_roll_up(auth, chain):
    auth.login(Role.procurement, locale="en")
    page = auth.client.get("/", headers=EN).get_data(as_text=True)
    assert 'href="/rollup"' in page and "Supply-chain roll-up" in page


def test_the_auditor_reads_the_roll_up_and_an_anonymous_visitor_is_sent_to_log_in(
    app, client, auth, chain
):
    assert client.get("/rollup").status_code == 302
    auth.login(Role.auditor, locale="en")
    assert auth.client.get("/rollup", headers=EN).status_code == 200
    assert auth.client.post("/rollup").status_code in (403, 405)


def _bulk(app, n: int) -> None:
    """n suppliers with a completed assessment, area scores, an attestation, a contract, a
    finding and a snapshot each."""
    now = datetime.now(UTC)
    today = clock_today(app)
    stamps = {"created_at": now, "updated_at": now}
    with app.app_context():
        start = (db.session.scalar(sa.select(sa.func.max(Supplier.id))) or 0) + 1
        ids = range(start, start + n)
        tiers = ("critical", "high", "medium", "low")
        db.session.execute(
            sa.insert(Supplier),
            [
                {
                    "id": i,
                    "name_ja": f"取引先{i}",
                    "name_en": f"S{i}",
                    "category": "cloud_service",
                    "status": "active",
                    "tier": tiers[i % 4],
                    "latest_score": float(i % 100),
                    "next_review_on": today + timedelta(days=i % 30 - 15),
                    **stamps,
                }
                for i in ids
            ],
        )
        db.session.execute(
            sa.insert(Assessment),
            [
                {
                    "id": i,
                    "supplier_id": i,
                    "template_id": "csm-v2-supplier",
                    "template_version": 1,
                    "status": "completed",
                    "due_on": today,
                    "completed_at": now,
                    "score": float(i % 100),
                    **stamps,
                }
                for i in ids
            ],
        )
        db.session.execute(
            sa.insert(AreaScore),
            [
                {"assessment_id": i, "supplier_id": i}
                | {f"directive_{d}": float((i * d) % 100) for d in range(1, 11)}
                | {"csf_id": float(i % 100)}
                for i in ids
            ],
        )
        db.session.execute(
            sa.insert(Attestation),
            [
                {
                    "supplier_id": i,
                    "kind": "isms",
                    "identifier": "I",
                    "expires_on": today + timedelta(days=i % 120),
                    **stamps,
                }
                for i in ids
            ],
        )
        db.session.execute(
            sa.insert(Contract),
            [{"supplier_id": i, "title": "c", "clause_audit_rights": True, **stamps} for i in ids],
        )
        db.session.execute(
            sa.insert(Finding),
            [
                {"supplier_id": i, "title": "f", "severity": "low", "status": "open", **stamps}
                for i in ids
            ],
        )
        db.session.commit()
        history.capture(today)
        db.session.commit()
        db.session.remove()


def test_the_query_count_does_not_grow_with_the_number_of_suppliers(auth, app, count_queries):
    auth.login(Role.ciso, locale="en")
    counts = []
    for n in (8, 80):
        _bulk(app, n)
        with count_queries() as counter:
            response = auth.client.get("/rollup?category=cloud_service", headers=EN)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 21, counts  # 20, and the user's business units (scoping.py)


def test_the_japanese_page_shows_no_english_ui_text(auth, chain):
    with (BASE_DIR / "vendorrisk/translations/ja/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="ja")
    english = [
        m.id
        for m in catalog
        if m.id
        and isinstance(m.id, str)
        and len(m.id.split()) >= 2
        and "%(" not in m.id
        and m.string != m.id
    ]
    auth.login(Role.ciso, locale="ja")
    page = auth.client.get("/rollup").get_data(as_text=True)
    assert "全体状況" in page
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S))
    leaked = [m for m in english if m in text]
    assert leaked == []


# ------------------------------------------------------------------ the lists' new filters


def _listed(auth, url: str) -> int:
    page = auth.client.get(url, headers=EN).get_data(as_text=True)
    found = re.search(LIST_TOTALS[url.split("?")[0]], page)
    return int(found.group(1)) if found else 0


def test_supplier_list_filters_by_score_bucket_at_the_edges(auth, make_supplier):
    for latest in (19.9, 20.0, 79.9, 80.0, 100.0, None):
        make_supplier(latest_score=latest)
    auth.login(Role.procurement, locale="en")
    expected = {"0-19": 1, "20-39": 1, "60-79": 1, "80-100": 2, "none": 1, "any": 5, "bogus": 6}
    for bucket, n in expected.items():
        assert _listed(auth, f"/suppliers/?score={bucket}") == n, bucket


def test_supplier_list_filters_by_expiry_window_status_tier_clause_and_template(auth, chain):
    auth.login(Role.procurement, locale="en")
    assert _listed(auth, "/suppliers/?status=live") == 6
    assert _listed(auth, "/suppliers/") == 7
    assert _listed(auth, "/suppliers/?tier=none") == 1
    assert _listed(auth, "/suppliers/?expiring=isms&within=30") == 1
    assert _listed(auth, "/suppliers/?expiring=cyber_insurance&within=30") == 0
    assert _listed(auth, "/suppliers/?expiring=cyber_insurance") == 1  # 90 days by default
    assert _listed(auth, "/suppliers/?expiring=contract&within=30") == 1
    assert _listed(auth, "/suppliers/?clause=clause_audit_rights") == 3
    assert _listed(auth, "/suppliers/?clause=clause_cyber_insurance") == 2
    assert _listed(auth, "/suppliers/?template=csm-v2-supplier") == 4  # S1, S3, S5 and S7
    page = auth.client.get("/suppliers/?expiring=isms&within=30", headers=EN).get_data(as_text=True)
    assert "Expiring: ISMS certification (ISO/IEC 27001)" in page
    assert "Expiring within: 30 days" in page


def test_expiry_windows_count_whole_days(app, make_supplier, make_attestation, auth):
    today = clock_today(app)
    for days in (0, 30, 31, 90, 91, -1):
        supplier = make_supplier()
        make_attestation(
            supplier,
            kind=AttestationKind.pmark,
            level=None,
            expires_on=today + timedelta(days=days),
        )
    auth.login(Role.procurement, locale="en")
    assert _listed(auth, "/suppliers/?expiring=pmark&within=30") == 2  # today and in 30 days
    assert _listed(auth, "/suppliers/?expiring=pmark&within=90") == 4
    result = _compute(app, today)
    assert [n.value for n in next(r for r in result.expiring if r.kind == "pmark").within] == [2, 4]


def test_a_cover_without_expiry_never_expires(app, make_supplier, make_attestation, auth):
    """A permanent ★★ declaration beside an old ★ expiring in 10 days is not expiring."""
    today = clock_today(app)
    sa_kind = AttestationKind.security_action
    lasting, lapsing = make_supplier(), make_supplier()
    make_attestation(lasting, kind=sa_kind, level=SecurityActionLevel.star2, expires_on=None)
    for supplier in (lasting, lapsing):
        make_attestation(
            supplier,
            kind=sa_kind,
            level=SecurityActionLevel.star1,
            expires_on=today + timedelta(days=10),
        )
    # A permanent attestation of another kind does not keep the declaration from lapsing.
    make_attestation(lapsing, kind=AttestationKind.pmark, level=None, expires_on=None)
    result = _compute(app, today)
    row = next(r for r in result.expiring if r.kind == sa_kind)
    assert _values(row.within) == [1, 1]  # the second supplier only
    auth.login(Role.procurement, locale="en")
    assert _listed(auth, "/suppliers/?expiring=security_action&within=30") == 1
    assert _listed(auth, "/suppliers/?expiring=security_action&within=90") == 1


def test_a_snapshot_for_a_later_quarter_is_refused(app, chain):
    """A run with a --now in a later quarter would close the real current quarter for good."""
    period = history.quarter_start(chain.today)
    later = period + timedelta(days=100)  # a day of the next quarter
    run = _run_snapshot(app, later)
    assert run.outcome == "ok" and run.summary.startswith("0 done, 1 skipped; quarter ")
    assert "has not begun" in run.summary
    assert _rows(app, history.quarter_start(later)) == []
    assert _run_snapshot(app, chain.today).summary.startswith("6 done")  # still open
    with app.app_context(), pytest.raises(history.FutureQuarter):
        history.capture(later)


def test_the_findings_list_names_its_owner_filter_after_the_supplier(auth, chain):
    auth.login(Role.reviewer, locale="en")
    page = auth.client.get("/findings/", headers=EN).get_data(as_text=True)
    assert "Supplier owner" in page
    assert _listed(auth, f"/findings/?owner={chain.a.id}") == 3  # S1's two and S7's


def test_the_page_says_how_the_questionnaire_filter_counts_overdue_assessments(auth, chain):
    auth.login(Role.ciso, locale="en")
    hint = "Overdue assessments are those sent with this questionnaire"
    assert hint not in auth.client.get("/rollup", headers=EN).get_data(as_text=True)
    page = auth.client.get("/rollup?template=csm-v2-supplier", headers=EN).get_data(as_text=True)
    assert hint in page


def test_an_area_average_is_not_a_link_to_every_scored_supplier(auth, chain):
    auth.login(Role.ciso, locale="en")
    page = auth.client.get("/rollup", headers=EN).get_data(as_text=True)
    table = page.split("Directions: average and worst", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    assert rows
    for row in rows:
        average = re.findall(r'<td class="num">(.*?)</td>', row, flags=re.S)[0]
        assert "<a " not in average and re.fullmatch(r"\d+\.\d", average.strip())


def test_assessment_and_finding_lists_filter_as_the_roll_up_counts(auth, chain):
    auth.login(Role.reviewer, locale="en")
    assert _listed(auth, "/assessments/?overdue=1") == 2  # S1's and offboarded S7's
    assert _listed(auth, "/assessments/?overdue=1&live=1") == 1
    assert _listed(auth, f"/assessments/?overdue=1&live=1&owner={chain.a.id}") == 1
    assert _listed(auth, "/assessments/?overdue=1&tier=high") == 0
    assert _listed(auth, f"/assessments/?owner={chain.b.id}") == 2  # S2's completed, S4's open
    assert _listed(auth, "/findings/?severity=low") == 3
    assert _listed(auth, "/findings/?severity=low&age=31-90") == 1
    assert _listed(auth, "/findings/?status=risk_accepted&accepted=90") == 2
    assert _listed(auth, "/findings/?status=risk_accepted&accepted=expired&tier=high") == 1
    assert _listed(auth, "/findings/?severity=bogus&age=bogus") == 8  # unknown values ignored
    assert _listed(auth, "/findings/?severity=high") == 2  # S1's and offboarded S7's
    assert _listed(auth, "/findings/?severity=high&live=1") == 1
    assert _listed(auth, "/findings/?live=1") == 7


def test_export_frames_hold_every_panel_with_stable_english_columns(app, chain):
    with app.test_request_context():
        tables = frames.export_frames(chain.today, Scope(tier="high"))
    assert list(tables) == [
        "tiers",
        "scores",
        "directives",
        "csf",
        "heat_map",
        "coverage",
        "overdue",
        "expiring",
        "findings",
        "acceptances",
        "trends",
        "chain",
    ]
    tiers = tables["tiers"].set_index("tier")
    assert tiers.loc["high", "outsourcing_contractor"] == 1 and tiers.loc["total", "total"] == 2
    directives = tables["directives"].set_index("directive")
    assert list(directives.columns) == [
        "average",
        "worst",
        "worst_supplier_id",
        "worst_supplier",
        "suppliers",
    ]
    assert directives.loc["1", "average"] == 85.0 and directives.loc["1", "worst"] == 80.0
    assert list(tables["heat_map"]["supplier_id"]) == [chain.s2.id, chain.s3.id]
    assert tables["heat_map"].loc[0, "directive_9"] == 70.0
    coverage = tables["coverage"].set_index("item")
    assert coverage.loc["level_meets", "suppliers"] == 1
    assert coverage.loc["level_meets", "share_percent"] == 50.0
    assert coverage.loc["clause_audit_rights", "live_suppliers"] == 2
    findings = tables["findings"].set_index("severity")
    assert findings.loc["medium", "age_91_plus_days"] == 1 and findings["total"].sum() == 1
    assert tables["expiring"].set_index("item").loc["contract", "within_90_days"] == 0
    assert list(tables["acceptances"]["findings"]) == [1, 1, 1]
    assert tables["trends"].empty and "average_score" in tables["trends"].columns
