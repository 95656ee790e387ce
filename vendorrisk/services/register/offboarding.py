"""Offboarding (取引終了手続き): when a contract ends or a supplier is retired, the checklist
Direction 9's contract clauses ask for, and the supplier's status follows it.

Starting the checklist sets the supplier `offboarding` (still live: it stays in the roll-up);
each step is recorded with who, when and a note; the erasure certificate (消去証明書) comes
through an emailed link (`ask_for_certificate`, the portal's `/portal/erasure/<token>`) or is
uploaded by staff. The supplier is `offboarded` (out of the roll-up) only when every step is
done or a CISO or administrator approves an exception with a reason. Nothing else may set
either status: `check_status_change` refuses it for the supplier form (through
services.register.suppliers.apply). Services flush, never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from sqlalchemy.orm import joinedload, selectinload

from vendorrisk import clock
from vendorrisk.catalog import catalog
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.mail import messages
from vendorrisk.mail import offboarding as letters
from vendorrisk.models import (
    OFFBOARDING_STEPS,
    Assessment,
    AssessmentStatus,
    Attestation,
    Contact,
    ErasureRequest,
    EvidenceRequest,
    Finding,
    Invitation,
    Offboarding,
    OffboardingReason,
    OffboardingStep,
    Role,
    StoredFile,
    Supplier,
    SupplierStatus,
    User,
)
from vendorrisk.services import audit, files
from vendorrisk.services.assessments import lifecycle

#: Who may offboard a supplier with steps still open (an exception, with a reason).
EXCEPTION_ROLES = frozenset({Role.ciso, Role.admin})
#: How long the erasure-certificate link works.
LINK_DAYS = 30
#: Steps that carry no evidence of their own: the person says what was done.
NOTE_REQUIRED = frozenset({"data_returned", "access_removed"})
#: Statuses only the checklist sets.
CHECKLIST_STATUSES = frozenset({SupplierStatus.offboarding, SupplierStatus.offboarded})
#: Assessments still waiting for the supplier's answers: cancelled with its links.
WAITING = (AssessmentStatus.draft, AssessmentStatus.sent, AssessmentStatus.in_progress,
           AssessmentStatus.returned)  # fmt: skip


class OffboardingError(ServiceError):
    """An offboarding action refused; the message is translated."""


class StatusFollowsChecklist(OffboardingError):
    """The supplier form tried to set a status only the checklist sets."""

    def __init__(self, message: str, supplier_id: int | None) -> None:
        super().__init__(message)
        self.supplier_id = supplier_id


# -- reading ------------------------------------------------------------------------------------


def _with_details(stmt: sa.Select) -> sa.Select:
    return stmt.options(
        joinedload(Offboarding.started_by),
        joinedload(Offboarding.exception_by),
        selectinload(Offboarding.steps).joinedload(OffboardingStep.done_by),
        selectinload(Offboarding.steps).joinedload(OffboardingStep.stored_file),
    )


def open_offboarding(supplier_id: int) -> Offboarding | None:
    """The supplier's checklist still open, if any (at most one: a partial unique index)."""
    stmt = sa.select(Offboarding).where(Offboarding.supplier_id == supplier_id, Offboarding.is_open)
    return db.session.scalar(_with_details(stmt))


def records_of(supplier_id: int) -> list[Offboarding]:
    """Every checklist of the supplier, newest first (a supplier may come back and leave again)."""
    stmt = (
        sa.select(Offboarding)
        .where(Offboarding.supplier_id == supplier_id)
        .order_by(Offboarding.started_at.desc(), Offboarding.id.desc())
    )
    return list(db.session.scalars(_with_details(stmt)))


def latest_request(offboarding: Offboarding) -> ErasureRequest | None:
    """The checklist's latest erasure-certificate link (to show whom it went to and its state)."""
    return db.session.scalar(
        sa.select(ErasureRequest)
        .where(ErasureRequest.offboarding_id == offboarding.id)
        .order_by(ErasureRequest.id.desc())
        .limit(1)
    )


def open_findings(supplier_id: int) -> int:
    """The supplier's findings neither resolved nor accepted."""
    stmt = sa.select(sa.func.count(Finding.id)).where(
        Finding.supplier_id == supplier_id, Finding.is_open
    )
    return db.session.scalar(stmt) or 0


