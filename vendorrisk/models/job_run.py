"""One run of a scheduled job: when, for which "now", and how it ended."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, utcnow


class JobRun(db.Model):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The job's stable id (jobs.JOBS).
    job_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    #: The moment the job acted for (the real time, or the one given to `jobs run --now`).
    run_for: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When it started (UTC).
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: When it ended (UTC).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "ok", "failed", or "skipped" (another process held the lock).
    outcome: Mapped[str] = mapped_column(sa.String(10), default="ok")
    #: One line: what it did.
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    #: The error, when it failed.
    error: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.CheckConstraint("outcome IN ('ok', 'failed', 'skipped')", name="outcome"),
        sa.Index("ix_job_runs_job_started", "job_id", "started_at"),
    )
