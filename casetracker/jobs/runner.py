"""Carrying out jobs: claim due rows, run their handlers, record the outcome.

A worker claims a job by setting it ``running`` with a lease (``lease_until``) in one short
write transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers on many machines never
take the same row; SQLite's immediate transactions serialise claims anyway). While it runs the
handler it renews the lease; if the worker dies (kill -9, a lost machine), the lease runs out
and another worker takes the job again. Failures are retried with back-off (rules.py); after
the last try the job is ``failed`` and shown to administrators, who may retry it.

One runner per process: inside each app process on the embedded default
(``CASETRACKER_JOBS_IN_PROCESS``), or in ``casetracker worker`` processes in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.custom_types import Combinable

from casetracker import db
from casetracker.jobs import api, rules
from casetracker.jobs.tables import Job
from casetracker.ops import metrics
from casetracker.settings import Settings, get_settings

log = logging.getLogger("casetracker.jobs")

PENDING, RUNNING, DONE, FAILED = (s.value for s in Job.Status)


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def claim(worker: str, *, limit: int, lease: timedelta, job_id: int | None = None,
                now: datetime | None = None, running: Sequence[int] = ()
                ) -> list[dict[str, Any]]:
    """Take up to ``limit`` due jobs (or the one ``job_id``, if it is due) for ``worker``.

    ``running``: the jobs this worker is running now. Their leases are its own to renew; even
    when one ran out (a renewal came late on a busy machine), the worker must not start the
    job a second time beside the first (a receipt was e-mailed twice that way)."""
    now = now or datetime.now(UTC)
    due: Combinable = ((Job.status == PENDING) & (Job.run_after <= now)) | (
        (Job.status == RUNNING) & (Job.lease_until < now)
        & WhereRaw("attempts < max_attempts"))
    if running:
        due = due & Job.id.not_in(list(running))
    async with db.write_transaction():
        query = Job.select(Job.id).where(due)
        if job_id is not None:
            query = query.where(Job.id == job_id)
        query = query.order_by(Job.run_after).order_by(Job.id).limit(limit)
        if not db.is_sqlite():
            query = query.lock_rows(skip_locked=True)
        ids = [row["id"] for row in await query]
        if not ids:
            return []
        await Job.update({
            Job.status: RUNNING,
            Job.attempts: Job.attempts + 1,
            Job.lease_until: now + lease,
            Job.worker: worker,
            Job.started_at: now,
        }).where(Job.id.is_in(ids))
        return await Job.select(Job.id, Job.name, Job.key, Job.payload, Job.attempts,
                                Job.max_attempts).where(Job.id.is_in(ids)).order_by(Job.id)


async def _record_success(row: dict[str, Any], worker: str) -> None:
    now = datetime.now(UTC)
    async with db.write_transaction():
        await Job.update({Job.status: DONE, Job.finished_at: now, Job.lease_until: None,
                          Job.last_error: ""}).where(
            (Job.id == row["id"]) & (Job.worker == worker) & (Job.status == RUNNING))


async def _record_failure(row: dict[str, Any], worker: str, error: str) -> str:
    now = datetime.now(UTC)
    outcome = rules.after_failure(row["attempts"], row["max_attempts"], now)
    async with db.write_transaction():
        await Job.update({
            Job.status: outcome.status,
            Job.run_after: outcome.run_after,
            Job.lease_until: None,
            Job.last_error: error,
            Job.finished_at: now if outcome.status == FAILED else None,
            Job.dispatched_at: None,
        }).where((Job.id == row["id"]) & (Job.worker == worker) & (Job.status == RUNNING))
    return outcome.status


async def _release(row: dict[str, Any], worker: str) -> None:
    """Give a job back untried (this process is stopping): another worker takes it now."""
    async with db.write_transaction():
        await Job.update({Job.status: PENDING, Job.run_after: datetime.now(UTC),
                          Job.lease_until: None, Job.attempts: Job.attempts - 1,
                          Job.dispatched_at: None}).where(
            (Job.id == row["id"]) & (Job.worker == worker) & (Job.status == RUNNING))


async def fail_abandoned(now: datetime | None = None) -> int:
    """Jobs whose worker vanished on their last allowed try: failed, with the reason."""
    now = now or datetime.now(UTC)
    where = (Job.status == RUNNING) & (Job.lease_until < now) & WhereRaw(
        "attempts >= max_attempts")
    async with db.write_transaction():
        rows = await Job.select(Job.id).where(where)
        if rows:
            await Job.update({
                Job.status: FAILED, Job.finished_at: now, Job.lease_until: None,
                Job.last_error: "The worker running this job stopped before it finished "
                                "(on its last allowed try).",
            }).where(Job.id.is_in([r["id"] for r in rows]))
    return len(rows)


async def execute(row: dict[str, Any], worker: str) -> str:
    """Run one claimed job's handler and record the outcome: "done", "pending" (will be
    retried) or "failed"."""
    spec = api.handlers().get(row["name"])
    started = time.monotonic()
    try:
        if spec is None:
            raise LookupError(f"no handler for the job {row['name']!r} in this version")
        payload = json.loads(row["payload"] or "{}")
        await asyncio.wait_for(spec.func(payload), spec.timeout_seconds)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await asyncio.shield(_release(row, worker))
        raise
    except Exception as exc:  # every failure is recorded and retried
        if isinstance(exc, TimeoutError):
            error = f"Timed out after {spec.timeout_seconds if spec else '?'} s"
        else:
            error = rules.describe_error(exc)
        status = await _record_failure(row, worker, error)
        # The payload may hold personal data: log the job, not its payload.
        log.warning("job %s (%s) try %s failed: %s; now %s", row["id"], row["name"],
                    row["attempts"], error, status, exc_info=not isinstance(exc, TimeoutError))
        metrics.JOBS.labels(job=row["name"], outcome="failed" if status == FAILED
                            else "retry").inc()
        metrics.JOB_SECONDS.labels(job=row["name"]).observe(time.monotonic() - started)
        return status
    await _record_success(row, worker)
    metrics.JOBS.labels(job=row["name"], outcome="done").inc()
    metrics.JOB_SECONDS.labels(job=row["name"]).observe(time.monotonic() - started)
    return DONE


async def run_due(*, limit: int = 1000, now: datetime | None = None,
                  settings: Settings | None = None) -> int:
    """Run every job due now, one after another, in this task; return how many ran.

    For the command line (``casetracker jobs run``) and tests; ``now`` lets a test reach
    a retry's time without waiting."""
    settings = settings or get_settings()
    lease = timedelta(seconds=settings.job_lease_seconds)
    worker = worker_name()
    count = 0
    while count < limit:
        rows = await claim(worker, limit=1, lease=lease, now=now)
        if not rows:
            break
        await execute(rows[0], worker)
        count += 1
    return count


