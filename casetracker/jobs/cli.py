"""``casetracker worker`` (runs background jobs) and ``casetracker jobs …`` (inspect, retry)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import click

from casetracker import db
from casetracker.settings import get_settings


@click.command("worker", help=(
    "Run background jobs (e-mails, letters, documents) until stopped (SIGTERM or Ctrl-C). "
    "Start any number, on any machine that reaches the database. With CASETRACKER_REDIS_URL "
    "they take jobs from the queue as soon as they are promised; without it they look in the "
    "database every second."))
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Jobs run at once by this process (default CASETRACKER_JOB_CONCURRENCY).")
def worker_command(concurrency: int | None) -> None:
    from casetracker.jobs.runner import JobRunner

    settings = get_settings()
    at_once = concurrency or settings.job_concurrency

    async def main() -> None:
        await db.open_database(settings)
        dispatcher = saq = None
        if settings.redis_url:
            from casetracker.jobs.queue import Dispatcher, saq_worker

            dispatcher = Dispatcher(settings)
            await dispatcher.connect()
        # With the queue, jobs arrive through SAQ; the database is still looked at now and
        # then, so that nothing waits for ever if Redis is away.
        runner = JobRunner(settings, run_jobs=True, concurrency=at_once,
                           poll_seconds=15.0 if dispatcher else 1.0, dispatcher=dispatcher)
        await runner.start()
        if dispatcher is not None:
            saq = saq_worker(settings, runner, at_once)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        click.echo(f"casetracker worker {runner.worker}: running jobs "
                   f"({at_once} at once{', from the queue' if saq else ''})", err=True)
        saq_task = asyncio.create_task(saq.start()) if saq else None
        await stop.wait()
        click.echo("stopping: finishing the jobs under way (10 s at most)", err=True)
        if saq is not None and saq_task is not None:
            await saq.stop()
            saq_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await saq_task
        await runner.stop()
        if dispatcher is not None:
            await dispatcher.close()
        await db.close_database()

    asyncio.run(main())


@click.group("jobs", help="Background jobs: their state, failures, retries.")
def jobs_group() -> None:
    pass


@jobs_group.command("status", help="Counts of waiting, running, failed and recent jobs.")
def status_command() -> None:
    from casetracker.cli import with_database
    from casetracker.jobs.services import queue_state

    @with_database
    async def run() -> None:
        state = await queue_state()
        click.echo(f"due now: {state.due}")
        click.echo(f"waiting to be tried again: {state.pending - state.due}")
        click.echo(f"running: {state.running}")
        click.echo(f"failed: {state.failed}")
        click.echo(f"done in the last 24 hours: {state.done_last_day}")
        if state.oldest_due_at:
            click.echo(f"oldest due since: {state.oldest_due_at.isoformat()}")

    run()


@jobs_group.command("failed", help="List failed jobs with their last error.")
def failed_command() -> None:
    from casetracker.cli import with_database
    from casetracker.jobs.services import JobService

    @with_database
    async def run() -> None:
        for job in await JobService(_cli_actor()).failed():
            click.echo(f"{job['id']}\t{job['name']}\t{job['attempts']} tries\t"
                       f"{job['last_error']}")

    run()


@jobs_group.command("retry", help="Try a failed job again (by its number from `jobs failed`).")
@click.argument("job_id", type=int)
def retry_command(job_id: int) -> None:
    from casetracker.cli import with_database
    from casetracker.errors import CaseTrackerError
    from casetracker.jobs.services import JobService

    @with_database
    async def run() -> None:
        try:
            job = await JobService(_cli_actor()).retry(job_id)
        except CaseTrackerError as exc:
            click.echo(exc.message, err=True)
            sys.exit(1)
        click.echo(f"job {job_id} ({job['name']}) will be tried again")

    run()


@jobs_group.command("run", help="Run every job due now in this process, then exit.")
def run_command() -> None:
    from casetracker.cli import with_database
    from casetracker.jobs.runner import run_due

    @with_database
    async def run() -> None:
        count = await run_due()
        click.echo(f"{count} job(s) run")

    run()


def _cli_actor():
    from casetracker.auth.actor import Actor

    return Actor.system("cli")


CLI_COMMANDS = [worker_command, jobs_group]