# -- the status rule ----------------------------------------------------------------------------


def check_status_change(obj: Any, fields: dict[str, Any]) -> None:
    """Refuse a supplier status only the checklist sets (call before the fields are applied).

    `offboarding` is set by starting the checklist, `offboarded` by completing it or by an
    exception; a supplier whose checklist is open keeps its status until then. A new supplier
    may still be recorded as offboarded (a former supplier entered for the record).
    """
    if not isinstance(obj, Supplier) or "status" not in fields or fields["status"] is None:
        return
    wanted, current = SupplierStatus(fields["status"]), obj.status
    if wanted == current:
        return
    if current == SupplierStatus.offboarding:
        message = gettext(
            "This supplier is being offboarded: its status follows the offboarding checklist. "
            "Nothing was saved; complete the checklist or stop it on the supplier's page."
        )
    elif wanted == SupplierStatus.offboarding or (
        wanted == SupplierStatus.offboarded and obj.id is not None
    ):
        message = gettext(
            "A supplier is offboarded through its offboarding checklist: start it on the "
            "supplier's page. Nothing was saved."
        )
    else:
        return
    raise StatusFollowsChecklist(message, obj.id)


# -- the checklist ------------------------------------------------------------------------------


def start(supplier: Supplier, reason: str, note: str, user: User, now: datetime) -> Offboarding:
    """Open the checklist: every step open, the supplier `offboarding` (still live)."""
    if supplier.status == SupplierStatus.offboarded:
        raise OffboardingError(gettext("This supplier is already offboarded."))
    if open_offboarding(supplier.id) is not None:
        raise OffboardingError(gettext("Offboarding of this supplier has already started."))
    offboarding = Offboarding(
        supplier=supplier,
        reason=OffboardingReason(reason),
        note=note.strip(),
        started_by_id=user.id,
        started_at=now,
        steps=[OffboardingStep(key=key) for key in OFFBOARDING_STEPS],
    )
    supplier.status = SupplierStatus.offboarding
    db.session.add(offboarding)
    db.session.flush()
    audit.record("offboarding_started", supplier, summary=str(offboarding.reason.value))
    return offboarding


def _require_open(offboarding: Offboarding) -> None:
    if not offboarding.is_open:
        raise OffboardingError(gettext("This offboarding is already closed; nothing was changed."))


def _require_not_done(step: OffboardingStep) -> None:
    if step.done_at is None:
        return
    who = step.done_by.label if step.done_by else gettext("someone")
    raise OffboardingError(
        gettext(
            "This step was already recorded as done by %(name)s on %(date)s; nothing was changed.",
            name=who,
            date=clock.local_day(step.done_at).isoformat(),
        )
    )


def mark_done(
    offboarding: Offboarding,
    key: str,
    note: str,
    user: User,
    now: datetime,
    certificate: StoredFile | None = None,
) -> OffboardingStep:
    """Record one step as done by `user`; the last one completes the checklist.

    The erasure certificate needs its file (received through the link, or `certificate`); the
    links step revokes the supplier's open links; the findings step needs none left open.
    """
    # One step at a time per checklist: two editors ticking the last two steps at once must not
    # each see the other's still open (PostgreSQL locks the row; SQLite writes one at a time).
    db.session.execute(
        sa.select(Offboarding.id).where(Offboarding.id == offboarding.id).with_for_update()
    )
    db.session.expire(offboarding, ["steps"])
    _require_open(offboarding)
    if key not in OFFBOARDING_STEPS:
        raise OffboardingError(gettext("There is no such step."))
    step = offboarding.step(key)
    _require_not_done(step)
    step.note = _what_the_step_did(offboarding, step, note.strip(), certificate, now)
    step.done_by_id, step.done_at = user.id, now
    db.session.flush()
    audit.record("offboarding_step_done", offboarding.supplier, summary=key)
    if not offboarding.open_steps:
        _complete(offboarding, now)
    return step


