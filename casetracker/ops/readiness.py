"""Readiness: can this process serve? The database, and Redis and the object store when they
are configured. ``/healthz`` stays trivial (the process is up); ``/readyz`` asks each part."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from collections.abc import Awaitable, Callable

from casetracker import db
from casetracker.settings import Settings

log = logging.getLogger("casetracker.ops")

CHECK_SECONDS = 3.0


async def database_ready(settings: Settings) -> None:
    await db.current_engine().run_querystring(_select_one())


def _select_one():
    from piccolo.querystring import QueryString

    return QueryString("SELECT 1")


async def redis_ready(settings: Settings) -> None:
    import redis.asyncio as redis

    client = redis.from_url(settings.redis_url, socket_connect_timeout=CHECK_SECONDS)
    try:
        await client.ping()  # type: ignore[misc]  # redis types ping() for its sync client too
    finally:
        await client.aclose()


def checks_for(settings: Settings) -> dict[str, Callable[[Settings], Awaitable[None]]]:
    checks: dict[str, Callable[[Settings], Awaitable[None]]] = {"database": database_ready}
    if settings.redis_url:
        checks["redis"] = redis_ready
    # The storage backend says whether it has a remote part to check (object storage).
    storage = importlib.util.find_spec("casetracker.evidence.storage")
    if storage is not None:
        module = importlib.import_module("casetracker.evidence.storage")
        ready = getattr(module, "storage_ready", None)
        backend = getattr(settings, "storage_backend", "") or settings.evidence_backend
        if ready is not None and backend != "local":
            checks["object_store"] = lambda s: ready()
    return checks


async def readiness(settings: Settings) -> dict[str, str]:
    """Each check's outcome: "ok" or a short reason (details go to the log only)."""
    results: dict[str, str] = {}

    async def run(name: str, check: Callable[[Settings], Awaitable[None]]) -> None:
        try:
            await asyncio.wait_for(check(settings), CHECK_SECONDS)
            results[name] = "ok"
        except TimeoutError:
            results[name] = "no answer within 3 s"
            log.warning("readiness: %s did not answer within %s s", name, CHECK_SECONDS)
        except Exception:
            results[name] = "unavailable"
            log.warning("readiness: %s is unavailable", name, exc_info=True)

    await asyncio.gather(*(run(name, check) for name, check in checks_for(settings).items()))
    return dict(sorted(results.items()))
