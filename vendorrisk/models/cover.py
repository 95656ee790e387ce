"""Covers: a certificate or check sheet a supplier already holds, given as the answer to the
questions it covers (an ISMS certificate, an SCS ★ evaluation result, a 自工会/部工会 check sheet),
reviewed by staff instead of being answered again."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, enum_column, one_of, utcnow

#: The kinds of catalog/scs.py COVER_KINDS, as stored. The catalog sits above the models (it
#: reads them through vendorrisk.i18n), so they are written here too; a test keeps both equal.
COVER_KIND_VALUES = ("isms", "scs", "jama")


class CoverStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class Cover(db.Model):
    """One certificate or check sheet given as the answer to the questions of its kind."""

    __tablename__ = "covers"
    __audited__ = True
    __table_args__ = (
        one_of("kind", COVER_KIND_VALUES, name="cover_kind"),
        sa.CheckConstraint(
            "(status = 'pending') = (reviewed_at IS NULL)", name="reviewed_unless_pending"
        ),
        sa.CheckConstraint("status != 'rejected' OR reason != ''", name="rejected_with_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The assessment whose questions it answers.
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    #: What it is: a key of catalog/scs.py COVER_KINDS ("isms", "scs", "jama").
    kind: Mapped[str] = mapped_column(sa.String(10))
    #: The certificate, evaluation result or check sheet as uploaded (outside the web root).
    file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    #: The supplier's statement of its scope and period (適用範囲・有効期限).
    scope: Mapped[str] = mapped_column(sa.Text)
    #: The contact who attached it.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    #: When it was attached (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: pending until a reviewer accepts or rejects it.
    status: Mapped[CoverStatus] = mapped_column(
        enum_column(CoverStatus, "cover_status"),
        default=CoverStatus.pending,
        server_default=CoverStatus.pending.value,
    )
    #: Who accepted or rejected it.
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When it was accepted or rejected (UTC).
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was rejected (shown to the supplier with the questions to answer).
    reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    assessment = relationship("Assessment", back_populates="covers")
    file = relationship("StoredFile")
    contact = relationship("Contact")
    reviewed_by = relationship("User")
    #: The answers it gave (a hand answer or a rejection takes an answer away from it).
    answers = relationship("Answer", back_populates="cover", order_by="Answer.id")

    @property
    def is_pending(self) -> bool:
        return self.status == CoverStatus.pending
