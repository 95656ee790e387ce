"""Proposed register changes: what a supplier states becomes a fact only when staff accept it.

A submitted questionnaire's SECURITY ACTION, ISMS, cyber-insurance and SCS answers, and the
renewed evidence sent through an evidence link, each make an `AttestationProposal` where they
differ from the register. A reviewer sees the register value beside the proposed one (and the
evidence file), and accepts it (the register changes, audited, and the tier rules run again, as
a supplier edit does) or rejects it with a reason. The format rules for what a supplier types
(SECURITY ACTION id, certificate number, plausible dates) live in catalog/formats.py, so the
questionnaire, the portal forms, the proposal screen and the review's flags apply the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from vendorrisk.catalog.formats import FormatError as FormatError
from vendorrisk.catalog.formats import clean_certificate_number as clean_certificate_number
from vendorrisk.catalog.formats import clean_security_action_id as clean_security_action_id
from vendorrisk.catalog.formats import date_problem as date_problem
from vendorrisk.catalog.formats import stated_date_problem as stated_date_problem
from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import (
    Assessment,
    Attestation,
    AttestationKind,
    EvidenceRequest,
    SecurityActionLevel,
    StoredFile,
    Supplier,
    User,
)
from vendorrisk.models.proposal import SCS, AttestationProposal, ProposalStatus
from vendorrisk.services import audit
from vendorrisk.services.register import suppliers
from vendorrisk.services.review import tiers
from vendorrisk.vocab import SCS_LEVELS


class ProposalError(ServiceError):
    """A decision the proposal's state does not allow; the message is translated."""


# -- format rules (vendorrisk/catalog/formats.py, which the questionnaire's types apply too) ---


def clean_identifier(kind: str, raw: str) -> str:
    """The identifier of an attestation of `kind`, checked by its scheme's format (FormatError)."""
    if kind == AttestationKind.security_action:
        return clean_security_action_id(raw)
    return clean_certificate_number(raw)


def as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


# -- what the questionnaire asks ---------------------------------------------------------------


@dataclass(frozen=True)
class Stated:
    """The questions of one register entry: a gate question and the values it opens."""

    kind: str
    #: The gate question and the answers that mean "held".
    gate: str
    held: tuple[str, ...]
    #: Register field by question id.
    fields: dict[str, str]


#: The supplier questionnaire (questionnaires/csm-v2-supplier.yaml, section d9-specifics).
STATED = (
    Stated(
        AttestationKind.security_action,
        "sup-d9s-01",
        tuple(SecurityActionLevel),
        {"sup-d9s-01": "level", "sup-d9s-02": "identifier", "sup-d9s-03": "issued_on"},
    ),
    Stated(
        AttestationKind.isms,
        "sup-d9s-04",
        ("yes",),
        {
            "sup-d9s-05": "identifier",
            "sup-d9s-06": "issuer",
            "sup-d9s-07": "scope",
            "sup-d9s-08": "expires_on",
        },
    ),
    Stated(
        AttestationKind.cyber_insurance,
        "sup-d9s-10",
        ("yes",),
        {"sup-d9s-11": "issuer", "sup-d9s-12": "coverage_limit_jpy", "sup-d9s-13": "expires_on"},
    ),
    Stated(
        SCS,
        "sup-d9s-14",
        tuple(SCS_LEVELS),
        {"sup-d9s-14": "level", "sup-d9s-15": "expires_on"},
    ),
)
#: Question id → (register field) of the stated dates, for the review's flags.
STATED_DATES = {
    qid: field
    for stated in STATED
    for qid, field in stated.fields.items()
    if field in ("issued_on", "expires_on")
}

#: The largest coverage limit a statement may propose (JPY, exclusive).
MAX_COVERAGE_JPY = 10**15
#: The register's text columns of bounded length: a longer statement cannot be accepted as is.
MAX_LENGTHS = {
    field: Attestation.__table__.c[field].type.length for field in ("identifier", "issuer")
}

#: How each register field reads to staff.
FIELD_LABELS = {
    "level": _l("Level"),
    "identifier": _l("Declaration ID or certificate number"),
    "issuer": _l("Certification body or insurer"),
    "scope": _l("Scope"),
    "issued_on": _l("Date of declaration or certification"),
    "expires_on": _l("Expiry date"),
    "coverage_limit_jpy": _l("Coverage limit (JPY)"),
}


def _stated_value(field: str, value: Any) -> Any:
    """An answer as the register would hold it (None when it cannot be)."""
    if value is None or value == "":
        return None
    if field in ("issued_on", "expires_on"):
        day = as_date(value)
        return day.isoformat() if day else None
    if field == "coverage_limit_jpy":
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return None
        # Finite, positive and below a thousand trillion yen: what the register's column holds.
        return int(amount) if amount.is_finite() and 0 < amount < MAX_COVERAGE_JPY else None
    return str(value).strip() or None


