"""What the periodic jobs share: the day a run falls on, and planning mails against the outbox.

Each job takes the time it runs at (`now`), selects what is due in a fixed number of queries,
acts through the services and `mail.messages`, and only flushes: the caller commits once. Every
mail has a dedupe key naming its object, its stage and its date, so a second run (or a second
scheduler) sends nothing twice: a job plans its mails by key, and `carry_out` looks all the keys
up in the outbox at once and acts only on the new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import outbox
from vendorrisk.models import Contact, OutboxMessage, Role, Supplier, SupplierStatus, User


def local_today(now: datetime) -> date:
    """The day `now` falls on where the company is (like clock.today(), for a given now)."""
    return clock.local_day(now)


def local_day(moment: datetime | None) -> date:
    """The local day of a moment; date.min for none (before every day)."""
    return clock.local_day(moment) if moment else date.min


def deliverable(contacts: Iterable[Contact]) -> list[Contact]:
    """The primary contacts with a working address, else every contact with one."""
    working = [c for c in contacts if c.undeliverable_at is None]
    return [c for c in working if c.is_primary] or working


def users_with_role(role: Role) -> list[User]:
    """The active users with this role, oldest first."""
    return list(
        db.session.scalars(sa.select(User).where(User.role == role, User.active).order_by(User.id))
    )


def not_offboarded() -> sa.ColumnElement[bool]:
    """Suppliers still looked after (an offboarded one gets no alert and is not listed)."""
    return Supplier.status != SupplierStatus.offboarded


def latest_by(key: Any, moment: Any, ids: list[int]) -> dict[int, datetime]:
    """The latest `moment` per `key` among `ids`, in one grouped query."""
    if not ids:
        return {}
    rows = db.session.execute(sa.select(key, sa.func.max(moment)).where(key.in_(ids)).group_by(key))
    return {id_: when for id_, when in rows if when is not None}


def known_keys(keys: Iterable[str]) -> set[str]:
    """The dedupe keys already in the outbox, in one query per 500 keys."""
    wanted, known = sorted(set(keys)), set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        known.update(
            db.session.scalars(
                sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
            )
        )
    return known


@dataclass
class Planned:
    """A mail (or a mail and what goes with it) that is due, keyed like its outbox row."""

    key: str
    act: Callable[[], object]


def carry_out(planned: list[Planned], result: JobResult) -> None:
    """Act on each planned item whose key is not in the outbox yet (one query for all keys);
    their mails are written together at the end (outbox.batched)."""
    known = known_keys(p.key for p in planned)
    with outbox.batched():
        for item in planned:
            if item.key in known:
                continue
            known.add(item.key)
            if item.act() is not None:
                result.done += 1