def _what_the_step_did(
    offboarding: Offboarding,
    step: OffboardingStep,
    note: str,
    certificate: StoredFile | None,
    now: datetime,
) -> str:
    """Check (and for links, do) what the step stands for; its note for the record."""
    if step.key in NOTE_REQUIRED and not note:
        raise OffboardingError(gettext("Say what was done: the note is kept in the record."))
    if step.key == "erasure_certificate":
        _attach(step, certificate)
        if step.stored_file is None:
            raise OffboardingError(
                gettext("Attach the erasure certificate, or ask the supplier for it by link.")
            )
        for request in _open_requests(offboarding, now):
            request.expires_at = now  # the certificate is in: its link is no longer needed
    elif step.key == "links_revoked":
        done = _revoked_note(revoke_links(offboarding, now))
        return f"{note} {done}" if note else done
    elif step.key == "findings_closed" and (left := open_findings(offboarding.supplier_id)):
        raise OffboardingError(
            gettext(
                "%(n)d findings of this supplier are still open: resolve them or accept their "
                "risk first.",
                n=left,
            )
        )
    return note


def _attach(step: OffboardingStep, certificate: StoredFile | None) -> None:
    """Keep a new certificate on the step; the one it replaces goes if nothing else names it."""
    if certificate is None:
        return
    old, step.stored_file = step.stored_file, certificate
    if old is not None and old is not certificate:
        files.discard(old)


def _complete(offboarding: Offboarding, now: datetime) -> None:
    offboarding.completed_at = now
    _offboard(offboarding, now)
    audit.record("offboarding_completed", offboarding.supplier)


def approve_exception(offboarding: Offboarding, reason: str, user: User, now: datetime) -> None:
    """Offboard the supplier with steps still open: a CISO's or administrator's decision."""
    if user.role not in EXCEPTION_ROLES:
        raise OffboardingError(gettext("Only a CISO or an administrator may approve an exception."))
    _require_open(offboarding)
    if not reason.strip():
        raise OffboardingError(gettext("Give the reason for offboarding with steps still open."))
    offboarding.exception_reason = reason.strip()
    offboarding.exception_by_id, offboarding.exception_at = user.id, now
    _offboard(offboarding, now)
    still_open = ", ".join(step.key for step in offboarding.open_steps)
    audit.record("offboarding_exception", offboarding.supplier, summary=still_open)


def _offboard(offboarding: Offboarding, now: datetime) -> None:
    """The supplier leaves the roll-up; links issued since the links step stop working too."""
    offboarding.supplier.status = SupplierStatus.offboarded
    revoked = revoke_links(offboarding, now, include_erasure=True)
    if any(revoked.values()):
        audit.record("offboarding_links_revoked", offboarding.supplier, changes=revoked)
    db.session.flush()


def cancel(offboarding: Offboarding, reason: str, user: User, now: datetime) -> None:
    """Stop an open checklist (the contract was renewed after all): the supplier is active
    again; what had been recorded stays in the audit log."""
    _require_open(offboarding)
    if not reason.strip():
        raise OffboardingError(gettext("Give the reason for stopping the offboarding."))
    supplier = offboarding.supplier
    done = {step.key: step.note for step in offboarding.steps if step.done_at is not None}
    audit.record("offboarding_cancelled", supplier, summary=reason.strip(), changes=done)
    certificate = offboarding.step("erasure_certificate").stored_file
    db.session.delete(offboarding)
    supplier.status = SupplierStatus.active
    db.session.flush()
    files.discard(certificate)


# -- links --------------------------------------------------------------------------------------


def revoke_links(
    offboarding: Offboarding, now: datetime, include_erasure: bool = False
) -> dict[str, int]:
    """Stop every link of the supplier still working: questionnaire links (the questionnaires
    still waiting for answers are withdrawn, and their contacts told) and renewed-evidence
    links; with `include_erasure`, the checklist's own erasure-certificate links too."""
    supplier_id = offboarding.supplier_id
    waiting = _withdraw_waiting(supplier_id, now)
    invitations = db.session.scalars(_live_invitations(supplier_id, now)).all()
    for invitation in invitations:
        invitation.revoked_at = now
    evidence = db.session.scalars(_live_evidence(supplier_id, now)).all()
    erasure = _open_requests(offboarding, now) if include_erasure else []
    for request in [*evidence, *erasure]:
        request.expires_at = now
    db.session.flush()
    return {
        "questionnaires_withdrawn": len(waiting),
        "questionnaire_links": len(invitations) + _cancelled_links(waiting, now),
        "evidence_links": len(evidence),
        "erasure_links": len(erasure),
    }


