"""The periodic count behind the dashboard's figures on large tables (cases/listing.py)."""

from __future__ import annotations

from typing import Any

from casetracker import jobs
from casetracker.cases import listing


def N_(message: str) -> str:
    return message


@jobs.periodic("cases.dashboard_figures",
               label=N_("Count the dashboard's queue and overdue figures"),
               every=listing.FIGURES_EVERY)
async def count_dashboard_figures(payload: dict[str, Any]) -> None:
    """Counts only when the case table is large (below that the dashboard counts live)."""
    await listing.store_figures()
