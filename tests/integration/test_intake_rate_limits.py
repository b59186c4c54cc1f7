"""The public per-address limits hold under concurrency (several workers share the table)."""

from __future__ import annotations

import asyncio
from typing import Any

from casetracker.intake.services import rate_limit_allows
from casetracker.intake.tables import PublicRateHit


async def test_concurrent_requests_never_pass_the_limit(settings: Any) -> None:
    # Count-then-insert without serialisation let every concurrent request count below the
    # limit and pass (bench/multiworker.py found it on PostgreSQL).
    limited = settings.replace(public_rate_limit_per_hour=5)
    allowed = await asyncio.gather(*[
        rate_limit_allows("lookup", "198.51.100.7", settings=limited) for _ in range(24)])
    assert sum(allowed) == 5
    assert await PublicRateHit.count() == 5
    # Another address and another bucket keep their own counts.
    assert await rate_limit_allows("lookup", "198.51.100.8", settings=limited)
    assert await rate_limit_allows("file", "198.51.100.7", settings=limited)
