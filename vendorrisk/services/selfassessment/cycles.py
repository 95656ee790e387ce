"""The company's own Appendix A self-assessment, run as PDCA cycles.

A cycle (サイクル) is a dated snapshot of the check items of an internal template of one edition of
the guideline (``csm-v2-internal``: Ver 2.0's 41 items; ``csm-v3-internal``: Ver 3.0's 40 items of
A-2 and the 9 principle items of A-1): each item has a status, evidence, an internal owner, a
target date and notes. A new cycle starts from the last one's answers; a cycle in the next
edition starts from the last cycle of the one before through the crosswalk (``carry``), each
split, merged, new item or home of a dropped one flagged 要確認 until someone saves it, and
where every answer went kept on the cycle. A closed cycle is frozen, with the Direction 9
indicators of the supplier programme (``selfassessment_d9``) stored as they stood. Scoring is
pure (``directive_scores``, ``overall_score``): done 1, partly 0.5, not done 0; not applicable
and unanswered items are left out; means are 0-100; principle items (A-1) count in neither.

The KPIs entered each cycle are in kpis.py; one cycle against the one before, as the management
report shows it, in summary.py.
"""

from __future__ import annotations

import re
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

#: The internal template a company starts on when it has no cycle yet (its first edition).
TEMPLATE_ID = "csm-v2-internal"
#: Why an item carried to another edition is to be confirmed (要確認), by crosswalk relation.
REVIEW_REASONS = ("split", "merged", "new", "dropped")

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
    return catalog_template(cycle.template_id, cycle.template_version)


def catalog_template(template_id: str, version: int | None = None):
    from vendorrisk.catalog import catalog

    return catalog().get(template_id, version)


def internal_templates() -> list:
    """The current internal templates (one per edition), oldest edition first."""
    from vendorrisk.catalog import catalog

    found = [t for t in catalog().current() if t.audience == "internal"]
    return sorted(found, key=lambda t: (t.edition, t.id))


def current_template():
    """The template the cycles are on now: the latest cycle's, else the first edition's."""
    from vendorrisk.catalog import catalog

    last = latest_cycle()
    return catalog().get(last.template_id if last else TEMPLATE_ID)


def crosswalk_to(source_id: str, target_id: str):
    """The crosswalk from one internal template to another, or None."""
    from vendorrisk.catalog import catalog

    return next(
        (
            c
            for c in catalog().crosswalks
            if c.source_template.split("@")[0] == source_id
            and c.target_template.split("@")[0] == target_id
        ),
        None,
    )


def next_templates(last: SelfAssessmentCycle | None) -> list:
    """The templates a new cycle may follow: the last cycle's (its newest version) and those a
    crosswalk leads to from it; any internal template for the first cycle."""
    if last is None:
        return internal_templates()
    return [
        t
        for t in internal_templates()
        if t.id == last.template_id or crosswalk_to(last.template_id, t.id) is not None
    ]


def directive_titles(template) -> dict[int, Any]:
    """Each directive's section title (a catalog Text), by directive number."""
    titles = {}
    for section in template.direction_sections:
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
    """Open a new cycle, its items copied from the last cycle's answers (blank for new items);
    on another edition's template, carried through the crosswalk and flagged for review."""
    current = open_cycle()
    if current is not None:
        # Eager gettext: a lazy string is Markup-like to Jinja and would print the name unescaped.
        raise SelfAssessmentError(
            gettext("Close the open cycle %(name)s before starting a new one.", name=current.name)
        )
    last = latest_cycle()
    cycle = SelfAssessmentCycle(
        name=name,
        as_of=as_of,
        template_id=template.id,
        template_version=template.version,
        copied_from_id=last.id if last else None,
        created_by_id=user.id if user else None,
    )
    if last is not None and last.template_id != template.id:
        crosswalk = crosswalk_to(last.template_id, template.id)
        if crosswalk is None:
            old = template_of(last)
            raise SelfAssessmentError(
                gettext(
                    "The last cycle follows %(old)s: no crosswalk leads from it to %(new)s.",
                    old=old.guideline.label if old else last.template_id,
                    new=template.guideline.label,
                )
            )
        carry(cycle, last, template, crosswalk, now)
    else:
        before = items_by_question(last)
        for question in template.questions:
            item = SelfAssessmentItem(question_id=question.id, updated_at=now)
            if question.id in before:
                _copy(before[question.id], item)
            cycle.items.append(item)
    db.session.add(cycle)
    try:
        db.session.flush()  # the unique indexes settle a race with another start
    except sa.exc.IntegrityError as exc:
        raise SelfAssessmentError(
            _l("Another cycle was started meanwhile, or its name is taken: check the list.")
        ) from exc
    return cycle