def _withdraw_waiting(supplier_id: int, now: datetime) -> list[Assessment]:
    """Cancel the supplier's questionnaires still waiting for answers (each contact is told)."""
    waiting = db.session.scalars(
        sa.select(Assessment)
        .where(Assessment.supplier_id == supplier_id, Assessment.status.in_(WAITING))
        .options(selectinload(Assessment.invitations))
    ).all()
    for assessment in waiting:
        template = catalog().get(assessment.template_id, assessment.template_version)
        lifecycle.cancel(assessment, template, now)
    return list(waiting)


def _live_invitations(supplier_id: int, now: datetime) -> sa.Select:
    return (
        sa.select(Invitation)
        .join(Assessment)
        .where(
            Assessment.supplier_id == supplier_id,
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )


def _live_evidence(supplier_id: int, now: datetime) -> sa.Select:
    return (
        sa.select(EvidenceRequest)
        .join(Attestation)
        .where(
            Attestation.supplier_id == supplier_id,
            EvidenceRequest.fulfilled_at.is_(None),
            EvidenceRequest.expires_at > now,
        )
    )


def _cancelled_links(waiting: list[Assessment], now: datetime) -> int:
    """The links the withdrawn questionnaires' cancellation stopped."""
    return sum(1 for a in waiting for i in a.invitations if i.revoked_at == now)


def _revoked_note(revoked: dict[str, int]) -> str:
    """What the links step did, in words for its note."""
    return gettext(
        "Revoked: %(links)d questionnaire links (%(withdrawn)d questionnaires withdrawn) and "
        "%(evidence)d renewed-evidence links.",
        links=revoked["questionnaire_links"],
        withdrawn=revoked["questionnaires_withdrawn"],
        evidence=revoked["evidence_links"],
    )


def live_links(supplier_id: int, now: datetime) -> int:
    """How many questionnaire and renewed-evidence links of the supplier still work."""
    found = (_live_invitations(supplier_id, now), _live_evidence(supplier_id, now))
    counts = (sa.select(sa.func.count()).select_from(q.subquery()) for q in found)
    return sum(db.session.scalar(count) or 0 for count in counts)


# -- the erasure certificate by link ------------------------------------------------------------


def erasure_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/portal/erasure/{token}"


def recipient(supplier: Supplier) -> Contact | None:
    """Whom the link goes to: the primary contact whose address works, else the first that works."""
    working = [c for c in supplier.contacts if c.undeliverable_at is None]
    return next((c for c in working if c.is_primary), None) or next(iter(working), None)


def _open_requests(offboarding: Offboarding, now: datetime) -> list[ErasureRequest]:
    return list(
        db.session.scalars(
            sa.select(ErasureRequest).where(
                ErasureRequest.offboarding_id == offboarding.id,
                ErasureRequest.fulfilled_at.is_(None),
                ErasureRequest.expires_at > now,
            )
        )
    )


def ask_for_certificate(offboarding: Offboarding, user: User, now: datetime) -> ErasureRequest:
    """Mail the supplier's contact a link that only takes the erasure certificate; an earlier
    link of the checklist stops working."""
    _require_open(offboarding)
    _require_not_done(offboarding.step("erasure_certificate"))
    contact = recipient(offboarding.supplier)
    if contact is None:
        raise OffboardingError(
            gettext("This supplier has no contact with a working email address: add one first.")
        )
    for earlier in _open_requests(offboarding, now):
        earlier.expires_at = now
    request = ErasureRequest(
        offboarding=offboarding,
        contact_id=contact.id,
        email=contact.email,
        locale=contact.locale,
        requested_by_id=user.id,
        created_at=now,
        expires_at=now + timedelta(days=LINK_DAYS),
    )
    token = request.issue_token()
    db.session.add(request)
    db.session.flush()
    letters.erasure_request(request, offboarding.supplier, contact, erasure_link(token))
    audit.record("erasure_certificate_requested", offboarding.supplier, summary=contact.email)
    return request


def find_erasure_request(token: str) -> ErasureRequest | None:
    """The link a presented token belongs to (none for a forged one)."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        ErasureRequest.with_token(token).options(
            joinedload(ErasureRequest.offboarding)
            .joinedload(Offboarding.supplier)
            .joinedload(Supplier.owner)
        )
    )


def erasure_closed_reason(request: ErasureRequest, now: datetime) -> str | None:
    """None while the link may be used, else why not: "fulfilled" (sent with this link),
    "received" (the certificate is in by another way), "closed" (the checklist is) or
    "expired" (or replaced by a newer link)."""
    offboarding = request.offboarding
    if request.fulfilled_at is not None:
        return "fulfilled"
    if offboarding.is_open and offboarding.step("erasure_certificate").done_at is not None:
        return "received"
    if not offboarding.is_open:
        return "closed"
    if request.expires_at <= now:
        return "expired"
    return None


def receive_certificate(request: ErasureRequest, stored: StoredFile, now: datetime) -> None:
    """Keep the certificate the contact sent on the checklist's step and tell the owner; staff
    then record the step as done (what a supplier sends is checked before it counts)."""
    offboarding = request.offboarding
    if erasure_closed_reason(request, now) not in (None, "fulfilled"):
        raise OffboardingError(gettext("This link is no longer valid."))
    claimed = db.session.execute(
        sa.update(ErasureRequest)
        .where(ErasureRequest.id == request.id, ErasureRequest.fulfilled_at.is_(None))
        .values(fulfilled_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise OffboardingError(gettext("The certificate has already been sent with this link."))
    request.fulfilled_at = now
    _attach(offboarding.step("erasure_certificate"), stored)
    for other in _open_requests(offboarding, now):
        if other.id != request.id:
            other.expires_at = now
    audit.record("erasure_certificate_received", offboarding.supplier, summary=request.email)
    db.session.flush()
    if (user := responsible(offboarding)) is not None:
        messages.erasure_certificate_received(user, offboarding, request, stored)


def responsible(offboarding: Offboarding) -> User | None:
    """Who follows the checklist up: the supplier's owner, else the person who started it
    (active accounts only)."""
    candidates = (offboarding.supplier.owner, offboarding.started_by)
    return next((user for user in candidates if user is not None and user.active), None)


# -- the record ---------------------------------------------------------------------------------

#: The record's columns, in order (English and stable, as the other exports).
RECORD_COLUMNS = (
    "offboarding_id", "supplier_id", "supplier", "reason", "note", "started_at", "started_by",
    "completed_at", "exception_at", "exception_by", "exception_reason", "step", "done_at",
    "done_by", "step_note", "file", "file_sha256",
)  # fmt: skip


def _record_row(o: Offboarding, step: OffboardingStep) -> dict[str, Any]:
    return {
        "offboarding_id": o.id,
        "supplier_id": o.supplier_id,
        "supplier": o.supplier.display_name,
        "reason": o.reason.value,
        "note": o.note,
        "started_at": _utc(o.started_at),
        "started_by": _who(o.started_by),
        "completed_at": _utc(o.completed_at),
        "exception_at": _utc(o.exception_at),
        "exception_by": _who(o.exception_by),
        "exception_reason": o.exception_reason,
        "step": step.key,
        "done_at": _utc(step.done_at),
        "done_by": _who(step.done_by),
        "step_note": step.note,
        "file": step.stored_file.original_name if step.stored_file else "",
        "file_sha256": step.stored_file.sha256 if step.stored_file else "",
    }


def _utc(moment: datetime | None) -> datetime | None:
    """Naive UTC, as the other exports write times (a spreadsheet has no time zones)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


def _who(user: User | None) -> str:
    return user.email if user is not None else ""


def record_frame(supplier_id: int) -> pd.DataFrame:
    """The supplier's checklists, one row a step, for the CSV or XLSX record."""
    rows = [_record_row(o, step) for o in records_of(supplier_id) for step in o.steps]
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    for column in ("started_at", "completed_at", "exception_at", "done_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame
