"""/readyz asks each part the app depends on; /metrics gives Prometheus the request, job,
render and e-mail figures, only to the scraper holding the token (or to this machine)."""

from __future__ import annotations

from typing import Any

from casetracker import jobs
from casetracker.settings import configure
from tests.conftest import Browser

BODY = {"narrative": "Stopped and asked for papers.", "incident_date": "2026-11-02",
        "incident_setting": "traffic_stop", "checklist": ["stopped"], "name": "Ana",
        "email": "ana@example.org", "language": "en"}


def _value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_readiness_names_what_is_missing(browser: Browser, settings: Any) -> None:
    ready = await browser.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert "set-cookie" not in ready.headers

    configure(settings.replace(redis_url="redis://127.0.0.1:1/0"))  # nothing listens there
    not_ready = await browser.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["status"] == "not ready"
    assert not_ready.json()["checks"]["database"] == "ok"
    assert not_ready.json()["checks"]["redis"] != "ok"
    assert (await browser.client.get("/healthz")).status_code == 200  # liveness stays trivial


async def test_metrics_need_the_token_and_count_requests_jobs_and_emails(
        browser: Browser, settings: Any) -> None:
    assert (await browser.client.get("/metrics")).status_code == 401  # not from this machine
    configure(settings.replace(metrics_token="scrape-secret"))
    assert (await browser.client.get("/metrics", headers={
        "authorization": "Bearer wrong"})).status_code == 401
    auth = {"authorization": "Bearer scrape-secret"}
    before = (await browser.client.get("/metrics", headers=auth)).text

    response = await browser.client.post("/api/v1/complaints", json=BODY)
    assert response.status_code == 201
    after_filing = (await browser.client.get("/metrics", headers=auth)).text
    assert _value(after_filing, "casetracker_jobs_due") == 1  # the receipt, promised
    await jobs.run_due()
    await browser.client.get("/cases/987654")  # an id in the path never becomes a label

    text = (await browser.client.get("/metrics", headers=auth)).text
    assert _value(text, "casetracker_jobs_due") == 0
    assert _value(text, "casetracker_emails_total", outcome="sent") == _value(
        before, "casetracker_emails_total", outcome="sent") + 1
    assert _value(text, "casetracker_jobs_total", job="intake.send_receipt",
                  outcome="done") >= 1
    assert _value(text, "casetracker_pdf_render_seconds_count",
                  template="receipt.html.j2") >= 1
    assert _value(text, "casetracker_requests_total", path="/api/v1/complaints",
                  status_code="201") >= 1
    assert "987654" not in text
    assert 'path="/cases/{case_id}"' in text
