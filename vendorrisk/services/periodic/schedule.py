"""The periodic work: re-checks, reminders, expiry alerts, link expiry and the CISO's digest.

Each job takes the time it runs at (`now`), selects what is due in a fixed number of queries,
acts through the services and the outbox, and only flushes: the caller commits once. Every
mail has a dedupe key naming its object, its stage and its date, so a second run (or a second
scheduler) sends nothing twice. A stage is "the latest one on or before today", so a run after
downtime sends the missed stage once (never a burst of all of them), and a daily run sends each
stage on its own day.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from vendorrisk import clock
from vendorrisk.catalog import Template, catalog
from vendorrisk.extensions import db
from vendorrisk.i18n import label
from vendorrisk.mail import outbox as mail
from vendorrisk.models import (
    OPEN_STATUSES,
    Assessment,
    AssessmentStatus,
    Attestation,
    AttestationKind,
    Contact,
    Contract,
    EvidenceRequest,
    Finding,
    FindingStatus,
    Invitation,
    OutboxMessage,
    Role,
    Setting,
    StoredFile,
    Supplier,
    SupplierStatus,
    User,
)
from vendorrisk.models.setting import save as save_setting
from vendorrisk.services import audit
from vendorrisk.services.assessments.lifecycle import (
    N_,
    AssessmentError,
    Recipient,
    company_name,
    create_assessment,
    invitation_expiry,
    resend,
    token_hash,
    translated,
)
from vendorrisk.services.register import suppliers
from vendorrisk.services.review.review import tier_rules

SETTINGS_KEY = "schedule"
#: Statuses in which a supplier already has a questionnaire on the go: no re-check is sent.
BUSY_STATUSES = (*OPEN_STATUSES, AssessmentStatus.draft, AssessmentStatus.submitted)
#: Days a re-check questionnaire gives the supplier to answer.
RECHECK_DUE_DAYS = 30
#: An expiry stage missed longer ago than this is not sent late (no mail for a long-gone date).
CATCH_UP_DAYS = 30
#: How long an evidence request link works.
EVIDENCE_LINK_DAYS = 60
#: A reminder comes with a fresh link when the contact's link would stop working this soon.
FRESH_LINK_WITHIN = timedelta(days=1)
#: Items listed per section of the digest (the count covers all of them).
DIGEST_LIST = 10


# -- settings -------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(key: str, message: str) -> ValueError:
    return ValueError(f"schedule settings: {key!r} {message}")


#: Whole-number settings: (lowest, highest).
_NUMBERS = {
    "overdue_every_days": (1, 365),
    "escalate_after_days": (1, 365),
    "digest_weekday": (0, 6),
}
#: Lists of day offsets: (lowest, highest) of each entry.
_DAY_LISTS = {"reminder_days_before": (1, 365), "expiry_days_before": (1, 3650)}


def _day_list(key: str, value: Any, low: int, high: int) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise _fail(key, f"must be a list of whole numbers of days, not {value!r}")
    for day in value:
        if not _is_int(day) or not low <= day <= high:
            raise _fail(key, f"entries must be whole numbers {low}-{high}, not {day!r}")
    if len(set(value)) != len(value):
        raise _fail(key, f"must not repeat a day, not {list(value)!r}")
    return tuple(sorted(value, reverse=True))


@dataclass(frozen=True)
class ScheduleSettings:
    """Offsets and cadences of the periodic work; bad values raise a ValueError naming the key."""

    reminder_days_before: tuple[int, ...] = (14, 7, 1)
    #: Overdue reminders on day 1 after the due date and then every N days.
    overdue_every_days: int = 7
    #: Overdue this long: the CISO users are told too.
    escalate_after_days: int = 7
    expiry_days_before: tuple[int, ...] = (90, 30, 7)
    #: 0 is Monday.
    digest_weekday: int = 0

    def __post_init__(self) -> None:
        for key, (low, high) in _DAY_LISTS.items():
            object.__setattr__(self, key, _day_list(key, getattr(self, key), low, high))
        for key, (low, high) in _NUMBERS.items():
            value = getattr(self, key)
            if not _is_int(value) or not low <= value <= high:
                raise _fail(key, f"must be a whole number {low}-{high}, not {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "reminder_days_before": list(self.reminder_days_before),
            "overdue_every_days": self.overdue_every_days,
            "escalate_after_days": self.escalate_after_days,
            "expiry_days_before": list(self.expiry_days_before),
            "digest_weekday": self.digest_weekday,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ScheduleSettings:
        """Settings from stored JSON: missing keys take defaults, unknown or bad ones raise."""
        if not isinstance(data, Mapping):
            raise ValueError(f"schedule settings must be a mapping, not {data!r}")
        known = cls.__dataclass_fields__
        for key in data:
            if key not in known:
                raise _fail(key, f"is not a known key (known: {', '.join(known)})")
        return cls(**data)


def schedule_settings() -> ScheduleSettings:
    row = db.session.get(Setting, SETTINGS_KEY)
    return ScheduleSettings.from_dict(row.value) if row else ScheduleSettings()


def save_schedule_settings(settings: ScheduleSettings, seen: str | None = None) -> None:
    """Store the schedule; SettingConflict if `seen` is no longer the stored value's."""
    save_setting(SETTINGS_KEY, settings.to_dict(), seen)


