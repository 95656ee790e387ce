"""Chains of suppliers: a group company under its holding company (系列企業), a subcontractor
(再委託先) under the supplier that uses it.

A supplier has at most one parent (Supplier.parent_id). Two rules hold here: no supplier is
above itself (no cycle), and no chain goes more than MAX_DEPTH levels below its top. The top is
our own supplier, layer 1 (第1層); its subcontractors are layer 2 (第2層), and so on. A chain is
read with one recursive CTE each way, on SQLite and PostgreSQL alike, never a query per level.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import aliased

from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import Supplier

#: Levels a chain may go below its top (the top and four levels: 第1層 to 第5層).
MAX_DEPTH = 4
#: Levels a recursive query follows at most: it ends even on rows written around the rules.
_GUARD = 32


class ChainError(ServiceError):
    """A parent that would break a chain; the message says why, in the user's language."""


@dataclass
class Member:
    """A supplier below another one: its depth below it (1 = directly under) and its own."""

    supplier: Supplier
    depth: int
    children: list[Member] = field(default_factory=list)


@dataclass(frozen=True)
class ChainView:
    """What the supplier page shows of a supplier's chain."""

    #: The suppliers above it, top first.
    above: list[Supplier]
    #: The suppliers directly below it, each with its own below it.
    below: list[Member]
    #: Everyone below it, depth first (each member followed by its own), siblings by name.
    members: list[Member]

    @property
    def layer(self) -> int:
        """Its layer in the chain: 1 at the top (第1層)."""
        return len(self.above) + 1

    @property
    def pending(self) -> int:
        """Suppliers below it reported by their parent and not yet reviewed."""
        return sum(1 for m in self.members if m.supplier.chain_review_pending)


# -- the SQL ----------------------------------------------------------------------------------


def _down(root_id: int) -> sa.CTE:
    """The subtree of `root_id` as (id, depth): the root at depth 0 (a recursive CTE)."""
    top = aliased(Supplier, name="chain_top")
    below = aliased(Supplier, name="chain_below")
    tree = (
        sa.select(top.id.label("id"), sa.literal_column("0", sa.Integer).label("depth"))
        .where(top.id == root_id)
        .cte("chain_down", recursive=True, nesting=True)
    )
    return tree.union_all(
        sa.select(below.id, tree.c.depth + 1).where(
            below.parent_id == tree.c.id, tree.c.depth < _GUARD
        )
    )


def _up(supplier_id: int) -> sa.CTE:
    """The suppliers above `supplier_id` as (id, depth): its parent at depth 1."""
    start = aliased(Supplier, name="chain_start")
    above = aliased(Supplier, name="chain_above")
    path = (
        sa.select(start.parent_id.label("id"), sa.literal_column("1", sa.Integer).label("depth"))
        .where(start.id == supplier_id, start.parent_id.is_not(None))
        .cte("chain_up", recursive=True, nesting=True)
    )
    return path.union_all(
        sa.select(above.parent_id, path.c.depth + 1).where(
            above.id == path.c.id, above.parent_id.is_not(None), path.c.depth < _GUARD
        )
    )


def subtree_ids(root_id: int) -> sa.Select:
    """The ids of `root_id` and of every supplier below it (one recursive CTE)."""
    down = _down(root_id)
    return sa.select(down.c.id)


def subtree_ids_condition(root_id: int, column: sa.ColumnElement | None = None) -> sa.ColumnElement:
    """`column` (Supplier.id by default) is in the subtree of `root_id`, the root included: the
    filter "within the group or chain of" of the lists and the roll-up."""
    return (Supplier.id if column is None else column).in_(subtree_ids(root_id))


# -- reading a chain --------------------------------------------------------------------------


def ancestors(supplier: Supplier) -> list[Supplier]:
    """The suppliers above `supplier`, up to the top, top first (one query; none at the top)."""
    if supplier.parent_id is None:
        return []
    up = _up(supplier.id)
    found = db.session.scalars(
        sa.select(Supplier).join(up, Supplier.id == up.c.id).order_by(up.c.depth.desc())
    )
    return list(dict.fromkeys(found))  # rows around the rules may repeat: never twice


def descendants(supplier_id: int) -> list[Member]:
    """The suppliers below `supplier_id` with their depth below it, depth first (each followed by
    those below it), siblings by name; each member also holds its children (one query)."""
    down = _down(supplier_id)
    rows = db.session.execute(
        sa.select(Supplier, down.c.depth)
        .join(down, Supplier.id == down.c.id)
        .where(down.c.depth > 0)
        .order_by(down.c.depth, Supplier.name_ja, Supplier.id)
    ).all()
    members: dict[int, Member] = {}
    for supplier, depth in rows:
        members.setdefault(supplier.id, Member(supplier, depth))  # the shallowest, if repeated
    top: list[Member] = []
    for member in members.values():  # by depth: a parent comes before its children
        parent = members.get(member.supplier.parent_id)
        (parent.children if parent else top).append(member)
    return list(_depth_first(top))


