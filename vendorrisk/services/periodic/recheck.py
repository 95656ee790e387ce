"""The recheck job: each supplier whose re-check date has come gets its tier's questionnaire.

The re-checks of a day are sent together, as `lifecycle.create_assessment` sends one: each
assessment carries over the answers of the supplier's last completed one on the same
questionnaire (or, through a crosswalk, on an earlier edition's), and each contact gets a link
and the request. The candidates, their contacts and owners, the assessments to carry from,
the new assessments, answers and links are each read or written in one statement for all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import selectinload

from vendorrisk import clock
from vendorrisk.catalog import Template, catalog
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages, outbox, questionnaire
from vendorrisk.models import (
    OPEN_STATUSES,
    Answer,
    Assessment,
    AssessmentStatus,
    Role,
    Supplier,
    SupplierStatus,
    answer_files,
)
from vendorrisk.models.base import utcnow
from vendorrisk.services import audit
from vendorrisk.services.assessments.lifecycle import _carry_across, _carry_over, earlier_editions
from vendorrisk.services.periodic.links import LinkBatch
from vendorrisk.services.periodic.planning import (
    Planned,
    carry_out,
    deliverable,
    latest_by,
    local_day,
    local_today,
)
from vendorrisk.services.periodic.rows import (
    AssessmentRow,
    ContactRow,
    SupplierRow,
    contacts_of,
    supplier_columns,
    take_supplier,
    users_with_role,
    with_owner,
)
from vendorrisk.services.review.tiers import tier_rules

#: Statuses in which a supplier already has a questionnaire on the go: no re-check is sent.
BUSY_STATUSES = (*OPEN_STATUSES, AssessmentStatus.draft, AssessmentStatus.submitted)
#: Days a re-check questionnaire gives the supplier to answer.
RECHECK_DUE_DAYS = 30


@dataclass
class Recheck:
    """One re-check to send: the supplier, its questionnaire and the contacts asked."""

    supplier: SupplierRow
    template: Template
    contacts: list[ContactRow]
    assessment: AssessmentRow | None = None
    #: The carried answers (transient Answer objects), and the assessment they came from.
    answers: list[Answer] = field(default_factory=list)
    carried_from: int | None = None


def _due_condition(today: date) -> sa.ColumnElement[bool]:
    busy = sa.exists().where(
        Assessment.supplier_id == Supplier.id, Assessment.status.in_(BUSY_STATUSES)
    )
    return sa.and_(
        Supplier.status == SupplierStatus.active,
        Supplier.next_review_on <= today,
        Supplier.tier.is_not(None),
        ~busy,
    )


def _due_for_recheck(today: date) -> list[tuple[SupplierRow, str]]:
    """The suppliers due, each with its owner and tier (one query)."""
    query = with_owner(
        sa.select(*supplier_columns(), Supplier.tier)
        .where(_due_condition(today))
        .order_by(Supplier.id)
    )
    suppliers: dict = {}
    return [(take_supplier(row, suppliers), row.tier) for row in db.session.execute(query)]


def recheck(now: datetime) -> JobResult:
    """Send each supplier whose re-check date has come its tier's questionnaire, once."""
    today, result = local_today(now), JobResult()
    due = _due_for_recheck(today)
    if not due:
        return result
    due_ids = sa.select(Supplier.id).where(_due_condition(today))
    last_sent = latest_by(Assessment.supplier_id, Assessment.sent_at, [s.id for s, _ in due])
    contacts_of_supplier = contacts_of(due_ids)
    rules = tier_rules()
    to_send: list[Recheck] = []
    no_contact: list[Planned] = []
    procurement: list | None = None
    for supplier, tier in due:
        if local_day(last_sent.get(supplier.id)) >= supplier.next_review_on:
            continue  # this date's re-check went out (and was cancelled or expired): people decide
        template = catalog().get(rules.template_by_tier.get(tier, ""))
        contacts = deliverable(contacts_of_supplier.get(supplier.id, []))
        if template is None:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no template for its tier")
        elif not contacts:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no contact to send to")
            if supplier.owner is None or not supplier.owner.active:
                procurement = (
                    users_with_role(Role.procurement) if procurement is None else procurement
                )
            no_contact += _no_contact_mails(supplier, procurement or [])
        else:
            to_send.append(Recheck(supplier, template, contacts))
    _send_rechecks(to_send, today, now, result)
    carry_out(no_contact, JobResult())
    return result


