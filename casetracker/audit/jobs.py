"""The audit log's periodic checkpoint (see checkpoints.py and docs/security.md)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from casetracker.jobs import periodic
from casetracker.settings import get_settings

log = logging.getLogger("casetracker.audit")


def N_(message: str) -> str:
    return message


@periodic("audit.checkpoint", label=N_("Sign a checkpoint of the audit log"),
          every=timedelta(minutes=max(1, get_settings().audit_checkpoint_minutes)))
async def checkpoint(payload: dict[str, Any]) -> None:
    """Sign the log's head and hand it to every sink. Idempotent: a log that has not moved
    since the latest checkpoint writes nothing. A log that does not verify, or a sink that
    fails, fails the job, so administrators see it on the failed jobs page."""
    from casetracker.audit.services import write_checkpoint

    written = await write_checkpoint()
    if written is not None and written.errors:
        raise RuntimeError("audit checkpoint not written to: " + "; ".join(written.errors))
