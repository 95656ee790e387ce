"""Assessments (評価): one questionnaire sent to one supplier, its invitations and answers."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from vendorrisk.models.mixins import EmailedLinkMixin, HashedTokenMixin
from vendorrisk.models.review import Decision


class AssessmentStatus(enum.StrEnum):
    draft = "draft"
    sent = "sent"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"
    completed = "completed"
    cancelled = "cancelled"
    expired = "expired"


#: States in which the supplier may still answer.
OPEN_STATUSES = frozenset(
    {AssessmentStatus.sent, AssessmentStatus.in_progress, AssessmentStatus.returned}
)


class Campaign(TimestampMixin, db.Model):
    """A bulk send (一括送付): one template to many suppliers chosen by a filter."""

    __tablename__ = "campaigns"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A name procurement recognises (e.g. 2026年度 委託先定期評価).
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Template id sent.
    template_id: Mapped[str] = mapped_column(sa.String(100))
    #: The filter the suppliers were chosen by.
    criteria: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: Who sent it.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class Assessment(TimestampMixin, db.Model):
    __tablename__ = "assessments"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The supplier assessed; None for the company's own self-assessment.
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    #: Template id and version it was sent with: later edits never change its meaning.
    template_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    #: Version of the template.
    template_version: Mapped[int] = mapped_column()
    #: Lifecycle state.
    status: Mapped[AssessmentStatus] = mapped_column(
        enum_column(AssessmentStatus, "assessment_status"),
        default=AssessmentStatus.draft,
        index=True,
    )
    #: Answers are due by the end of this day (回答期限).
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    #: Message from procurement shown in the invitation and the portal.
    message: Mapped[str] = mapped_column(sa.Text, default="")
    #: The bulk send it belongs to, if any.
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    #: The previous completed assessment whose answers were carried over.
    carried_over_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="SET NULL")
    )
    #: Who created it.
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: When the invitations went out.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the supplier submitted.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the review was completed.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was cancelled.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it was last returned for changes (差し戻し).
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The reviewer.
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: The review's decision, set on completion.
    decision: Mapped[Decision | None] = mapped_column(enum_column(Decision, "review_decision"))
    #: The reviewer's note: conditions, reasons, or what to change when returned.
    review_note: Mapped[str] = mapped_column(sa.Text, default="")
    #: Overall score (0-100) stored on completion.
    score: Mapped[float | None] = mapped_column(sa.Float)
    #: The whole score, per directive and question, as computed on completion.
    score_detail: Mapped[dict | None] = mapped_column(sa.JSON)

    supplier = relationship("Supplier", back_populates="assessments", foreign_keys=[supplier_id])
    campaign = relationship("Campaign")
    created_by = relationship("User", foreign_keys=[created_by_id])
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Invitation.id"
    )
    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Answer.id"
    )
    clarifications = relationship(
        "Clarification",
        back_populates="assessment",
        cascade="all, delete-orphan",
        order_by="Clarification.id",
    )
    covers = relationship(
        "Cover", back_populates="assessment", cascade="all, delete-orphan", order_by="Cover.id"
    )
    reviewer = relationship("User", foreign_keys=[reviewer_id])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @hybrid_method
    def is_overdue(self, today: date) -> bool:
        """Still open for answers and past its due date (the lists' "Overdue" badge)."""
        return self.status in OPEN_STATUSES and self.due_on < today

    @is_overdue.inplace.expression
    @classmethod
    def _is_overdue_sql(cls, today: date) -> sa.ColumnElement[bool]:
        return sa.and_(cls.status.in_(OPEN_STATUSES), cls.due_on < today)


class Invitation(EmailedLinkMixin, db.Model):
    """The emailed access of one contact to one assessment; the token is stored only hashed."""

    __tablename__ = "invitations"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The assessment it opens.
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    #: Set when revoked (or replaced by a resend).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: First time the link was used to open the portal.
    first_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Last time the link was used.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How many sittings it opened.
    use_count: Mapped[int] = mapped_column(default=0)

    assessment: Mapped[Assessment] = relationship(back_populates="invitations")


class PortalSitting(HashedTokenMixin, db.Model):
    """One exchange of a link for a portal session: server-side, so revoking ends it.

    It lives while it is used (idle at most `idle`) and no longer than `lifetime` in all, until
    the contact finishes it; its cookie is worth nothing after that.
    """

    __tablename__ = "portal_sittings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The invitation whose link opened it.
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    #: When it was opened (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Address it was opened from.
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    #: Its last request (UTC), recorded at most once a minute: the idle lifetime counts from it.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the contact finished it ("finish for now"); its cookie is refused from then on.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[Invitation] = relationship()

    def end_reason(self, now: datetime, idle: timedelta, lifetime: timedelta) -> str | None:
        """None while it may be used, else why not: "finished", "idle" or "lifetime"."""
        if self.ended_at is not None:
            return "finished"
        if self.created_at + lifetime <= now:
            return "lifetime"
        if self.last_seen_at + idle <= now:
            return "idle"
        return None

    @hybrid_method
    def is_live(self, now: datetime, idle: timedelta, lifetime: timedelta) -> bool:
        return self.end_reason(now, idle, lifetime) is None

    @is_live.inplace.expression
    @classmethod
    def _is_live_sql(
        cls, now: datetime, idle: timedelta, lifetime: timedelta
    ) -> sa.ColumnElement[bool]:
        return sa.and_(
            cls.ended_at.is_(None),
            cls.created_at > now - lifetime,
            cls.last_seen_at > now - idle,
        )


answer_files = sa.Table(
    "answer_files",
    db.metadata,
    sa.Column("answer_id", sa.ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "stored_file_id", sa.ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Answer(db.Model):
    __tablename__ = "answers"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The assessment answered.
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    #: The template question id (stable across versions).
    question_id: Mapped[str] = mapped_column(sa.String(100))
    #: The normalised value (a string, a list of choices, or None).
    value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    #: The supplier's comment on the question.
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    #: Copied from the previous completed assessment and not yet confirmed.
    carried_over: Mapped[bool] = mapped_column(default=False)
    #: Raised on every change: a save based on an older version is a conflict.
    version: Mapped[int] = mapped_column(default=1)
    #: The contact who saved it last.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    #: When it was last saved (UTC).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Returned for changes: the supplier may change this answer again.
    reopened: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The certificate or check sheet (Cover) that gave this answer; None when typed by hand.
    cover_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("covers.id", ondelete="SET NULL"), index=True
    )

    assessment: Mapped[Assessment] = relationship(back_populates="answers")
    contact = relationship("Contact")
    cover = relationship("Cover", back_populates="answers")
    files = relationship(
        "StoredFile", secondary=answer_files, order_by="StoredFile.id", lazy="selectin"
    )

    __table_args__ = (
        sa.UniqueConstraint("assessment_id", "question_id", name="uq_answers_question"),
    )