def _copy(old: SelfAssessmentItem, item: SelfAssessmentItem, review: bool = True) -> None:
    """The old item's answer into the new one; within an edition an item still to be confirmed
    stays so (`review`)."""
    item.status, item.evidence, item.notes = old.status, old.evidence, old.notes
    item.owner_id, item.target_on = old.owner_id, old.target_on
    item.evidence_file_id = old.evidence_file_id
    if review:
        item.review = old.review


#: A status as a note written into a cycle says it, in the guideline's words and in English.
STATUS_WORDS = {
    ItemStatus.done: "実施している (implemented)",
    ItemStatus.partly: "一部実施している (partly implemented)",
    ItemStatus.not_done: "実施していない (not implemented)",
    ItemStatus.not_applicable: "該当しない (not applicable)",
}
#: Heads the notes a dropped item's answer is kept in (stored, so in both languages).
DROPPED_HEADING = "旧版で削除された項目の回答 / From items no longer in this edition:"
#: A merged item carries the weakest of its answers; not applicable only if all were.
_WEAKEST = (ItemStatus.not_done, ItemStatus.partly, ItemStatus.done, ItemStatus.not_applicable)


def weakest(statuses: Iterable[Any]) -> ItemStatus | None:
    """The weakest of several statuses; none (unanswered) if any of them is unanswered, since an
    item cannot be more done than a part nobody has answered."""
    found = [_status(s) for s in statuses]
    if not found or any(s is None for s in found):
        return None
    return min(found, key=_WEAKEST.index)


def _labelled(code: str, old: SelfAssessmentItem) -> list[str]:
    """What an old item held besides its status, each line labelled with its item (D8-2)."""
    lines = []
    if old.status is not None:
        lines.append(f"[{code}] {STATUS_WORDS[old.status]}")
    if old.evidence:
        lines.append(f"[{code}] {old.evidence}")
    if old.evidence_file is not None:
        lines.append(f"[{code}] 証跡ファイル / evidence file: {old.evidence_file.original_name}")
    if old.owner is not None:
        lines.append(f"[{code}] 担当 / owner: {old.owner.label}")
    if old.target_on is not None:
        lines.append(f"[{code}] 目標期日 / target date: {old.target_on.isoformat()}")
    if old.notes:
        lines.append(f"[{code}] {old.notes}")
    return lines


def _merge(sources: list[tuple[str, SelfAssessmentItem]], item: SelfAssessmentItem) -> None:
    """Several answers into one item: the weakest status (none if one is unanswered), the first
    owner and evidence file, the earliest target date, and in the notes every old item's answer
    labelled with its item, so no owner, file or remark of the others is lost."""
    item.status = weakest(old.status for _, old in sources)
    item.evidence = "\n".join(f"[{code}] {old.evidence}" for code, old in sources if old.evidence)
    item.notes = "\n".join(line for code, old in sources for line in _labelled(code, old))
    item.owner_id = next((old.owner_id for _, old in sources if old.owner_id), None)
    item.evidence_file_id = next(
        (old.evidence_file_id for _, old in sources if old.evidence_file_id), None
    )
    targets = [old.target_on for _, old in sources if old.target_on]
    item.target_on = min(targets) if targets else None


def carry(
    cycle: SelfAssessmentCycle, last: SelfAssessmentCycle, template, crosswalk, now: datetime
) -> None:
    """Fill `cycle` (on `template`) from `last` (another edition) through `crosswalk`: same and
    moved items carry their answer; a split item's answer goes to each part, merged ones become
    one (``_merge``), new items start blank, a dropped item's answer stays behind and the items
    nearest to it are flagged; the flagged items are to be confirmed (``review``). Where each of
    the last cycle's answers went is kept on the cycle (``carried``)."""
    old_template = template_of(last)
    if old_template is None:
        raise SelfAssessmentError(
            gettext(
                "The check sheet of %(name)s (%(template)s) is no longer in the catalog.",
                name=last.name,
                template=f"{last.template_id}@{last.template_version}",
            )
        )
    # owners and files with the items: merged and dropped answers name them in the notes
    before = items_by_question(get_full(last.id))
    old_question = {q.mapping.item: q.id for q in old_template.questions if q.mapping.item}
    new_question = {q.mapping.item: q.id for q in template.questions if q.mapping.item}
    sources: dict[str, list[tuple[str, SelfAssessmentItem]]] = {}
    reasons: dict[str, set[str]] = {}
    left: dict[str, list[str]] = {}  # a dropped item's answer, kept in its nearest items' notes
    report = []
    for row in crosswalk.rows:
        for code in row.source:
            old = before.get(old_question[code])
            report.append(
                {
                    "item": code,
                    "question_id": old_question[code],
                    "status": old.status.value if old and old.status else None,
                    "relation": row.relation,
                    "to": list(row.target),
                    "nearest": list(row.nearest),
                }
            )
            for target in row.target:
                if old is not None:
                    sources.setdefault(new_question[target], []).append((code, old))
                if row.relation in ("split", "merged"):
                    reasons.setdefault(new_question[target], set()).add(row.relation)
            if row.relation == "dropped":
                for target in row.nearest:
                    reasons.setdefault(new_question[target], set()).add("dropped")
                    if old is not None and (lines := _labelled(code, old)):
                        left.setdefault(new_question[target], []).extend(lines)
        if row.relation == "new":
            for target in row.target:
                reasons.setdefault(new_question[target], set()).add("new")
    for question in template.questions:
        item = SelfAssessmentItem(question_id=question.id, updated_at=now)
        found = sources.get(question.id, [])
        if len(found) == 1:
            _copy(found[0][1], item, review=False)
        elif found:
            _merge(found, item)
            reasons.setdefault(question.id, set()).add("merged")
        if question.id in left:
            lines = [item.notes, DROPPED_HEADING, *left[question.id]]
            item.notes = "\n".join(line for line in lines if line)
        why = reasons.get(question.id, set())
        item.review = next((r for r in REVIEW_REASONS if r in why), None)
        cycle.items.append(item)
    cycle.carried = {
        "from": f"{last.template_id}@{last.template_version}",
        "from_cycle": last.name,
        "crosswalk": crosswalk.id,
        "rows": report,
    }


