"""The letters about a questionnaire to a supplier contact (質問票に関するご連絡): the request and
its new links, a changed due date, a cancellation, the thanks for the answers, the reminders,
and the request for renewed evidence.

Each function owns its letter's subject and dedupe key and writes it with `letter.send`
(templates ``mail/supplier/<name>.<locale>.txt``); the services decide who gets it and issue the
links. Subjects name what is asked in plain words and the date to answer by, never the
questionnaire's own title (that names the guideline's direction, which is our jargon). A function
returns the queued row, or None when its dedupe key was queued before.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app

from vendorrisk import clock
from vendorrisk.i18n import long_date
from vendorrisk.i18n.later import N_, attestation_name, translated
from vendorrisk.mail import letter
from vendorrisk.vocab import Locale

if TYPE_CHECKING:
    from vendorrisk.catalog import Template
    from vendorrisk.models import Attestation, Contact, Invitation, OutboxMessage
    from vendorrisk.scoring.stages import Stage


def subject_date(day: date, locale: str) -> str:
    """A date in a subject: 1月4日（月） (with the year when it is not this year's) /
    Monday, 4 January 2027."""
    if locale != Locale.ja:
        return long_date(day, locale)
    pattern = "M月d日（EEE）" if day.year == clock.today().year else "y年M月d日（EEE）"
    return format_date(day, pattern, locale=locale)


def _subject(locale: str, message: str, day: date | None, undated: str | None = None) -> str:
    """The subject with its date, or `undated` (when given) if the day is gone or unknown."""
    if undated is not None and (day is None or day < clock.today()):
        return translated(locale, undated)
    return translated(locale, message, date=subject_date(day, locale))


# The request and its new links (依頼とリンクの再送)

#: The subject of a letter carrying a link, by why it is sent: with the date to answer by and,
#: once that date is gone (a question after the answers came in), without it.
LINK_SUBJECTS = {
    "invitation": (
        N_("Request: information security questionnaire (reply by %(date)s)"),
        N_("Request: information security questionnaire"),
    ),
    "resend": (
        N_("New link: information security questionnaire (reply by %(date)s)"),
        N_("New link: information security questionnaire"),
    ),
    "clarification": (
        N_(
            "A question about your answers to the information security questionnaire"
            " (reply by %(date)s)"
        ),
        N_("A question about your answers to the information security questionnaire"),
    ),
    "returned": (
        N_(
            "Please revise your answers to the information security questionnaire"
            " (reply by %(date)s)"
        ),
        N_("Please revise your answers to the information security questionnaire"),
    ),
}


def _link_letter(invitation: Invitation, link: str, template: Template, kind: str):
    """A new portal link for one contact, with the reason it is sent (`kind`)."""
    locale, assessment = invitation.locale, invitation.assessment
    dated, undated = LINK_SUBJECTS[kind]
    return letter.send(
        kind,
        to=invitation,
        supplier=assessment.supplier,
        subject=_subject(locale, dated, assessment.due_on, undated),
        kind=kind,
        dedupe_key=f"invitation:{invitation.id}",
        assessment_id=assessment.id,
        assessment=assessment,
        title=letter.title(template, assessment, locale),
        link=link,
        today=clock.today(),
    )


def invitation(invitation: Invitation, link: str, template: Template) -> OutboxMessage | None:
    """The first link to a questionnaire (ご回答のお願い)."""
    return _link_letter(invitation, link, template, "invitation")


def resend(invitation: Invitation, link: str, template: Template) -> OutboxMessage | None:
    """A new link replacing the contact's earlier one."""
    return _link_letter(invitation, link, template, "resend")


def clarification_asked(
    invitation: Invitation, link: str, template: Template
) -> OutboxMessage | None:
    """A reviewer's question about the answers, with a link to reply (確認依頼)."""
    return _link_letter(invitation, link, template, "clarification")


def returned(invitation: Invitation, link: str, template: Template) -> OutboxMessage | None:
    """Questions opened again for changes, with a link to change them (差し戻し)."""
    return _link_letter(invitation, link, template, "returned")


#: The letter that carries a new link, by why the link is issued (`lifecycle.invite`'s kind).
LINK_MAILS = {
    "invitation": invitation,
    "resend": resend,
    "clarification": clarification_asked,
    "returned": returned,
}


# Notices without a link (リンクのないご連絡)


def _notice(
    invitation: Invitation, template: Template, subject: str, name: str, key: str, **context
):
    """A letter to a contact about their questionnaire, without a link (once per `key`)."""
    assessment = invitation.assessment
    return letter.send(
        name,
        to=invitation,
        supplier=assessment.supplier,
        subject=subject,
        kind=name,
        dedupe_key=f"{key}:{assessment.id}:{invitation.id}",
        assessment_id=assessment.id,
        assessment=assessment,
        title=letter.title(template, assessment, invitation.locale),
        **context,
    )


def due_extended(invitation: Invitation, template: Template) -> OutboxMessage | None:
    """The due date moved to the assessment's new `due_on` (once per new date)."""
    due, locale = invitation.assessment.due_on, invitation.locale
    subject = _subject(
        locale, N_("Deadline extended: information security questionnaire (reply by %(date)s)"), due
    )
    key = f"extended:{due.isoformat()}"
    return _notice(invitation, template, subject, "due_extended", key)


def cancelled(invitation: Invitation, template: Template) -> OutboxMessage | None:
    """The request was withdrawn; the contact's link no longer works."""
    subject = translated(
        invitation.locale, N_("Withdrawn: our request for the information security questionnaire")
    )
    return _notice(invitation, template, subject, "cancelled", "cancelled")


def submitted(invitation: Invitation, template: Template) -> OutboxMessage | None:
    """Thanks to the contact who submitted the answers (受領のお知らせ)."""
    subject = translated(
        invitation.locale,
        N_("Received: your answers to the information security questionnaire"),
    )
    when = invitation.assessment.submitted_at
    return _notice(
        invitation,
        template,
        subject,
        "submitted",
        "submitted",
        submitted_on=clock.local_day(when) if when else None,
    )


# Reminders (ご回答期限のご案内)

#: The subject of a reminder, by stage; the overdue one gives the soft new date to answer by.
REMINDER_SUBJECTS = {
    "before": N_("Reminder: information security questionnaire (reply by %(date)s)"),
    "due_today": N_("Due today: information security questionnaire (%(date)s)"),
    "overdue": N_("Second request: information security questionnaire (reply by %(date)s)"),
}


def reminder_key(invitation: Invitation, stage: Stage) -> str:
    """One reminder per contact and stage (per link for a link without a contact)."""
    assessment, contact = invitation.assessment, invitation.contact
    who = f"c{contact.id}" if contact else f"i{invitation.id}"
    return f"reminder:{assessment.id}:{stage.kind}:{assessment.due_on}:{stage.days}:{who}"


def reminder(
    invitation: Invitation,
    link: str,
    template: Template | None,
    stage: Stage,
    reply_by: date | None = None,
) -> OutboxMessage | None:
    """Remind a contact of the due date with a new link (`invitation` is the new one: their
    earlier links stopped working); an overdue one asks, softly, for answers by `reply_by`."""
    assessment, locale = invitation.assessment, invitation.locale
    overdue = stage.kind == "overdue"
    reply_by = reply_by if overdue and reply_by else None
    day = reply_by or assessment.due_on
    return letter.send(
        "reminder",
        to=invitation,
        supplier=assessment.supplier,
        subject=translated(locale, REMINDER_SUBJECTS[stage.kind], date=subject_date(day, locale)),
        kind="reminder",
        dedupe_key=reminder_key(invitation, stage),
        assessment_id=assessment.id,
        assessment=assessment,
        title=letter.title(template, assessment, locale),
        stage=stage.kind,
        reply_by=reply_by,
        link=link,
    )


# Renewed evidence (更新後の証明書類)


def attestation_stage(attestation: Attestation, days: int) -> str:
    """The key of an attestation's expiry stage, which its contacts' and owner's mails share."""
    return f"expiry:attestation:{attestation.id}:{attestation.expires_on}:{days}"


def evidence_request_key(attestation: Attestation, days: int, contact: Contact) -> str:
    return f"{attestation_stage(attestation, days)}:contact:{contact.id}"


def evidence_request(
    attestation: Attestation,
    contact: Contact,
    days: int,
    today: date,
    link: str,
    valid_until: datetime,
) -> OutboxMessage | None:
    """Ask a supplier's contact for the renewed evidence, by a link that only takes that."""
    locale = contact.locale
    name = attestation_name(attestation, locale)
    subject = translated(
        locale,
        N_("Request: renewed %(name)s documents — expiry date %(date)s"),
        name=name,
        date=subject_date(attestation.expires_on, locale),
    )
    return letter.send(
        "evidence_request",
        to=contact,
        supplier=attestation.supplier,
        subject=subject,
        kind="evidence_request",
        dedupe_key=evidence_request_key(attestation, days, contact),
        attestation=attestation,
        attestation_label=name,
        expired=not attestation.valid_on(today),
        link=link,
        **link_end(valid_until),
    )


def link_end(until: datetime) -> dict[str, object]:
    """The last local day a link works on (`link_until`) and, unless it works to the end of that
    day, the time it stops (`link_until_time`, "10:30"): a link ending at midnight ends with the
    day before."""
    local = until.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    midnight = local.time() == time.min
    return {
        "link_until": (local - timedelta(days=1)).date() if midnight else local.date(),
        "link_until_time": "" if midnight else local.strftime("%H:%M"),
    }