class JobRunner:
    """The loop of one process: claims and runs jobs (up to ``concurrency`` at once), renews
    the leases of those it runs, schedules periodic jobs and, in distributed mode, hands due
    jobs to the queue (``dispatcher``)."""

    def __init__(self, settings: Settings | None = None, *, run_jobs: bool = True,
                 concurrency: int | None = None, poll_seconds: float | None = None,
                 dispatcher: Any = None) -> None:
        self.settings = settings or get_settings()
        self.run_jobs = run_jobs
        self.concurrency = max(1, concurrency or self.settings.job_concurrency)
        self.poll_seconds = poll_seconds if poll_seconds is not None else 1.0
        self.lease = timedelta(seconds=self.settings.job_lease_seconds)
        self.dispatcher = dispatcher
        self.worker = worker_name()
        self._running: dict[int, asyncio.Task[str]] = {}
        self._rows: dict[int, dict[str, Any]] = {}
        self._wake_event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._stopping = False
        self._next_renewal = 0.0
        self._next_schedule = 0.0
        self._next_reap = 0.0

    # --- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        api.load_handlers()
        self._loop = asyncio.get_running_loop()
        self._wake_event = asyncio.Event()
        api.add_waker(self.wake)
        self._main = asyncio.create_task(self._loop_forever(), name="casetracker-jobs")
        log.info("job runner %s started (%s at once)", self.worker, self.concurrency)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming; let running jobs finish for ``grace_seconds``, then give the rest
        back so that another worker takes them at once."""
        self._stopping = True
        api.remove_waker(self.wake)
        if self._main is not None:
            self.wake()
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._main
        running = list(self._running.values())
        if running:
            _done, pending = await asyncio.wait(running, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def wake(self) -> None:
        """Look for work now (called after a transaction that enqueued a job commits)."""
        if self._loop is None or self._wake_event is None or self._loop.is_closed():
            return
        try:
            running_loop = asyncio.get_running_loop()
        except RuntimeError:
            running_loop = None
        if running_loop is self._loop:
            self._wake_event.set()
        else:
            self._loop.call_soon_threadsafe(self._wake_event.set)

    @property
    def busy(self) -> int:
        return len(self._running)

    # --- the loop ----------------------------------------------------------------------------

    async def _loop_forever(self) -> None:
        assert self._wake_event is not None
        while not self._stopping:
            self._wake_event.clear()  # a wake-up during the round below starts another
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a while: keep trying
                log.exception("job runner %s: a round failed; trying again", self.worker)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_event.wait(), self.poll_seconds)

    async def tick(self) -> None:
        """One round of everything the loop does (tests call it directly)."""
        now = time.monotonic()
        if now >= self._next_schedule:
            await self.schedule_periodic()
            self._next_schedule = now + 30
        # Renew first: a lease that ran out while this worker was busy must be its own again
        # before anyone (this worker included) looks for expired leases to take over.
        if self._running and now >= self._next_renewal:
            await self._renew_leases()
            self._next_renewal = now + max(1.0, self.lease.total_seconds() / 3)
        if self.run_jobs:
            await self._fill()
        if self.dispatcher is not None:
            await self.dispatcher.dispatch_due()
        if now >= self._next_reap:
            await fail_abandoned()
            self._next_reap = now + max(5.0, self.lease.total_seconds())

    async def _fill(self) -> None:
        free = self.concurrency - len(self._running)
        if free <= 0 or self._stopping:
            return
        for row in await claim(self.worker, limit=free, lease=self.lease,
                               running=list(self._running)):
            self._start(row)

    def _start(self, row: dict[str, Any]) -> None:
        task = asyncio.create_task(execute(row, self.worker), name=f"job-{row['id']}")
        self._running[row["id"]] = task
        self._rows[row["id"]] = row
        task.add_done_callback(self._finished(row["id"]))

    def _finished(self, job_id: int) -> Callable[[asyncio.Task[str]], None]:
        def done(_task: asyncio.Task[str]) -> None:
            self._running.pop(job_id, None)
            self._rows.pop(job_id, None)
            self.wake()  # a slot is free: look for more

        return done

    async def run_job(self, job_id: int) -> str | None:
        """Claim and run one job by id, if it is due (the distributed queue's entry point).
        Returns its outcome, or None when it was not due (done already, or taken)."""
        if job_id in self._running:
            return None
        rows = await claim(self.worker, limit=1, lease=self.lease, job_id=job_id,
                           running=list(self._running))
        if not rows:
            return None
        row = rows[0]
        task = asyncio.create_task(execute(row, self.worker), name=f"job-{job_id}")
        self._running[job_id] = task
        self._rows[job_id] = row
        try:
            return await task
        finally:
            self._running.pop(job_id, None)
            self._rows.pop(job_id, None)

    async def _renew_leases(self) -> None:
        ids = list(self._running)
        if not ids:
            return
        async with db.write_transaction():
            await Job.update({Job.lease_until: datetime.now(UTC) + self.lease}).where(
                Job.id.is_in(ids) & (Job.worker == self.worker) & (Job.status == RUNNING))

    async def schedule_periodic(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        for spec in api.periodic_jobs().values():
            slot = rules.periodic_slot(spec.every, now)
            await api.enqueue(spec.name, {"slot": slot.isoformat()},
                              key=rules.periodic_key(spec.name, spec.every, now))


# --- the process's runner, started with the app ---------------------------------------------

_runner: JobRunner | None = None


async def start_in_process(app: Any = None) -> None:
    """ON_STARTUP: run jobs inside this app process when the settings say so."""
    global _runner
    settings = get_settings()
    if _runner is not None:
        return
    dispatcher = None
    if settings.redis_url:
        from casetracker.jobs.queue import Dispatcher

        dispatcher = Dispatcher(settings)
        await dispatcher.connect()
    if not settings.jobs_in_process and dispatcher is None:
        return
    _runner = JobRunner(settings, run_jobs=settings.jobs_in_process, dispatcher=dispatcher)
    await _runner.start()


async def stop_in_process(app: Any = None) -> None:
    global _runner
    runner, _runner = _runner, None
    if runner is not None:
        await runner.stop()
        if runner.dispatcher is not None:
            await runner.dispatcher.close()