def to_review(cycle: SelfAssessmentCycle) -> list[SelfAssessmentItem]:
    """The items still to be confirmed after a move to another edition (要確認)."""
    return [i for i in cycle.items if i.review]


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
    if not changed and item.evidence_file is old_file and item.review is None:
        return False
    item.review = None  # saved by a person: confirmed
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
    #: The A-1 principle items' score (Ver 3.0), outside the overall; None without them.
    principles: float | None = None
    #: Scored on another edition's items through the crosswalk (the cycle followed an older one).
    through: bool = False


def _directive_of(template) -> dict[str, int]:
    if template is None:
        return {}
    return {q.id: q.mapping.directive for q in template.questions if q.mapping.directive}


def statuses_in(template, cycle: SelfAssessmentCycle, statuses: Mapping[str, Any]) -> dict:
    """A cycle's statuses by question id of `template`: as they are on the cycle's own template,
    through the crosswalk on another edition's (each item takes its Ver 2.0 item's status, the
    weakest of several, none if one of them is unanswered; new items none); empty when no
    crosswalk leads there."""
    if cycle.template_id == template.id:
        return dict(statuses)
    crosswalk = crosswalk_to(cycle.template_id, template.id)
    own = template_of(cycle)
    if crosswalk is None or own is None:
        return {}
    old_question = {q.mapping.item: q.id for q in own.questions if q.mapping.item}
    new_question = {q.mapping.item: q.id for q in template.questions if q.mapping.item}
    collected: dict[str, list[Any]] = {}
    for row in crosswalk.rows:
        for code in row.source:
            for target in row.target:
                collected.setdefault(new_question[target], []).append(
                    statuses.get(old_question[code])
                )
    return {q: weakest(found) for q, found in collected.items()}


def scores_of(cycle: SelfAssessmentCycle, statuses: Mapping[str, Any], template=None) -> CycleScore:
    """A cycle's scores from its statuses by question id: on its own template, or on `template`
    of a later edition through the crosswalk (``statuses_in``)."""
    own = template_of(cycle)
    on = template or own
    through = on is not None and own is not None and on.id != own.id
    if through:
        statuses = statuses_in(on, cycle, statuses)
    directive = _directive_of(on)
    rows = [(directive[q], s) for q, s in statuses.items() if q in directive]
    principle = {q.id for q in on.questions if q.mapping.principle} if on else set()
    principles = overall_score(s for q, s in statuses.items() if q in principle)
    return CycleScore(
        cycle, overall_score(s for _, s in rows), directive_scores(rows), principles, through
    )


def history(template=None) -> list[CycleScore]:
    """Every cycle, oldest first, with its scores (on `template` through the crosswalk for the
    cycles of an earlier edition, when given): two queries whatever the number of cycles."""
    found = cycles()
    statuses: dict[int, dict[str, Any]] = {c.id: {} for c in found}
    rows = db.session.execute(
        sa.select(
            SelfAssessmentItem.cycle_id, SelfAssessmentItem.question_id, SelfAssessmentItem.status
        )
    )
    for cycle_id, question_id, status in rows:
        statuses.setdefault(cycle_id, {})[question_id] = status
    return [scores_of(c, statuses[c.id], template) for c in found]


def edition_break(cycle: SelfAssessmentCycle, previous: SelfAssessmentCycle | None) -> bool:
    """Whether `cycle` follows another edition of the guideline than the one before it."""
    if previous is None or previous.template_id == cycle.template_id:
        return False
    mine, theirs = template_of(cycle), template_of(previous)
    return mine is None or theirs is None or mine.edition != theirs.edition


