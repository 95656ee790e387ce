"""Delegation (担当者の追加): a supplier contact adds a colleague from the portal instead of
forwarding the mail. The colleague becomes a contact of the same supplier (procurement sees who
added them and when), gets a link of their own to the same assessment, and a letter saying who
added them and what is asked; the audit log records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from vendorrisk import clock
from vendorrisk.catalog import Template
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.mail import follow_up
from vendorrisk.models import AssessmentStatus, Contact, Invitation
from vendorrisk.services import audit
from vendorrisk.services.periodic.reminders import reply_by
from vendorrisk.services.periodic.settings import schedule_settings
from vendorrisk.services.review.findings import link_until, new_link, open_findings_for_portal


class DelegationError(ServiceError):
    """A colleague who cannot be added, with a message for the contact."""


@dataclass(frozen=True)
class Colleague:
    """The colleague as the contact typed them in the portal."""

    name: str
    email: str
    department: str = ""
    job_title: str = ""
    locale: str = "ja"


def delegate(
    invitation: Invitation, colleague: Colleague, template: Template | None, now: datetime
) -> Invitation:
    """Add `colleague` as a contact of the supplier (or take the contact with that address),
    give them their own link to the assessment and mail it; returns their new invitation."""
    email = colleague.email.strip().lower()
    assessment = invitation.assessment
    contact = _contact(assessment.supplier_id, email)
    own = contact is not None and contact.id == invitation.contact_id
    if own or email == invitation.email.strip().lower():
        raise DelegationError(_l("This is your own address. Please enter your colleague's."))
    if contact is None:
        contact = _new_contact(invitation, colleague, email, now)
    elif contact.undeliverable_at is not None:
        raise DelegationError(
            _l("Mail to this address could not be delivered before. Please check the address.")
        )
    # The findings are the supplier's to see once the review is complete (the result told them).
    completed = assessment.status == AssessmentStatus.completed
    findings = open_findings_for_portal(assessment) if completed else []
    until = assessment.due_on if assessment.is_open else link_until(findings, clock.local_day(now))
    added, link = new_link(assessment, contact, colleague.locale, now, until)
    added.expires_at = max(added.expires_at, invitation.expires_at)  # as long as the inviter's
    audit.record("contact_delegated", added, summary=f"{invitation.email} → {contact.email}")
    today = clock.local_day(now)
    late = assessment.is_open and assessment.due_on < today
    soft_date = reply_by(assessment, today, schedule_settings()) if late else None
    follow_up.delegated(added, link, invitation.contact, template, findings, soft_date)
    return added


def _contact(supplier_id: int, email: str) -> Contact | None:
    return db.session.scalar(
        sa.select(Contact).where(
            Contact.supplier_id == supplier_id, sa.func.lower(Contact.email) == email
        )
    )


def _new_contact(invitation: Invitation, colleague: Colleague, email: str, now: datetime):
    contact = Contact(
        supplier_id=invitation.assessment.supplier_id,
        name=colleague.name.strip(),
        email=email,
        department=colleague.department.strip(),
        job_title=colleague.job_title.strip(),
        locale=colleague.locale,
        added_by_contact_id=invitation.contact_id,
        added_at=now,
    )
    db.session.add(contact)
    db.session.flush()
    return contact
