"""A letter to a supplier contact (取引先へのご連絡), in the form a Japanese company writes to its
business partners: 宛名 (company, department, title, name 様), greeting and who writes, the body,
how to check that the mail is genuine, closing and signature; 【company】 before the subject.

Each kind of letter is one reviewable template a language, ``mail/supplier/<name>.<locale>.txt``,
extending ``mail/supplier/base.<locale>.txt``. The HTML part is the same text, set as paragraphs
with the letter's own links made clickable (`as_html`), so the two parts never say different
things. Dates in prose use the `longdate` filter (2027年1月4日（月） / Monday, 4 January 2027).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from vendorrisk.mail import outbox
from vendorrisk.mail.sender import Sender, sender
from vendorrisk.vocab import Locale

if TYPE_CHECKING:
    from vendorrisk.catalog import Template
    from vendorrisk.models import Assessment, Contact, Invitation, OutboxMessage, Supplier

#: Something in a letter's text that reads as a link; only the letter's own are made clickable.
URL = re.compile(r"https?://[^\s<>\"）」]+")


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


def as_html(text: str, locale: str, links: Iterable[str | None] = ()) -> str:
    """The text part as HTML: a paragraph per blank-line block, line breaks kept, and `links`
    (the letter's own: its portal link, our announcement page) made clickable. Any other
    address stays text: it may come from what a supplier typed (a name, a department)."""
    ours = {link for link in links if link}

    def paragraph(block: str) -> str:
        lines = []
        for line in block.split("\n"):
            parts, last = [], 0
            for match in URL.finditer(line):
                if match.group(0) not in ours:
                    continue
                parts.append(escape(line[last : match.start()]))
                parts.append(Markup('<a href="{0}">{0}</a>').format(match.group(0)))
                last = match.end()
            parts.append(escape(line[last:]))
            lines.append(Markup("").join(parts))
        return Markup('<p style="margin:0 0 1em 0;">{}</p>').format(Markup("<br>\n").join(lines))

    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return render_template(
        "mail/supplier/letter.html",
        locale=locale,
        paragraphs=[paragraph(block) for block in blocks],
    )


def compose(name: str, locale: str, **context: Any) -> tuple[str, str]:
    """The letter's text and HTML parts in its language; its `link` and the `sender`'s
    announcement page are the links made clickable."""
    who = context.get("sender")
    links = (context.get("link"), who.announcement_url if who else None)
    with force_locale(locale):
        text = render_template(f"mail/supplier/{name}.{locale}.txt", locale=locale, **context)
        html = as_html(text, locale, links)
    return text, html


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
    text, html = compose(
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
        body_text=text,
        body_html=html,
        kind=kind,
        dedupe_key=dedupe_key,
        locale=locale,
        recipient_name=contact.name if contact else "",
        contact_id=contact.id if contact else None,
        assessment_id=assessment_id,
    )


def _is_contact(to: Invitation | Contact) -> bool:
    from vendorrisk.models import Contact

    return isinstance(to, Contact)
