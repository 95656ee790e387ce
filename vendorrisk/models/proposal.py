"""Proposed register changes: what a supplier states (in its answers or through a renewed-evidence
link) waits here until staff accept or reject it; the register holds only reviewed facts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.attestation import AttestationKind
from vendorrisk.models.base import UTCDateTime, enum_column, one_of, utcnow

#: The SCS evaluation (サプライチェーン強化に向けたセキュリティ対策評価制度): an attestation kind.
SCS = AttestationKind.scs.value
#: What a proposal may change: one kind of attestation.
PROPOSAL_KINDS = tuple(k.value for k in AttestationKind)


class ProposalStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"
    #: Closed by a newer statement of the same kind from the same supplier, never decided.
    superseded = "superseded"


class AttestationProposal(db.Model):
    """One change to the register a supplier stated, waiting for (or given) a person's decision."""

    __tablename__ = "attestation_proposals"
    __audited__ = True
    __table_args__ = (
        one_of("kind", PROPOSAL_KINDS, name="proposal_kind"),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"
        ),
        sa.CheckConstraint(
            "assessment_id IS NOT NULL OR evidence_request_id IS NOT NULL", name="has_source"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier whose register entry would change.
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: What would change: an attestation kind (models.AttestationKind) or "scs".
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: The attestation it would change; None when accepting creates one (and for "scs").
    attestation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("attestations.id", ondelete="CASCADE"), index=True
    )
    #: The proposed values by register field (dates as YYYY-MM-DD, the limit in yen).
    fields: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: Source: the submitted assessment whose answers state it.
    assessment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    #: Source: the renewed-evidence link it came through.
    evidence_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("evidence_requests.id", ondelete="CASCADE"), index=True
    )
    #: The evidence file uploaded with it, kept and shown beside it.
    evidence_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    #: pending until a person decides.
    status: Mapped[ProposalStatus] = mapped_column(
        enum_column(ProposalStatus, "proposal_status"),
        default=ProposalStatus.pending,
        server_default=ProposalStatus.pending.value,
        index=True,
    )
    #: Who accepted or rejected it.
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When it was accepted or rejected (UTC).
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was rejected (shown to staff).
    reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: When the supplier stated it (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supplier = relationship("Supplier")
    attestation = relationship("Attestation")
    assessment = relationship("Assessment")
    evidence_request = relationship("EvidenceRequest")
    evidence = relationship("StoredFile")
    decided_by = relationship("User")

    @property
    def is_pending(self) -> bool:
        return self.status == ProposalStatus.pending
