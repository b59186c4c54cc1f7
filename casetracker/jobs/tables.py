"""The durable job table: every side effect a committed change promises, one row each."""

from __future__ import annotations

from enum import Enum

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Job(Table, tablename="job"):
    class Status(str, Enum):
        pending = "pending"  # waiting for run_after
        running = "running"  # claimed by a worker until lease_until
        done = "done"
        failed = "failed"  # gave up after max_attempts; an administrator may retry

    name = Varchar(length=100, index=True)  # the handler, "<package>.<verb>"
    # De-duplicates: enqueueing the same key twice stores one job.
    key = Varchar(length=200, unique=True)
    payload = Text(default="{}")  # JSON
    status = Varchar(length=16, default="pending", choices=Status)
    attempts = Integer(default=0)
    max_attempts = Integer(default=8)
    run_after = Timestamptz(default=TimestamptzNow())
    lease_until = Timestamptz(null=True, default=None)
    worker = Varchar(length=120, default="")
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    # When the job was last handed to the distributed queue (None: not handed yet).
    dispatched_at = Timestamptz(null=True, default=None)
