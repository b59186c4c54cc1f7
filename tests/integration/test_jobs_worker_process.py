"""A real ``casetracker worker`` process killed with SIGKILL in the middle of a batch of
receipts, then restarted: every complaint filed with an e-mail gets exactly one receipt.

Database polling on both engines; the production hand-off through SAQ on Redis on PostgreSQL
(the layout it serves)."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from casetracker.jobs.tables import Job
from tests.conftest import REQUIRE_ALL, Browser

pytestmark = pytest.mark.slow

COMPLAINTS = 12
REDIS_URL = os.environ.get("CASETRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _body(n: int) -> dict[str, Any]:
    return {"narrative": f"Stopped and asked for papers on Route {n}.",
            "incident_date": "2026-11-02", "incident_setting": "traffic_stop",
            "checklist": ["stopped"], "name": f"Person {n}",
            "email": f"person{n}@example.org", "language": "en"}


def _start_worker(settings: Any, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ,
           "CASETRACKER_DATABASE_URL": settings.database_url,
           "CASETRACKER_VAR_DIR": str(settings.var_dir),
           "CASETRACKER_OUTBOX_DIR": str(settings.outbox_dir),
           "CASETRACKER_PDF_WORKERS": "1",
           "CASETRACKER_JOB_LEASE_SECONDS": "3",
           "CASETRACKER_DB_POOL_MAX": "4",
           **extra_env}
    # Its own session: SIGKILL to the group takes the worker and its PDF renderers at once,
    # as losing the machine would.
    return subprocess.Popen([sys.executable, "-m", "casetracker", "worker", "--concurrency", "2"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _mails(settings: Any) -> list[Path]:
    return sorted(Path(settings.outbox_dir).glob("*.eml"))


async def _wait_for(condition: Any, what: str, seconds: float = 180) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        assert loop.time() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.2)


async def _kill_mid_batch_and_restart(browser: Browser, settings: Any,
                                      extra_env: dict[str, str]) -> None:
    numbers = []
    for n in range(COMPLAINTS):
        response = await browser.client.post("/api/v1/complaints", json=_body(n))
        assert response.status_code == 201, response.text
        numbers.append(response.json()["tracking_number"])
    assert await Job.count().where(Job.name == "intake.send_receipt") == COMPLAINTS

    worker = _start_worker(settings, extra_env)
    try:
        async def some_sent() -> bool:
            assert worker.poll() is None, worker.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
            return len(_mails(settings)) >= 2
        await _wait_for(some_sent, "the first receipts")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    sent_before_kill = len(_mails(settings))
    assert sent_before_kill < COMPLAINTS, "the batch finished before the kill: nothing tested"

    restarted = _start_worker(settings, extra_env)
    try:
        async def all_done() -> bool:
            assert restarted.poll() is None, restarted.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
            return await Job.count().where(
                (Job.name == "intake.send_receipt") & (Job.status == "done")) == COMPLAINTS
        await _wait_for(all_done, "every receipt")
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=30)

    mails = _mails(settings)
    subjects = [email.message_from_bytes(p.read_bytes())["Subject"] for p in mails]
    for number in numbers:
        assert sum(number in subject for subject in subjects) == 1, (number, subjects)
    assert len(mails) == COMPLAINTS


async def test_a_killed_worker_loses_no_receipt_and_sends_none_twice(
        browser: Browser, settings: Any) -> None:
    await _kill_mid_batch_and_restart(browser, settings, {})


async def test_through_the_redis_queue_too(browser: Browser, settings: Any,
                                           engine_name: str) -> None:
    if engine_name != "postgres":
        pytest.skip("the Redis hand-off is the production layout: tested on PostgreSQL")
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        if REQUIRE_ALL:
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    queue = f"ct-test-{uuid.uuid4().hex[:8]}"
    await _kill_mid_batch_and_restart(browser, settings, {
        "CASETRACKER_REDIS_URL": REDIS_URL, "CASETRACKER_QUEUE_NAME": queue})
    assert await Job.count().where(Job.dispatched_at.is_not_null()) > 0  # went through SAQ
