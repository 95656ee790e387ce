"""The company's own Appendix A self-assessment (自己評価), run as PDCA cycles (サイクル)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow


class ItemStatus(enum.StrEnum):
    """The status of one check item, in the guideline's words 実施している ... 該当しない."""

    done = "done"
    partly = "partly"
    not_done = "not_done"
    not_applicable = "not_applicable"


#: Statuses that leave nothing to do on an item.
SETTLED_STATUSES = (ItemStatus.done, ItemStatus.not_applicable)


class SelfAssessmentCycle(TimestampMixin, db.Model):
    """One dated snapshot of the check sheet; frozen once closed."""

    __tablename__ = "self_assessment_cycles"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A name management recognises (e.g. 2026年度 上期).
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    #: The day the answers describe (基準日).
    as_of: Mapped[date] = mapped_column(sa.Date, index=True)
    #: Template id and version answered: later template edits never change the cycle's meaning.
    template_id: Mapped[str] = mapped_column(sa.String(100))
    #: Version of the template.
    template_version: Mapped[int] = mapped_column()
    #: The cycle whose answers were copied into this one.
    copied_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("self_assessment_cycles.id", ondelete="SET NULL")
    )
    #: Who started it.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When it was closed (UTC); None while open.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Who closed it.
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: True while open, NULL once closed: the unique constraint allows one open cycle only.
    open_flag: Mapped[bool | None] = mapped_column(unique=True, default=True)
    #: The Direction 9 indicators as they stood when the cycle closed (None while open).
    d9_snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: Raised on every save of the KPI values: a save based on an older one is a conflict.
    kpi_version: Mapped[int] = mapped_column(default=1)
    #: Started in another edition's template than the cycle copied (Ver 2.0 -> Ver 3.0): the
    #: crosswalk used and where each answer of that cycle went (services.selfassessment.cycles).
    carried: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    items: Mapped[list[SelfAssessmentItem]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="SelfAssessmentItem.id"
    )
    kpis: Mapped[list[SelfAssessmentKpi]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="SelfAssessmentKpi.id"
    )
    created_by = relationship("User", foreign_keys=[created_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])

    __table_args__ = (
        sa.CheckConstraint(
            "(closed_at IS NULL AND open_flag IS NOT NULL) "
            "OR (closed_at IS NOT NULL AND open_flag IS NULL)",
            name="open_or_closed",
        ),
        sa.CheckConstraint("open_flag IS NULL OR open_flag", name="open_flag_true"),
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def __repr__(self) -> str:
        return f"<SelfAssessmentCycle {self.id} {self.name}>"


class SelfAssessmentItem(db.Model):
    """The answer to one check item in one cycle, by its internal owner."""

    __tablename__ = "self_assessment_items"
    __audited__ = True
    #: The version moves with every save; the log shows what changed, not the counter.
    __audit_ignored__ = frozenset({"version"})

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The cycle.
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("self_assessment_cycles.id", ondelete="CASCADE"), index=True
    )
    #: The template question id (stable across versions), e.g. int-d9-02.
    question_id: Mapped[str] = mapped_column(sa.String(100))
    #: Where it stands; None until answered.
    status: Mapped[ItemStatus | None] = mapped_column(
        enum_column(ItemStatus, "self_assessment_status")
    )
    #: What shows it (documents, records, where they are kept).
    evidence: Mapped[str] = mapped_column(sa.Text, default="")
    #: An evidence file, stored outside the web root.
    evidence_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL"), index=True
    )
    #: Our person responsible for the item.
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: When it should be done (目標期日).
    target_on: Mapped[date | None] = mapped_column(sa.Date)
    #: Free-text notes (plans, reasons for "not applicable").
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: Raised on every change: a save based on an older version is a conflict.
    version: Mapped[int] = mapped_column(default=1)
    #: Who saved it last.
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When it was last saved (UTC).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: To be confirmed (要確認) after a move to another edition, and why: "split", "merged",
    #: "new" or "dropped" (a dropped item's content lives here); cleared when someone saves it.
    review: Mapped[str | None] = mapped_column(sa.String(20))

    cycle: Mapped[SelfAssessmentCycle] = relationship(back_populates="items")
    owner = relationship("User", foreign_keys=[owner_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    evidence_file = relationship("StoredFile")

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "question_id", name="uq_self_assessment_items_question"),
        sa.CheckConstraint(
            "review IS NULL OR review IN ('split', 'merged', 'new', 'dropped')", name="review"
        ),
    )

    def is_overdue(self, today: date) -> bool:
        """Answered but not settled, past its target date, in a cycle still open."""
        begun = self.status is not None and self.status not in SETTLED_STATUSES
        late = self.target_on is not None and self.target_on < today
        return begun and late and self.cycle.is_open

    #: UPDATE ... WHERE version = the one loaded: two saves at once cannot both win.
    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        """Names the item in the audit log."""
        return self.question_id


class SelfAssessmentKpi(db.Model):
    """One KPI value (e.g. training completion rate) measured for a cycle."""

    __tablename__ = "self_assessment_kpis"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The cycle.
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("self_assessment_cycles.id", ondelete="CASCADE"), index=True
    )
    #: The KPI's key in services.selfassessment.KPIS.
    key: Mapped[str] = mapped_column(sa.String(50))
    #: The value, in the KPI's unit (a count, or a percentage 0-100).
    value: Mapped[float] = mapped_column(sa.Float)

    cycle: Mapped[SelfAssessmentCycle] = relationship(back_populates="kpis")

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "key", name="uq_self_assessment_kpis_key"),
        sa.CheckConstraint("value >= 0", name="value"),
    )

    @property
    def display_name(self) -> str:
        return self.key