# -- results and shared helpers ---------------------------------------------------------------


@dataclass
class JobResult:
    """What one run did: `done` acted on, `skipped` due but not possible, and why."""

    done: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = f"{self.done} done, {self.skipped} skipped"
        if self.notes:
            more = f" (+{len(self.notes) - 1} more)" if len(self.notes) > 1 else ""
            line += f"; {self.notes[0]}{more}"
        return line

    def skip(self, note: str) -> None:
        self.skipped += 1
        self.notes.append(note)


def local_today(now: datetime) -> date:
    """The day `now` falls on where the company is (like clock.today(), for a given now)."""
    return clock.local_day(now)


def _local_day(moment: datetime | None) -> date:
    return clock.local_day(moment) if moment else date.min


def _base_url() -> str:
    return current_app.config["BASE_URL"]


def deliverable(contacts: Iterable[Contact]) -> list[Contact]:
    """The primary contacts with a working address, else every contact with one."""
    working = [c for c in contacts if c.undeliverable_at is None]
    return [c for c in working if c.is_primary] or working


def _users_with_role(role: Role) -> list[User]:
    return list(
        db.session.scalars(sa.select(User).where(User.role == role, User.active).order_by(User.id))
    )


def _known_keys(keys: Iterable[str]) -> set[str]:
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
class _Planned:
    """A mail (or a mail and what goes with it) that is due, keyed like its outbox row."""

    key: str
    act: Callable[[str], object]


def _carry_out(planned: list[_Planned], result: JobResult) -> None:
    """Act on each planned item whose key is not in the outbox yet (one query for all keys)."""
    known = _known_keys(p.key for p in planned)
    for item in planned:
        if item.key in known:
            continue
        known.add(item.key)
        if item.act(item.key) is not None:
            result.done += 1


def _mail_user(user: User, name: str, key: str, subject: Callable[[str], str], **context) -> Any:
    """Mail one of our users in their language (Japanese unless they chose English)."""
    locale = user.locale or "ja"
    return mail.send(
        name,
        locale=locale,
        recipient=user.email,
        recipient_name=user.name,
        subject=subject(locale),
        kind=context.pop("kind", name),
        dedupe_key=key,
        assessment_id=context.pop("assessment_id", None),
        company=company_name(locale),
        **context,
    )


def attestation_name(attestation: Attestation, locale: str) -> str:
    """The scheme's name in a language, or the attestation's own name for kind "other"."""
    if attestation.kind == AttestationKind.other and attestation.name:
        return attestation.name
    with force_locale(locale):
        return label(attestation.kind)


def _title(template: Template | None, assessment: Assessment, locale: str) -> str:
    return template.title.get(locale) if template else assessment.template_id


# -- stages (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One reminder of an assessment: "before" (days before), "due_today" (0), "overdue"."""

    kind: str
    on: date
    days: int


def reminder_stage(
    due_on: date, opened_on: date, today: date, settings: ScheduleSettings
) -> Stage | None:
    """The latest reminder stage on or before today, after the day the supplier got its link."""
    stages = [Stage("before", due_on - timedelta(days=d), d) for d in settings.reminder_days_before]
    stages.append(Stage("due_today", due_on, 0))
    if today > due_on:
        overdue = (today - due_on).days
        latest = 1 + (overdue - 1) // settings.overdue_every_days * settings.overdue_every_days
        stages.append(Stage("overdue", due_on + timedelta(days=latest), latest))
    eligible = [s for s in stages if opened_on < s.on <= today]
    return max(eligible, key=lambda s: s.on, default=None)


def escalation_due(due_on: date, opened_on: date, today: date, settings: ScheduleSettings) -> bool:
    """Overdue long enough to tell the CISO (counted from the return when returned late)."""
    return today >= max(due_on, opened_on) + timedelta(days=settings.escalate_after_days)


def expiry_stage(expires_on: date, today: date, days_before: Iterable[int]) -> int | None:
    """Days before expiry of the latest alert stage on or before today (0: the expiry day).

    None before the first stage, and when that stage is more than CATCH_UP_DAYS old.
    """
    reached = [d for d in (*days_before, 0) if expires_on - timedelta(days=d) <= today]
    if not reached:
        return None
    days = min(reached)
    late = (today - (expires_on - timedelta(days=days))).days
    return days if late <= CATCH_UP_DAYS else None


