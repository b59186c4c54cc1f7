"""What administrators see and do with background jobs: the queue's state, failed jobs (with
their error, after the last retry), and retrying them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.custom_types import Combinable

from casetracker import db
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.errors import Conflict, NotFound
from casetracker.jobs import api
from casetracker.jobs.tables import Job
from casetracker.web.i18n import gettext as _

PAGE_SIZE = 50
PENDING, RUNNING, DONE, FAILED = (s.value for s in Job.Status)


@dataclass(frozen=True)
class QueueState:
    pending: int  # due now or waiting for a retry
    due: int  # pending and due now
    running: int
    failed: int
    done_last_day: int
    oldest_due_at: datetime | None  # when the longest-waiting due job became due


async def queue_state(now: datetime | None = None) -> QueueState:
    now = now or datetime.now(UTC)
    counts = {row["status"]: row["count"] for row in await Job.raw(
        "SELECT status, COUNT(*) AS count FROM job GROUP BY status")}
    due = await Job.count().where((Job.status == PENDING) & (Job.run_after <= now))
    oldest = await Job.select(Job.run_after).where(
        (Job.status == PENDING) & (Job.run_after <= now)).order_by(Job.run_after).first()
    done_last_day = await Job.count().where(
        (Job.status == DONE) & (Job.finished_at >= now - timedelta(days=1)))
    return QueueState(
        pending=int(counts.get(PENDING, 0)), due=due, running=int(counts.get(RUNNING, 0)),
        failed=int(counts.get(FAILED, 0)), done_last_day=done_last_day,
        oldest_due_at=oldest["run_after"] if oldest else None)


def describe(row: dict[str, Any]) -> dict[str, Any]:
    """A job for people: what it does in words, and the case it concerns if any."""
    spec = api.handlers().get(row["name"])
    try:
        payload = json.loads(row.get("payload") or "{}")
    except ValueError:
        payload = {}
    return {**row, "label": _(spec.label) if spec else row["name"],
            "case_id": payload.get("case_id") if isinstance(payload, dict) else None}


class JobService:
    """Who may call it is decided by the route's guard (``jobs:manage``) or by being at the
    server's command line, as for the accounts service."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def failed(self, before_id: int | None = None) -> list[dict[str, Any]]:
        where: Combinable = Job.status == FAILED
        if before_id:
            where &= Job.id < before_id
        rows = await (Job.select(Job.id, Job.name, Job.payload, Job.attempts, Job.last_error,
                                 Job.created_at, Job.finished_at)
                      .where(where).order_by(Job.id, ascending=False).limit(PAGE_SIZE))
        described = [describe(row) for row in rows]
        case_ids = {row["case_id"] for row in described if isinstance(row["case_id"], int)}
        numbers: dict[int, str] = {}
        if case_ids:
            from casetracker.cases.tables import Case

            numbers = {r["id"]: r["tracking_number"] for r in await Case.select(
                Case.id, Case.tracking_number).where(Case.id.is_in(sorted(case_ids)))}
        for row in described:
            row["tracking_number"] = numbers.get(row["case_id"])
        return described

    async def retry(self, job_id: int) -> dict[str, Any]:
        """Give a failed job a fresh set of tries, now."""
        async with db.write_transaction():
            row = await Job.select(Job.id, Job.name, Job.status, Job.payload).where(
                Job.id == job_id).first()
            if row is None:
                raise NotFound(_("There is no such job."))
            if row["status"] != FAILED:
                raise Conflict(_("Only failed jobs can be retried; this one is not "
                                         "failed (it may have been retried already)."))
            await Job.update({Job.status: PENDING, Job.attempts: 0,
                              Job.run_after: datetime.now(UTC), Job.finished_at: None,
                              Job.dispatched_at: None}).where(Job.id == job_id)
            await audit.record("job.retry", actor=self.actor, object_type="job",
                               object_id=job_id, details={"job": row["name"]})
            db.after_commit(api.wake)
        return describe(row)
