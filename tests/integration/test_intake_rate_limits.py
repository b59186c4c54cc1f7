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


async def test_an_hour_later_the_address_may_file_again_and_is_then_forgotten(
        settings: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from casetracker.intake.services import prune_rate_hits
    from casetracker.jobs.api import periodic_jobs

    limited = settings.replace(public_rate_limit_per_hour=2)
    for _ in range(2):
        assert await rate_limit_allows("file", "198.51.100.9", settings=limited)
    assert not await rate_limit_allows("file", "198.51.100.9", settings=limited)
    # The two hits age past the hour: they no longer count, even before any pruning.
    await PublicRateHit.update({PublicRateHit.at: datetime.now(UTC) - timedelta(minutes=61)},
                               force=True)
    assert await rate_limit_allows("file", "198.51.100.9", settings=limited)
    assert await PublicRateHit.count() == 3
    # The periodic job forgets the old rows (hashed addresses are not kept past the hour).
    assert "intake.prune_rate_hits" in periodic_jobs()
    assert await prune_rate_hits() == 2
    assert await PublicRateHit.count() == 1
