"""The roll-up's counts: each a `Number` that carries the list showing its rows (an endpoint and
its query arguments, the filters of scope.py), so the page links every number to the list behind
it; and the SQL every panel shares (the live suppliers of a scope, a conditional count)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from vendorrisk.services.reporting import scope
from vendorrisk.services.reporting.scope import Scope

#: The lists a count links to.
SUPPLIERS = "suppliers.index"
ASSESSMENTS = "assessments.index"
FINDINGS = "assessments.findings"


@dataclass(frozen=True)
class Number:
    """A count and the list that shows those rows: an endpoint and its query arguments."""

    value: int
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)

    def share(self, total: Number | int) -> float | None:
        """This count as a percentage of `total` (None when the total is 0)."""
        whole = total.value if isinstance(total, Number) else total
        return round(self.value * 100 / whole, 1) if whole else None


def live_in_scope(filters: Scope) -> tuple[sa.ColumnElement[bool], ...]:
    """The live suppliers of the scope (conditions on Supplier)."""
    return (scope.LIVE, *scope.supplier_conditions(filters))


def supplier_list(filters: Scope, **args: Any) -> dict[str, Any]:
    """Supplier-list arguments: the live suppliers of the scope, narrowed by `args`."""
    return {"status": "live", **filters.args(), **args}


def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """The number of rows meeting `condition` (0, not NULL, when there are none)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)