# -- re-check ---------------------------------------------------------------------------------


def _due_for_recheck(today: date) -> list[Supplier]:
    busy = sa.exists().where(
        Assessment.supplier_id == Supplier.id, Assessment.status.in_(BUSY_STATUSES)
    )
    return list(
        db.session.scalars(
            sa.select(Supplier)
            .where(
                Supplier.status == SupplierStatus.active,
                Supplier.next_review_on <= today,
                Supplier.tier.is_not(None),
                ~busy,
            )
            .order_by(Supplier.id)
            .options(selectinload(Supplier.contacts), joinedload(Supplier.owner))
        )
    )


def _latest_by(key: Any, moment: Any, ids: list[int]) -> dict[int, datetime]:
    """The latest `moment` per `key` among `ids`, in one grouped query."""
    if not ids:
        return {}
    rows = db.session.execute(sa.select(key, sa.func.max(moment)).where(key.in_(ids)).group_by(key))
    return {id_: when for id_, when in rows if when is not None}


def _last_sent(supplier_ids: list[int]) -> dict[int, datetime]:
    return _latest_by(Assessment.supplier_id, Assessment.sent_at, supplier_ids)


def recheck(now: datetime) -> JobResult:
    """Send each supplier whose re-check date has come its tier's questionnaire, once."""
    today, result = local_today(now), JobResult()
    due = _due_for_recheck(today)
    last_sent = _last_sent([s.id for s in due])
    rules = tier_rules() if due else None
    no_contact: list[_Planned] = []
    for supplier in due:
        if _local_day(last_sent.get(supplier.id)) >= supplier.next_review_on:
            continue  # this date's re-check went out (and was cancelled or expired): people decide
        template = catalog().get(rules.template_by_tier.get(supplier.tier, ""))
        contacts = deliverable(supplier.contacts)
        if template is None:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no template for its tier")
        elif not contacts:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no contact to send to")
            no_contact += _no_contact_mails(supplier)
        else:
            _send_recheck(supplier, template, contacts, today, now, result)
    _carry_out(no_contact, JobResult())
    return result


def _send_recheck(
    supplier: Supplier,
    template: Template,
    contacts: list[Contact],
    today: date,
    now: datetime,
    result: JobResult,
) -> None:
    due_on = today + timedelta(days=RECHECK_DUE_DAYS)
    recipients = [Recipient(c, c.locale) for c in contacts]
    try:
        create_assessment(supplier, template, due_on, "", recipients, None, now)
    except AssessmentError as exc:
        result.skip(f"{supplier.display_name} (#{supplier.id}): {exc}")
    else:
        result.done += 1


def _no_contact_mails(supplier: Supplier) -> list[_Planned]:
    """The owner (else procurement) is told once per re-check date that nobody can be asked."""
    owner = supplier.owner
    users = [owner] if owner is not None and owner.active else _users_with_role(Role.procurement)

    def subject(locale: str) -> str:
        return translated(
            locale,
            N_("Re-check due, but no contact to send it to: %(supplier)s"),
            supplier=supplier.name_for(locale),
        )

    return [
        _Planned(
            f"recheck-no-contact:{supplier.id}:{supplier.next_review_on}:{user.id}",
            lambda key, user=user: _mail_user(
                user, "recheck_no_contact", key, subject, supplier=supplier
            ),
        )
        for user in users
    ]


# -- reminders --------------------------------------------------------------------------------


def _open_assessments(until: date) -> list[Assessment]:
    return list(
        db.session.scalars(
            sa.select(Assessment)
            .where(
                Assessment.status.in_(OPEN_STATUSES),
                Assessment.supplier_id.is_not(None),
                Assessment.due_on <= until,
            )
            .order_by(Assessment.id)
            .options(
                joinedload(Assessment.supplier).joinedload(Supplier.owner),
                selectinload(Assessment.invitations).joinedload(Invitation.contact),
            )
        )
    )


def _opened_on(assessment: Assessment) -> date:
    """The day the supplier last got its links: sent, or returned for changes."""
    moments = [m for m in (assessment.sent_at, assessment.returned_at) if m is not None]
    return _local_day(max(moments)) if moments else date.min


