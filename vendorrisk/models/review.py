"""Review after submission: clarifications, findings (指摘事項), risk acceptance, tier history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, UTCDateTime, enum_column, one_of, utcnow
from vendorrisk.vocab import SCS_LEVELS, TierSource


class Decision(enum.StrEnum):
    approved = "approved"
    approved_with_conditions = "approved_with_conditions"
    rejected = "rejected"


class Severity(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class FindingStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"
    risk_accepted = "risk_accepted"


#: Statuses of a finding still to be remediated (Finding.is_open).
OPEN_FINDING_STATUSES = (FindingStatus.open, FindingStatus.in_progress)
#: Severities counted as serious (Finding.is_serious): reported to the management, shown red.
SERIOUS_SEVERITIES = (Severity.high, Severity.critical)


class Clarification(db.Model):
    """A reviewer's question about one answer (確認依頼) and the thread that follows."""

    __tablename__ = "clarifications"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The assessment asked about.
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    #: The template question asked about.
    question_id: Mapped[str] = mapped_column(sa.String(100))
    #: Open until the reviewer closes it.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was asked (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment = relationship("Assessment", back_populates="clarifications")
    messages: Mapped[list[ClarificationMessage]] = relationship(
        back_populates="clarification",
        cascade="all, delete-orphan",
        order_by="ClarificationMessage.id",
        lazy="selectin",
    )

    @property
    def awaiting_supplier(self) -> bool:
        return (
            self.closed_at is None
            and bool(self.messages)
            and self.messages[-1].author_type == "reviewer"
        )


class ClarificationMessage(db.Model):
    __tablename__ = "clarification_messages"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The thread.
    clarification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clarifications.id", ondelete="CASCADE"), index=True
    )
    #: "reviewer" or "contact".
    author_type: Mapped[str] = mapped_column(sa.String(10))
    #: Who wrote it (email), kept as text.
    author_label: Mapped[str] = mapped_column(sa.String(254))
    #: The message.
    body: Mapped[str] = mapped_column(sa.Text)
    #: When it was written (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clarification: Mapped[Clarification] = relationship(back_populates="messages")

    __table_args__ = (
        sa.CheckConstraint("author_type IN ('reviewer', 'contact')", name="author_type"),
    )


class Finding(TimestampMixin, db.Model):
    """A gap raised from an answer or by hand, tracked to resolution or accepted as a risk."""

    __tablename__ = "findings"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier concerned.
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: The assessment it came from, if any.
    assessment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="SET NULL"), index=True
    )
    #: The question it came from, if any.
    question_id: Mapped[str | None] = mapped_column(sa.String(100))
    #: Short statement of the gap.
    title: Mapped[str] = mapped_column(sa.String(300))
    #: How serious.
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "finding_severity"))
    #: What must be done (是正内容).
    required_action: Mapped[str] = mapped_column(sa.Text, default="")
    #: Remediation due date (是正期限).
    due_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    #: Our person following it up.
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: Where it stands.
    status: Mapped[FindingStatus] = mapped_column(
        enum_column(FindingStatus, "finding_status"), default=FindingStatus.open, index=True
    )
    #: Shown to the supplier in the portal, who answers with a remediation plan.
    visible_to_supplier: Mapped[bool] = mapped_column(default=True)
    #: The supplier's remediation plan (是正計画).
    supplier_plan: Mapped[str] = mapped_column(sa.Text, default="")
    #: When the plan was last given (UTC).
    supplier_plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was resolved (UTC).
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Risk acceptance: the approver (a CISO).
    accepted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Risk acceptance: why the residual risk (残留リスク) is accepted.
    accepted_reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: Risk acceptance: until when; to be looked at again after.
    accepted_until: Mapped[date | None] = mapped_column(sa.Date, index=True)

    supplier = relationship("Supplier")
    assessment = relationship("Assessment")
    owner = relationship("User", foreign_keys=[owner_id])
    accepted_by = relationship("User", foreign_keys=[accepted_by_id])

    __table_args__ = (
        sa.CheckConstraint(
            "status != 'risk_accepted' OR "
            "(accepted_by_id IS NOT NULL AND accepted_until IS NOT NULL)",
            name="acceptance_complete",
        ),
    )

    @hybrid_property
    def is_open(self) -> bool:
        """Open or in progress: still to be remediated (neither resolved nor accepted)."""
        return self.status in OPEN_FINDING_STATUSES

    @is_open.inplace.expression
    @classmethod
    def _is_open_sql(cls) -> sa.ColumnElement[bool]:
        return cls.status.in_(OPEN_FINDING_STATUSES)

    @hybrid_property
    def is_serious(self) -> bool:
        """High or critical."""
        return self.severity in SERIOUS_SEVERITIES

    @is_serious.inplace.expression
    @classmethod
    def _is_serious_sql(cls) -> sa.ColumnElement[bool]:
        return cls.severity.in_(SERIOUS_SEVERITIES)

    @hybrid_method
    def is_overdue(self, today: date) -> bool:
        """Open and past its remediation due date."""
        return self.is_open and self.due_on is not None and self.due_on < today

    @is_overdue.inplace.expression
    @classmethod
    def _is_overdue_sql(cls, today: date) -> sa.ColumnElement[bool]:
        return sa.and_(cls.is_open, cls.due_on < today)


class DecisionRecord:
    """A change decided about a supplier, kept as history: who decided (the rules or a person),
    why, who, when. TierChange and RequiredLevelChange add what changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier.
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: Who decided (a vocab.TierSource): "rule" or "manual".
    source: Mapped[str] = mapped_column(sa.String(10))
    #: Why: the rules' reasons, or the person's reason.
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: The person who did it (None for the rules on their own).
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When (UTC).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @declared_attr
    def changed_by(cls) -> Mapped[Any]:
        return relationship("User")


class TierChange(DecisionRecord, db.Model):
    """The tier's history: who, when, why, from the rules or by hand."""

    __tablename__ = "tier_changes"

    #: The tier before (a vocab.Tier).
    previous: Mapped[str | None] = mapped_column(sa.String(10))
    #: The tier after (a vocab.Tier).
    tier: Mapped[str] = mapped_column(sa.String(10))

    __table_args__ = (one_of("source", TierSource),)


class RequiredLevelChange(DecisionRecord, db.Model):
    """The history of the SCS level asked of a supplier: a person's raise above the rules (with
    the reason), and its hand-back to the rules."""

    __tablename__ = "required_level_changes"

    #: The level asked before and after (vocab.SCS_LEVELS).
    previous: Mapped[str] = mapped_column(sa.String(10))
    level: Mapped[str] = mapped_column(sa.String(10))

    __table_args__ = (
        one_of("source", TierSource),
        one_of("previous", SCS_LEVELS),
        one_of("level", SCS_LEVELS),
    )
