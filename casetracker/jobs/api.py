"""Declaring handlers and enqueueing jobs.

A feature declares what a job does in its ``<package>/jobs.py``::

    @jobs.handler("intake.send_receipt")
    async def send_receipt(payload: dict) -> None: ...

and a service promises it inside the write transaction of the change that causes it::

    async with db.write_transaction():
        ...
        await jobs.enqueue("intake.send_receipt", {"case_id": case.id}, key=f"receipt:{case.id}")

The job row commits with the change or not at all, so a committed change never loses its
side effect and a rolled-back one never has it. Handlers run at least once (a worker may die
after the effect and before recording it), so they must be idempotent.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.jobs import rules
from casetracker.jobs.tables import Job

Handler = Callable[[dict[str, Any]], Awaitable[None]]

# Modules that declare handlers, imported once before the first enqueue or run.
JOB_MODULES = (
    "casetracker.mail",
    "casetracker.jobs.maintenance",
    "casetracker.accounts.jobs",
    "casetracker.audit.jobs",
    "casetracker.registry.jobs",
    "casetracker.intake.jobs",
    "casetracker.cases.jobs",
    "casetracker.cases.listing_jobs",
    "casetracker.evidence.jobs",
    "casetracker.reports.jobs",
    "casetracker.oversight.jobs",
)


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    func: Handler
    max_attempts: int
    timeout_seconds: float
    label: str  # what it does, for administrators (translated where shown)


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    every: timedelta


_handlers: dict[str, HandlerSpec] = {}
_periodic: dict[str, PeriodicSpec] = {}
_loaded = False
# Called after a transaction that enqueued something commits (the local runner wakes up).
_wakers: list[Callable[[], None]] = []


def handler(name: str, *, label: str, max_attempts: int = rules.DEFAULT_MAX_ATTEMPTS,
            timeout_seconds: float = 300) -> Callable[[Handler], Handler]:
    """Declare the function that carries out jobs called ``name``; ``label`` says what it
    does in words, for the administrators' page (mark it with ``N_`` for translation)."""

    def register(func: Handler) -> Handler:
        existing = _handlers.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"two handlers for the job {name!r}")
        _handlers[name] = HandlerSpec(name, func, max_attempts, timeout_seconds, label)
        return func

    return register


def periodic(name: str, *, label: str, every: timedelta, max_attempts: int = 3,
             timeout_seconds: float = 300) -> Callable[[Handler], Handler]:
    """Declare a job that runs once per ``every`` across all processes (the handler gets the
    slot's start as ``payload["slot"]``, an ISO timestamp)."""

    def register(func: Handler) -> Handler:
        handler(name, label=label, max_attempts=max_attempts,
                timeout_seconds=timeout_seconds)(func)
        _periodic[name] = PeriodicSpec(name, every)
        return func

    return register


def load_handlers() -> dict[str, HandlerSpec]:
    """Import every module that declares handlers (once)."""
    global _loaded
    if not _loaded:
        for module_name in JOB_MODULES:
            if importlib.util.find_spec(module_name) is not None:
                importlib.import_module(module_name)
        _loaded = True
    return _handlers


def handlers() -> dict[str, HandlerSpec]:
    return load_handlers()


def periodic_jobs() -> dict[str, PeriodicSpec]:
    load_handlers()
    return _periodic


def add_waker(callback: Callable[[], None]) -> None:
    if callback not in _wakers:
        _wakers.append(callback)


def remove_waker(callback: Callable[[], None]) -> None:
    if callback in _wakers:
        _wakers.remove(callback)


def wake() -> None:
    """Tell this process's runner to look for work now."""
    for callback in list(_wakers):
        callback()


# A new job, or nothing when a job with its key is already stored.
_INSERT_JOB = db.FastInsert(Job, skip_on_conflict="key")


async def enqueue(name: str, payload: dict[str, Any] | None = None, *, key: str | None = None,
                  delay: timedelta | None = None, max_attempts: int | None = None) -> None:
    """Promise a job, inside the caller's write transaction (one is opened when none is).

    ``key`` de-duplicates: a job with the same key already stored (pending, running, done or
    failed) means this call stores nothing. Without a key every call stores a job."""
    spec = load_handlers().get(name)
    if spec is None:
        raise ValueError(f"no handler for the job {name!r}")
    now = datetime.now(UTC)
    async with db.write_transaction():
        # plain SQL built once: jobs are promised on hot paths (a complaint's receipt)
        await _INSERT_JOB.insert(
            name=name,
            key=rules.normalise_key(key or f"{name}:{uuid.uuid4().hex}"),
            payload=json.dumps(payload or {}, sort_keys=True, default=str, ensure_ascii=False),
            status=Job.Status.pending.value,
            attempts=0,
            max_attempts=max_attempts or spec.max_attempts,
            run_after=now + (delay or timedelta(0)),
            created_at=now,
        )
        db.after_commit(wake)