def reminders(now: datetime) -> JobResult:
    """Remind the contacts of open assessments before, on and after the due date; escalate."""
    settings, today, result = schedule_settings(), local_today(now), JobResult()
    horizon = today + timedelta(days=max(settings.reminder_days_before, default=0))
    planned: list[_Planned] = []
    cisos: list[User] | None = None
    for assessment in _open_assessments(horizon):
        if links_over(assessment, now):
            continue  # expire_links closes it
        template = catalog().get(assessment.template_id, assessment.template_version)
        opened_on = _opened_on(assessment)
        stage = reminder_stage(assessment.due_on, opened_on, today, settings)
        if stage is not None:
            planned += _reminder_mails(assessment, template, stage, now, result)
        if escalation_due(assessment.due_on, opened_on, today, settings):
            cisos = _users_with_role(Role.ciso) if cisos is None else cisos
            if not cisos:
                result.skip(f"assessment #{assessment.id}: no active CISO to escalate to")
            planned += _escalation_mails(assessment, template, cisos, today)
    _carry_out(planned, result)
    return result


def _reminder_mails(
    assessment: Assessment,
    template: Template | None,
    stage: Stage,
    now: datetime,
    result: JobResult,
) -> list[_Planned]:
    planned, prefix = [], f"reminder:{assessment.id}:{stage.kind}:{assessment.due_on}:{stage.days}"
    seen: set[str] = set()
    for invitation in assessment.invitations:
        contact = invitation.contact
        if invitation.revoked_at is not None or (contact and contact.undeliverable_at):
            continue
        who = f"c{contact.id}" if contact else f"i{invitation.id}"
        if who in seen:
            continue
        seen.add(who)
        planned.append(
            _Planned(
                f"{prefix}:{who}",
                lambda key, inv=invitation: _remind(inv, template, stage, now, key),
            )
        )
    if not planned:
        result.skip(f"assessment #{assessment.id}: no contact with a working link to remind")
    owner = assessment.supplier.owner
    if stage.kind == "overdue" and owner is not None and owner.active:
        planned.append(
            _Planned(
                f"reminder-owner:{assessment.id}:{assessment.due_on}:{stage.days}:{owner.id}",
                lambda key: _tell_owner_overdue(assessment, template, owner, now, key),
            )
        )
    return planned


#: Subject of the contact's reminder, by stage.
REMINDER_SUBJECTS = {
    "before": N_("Reminder: the security questionnaire is due on %(date)s: %(title)s"),
    "due_today": N_("Due today: the security questionnaire %(title)s"),
    "overdue": N_("Overdue: the security questionnaire %(title)s"),
}


def _needs_fresh_link(invitation: Invitation, now: datetime) -> bool:
    """Its link stops working within a day while the assessment itself stays open longer."""
    soon = now + FRESH_LINK_WITHIN
    window = invitation_expiry(invitation.assessment.due_on)
    return invitation.expires_at <= soon < window


def _remind(
    invitation: Invitation, template: Template | None, stage: Stage, now: datetime, key: str
) -> Any:
    """The reminder carries no link (links are not multiplied), unless the old one is ending."""
    assessment = invitation.assessment
    fresh = template is not None and invitation.contact is not None
    fresh = fresh and _needs_fresh_link(invitation, now)
    if fresh:
        invitation = resend(invitation, template, now)  # its own mail carries the new link
    elif invitation.expires_at <= now:
        return None
    locale = invitation.locale
    title = _title(template, assessment, locale)
    return mail.send(
        "reminder",
        locale=locale,
        recipient=invitation.email,
        recipient_name=invitation.contact.name if invitation.contact else "",
        subject=translated(
            locale,
            REMINDER_SUBJECTS[stage.kind],
            title=title,
            date=assessment.due_on.isoformat(),
        ),
        kind="reminder",
        dedupe_key=key,
        contact_id=invitation.contact_id,
        assessment_id=assessment.id,
        name=invitation.contact.name if invitation.contact else invitation.email,
        stage=stage.kind,
        fresh_link=fresh,
        assessment=assessment,
        supplier=assessment.supplier,
        title=title,
        owner=assessment.supplier.owner,
        company=company_name(locale),
    )


def _contacts_reminded(assessment: Assessment, now: datetime) -> list[str]:
    return sorted(
        {
            i.email
            for i in assessment.invitations
            if i.revoked_at is None
            and i.expires_at > now
            and not (i.contact and i.contact.undeliverable_at)
        }
    )


def _assessment_subject(message: str, assessment: Assessment, template: Template | None):
    """A subject naming the supplier and the questionnaire, in the recipient's language."""

    def subject(locale: str) -> str:
        return translated(
            locale,
            message,
            supplier=assessment.supplier.name_for(locale),
            title=_title(template, assessment, locale),
        )

    return subject


def _tell_owner_overdue(
    assessment: Assessment, template: Template | None, owner: User, now: datetime, key: str
) -> Any:
    supplier = assessment.supplier

    subject = _assessment_subject(
        N_("Overdue: %(supplier)s has not submitted %(title)s"), assessment, template
    )

    return _mail_user(
        owner,
        "reminder_owner",
        key,
        subject,
        assessment_id=assessment.id,
        assessment=assessment,
        supplier=supplier,
        template=template,
        days_overdue=(local_today(now) - assessment.due_on).days,
        reminded=_contacts_reminded(assessment, now),
        expired=False,
    )


