"""Evidence requests: a link that only asks a supplier contact for renewed evidence (証跡)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, utcnow


class EvidenceRequest(db.Model):
    """One emailed link asking one contact to upload the renewal of one attestation."""

    __tablename__ = "evidence_requests"
    __audited__ = True
    __audit_redacted__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The attestation (certificate, declaration, policy) whose renewal is asked for.
    attestation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("attestations.id", ondelete="CASCADE"), index=True
    )
    #: The contact asked.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    #: Address it was sent to (kept if the contact changes).
    email: Mapped[str] = mapped_column(sa.String(254))
    #: Language of the mail and the page: "ja" or "en".
    locale: Mapped[str] = mapped_column(sa.String(5), default="ja")
    #: SHA-256 of the 256-bit token.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: When it was created and mailed (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The link stops working after this (UTC); set to the past when a newer request replaces it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the contact uploaded the renewed evidence; the link then stops working.
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The file uploaded through it.
    stored_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )

    attestation = relationship("Attestation")
    contact = relationship("Contact")
    stored_file = relationship("StoredFile")

    __table_args__ = (sa.CheckConstraint("locale IN ('ja', 'en')", name="locale"),)