def _send_rechecks(rechecks: list[Recheck], today: date, now: datetime, result: JobResult):
    """Create the assessments with their carried answers, issue the links, queue the
    requests; as `lifecycle.create_assessment` does one by one."""
    due_on = today + timedelta(days=RECHECK_DUE_DAYS)
    if rechecks and due_on <= clock.today():
        message = gettext("The due date must be in the future.")
        for item in rechecks:
            result.skip(f"{item.supplier.display_name} (#{item.supplier.id}): {message}")
        return
    if not rechecks:
        return
    _carry_answers(rechecks)
    _insert_assessments(rechecks, due_on, now)
    _insert_answers(rechecks)
    links = LinkBatch(now)
    letters = [
        (links.invitation(item.assessment, contact, contact.locale, due_on), item.template)
        for item in rechecks
        for contact in item.contacts
    ]
    links.write()
    with outbox.batched():
        for (invitation, link), template in letters:
            questionnaire.invitation(invitation, link, template)
    result.done += len(rechecks)


# The answers carried over


def _latest_completed(supplier_ids: list[int], template_ids: set[str]) -> dict:
    """The latest completed assessment of each (supplier, template) among these, as (id,
    template version), in the order `previous_completed` reads them (one query)."""
    query = (
        sa.select(
            Assessment.id,
            Assessment.supplier_id,
            Assessment.template_id,
            Assessment.template_version,
        )
        .where(
            Assessment.supplier_id.in_(supplier_ids),
            Assessment.template_id.in_(sorted(template_ids)),
            Assessment.status == AssessmentStatus.completed,
        )
        .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
    )
    latest: dict[tuple[int, str], tuple[int, int]] = {}
    for row in db.session.execute(query):
        latest.setdefault((row.supplier_id, row.template_id), (row.id, row.template_version))
    return latest


def _carry_answers(rechecks: list[Recheck]) -> None:
    """Find what each re-check carries from (its questionnaire's last completed assessment,
    else an earlier edition's through a crosswalk) and build the carried answers."""
    same = _latest_completed([r.supplier.id for r in rechecks], {r.template.id for r in rechecks})
    sources: dict[int, tuple[int, Any]] = {}  # supplier id -> (assessment id, crosswalk)
    waiting: dict[str, list[Recheck]] = defaultdict(list)
    for item in rechecks:
        found = same.get((item.supplier.id, item.template.id))
        if found is not None:
            sources[item.supplier.id] = (found[0], None)
        else:
            waiting[item.template.id].append(item)
    for items in waiting.values():
        for crosswalk, earlier in earlier_editions(items[0].template):
            open_items = [i for i in items if i.supplier.id not in sources]
            if not open_items or not earlier:
                continue
            latest = _latest_completed([i.supplier.id for i in open_items], set(earlier))
            newest: dict[int, tuple[str, int, int]] = {}  # the first the query met: the latest
            for (supplier_id, template_id), (found_id, version) in latest.items():
                newest.setdefault(supplier_id, (template_id, found_id, version))
            for supplier_id, (template_id, found_id, version) in newest.items():
                if catalog().get(template_id, version) is not None:  # else the next crosswalk
                    sources[supplier_id] = (found_id, crosswalk)
    if not sources:
        return
    previous = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Assessment)
            .where(Assessment.id.in_([i for i, _ in sources.values()]))
            .options(selectinload(Assessment.answers).selectinload(Answer.files))
        )
    }
    for item in rechecks:
        if item.supplier.id in sources:
            source_id, crosswalk = sources[item.supplier.id]
            _carry(item, previous[source_id], crosswalk)


