"""PDF renders: the time limit counts rendering, not waiting in line, and renders run at a
lower CPU priority than the web process."""

from __future__ import annotations

import asyncio
import math
import os
import time

from casetracker.reports import rendering
from casetracker.settings import configure, get_settings

DOC = {"title": "Queue test", "number": "", "running_header": "Queue test",
       "classification": "Public", "classification_public": True,
       "organisation": "Office", "subtitle": "", "date_label": "", "paragraphs": ["x"]}


async def _render() -> bytes:
    return await rendering.render_pdf("minimal.html.j2", {"doc": DOC}, title="Queue test")


def _nice_of_pool_worker() -> int:
    return os.nice(0)


async def test_a_burst_longer_than_the_limit_is_rendered_whole() -> None:
    original = get_settings()
    try:
        configure(original.replace(pdf_workers=1, pdf_timeout_seconds=120))
        await _render()  # start the worker (its start-up is not a render's time)
        started = time.monotonic()
        await _render()
        one = max(time.monotonic() - started, 0.05)
        # A limit several renders long, and a burst that needs about three limits in all:
        # had the limit counted the wait, the last documents of the burst would fail.
        limit = max(2, math.ceil(4 * one))
        burst = math.ceil(3 * limit / one)
        configure(original.replace(pdf_workers=1, pdf_timeout_seconds=limit))
        results = await asyncio.gather(*(_render() for _ in range(burst)),
                                       return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, failures[:3]
        assert all(r.startswith(b"%PDF") for r in results)  # type: ignore[union-attr]

        # and the workers run at a lower priority than this process
        pool = rendering._get_pool(1)
        worker_nice = await asyncio.get_running_loop().run_in_executor(
            pool, _nice_of_pool_worker)
        assert worker_nice >= os.nice(0) + rendering.RENDER_NICENESS or worker_nice == 19
    finally:
        configure(original)
        rendering.shutdown_pool()
