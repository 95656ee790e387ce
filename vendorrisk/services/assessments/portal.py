"""The supplier portal: links exchanged for sittings, answers saved without silent overwrites."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from vendorrisk.catalog import Question, Template
from vendorrisk.catalog.types import AnswerError
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.mail import messages, questionnaire
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Invitation,
    PortalSitting,
    StoredFile,
    WebhookEvent,
)
from vendorrisk.scoring.answers import missing_for_submit
from vendorrisk.services import audit, files, webhooks
from vendorrisk.services.assessments.lifecycle import invite, states_of
from vendorrisk.services.register import proposals
from vendorrisk.services.webhooks import payloads


class PortalError(ServiceError):
    """A request of the portal refused, with a message for the contact."""


#: Why a link no longer works, in the order they are checked.
CLOSED_REASONS = {
    AssessmentStatus.submitted: "submitted",
    AssessmentStatus.completed: "submitted",
    AssessmentStatus.cancelled: "cancelled",
    AssessmentStatus.expired: "expired",
}


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(Invitation.with_token(token))


def closed_reason(invitation: Invitation, now: datetime) -> str | None:
    """None while the link may open the portal, else why not.

    After submission the link still opens while a reviewer's question awaits an answer, and
    after completion while a finding awaits the supplier's plan.
    """
    assessment = invitation.assessment
    reason = CLOSED_REASONS.get(assessment.status)
    if reason and not _still_needed(assessment):
        return reason
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return None


def _still_needed(assessment: Assessment) -> bool:
    from vendorrisk.services.review import clarifications, findings

    if assessment.status == AssessmentStatus.submitted:
        return bool(clarifications.awaiting_supplier(assessment))
    if assessment.status == AssessmentStatus.completed:
        return bool(findings.open_findings_for_portal(assessment))
    return False


@dataclass(frozen=True)
class Lifetime:
    """How long a sitting lives: idle at most `idle`, and `absolute` in all."""

    idle: timedelta
    absolute: timedelta


#: A sitting's last request is recorded at most this often (one small write a minute).
TOUCH_EVERY = timedelta(minutes=1)


def open_sitting(invitation: Invitation, ip: str | None, now: datetime) -> str:
    """Exchange a link for a sitting; the returned token goes in the session cookie only."""
    sitting = PortalSitting(invitation=invitation, created_at=now, last_seen_at=now, ip=ip)
    token = sitting.issue_token()
    db.session.add(sitting)
    invitation.first_used_at = invitation.first_used_at or now
    invitation.last_used_at = now
    invitation.use_count += 1
    if invitation.assessment.status == AssessmentStatus.sent:
        invitation.assessment.status = AssessmentStatus.in_progress
    audit.record("portal_opened", invitation, summary=invitation.email)
    return token


def find_sitting(sitting_token: str) -> PortalSitting | None:
    if not sitting_token or len(sitting_token) > 200:
        return None
    # Every portal request reads the sitting's invitation and its assessment: one query, not
    # three.
    return db.session.scalar(
        PortalSitting.with_token(sitting_token).options(
            joinedload(PortalSitting.invitation).joinedload(Invitation.assessment)
        )
    )


def touch(sitting: PortalSitting, now: datetime) -> None:
    """Record that the sitting is in use (its idle time restarts), at most once a minute.

    The row is updated at once, so that every request of a sitting that writes it locks it
    before anything else (no two requests wait on each other); the attribute stays changed for
    the unit of work to commit with the request.
    """
    if now - sitting.last_seen_at < TOUCH_EVERY:
        return
    table = PortalSitting.__table__
    db.session.execute(sa.update(table).where(table.c.id == sitting.id).values(last_seen_at=now))
    sitting.last_seen_at = now


def finish(sitting: PortalSitting, now: datetime) -> None:
    """End a sitting at the contact's request: its cookie opens nothing from now on."""
    sitting.ended_at = now
    audit.record("portal_finished", sitting.invitation, summary=sitting.invitation.email)


def may_open(invitation: Invitation, bound_ids: list[int], now: datetime, life: Lifetime) -> bool:
    """Whether this browser may exchange the link for a sitting.

    A link never exchanged opens anywhere (that first exchange binds the browser). After that,
    a logged copy of the link must not open the answers for whoever reads the log: it opens
    again only in a browser bound to this contact's link of this assessment (`bound_ids`, from
    its device cookie), or while one of the link's sittings is live (the contact at work in
    another tab or browser). Anyone else is offered a fresh link mailed to the contact.
    """
    if invitation.first_used_at is None or _bound(invitation, bound_ids):
        return True
    live = sa.select(PortalSitting.id).where(
        PortalSitting.invitation_id == invitation.id,
        PortalSitting.is_live(now, life.idle, life.absolute),
    )
    return db.session.scalar(live.limit(1)) is not None


