"""``/readyz`` (can this process serve?) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import hmac
import ipaddress
import os
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from casetracker.auth.guards import PUBLIC
from casetracker.ops import metrics
from casetracker.ops.readiness import readiness
from casetracker.settings import get_settings

# GET only, no state, no form: no session and no CSRF cookie either
OPS_OPT = {PUBLIC: True, "skip_session": True, "exclude_from_csrf": True}


@get("/readyz", name="readyz", opt=OPS_OPT, include_in_schema=False)
async def readyz() -> Response[dict[str, Any]]:
    checks = await readiness(get_settings())
    ready = all(outcome == "ok" for outcome in checks.values())
    return Response({"status": "ready" if ready else "not ready", "checks": checks},
                    status_code=200 if ready else 503, headers={"cache-control": "no-store"})


def _metrics_allowed(request: Request[Any, Any, Any]) -> bool:
    """With CASETRACKER_METRICS_TOKEN set, a scraper sends it as a bearer token; without it,
    only this machine (loopback) may read the metrics."""
    token = get_settings().metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _refresh_queue_gauges() -> None:
    from casetracker.jobs.services import queue_state

    state = await queue_state()
    metrics.JOBS_DUE.set(state.due)
    metrics.JOBS_RUNNING.set(state.running)
    metrics.JOBS_FAILED.set(state.failed)
    waited = ((datetime.now(UTC) - state.oldest_due_at).total_seconds()
              if state.oldest_due_at else 0.0)
    metrics.JOBS_OLDEST_DUE_SECONDS.set(max(0.0, waited))


@get("/metrics", name="metrics", opt=OPS_OPT, include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
    if not _metrics_allowed(request):
        return Response(b"metrics need the metrics token\n", status_code=401,
                        media_type="text/plain",
                        headers={"www-authenticate": 'Bearer realm="metrics"'})
    await _refresh_queue_gauges()
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # every server process's counts, summed
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST,
                    headers={"cache-control": "no-store"})


ROUTE_HANDLERS = [readyz, metrics_endpoint]