def _depth_first(members: list[Member]):
    for member in members:
        yield member
        yield from _depth_first(member.children)


def chain_view(supplier: Supplier) -> ChainView:
    """The chain of a supplier for its page: above it and below it (two queries at most)."""
    members = descendants(supplier.id)
    return ChainView(
        above=ancestors(supplier),
        below=[m for m in members if m.depth == 1],
        members=members,
    )


def group_heads() -> list[tuple[int, str, str]]:
    """(id, name_ja, name_en) of the suppliers with another one below them, by name: the
    choices of the "within the group or chain of" filters (one query)."""
    return [tuple(row) for row in db.session.execute(_group_heads())]


@functools.cache
def _group_heads() -> sa.Select:
    """The statement, built once (a new alias each request cost the list page 1-2 ms)."""
    # Not a correlated EXISTS: with most parent_id NULL, SQLite's statistics call the index on
    # it useless and the EXISTS scanned the table once per supplier (43 s at 10,000 suppliers).
    child = aliased(Supplier, name="child")
    parents = sa.select(child.parent_id).where(child.parent_id.is_not(None))
    return (
        sa.select(Supplier.id, Supplier.name_ja, Supplier.name_en)
        .where(Supplier.id.in_(parents))
        .order_by(Supplier.name_ja, Supplier.id)
    )


def parent_choices(exclude_id: int | None = None) -> list[tuple[int, str, str]]:
    """(id, name_ja, name_en) of every supplier but `exclude_id`, by name: the possible parents
    on the supplier form (one query)."""
    stmt = sa.select(Supplier.id, Supplier.name_ja, Supplier.name_en)
    if exclude_id is not None:
        stmt = stmt.where(Supplier.id != exclude_id)
    return [tuple(row) for row in db.session.execute(stmt.order_by(Supplier.name_ja, Supplier.id))]


# -- changing a chain ---------------------------------------------------------------------------


def check_parent(supplier_id: int | None, parent_id: int | None) -> None:
    """Raise ChainError if `parent_id` cannot be the parent of `supplier_id` (None: a supplier
    not saved yet): itself, one below it, one not registered, or a chain deeper than MAX_DEPTH
    (three queries at most)."""
    if parent_id is None:
        return
    if parent_id == supplier_id:
        raise ChainError(gettext("A supplier cannot be its own parent company or contractor."))
    parent = db.session.get(Supplier, parent_id)
    if parent is None:
        raise ChainError(gettext("The parent company or contractor chosen is not registered."))
    below = _depths_below(supplier_id) if supplier_id is not None else {}
    if parent_id in below:
        raise ChainError(
            gettext(
                "%(name)s is below this supplier in its chain (its group company or "
                "subcontractor), so it cannot also be its parent: the chain would go round "
                "in a circle.",
                name=parent.display_name,
            )
        )
    depth = _depth_of(parent_id) + 1 + max(below.values(), default=0)
    if depth > MAX_DEPTH:
        raise ChainError(
            gettext(
                "A chain may go at most %(max)d levels below its top supplier (down to layer "
                "%(layer)d); with this parent it would go %(depth)d levels below.",
                max=MAX_DEPTH,
                layer=MAX_DEPTH + 1,
                depth=depth,
            )
        )


def _depths_below(supplier_id: int) -> dict[int, int]:
    down = _down(supplier_id)
    rows = db.session.execute(sa.select(down.c.id, down.c.depth).where(down.c.depth > 0))
    return {sid: depth for sid, depth in rows}


def _depth_of(supplier_id: int) -> int:
    """Levels between a supplier and the top of its chain (0 at the top)."""
    up = _up(supplier_id)
    return db.session.scalar(sa.select(sa.func.count(sa.distinct(up.c.id)))) or 0


def set_parent(supplier: Supplier, parent: Supplier | None) -> Supplier:
    """Put `supplier` under `parent` (None: at the top of its own chain), keeping the rules."""
    check_parent(supplier.id, parent.id if parent is not None else None)
    supplier.parent_id = parent.id if parent is not None else None
    db.session.add(supplier)
    db.session.flush()
    return supplier


def mark_reviewed(supplier: Supplier, now: datetime) -> Supplier:
    """Record that procurement has looked at a record its parent reported (the first time)."""
    if not supplier.reported_by_parent:
        raise ChainError(gettext("Only a supplier reported by its parent needs this review."))
    if supplier.chain_reviewed_at is None:
        supplier.chain_reviewed_at = now
        db.session.flush()
    return supplier


def detach_children(supplier: Supplier) -> list[Supplier]:
    """Put the suppliers directly below `supplier` at the top of their own chains (before it is
    deleted: the audit log then says so, where ON DELETE SET NULL would not)."""
    children = list(
        db.session.scalars(sa.select(Supplier).where(Supplier.parent_id == supplier.id))
    )
    for child in children:
        child.parent_id = None
    db.session.flush()
    return children