def _bound(invitation: Invitation, bound_ids: list[int]) -> bool:
    """The browser opened this contact's link to this assessment before (this link or one it
    replaced: a fresh link does not unbind the browsers already answering)."""
    if invitation.id in bound_ids:
        return True
    if not bound_ids:
        return False
    earlier = sa.select(Invitation.id).where(
        Invitation.id.in_(bound_ids[:50]),
        Invitation.assessment_id == invitation.assessment_id,
        sa.func.lower(Invitation.email) == invitation.email.lower(),
    )
    return db.session.scalar(earlier.limit(1)) is not None


def send_fresh_link(invitation: Invitation, template: Template, now: datetime) -> Invitation:
    """Replace the link by a new one mailed to the contact; the old link and its sittings end."""
    if invitation.contact is None:
        raise PortalError(_l("This link can no longer be renewed. Please contact the requester."))
    invitation.revoked_at = now
    audit.record("portal_link_renewed", invitation, summary=invitation.email)
    return invite(
        invitation.assessment, template, invitation.contact, invitation.locale, now, "resend"
    )


def masked(email: str) -> str:
    """An address as a stranger may see it: enough for its owner to recognise."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@dataclass
class Posted:
    """One question as the supplier sent it."""

    value: Any
    comment: str
    #: The version the page was rendered with (0: no answer existed).
    version: int


@dataclass
class Conflict:
    question: Question
    theirs: Answer


@dataclass
class SaveResult:
    saved: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: The version each saved or unchanged answer has as this save left it (later saves by
    #: others may follow before the reply is read: the page must not take theirs for its own).
    versions: dict[str, int] = field(default_factory=dict)


def _same(answer: Answer, value: Any, comment: str) -> bool:
    return answer.value == value and (answer.comment or "") == comment


def claim(answer: Answer) -> bool:
    """UPDATE … SET version = version + 1 WHERE version = the one loaded: True when it was still
    current. The row is then this transaction's until it commits (PostgreSQL locks it, SQLite the
    database), so the ORM's change that follows, audited as ever, cannot lose another's."""
    table = Answer.__table__
    claimed = db.session.execute(
        sa.update(table)
        .where(table.c.id == answer.id, table.c.version == answer.version)
        .values(version=table.c.version + 1)
    )
    if claimed.rowcount != 1:
        db.session.refresh(answer)  # theirs, as committed
        return False
    answer.version += 1  # what the row holds now: the audit shows [old, new] as it always did
    return True


def insert_first(
    assessment: Assessment,
    qid: str,
    value: Any,
    comment: str,
    contact_id: int | None,
    now,
    cover_id: int | None = None,
) -> tuple[Answer, bool]:
    """INSERT … ON CONFLICT DO NOTHING of a question's first answer (given by the cover
    `cover_id`, if any): (the answer, True), or (the one another first save created meanwhile,
    False) — never a unique-constraint error."""
    db.session.flush()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new_id = db.session.execute(
        insert(Answer)
        .values(
            assessment_id=assessment.id,
            question_id=qid,
            value=value,
            comment=comment,
            carried_over=False,
            version=1,
            contact_id=contact_id,
            updated_at=now,
            reopened=False,
            cover_id=cover_id,
        )
        .on_conflict_do_nothing(index_elements=["assessment_id", "question_id"])
        .returning(Answer.id)
    ).scalar()
    db.session.expire(assessment, ["answers"])  # reloaded with the new row when next read
    if new_id is not None:
        answer = db.session.get(Answer, new_id)
        audit.record_created(answer)
        return answer, True
    theirs = db.session.scalar(
        sa.select(Answer).where(Answer.assessment_id == assessment.id, Answer.question_id == qid)
    )
    return theirs, False


def _write(answer: Answer, value: Any, comment: str, seen: int, contact_id, now) -> str:
    """Change an existing answer if `seen` is still its version: "saved", "kept" (it already
    says this) or "conflict" (someone else changed it: it stays as they saved it).

    A claim lost to another save reloads theirs and decides again: what they saved may be what
    this save says (kept), or a carried-over answer still to confirm.
    """
    for _ in range(5):
        same = _same(answer, value, comment)
        if same and not answer.carried_over:
            return "kept"
        if not same and answer.version != seen:
            return "conflict"
        if claim(answer):
            break
    else:
        return "conflict"
    if same:  # shown and kept: confirmed
        answer.carried_over = False
        answer.updated_at = now
    else:
        if answer.value != value:  # answered by hand: no longer the cover's answer
            answer.cover_id = None
        answer.value, answer.comment, answer.carried_over = value, comment, False
        answer.contact_id, answer.updated_at = contact_id, now
    return "saved"


def answers_of(
    assessment: Assessment,
    question_ids: Iterable[str],
    with_files: bool = True,
    none_filed: bool = False,
) -> dict[str, Answer]:
    """The stored answers of some questions (with their files, unless not needed), by question:
    a page or an autosave reads the few it shows or saves, not all of them.

    `none_filed`: the caller knows that none of them holds a file (from states_of, read in the
    same request), so their files are not asked for and read as none.
    """
    wanted = list(question_ids)
    if not wanted:
        return {}
    if "answers" not in sa.inspect(assessment).unloaded:
        return {a.question_id: a for a in assessment.answers if a.question_id in wanted}
    stmt = (
        sa.select(Answer)
        .where(Answer.assessment_id == assessment.id, Answer.question_id.in_(wanted))
        .order_by(Answer.id)
    )
    if none_filed or not with_files:
        stmt = stmt.options(lazyload(Answer.files))
    found = {a.question_id: a for a in db.session.scalars(stmt)}
    if none_filed:
        for answer in found.values():
            if "files" in sa.inspect(answer).unloaded:
                set_committed_value(answer, "files", [])
    return found


def save_answers(
    assessment: Assessment,
    template: Template,
    posted: dict[str, Posted],
    contact_id: int | None,
    now: datetime,
) -> SaveResult:
    """Save what changed; an answer changed by someone else since the page was shown is a
    conflict and is left as they saved it."""
    result = SaveResult()
    existing = answers_of(assessment, posted, with_files=False)
    for qid, item in posted.items():
        question = template.question(qid)
        try:
            value = question.kind.normalize(question, item.value)
        except AnswerError as exc:  # a format's or a table's rules say why; else one message
            result.errors[qid] = (
                str(exc)
                if question.format or question.bands or question.columns
                else str(_l("This answer is not valid for the question."))
            )
            continue
        comment = (item.comment or "").strip()[:5000]
        answer = existing.get(qid)
        if assessment.status == AssessmentStatus.returned and not (answer and answer.reopened):
            if answer is None and value is None and not comment:
                continue
            if answer is None or not _same(answer, value, comment):
                result.errors[qid] = str(
                    _l("This answer was not returned for changes and cannot be changed.")
                )
            continue
        if answer is None:
            if value is None and not comment:
                continue
            answer, created = insert_first(assessment, qid, value, comment, contact_id, now)
            outcome = "saved" if created else _write(answer, value, comment, 0, contact_id, now)
        else:
            outcome = _write(answer, value, comment, item.version, contact_id, now)
        if outcome == "conflict":
            result.conflicts.append(Conflict(question, answer))
            continue
        if outcome == "saved":
            result.saved.append(qid)
        result.versions[qid] = answer.version
    if result.saved and assessment.status == AssessmentStatus.sent:
        assessment.status = AssessmentStatus.in_progress
    db.session.flush()
    return result


def is_editable(assessment: Assessment, answer: Answer | None) -> bool:
    """Whether the supplier may change a question's answer now: while the assessment is open,
    and once it is returned for changes, only the answers returned."""
    if not assessment.is_open:
        return False
    return assessment.status != AssessmentStatus.returned or bool(answer and answer.reopened)


def attach_file(
    assessment: Assessment,
    question: Question,
    stored: StoredFile,
    contact_id: int | None,
    now: datetime,
) -> Answer:
    """Add an evidence file to a question's answer (creating the answer if needed)."""
    answer = next((a for a in assessment.answers if a.question_id == question.id), None)
    created = False
    if answer is None:
        answer, created = insert_first(assessment, question.id, None, "", contact_id, now)
    if not created:
        _bump(answer)
    answer.files.append(stored)
    answer.contact_id, answer.updated_at = contact_id, now
    db.session.flush()
    return answer


