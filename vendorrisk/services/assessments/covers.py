"""Covers (issue 17): a certificate or check sheet a supplier already holds — an ISMS certificate
whose scope covers the service, an SCS ★ evaluation result, a 自工会/部工会 check sheet — given as
the answer to the questions of its kind (a question's `covered_by`), then reviewed.

A cover answers only what the supplier has not answered: a question left blank, still carried
over from the last assessment, or answered by an earlier cover. An answer the supplier typed is
never overwritten; answering a covered question by hand takes it from the cover (portal.py). A
rejected cover's answers are cleared, to be answered by hand once the assessment is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext

from vendorrisk.catalog import Question, Template
from vendorrisk.catalog.scs import COVER_KINDS
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import (
    OPEN_STATUSES,
    Answer,
    Assessment,
    AssessmentStatus,
    Contact,
    Cover,
    CoverStatus,
    StoredFile,
    User,
)
from vendorrisk.scoring.answers import is_visible
from vendorrisk.services import audit
from vendorrisk.services.assessments.portal import claim, insert_first, is_editable

#: The states in which a reviewer may accept or reject a cover: before the review is completed.
REVIEWABLE = OPEN_STATUSES | {AssessmentStatus.submitted}
#: Once returned, an answer a rejected cover cleared is open to the supplier again.
RETURNABLE = {AssessmentStatus.submitted, AssessmentStatus.returned}


class CoverError(ServiceError):
    """A cover refused; the message is translated."""


@dataclass(frozen=True)
class Attached:
    cover: Cover
    #: How many questions it answered.
    covered: int


def kinds_of(template: Template) -> list[str]:
    """The kinds of cover some question of `template` takes, in COVER_KINDS order."""
    used = {kind for question in template.questions for kind in question.covered_by}
    return [kind for kind in COVER_KINDS if kind in used]


def best_value(question: Question) -> str | None:
    """The answer a cover gives: the value that scores highest (yes, the best choice); None for
    a number with bands, whose figure only the supplier can give."""
    kind = question.kind
    if not kind.scored:
        return None
    scored = [(kind.score(question, v), v) for v in kind.values(question)]
    counted = [(score, value) for score, value in scored if score is not None]
    return max(counted, key=lambda pair: pair[0])[1] if counted else None


def _open_to_cover(assessment: Assessment, answer: Answer | None) -> bool:
    """Not answered by the supplier (blank, carried over, or an earlier cover's still waiting
    for review), and changeable. An answer a reviewer accepted stays with its cover: a later
    one rejected must not clear it."""
    if not is_editable(assessment, answer):
        return False
    if answer is not None and answer.cover_id is not None:
        return answer.cover is not None and answer.cover.is_pending
    if answer is None or answer.carried_over:
        return True
    return answer.value in (None, "", [])


def coverable(assessment: Assessment, template: Template, kind: str) -> list[Question]:
    """The visible scored questions `kind` answers that the supplier has not answered."""
    answers = {a.question_id: a for a in assessment.answers}
    values = {qid: a.value for qid, a in answers.items()}
    return [
        q
        for q in template.questions
        if kind in q.covered_by
        and q.scored
        and best_value(q) is not None
        and is_visible(template, q, values)
        and _open_to_cover(assessment, answers.get(q.id))
    ]


def _give(
    assessment: Assessment, question: Question, answer: Answer | None, cover: Cover, now: datetime
) -> bool:
    """Answer one question (its answer as it was read) by the cover; False when the supplier
    answered it meanwhile."""
    value, contact_id = best_value(question), cover.contact_id
    if answer is None:
        qid = question.id
        answer, created = insert_first(assessment, qid, value, "", contact_id, now, cover.id)
        if created:
            return True
    for _ in range(5):  # a claim lost to a save reloads theirs: decide again on it
        if not _open_to_cover(assessment, answer):
            return False
        if claim(answer):
            break
    else:
        return False
    answer.value, answer.carried_over, answer.cover_id = value, False, cover.id
    answer.contact_id, answer.updated_at = contact_id, now
    return True


def attach(
    assessment: Assessment,
    template: Template,
    kind: str,
    stored_file: StoredFile | None,
    scope: str,
    contact: Contact | None,
    now: datetime,
) -> Attached:
    """Give a certificate or check sheet as the answer to the questions of its kind that the
    supplier has not answered; it waits for a reviewer."""
    if not assessment.is_open:
        raise CoverError(gettext("The answers have been submitted and can no longer be changed."))
    if kind not in kinds_of(template):
        raise CoverError(
            gettext(
                "This questionnaire has no question that this certificate or check sheet answers."
            )
        )
    if stored_file is None:
        raise CoverError(gettext("Choose the file to upload."))
    if not scope.strip():
        raise CoverError(gettext("State the scope and the period of validity."))
    questions = coverable(assessment, template, kind)
    existing = {a.question_id: a for a in assessment.answers}  # read once: inserts expire it
    if not questions:
        raise CoverError(
            gettext(
                "Every question this certificate or check sheet answers has already been "
                "answered, so it was not attached."
            )
        )
    cover = Cover(
        assessment=assessment,
        kind=kind,
        file=stored_file,
        scope=scope.strip()[:2000],
        contact_id=contact.id if contact is not None else None,
        created_at=now,
    )
    db.session.add(cover)
    db.session.flush()
    covered = sum(_give(assessment, q, existing.get(q.id), cover, now) for q in questions)
    if covered and assessment.status == AssessmentStatus.sent:
        assessment.status = AssessmentStatus.in_progress
    db.session.flush()
    audit.record("cover_attached", cover, summary=f"{kind}: {covered}")
    return Attached(cover, covered)


def answer_by_hand(assessment: Assessment, question_id: str, contact_id: int | None, now) -> None:
    """Take a question back from the cover that answered it: it is blank, for the supplier."""
    answer = next((a for a in assessment.answers if a.question_id == question_id), None)
    if answer is None or answer.cover_id is None:
        return
    if not is_editable(assessment, answer):
        raise CoverError(gettext("This answer was not returned for changes and cannot be changed."))
    while answer.cover_id is not None and not claim(answer):
        pass  # lost to a save just committed: theirs may have taken it from the cover already
    if answer.cover_id is None:
        return
    answer.value, answer.cover_id = None, None
    answer.contact_id, answer.updated_at = contact_id, now
    db.session.flush()


def questions_of(cover: Cover) -> list[str]:
    """The ids of the questions the cover answers now, in the order they were answered."""
    return [a.question_id for a in cover.assessment.answers if a.cover_id == cover.id]


def review(cover: Cover, accept: bool, reason: str, user: User, now: datetime) -> int:
    """Accept a cover (its answers stand) or reject it with a reason (its answers are cleared and
    open again for the supplier); the number of answers cleared."""
    assessment = cover.assessment
    if not cover.is_pending:
        raise CoverError(gettext("This certificate or check sheet has already been reviewed."))
    if assessment.status not in REVIEWABLE:
        raise CoverError(gettext("This assessment is no longer open."))
    reason = reason.strip()
    if not accept and not reason:
        raise CoverError(gettext("Give the reason for rejecting it."))
    status = CoverStatus.accepted if accept else CoverStatus.rejected
    reviewer_id = user.id  # read first: the status and the review time change in one flush
    cover.status, cover.reviewed_by_id, cover.reviewed_at = status, reviewer_id, now
    cover.reason = reason[:10000]
    cleared = 0 if accept else _clear(cover, now)
    audit.record(f"cover_{cover.status.value}", cover, summary=reason[:300])
    db.session.flush()
    return cleared


def _clear(cover: Cover, now: datetime) -> int:
    """Blank the cover's answers; once returned for changes, the supplier answers them."""
    assessment, cleared = cover.assessment, 0
    for answer in [a for a in assessment.answers if a.cover_id == cover.id]:
        while answer.cover_id == cover.id and not claim(answer):
            pass  # lost to a save just committed: it may be a hand answer now, left alone
        if answer.cover_id != cover.id:
            continue
        answer.value, answer.cover_id, answer.updated_at = None, None, now
        answer.reopened = answer.reopened or assessment.status in RETURNABLE
        cleared += 1
    return cleared
