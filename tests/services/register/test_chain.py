"""Chains of suppliers (issue 18): group companies under their holding company (系列企業) and
subcontractors (再委託先) under the supplier that uses them — no cycle, at most MAX_DEPTH levels
below the top, read with one recursive query each way on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Supplier, SupplierCategory
from vendorrisk.services.register import chain, suppliers
from vendorrisk.services.register.chain import MAX_DEPTH, ChainError
from vendorrisk.services.reporting import history, rollup, trends
from vendorrisk.services.reporting.scope import Scope

REVIEWED = datetime(2027, 1, 4, 1, 30, tzinfo=UTC)


@pytest.fixture
def tree(make_supplier):
    """A holding company with two group companies, one of them using two subcontractors; and a
    supplier of its own beside them.

    A ─┬─ B ─┬─ C
       │     └─ D
       └─ E
    F
    """
    group, out = SupplierCategory.group_company, SupplierCategory.outsourcing_contractor
    a = make_supplier(name_ja="A社", category=group)
    b = make_supplier(name_ja="B社", category=group, parent_id=a.id)
    c = make_supplier(name_ja="C社", category=out, parent_id=b.id, reported_by_parent=True)
    d = make_supplier(name_ja="D社", category=out, parent_id=b.id)
    e = make_supplier(name_ja="E社", category=group, parent_id=a.id)
    f = make_supplier(name_ja="F社")
    return {s.name_ja[0]: s.id for s in (a, b, c, d, e, f)}


def _get(supplier_id: int) -> Supplier:
    return db.session.get(Supplier, supplier_id)


def _names(suppliers_: list[Supplier]) -> list[str]:
    return [s.name_ja[0] for s in suppliers_]


def _in_subtree(root_id: int) -> set[str]:
    rows = db.session.scalars(
        sa.select(Supplier.name_ja).where(chain.subtree_ids_condition(root_id))
    )
    return {name[0] for name in rows}


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        ("A", "A supplier cannot be its own parent company or contractor."),
        ("B", "B社 is below this supplier in its chain (its group company or subcontractor)"),
        ("C", "C社 is below this supplier in its chain (its group company or subcontractor)"),
    ],
    ids=["itself", "its child", "its grandchild"],
)
def test_a_cycle_of_parents_is_refused_with_a_clear_message_and_nothing_saved(
    app, tree, parent, message
):
    with app.app_context():
        top = _get(tree["A"])
        with pytest.raises(ChainError, match=re.escape(message)):
            chain.set_parent(top, _get(tree[parent]))
        with pytest.raises(ChainError, match=re.escape(message)):
            suppliers.apply(top, {"name_ja": "改名", "parent_id": tree[parent]})
        assert (top.name_ja, top.parent_id) == ("A社", None)  # refused before any change
        db.session.commit()
        updates = sa.select(AuditEvent).where(AuditEvent.action == "update")
        assert db.session.scalars(updates).all() == []
        assert _in_subtree(tree["A"]) == {"A", "B", "C", "D", "E"}


def test_a_chain_goes_at_most_max_depth_levels_below_its_top(app, make_supplier):
    ids = [make_supplier(name_ja="L0").id]
    with app.app_context():
        for level in range(1, MAX_DEPTH + 1):  # down to layer 5 (第5層): allowed
            below = make_supplier(name_ja=f"L{level}")
            chain.set_parent(_get(below.id), _get(ids[-1]))
            ids.append(below.id)
        db.session.commit()
        deepest = make_supplier(name_ja="L5")
        with pytest.raises(ChainError, match="at most 4 levels below its top supplier"):
            chain.set_parent(_get(deepest.id), _get(ids[-1]))
        # A supplier with one below it cannot go under layer 4: its own would be 5 levels down.
        with_child = make_supplier(name_ja="X")
        make_supplier(name_ja="Y", parent_id=with_child.id)
        with pytest.raises(ChainError, match="it would go 5 levels below"):
            chain.set_parent(_get(with_child.id), _get(ids[3]))
        chain.set_parent(_get(with_child.id), _get(ids[2]))
        assert [m.depth for m in chain.descendants(ids[0])].count(4) == 2  # L4 and Y


def test_a_parent_not_registered_is_refused(app, tree):
    with app.app_context():
        with pytest.raises(ChainError, match="not registered"):
            chain.check_parent(tree["F"], 999_999)
        chain.check_parent(None, tree["C"])  # a new supplier under a layer-3 one: fine


def test_ancestors_top_first(app, tree):
    with app.app_context():
        assert _names(chain.ancestors(_get(tree["C"]))) == ["A", "B"]
        assert _names(chain.ancestors(_get(tree["E"]))) == ["A"]
        assert chain.ancestors(_get(tree["A"])) == []


def test_descendants_depth_first_with_their_depth_and_children(app, tree):
    with app.app_context():
        members = chain.descendants(tree["A"])
        assert [(m.supplier.name_ja[0], m.depth) for m in members] == [
            ("B", 1),
            ("C", 2),
            ("D", 2),
            ("E", 1),
        ]
        assert [_names([c.supplier for c in m.children]) for m in members] == [
            ["C", "D"],
            [],
            [],
            [],
        ]
        assert [(m.supplier.name_ja[0], m.depth) for m in chain.descendants(tree["B"])] == [
            ("C", 1),
            ("D", 1),
        ]
        assert chain.descendants(tree["F"]) == []


def test_the_subtree_condition_includes_the_root(app, tree):
    with app.app_context():
        assert _in_subtree(tree["A"]) == {"A", "B", "C", "D", "E"}
        assert _in_subtree(tree["B"]) == {"B", "C", "D"}
        assert _in_subtree(tree["F"]) == {"F"}
        assert [row[0] for row in chain.group_heads()] == [tree["A"], tree["B"]]


def test_the_chain_view_of_a_page(app, tree):
    with app.app_context():
        view = chain.chain_view(_get(tree["B"]))
        assert (_names(view.above), view.layer, view.pending) == (["A"], 2, 1)
        assert _names([m.supplier for m in view.below]) == ["C", "D"]


def test_a_reported_record_is_reviewed_once(app, tree):
    with app.app_context():
        reported = _get(tree["C"])
        assert reported.chain_review_pending
        chain.mark_reviewed(reported, REVIEWED)
        chain.mark_reviewed(reported, datetime(2027, 2, 1, tzinfo=UTC))
        assert reported.chain_reviewed_at == REVIEWED and not reported.chain_review_pending
        with pytest.raises(ChainError, match="Only a supplier reported by its parent"):
            chain.mark_reviewed(_get(tree["D"]), REVIEWED)


def test_deleting_a_parent_puts_its_children_at_the_top_in_the_audit_log(app, tree):
    with app.app_context():
        suppliers.delete(_get(tree["B"]))
        db.session.commit()
        assert _get(tree["C"]).parent_id is None and _get(tree["D"]).parent_id is None
        detached = db.session.scalars(
            sa.select(AuditEvent.object_id).where(
                AuditEvent.action == "update", AuditEvent.object_type == "suppliers"
            )
        ).all()
        assert sorted(detached) == sorted([tree["C"], tree["D"]])
        assert _in_subtree(tree["A"]) == {"A", "E"}


def test_the_rollup_panels_and_trends_count_the_subtree(app, tree, today):
    with app.app_context():
        db.session.execute(sa.update(Supplier).values(status="active"))
        history.capture(today)  # the quarter's snapshot: a row per live supplier
        db.session.commit()
        group = Scope(group_id=tree["B"])
        assert rollup.tier_table(group).total.value == 3
        assert rollup.tier_table(group).total.args == {"status": "live", "group": tree["B"]}
        assert [p.suppliers for p in trends.trends(group)] == [3]
        assert [p.suppliers for p in trends.trends(Scope())] == [6]
