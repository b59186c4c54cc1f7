"""The job table's own upkeep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.jobs.api import periodic
from casetracker.jobs.tables import Job


def N_(message: str) -> str:
    return message


DONE_KEPT_FOR = timedelta(days=30)


@periodic("jobs.prune", label=N_("Remove finished jobs older than 30 days"),
          every=timedelta(hours=6))
async def prune_finished(payload: dict[str, Any]) -> None:
    """Finished jobs are kept a month (to answer "was the receipt sent?"), then removed;
    failed ones stay until an administrator retries or they are a year old."""
    now = datetime.now(UTC)
    async with db.write_transaction():
        await Job.delete().where(
            (Job.status == Job.Status.done.value) & (Job.finished_at < now - DONE_KEPT_FOR))
        await Job.delete().where(
            (Job.status == Job.Status.failed.value) & (Job.finished_at < now - timedelta(days=365)))
