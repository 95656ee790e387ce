"""The purge-imports job: supplier-import uploads left at the mapping step go after two hours."""

from __future__ import annotations

from datetime import datetime

from vendorrisk.jobs import JobResult
from vendorrisk.services.register.imports import files


def purge_imports(now: datetime) -> JobResult:
    """Delete the kept uploads older than the purge age."""
    folder = files.kept_folder()
    removed = files.purge(folder, now.timestamp()) if folder.is_dir() else 0
    return JobResult(done=removed, notes=[f"removed {removed} abandoned import uploads"])
