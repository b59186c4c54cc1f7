"""PDF rendering: Jinja2 (the app's autoescaping environment) → HTML → WeasyPrint → PDF/A-3b.

- The HTML is rendered in the calling process (fast, and it needs the app's gettext); the
  WeasyPrint layout runs in a bounded pool of worker processes (``settings.pdf_workers``), so the
  event loop never blocks on it. ``settings.pdf_workers = 0`` renders in a thread instead (tests,
  tiny installs).
- A render that takes longer than ``settings.pdf_timeout_seconds`` is abandoned: its worker
  processes are killed and the pool is recreated, so a hung render cannot hang the app.
- The URL fetcher serves only the app's packaged assets (fonts under casetracker/static/fonts,
  stylesheets under templates/reports/pdf). Everything else — file://, http(s)://, data:, any
  other scheme, any path outside that list — is refused, so user content can never fetch a thing.
- Output is PDF/A-3b, tagged (structure tree, language, PDF/UA identifier in XMP), with the
  document's data embedded as ``data.json`` (AFRelationship /Data). Dates are fixed so the same
  input gives byte-identical output.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from casetracker.ops import metrics
from casetracker.settings import PROJECT_ROOT, get_settings

log = logging.getLogger("casetracker.reports")

PDF_TEMPLATE_DIR = PROJECT_ROOT / "templates" / "reports" / "pdf"
FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"

# The only scheme the fetcher answers. Print stylesheets refer to assets as
# ``ct-asset:fonts/LiberationSerif-Regular.ttf`` or ``ct-asset:print.css``.
ASSET_SCHEME = "ct-asset:"

# Attachment and metadata dates: fixed, so that output is byte-identical for identical input.
# Callers that want a real date put it in the document (and in the JSON), not in the metadata.
FIXED_DATE = datetime(2000, 1, 1, tzinfo=UTC)

_PDFUA_XMP = (
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">'
    b"<pdfuaid:part>1</pdfuaid:part></rdf:Description></rdf:RDF>"
)


class RenderError(RuntimeError):
    """The document could not be rendered (timeout, broken worker, bad template)."""


class RenderTimeout(RenderError):
    pass


def asset_map() -> dict[str, Path]:
    """``ct-asset:`` URL → packaged file. Built from the folders, nothing else is served."""
    assets: dict[str, Path] = {}
    for path in sorted(FONT_DIR.glob("*.ttf")):
        assets[f"{ASSET_SCHEME}fonts/{path.name}"] = path
    for path in sorted(PDF_TEMPLATE_DIR.glob("*.css")):
        assets[f"{ASSET_SCHEME}{path.name}"] = path
    return assets


_MEDIA_TYPES = {".ttf": "font/ttf", ".css": "text/css"}


def make_fetcher(assets: dict[str, Path] | None = None,
                 on_request: Callable[[str], None] | None = None) -> Any:
    """A WeasyPrint URL fetcher that serves ``assets`` and refuses every other URL.

    ``on_request`` is told every URL WeasyPrint asks for (tests count them)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = dict(asset_map() if assets is None else assets)

    class AssetOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if on_request is not None:
                on_request(url)
            path = allowed.get(url)
            if path is None:
                # WeasyPrint logs and skips the resource; nothing is fetched.
                raise ValueError(f"refused to fetch {url[:200]!r}: not a packaged asset")
            return URLFetcherResponse(
                url, path.read_bytes(),
                headers={"Content-Type": _MEDIA_TYPES.get(path.suffix, "application/octet-stream")},
            )

    return AssetOnlyFetcher(allowed_protocols={"ct-asset"})


def html_to_pdf(
    html: str,
    *,
    title: str,
    attachment_json: dict[str, Any] | None = None,
    lang: str = "en",
    fetcher: Any = None,
) -> bytes:
    """Lay out ``html`` and write PDF/A-3b bytes. Synchronous: runs in a worker."""
    from weasyprint import HTML, Attachment

    fetcher = fetcher or make_fetcher()
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render()
    metadata = document.metadata
    metadata.title = title
    metadata.lang = lang
    metadata.generator = "casetracker"
    metadata.created = None
    metadata.modified = None
    metadata.xmp_metadata = [_PDFUA_XMP]
    # Only our own JSON is attached: <link rel=attachment> in the HTML is dropped (and could
    # only have pointed at a packaged asset anyway).
    metadata.attachments = []
    attachments = []
    if attachment_json is not None:
        payload = json.dumps(attachment_json, ensure_ascii=False, sort_keys=True, indent=2,
                             default=str)
        attachments.append(Attachment(
            string=payload, base_url=None, url_fetcher=fetcher, name="data.json",
            description="The data of this document (JSON)", relationship="Data",
            created=FIXED_DATE, modified=FIXED_DATE,
        ))
    return document.write_pdf(
        pdf_variant="pdf/a-3b", pdf_tags=True, attachments=attachments,
        uncompressed_pdf=False, custom_metadata=False,
    )


def _worker_render(html: str, title: str, attachment_json: dict[str, Any] | None,
                   lang: str) -> bytes:
    return html_to_pdf(html, title=title, attachment_json=attachment_json, lang=lang)


