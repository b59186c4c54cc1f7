"""The public forms as a person's browser uses them, for the benches: the complaint form
(GET, fill in, POST, "Check your answers", "Send my complaint", the confirmation) and the
status look-up, each POST with the CSRF token of the page it came from."""

from __future__ import annotations

import re
import uuid
from typing import Any

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
REVIEW_TOKEN = re.compile(r'name="review_token" value="([^"]+)"')
TRACKING = re.compile(r'id="tracking-number">([^<]+)<')
ACCESS_CODE = re.compile(r'id="access-code">([^<]+)<')


def _expect(response: Any, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise RuntimeError(f"{response.request.method} {response.request.url.path} answered "
                           f"{response.status_code}")
    return response


def _token(pattern: re.Pattern[str], text: str, what: str) -> str:
    match = pattern.search(text)
    if match is None:
        raise RuntimeError(f"no {what} on the page")
    return match.group(1)


async def file_through_the_form(client: Any, n: int) -> tuple[str, str]:
    """File one complaint through the form; the tracking number and access code shown."""
    client.cookies.clear()  # a new visitor: no draft of the previous one
    page = _expect(await client.get("/complaint"), 200)
    fields = [
        ("_csrf_token", _token(CSRF, page.text, "CSRF token")),  # first, as the form has it
        ("incident_day", "2"), ("incident_month", "11"), ("incident_year", "2026"),
        ("incident_time", "14:05"), ("incident_location", f"{100 + n} Main Street"),
        ("incident_city", "Conroe"), ("incident_state", "TX"),
        ("incident_setting", "traffic_stop"), ("context_287g", "unknown"),
        ("officer_count", "1"), ("officer-0-name", "Deputy Smith"),
        ("officer-0-badge", str(1000 + n)), ("officer-0-agency", ""),
        ("officer-0-agency_id", ""), ("witness_count", "1"), ("witness-0-name", ""),
        ("narrative", f"Stopped on Route 9 and asked for my papers ({uuid.uuid4().hex[:8]})."),
        ("checklist", "stopped"), ("checklist", "questioned_status"),
        ("protected", "ethnicity"), ("complainant_role", "victim"), ("anonymous", "1"),
        ("action", "review"),
    ]
    files = [("files", ("", b"", "application/octet-stream"))]  # the empty file input
    _expect(await client.post("/complaint", data=_as_dict(fields), files=files), 303)
    review = _expect(await client.get("/complaint/review"), 200)
    _expect(await client.post("/complaint/send", data={
        "_csrf_token": _token(CSRF, review.text, "CSRF token"),
        "review_token": _token(REVIEW_TOKEN, review.text, "review token")}), 303)
    sent = _expect(await client.get("/complaint/sent"), 200)
    return (_token(TRACKING, sent.text, "tracking number").strip(),
            _token(ACCESS_CODE, sent.text, "access code").strip())


async def look_up_status(client: Any, number: str, code: str) -> None:
    page = _expect(await client.get("/status"), 200)
    _expect(await client.post("/status", data={
        "_csrf_token": _token(CSRF, page.text, "CSRF token"),
        "tracking_number": number, "access_code": code}), 303)
    status = _expect(await client.get("/status/complaint"), 200)
    if number not in status.text:
        raise RuntimeError(f"the status page does not show {number}")


def _as_dict(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """httpx takes repeated fields as lists."""
    data: dict[str, Any] = {}
    for name, value in fields:
        if name in data:
            data[name] = [*data[name], value] if isinstance(data[name], list) else [
                data[name], value]
        else:
            data[name] = value
    return data
