"""The CISO's roll-up: per-area scores stored at completion, and quarterly history.

Both tables are derived data, written by services (review.complete, the rollup-snapshot job), so
that every panel of the roll-up is an SQL aggregate over stored numbers. They are not audited:
the assessments and suppliers they come from are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.extensions import db
from vendorrisk.models.assessment import Assessment
from vendorrisk.models.attestation import Attestation

#: The areas a score is stored for, as (kind, key) -> column of AreaScore: the guideline's
#: directives ("directive", "1".."10") and the NIST CSF functions ("csf", "GV".."RC").
AREA_COLUMNS = {
    **{("directive", str(n)): f"directive_{n}" for n in range(1, 11)},
    **{("csf", f): f"csf_{f.lower()}" for f in ("GV", "ID", "PR", "DE", "RS", "RC")},
}


class AreaScore(db.Model):
    """The scores (0-100) per area of one completed assessment: one column per area.

    A column per area rather than a row per area: the roll-up averages each area over ten
    thousand suppliers in one pass, where a GROUP BY over a row per area makes SQLite sort some
    150,000 rows on every page view. None: nothing counted in that area (or not asked).
    """

    __tablename__ = "area_scores"

    #: The completed assessment.
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    #: Its supplier (copied, so that aggregates need no join through assessments).
    supplier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: Direction 1: risk recognised by management and a security policy.
    directive_1: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 2: a management structure.
    directive_2: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 3: budget and people.
    directive_3: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 4: risks identified and a plan to treat them.
    directive_4: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 5: protection and detection.
    directive_5: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 6: review and improvement (PDCA).
    directive_6: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 7: incident response.
    directive_7: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 8: recovery and business continuity.
    directive_8: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 9: the supply chain.
    directive_9: Mapped[float | None] = mapped_column(sa.Float)
    #: Direction 10: information sharing.
    directive_10: Mapped[float | None] = mapped_column(sa.Float)
    #: NIST CSF Govern (GV).
    csf_gv: Mapped[float | None] = mapped_column(sa.Float)
    #: NIST CSF Identify (ID).
    csf_id: Mapped[float | None] = mapped_column(sa.Float)
    #: NIST CSF Protect (PR).
    csf_pr: Mapped[float | None] = mapped_column(sa.Float)
    #: NIST CSF Detect (DE).
    csf_de: Mapped[float | None] = mapped_column(sa.Float)
    #: NIST CSF Respond (RS).
    csf_rs: Mapped[float | None] = mapped_column(sa.Float)
    #: NIST CSF Recover (RC).
    csf_rc: Mapped[float | None] = mapped_column(sa.Float)

    __table_args__ = tuple(
        sa.CheckConstraint(f"{column} BETWEEN 0 AND 100", name=f"{column}_range")
        for column in AREA_COLUMNS.values()
    )

    @classmethod
    def values_of(cls, areas: Mapping[tuple[str, str], float]) -> dict[str, float]:
        """Column values from scoring.area_scores' (kind, key) -> score (unknown areas left out)."""
        return {AREA_COLUMNS[area]: value for area, value in areas.items() if area in AREA_COLUMNS}

    def areas(self) -> dict[tuple[str, str], float]:
        """The inverse of values_of: the areas with a score."""
        found = {area: getattr(self, column) for area, column in AREA_COLUMNS.items()}
        return {area: value for area, value in found.items() if value is not None}


class RollupSnapshot(db.Model):
    """One live supplier's roll-up facts in one quarter, as last captured in that quarter.

    The rollup-snapshot job replaces the current quarter's rows every night; once a quarter is
    over its rows are never rewritten. Supplier and owner ids are plain numbers, not foreign
    keys: deleting a supplier or a user must not change what past quarters showed.
    """

    __tablename__ = "rollup_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: First day of the quarter (1 January, 1 April, 1 July or 1 October).
    period: Mapped[date] = mapped_column(sa.Date)
    #: The supplier (id kept after it is deleted).
    supplier_id: Mapped[int] = mapped_column()
    #: The company's day the row was captured on.
    captured_on: Mapped[date] = mapped_column(sa.Date)
    #: Supplier category then.
    category: Mapped[str] = mapped_column(sa.String(30))
    #: Risk tier then (None if not yet decided).
    tier: Mapped[str | None] = mapped_column(sa.String(10))
    #: Owner (社内担当者) then.
    owner_id: Mapped[int | None] = mapped_column()
    #: Template of the latest completed assessment then.
    template_id: Mapped[str | None] = mapped_column(sa.String(100))
    #: Overall score of the latest completed assessment then.
    score: Mapped[float | None] = mapped_column(sa.Float)
    #: SECURITY ACTION in force: 0 none, 1 one star, 2 two stars.
    security_action: Mapped[int] = mapped_column(sa.SmallInteger)
    #: A valid ISMS certificate.
    isms_valid: Mapped[bool] = mapped_column()
    #: A valid cyber insurance policy.
    insurance_valid: Mapped[bool] = mapped_column()
    #: Direction 9 clauses of the best contract in force (0-7).
    clauses: Mapped[int] = mapped_column(sa.SmallInteger)
    #: The evaluation level held meets the required one.
    level_met: Mapped[bool] = mapped_column()
    #: Findings open or in progress.
    open_findings: Mapped[int] = mapped_column()
    #: The next re-check date had passed.
    review_overdue: Mapped[bool] = mapped_column()
    #: An open assessment was past its due date.
    assessment_overdue: Mapped[bool] = mapped_column()

    __table_args__ = (
        sa.UniqueConstraint("period", "supplier_id", name="uq_rollup_snapshots_period_supplier"),
        sa.CheckConstraint("security_action BETWEEN 0 AND 2", name="security_action"),
        sa.CheckConstraint("clauses BETWEEN 0 AND 7", name="clauses"),
    )


#: The roll-up picks each supplier's latest completed assessment (services/reporting/scope.py
#: latest_completed) for every supplier at once, and filters on its questionnaire: this index
#: answers both without a sort or a table read.
LATEST_COMPLETED_INDEX = sa.Index(
    "ix_assessments_latest_completed",
    Assessment.supplier_id,
    Assessment.status,
    Assessment.completed_at,
    Assessment.id,
    Assessment.template_id,
)
#: Overdue assessments (open and past due) are counted without reading every assessment.
OPEN_DUE_INDEX = sa.Index("ix_assessments_status_due_on", Assessment.status, Assessment.due_on)
#: The Direction 9 twins (best declaration, latest expiry per kind) read this index alone.
ATTESTATION_COVER_INDEX = sa.Index(
    "ix_attestations_supplier_kind",
    Attestation.supplier_id,
    Attestation.kind,
    Attestation.expires_on,
    Attestation.level,
)
#: Whether the latest scores can mix questionnaires (reporting/rollup.py edition_scores): the
#: first and the last questionnaire of the completed assessments, one probe each (it read every
#: assessment in a sequential scan).
COMPLETED_TEMPLATE_INDEX = sa.Index(
    "ix_assessments_status_template", Assessment.status, Assessment.template_id
)
