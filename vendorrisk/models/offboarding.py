"""Offboarding (取引終了手続き): the checklist Direction 9's contract clauses ask for when a
contract ends or a supplier is retired, and the emailed link that takes the erasure certificate
(消去証明書).

A supplier is `offboarding` (still live in the roll-up) while its checklist is open, and becomes
`offboarded` only when every step is done or a CISO approves an exception with a reason. The
record (who did what, when, with which note and file) is kept after it closes.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, enum_column, one_of, utcnow
from vendorrisk.models.mixins import EmailedLinkMixin


class OffboardingReason(enum.StrEnum):
    contract_ended = "contract_ended"
    retired = "retired"


#: The checklist, in the order it is shown: data returned (データの返却), the erasure certificate
#: received (消去証明書), accounts and network access removed, the supplier's open links revoked,
#: its findings closed or their risk accepted.
STEPS = (
    "data_returned",
    "erasure_certificate",
    "access_removed",
    "links_revoked",
    "findings_closed",
)
#: An open checklist: neither completed nor closed by an exception (the SQL of Offboarding.is_open).
_OPEN_SQL = "completed_at IS NULL AND exception_at IS NULL"


class Offboarding(db.Model):
    """One supplier's offboarding checklist: started, then completed or closed by an exception."""

    __tablename__ = "offboardings"
    __audited__ = True
    __table_args__ = (
        sa.Index(
            "uq_offboardings_open_supplier",
            "supplier_id",
            unique=True,
            sqlite_where=sa.text(_OPEN_SQL),
            postgresql_where=sa.text(_OPEN_SQL),
        ),
        sa.CheckConstraint(
            "exception_at IS NULL OR (exception_reason != '' AND completed_at IS NULL)",
            name="exception_with_reason",
        ),
        # Ids never reused (SQLite would reuse a deleted row's): mail keys and the audit name them.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier leaving; one open checklist at a time (a partial unique index).
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: Why: the contract ended, or the supplier is retired.
    reason: Mapped[OffboardingReason] = mapped_column(
        enum_column(OffboardingReason, "offboarding_reason")
    )
    #: What the person who started it wrote (the contract, the date work stops...).
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: Who started it.
    started_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When it was started (UTC); the reminders count from it.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its last step was done (UTC): the supplier was offboarded then.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why the supplier was offboarded with steps still open (a CISO's or admin's exception).
    exception_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: Who approved the exception.
    exception_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When the exception was approved (UTC): the supplier was offboarded then.
    exception_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    supplier = relationship("Supplier")
    started_by = relationship("User", foreign_keys=[started_by_id])
    exception_by = relationship("User", foreign_keys=[exception_by_id])
    steps: Mapped[list[OffboardingStep]] = relationship(
        back_populates="offboarding", cascade="all, delete-orphan", order_by="OffboardingStep.id"
    )

    @hybrid_property
    def is_open(self) -> bool:
        """Neither completed nor closed by an exception: the supplier is still `offboarding`."""
        return self.completed_at is None and self.exception_at is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_sql(cls) -> sa.ColumnElement[bool]:
        return sa.and_(cls.completed_at.is_(None), cls.exception_at.is_(None))

    @property
    def closed_at(self) -> datetime | None:
        """When the supplier was offboarded: completion or the exception."""
        return self.completed_at or self.exception_at

    def step(self, key: str) -> OffboardingStep:
        return next(s for s in self.steps if s.key == key)

    @property
    def open_steps(self) -> list[OffboardingStep]:
        return [s for s in self.steps if s.done_at is None]


class OffboardingStep(db.Model):
    """One step of a checklist: done by whom and when, with a note (and the erasure certificate)."""

    __tablename__ = "offboarding_steps"
    __audited__ = True
    __table_args__ = (
        sa.UniqueConstraint("offboarding_id", "key"),
        one_of("key", STEPS, name="offboarding_step_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The checklist it belongs to.
    offboarding_id: Mapped[int] = mapped_column(
        sa.ForeignKey("offboardings.id", ondelete="CASCADE"), index=True
    )
    #: Which step (one of STEPS).
    key: Mapped[str] = mapped_column(sa.String(30))
    #: Who recorded it as done.
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: When it was recorded as done (UTC); None while open.
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: What was done (how the data came back, which accounts went, the links revoked...).
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: The erasure certificate (消去証明書), sent through the emailed link or uploaded by staff.
    stored_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL"), index=True
    )

    offboarding: Mapped[Offboarding] = relationship(back_populates="steps")
    done_by = relationship("User")
    stored_file = relationship("StoredFile")

    @property
    def supplier_id(self) -> int | None:
        """The supplier of its checklist (so that its audit rows join the supplier's history)."""
        offboarding = self.offboarding
        return offboarding.supplier_id if offboarding is not None else None


class ErasureRequest(EmailedLinkMixin, db.Model):
    """One emailed link asking a supplier contact for the erasure certificate of a checklist.

    A newer request for the same checklist replaces it by setting `expires_at` to the past.
    """

    __tablename__ = "erasure_requests"
    __audited__ = True
    #: The link's checks (EmailedLinkMixin), and ids never reused (SQLite would reuse a deleted
    #: row's): mail keys name them.
    __table_args__ = (*EmailedLinkMixin.__table_args__, {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The checklist whose erasure certificate is asked for.
    offboarding_id: Mapped[int] = mapped_column(
        sa.ForeignKey("offboardings.id", ondelete="CASCADE"), index=True
    )
    #: Who asked for it.
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When the contact uploaded the certificate; the link then stops working.
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offboarding: Mapped[Offboarding] = relationship()

    @property
    def supplier_id(self) -> int | None:
        """The supplier of its checklist (its audit rows join the supplier's history)."""
        offboarding = self.offboarding
        return offboarding.supplier_id if offboarding is not None else None
