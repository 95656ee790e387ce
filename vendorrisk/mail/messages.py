"""The mails to our own staff, one function a kind (メールの種類ごとに一つの関数).

Each function owns its mail's subject, dedupe key, template and context, and queues it in the
outbox (`outbox.send`); services call these and never compose a mail themselves. A function
returns the queued row, or None when its dedupe key was queued before. The letters to supplier
contacts are in `mail.questionnaire` and `mail.follow_up`, in Japanese business form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from vendorrisk import clock
from vendorrisk.i18n.later import N_, attestation_name, company_name, translated
from vendorrisk.mail import letter, outbox
from vendorrisk.mail.questionnaire import attestation_stage

if TYPE_CHECKING:
    from vendorrisk.catalog import Template
    from vendorrisk.models import (
        Assessment,
        Attestation,
        Clarification,
        Contact,
        Contract,
        ErasureRequest,
        EvidenceRequest,
        Finding,
        Offboarding,
        OutboxMessage,
        PasswordReset,
        StoredFile,
        Supplier,
        User,
    )
    from vendorrisk.scoring.stages import Stage

# Assessments (services/assessments, services/review)


def submitted_to_owner(
    assessment: Assessment, template: Template, owner: User
) -> OutboxMessage | None:
    """Tell the supplier's owner that the answers are in (once per assessment)."""
    supplier = assessment.supplier
    locale = owner.locale or "ja"
    return outbox.send(
        "submitted_owner",
        locale=locale,
        recipient=owner.email,
        recipient_name=owner.name,
        subject=translated(
            locale,
            "%(supplier)s submitted the questionnaire %(title)s",
            supplier=supplier.name_for(locale),
            title=template.title.get(locale),
        ),
        kind="submitted_owner",
        dedupe_key=f"submitted-owner:{assessment.id}",
        assessment_id=assessment.id,
        assessment=assessment,
        supplier=supplier,
        template=template,
        owner=owner,
    )


def clarification_answered(clarification: Clarification, reviewer: User) -> OutboxMessage | None:
    """Tell the reviewer that the supplier answered their question (once per reply)."""
    assessment = clarification.assessment
    locale = reviewer.locale or "ja"
    return outbox.send(
        "clarification_reply",
        locale=locale,
        recipient=reviewer.email,
        recipient_name=reviewer.name,
        kind="clarification_reply",
        subject=translated(
            locale,
            N_("%(supplier)s answered your question"),
            supplier=assessment.supplier.name_for(locale),
        ),
        dedupe_key=f"clarification-reply:{clarification.messages[-1].id}",
        assessment_id=clarification.assessment_id,
        assessment=assessment,
        clarification=clarification,
        supplier=assessment.supplier,
    )


# Periodic jobs (services/periodic)
# (reserved for helper H1: the periodic-job mails go below this line)
# A mail to one of our users (or a contact) about the periodic work carries a dedupe key naming
# its object, its stage and its date. The jobs plan mails by key (`<kind>_key`), look the keys up
# in the outbox at once and send only the new ones; the mail itself uses the same key.


