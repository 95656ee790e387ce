"""The company's own Appendix A self-assessment, run as PDCA cycles.

A cycle (サイクル) is a dated snapshot of the 41 check items of ``csm-v2-internal``: each item has a
status, evidence, an internal owner, a target date and notes. A new cycle starts from the last
one's answers; a closed cycle is frozen, with the Direction 9 indicators of the supplier
programme (``selfassessment_d9``) stored as they stood. Scoring is pure (``directive_scores``,
``overall_score``): done 1, partly 0.5, not done 0; not applicable and unanswered items are
left out; means are 0-100.

The KPIs entered each cycle are in kpis.py; one cycle against the one before, as the management
report shows it, in summary.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import (
    SETTLED_STATUSES,
    ItemStatus,
    SelfAssessmentCycle,
    SelfAssessmentItem,
    StoredFile,
    User,
)
from vendorrisk.services import files
from vendorrisk.services.selfassessment.indicators import indicators

TEMPLATE_ID = "csm-v2-internal"

#: What an item is worth; not applicable (and unanswered) is left out.
STATUS_VALUES = {ItemStatus.done: 1, ItemStatus.partly: Fraction(1, 2), ItemStatus.not_done: 0}


class SelfAssessmentError(ServiceError):
    """A change refused; the message is translated."""


class CycleClosed(SelfAssessmentError):
    """The cycle is closed (perhaps by someone else since it was loaded)."""

    def __init__(self, message: Any = None) -> None:
        super().__init__(
            message or _l("This cycle is closed: its answers can no longer be changed.")
        )


class VersionConflict(SelfAssessmentError):
    """Someone else saved since the form was shown; their version is kept."""

    def __init__(self, message: Any) -> None:
        super().__init__(message)


# -- pure scoring and comparison -----------------------------------------------------------


def _status(value: Any) -> ItemStatus | None:
    return ItemStatus(value) if value else None


def _percent(values: list[Fraction]) -> float | None:
    if not values:
        return None
    return float(round(sum(values, Fraction(0)) / len(values) * 100, 1))


def directive_scores(rows: Iterable[tuple[int, Any]]) -> dict[int, float | None]:
    """Score per directive (0-100, one decimal) from (directive, status) pairs.

    Every directive named gets a key; None when none of its items counts.
    """
    counted: dict[int, list[Fraction]] = {}
    for directive, status in rows:
        values = counted.setdefault(directive, [])
        value = STATUS_VALUES.get(_status(status))
        if value is not None:
            values.append(Fraction(value))
    return {directive: _percent(values) for directive, values in sorted(counted.items())}


def overall_score(statuses: Iterable[Any]) -> float | None:
    """The mean of every counted item (not a mean of directive means), 0-100."""
    values = [STATUS_VALUES.get(_status(s)) for s in statuses]
    return _percent([Fraction(v) for v in values if v is not None])


_RANK = {ItemStatus.not_done: 0, ItemStatus.partly: 1, ItemStatus.done: 2}


def change_of(old: Any, new: Any) -> str:
    """How a status moved: improved, worsened, unchanged, or changed (to or from not applicable
    or unanswered, which have no rank)."""
    old, new = _status(old), _status(new)
    if old == new:
        return "unchanged"
    if old in _RANK and new in _RANK:
        return "improved" if _RANK[new] > _RANK[old] else "worsened"
    return "changed"


def is_gap(status: Any, owner_id: int | None, target_on: date | None) -> bool:
    """Not done (nor not applicable) and nobody owns it or no target date is set."""
    status = _status(status)
    settled = status in SETTLED_STATUSES
    return not settled and (owner_id is None or target_on is None)


# -- loading -------------------------------------------------------------------------------


def template_of(cycle: SelfAssessmentCycle):
    from vendorrisk.catalog import catalog

    return catalog().get(cycle.template_id, cycle.template_version)


def current_template():
    from vendorrisk.catalog import catalog

    return catalog().get(TEMPLATE_ID)


def directive_titles(template) -> dict[int, Any]:
    """Each directive's section title (a catalog Text), by directive number."""
    titles = {}
    for section in template.sections:
        for question in section.questions:
            titles.setdefault(question.mapping.directive, section.title)
    return titles


_ORDER = (SelfAssessmentCycle.as_of, SelfAssessmentCycle.id)


def cycles() -> list[SelfAssessmentCycle]:
    """Every cycle, oldest first."""
    return list(db.session.scalars(sa.select(SelfAssessmentCycle).order_by(*_ORDER)))


def latest_cycle() -> SelfAssessmentCycle | None:
    stmt = sa.select(SelfAssessmentCycle).order_by(*(c.desc() for c in _ORDER)).limit(1)
    return db.session.scalar(stmt)


def open_cycle() -> SelfAssessmentCycle | None:
    return db.session.scalar(
        sa.select(SelfAssessmentCycle).where(SelfAssessmentCycle.closed_at.is_(None)).limit(1)
    )


def get_full(cycle_id: int) -> SelfAssessmentCycle | None:
    """A cycle with its items, their owners and files, and its KPI values."""
    return db.session.scalar(
        sa.select(SelfAssessmentCycle)
        .where(SelfAssessmentCycle.id == cycle_id)
        .options(
            selectinload(SelfAssessmentCycle.items).options(
                selectinload(SelfAssessmentItem.owner),
                selectinload(SelfAssessmentItem.evidence_file),
                selectinload(SelfAssessmentItem.updated_by),
            ),
            selectinload(SelfAssessmentCycle.kpis),
        )
    )


def previous_of(cycle: SelfAssessmentCycle) -> SelfAssessmentCycle | None:
    """The cycle before this one (by as-of date, then creation)."""
    earlier = sa.or_(
        SelfAssessmentCycle.as_of < cycle.as_of,
        sa.and_(SelfAssessmentCycle.as_of == cycle.as_of, SelfAssessmentCycle.id < cycle.id),
    )
    stmt = (
        sa.select(SelfAssessmentCycle).where(earlier).order_by(*(c.desc() for c in _ORDER)).limit(1)
    )
    return db.session.scalar(stmt.options(selectinload(SelfAssessmentCycle.items)))


def items_by_question(cycle: SelfAssessmentCycle | None) -> dict[str, SelfAssessmentItem]:
    return {i.question_id: i for i in cycle.items} if cycle else {}


# -- cycles: start, answer, close --------------------------------------------------------------


def start_cycle(
    name: str, as_of: date, template, user: User | None, now: datetime
) -> SelfAssessmentCycle:
    """Open a new cycle, its items copied from the last cycle's answers (blank for new items)."""
    current = open_cycle()
    if current is not None:
        # Eager gettext: a lazy string is Markup-like to Jinja and would print the name unescaped.
        raise SelfAssessmentError(
            gettext("Close the open cycle %(name)s before starting a new one.", name=current.name)
        )
    last = latest_cycle()
    before = items_by_question(last)
    cycle = SelfAssessmentCycle(
        name=name,
        as_of=as_of,
        template_id=template.id,
        template_version=template.version,
        copied_from_id=last.id if last else None,
        created_by_id=user.id if user else None,
    )
    for question in template.questions:
        old = before.get(question.id)
        item = SelfAssessmentItem(question_id=question.id, updated_at=now)
        if old is not None:
            item.status, item.evidence, item.notes = old.status, old.evidence, old.notes
            item.owner_id, item.target_on = old.owner_id, old.target_on
            item.evidence_file_id = old.evidence_file_id
        cycle.items.append(item)
    db.session.add(cycle)
    try:
        db.session.flush()  # the unique indexes settle a race with another start
    except sa.exc.IntegrityError as exc:
        raise SelfAssessmentError(
            _l("Another cycle was started meanwhile, or its name is taken: check the list.")
        ) from exc
    return cycle


#: The item fields a person edits.
ITEM_FIELDS = ("status", "evidence", "owner_id", "target_on", "notes")


def save_item(
    item: SelfAssessmentItem,
    fields: Mapping[str, Any],
    version: int,
    user: User | None,
    now: datetime,
    new_file: StoredFile | None = None,
    remove_file: bool = False,
) -> bool:
    """Save one item's answer; False when nothing changed. The form's `version` must be current."""
    if not item.cycle.is_open:
        raise CycleClosed()
    _hold_open(item.cycle, now)
    if item.version != version:
        raise _item_conflict()
    old_file = item.evidence_file
    changed = any(getattr(item, k) != fields[k] for k in ITEM_FIELDS if k in fields)
    for key in ITEM_FIELDS:
        if key in fields:
            setattr(item, key, fields[key])
    if new_file is not None:
        item.evidence_file = new_file
    elif remove_file:
        item.evidence_file = None
    if not changed and item.evidence_file is old_file:
        return False
    item.updated_by_id, item.updated_at = (user.id if user else None), now
    try:
        db.session.flush()  # the version column makes a concurrent save fail here
    except StaleDataError as exc:
        raise _item_conflict() from exc
    if old_file is not None and old_file is not item.evidence_file:
        _discard_if_unused(old_file)
    return True


def _hold_open(cycle: SelfAssessmentCycle, now: datetime, message: Any = None) -> None:
    """Lock the cycle's row while it is still open in the database, else CycleClosed.

    The loaded object may be stale: a close committed since counts, and a close racing this
    transaction waits for its commit (the row stays locked), so no change lands in a closed
    cycle and no cycle is closed twice.
    """
    held = db.session.execute(
        sa.update(SelfAssessmentCycle)
        .where(SelfAssessmentCycle.id == cycle.id, SelfAssessmentCycle.closed_at.is_(None))
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        raise CycleClosed(message)


def closed_in_database(cycle: SelfAssessmentCycle) -> bool:
    """Closed (or gone) as committed, whatever the loaded object says."""
    closed_at = db.session.execute(
        sa.select(SelfAssessmentCycle.closed_at).where(SelfAssessmentCycle.id == cycle.id)
    ).first()
    return closed_at is None or closed_at[0] is not None


def _item_conflict() -> VersionConflict:
    return VersionConflict(
        _l(
            "Someone else changed this item while you were editing it. Their version is shown "
            "below; your entries are kept in the form: check them and save again."
        )
    )


def _discard_if_unused(stored: StoredFile) -> None:
    """Delete an evidence file no cycle (open or closed) still points at."""
    db.session.flush()
    used = db.session.scalar(
        sa.select(SelfAssessmentItem.id).where(SelfAssessmentItem.evidence_file_id == stored.id)
    )
    if used is None:
        files.discard(stored)


def close_cycle(
    cycle: SelfAssessmentCycle, user: User | None, now: datetime, today: date
) -> SelfAssessmentCycle:
    """Freeze the cycle and keep the Direction 9 indicators as they stand `today`."""
    already = _l("This cycle is already closed.")
    if not cycle.is_open:
        raise CycleClosed(already)
    _hold_open(cycle, now, already)
    cycle.d9_snapshot = indicators(today).to_snapshot()
    cycle.closed_at, cycle.closed_by_id, cycle.open_flag = now, (user.id if user else None), None
    db.session.flush()
    return cycle


def gaps(cycle: SelfAssessmentCycle) -> list[SelfAssessmentItem]:
    return [i for i in cycle.items if is_gap(i.status, i.owner_id, i.target_on)]


def status_counts(items: Iterable[Any]) -> dict[str, int]:
    """Items by status value, with "unanswered"."""
    counts = {s.value: 0 for s in ItemStatus} | {"unanswered": 0}
    for item in items:
        counts[item.status.value if item.status else "unanswered"] += 1
    return counts


# -- history and comparison -------------------------------------------------------------------


@dataclass(frozen=True)
class CycleScore:
    cycle: SelfAssessmentCycle
    overall: float | None
    directives: dict[int, float | None]


def _directive_of(template) -> dict[str, int]:
    return {q.id: q.mapping.directive for q in template.questions} if template else {}


def scores_of(cycle: SelfAssessmentCycle, statuses: Mapping[str, Any]) -> CycleScore:
    """A cycle's scores from its statuses by question id."""
    directive = _directive_of(template_of(cycle))
    rows = [(directive[q], s) for q, s in statuses.items() if q in directive]
    return CycleScore(cycle, overall_score(s for _, s in rows), directive_scores(rows))


def history() -> list[CycleScore]:
    """Every cycle, oldest first, with its scores: two queries whatever the number of cycles."""
    found = cycles()
    statuses: dict[int, dict[str, Any]] = {c.id: {} for c in found}
    rows = db.session.execute(
        sa.select(
            SelfAssessmentItem.cycle_id, SelfAssessmentItem.question_id, SelfAssessmentItem.status
        )
    )
    for cycle_id, question_id, status in rows:
        statuses.setdefault(cycle_id, {})[question_id] = status
    return [scores_of(c, statuses[c.id]) for c in found]


@dataclass(frozen=True)
class ItemChange:
    question: Any
    old: ItemStatus | None
    new: ItemStatus | None
    change: str


def compare(cycle: SelfAssessmentCycle, previous: SelfAssessmentCycle | None) -> list[ItemChange]:
    """This cycle against the previous one, item by item, in template order."""
    before, now_ = items_by_question(previous), items_by_question(cycle)
    changes = []
    for question in template_of(cycle).questions:
        old = before[question.id].status if question.id in before else None
        new = now_[question.id].status if question.id in now_ else None
        changes.append(ItemChange(question, old, new, change_of(old, new)))
    return changes


EXPORT_COLUMNS = (
    "cycle", "directive", "item", "question_id", "question_ja", "question_en", "status",
    "owner", "target_on", "evidence", "notes", "previous_status",
)  # fmt: skip


def export_frame(cycle_id: int | None = None) -> pd.DataFrame:
    """One row per check item of a cycle (the latest by default), with the previous status."""
    cycle = get_full(cycle_id) if cycle_id is not None else latest_cycle()
    if cycle is None:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS))
    before = items_by_question(previous_of(cycle))
    items = items_by_question(cycle)
    rows = []
    for question in template_of(cycle).questions:
        item, old = items.get(question.id), before.get(question.id)
        rows.append(
            {
                "cycle": cycle.name,
                "directive": question.mapping.directive,
                "item": question.mapping.item or "",
                "question_id": question.id,
                "question_ja": question.text.ja,
                "question_en": question.text.en,
                "status": item.status.value if item and item.status else "",
                "owner": item.owner.label if item and item.owner else "",
                "target_on": item.target_on if item else None,
                "evidence": item.evidence if item else "",
                "notes": item.notes if item else "",
                "previous_status": old.status.value if old and old.status else "",
            }
        )
    df = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
    df["directive"] = df["directive"].astype("Int64")
    return df


# -- names ---------------------------------------------------------------------------------


def cycle_name(as_of: date) -> str:
    """The Japanese fiscal half of a day: 2026年度 上期 (April-September) or 下期."""
    year = as_of.year if as_of.month >= 4 else as_of.year - 1
    return f"{year}年度 {'上期' if 4 <= as_of.month <= 9 else '下期'}"
