"""The partner intake API: same validation as the form, tracking number and code back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casetracker import jobs
from casetracker.cases.tables import Case, CaseOfficer, Witness
from casetracker.intake import rules
from casetracker.intake.tables import ComplainantContact
from casetracker.settings import configure
from tests.conftest import Browser

BODY = {
    "narrative": "Stopped and asked for papers because I spoke Spanish.",
    "incident_date": "2026-11-02",
    "incident_state": "TX",
    "incident_setting": "traffic_stop",
    "officers": [{"name": "J. Doe", "badge": "77"}, {"description": "Second officer, tall"}],
    "witnesses": [{"name": "Rosa", "statement": "I saw it."}],
    "protected": ["language", "ethnicity"],
    "checklist": ["stopped", "questioned_status"],
    "name": "Partner Client", "email": "client@example.org",
    "language": "es",
}


async def test_file_and_look_up_through_the_api(browser: Browser, settings: Any) -> None:
    response = await browser.client.post("/api/v1/complaints", json=BODY)
    assert response.status_code == 201, response.text
    out = response.json()
    assert rules.TRACKING_RE.match(out["tracking_number"])
    assert len(rules.normalise_access_code(out["access_code"])) == 20
    case = await Case.select().where(Case.tracking_number == out["tracking_number"]).first()
    assert case["channel"] == "api" and case["language"] == "es"
    assert case["incident_date"].isoformat() == "2026-11-02"
    assert await CaseOfficer.count().where(CaseOfficer.case == case["id"]) == 2
    assert await Witness.count().where(Witness.case == case["id"]) == 1
    assert await ComplainantContact.exists().where(ComplainantContact.case == case["id"])

    status = await browser.client.post("/api/v1/complaints/status", json={
        "tracking_number": out["tracking_number"], "access_code": out["access_code"]})
    assert status.status_code == 200
    assert status.json()["status"] == "received"
    assert "received your complaint" in status.json()["status_text"]


async def test_wrong_code_and_unknown_number_are_the_same_404(browser: Browser) -> None:
    out = (await browser.client.post("/api/v1/complaints", json=BODY)).json()
    wrong = await browser.client.post("/api/v1/complaints/status", json={
        "tracking_number": out["tracking_number"], "access_code": "X" * 20})
    unknown = await browser.client.post("/api/v1/complaints/status", json={
        "tracking_number": "CT-2345-6789", "access_code": out["access_code"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


async def test_api_validation_errors_are_422_with_fields(browser: Browser) -> None:
    cases = [
        ({**BODY, "narrative": ""}, "narrative"),
        ({**BODY, "narrative": "x" * 7001}, "narrative"),
        ({**BODY, "incident_date": "2026-02-30"}, "incident_day"),
        ({**BODY, "incident_date": "yesterday"}, "incident_year"),
        ({**BODY, "officers": [{"name": "A\x07B"}]}, "officers[0].name"),
        ({**BODY, "email": "nope"}, "email"),
        ({**BODY, "officers": "not a list"}, "officers"),
        ({"anonymous": True}, "narrative"),
    ]
    for body, field in cases:
        response = await browser.client.post("/api/v1/complaints", json=body)
        assert response.status_code == 422, (field, response.text)
        errors = response.json()["errors"]
        assert any(field in key for key in errors), (field, errors)
    response = await browser.client.post("/api/v1/complaints", content=b"{not json",
                                         headers={"content-type": "application/json"})
    assert response.status_code in (400, 422) and response.headers["content-type"].startswith(
        "application/json")
    assert not await Case.exists()


async def test_api_is_rate_limited_and_size_limited(browser: Browser, settings: Any) -> None:
    configure(settings.replace(public_rate_limit_per_hour=1))
    assert (await browser.client.post("/api/v1/complaints", json=BODY)).status_code == 201
    response = await browser.client.post("/api/v1/complaints", json=BODY)
    assert response.status_code == 429 and "detail" in response.json()
    huge = {**BODY, "harm": "x" * 300_000}
    response = await browser.client.post("/api/v1/complaints", json=huge)
    assert response.status_code == 413


async def test_api_is_in_the_openapi_schema(browser: Browser) -> None:
    schema = (await browser.client.get("/api/schema/openapi.json")).json()
    assert "/api/v1/complaints" in schema["paths"]
    assert "/api/v1/complaints/status" in schema["paths"]
    post = schema["paths"]["/api/v1/complaints"]["post"]
    assert "requestBody" in post


async def test_api_needs_no_csrf_token_or_session(browser: Browser) -> None:
    response = await browser.client.post("/api/v1/complaints", json=BODY)
    assert response.status_code == 201
    assert "ct_session" not in response.headers.get("set-cookie", "")


async def test_api_filing_with_an_email_sends_the_receipt(browser: Browser, settings: Any) -> None:
    from pathlib import Path

    response = await browser.client.post("/api/v1/complaints", json=BODY)
    assert response.status_code == 201
    await jobs.run_due()  # the receipt e-mail is a background job
    mails = list(Path(settings.outbox_dir).glob("*.eml"))  # noqa: ASYNC240
    assert len(mails) == 1
    text = mails[0].read_text(errors="replace")
    assert response.json()["tracking_number"] in text
    assert response.json()["access_code"] not in text


# --- Idempotency-Key ---------------------------------------------------------------------------

async def test_the_same_idempotency_key_twice_files_once_with_the_same_answer(
        browser: Browser, settings: Any) -> None:
    import asyncio

    key = {"Idempotency-Key": "5f0c1a3e-6d2b-4c8e-9a7f-2b1d3c4e5f60"}
    first = await browser.client.post("/api/v1/complaints", json=BODY, headers=key)
    again = await browser.client.post("/api/v1/complaints", json=BODY, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # the access code too: the client may have lost it
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await Case.count() == 1
    # At once, from a client that timed out and retried: still one case.
    other = {"Idempotency-Key": "0e6e2f8c-9a55-4f1b-8a0d-cc0a51b3e7a2"}
    answers = await asyncio.gather(*(browser.client.post("/api/v1/complaints", json=BODY,
                                                         headers=other) for _ in range(3)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["tracking_number"] for a in answers}) == 1
    assert await Case.count() == 2
    # Without a key, each request files (as before).
    assert (await browser.client.post("/api/v1/complaints", json=BODY)).status_code == 201
    assert await Case.count() == 3
    # One e-mailed receipt per complaint, not per request.
    await jobs.run_due()
    messages = list(Path(settings.outbox_dir).glob("*.eml"))  # noqa: ASYNC240
    assert len(messages) == 3


async def test_the_same_idempotency_key_with_another_body_is_refused(browser: Browser) -> None:
    key = {"Idempotency-Key": "a4d7b7e0-1111-4c2b-9b8a-3f6d2e1c0b9a"}
    assert (await browser.client.post("/api/v1/complaints", json=BODY,
                                      headers=key)).status_code == 201
    changed = await browser.client.post("/api/v1/complaints", headers=key,
                                        json={**BODY, "narrative": "Something else entirely."})
    assert changed.status_code == 422
    assert "already used for a different request" in changed.json()["errors"]["idempotency_key"]
    assert await Case.count() == 1


async def test_a_weak_idempotency_key_is_refused(browser: Browser) -> None:
    response = await browser.client.post("/api/v1/complaints", json=BODY,
                                         headers={"Idempotency-Key": "1"})
    assert response.status_code == 422 and "idempotency_key" in response.json()["errors"]
    assert not await Case.exists()