def _to_user(user: User, name: str, key: str, subject: Callable[[str], str], **context: Any):
    """Mail one of our users in their language (Japanese unless they chose English)."""
    locale = user.locale or "ja"
    return outbox.send(
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


def _about_assessment(message: str, assessment: Assessment, template: Template | None):
    """A subject naming the supplier and the questionnaire, in the recipient's language."""

    def subject(locale: str) -> str:
        return translated(
            locale,
            message,
            supplier=assessment.supplier.name_for(locale),
            title=letter.title(template, assessment, locale),
        )

    return subject


def recheck_no_contact_key(supplier: Supplier, user: User) -> str:
    return f"recheck-no-contact:{supplier.id}:{supplier.next_review_on}:{user.id}"


def recheck_no_contact(supplier: Supplier, user: User) -> OutboxMessage | None:
    """A re-check is due but nobody can be asked (once per re-check date)."""

    def subject(locale: str) -> str:
        return translated(
            locale,
            N_("Re-check due, but no contact to send it to: %(supplier)s"),
            supplier=supplier.name_for(locale),
        )

    key = recheck_no_contact_key(supplier, user)
    return _to_user(user, "recheck_no_contact", key, subject, supplier=supplier)


def overdue_to_owner_key(assessment: Assessment, stage: Stage, owner: User) -> str:
    return f"reminder-owner:{assessment.id}:{assessment.due_on}:{stage.days}:{owner.id}"


def overdue_to_owner(
    assessment: Assessment,
    template: Template | None,
    owner: User,
    stage: Stage,
    today: date,
    reminded: list[str],
) -> OutboxMessage | None:
    """Tell the supplier's owner the questionnaire is overdue, and whom we reminded."""
    subject = _about_assessment(
        N_("Overdue: %(supplier)s has not submitted %(title)s"), assessment, template
    )
    return _to_user(
        owner,
        "reminder_owner",
        overdue_to_owner_key(assessment, stage, owner),
        subject,
        assessment_id=assessment.id,
        assessment=assessment,
        supplier=assessment.supplier,
        template=template,
        days_overdue=(today - assessment.due_on).days,
        reminded=reminded,
        expired=False,
    )


def escalation_key(assessment: Assessment, user: User) -> str:
    return f"escalation:{assessment.id}:{assessment.due_on}:{user.id}"


def escalation(
    assessment: Assessment, template: Template | None, user: User, today: date
) -> OutboxMessage | None:
    """Tell a CISO user the questionnaire is overdue long enough (once per due date)."""
    supplier = assessment.supplier
    subject = _about_assessment(
        N_("Escalation: %(supplier)s is overdue with %(title)s"), assessment, template
    )
    return _to_user(
        user,
        "escalation",
        escalation_key(assessment, user),
        subject,
        assessment_id=assessment.id,
        assessment=assessment,
        supplier=supplier,
        template=template,
        owner=supplier.owner,
        days_overdue=(today - assessment.due_on).days,
    )


def assessment_expired_key(assessment: Assessment, owner: User) -> str:
    return f"expired-owner:{assessment.id}:{owner.id}"


def assessment_expired(
    assessment: Assessment, template: Template | None, owner: User, today: date
) -> OutboxMessage | None:
    """Tell the supplier's owner every link ran out unanswered."""
    subject = _about_assessment(
        N_("Expired unanswered: %(title)s from %(supplier)s"), assessment, template
    )
    return _to_user(
        owner,
        "reminder_owner",
        assessment_expired_key(assessment, owner),
        subject,
        kind="assessment_expired",
        assessment_id=assessment.id,
        assessment=assessment,
        supplier=assessment.supplier,
        template=template,
        days_overdue=(today - assessment.due_on).days,
        reminded=[],
        expired=True,
    )


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
        # Named by the subject and by both parts: looked up once a language.
        name = functools.cache(lambda locale: attestation_name(attestation, locale))
        return attestation.supplier, attestation.expires_on, name
    if about == "contract":
        contract = context["contract"]
        return contract.supplier, contract.ends_on, lambda locale: contract.title
    finding = context["finding"]
    return finding.supplier, finding.accepted_until, lambda locale: finding.title


def _expiry_mail(user: User, key: str, about: str, today: date, **context: Any):
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

    return _to_user(
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


def attestation_expiring_key(attestation: Attestation, days: int, user: User) -> str:
    return f"{attestation_stage(attestation, days)}:owner:{user.id}"


def attestation_expiring(
    user: User,
    attestation: Attestation,
    days: int,
    today: date,
    asked: list[Contact],
    received: datetime | None,
) -> OutboxMessage | None:
    """A certification or insurance expires (or expired); whom we asked for the renewal."""
    key = attestation_expiring_key(attestation, days, user)
    return _expiry_mail(
        user, key, "attestation", today, attestation=attestation, asked=asked, received=received
    )


def declaration_check_key(attestation: Attestation, due: date, user: User) -> str:
    return f"declaration-check:{attestation.id}:{due}:{user.id}"


def declaration_check(user: User, attestation: Attestation, due: date) -> OutboxMessage | None:
    """A SECURITY ACTION declaration has not been confirmed for a year: is it still listed?"""
    supplier = attestation.supplier

    def subject(locale: str) -> str:
        return translated(
            locale,
            N_("Is the SECURITY ACTION declaration still listed? %(supplier)s"),
            supplier=supplier.name_for(locale),
        )

    key = declaration_check_key(attestation, due, user)
    return _to_user(
        user, "declaration_check", key, subject, supplier=supplier, attestation=attestation
    )


def contract_ending_key(contract: Contract, days: int, user: User) -> str:
    return f"expiry:contract:{contract.id}:{contract.ends_on}:{days}:{user.id}"


def contract_ending(user: User, contract: Contract, days: int, today: date) -> OutboxMessage | None:
    """A contract ends (or ended) on its end date."""
    key = contract_ending_key(contract, days, user)
    return _expiry_mail(user, key, "contract", today, contract=contract)


def acceptance_expiring_key(finding: Finding, days: int, user: User) -> str:
    return f"expiry:acceptance:{finding.id}:{finding.accepted_until}:{days}:{user.id}"


def acceptance_expiring(
    user: User, finding: Finding, days: int, today: date
) -> OutboxMessage | None:
    """A finding's risk acceptance expires (or expired)."""
    key = acceptance_expiring_key(finding, days, user)
    return _expiry_mail(user, key, "acceptance", today, finding=finding)


def evidence_received(
    owner: User,
    request: EvidenceRequest,
    stored: StoredFile,
    given: date,
    previous: date | None,
    today: date,
) -> OutboxMessage | None:
    """Tell the supplier's owner the renewed evidence came by link, a proposal to review."""
    return _expiry_mail(
        owner,
        f"evidence-received:{request.id}:{owner.id}",
        "received",
        today,
        attestation=request.attestation,
        evidence=request,
        stored=stored,
        given=given,
        previous=previous,
    )


def offboarding_reminder_key(offboarding: Offboarding, days: int, user: User) -> str:
    return f"offboarding-reminder:{offboarding.id}:{days}:{user.id}"


def offboarding_reminder(
    user: User, offboarding: Offboarding, days: int, open_steps: list[str]
) -> OutboxMessage | None:
    """The offboarding checklist is still open `days` after it started (once per stage)."""
    supplier = offboarding.supplier

    def subject(locale: str) -> str:
        return translated(
            locale,
            N_("Offboarding not complete: %(supplier)s (%(count)s steps open)"),
            supplier=supplier.name_for(locale),
            count=len(open_steps),
        )

    return _to_user(
        user,
        "offboarding_reminder",
        offboarding_reminder_key(offboarding, days, user),
        subject,
        supplier=supplier,
        offboarding=offboarding,
        started_on=clock.local_day(offboarding.started_at),
        days=days,
        open_steps=open_steps,
    )


def erasure_certificate_received(
    user: User, offboarding: Offboarding, request: ErasureRequest, stored: StoredFile
) -> OutboxMessage | None:
    """Tell the supplier's owner the erasure certificate came by link, to check (once a link)."""
    supplier = offboarding.supplier

    def subject(locale: str) -> str:
        return translated(
            locale,
            N_("Erasure certificate received: %(supplier)s"),
            supplier=supplier.name_for(locale),
        )

    return _to_user(
        user,
        "erasure_received",
        f"erasure-received:{request.id}:{user.id}",
        subject,
        supplier=supplier,
        offboarding=offboarding,
        erasure=request,
        stored=stored,
    )


def digest_key(user: User, today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"digest:{user.id}:{year}-W{week:02d}"


def digest(user: User, sections: dict[str, Any], today: date) -> OutboxMessage | None:
    """The CISO's weekly summary (once per ISO week)."""
    return _to_user(
        user,
        "digest",
        digest_key(user, today),
        lambda locale: translated(
            locale, N_("Weekly supply-chain security summary: %(date)s"), date=today.isoformat()
        ),
        sections=sections,
        today=today,
        since=today - timedelta(days=7),
        attestation_name=attestation_name,
    )


# Staff accounts (services/users)


def password_reset(reset: PasswordReset, link: str) -> OutboxMessage | None:
    """A link to set a new password, asked for on the login page (once per link)."""
    subject = N_("Set a new password for vendorrisk")
    return _to_user(
        reset.user,
        "password_reset",
        f"password-reset:{reset.id}",
        lambda locale: translated(locale, subject),
        link=link,
        reset=reset,
    )