def _escalation_mails(
    assessment: Assessment, template: Template | None, cisos: list[User], today: date
) -> list[_Planned]:
    supplier = assessment.supplier

    subject = _assessment_subject(
        N_("Escalation: %(supplier)s is overdue with %(title)s"), assessment, template
    )

    return [
        _Planned(
            f"escalation:{assessment.id}:{assessment.due_on}:{user.id}",
            lambda key, user=user: _mail_user(
                user,
                "escalation",
                key,
                subject,
                assessment_id=assessment.id,
                assessment=assessment,
                supplier=supplier,
                template=template,
                owner=supplier.owner,
                days_overdue=(today - assessment.due_on).days,
            ),
        )
        for user in cisos
    ]


# -- link expiry ------------------------------------------------------------------------------


def links_over(assessment: Assessment, now: datetime) -> bool:
    """Every link has run out, and so has the assessment's own time (due date plus grace)."""
    links = assessment.invitations
    ended = bool(links) and all(i.expires_at <= now for i in links)
    return ended and invitation_expiry(assessment.due_on) <= now


def expire_links(now: datetime) -> JobResult:
    """Close open assessments whose every link has run out; the owner is told."""
    result = JobResult()
    alive = sa.exists().where(
        Invitation.assessment_id == Assessment.id, Invitation.expires_at > now
    )
    has_links = sa.exists().where(Invitation.assessment_id == Assessment.id)
    candidates = db.session.scalars(
        sa.select(Assessment)
        .where(Assessment.status.in_(OPEN_STATUSES), has_links, ~alive)
        .order_by(Assessment.id)
        .options(
            joinedload(Assessment.supplier).joinedload(Supplier.owner),
            selectinload(Assessment.invitations),
        )
    )
    planned = []
    for assessment in candidates:
        if not links_over(assessment, now):
            continue  # a link ended early, but the assessment's own time has not: reminders renew
        assessment.status = AssessmentStatus.expired
        result.done += 1
        owner = assessment.supplier.owner if assessment.supplier else None
        if owner is not None and owner.active:
            planned.append(_expired_mail(assessment, owner, now))
    db.session.flush()
    _carry_out(planned, JobResult())
    return result


def _expired_mail(assessment: Assessment, owner: User, now: datetime) -> _Planned:
    template = catalog().get(assessment.template_id, assessment.template_version)
    supplier = assessment.supplier

    subject = _assessment_subject(
        N_("Expired unanswered: %(title)s from %(supplier)s"), assessment, template
    )

    return _Planned(
        f"expired-owner:{assessment.id}:{owner.id}",
        lambda key: _mail_user(
            owner,
            "reminder_owner",
            key,
            subject,
            kind="assessment_expired",
            assessment_id=assessment.id,
            assessment=assessment,
            supplier=supplier,
            template=template,
            days_overdue=(local_today(now) - assessment.due_on).days,
            reminded=[],
            expired=True,
        ),
    )


# -- expiry alerts ----------------------------------------------------------------------------


def expiry_alerts(now: datetime) -> JobResult:
    """Alert ahead of and on the expiry of attestations, contracts and risk acceptances."""
    settings, today, result = schedule_settings(), local_today(now), JobResult()
    offsets = settings.expiry_days_before
    first = today - timedelta(days=CATCH_UP_DAYS)
    last = today + timedelta(days=max(offsets, default=0))
    planned = _attestation_alerts(now, today, offsets, first, last, result)
    planned += _contract_alerts(today, offsets, first, last, result)
    planned += _acceptance_alerts(today, offsets, first, last, result)
    _carry_out(planned, result)
    return result


def _not_offboarded():
    return Supplier.status != SupplierStatus.offboarded


def _expiring_attestations(first: date, last: date) -> list[Attestation]:
    return list(
        db.session.scalars(
            sa.select(Attestation)
            .join(Attestation.supplier)
            .where(_not_offboarded(), Attestation.expires_on.between(first, last))
            .order_by(Attestation.id)
            .options(contains_eager(Attestation.supplier).joinedload(Supplier.owner))
        ).unique()
    )


def _contacts_of(supplier_ids: set[int]) -> dict[int, list[Contact]]:
    found: dict[int, list[Contact]] = {}
    if supplier_ids:
        query = sa.select(Contact).where(Contact.supplier_id.in_(supplier_ids)).order_by(Contact.id)
        for contact in db.session.scalars(query):
            found.setdefault(contact.supplier_id, []).append(contact)
    return found


