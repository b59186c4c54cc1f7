"""The rules of background jobs, with no I/O: retries and their back-off, leases, periodic
slots. The runner (runner.py) applies them to rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
DEFAULT_MAX_ATTEMPTS = 8
MAX_KEY_LENGTH = 200


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed tries: 10 s, 20 s, 40 s, …,
    never more than an hour. (8 tries span about 21 minutes; a longer outage leaves the job
    failed, visible to administrators, who can retry it.)"""
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_RETRY * (2 ** (attempts - 1)), LONGEST_RETRY)


@dataclass(frozen=True)
class Outcome:
    status: str  # "pending" (try again at run_after) or "failed" (no tries left)
    run_after: datetime


def after_failure(attempts: int, max_attempts: int, now: datetime) -> Outcome:
    """What happens to a job whose ``attempts``-th try failed (or whose worker vanished)."""
    if attempts >= max_attempts:
        return Outcome("failed", now)
    return Outcome("pending", now + backoff(attempts))


def lease_expired(lease_until: datetime | None, now: datetime) -> bool:
    """A running job whose worker stopped renewing its lease (crashed, killed, cut off)."""
    return lease_until is not None and lease_until < now


def periodic_slot(every: timedelta, now: datetime) -> datetime:
    """The start of the period that ``now`` falls in, counted from the Unix epoch in UTC, so
    every process computes the same slot and the job's key de-duplicates across them."""
    seconds = int(every.total_seconds())
    if seconds <= 0:
        raise ValueError("a periodic job needs a positive interval")
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def periodic_key(name: str, every: timedelta, now: datetime) -> str:
    return f"periodic:{name}:{periodic_slot(every, now).strftime('%Y%m%dT%H%M%S')}"


def normalise_key(key: str) -> str:
    """Keys longer than the column are hashed (their beginning kept, to stay readable)."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:MAX_KEY_LENGTH - 65]}#{digest}"


def describe_error(exc: BaseException, limit: int = 4000) -> str:
    """The error as administrators see it: its type and message, never a payload."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:limit]