# The lowest priority there is: a render takes only CPU time that web requests (and the
# database serving them) leave unused. At 10 the two render workers still took enough of a
# 2-CPU machine to double /healthz's p95 on PostgreSQL while receipts rendered.
RENDER_NICENESS = 19


def _worker_init() -> None:
    # Renders yield the CPU to web requests: a page answers quickly even while receipts and
    # reports are being laid out.
    import contextlib
    import os

    with contextlib.suppress(OSError, AttributeError):
        os.nice(RENDER_NICENESS)
    # Import WeasyPrint (≈1 s) once per worker, not on the first document.
    import weasyprint  # noqa: F401


# --- the pool -----------------------------------------------------------------------------

MAX_TASKS_PER_WORKER = 100
_pool: concurrent.futures.ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the app runs threads and an event loop that must not be cloned.
            _pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                # recycle workers now and then: long layouts can leave memory behind
                max_tasks_per_child=MAX_TASKS_PER_WORKER,
            )
        return _pool


def _discard_pool(pool: concurrent.futures.ProcessPoolExecutor, *, kill: bool) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    if kill:
        # A hung render cannot be cancelled: end its processes (only this pool's). The pool
        # sets _processes to None once it has shut down.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                process.kill()
            except Exception:  # noqa: S110 - already gone
                pass
    pool.shutdown(wait=False, cancel_futures=True)


def start_pool(app: Any = None) -> None:
    """ON_STARTUP hook: nothing to do (the pool starts with the first document)."""


def shutdown_pool(app: Any = None) -> None:
    """ON_SHUTDOWN hook."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def render_html(template_name: str, context: dict[str, Any], *, lang: str = "en") -> str:
    """The document's HTML from templates/reports/pdf/<template_name>, in ``lang``."""
    from casetracker.web import i18n
    from casetracker.web.templating import render_string

    previous = i18n.get_language()
    i18n.set_language(lang)
    try:
        return render_string(f"reports/pdf/{template_name}", **context, lang=lang)
    finally:
        i18n.set_language(previous)


async def render_pdf(
    template_name: str,
    context: dict[str, Any],
    *,
    title: str,
    attachment_json: dict[str, Any] | None = None,
    lang: str = "en",
) -> bytes:
    """Render templates/reports/pdf/<template_name> with ``context`` to PDF/A-3b bytes.

    Raises RenderTimeout after ``settings.pdf_timeout_seconds`` and RenderError when the worker
    fails; the app keeps serving either way."""
    settings = get_settings()
    html = render_html(template_name, context, lang=lang)
    timeout = settings.pdf_timeout_seconds
    # The time limit is for rendering, not for waiting in line: a document waits (for as long
    # as it takes) until a worker is free, and only then is the clock started. A burst of
    # renders slows down; none is abandoned for having waited.
    queued = time.monotonic()
    async with _render_slot(max(1, settings.pdf_workers)):
        started = time.monotonic()
        metrics.PDF_RENDER_WAIT_SECONDS.observe(started - queued)
        pdf = await _render_now(settings, template_name, html, title=title,
                                attachment_json=attachment_json, lang=lang,
                                limit_seconds=timeout)
        metrics.PDF_RENDER_SECONDS.labels(template=template_name).observe(
            time.monotonic() - started)
        return pdf


_slots: dict[tuple[int, int], asyncio.Semaphore] = {}


def _render_slot(workers: int) -> asyncio.Semaphore:
    """One slot per PDF worker, per event loop (a semaphore belongs to its loop)."""
    key = (id(asyncio.get_running_loop()), workers)
    slot = _slots.get(key)
    if slot is None:
        if len(_slots) > 16:  # loops come and go in tests and CLI commands
            _slots.clear()
        slot = _slots[key] = asyncio.Semaphore(workers)
    return slot


async def _render_now(settings: Any, template_name: str, html: str, *, title: str,
                      attachment_json: dict[str, Any] | None, lang: str,
                      limit_seconds: float) -> bytes:
    timeout = limit_seconds
    if settings.pdf_workers <= 0:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(html_to_pdf, html, title=title,
                                  attachment_json=attachment_json, lang=lang),
                timeout,
            )
        except TimeoutError as exc:
            raise RenderTimeout(f"rendering {template_name} took over {timeout} s") from exc
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = _get_pool(settings.pdf_workers)
        try:
            future = loop.run_in_executor(pool, _worker_render, html, title, attachment_json,
                                          lang)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            log.error("PDF render of %s timed out after %s s; restarting the pool",
                      template_name, timeout)
            _discard_pool(pool, kill=True)
            raise RenderTimeout(f"rendering {template_name} took over {timeout} s") from exc
        except concurrent.futures.process.BrokenProcessPool as exc:
            log.warning("PDF worker pool broke (attempt %s); recreating it", attempt)
            _discard_pool(pool, kill=True)
            if attempt == 2:
                raise RenderError("the PDF workers stopped unexpectedly") from exc
    raise RenderError("unreachable")  # pragma: no cover


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