def _last_fulfilled(attestation_ids: list[int]) -> dict[int, datetime]:
    return _latest_by(EvidenceRequest.attestation_id, EvidenceRequest.fulfilled_at, attestation_ids)


def _attestation_alerts(
    now: datetime,
    today: date,
    offsets: tuple[int, ...],
    first: date,
    last: date,
    result: JobResult,
) -> list[_Planned]:
    staged = [
        (attestation, days)
        for attestation in _expiring_attestations(first, last)
        if (days := expiry_stage(attestation.expires_on, today, offsets)) is not None
    ]
    fulfilled = _last_fulfilled([a.id for a, _ in staged])
    contacts_of = _contacts_of({a.supplier_id for a, _ in staged})
    cycle_start = timedelta(days=max(offsets, default=0))
    planned: list[_Planned] = []
    for attestation, days in staged:
        supplier = attestation.supplier
        prefix = f"expiry:attestation:{attestation.id}:{attestation.expires_on}:{days}"
        received = fulfilled.get(attestation.id)
        if _local_day(received) < attestation.expires_on - cycle_start:
            received = None  # evidence sent for an earlier expiry, not this one
        contacts = [] if received else deliverable(contacts_of.get(supplier.id, []))
        for contact in contacts:
            planned.append(
                _Planned(
                    f"{prefix}:contact:{contact.id}",
                    lambda key, c=contact, a=attestation: _ask_for_evidence(a, c, today, now, key),
                )
            )
        owner = supplier.owner
        if owner is None or not owner.active:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no owner to tell of expiry")
            continue
        planned.append(
            _Planned(
                f"{prefix}:owner:{owner.id}",
                lambda key, a=attestation, o=owner, asked=contacts, got=received: _tell_expiry(
                    o, key, "attestation", today, attestation=a, asked=asked, received=got
                ),
            )
        )
    return planned


#: Subjects of the mails to our users about an expiry, by object, before and after the date.
EXPIRY_SUBJECTS = {
    ("attestation", False): N_("Expiring on %(date)s: %(name)s of %(supplier)s"),
    ("attestation", True): N_("Expired on %(date)s: %(name)s of %(supplier)s"),
    ("contract", False): N_("Contract ending on %(date)s: %(name)s (%(supplier)s)"),
    ("contract", True): N_("Contract ended on %(date)s: %(name)s (%(supplier)s)"),
    ("acceptance", False): N_("Risk acceptance expiring on %(date)s: %(name)s (%(supplier)s)"),
    ("acceptance", True): N_("Risk acceptance expired on %(date)s: %(name)s (%(supplier)s)"),
    ("received", False): N_("Renewed evidence received: %(name)s of %(supplier)s"),
}


def _expiry_facts(about: str, context: dict) -> tuple[Supplier, date, Callable[[str], str]]:
    """The supplier, the date and the name (in a language) of what expires."""
    if about in ("attestation", "received"):
        attestation = context["attestation"]
        return (
            attestation.supplier,
            attestation.expires_on,
            lambda locale: attestation_name(attestation, locale),
        )
    if about == "contract":
        contract = context["contract"]
        return contract.supplier, contract.ends_on, lambda locale: contract.title
    finding = context["finding"]
    return finding.supplier, finding.accepted_until, lambda locale: finding.title


def _tell_expiry(user: User, key: str, about: str, today: date, **context) -> Any:
    """One mail to one of our users about something expiring (or renewed evidence arriving)."""
    supplier, day, name = _expiry_facts(about, context)
    expired = about != "received" and day < today

    def subject(locale: str) -> str:
        return translated(
            locale,
            EXPIRY_SUBJECTS[(about, expired)],
            date=day.isoformat(),
            name=name(locale),
            supplier=supplier.name_for(locale),
        )

    return _mail_user(
        user,
        "expiry_owner",
        key,
        subject,
        kind="evidence_received" if about == "received" else "expiry",
        about=about,
        supplier=supplier,
        day=day,
        expired=expired,
        today=today,
        name_of=name,
        **context,
    )


