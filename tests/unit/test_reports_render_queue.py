"""PDF renders: the time limit counts rendering, not waiting in line, and renders run at a
lower CPU priority than the web process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from typing import Any

import pytest

from casetracker.reports import rendering
from casetracker.settings import configure, get_settings

DOC = {"title": "Queue test", "number": "", "running_header": "Queue test",
       "classification": "Public", "classification_public": True,
       "organisation": "Office", "subtitle": "", "date_label": "", "paragraphs": ["x"]}

RENDER_SECONDS = 0.2
LIMIT_SECONDS = 2


def _slow_render(*args: Any) -> bytes:
    time.sleep(RENDER_SECONDS)  # a layout that takes a tenth of the limit
    return b"%PDF-1.7 rendered"


async def test_a_burst_longer_than_the_limit_is_rendered_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty documents for one renderer take twice the limit in all; each takes a tenth of
    it. Had the limit counted the wait in line, the second half would have been abandoned."""
    original = get_settings()
    renderer = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    monkeypatch.setattr(rendering, "_get_pool", lambda workers: renderer)
    monkeypatch.setattr(rendering, "_worker_render", _slow_render)
    try:
        configure(original.replace(pdf_workers=1, pdf_timeout_seconds=LIMIT_SECONDS))
        started = time.monotonic()
        results = await asyncio.gather(*(
            rendering.render_pdf("minimal.html.j2", {"doc": DOC}, title="Queue test")
            for _ in range(20)), return_exceptions=True)
        assert time.monotonic() - started >= 20 * RENDER_SECONDS  # they did wait in line
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, failures[:3]
    finally:
        configure(original)
        renderer.shutdown()


def _nice_of_pool_worker() -> int:
    return os.nice(0)


async def test_renderers_run_at_a_lower_priority_than_the_app() -> None:
    original = get_settings()
    try:
        configure(original.replace(pdf_workers=1))
        pool = rendering._get_pool(1)
        worker_nice = await asyncio.get_running_loop().run_in_executor(
            pool, _nice_of_pool_worker)
        assert worker_nice >= min(19, os.nice(0) + rendering.RENDER_NICENESS)
    finally:
        configure(original)
        rendering.shutdown_pool()
