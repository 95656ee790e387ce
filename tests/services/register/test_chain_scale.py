"""The chain's lookups stay linear in the register's size (issue 19).

With most suppliers at the top of no chain (parent_id NULL), SQLite's statistics call the index
on parent_id useless, and a correlated "EXISTS a supplier below it" scanned the whole table once
per supplier: the supplier list took 43 s at 10,000 suppliers for its group filter's choices.
The work SQLite does is counted in virtual-machine steps (its progress handler), which does not
depend on the machine's speed: a linear query over N suppliers takes some tens of steps per
supplier, a quadratic one N times that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import Supplier, SupplierCategory
from vendorrisk.services.register import chain
from vendorrisk.services.reporting import chain_panel

N = 1500
#: Virtual-machine steps per supplier a linear plan stays well under (a quadratic one: ~N×10).
STEPS_PER_SUPPLIER = 200


@pytest.fixture
def register(app, ctx) -> Iterator[dict[str, int]]:
    """N suppliers, one of them with two below it (the first one scored); the test runs inside
    the app context."""
    with ctx():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("counts SQLite's virtual-machine steps")
        rows = [
            {"name_ja": f"株式会社規模{i:05d}", "category": SupplierCategory.outsourcing_contractor}
            for i in range(N)
        ]
        db.session.execute(sa.insert(Supplier), rows)
        # Statistics gathered while no supplier had another below it (SQLite keeps them until
        # the next ANALYZE): they call the index on parent_id useless, as with a few chains.
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        top, first, second = db.session.scalars(
            sa.select(Supplier.id).order_by(Supplier.id).limit(3)
        ).all()
        db.session.execute(
            sa.update(Supplier).where(Supplier.id == first).values(parent_id=top, latest_score=3.0)
        )
        db.session.execute(sa.update(Supplier).where(Supplier.id == second).values(parent_id=top))
        db.session.commit()
        yield {"top": top, "first": first, "second": second}


def _steps(work: Callable[[], Any]) -> tuple[int, Any]:
    """SQLite virtual-machine steps `work` took (in hundreds, as the handler counts), its result."""
    raw = db.session.connection().connection.driver_connection
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    raw.set_progress_handler(tick, 100)
    try:
        result = work()
    finally:
        raw.set_progress_handler(None, 0)
    return counted[0] * 100, result


def test_group_heads_is_linear(register):
    steps, heads = _steps(chain.group_heads)

    assert [head[0] for head in heads] == [register["top"]]
    assert steps < N * STEPS_PER_SUPPLIER, steps


@pytest.mark.parametrize(
    ("key", "expected"),
    [("listed", {"top"}), ("approved", set()), ("assessed", set()), ("known", {"top"})],
)
def test_subcontractor_filters_are_linear(register, key, expected):
    def matching() -> set[int]:
        stmt = sa.select(Supplier.id).where(chain_panel.condition(key))
        return set(db.session.scalars(stmt))

    steps, found = _steps(matching)

    assert found == {register[name] for name in expected}
    assert steps < N * STEPS_PER_SUPPLIER, steps


def test_every_child_counts_each_child(register):
    """ "All assessed" holds once the second child has a score too, and not before."""
    db.session.execute(
        sa.update(Supplier).where(Supplier.id == register["second"]).values(latest_score=2.0)
    )
    db.session.commit()

    assessed = set(
        db.session.scalars(sa.select(Supplier.id).where(chain_panel.condition("assessed")))
    )

    assert assessed == {register["top"]}