def _ask_for_evidence(
    attestation: Attestation, contact: Contact, today: date, now: datetime, key: str
) -> Any:
    """Mail a link that only asks for the renewed evidence; older open links stop working."""
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=EVIDENCE_LINK_DAYS)
    locale = contact.locale
    supplier = attestation.supplier
    sent = mail.send(
        "evidence_request",
        locale=locale,
        recipient=contact.email,
        recipient_name=contact.name,
        subject=translated(
            locale,
            N_("Please send the renewed %(name)s: %(company)s"),
            name=attestation_name(attestation, locale),
            company=company_name(locale),
        ),
        kind="evidence_request",
        dedupe_key=key,
        contact_id=contact.id,
        contact=contact,
        supplier=supplier,
        attestation=attestation,
        attestation_label=attestation_name(attestation, locale),
        expired=attestation.expires_on < today,
        link=evidence_link(token),
        valid_until=expires_at,
        owner=supplier.owner,
        company=company_name(locale),
    )
    if sent is None:
        return None
    for older in _open_requests(attestation.id, contact.id, now):
        older.expires_at = now
    db.session.add(
        EvidenceRequest(
            attestation_id=attestation.id,
            contact_id=contact.id,
            email=contact.email,
            locale=locale,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    db.session.flush()
    return sent


def _open_requests(attestation_id: int, contact_id: int | None, now: datetime):
    query = sa.select(EvidenceRequest).where(
        EvidenceRequest.attestation_id == attestation_id,
        EvidenceRequest.fulfilled_at.is_(None),
        EvidenceRequest.expires_at > now,
    )
    if contact_id is not None:
        query = query.where(EvidenceRequest.contact_id == contact_id)
    return list(db.session.scalars(query))


def _contract_alerts(
    today: date, offsets: tuple[int, ...], first: date, last: date, result: JobResult
) -> list[_Planned]:
    contracts = db.session.scalars(
        sa.select(Contract)
        .join(Contract.supplier)
        .where(_not_offboarded(), Contract.ends_on.between(first, last))
        .order_by(Contract.id)
        .options(contains_eager(Contract.supplier).joinedload(Supplier.owner))
    ).unique()
    planned = []
    for contract in contracts:
        days = expiry_stage(contract.ends_on, today, offsets)
        if days is None:
            continue
        owner = contract.supplier.owner
        if owner is None or not owner.active:
            result.skip(f"contract #{contract.id}: no owner to tell of its end")
            continue
        planned.append(
            _Planned(
                f"expiry:contract:{contract.id}:{contract.ends_on}:{days}:{owner.id}",
                lambda key, c=contract, o=owner: _tell_expiry(
                    o, key, "contract", today, contract=c
                ),
            )
        )
    return planned


def _acceptance_alerts(
    today: date, offsets: tuple[int, ...], first: date, last: date, result: JobResult
) -> list[_Planned]:
    findings = db.session.scalars(
        sa.select(Finding)
        .join(Finding.supplier)
        .where(
            _not_offboarded(),
            Finding.status == FindingStatus.risk_accepted,
            Finding.accepted_until.between(first, last),
        )
        .order_by(Finding.id)
        .options(
            contains_eager(Finding.supplier),
            joinedload(Finding.owner),
            joinedload(Finding.accepted_by),
        )
    ).unique()
    planned = []
    for finding in findings:
        days = expiry_stage(finding.accepted_until, today, offsets)
        if days is None:
            continue
        users = {u.id: u for u in (finding.accepted_by, finding.owner) if u and u.active}
        if not users:
            result.skip(f"finding #{finding.id}: nobody to tell the risk acceptance expires")
        for user in users.values():
            planned.append(
                _Planned(
                    f"expiry:acceptance:{finding.id}:{finding.accepted_until}:{days}:{user.id}",
                    lambda key, f=finding, u=user: _tell_expiry(
                        u, key, "acceptance", today, finding=f
                    ),
                )
            )
    return planned


# -- evidence requests (the portal's renewed-evidence link) -----------------------------------


class EvidenceError(ValueError):
    """An upload of renewed evidence we refuse; the message is translated."""


def evidence_link(token: str) -> str:
    return f"{_base_url()}/portal/e/{token}"


def find_evidence_request(token: str) -> EvidenceRequest | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        sa.select(EvidenceRequest)
        .where(EvidenceRequest.token_hash == token_hash(token))
        .options(
            joinedload(EvidenceRequest.attestation)
            .joinedload(Attestation.supplier)
            .joinedload(Supplier.owner)
        )
    )


def evidence_closed_reason(request: EvidenceRequest, now: datetime) -> str | None:
    """None while the link may be used, else "fulfilled" or "expired"."""
    if request.fulfilled_at is not None:
        return "fulfilled"
    if request.expires_at <= now:
        return "expired"
    return None


def parse_new_expiry(raw: str, today: date) -> date:
    """The new expiry date as typed: a real date in the future."""
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        raise EvidenceError(gettext("Give the new expiry date.")) from None
    if day <= today:
        raise EvidenceError(gettext("The new expiry date must be in the future."))
    return day


def receive_evidence(
    request: EvidenceRequest, stored: StoredFile, new_expiry: date, now: datetime
) -> bool:
    """Record renewed evidence on the attestation and tell the owner; True if the expiry moved.

    The expiry only ever moves later: an earlier date is kept for the owner to look at.
    """
    claimed = db.session.execute(
        sa.update(EvidenceRequest)
        .where(EvidenceRequest.id == request.id, EvidenceRequest.fulfilled_at.is_(None))
        .values(fulfilled_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise EvidenceError(gettext("The renewed evidence has already been sent with this link."))
    request.fulfilled_at, request.stored_file = now, stored
    attestation = request.attestation
    previous = attestation.expires_on
    suppliers.replace_file(attestation, "evidence", stored)
    moved = previous is None or new_expiry > previous
    if moved:
        attestation.expires_on = new_expiry
    for other in _open_requests(attestation.id, None, now):
        if other.id != request.id:
            other.expires_at = now  # the evidence is in: the other contacts' links close
    audit.record("evidence_received", attestation, summary=request.email)
    db.session.flush()
    _tell_owner_received(request, stored, new_expiry, previous, moved, now)
    return moved


def _tell_owner_received(
    request: EvidenceRequest,
    stored: StoredFile,
    given: date,
    previous: date | None,
    moved: bool,
    now: datetime,
) -> None:
    owner = request.attestation.supplier.owner
    if owner is None or not owner.active:
        return
    _tell_expiry(
        owner,
        f"evidence-received:{request.id}:{owner.id}",
        "received",
        local_today(now),
        attestation=request.attestation,
        evidence=request,
        stored=stored,
        given=given,
        previous=previous,
        moved=moved,
    )


# -- weekly digest ----------------------------------------------------------------------------


@dataclass
class DigestSection:
    """How many there are, and the first few to list."""

    count: int
    items: list[Any]


def _section(base: sa.Select, order: tuple, *options: Any) -> DigestSection:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    items = db.session.scalars(base.order_by(*order).options(*options).limit(DIGEST_LIST))
    return DigestSection(count or 0, list(items.unique()))


def digest_sections(now: datetime, today: date) -> dict[str, DigestSection]:
    """What the CISO reads each week: what changed, what is overdue, what expires soon."""
    week_ago = now - timedelta(days=7)
    assessments = sa.select(Assessment).where(Assessment.supplier_id.is_not(None))
    with_supplier = joinedload(Assessment.supplier)
    deliverable_contact = sa.exists().where(
        Contact.supplier_id == Supplier.id, Contact.undeliverable_at.is_(None)
    )
    return {
        "submitted": _section(
            assessments.where(Assessment.submitted_at >= week_ago),
            (Assessment.submitted_at.desc(), Assessment.id),
            with_supplier,
        ),
        "completed": _section(
            assessments.where(Assessment.completed_at >= week_ago),
            (Assessment.completed_at.desc(), Assessment.id),
            with_supplier,
        ),
        "overdue": _section(
            assessments.where(Assessment.status.in_(OPEN_STATUSES), Assessment.due_on < today),
            (Assessment.due_on, Assessment.id),
            with_supplier,
        ),
        "findings": _section(
            sa.select(Finding).where(
                Finding.status.in_([FindingStatus.open, FindingStatus.in_progress]),
                Finding.due_on < today,
            ),
            (Finding.due_on, Finding.id),
            joinedload(Finding.supplier),
        ),
        "expiring": _section(
            sa.select(Attestation)
            .join(Attestation.supplier)
            .where(
                _not_offboarded(),
                Attestation.expires_on.between(today, today + timedelta(days=30)),
            ),
            (Attestation.expires_on, Attestation.id),
            contains_eager(Attestation.supplier),
        ),
        "no_contact": _section(
            sa.select(Supplier).where(
                Supplier.status == SupplierStatus.active,
                Supplier.tier.is_not(None),
                Supplier.next_review_on <= today,
                ~deliverable_contact,
            ),
            (Supplier.next_review_on, Supplier.id),
        ),
    }


def weekly_digest(now: datetime) -> JobResult:
    """On the digest weekday, one summary per active CISO user, in their language."""
    settings, today, result = schedule_settings(), local_today(now), JobResult()
    if today.weekday() != settings.digest_weekday:
        return result
    cisos = _users_with_role(Role.ciso)
    if not cisos:
        result.skip("no active CISO to send the digest to")
        return result
    year, week, _ = today.isocalendar()
    sections: dict[str, DigestSection] = {}

    def send(user: User, key: str) -> Any:
        if not sections:  # gathered once, and only if a digest is due
            sections.update(digest_sections(now, today))
        return _mail_user(
            user,
            "digest",
            key,
            lambda locale: translated(
                locale, N_("Weekly supply-chain security summary: %(date)s"), date=today.isoformat()
            ),
            sections=sections,
            today=today,
            since=today - timedelta(days=7),
            attestation_name=attestation_name,
        )

    planned = [
        _Planned(f"digest:{user.id}:{year}-W{week:02d}", lambda key, u=user: send(u, key))
        for user in cisos
    ]
    _carry_out(planned, result)
    return result