def register_value(supplier: Supplier, attestation: Attestation | None, kind: str, field: str):
    """What the register holds now, in the form proposals store (dates as YYYY-MM-DD)."""
    if kind == SCS and field == "level":
        field = "scs_level"  # an SCS proposal's level is the attestation's scs_level
    value = getattr(attestation, field, None) if attestation is not None else None
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


def current_attestation(supplier: Supplier, kind: str) -> Attestation | None:
    """The supplier's attestation of `kind` a statement is about: the one lasting longest."""
    held = [a for a in supplier.attestations if a.kind == kind]
    held.sort(key=lambda a: (a.expires_on or date.max, a.id or 0), reverse=True)
    return held[0] if held else None


def _differences(stated: Stated, answers: dict[str, Any], supplier: Supplier) -> dict[str, Any]:
    attestation = current_attestation(supplier, stated.kind)
    changed = {}
    for qid, field in stated.fields.items():
        value = _stated_value(field, answers.get(qid))
        if value is not None and value != register_value(supplier, attestation, stated.kind, field):
            changed[field] = value
    return changed


# -- making proposals --------------------------------------------------------------------------


def propose_from_answers(assessment: Assessment, now: datetime) -> list[AttestationProposal]:
    """Propose what the submitted answers state and the register does not hold yet.

    A resubmission (after a return for changes) updates the assessment's own pending proposals.
    """
    answers = {a.question_id: a.value for a in assessment.answers}
    supplier = assessment.supplier
    made = []
    for stated in STATED:
        pending = _pending_of(assessment.id, stated.kind)
        if answers.get(stated.gate) not in stated.held:
            if pending is not None:
                db.session.delete(pending)  # the resubmission no longer states it
            continue
        changed = _differences(stated, answers, supplier)
        if pending is not None:
            pending.fields = changed
        elif changed:
            attestation = current_attestation(supplier, stated.kind)
            pending = AttestationProposal(
                supplier=supplier,
                kind=str(stated.kind),
                attestation=attestation,
                fields=changed,
                assessment_id=assessment.id,
                created_at=now,
            )
            db.session.add(pending)
            _supersede(pending, now)
        if pending is not None and changed:
            made.append(pending)
        elif pending is not None:
            db.session.delete(pending)  # the resubmitted answers now match the register
    db.session.flush()
    return made


def _pending_of(assessment_id: int, kind: str) -> AttestationProposal | None:
    return db.session.scalar(
        sa.select(AttestationProposal).where(
            AttestationProposal.assessment_id == assessment_id,
            AttestationProposal.kind == kind,
            AttestationProposal.status == ProposalStatus.pending,
        )
    )


def propose_from_evidence(
    request: EvidenceRequest, stored: StoredFile, fields: dict[str, Any], now: datetime
) -> AttestationProposal:
    """Keep renewed evidence sent by link as a proposal, with its file, for staff to decide."""
    attestation = request.attestation
    proposal = AttestationProposal(
        supplier_id=attestation.supplier_id,
        kind=str(attestation.kind),
        attestation=attestation,
        fields={k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()},
        evidence_request_id=request.id,
        evidence=stored,
        created_at=now,
    )
    db.session.add(proposal)
    _supersede(proposal, now)
    db.session.flush()
    return proposal


def _supersede(newer: AttestationProposal, now: datetime) -> None:
    """Close the supplier's older pending proposals of the same kind: accepting one of them
    after the newer statement would put older values back in the register."""
    db.session.flush()
    older = db.session.scalars(
        sa.select(AttestationProposal).where(
            AttestationProposal.supplier_id == newer.supplier_id,
            AttestationProposal.kind == newer.kind,
            AttestationProposal.status == ProposalStatus.pending,
            AttestationProposal.id != newer.id,
        )
    ).all()
    for proposal in older:
        proposal.status, proposal.decided_at = ProposalStatus.superseded, now
        audit.record("proposal_superseded", proposal, summary=f"#{newer.id}")


# -- deciding ----------------------------------------------------------------------------------


