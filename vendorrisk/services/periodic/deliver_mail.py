"""The deliver-mail job: hand the outbox to the relay, retrying what failed for a while."""

from __future__ import annotations

from datetime import datetime

from vendorrisk.jobs import JobResult
from vendorrisk.mail import outbox


def deliver_mail(now: datetime) -> JobResult:
    """Send up to 500 queued mails; a retry or a failure counts as skipped."""
    report = outbox.deliver_pending(now=now, limit=500)
    return JobResult(
        done=report.sent,
        skipped=report.retried + report.failed,
        notes=[f"sent {report.sent}, retried {report.retried}, failed {report.failed}"],
    )
