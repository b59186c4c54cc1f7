"""The streaming ingest at the ASGI level: an interrupted upload leaves nothing behind (on the
local disk, and on S3 where the second file is mid-way through a multipart upload)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from casetracker.evidence.tables import CustodyEvent, EvidenceItem
from tests.conftest import Browser, login_as
from tests.factories_evidence import make_case, noise
from tests.storage_helpers import staging_leftovers, stored_keys

pytestmark = pytest.mark.storage_backends


async def leftover_files(settings: Any) -> list[str]:
    return await stored_keys(settings) + await staging_leftovers(settings)


async def _drive(app: Any, request: httpx.Request, cookie_header: str, *,
                 deliver_bytes: int, chunk: int = 64 * 1024) -> list[dict[str, Any]]:
    """Send the request to the ASGI app, but the client goes away after ``deliver_bytes``."""
    body = request.read()
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()
               if k.lower() not in ("cookie",)]
    headers.append((b"cookie", cookie_header.encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": request.url.path, "raw_path": request.url.path.encode(),
        "query_string": b"", "root_path": "", "headers": headers,
        "client": ("203.0.113.7", 50000), "server": ("testserver", 80),
    }
    position = 0

    async def receive() -> dict[str, Any]:
        nonlocal position
        limit = min(deliver_bytes, len(body))
        if position >= limit:
            return {"type": "http.disconnect"}
        piece = body[position:min(position + chunk, limit)]
        position += len(piece)
        return {"type": "http.request", "body": piece, "more_body": position < len(body)}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_client_disconnect_mid_upload_leaves_no_record_and_no_file(
        app: Any, browser: Browser, settings: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    token = await browser.csrf_for(f"/cases/{case.id}/evidence/new")
    first = noise(300_000, "one")
    second = noise(12_000_000, "two")  # over one 8 MiB part: a multipart upload on S3
    request = browser.client.build_request(
        "POST", f"/cases/{case.id}/evidence/new",
        data={"_csrf_token": token, "description": "Body camera export", "source": "agency"},
        files=[("files", ("one.bin", first, "application/octet-stream")),
               ("files", ("two.bin", second, "application/octet-stream"))])
    cookie_header = "; ".join(f"{c.name}={c.value}" for c in browser.client.cookies.jar)
    body_length = len(request.read())
    # the first file arrives completely, the second only in part, then the client is gone
    sent = await _drive(app, request, cookie_header, deliver_bytes=body_length - 2_000_000)
    statuses = [m.get("status") for m in sent if m["type"] == "http.response.start"]
    assert statuses and statuses[0] != 303
    assert await EvidenceItem.count() == 0
    assert await CustodyEvent.count() == 0
    assert await leftover_files(settings) == []

    # and the same upload, complete, goes through (the route itself works)
    request = browser.client.build_request(
        "POST", f"/cases/{case.id}/evidence/new",
        data={"_csrf_token": token, "description": "Body camera export", "source": "agency"},
        files=[("files", ("one.bin", first, "application/octet-stream"))])
    sent = await _drive(app, request, cookie_header, deliver_bytes=len(request.read()))
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [303]
    assert await EvidenceItem.count() == 1


async def test_too_many_or_too_large_files_leave_nothing(browser: Browser, settings: Any,
                                                         monkeypatch: Any) -> None:
    from casetracker.evidence import controllers

    await login_as(browser, "supervisor")
    case = await make_case()
    monkeypatch.setattr(controllers, "staff_max_file_bytes", lambda: 100_000)
    monkeypatch.setattr(controllers, "staff_max_total_bytes", lambda: 150_000)
    monkeypatch.setattr(controllers, "STAFF_MAX_FILES", 2)
    page = f"/cases/{case.id}/evidence/new"
    fields = {"description": "Photos", "source": "investigator"}
    too_large = await browser.submit(page, data=fields, files=[
        ("files", ("small.dat", noise(10_000, "small"), "application/octet-stream")),
        ("files", ("big.dat", noise(120_000, "big"), "application/octet-stream"))])
    assert too_large.status_code == 422
    assert "too large" in too_large.text and "big.dat" in too_large.text
    assert "Photos" in too_large.text  # the description is kept
    too_many = await browser.submit(page, data=fields, files=[
        ("files", (f"f{i}.dat", noise(1000, f"f{i}"), "application/octet-stream"))
        for i in range(3)])
    assert too_many.status_code == 422 and "at most 2 files" in too_many.text
    together = await browser.submit(page, data=fields, files=[
        ("files", (f"g{i}.dat", noise(90_000, f"g{i}"), "application/octet-stream"))
        for i in range(2)])
    assert together.status_code == 422 and "together are too large" in together.text
    assert await EvidenceItem.count() == 0
    assert await leftover_files(settings) == []


async def test_a_body_announced_too_large_is_refused_before_reading(browser: Browser,
                                                                    settings: Any,
                                                                    monkeypatch: Any) -> None:
    from casetracker.evidence import controllers

    await login_as(browser, "supervisor")
    case = await make_case()
    monkeypatch.setattr(controllers, "staff_max_total_bytes", lambda: 0)
    response = await browser.submit(
        f"/cases/{case.id}/evidence/new", data={"description": "x", "source": "other"},
        files=[("files", ("big.dat", noise(10_100_000, "huge"), "application/octet-stream"))])
    assert response.status_code == 413
    assert "too large" in response.text
    assert await EvidenceItem.count() == 0
    assert await leftover_files(settings) == []
