"""Oversight's background jobs: early-intervention flags notified to portfolio owners."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from casetracker import jobs


def N_(message: str) -> str:
    return message


@jobs.periodic("oversight.notify_flags", label=N_("Notify portfolio owners of new "
                                                   "early-intervention flags"),
               every=timedelta(minutes=30))
async def notify_flags(payload: dict[str, Any]) -> None:
    from casetracker.oversight.portfolio import notify_flag_owners

    await notify_flag_owners()
