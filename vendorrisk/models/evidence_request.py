"""Evidence requests: a link that only asks a supplier contact for renewed evidence (証跡)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime
from vendorrisk.models.mixins import EmailedLinkMixin


class EvidenceRequest(EmailedLinkMixin, db.Model):
    """One emailed link asking one contact to upload the renewal of one attestation.

    A newer request for the same attestation replaces it by setting `expires_at` to the past.
    """

    __tablename__ = "evidence_requests"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The attestation (certificate, declaration, policy) whose renewal is asked for.
    attestation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attestations.id", ondelete="CASCADE"), index=True
    )
    #: When the contact uploaded the renewed evidence; the link then stops working.
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The file uploaded through it.
    stored_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )

    attestation = relationship("Attestation")
    stored_file = relationship("StoredFile")
