"""Sending questionnaires: assessments, invitations (emailed links), resend, extend, cancel."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from sqlalchemy.orm import selectinload

from vendorrisk import clock
from vendorrisk.catalog import Template
from vendorrisk.catalog.types import AnswerError
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.mail import questionnaire
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    AuditEvent,
    Campaign,
    Contact,
    Invitation,
    Supplier,
    User,
)
from vendorrisk.models.assessment import answer_files
from vendorrisk.scoring.answers import AnswerState, Progress, progress
from vendorrisk.services import audit


class AssessmentError(ServiceError):
    """A request that the assessment's state does not allow; the message is translated."""


def portal_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/portal/{token}"


def invitation_expiry(due_on: date) -> datetime:
    """The end of the due day in the configured zone, plus the grace period, in UTC."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    end = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=zone)
    return end + timedelta(days=current_app.config["PORTAL_GRACE_DAYS"])


@dataclass(frozen=True)
class Recipient:
    contact: Contact
    locale: str


def previous_completed(supplier_id: int, template_id: str) -> Assessment | None:
    """The latest completed assessment of the same supplier and template."""
    return db.session.scalar(
        sa.select(Assessment)
        .where(
            Assessment.supplier_id == supplier_id,
            Assessment.template_id == template_id,
            Assessment.status == AssessmentStatus.completed,
        )
        .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
        .limit(1)
        .options(selectinload(Assessment.answers).selectinload(Answer.files))
    )


def earlier_editions(template: Template) -> list[tuple[Any, list[str]]]:
    """The crosswalks leading to `template`'s edition, each with the questionnaire ids of the
    edition it leads from, in the order they are tried."""
    from vendorrisk.catalog import catalog

    found = []
    for crosswalk in catalog().crosswalks:
        source, target = (catalog().get(k.split("@")[0]) for k in (
            crosswalk.source_template, crosswalk.target_template))  # fmt: skip
        if source is None or target is None or target.edition != template.edition:
            continue
        earlier = [
            t.id
            for t in catalog().current()
            if t.audience == template.audience and t.edition == source.edition
        ]
        found.append((crosswalk, earlier))
    return found


def previous_in_earlier_edition(supplier_id: int, template: Template):
    """The supplier's latest completed assessment on a questionnaire of an earlier edition that a
    crosswalk leads from to `template`'s edition, with that questionnaire and the crosswalk; or
    None. (A supplier moving from csm-v2-supplier to csm-v3-supplier keeps its answers.)"""
    from vendorrisk.catalog import catalog

    for crosswalk, earlier in earlier_editions(template):
        previous = db.session.scalar(
            sa.select(Assessment)
            .where(
                Assessment.supplier_id == supplier_id,
                Assessment.template_id.in_(earlier),
                Assessment.status == AssessmentStatus.completed,
            )
            .order_by(Assessment.completed_at.desc(), Assessment.id.desc())
            .limit(1)
            .options(selectinload(Assessment.answers).selectinload(Answer.files))
        )
        old = catalog().get(previous.template_id, previous.template_version) if previous else None
        if old is not None:
            return previous, old, crosswalk
    return None


#: A question numbered in a series both editions share (sup3-x-04 and sup-x-04, lite3-07 and
#: lite2-07: the same number is the same question), as opposed to one named after its item.
_PARALLEL = re.compile(r"^(sup|lite|std)[23]?-(x-)?(\d+)$")


def counterpart(question_id: str) -> str | None:
    """The edition-free name of a question of a shared series ("sup3-x-04" and "sup-x-04" are
    "sup-x-04"); None for any other question."""
    match = _PARALLEL.match(question_id)
    return f"{match[1]}-{match[2] or ''}{match[3]}" if match else None


def _carry_across(
    assessment: Assessment, previous: Assessment, old: Template, template: Template, crosswalk
) -> None:
    """Carry a completed assessment of an earlier edition into `template` through the crosswalk,
    every answer to be confirmed by the supplier (carried_over): a question of an Appendix A
    item takes the answers of the questions, of the same answer type, that asked the earlier
    items it came from (the weakest of several, their comments labelled with their item); a
    question of no item (the profile, the Direction 9 specifics) the answer of the same question
    id; a question of a series both editions number alike (sup3-x-04, sup-x-04) the answer of
    its counterpart alone, and such questions are kept out of the item pools. An answer the new
    question cannot hold (a choice it no longer has) is left blank."""
    answers = {a.question_id: a for a in previous.answers}
    came_from: dict[str, list[str]] = {}
    for row in crosswalk.rows:
        for target in row.target:
            came_from.setdefault(target, []).extend(row.source)
    counterparts = {counterpart(q.id): q for q in old.questions if counterpart(q.id)}
    old_by_item: dict[str, list] = {}
    for question in old.questions:
        if question.mapping.item and not counterpart(question.id):
            old_by_item.setdefault(question.mapping.item, []).append(question)
    known = {q.id for q in old.questions}
    for question in template.questions:
        if counterpart(question.id):
            twin = counterparts.get(counterpart(question.id))
            candidates = [twin] if twin is not None and twin.type == question.type else []
        elif question.mapping.item is None:
            candidates = [old.question(question.id)] if question.id in known else []
        else:
            candidates = [
                q
                for code in came_from.get(question.mapping.item, [])
                for q in old_by_item.get(code, [])
                if q.type == question.type
            ]
        found = [(q, answers[q.id]) for q in candidates if q.id in answers]
        answer = _combined(question, found)
        if answer is not None:
            assessment.answers.append(answer)
    assessment.carried_over_from_id = previous.id


def _combined(question, found: list) -> Answer | None:
    """One carried answer from the earlier answers `found` ((question, answer) pairs)."""
    usable = []
    for old_question, old in found:
        try:
            value = question.kind.normalize(question, old.value)
        except AnswerError:
            continue
        usable.append((old_question, old, value))
    if not usable:
        return None
    scored = [u for u in usable if question.kind.score(question, u[2]) is not None]
    weakest = min(scored or usable, key=lambda u: question.kind.score(question, u[2]) or 0)
    several = len(usable) > 1
    comments = [
        f"[{q.mapping.item}] {old.comment}" if several and q.mapping.item else old.comment
        for q, old, _ in usable
        if old.comment
    ]
    files = []
    for _, old, _ in usable:
        files += [f for f in old.files if f not in files]
    return Answer(
        question_id=question.id,
        value=weakest[2],
        comment="\n".join(comments),
        carried_over=True,
        files=files,
    )


def _carry_over(assessment: Assessment, previous: Assessment, template: Template) -> None:
    known = {q.id for q in template.questions}
    for old in previous.answers:
        if old.question_id in known:
            assessment.answers.append(
                Answer(
                    question_id=old.question_id,
                    value=old.value,
                    comment=old.comment,
                    carried_over=True,
                    files=list(old.files),
                )
            )
    assessment.carried_over_from_id = previous.id


def create_assessment(
    supplier: Supplier,
    template: Template,
    due_on: date,
    message: str,
    recipients: Iterable[Recipient],
    created_by: User | None,
    now: datetime,
    campaign: Campaign | None = None,
) -> Assessment:
    """Create an assessment, carry over the last completed answers, and invite each contact."""
    recipients = list(recipients)
    if not recipients:
        raise AssessmentError(gettext("Choose at least one contact."))
    if due_on <= clock.today():
        raise AssessmentError(gettext("The due date must be in the future."))
    previous = previous_completed(supplier.id, template.id)
    assessment = Assessment(
        supplier=supplier,
        template_id=template.id,
        template_version=template.version,
        due_on=due_on,
        message=message,
        created_by=created_by,
        campaign=campaign,
        status=AssessmentStatus.sent,
        sent_at=now,
    )
    db.session.add(assessment)
    if previous is not None:
        _carry_over(assessment, previous, template)
    elif (earlier := previous_in_earlier_edition(supplier.id, template)) is not None:
        _carry_across(assessment, earlier[0], earlier[1], template, earlier[2])
    db.session.flush()
    for recipient in recipients:
        invite(assessment, template, recipient.contact, recipient.locale, now)
    return assessment


def invite(
    assessment: Assessment,
    template: Template,
    contact: Contact,
    locale: str,
    now: datetime,
    kind: str = "invitation",
) -> Invitation:
    """Issue a new link for one contact and queue the mail that carries it."""
    if contact.supplier_id != assessment.supplier_id:
        raise AssessmentError(gettext("This contact does not belong to the supplier."))
    invitation = Invitation(
        assessment=assessment,
        contact=contact,
        email=contact.email,
        locale=locale,
        created_at=now,
        expires_at=invitation_expiry(assessment.due_on),
    )
    token = invitation.issue_token()
    db.session.add(invitation)
    db.session.flush()
    questionnaire.LINK_MAILS[kind](invitation, portal_link(token), template)
    return invitation


def _live(invitation: Invitation) -> bool:
    return invitation.revoked_at is None


def resend(invitation: Invitation, template: Template, now: datetime) -> Invitation:
    """A new link for the same contact; the old one stops working."""
    _require_open(invitation.assessment)
    if invitation.contact is None:
        raise AssessmentError(gettext("The contact of this invitation was deleted."))
    invitation.revoked_at = invitation.revoked_at or now
    return invite(
        invitation.assessment, template, invitation.contact, invitation.locale, now, kind="resend"
    )


def revoke(invitation: Invitation, now: datetime) -> None:
    if invitation.revoked_at is None:
        invitation.revoked_at = now


def _require_open(assessment: Assessment) -> None:
    if not assessment.is_open:
        raise AssessmentError(gettext("This assessment is no longer open."))


def extend(assessment: Assessment, template: Template, new_due: date, now: datetime) -> None:
    """Move the due date; live links follow it, and each contact is told."""
    _require_open(assessment)
    if new_due <= assessment.due_on:
        raise AssessmentError(gettext("The new due date must be later than the current one."))
    assessment.due_on = new_due
    for invitation in filter(_live, assessment.invitations):
        invitation.expires_at = invitation_expiry(new_due)
        questionnaire.due_extended(invitation, template)


def cancel(assessment: Assessment, template: Template, now: datetime) -> None:
    """Cancel: every link stops working and each contact is told."""
    if assessment.status in (AssessmentStatus.completed, AssessmentStatus.cancelled):
        raise AssessmentError(gettext("This assessment is no longer open."))
    assessment.status = AssessmentStatus.cancelled
    assessment.cancelled_at = now
    for invitation in filter(_live, assessment.invitations):
        invitation.revoked_at = now
        questionnaire.cancelled(invitation, template)


def states_of(assessment: Assessment) -> dict[str, AnswerState]:
    """What the rules need of each answer; a certificate or check sheet that gave the answer
    (a cover) is its evidence.

    From the answers already loaded, else from one query of plain rows: the portal asks this on
    every page and autosave, where building every answer with its files cost more than the rest
    of the request."""
    if "answers" not in sa.inspect(assessment).unloaded:
        return {
            a.question_id: AnswerState(
                value=a.value,
                has_files=bool(a.files) or a.cover_id is not None,
                carried_over=a.carried_over,
            )
            for a in assessment.answers
        }
    db.session.flush()  # what this request changed counts
    has_files = sa.exists().where(answer_files.c.answer_id == Answer.id)
    rows = db.session.execute(
        sa.select(
            Answer.question_id,
            Answer.value,
            has_files | Answer.cover_id.is_not(None),
            Answer.carried_over,
        ).where(Answer.assessment_id == assessment.id)
    )
    return {
        qid: AnswerState(value=value, has_files=bool(files), carried_over=carried)
        for qid, value, files, carried in rows
    }


def progress_of(assessment: Assessment, template: Template) -> Progress:
    return progress(template, states_of(assessment))


def get_full(assessment_id: int) -> Assessment | None:
    """An assessment with its supplier, invitations and answers, in a fixed number of queries."""
    return db.session.scalar(
        sa.select(Assessment)
        .where(Assessment.id == assessment_id)
        .options(
            selectinload(Assessment.supplier).joinedload(Supplier.owner),
            selectinload(Assessment.invitations).joinedload(Invitation.contact),
            selectinload(Assessment.answers).selectinload(Answer.files),
        )
    )


def history(assessment_id: int, limit: int = 100) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.assessment_id == assessment_id, AuditEvent.object_type != "answers")
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class CampaignResult:
    campaign: Campaign
    sent: list[Assessment]
    without_contacts: list[Supplier]
    #: Suppliers whose tier the rules give no questionnaire the catalog holds (bulk send by tier).
    without_questionnaire: list[Supplier] = field(default_factory=list)


#: A bulk send's questionnaire when each supplier gets the one the tier rules give its tier.
BY_TIER = "by-tier"


def run_campaign(
    name: str,
    template: Template | Callable[[Supplier], Template | None],
    suppliers: Iterable[Supplier],
    due_on: date,
    message: str,
    created_by: User | None,
    criteria: dict,
    now: datetime,
) -> CampaignResult:
    """Send one template to many suppliers — or to each the template `template(supplier)` picks
    (its tier's pack) — each one's primary contact (else all contacts)."""
    pick = template if callable(template) else lambda _supplier: template
    campaign = Campaign(
        name=name,
        template_id=BY_TIER if callable(template) else template.id,
        criteria=criteria,
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(campaign)
    sent, skipped, unasked = [], [], []
    for supplier in suppliers:
        contacts = [c for c in supplier.contacts if c.undeliverable_at is None]
        primary = [c for c in contacts if c.is_primary]
        chosen = primary or contacts
        chosen_template = pick(supplier)
        if chosen_template is None:
            unasked.append(supplier)
            continue
        if not chosen:
            skipped.append(supplier)
            continue
        sent.append(
            create_assessment(
                supplier,
                chosen_template,
                due_on,
                message,
                [Recipient(c, c.locale) for c in chosen],
                created_by,
                now,
                campaign=campaign,
            )
        )
    return CampaignResult(
        campaign=campaign, sent=sent, without_contacts=skipped, without_questionnaire=unasked
    )


def record_action(assessment: Assessment, action: str, summary: str = "") -> None:
    audit.record(action, assessment, summary=summary)
