"""Renewed evidence asked for by link: the expiry alert mails a contact a link that only takes
the renewed certificate (or policy) and its new expiry date, and the owner is told when it comes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from sqlalchemy.orm import joinedload

from vendorrisk import clock
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.mail import messages
from vendorrisk.models import Attestation, Contact, EvidenceRequest, StoredFile, Supplier
from vendorrisk.services import audit
from vendorrisk.services.register import suppliers

#: How long an evidence request link works.
EVIDENCE_LINK_DAYS = 60


class EvidenceError(ServiceError):
    """An upload of renewed evidence we refuse; the message is translated."""


def evidence_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/portal/e/{token}"


def ask_for_evidence(
    attestation: Attestation, contact: Contact, days: int, today: date, now: datetime
) -> EvidenceRequest | None:
    """Mail a link that only asks for the renewed evidence; older open links stop working."""
    request = EvidenceRequest(
        attestation_id=attestation.id,
        contact_id=contact.id,
        email=contact.email,
        locale=contact.locale,
        created_at=now,
        expires_at=now + timedelta(days=EVIDENCE_LINK_DAYS),
    )
    token = request.issue_token()
    sent = messages.evidence_request(
        attestation, contact, days, today, evidence_link(token), request.expires_at
    )
    if sent is None:
        return None
    for older in open_requests(attestation.id, contact.id, now):
        older.expires_at = now
    db.session.add(request)
    db.session.flush()
    return request


def open_requests(attestation_id: int, contact_id: int | None, now: datetime):
    """The attestation's links still working (the contact's only, when given)."""
    query = sa.select(EvidenceRequest).where(
        EvidenceRequest.attestation_id == attestation_id,
        EvidenceRequest.fulfilled_at.is_(None),
        EvidenceRequest.expires_at > now,
    )
    if contact_id is not None:
        query = query.where(EvidenceRequest.contact_id == contact_id)
    return list(db.session.scalars(query))


def find_evidence_request(token: str) -> EvidenceRequest | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        EvidenceRequest.with_token(token).options(
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
    for other in open_requests(attestation.id, None, now):
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
    messages.evidence_received(owner, request, stored, given, previous, moved, clock.local_day(now))
