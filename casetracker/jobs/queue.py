"""The distributed part: jobs handed from the database to SAQ (on Redis) and run by
``casetracker worker`` processes on any number of machines.

Why two parts: SAQ cannot join the app's database transaction (it speaks to Redis), so a job
is first written as a row in the same transaction as the change that promises it (the
outbox, ``job``), then handed to SAQ by a dispatcher. SAQ brings the job to an idle worker at
once (no polling delay) and spreads the work across machines; the row stays the record of
truth: a worker claims the row before running it (so a job handed over twice runs once at a
time), records the outcome on it, and a job lost on the way (Redis restarted, a worker killed)
is handed over again, because its row is still pending or its lease ran out.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.jobs.tables import Job
from casetracker.settings import Settings

log = logging.getLogger("casetracker.jobs")

SAQ_FUNCTION = "casetracker_run_job"
# A job handed to SAQ that no worker has claimed after this long is handed over again.
REDISPATCH_AFTER = timedelta(seconds=60)
BATCH = 200


class Dispatcher:
    """Hands due job rows to SAQ (in app servers and workers alike)."""

    def __init__(self, settings: Settings) -> None:
        from saq import Queue

        self.settings = settings
        self.queue = Queue.from_url(settings.redis_url, name=settings.queue_name)

    async def connect(self) -> None:
        await self.queue.connect()

    async def close(self) -> None:
        await self.queue.disconnect()

    async def dispatch_due(self, now: datetime | None = None) -> int:
        """Hand over every due job not handed over yet (or handed over too long ago)."""
        now = now or datetime.now(UTC)
        due = (Job.status == Job.Status.pending.value) & (Job.run_after <= now) & (
            Job.dispatched_at.is_null() | (Job.dispatched_at < now - REDISPATCH_AFTER))
        rows = await Job.select(Job.id, Job.attempts).where(due).order_by(Job.id).limit(BATCH)
        if not rows:
            return 0
        handed: list[int] = []
        for row in rows:
            try:
                await self.queue.enqueue(
                    SAQ_FUNCTION, job_id=row["id"],
                    # one SAQ job per try of a row (SAQ drops a key it already holds)
                    key=f"ct-job-{row['id']}-{row['attempts']}",
                    # the row's lease, not SAQ, decides when a try is abandoned
                    timeout=0, retries=1, ttl=600)
            except Exception:
                log.exception("could not hand job %s to the queue; it stays pending", row["id"])
                break
            handed.append(row["id"])
        if handed:
            async with db.write_transaction():
                await Job.update({Job.dispatched_at: now}).where(
                    Job.id.is_in(handed) & (Job.status == Job.Status.pending.value))
        return len(handed)


async def queue_ready(settings: Settings) -> None:
    """Raise when Redis (the queue) does not answer."""
    from saq import Queue

    queue = Queue.from_url(settings.redis_url, name=settings.queue_name)
    try:
        await queue.connect()
        await queue.redis.ping()  # type: ignore[attr-defined]
    finally:
        await queue.disconnect()


def saq_worker(settings: Settings, runner: Any, concurrency: int) -> Any:
    """An SAQ worker whose one function runs our job rows through ``runner``."""
    from saq import Queue, Worker

    async def casetracker_run_job(ctx: dict[str, Any], *, job_id: int) -> str | None:
        return await runner.run_job(job_id)

    queue = Queue.from_url(settings.redis_url, name=settings.queue_name)
    worker = Worker(queue, functions=[(SAQ_FUNCTION, casetracker_run_job)],
                    concurrency=concurrency, shutdown_grace_period_s=10)
    # SAQ would take SIGTERM/SIGINT for itself; `casetracker worker` stops it (and the
    # runner) in order.
    worker.SIGNALS = []
    return worker
