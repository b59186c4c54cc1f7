"""Administrators see failed background jobs in words, with their case, and try them again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import jobs
from casetracker.jobs.tables import Job
from tests.conftest import Browser, login_as
from tests.factories_cases import make_case


@jobs.handler("tests.always_fails", label="Send a letter that cannot be sent", max_attempts=1)
async def always_fails(payload: dict[str, Any]) -> None:
    raise ConnectionRefusedError("the mail server did not answer")


async def test_a_failed_job_is_listed_in_words_and_can_be_tried_again(
        browser: Browser, settings: Any) -> None:
    case = await make_case()
    await jobs.enqueue("tests.always_fails", {"case_id": case["id"]}, key="letter-1")
    await jobs.run_due(now=datetime.now(UTC) + timedelta(seconds=1))
    await login_as(browser, "administrator")

    page = await browser.get("/dashboard")
    assert 'href="/admin/jobs"' in page.text
    page = await browser.get("/admin/jobs")
    assert page.status_code == 200
    assert "Send a letter that cannot be sent" in page.text
    assert "tests.always_fails" not in page.text  # words, not codes
    assert case["tracking_number"] in page.text
    assert "the mail server did not answer" in page.text

    job = await Job.select(Job.id).first()
    response = await browser.post(f"/admin/jobs/{job['id']}/retry")
    assert response.status_code == 303 and response.headers["location"] == "/admin/jobs"
    page = await browser.get("/admin/jobs")
    assert "will be tried again now" in page.text
    assert "No job has failed." in page.text
    row = await Job.select(Job.status, Job.attempts).first()
    assert row == {"status": "pending", "attempts": 0}

    # a second retry of the same (no longer failed) job says why, and changes nothing
    response = await browser.post(f"/admin/jobs/{job['id']}/retry")
    page = await browser.get(response.headers["location"])
    assert "Only failed jobs can be retried" in page.text


async def test_only_administrators_see_background_jobs(browser: Browser, settings: Any) -> None:
    await login_as(browser, "supervisor")
    assert 'href="/admin/jobs"' not in (await browser.get("/dashboard")).text
    assert (await browser.get("/admin/jobs")).status_code == 403
