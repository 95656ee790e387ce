"""Renewed evidence asked for by link: the expiry alert mails a contact a link that only takes
the renewed certificate (or policy), its new expiry date and (if it changed) its number, and the
owner is told when it comes. What the contact sends is a proposal (services.register.proposals):
the register changes only when staff accept it. The link works until the attestation's expiry
plus the grace period, as renewed documents often arrive only in the last weeks.
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
from vendorrisk.mail import messages, outbox, questionnaire
from vendorrisk.models import Attestation, Contact, EvidenceRequest, StoredFile, Supplier
from vendorrisk.models.proposal import AttestationProposal
from vendorrisk.services import audit
from vendorrisk.services.assessments.lifecycle import invitation_expiry
from vendorrisk.services.register import proposals


class EvidenceError(ServiceError):
    """An upload of renewed evidence we refuse; the message is translated."""


def evidence_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/portal/e/{token}"


def ask_for_evidence(
    attestation: Attestation,
    contact: Contact,
    days: int,
    today: date,
    now: datetime,
    older: list[EvidenceRequest] | None = None,
) -> EvidenceRequest | None:
    """Mail a link that only asks for the renewed evidence; older open links stop working
    (`older`: the contact's open links to it, when the caller has read them for many at once)."""
    request = EvidenceRequest(
        attestation_id=attestation.id,
        contact_id=contact.id,
        email=contact.email,
        locale=contact.locale,
        created_at=now,
        expires_at=link_expiry(attestation, now),
    )
    token = request.issue_token()
    sent = questionnaire.evidence_request(
        attestation, contact, days, today, evidence_link(token), request.expires_at
    )
    if sent is None:
        return None
    if older is None:
        with db.session.no_autoflush:  # a job's batch writes the requests with their mail
            older = open_requests(attestation.id, contact.id, now)
    for request_before in older:
        request_before.expires_at = now
    db.session.add(request)
    if not outbox.batching():
        db.session.flush()
    return request


def link_expiry(attestation: Attestation, now: datetime) -> datetime:
    """The end of the expiry day plus the grace period; a late alert's link gets the grace."""
    grace = now + timedelta(days=current_app.config["PORTAL_GRACE_DAYS"])
    if attestation.expires_on is None:
        return grace
    return max(invitation_expiry(attestation.expires_on), grace)


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
    """The new expiry date as typed: a real date in the future, and a plausible one."""
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        raise EvidenceError(gettext("Give the new expiry date.")) from None
    if day <= today:
        raise EvidenceError(gettext("The new expiry date must be in the future."))
    if problem := proposals.date_problem("expires_on", day, today):
        raise EvidenceError(problem)
    return day


def parse_renewal(form, attestation: Attestation, today: date) -> dict:
    """The renewal as typed in the form: its new expiry date and, when given, its new number."""
    fields: dict = {"expires_on": parse_new_expiry(form.get("expires_on", ""), today)}
    raw = (form.get("identifier") or "").strip()
    if raw:
        try:
            identifier = proposals.clean_identifier(attestation.kind, raw)
        except ValueError as exc:
            raise EvidenceError(str(exc)) from None
        if identifier != attestation.identifier:
            fields["identifier"] = identifier
    return fields


def receive_evidence(
    request: EvidenceRequest, stored: StoredFile, fields: dict, now: datetime
) -> AttestationProposal:
    """Keep the renewed evidence as a proposal for staff to accept, and tell the owner.

    Nothing changes on the attestation until then: a supplier-typed expiry is never a fact
    unreviewed.
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
    proposal = proposals.propose_from_evidence(request, stored, fields, now)
    for other in open_requests(attestation.id, None, now):
        if other.id != request.id:
            other.expires_at = now  # the evidence is in: the other contacts' links close
    audit.record("evidence_received", attestation, summary=request.email)
    db.session.flush()
    _tell_owner_received(request, stored, fields["expires_on"], attestation.expires_on, now)
    return proposal


def _tell_owner_received(
    request: EvidenceRequest,
    stored: StoredFile,
    given: date,
    previous: date | None,
    now: datetime,
) -> None:
    owner = request.attestation.supplier.owner
    if owner is None or not owner.active:
        return
    messages.evidence_received(owner, request, stored, given, previous, clock.local_day(now))