def _carry(item: Recheck, previous: Assessment, crosswalk: Any) -> None:
    """The answers `lifecycle` carries into a new assessment (built on a stand-in, which is
    never added to the session: the answers are written with the others)."""
    stand_in = Assessment()
    if crosswalk is None:
        _carry_over(stand_in, previous, item.template)
    else:
        old = catalog().get(previous.template_id, previous.template_version)
        _carry_across(stand_in, previous, old, item.template, crosswalk)
    item.answers = list(stand_in.answers)
    item.carried_from = stand_in.carried_over_from_id


# Writing them


def _insert_assessments(rechecks: list[Recheck], due_on: date, now: datetime) -> None:
    """One INSERT for the new assessments, with their audit events."""
    created = utcnow()
    rows = [
        {
            "supplier_id": item.supplier.id,
            "template_id": item.template.id,
            "template_version": item.template.version,
            "status": AssessmentStatus.sent,
            "due_on": due_on,
            "message": "",
            "campaign_id": None,
            "carried_over_from_id": item.carried_from,
            "created_by_id": None,
            "sent_at": now,
            "submitted_at": None,
            "completed_at": None,
            "cancelled_at": None,
            "returned_at": None,
            "reviewer_id": None,
            "decision": None,
            "review_note": "",
            "score": None,
            "score_detail": None,
            "created_at": created,
            "updated_at": created,
        }
        for item in rechecks
    ]
    table = Assessment.__table__
    query = sa.insert(table).returning(table.c.id, table.c.supplier_id)
    ids = {supplier_id: id_ for id_, supplier_id in db.session.connection().execute(query, rows)}
    for row, item in zip(rows, rechecks, strict=True):
        row["id"] = ids[item.supplier.id]  # one new assessment per supplier
        item.assessment = AssessmentRow.take(_Mapping(row), supplier=item.supplier)
    audit.write_events(audit.created_events(Assessment, rows))


def _insert_answers(rechecks: list[Recheck]) -> None:
    """One INSERT for the carried answers, one for their files, with their audit events."""
    rows, files = [], {}
    for item in rechecks:
        for answer in item.answers:
            key = (item.assessment.id, answer.question_id)
            files[key] = [f.id for f in answer.files]
            rows.append(
                {
                    "assessment_id": item.assessment.id,
                    "question_id": answer.question_id,
                    "value": answer.value,
                    "comment": answer.comment or "",
                    "carried_over": True,
                    "version": 1,
                    "contact_id": None,
                    "updated_at": utcnow(),
                    "reopened": False,
                    "cover_id": None,
                }
            )
    if not rows:
        return
    table = Answer.__table__
    query = sa.insert(table).returning(table.c.id, table.c.assessment_id, table.c.question_id)
    ids = {(a, q): i for i, a, q in db.session.connection().execute(query, rows)}
    for row in rows:
        row["id"] = ids[(row["assessment_id"], row["question_id"])]  # unique per assessment
    links = [
        {"answer_id": ids[key], "stored_file_id": file_id}
        for key, file_ids in files.items()
        for file_id in file_ids
    ]
    if links:
        db.session.connection().execute(sa.insert(answer_files), links)
    audit.write_events(audit.created_events(Answer, rows))


class _Mapping:
    """A dict read as a selected row (`AssessmentRow.take` reads `row._mapping`)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values


def _no_contact_mails(supplier: SupplierRow, procurement: list) -> list[Planned]:
    """The owner (else procurement) is told once per re-check date that nobody can be asked."""
    owner = supplier.owner
    users = [owner] if owner is not None and owner.active else procurement
    return [
        Planned(
            messages.recheck_no_contact_key(supplier, user),
            lambda user=user: messages.recheck_no_contact(supplier, user),
        )
        for user in users
    ]
