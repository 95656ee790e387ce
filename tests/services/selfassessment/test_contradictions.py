"""An item rated implemented against the supplier figures beside it (services.selfassessment
.contradictions): the rules on hand-made figures without Flask, then on real suppliers."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from vendorrisk.extensions import db
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    Assessment,
    AssessmentStatus,
    ItemStatus,
    SupplierCategory,
    SupplierStatus,
)
from vendorrisk.services.selfassessment import contradictions as rules
from vendorrisk.services.selfassessment.contradictions import (
    CLAUSES,
    MAX_CLAUSE_MISSING,
    MIN_SHARE,
    contradictions,
)
from vendorrisk.services.selfassessment.indicators import (
    CLAUSE_TIERS,
    SPEC_BY_KEY,
    ClauseGap,
    D9Indicators,
    IndicatorValue,
    indicators,
)

V2, V3 = "csm-2.0", "csm-3.0"
TODAY = date(2026, 10, 1)
GOOD = {key: (9, 10) for key in SPEC_BY_KEY}  # 90 % everywhere


def _found(figures=None, missing=None, totals=(5, 5)) -> D9Indicators:
    """Indicators as the panel would show them: (achieved, total) by key, clause gaps by
    (tier, clause) over `totals` active critical and high-tier suppliers."""
    figures = (
        GOOD
        | {
            "all_clauses_critical": (totals[0], totals[0]),
            "all_clauses_high": (totals[1], totals[1]),
        }
        | (figures or {})
    )
    values = [IndicatorValue(SPEC_BY_KEY[k], a, t, None) for k, (a, t) in figures.items()]
    gaps = [
        ClauseGap(tier, clause, (missing or {}).get((tier, clause), 0))
        for clause in CONTRACT_CLAUSES
        for tier in CLAUSE_TIERS
    ]
    return D9Indicators(TODAY, values, gaps)


def _keys(found, edition, item, status=ItemStatus.done) -> list[str]:
    return [c.key for c in contradictions(found, edition, item, status)]


# -- the rules, on figures made by hand ------------------------------------------------------


def test_the_thresholds_are_those_documented():
    assert (MIN_SHARE, MAX_CLAUSE_MISSING) == (80.0, 20.0)
    assert set(rules.SHARE_WARNINGS) == {
        "contract_in_force", "all_clauses_critical", "all_clauses_high", "assessed_in_cadence",
    }  # fmt: skip


def test_a_poor_share_contradicts_implemented_only():
    found = _found({"assessed_in_cadence": (4, 12)})  # 33.3 %
    assert _keys(found, V2, "D9-3") == _keys(found, V3, "D9-3") == ["assessed_in_cadence"]
    for lesser in (ItemStatus.partly, ItemStatus.not_done, ItemStatus.not_applicable, None):
        assert _keys(found, V3, "D9-3", lesser) == [], lesser
    assert _keys(found, V3, "D9-3", "done") == ["assessed_in_cadence"]  # a stored value too
    assert _keys(found, V3, "D9-2") == _keys(found, V3, "D1-1") == _keys(found, V3, None) == []
    assert contradictions(None, V3, "D9-3", ItemStatus.done) == []  # a closed cycle, no snapshot
    [warning] = contradictions(found, V3, "D9-3", ItemStatus.done)
    assert warning.value is found.for_item(V3, "D9-3")[0]  # the panel's own figures


def test_the_share_threshold_and_an_empty_population():
    at_the_line = _found({"assessed_in_cadence": (8, 10)})
    just_below = _found({"assessed_in_cadence": (79, 100)})
    nobody = _found({"assessed_in_cadence": (0, 0)})
    assert _keys(at_the_line, V3, "D9-3") == []
    assert _keys(just_below, V3, "D9-3") == ["assessed_in_cadence"]
    assert _keys(nobody, V3, "D9-3") == []


def test_declarations_certificates_and_levels_never_contradict():
    found = _found({"security_action": (0, 10), "isms_valid": (0, 10), "level_meets": (0, 10)})
    assert _keys(found, V2, "D9-3") == _keys(found, V3, "D9-3") == []


def test_the_contract_item_of_each_edition():
    found = _found(
        {"contract_in_force": (5, 10), "all_clauses_high": (2, 5)},
        {("high", "clause_audit_rights"): 3},
    )
    # Ver 2.0 shows the contract in force on D9-1, the clauses on D9-2; Ver 3.0 both on D9-2.
    assert _keys(found, V2, "D9-1") == ["contract_in_force"]
    assert _keys(found, V2, "D9-2") == ["all_clauses_high", CLAUSES]
    assert _keys(found, V3, "D9-2") == ["contract_in_force", "all_clauses_high", CLAUSES]


def test_a_clause_missing_for_more_than_a_fifth_of_critical_and_high_suppliers():
    audit, deletion = "clause_audit_rights", "clause_data_return_deletion"
    missing = {
        ("critical", audit): 2, ("high", audit): 1,  # 3 of 10: 30 %
        ("high", deletion): 2,  # 2 of 10: 20 %, not above
    }  # fmt: skip
    found = _found({"all_clauses_critical": (3, 5), "all_clauses_high": (2, 5)}, missing)
    [*_, clauses] = contradictions(found, V3, "D9-2", ItemStatus.done)
    assert clauses.key == CLAUSES
    assert [(c.clause, c.missing, c.total) for c in clauses.clauses] == [(audit, 3, 10)]
    assert _keys(found, V3, "D9-3") == [] and _keys(found, V3, "D9-2", ItemStatus.partly) == []
    assert _keys(_found(missing={("high", audit): 2}), V3, "D9-2") == []  # 2 of 10
    assert _keys(_found(totals=(0, 0)), V3, "D9-2") == []  # no critical or high supplier


def test_a_closed_cycles_snapshot_gives_the_same_warnings():
    found = _found({"assessed_in_cadence": (4, 12)}, {("critical", "clause_audit_rights"): 4})
    kept = D9Indicators.from_snapshot(found.to_snapshot())
    for item in ("D9-2", "D9-3"):
        assert contradictions(kept, V3, item, "done") == contradictions(found, V3, item, "done")


def test_the_messages_carry_the_panels_figures(app):
    found = _found(
        {"assessed_in_cadence": (4, 12), "contract_in_force": (1, 3)},
        {("critical", "clause_audit_rights"): 3, ("high", "clause_cyber_insurance"): 4},
        totals=(5, 6),
    )
    with app.test_request_context(), force_locale("en"):
        [cadence] = contradictions(found, V3, "D9-3", ItemStatus.done)
        assert cadence.message == (
            "Rated implemented, but supplier data shows only 33.3% (4 of 12) of active "
            "suppliers assessed within their re-check cadence."
        )
        contract, clauses = contradictions(found, V3, "D9-2", ItemStatus.done)
        assert contract.message == (
            "Rated implemented, but supplier data shows only 33.3% (1 of 3) of active "
            "outsourcing contractors with a contract in force."
        )
        assert clauses.message == (
            "Rated implemented, but supplier data shows security clauses missing from the "
            "contract in force (or no contract) of more than 20% of critical and high-tier "
            "suppliers: Right to audit 27.3% (3 of 11) and Cyber insurance 36.4% (4 of 11)."
        )


# -- on real suppliers -----------------------------------------------------------------------


def build_programme(make_supplier, make_contract, app, poor: bool = True) -> list:
    """Ten active outsourcing contractors, six of them critical or high, all assessed.

    Poor: only four are not past their re-check, the critical ones' contracts lack the right to
    audit and the high ones have none. Otherwise every one is within its cadence and every
    contract has every clause.
    """
    every = {c: True for c in CONTRACT_CLAUSES}
    suppliers = []
    for n, tier in enumerate(["critical"] * 3 + ["high"] * 3 + ["medium"] * 4):
        late = poor and n % 3
        suppliers.append(make_supplier(
            tier=tier, status=SupplierStatus.active,
            category=SupplierCategory.outsourcing_contractor,
            next_review_on=date(2026, 9, 1) if late else date(2027, 3, 31),
        ))  # fmt: skip
    for n, s in enumerate(suppliers):
        if poor and n < 3:
            make_contract(s, **(every | {"clause_audit_rights": False}))
        elif not poor or n >= 6:
            make_contract(s, **every)
    with app.app_context():
        for s in suppliers:
            db.session.add(Assessment(
                supplier_id=s.id, template_id="csm-v2-supplier", template_version=1,
                due_on=date(2026, 6, 30), status=AssessmentStatus.completed,
            ))  # fmt: skip
        db.session.commit()
        db.session.remove()
    return suppliers


def test_real_suppliers_contradict_implemented_without_a_query(
    ctx, make_supplier, make_contract, app, count_queries
):
    build_programme(make_supplier, make_contract, app)
    with ctx():
        found = indicators(TODAY)
        with count_queries() as counted:
            d9_3 = contradictions(found, V3, "D9-3", ItemStatus.done)
            d9_2 = contradictions(found, V3, "D9-2", ItemStatus.done)
    assert counted.count == 0  # the figures computed once for the page are all it reads
    [cadence] = d9_3
    # suppliers 0, 3, 6, 9 are not past their re-check: 4 of 10
    assert (cadence.key, cadence.value.achieved, cadence.value.total) == (
        "assessed_in_cadence",
        4,
        10,
    )
    assert [c.key for c in d9_2] == [
        "contract_in_force", "all_clauses_critical", "all_clauses_high", CLAUSES,
    ]  # fmt: skip
    shortfalls = {c.clause: (c.missing, c.total) for c in d9_2[-1].clauses}
    assert shortfalls["clause_audit_rights"] == (6, 6)  # the high ones have no contract at all
    assert shortfalls["clause_security_requirements"] == (3, 6)


def test_real_suppliers_in_good_order_contradict_nothing(ctx, make_supplier, make_contract, app):
    build_programme(make_supplier, make_contract, app, poor=False)
    with ctx():
        found = indicators(TODAY)
    assert {(v.spec.key, v.achieved, v.total) for v in found.values} >= {
        ("contract_in_force", 10, 10), ("assessed_in_cadence", 10, 10),
        ("all_clauses_critical", 3, 3), ("all_clauses_high", 3, 3),
    }  # fmt: skip
    for edition, item in ((V2, "D9-1"), (V2, "D9-2"), (V2, "D9-3"), (V3, "D9-2"), (V3, "D9-3")):
        assert contradictions(found, edition, item, ItemStatus.done) == [], (edition, item)
