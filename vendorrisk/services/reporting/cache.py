"""The roll-up's figures kept between requests, for as long as nothing they count has changed.

What the roll-up and the report compute is kept in a small LRU per process, keyed by what was
asked (the filters), the company's day (figures such as "overdue" move with it) and a data
version: a counter (DataVersion) that moves on with every committed transaction that wrote a
table it follows. "figures" follows every table a kept figure reads (FIGURE_TABLES);
"snapshots" the quarterly snapshots alone, so that the trends, which read nothing else, are
computed once a night rather than after every write. Reading a counter is one query by primary
key; a page whose key is kept renders without computing anything.

What moves a counter: the session events below note each flush that inserts, changes or deletes
a row of a table it follows, and each INSERT / UPDATE / DELETE on one executed through the
session (a bulk or Core statement); at commit each counter moved takes one UPSERT, the last
statements before COMMIT (in one order), so that their row locks are held for an instant and no
two writers can deadlock on them. Writes to other tables leave them alone, an answer's autosave
above all (see UNTRACKED); so do writes through `session.connection()` (audit rows, the outbox,
emailed links), which no figure reads.

A session that has written a figure table and not yet committed reads its own changes: it
computes afresh and keeps nothing, so a write rolled back never leaves its figures behind.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from vendorrisk import scoping
from vendorrisk.extensions import db
from vendorrisk.models import DataVersion

T = TypeVar("T")

#: The counter of every table a kept figure reads.
FIGURES = "figures"
#: The counter of the quarterly snapshots alone: the trends read nothing else (without a group
#: filter), and they change once a night, so they are kept across the day's other writes.
SNAPSHOTS = "snapshots"
#: The tables the kept figures read (tests/services/reporting/test_cache.py collects them from
#: the statements a roll-up and the report's top risks run, so this cannot fall behind the SQL).
FIGURE_TABLES = frozenset(
    {
        "area_scores",
        "assessments",
        "attestations",
        "contracts",
        "findings",
        "rollup_snapshots",
        "settings",
        "suppliers",
    }
)
#: Each counter and the tables whose writes move it.
COUNTERS = {FIGURES: FIGURE_TABLES, SNAPSHOTS: frozenset({"rollup_snapshots"})}
#: Tables a kept figure reads that move no counter, and why.
UNTRACKED = {
    "answers": (
        "only completed assessments' answers count (the subcontracting question of the chain "
        "panel), and they never change once it is completed: the portal writes an answer only "
        "while its assessment is open, and completing one writes assessments. Answers autosave "
        "as the supplier types: they must not empty the cache."
    ),
}
#: Computed results kept per process (a few kilobytes each, a number for a list count).
SIZE = 256

_EXTENSION = "vendorrisk.figures_cache"
_CHANGED = "vendorrisk_counters_moved"
_MISSING = object()
_VERSION = sa.select(DataVersion.version).where(DataVersion.name == sa.bindparam("name"))


class Kept:
    """A bounded, thread-safe LRU: the least recently used result goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            found = self._items.get(key, _MISSING)
            if found is not _MISSING:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# -- reading ------------------------------------------------------------------------------------


def version(counter: str = FIGURES) -> int | None:
    """A counter as committed (None while nothing it follows was ever written)."""
    return db.session.scalar(_VERSION, {"name": counter})


def kept(kind: str, key: Hashable, compute: Callable[[], T], counter: str = FIGURES) -> T:
    """`compute()`, or what it returned for the same kind and key while `counter` has not moved
    since. Whatever else the result depends on (the day, the filters) belongs in `key`."""
    current = version(counter)  # first: a write committed after this read moves it past the key
    if current is None or counter in db.session.info.get(_CHANGED, ()):
        return compute()  # nothing committed to key on, or this session's own writes
    store: Kept = current_app.extensions[_EXTENSION]
    full = (kind, key, counter, current, scoping.cache_key())  # a unit's figures are its own
    found = store.get(full)
    if found is _MISSING:
        found = compute()
        store.put(full, found)
    return found


def forget_all() -> None:
    """Drop every kept result of this process (the next read computes afresh)."""
    current_app.extensions[_EXTENSION].clear()


# -- writing: what moves the counters -----------------------------------------------------------


@functools.cache
def deletes_watched(counter: str) -> frozenset[str]:
    """The counter's tables, and those whose deleted rows change them through ON DELETE
    (CASCADE, SET NULL): a user deleted takes its suppliers' owner with it."""
    found = set(COUNTERS[counter])
    for name in COUNTERS[counter]:
        for key in db.metadata.tables[name].foreign_keys:
            if (key.ondelete or "").upper() in ("CASCADE", "SET NULL", "SET DEFAULT"):
                found.add(key.column.table.name)
    return frozenset(found)


def _moved(written: set[str], deleted: set[str]) -> set[str]:
    """The counters that rows written to (or deleted from) these tables move."""
    return {
        counter
        for counter, tables in COUNTERS.items()
        if written & tables or deleted & deletes_watched(counter)
    }


def _tables_of(obj: Any) -> set[str]:
    return {table.name for table in sa.inspect(obj).mapper.tables}


_WATCHED = frozenset().union(*COUNTERS.values())


def _flushed(session: Session, flush_context: Any) -> None:
    """Note the counters this flush moves (a change of no column is no write)."""
    written = {name for obj in session.new for name in _tables_of(obj)}
    written |= {
        name
        for obj in session.dirty
        if _tables_of(obj) & _WATCHED and session.is_modified(obj, include_collections=False)
        for name in _tables_of(obj)
    }
    deleted = {name for obj in session.deleted for name in _tables_of(obj)}
    if moved := _moved(written | deleted, deleted):
        session.info.setdefault(_CHANGED, set()).update(moved)


def _executed(state: ORMExecuteState) -> None:
    """Note the counters an INSERT, UPDATE or DELETE executed through the session moves."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    target = {name} if name is not None else set()
    # A target it cannot name moves every counter, to be safe.
    moved = _moved(target, target if state.is_delete else set()) if target else set(COUNTERS)
    if moved:
        state.session.info.setdefault(_CHANGED, set()).update(moved)


def _bump_statement(session: Session, counter: str) -> Any:
    """UPSERT: the counter moves on by one, or starts at a random number (a row made anew)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DataVersion).values(name=counter, version=secrets.randbits(62))
    return stmt.on_conflict_do_update(
        index_elements=["name"], set_={"version": DataVersion.__table__.c.version + 1}
    )


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction around it moves the counters when it commits
    if session.new or session.deleted or session.dirty:
        session.flush()  # what the commit would flush after this hook: noted first
    for counter in sorted(session.info.get(_CHANGED, ())):  # one order: no deadlock
        session.execute(_bump_statement(session, counter))


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed or rolled back: noted writes are behind us
        session.info.pop(_CHANGED, None)


def bump(*counters: str) -> None:
    """Move counters (all by default) with the current transaction, for writes no session event
    sees (SQL text, `session.connection()`)."""
    db.session.info.setdefault(_CHANGED, set()).update(counters or COUNTERS)


_HOOKS: Iterable[tuple[str, Callable[..., Any]]] = (
    ("after_flush", _flushed),
    ("do_orm_execute", _executed),
    ("before_commit", _before_commit),
    ("after_transaction_end", _transaction_ended),
)


def init_app(app: Flask) -> None:
    """A store for this app's kept results; the session events that move the counters."""
    app.extensions[_EXTENSION] = Kept(SIZE)
    for name, hook in _HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
