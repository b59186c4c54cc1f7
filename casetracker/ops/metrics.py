"""The app's own Prometheus metrics (HTTP requests are counted by Litestar's Prometheus
middleware, by route template and status).

With several server processes (``casetracker run --workers N``) each keeps its own counts;
``casetracker run`` sets ``PROMETHEUS_MULTIPROC_DIR`` (under the var dir) before the workers
start, so ``/metrics`` on any of them reports the sum across all.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "casetracker"

EMAILS = Counter(f"{PREFIX}_emails_total", "E-mails sent or failed", ["outcome"])
PDF_RENDER_SECONDS = Histogram(
    f"{PREFIX}_pdf_render_seconds", "Time to lay out one PDF (rendering only, not waiting)",
    ["template"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120))
PDF_RENDER_WAIT_SECONDS = Histogram(
    f"{PREFIX}_pdf_render_wait_seconds", "Time a PDF waited for a free renderer",
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300))
JOBS = Counter(f"{PREFIX}_jobs_total", "Background job tries by outcome", ["job", "outcome"])
JOB_SECONDS = Histogram(f"{PREFIX}_job_seconds", "Time a background job's try took", ["job"],
                        buckets=(0.05, 0.25, 1, 5, 15, 60, 300))
# Read from the database at each scrape (the same figures on every process).
JOBS_DUE = Gauge(f"{PREFIX}_jobs_due", "Background jobs due now, waiting for a worker",
                 multiprocess_mode="livemostrecent")
JOBS_RUNNING = Gauge(f"{PREFIX}_jobs_running", "Background jobs being run",
                     multiprocess_mode="livemostrecent")
JOBS_FAILED = Gauge(f"{PREFIX}_jobs_failed", "Background jobs that failed every try",
                    multiprocess_mode="livemostrecent")
JOBS_OLDEST_DUE_SECONDS = Gauge(
    f"{PREFIX}_jobs_oldest_due_seconds", "How long the longest-waiting due job has waited",
    multiprocess_mode="livemostrecent")
