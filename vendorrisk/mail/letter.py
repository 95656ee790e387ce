"""A letter to a supplier contact (取引先へのご連絡), in the form a Japanese company writes to its
business partners: 宛名 (company, department, title, name 様), greeting and who writes, the body,
how to check that the mail is genuine, closing and signature; 【company】 before the subject.

Each kind of letter is one reviewable template a language, ``mail/supplier/<name>.<locale>.txt``,
extending ``mail/supplier/base.<locale>.txt``. The HTML part is the same text, set as paragraphs
with the letter's own links made clickable (`render.letter_paragraphs`), so the two parts never
say different things. Dates in prose use the `longdate` filter (2027年1月4日（月） / Monday, 4
January 2027). A job's letters are rendered together when its batch ends (`render.many`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vendorrisk.mail import outbox, render
from vendorrisk.mail.sender import Sender, sender
from vendorrisk.vocab import Locale

if TYPE_CHECKING:
    from vendorrisk.catalog import Template
    from vendorrisk.models import Assessment, Contact, Invitation, OutboxMessage, Supplier


def title(template: Template | None, assessment: Assessment, locale: str) -> str:
    """The questionnaire's title in `locale`, or its id when the template is gone."""
    return template.title.get(locale) if template else assessment.template_id


def addressee(supplier: Supplier | None, contact: Contact | None, locale: str) -> list[str]:
    """The 宛名 lines: company, department, then title and name with 様 (ご担当者様 if none).

    English: name, then title and department, then company.
    """
    company = supplier.name_for(locale) if supplier else ""
    department = contact.department.strip() if contact else ""
    title = contact.job_title.strip() if contact else ""
    name = contact.name.strip() if contact else ""
    if locale == Locale.en:
        role = ", ".join(part for part in (title, department) if part)
        return [line for line in (name, role, company) if line]
    person = f"{title} {name} 様".strip() if name else "ご担当者様"
    return [line for line in (company, department, person) if line]


def subject_line(sender_: Sender, subject: str, locale: str) -> str:
    """【company】subject in Japanese, "[company] subject" in English."""
    if locale == Locale.en:
        return f"[{sender_.company}] {subject}"
    return f"【{sender_.company}】{subject}"


def draft(name: str, locale: str, **context: Any) -> render.Draft:
    """The letter to write: its `link` and the `sender`'s announcement page are the links made
    clickable in its HTML part."""
    who = context.get("sender")
    links = render.letter_links(context.get("link"), who.announcement_url if who else None)
    return render.Draft(name, locale, context, letter=True, links=links)


def compose(name: str, locale: str, **context: Any) -> tuple[str, str]:
    """The letter's text and HTML parts in its language."""
    return render.one(draft(name, locale, **context))


def send(
    name: str,
    /,
    *,
    to: Invitation | Contact,
    supplier: Supplier,
    subject: str,
    kind: str,
    dedupe_key: str,
    assessment_id: int | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Write letter `name` to the contact behind `to` (an invitation or a contact) and queue it.

    `subject` is the letter's own subject in its language, without the 【company】 prefix.
    The templates get `addressee` (lines), `sender`, `company` (ours), `supplier`, `contact`
    and `locale` besides `context`.
    """
    contact = to if _is_contact(to) else to.contact
    locale = to.locale
    who = sender(locale)
    letter = draft(
        name,
        locale,
        addressee=addressee(supplier, contact, locale),
        sender=who,
        company=who.company,
        supplier=supplier,
        contact=contact,
        **context,
    )
    return outbox.queue(
        recipient=to.email,
        subject=subject_line(who, subject, locale),
        draft=letter,
        kind=kind,
        dedupe_key=dedupe_key,
        locale=locale,
        recipient_name=contact.name if contact else "",
        contact_id=contact.id if contact else None,
        assessment_id=assessment_id,
    )


def _is_contact(to: Invitation | Contact) -> bool:
    """A contact (the model or a job's row of it), not a link that names one."""
    return not hasattr(to, "contact_id")