def _bump(answer: Answer) -> None:
    """Raise the version of an answer whose files change (adding or removing one conflicts with
    nobody), claimed like a save so that no two changes share a version."""
    while not claim(answer):  # lost to a change just committed: claim the version after it
        pass


def detach_file(assessment: Assessment, stored: StoredFile, now: datetime) -> None:
    for answer in assessment.answers:
        if stored in answer.files:
            _bump(answer)
            if stored in answer.files:  # still, as the row now stands
                answer.files.remove(stored)
            answer.updated_at = now
    files.discard(stored)  # unless a carried-over answer of an earlier assessment keeps it


def file_of(assessment: Assessment, file_id: int) -> StoredFile | None:
    """A file attached to this assessment's answers, and only then."""
    for answer in assessment.answers:
        for stored in answer.files:
            if stored.id == file_id:
                return stored
    return None


def missing(assessment: Assessment, template: Template):
    return missing_for_submit(template, states_of(assessment))


def submit(
    assessment: Assessment, template: Template, invitation: Invitation, now: datetime
) -> None:
    """Freeze the answers and tell the contact and the supplier's owner."""
    for answer in assessment.answers:
        answer.reopened = False
    assessment.status = AssessmentStatus.submitted
    assessment.submitted_at = now
    audit.record("submitted", assessment, summary=invitation.email)
    webhooks.emit(
        WebhookEvent.assessment_submitted,
        payloads.assessment(assessment, assessment.supplier),
        now,
    )
    proposals.propose_from_answers(assessment, now)  # stated attestations wait for review
    questionnaire.submitted(invitation, template)
    owner = assessment.supplier.owner
    if owner is not None:
        messages.submitted_to_owner(assessment, template, owner)
