"""Durable jobs on a real database (both engines): promised with the change or not at all,
run at least once, retried with back-off, given up and retried by an administrator, taken over
when a worker vanishes, never run by two workers at once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from casetracker import db, jobs
from casetracker.jobs import runner
from casetracker.jobs.services import JobService, queue_state
from casetracker.jobs.tables import Job
from casetracker.mail import deliver_now
from tests.factories import make_user

CALLS: list[dict[str, Any]] = []
FAILURES_LEFT = {"n": 0}


@jobs.handler("tests.record", label="Record a call")
async def record_call(payload: dict[str, Any]) -> None:
    CALLS.append(payload)


@jobs.handler("tests.flaky", label="Fail while the mail server is down", max_attempts=3)
async def flaky(payload: dict[str, Any]) -> None:
    if FAILURES_LEFT["n"] > 0:
        FAILURES_LEFT["n"] -= 1
        raise ConnectionRefusedError("the mail server did not answer")
    CALLS.append(payload)


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FAILURES_LEFT["n"] = 0


async def test_a_job_is_stored_with_its_change_or_not_at_all(settings: Any) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.write_transaction():
            await jobs.enqueue("tests.record", {"n": 1}, key="rolled-back")
            raise Boom
    assert await Job.count() == 0

    async with db.write_transaction():
        await jobs.enqueue("tests.record", {"n": 2}, key="committed")
        await jobs.enqueue("tests.record", {"n": 3}, key="committed")  # the same promise
    assert await Job.count() == 1
    assert await jobs.run_due() == 1
    assert CALLS == [{"n": 2}]
    assert await jobs.run_due() == 0  # done jobs never run again
    row = await Job.select().first()
    assert row["status"] == "done" and row["attempts"] == 1 and row["finished_at"]


async def test_an_unknown_job_name_is_refused_at_once(settings: Any) -> None:
    with pytest.raises(ValueError, match="no handler"):
        await jobs.enqueue("tests.no_such_job", {})


async def test_failures_are_retried_with_backoff_then_given_up_and_retried_by_an_admin(
        settings: Any) -> None:
    FAILURES_LEFT["n"] = 10
    await jobs.enqueue("tests.flaky", {"to": "someone"}, key="flaky-1")
    start = datetime.now(UTC)
    assert await jobs.run_due(now=start) == 1
    row = await Job.select().first()
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "mail server did not answer" in row["last_error"]
    # not due again before its back-off (10 s) has passed
    assert await jobs.run_due(now=start + timedelta(seconds=5)) == 0
    assert await jobs.run_due(now=start + timedelta(seconds=11)) == 1
    assert await jobs.run_due(now=start + timedelta(minutes=5)) == 1
    row = await Job.select().first()
    assert row["status"] == "failed" and row["attempts"] == 3 and row["finished_at"]
    state = await queue_state()
    assert state.failed == 1 and state.pending == 0

    admin = await make_user("administrator")
    from casetracker.auth.actor import Actor

    failed = await JobService(Actor.from_user(admin)).failed()
    assert [f["label"] for f in failed] == ["Fail while the mail server is down"]
    FAILURES_LEFT["n"] = 0
    await JobService(Actor.from_user(admin)).retry(row["id"])
    assert await jobs.run_due() == 1
    assert CALLS == [{"to": "someone"}]
    assert (await Job.select(Job.status).first())["status"] == "done"
    from casetracker.audit.tables import AuditEvent

    assert await AuditEvent.exists().where(AuditEvent.action == "job.retry")


async def test_a_vanished_workers_job_is_taken_over_after_its_lease(settings: Any) -> None:
    await jobs.enqueue("tests.record", {"n": 1}, key="lease-1")
    now = datetime.now(UTC)
    lease = timedelta(seconds=settings.job_lease_seconds)
    taken = await runner.claim("worker-a", limit=5, lease=lease, now=now)
    assert [r["attempts"] for r in taken] == [1]
    # worker-a dies without a word; while its lease runs nobody else takes the job
    assert await runner.claim("worker-b", limit=5, lease=lease, now=now) == []
    later = now + lease + timedelta(seconds=1)
    again = await runner.claim("worker-b", limit=5, lease=lease, now=later)
    assert [r["attempts"] for r in again] == [2]
    await runner.execute(again[0], "worker-b")
    assert CALLS == [{"n": 1}]
    # worker-a's late word changes nothing: the job is worker-b's and done
    await runner._record_failure(taken[0], "worker-a", "late")
    assert (await Job.select(Job.status).first())["status"] == "done"


async def test_a_job_abandoned_on_its_last_try_is_failed_with_the_reason(settings: Any) -> None:
    await jobs.enqueue("tests.record", {}, key="abandoned", max_attempts=1)
    now = datetime.now(UTC)
    lease = timedelta(seconds=5)
    assert await runner.claim("worker-a", limit=1, lease=lease, now=now)
    assert await runner.claim("worker-b", limit=1, lease=lease, now=now + lease * 2) == []
    assert await runner.fail_abandoned(now + lease * 2) == 1
    row = await Job.select().first()
    assert row["status"] == "failed" and "stopped before it finished" in row["last_error"]


async def test_two_workers_claiming_at_once_never_share_a_job(settings: Any) -> None:
    async with db.write_transaction():
        for n in range(30):
            await jobs.enqueue("tests.record", {"n": n}, key=f"many-{n}")
    lease = timedelta(seconds=60)
    batches = await asyncio.gather(*(runner.claim(f"worker-{i}", limit=4, lease=lease)
                                     for i in range(8)))
    ids = [row["id"] for batch in batches for row in batch]
    assert len(ids) == len(set(ids)) == 30


async def test_the_runner_loop_runs_what_a_commit_promises(settings: Any) -> None:
    loop_runner = runner.JobRunner(settings, poll_seconds=30)  # only a wake-up can be quick
    await loop_runner.start()
    try:
        async with db.write_transaction():
            await jobs.enqueue("tests.record", {"n": 7}, key="woken")
        for _ in range(200):
            if CALLS:
                break
            await asyncio.sleep(0.05)
        assert CALLS == [{"n": 7}]
    finally:
        await loop_runner.stop()


async def test_periodic_jobs_are_scheduled_once_per_slot_across_processes(settings: Any) -> None:
    now = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    for _process in range(3):
        await runner.JobRunner(settings).schedule_periodic(now=now)
    rows = await Job.select(Job.key, Job.payload).where(Job.name == "jobs.prune")
    assert len(rows) == 1
    assert json.loads(rows[0]["payload"]) == {"slot": "2026-12-03T12:00:00+00:00"}


async def test_a_keyed_email_is_delivered_once_however_often_it_is_retried(
        settings: Any) -> None:
    for _try in range(3):
        await deliver_now("person@example.org", "Your receipt", "Body", key="receipt:1")
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1
    await deliver_now("person@example.org", "Your receipt", "Body", key="receipt:2")
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 2


async def test_a_keyed_email_delivered_twice_at_once_is_written_once(settings: Any) -> None:
    await asyncio.gather(*(deliver_now("person@example.org", "Your receipt", "Body",
                                       key="receipt:9") for _ in range(8)))
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 1


async def test_a_running_job_whose_lease_ran_out_is_not_started_again_beside_itself(
        settings: Any) -> None:
    await jobs.enqueue("tests.record", {"n": 1}, key="slow-1")
    now = datetime.now(UTC)
    lease = timedelta(seconds=5)
    taken = await runner.claim("worker-a", limit=5, lease=lease, now=now)
    assert len(taken) == 1
    # The lease ran out while worker-a was still busy with it (its renewal came late).
    later = now + lease * 2
    assert await runner.claim("worker-a", limit=5, lease=lease, now=later,
                              running=[taken[0]["id"]]) == []
    # Another worker may take over a job whose worker fell silent.
    assert len(await runner.claim("worker-b", limit=5, lease=lease, now=later)) == 1
