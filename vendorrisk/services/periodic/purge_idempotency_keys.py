"""The purge-idempotency-keys job: forget the one-time keys of forms sent over a week ago."""

from __future__ import annotations

from datetime import datetime

from vendorrisk import idempotency
from vendorrisk.jobs import JobResult


def purge_idempotency_keys(now: datetime) -> JobResult:
    """Delete the used form keys old enough that no retry can bring them back."""
    removed = idempotency.purge(now)
    return JobResult(done=removed, notes=[f"forgot {removed} used form keys"])
