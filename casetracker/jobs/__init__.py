"""Durable background jobs: side effects that a committed change promises (e-mails, letters,
notifications, PDF renders, imports), recorded in the change's own transaction and carried out
at least once by a worker, with retries. See api.py (declaring and enqueueing), runner.py
(running), queue.py (the distributed part, SAQ on Redis) and docs/operations.md."""

from casetracker.jobs.api import enqueue, handler, periodic
from casetracker.jobs.runner import run_due

__all__ = ["enqueue", "handler", "periodic", "run_due"]