def _decide(proposal: AttestationProposal, status: ProposalStatus, user: User, now: datetime):
    """Claim the decision: one conditional UPDATE, so of two people deciding at once (or one
    accepting while another rejects) only the first changes anything; the other is told."""
    claimed = db.session.execute(
        sa.update(AttestationProposal)
        .where(
            AttestationProposal.id == proposal.id,
            AttestationProposal.status == ProposalStatus.pending,
        )
        .values(status=status, decided_by_id=user.id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(proposal)
        raise ProposalError(gettext("This proposal has already been decided."))
    proposal.status, proposal.decided_by_id, proposal.decided_at = status, user.id, now


def accept(proposal: AttestationProposal, user: User, now: datetime) -> None:
    """Apply the proposal to the register (audited), then run the tier rules again."""
    too_long = _too_long(proposal)
    if too_long:
        raise ProposalError(too_long[0])
    _decide(proposal, ProposalStatus.accepted, user, now)
    supplier = proposal.supplier
    _apply_attestation(proposal)
    audit.record("proposal_accepted", proposal, summary=_summary(proposal))
    db.session.flush()
    tiers.apply_tier_rules(supplier, tiers.tier_rules(), now)
    db.session.flush()


def reject(proposal: AttestationProposal, reason: str, user: User, now: datetime) -> None:
    """Leave the register as it is, and keep why."""
    if not (reason or "").strip():
        raise ProposalError(gettext("Give the reason for rejecting the proposal."))
    _decide(proposal, ProposalStatus.rejected, user, now)
    proposal.reason = reason.strip()
    audit.record("proposal_rejected", proposal, summary=proposal.reason)
    db.session.flush()


def _summary(proposal: AttestationProposal) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(proposal.fields.items()))


def _apply_attestation(proposal: AttestationProposal) -> None:
    attestation = proposal.attestation
    if attestation is None:
        attestation = Attestation(supplier=proposal.supplier, kind=AttestationKind(proposal.kind))
        proposal.attestation = attestation
    values = {}
    for field, value in proposal.fields.items():
        if field in ("issued_on", "expires_on"):
            value = as_date(value)
        elif field == "level" and proposal.kind == SCS:
            # ★3 is evaluated by the supplier itself, ★4 and ★5 by a third party.
            field, values["evaluation"] = "scs_level", "self" if value == "star3" else "third_party"
        elif field == "level":
            value = SecurityActionLevel(value)
        values[field] = value
    if proposal.kind == SCS and not (values.get("scs_level") or attestation.scs_level):
        raise ProposalError(
            gettext("An SCS evaluation needs its level: the statement gives none to record.")
        )
    suppliers.apply(attestation, values)
    suppliers.replace_file(attestation, "evidence", proposal.evidence)


# -- the screen --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One field of a proposal: its label, the register's value and the proposed one."""

    field: str
    label: Any
    current: Any
    proposed: Any


def rows(proposal: AttestationProposal) -> list[Row]:
    """The proposal's fields side by side with the register's values."""
    supplier = proposal.supplier
    attestation = proposal.attestation
    return [
        Row(
            field,
            FIELD_LABELS.get(field, field),
            register_value(supplier, attestation, proposal.kind, field),
            value,
        )
        for field, value in proposal.fields.items()
    ]


def problems(proposal: AttestationProposal, today: date) -> list[str]:
    """What looks wrong in the proposed values: a bad format, a past or implausible date."""
    found = []
    for field, value in proposal.fields.items():
        if field in ("issued_on", "expires_on") and (day := as_date(value)):
            if problem := stated_date_problem(field, day, today):
                found.append(problem)
        elif field == "identifier":
            try:
                clean_identifier(proposal.kind, str(value))
            except ValueError as exc:
                found.append(str(exc))
    return found + _too_long(proposal)


def _too_long(proposal: AttestationProposal) -> list[str]:
    """The proposed texts longer than the register holds (they cannot be accepted as they are:
    reject them, and correct the register by hand)."""
    return [
        gettext(
            "%(field)s is longer than the register holds (%(n)d characters).",
            field=FIELD_LABELS[field],
            n=limit,
        )
        for field, limit in MAX_LENGTHS.items()
        if len(str(proposal.fields.get(field) or "")) > limit
    ]


def pending(supplier_id: int | None = None) -> list[AttestationProposal]:
    """The proposals waiting for a decision, oldest first (one supplier's, when given)."""
    query = (
        sa.select(AttestationProposal)
        .where(AttestationProposal.status == ProposalStatus.pending)
        .order_by(AttestationProposal.created_at, AttestationProposal.id)
        .options(
            joinedload(AttestationProposal.supplier).selectinload(Supplier.attestations),
            joinedload(AttestationProposal.attestation),
            joinedload(AttestationProposal.evidence),
            joinedload(AttestationProposal.assessment),
        )
    )
    if supplier_id is not None:
        query = query.where(AttestationProposal.supplier_id == supplier_id)
    return list(db.session.scalars(query).unique())


def decided(supplier_id: int, limit: int = 20) -> list[AttestationProposal]:
    """The supplier's latest decided proposals, newest first."""
    return list(
        db.session.scalars(
            sa.select(AttestationProposal)
            .where(
                AttestationProposal.supplier_id == supplier_id,
                AttestationProposal.status != ProposalStatus.pending,
            )
            .order_by(AttestationProposal.decided_at.desc(), AttestationProposal.id.desc())
            .limit(limit)
            .options(selectinload(AttestationProposal.decided_by))
        )
    )


def pending_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AttestationProposal.id)).where(
            AttestationProposal.status == ProposalStatus.pending
        )
    )