@dataclass(frozen=True)
class DirectionChange:
    """How a direction differs between two editions: its number of items and its title."""

    directive: int
    old_items: int
    new_items: int
    title_changed: bool


def edition_changes(old, new) -> list[DirectionChange]:
    """The directions whose items or title differ between two templates' editions, as the
    edition break is explained (Ver 2.0 -> 3.0: D4 5 -> 3, D5 6 -> 10, D9 reworded...). Titles
    are compared in Japanese, the guideline's own language (the English of Ver 2.0 is ours)."""
    old_titles, new_titles = directive_titles(old), directive_titles(new)
    changes = []
    for n in sorted(set(old.guideline.items) | set(new.guideline.items)):
        before, after = old.guideline.items.get(n, 0), new.guideline.items.get(n, 0)
        old_title, new_title = old_titles.get(n), new_titles.get(n)
        renamed = bool(old_title and new_title) and _bare(old_title.ja) != _bare(new_title.ja)
        if before != after or renamed:
            changes.append(DirectionChange(n, before, after, renamed))
    return changes


def _bare(title: str) -> str:
    """A Japanese direction title without its 指示9 prefix and spaces, for comparing wordings."""
    return re.sub(r"^指示\s*\d+|\s", "", title)


@dataclass(frozen=True)
class ItemChange:
    question: Any
    old: ItemStatus | None
    new: ItemStatus | None
    change: str


def previous_statuses(
    cycle: SelfAssessmentCycle, previous: SelfAssessmentCycle | None
) -> dict[str, Any]:
    """The previous cycle's statuses by this cycle's question ids (through the crosswalk across
    an edition break)."""
    if previous is None:
        return {}
    own = {i.question_id: i.status for i in previous.items}
    return statuses_in(template_of(cycle), previous, own)


def compare(cycle: SelfAssessmentCycle, previous: SelfAssessmentCycle | None) -> list[ItemChange]:
    """This cycle against the previous one, item by item, in template order (across an edition
    break, each item against what its Ver 2.0 item(s) stood at, through the crosswalk)."""
    before, now_ = previous_statuses(cycle, previous), items_by_question(cycle)
    changes = []
    for question in template_of(cycle).questions:
        old = _status(before.get(question.id))
        new = now_[question.id].status if question.id in now_ else None
        changes.append(ItemChange(question, old, new, change_of(old, new)))
    return changes


EXPORT_COLUMNS = (
    "cycle", "edition", "principle", "directive", "item", "question_id", "question_ja",
    "question_ja_provenance", "question_en", "question_en_provenance", "status", "review",
    "owner", "target_on",
    "evidence", "notes", "previous_status",
)  # fmt: skip
#: How the export names a text that is not the guideline's own wording (else "official").
WORKING_TRANSLATION = "仮訳"


def _provenance(text, lang: str) -> str:
    return WORKING_TRANSLATION if text.is_working_translation(lang) else "official"


def export_frame(cycle_id: int | None = None) -> pd.DataFrame:
    """One row per check item of a cycle (the latest by default), with the previous status."""
    cycle = get_full(cycle_id) if cycle_id is not None else latest_cycle()
    if cycle is None:
        return pd.DataFrame(columns=list(EXPORT_COLUMNS))
    before = previous_statuses(cycle, previous_of(cycle))
    items = items_by_question(cycle)
    template = template_of(cycle)
    rows = []
    for question in template.questions:
        item, old = items.get(question.id), _status(before.get(question.id))
        rows.append(
            {
                "cycle": cycle.name,
                "edition": template.guideline.label,
                "principle": question.mapping.principle,
                "directive": question.mapping.directive,
                "item": question.mapping.item or "",
                "question_id": question.id,
                "question_ja": question.text.ja,
                "question_ja_provenance": _provenance(question.text, "ja"),
                "question_en": question.text.en,
                "question_en_provenance": _provenance(question.text, "en"),
                "status": item.status.value if item and item.status else "",
                "review": item.review or "" if item else "",
                "owner": item.owner.label if item and item.owner else "",
                "target_on": item.target_on if item else None,
                "evidence": item.evidence if item else "",
                "notes": item.notes if item else "",
                "previous_status": old.value if old else "",
            }
        )
    df = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
    for column in ("principle", "directive"):
        df[column] = df[column].astype("Int64")
    return df


# -- names ---------------------------------------------------------------------------------


def cycle_name(as_of: date) -> str:
    """The Japanese fiscal half of a day: 2026年度 上期 (April-September) or 下期."""
    year = as_of.year if as_of.month >= 4 else as_of.year - 1
    return f"{year}年度 {'上期' if 4 <= as_of.month <= 9 else '下期'}"
