"""Contracts with a supplier and their Direction 9 security clauses."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, one_of
from vendorrisk.vocab import SCS_LEVELS

#: The Direction 9 clause checklist: one boolean column of Contract each.
CONTRACT_CLAUSES = (
    "clause_security_requirements",
    "clause_incident_notification",
    "clause_audit_rights",
    "clause_subcontracting_approval",
    "clause_data_return_deletion",
    "clause_policy_compliance",
    "clause_cyber_insurance",
)


class Contract(TimestampMixin, db.Model):
    __tablename__ = "contracts"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier the contract is with.
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: Title (e.g. 業務委託基本契約).
    title: Mapped[str] = mapped_column(sa.String(200))
    #: Our contract number or reference.
    reference: Mapped[str] = mapped_column(sa.String(100), default="")
    #: First day in force.
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Last day in force; None for open-ended.
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Security requirements are stated.
    clause_security_requirements: Mapped[bool] = mapped_column(default=False)
    #: Incident notification duty (インシデント報告義務).
    clause_incident_notification: Mapped[bool] = mapped_column(default=False)
    #: Deadline of the incident notification, in hours.
    incident_notification_hours: Mapped[int | None] = mapped_column()
    #: Right to audit (監査の受入れ).
    clause_audit_rights: Mapped[bool] = mapped_column(default=False)
    #: Subcontracting (再委託) needs our approval.
    clause_subcontracting_approval: Mapped[bool] = mapped_column(default=False)
    #: Return and deletion of our data at the end (データの返却・消去).
    clause_data_return_deletion: Mapped[bool] = mapped_column(default=False)
    #: Compliance with our security policy.
    clause_policy_compliance: Mapped[bool] = mapped_column(default=False)
    #: Cyber insurance is required.
    clause_cyber_insurance: Mapped[bool] = mapped_column(default=False)
    #: The SCS level the contract requires of the supplier (vocab.SCS_LEVELS), if it names one.
    required_scs_level: Mapped[str | None] = mapped_column(sa.String(10))
    #: By when the supplier must hold it.
    required_scs_by: Mapped[date | None] = mapped_column(sa.Date)
    #: Free-text notes.
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: The signed contract, when uploaded.
    document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )

    supplier = relationship("Supplier", back_populates="contracts")
    document = relationship("StoredFile", lazy="joined")

    __table_args__ = (
        sa.CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates"
        ),
        sa.CheckConstraint(
            "incident_notification_hours IS NULL OR incident_notification_hours > 0",
            name="notification_hours",
        ),
        one_of("required_scs_level", SCS_LEVELS, nullable=True),
    )

    @property
    def clause_count(self) -> int:
        return sum(bool(getattr(self, name)) for name in CONTRACT_CLAUSES)

    @hybrid_method
    def in_force_on(self, day: date) -> bool:
        """In force on `day`: started (or no start date) and not yet ended (or open-ended)."""
        started = self.starts_on is None or self.starts_on <= day
        return started and (self.ends_on is None or day <= self.ends_on)

    @in_force_on.inplace.expression
    @classmethod
    def _in_force_on_sql(cls, day: date) -> sa.ColumnElement[bool]:
        return sa.and_(
            sa.or_(cls.starts_on.is_(None), cls.starts_on <= day),
            sa.or_(cls.ends_on.is_(None), cls.ends_on >= day),
        )
