"""The deliver-webhooks job: send the queued webhook messages, retrying what failed for a while,
and forget the delivered and failed ones older than delivery.KEEP (90 days)."""

from __future__ import annotations

from datetime import datetime

from vendorrisk.jobs import JobResult
from vendorrisk.services.webhooks import delivery

#: Messages one run takes, and the seconds it may last (it runs every minute).
RUN_LIMIT = 200
RUN_BUDGET = 50.0


def deliver_webhooks(now: datetime) -> JobResult:
    """Send up to RUN_LIMIT due messages; a retry, a failure or a deferral counts as skipped."""
    report = delivery.deliver_pending(now=now, limit=RUN_LIMIT, budget=RUN_BUDGET)
    purged = delivery.purge(now)
    return JobResult(
        done=report.delivered,
        skipped=report.retried + report.failed + report.deferred,
        notes=[
            f"delivered {report.delivered}, retried {report.retried}, failed {report.failed}, "
            f"deferred {report.deferred}, {purged} old ones deleted"
        ],
    )
