"""Staff evidence through HTTP: the real upload form with the real CSRF token, hashes,
duplicates, safe downloads with ranges, previews, custody, access control, malicious files."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import pytest

from casetracker.audit.tables import AuditEvent
from casetracker.evidence.tables import CustodyEvent, EvidenceAllegation, EvidenceItem
from tests.conftest import Browser, login_as
from tests.factories import make_user
from tests.factories_evidence import (
    ELF_BYTES,
    HTML_BYTES,
    PE_BYTES,
    SVG_BYTES,
    make_allegation,
    make_case,
    png_bytes,
)
from tests.storage_helpers import read_stored, staging_leftovers, stored_keys

pytestmark = pytest.mark.storage_backends


async def stored_files(settings: Any) -> list[str]:
    return await stored_keys(settings)


async def staging_files(settings: Any) -> list[str]:
    return await staging_leftovers(settings)


def all_inside(root: Path, keys: list[str]) -> bool:
    """Every stored key is a content address inside the store (nothing escaped it)."""
    paths = [root / key for key in keys]
    root = root.resolve()
    return (all(re.fullmatch(r"sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", k) for k in keys)
            and all(root in p.resolve().parents for p in paths)
            and not (root.parent / "etc").exists())


async def upload(browser: Browser, case_id: int, files: list[tuple[str, bytes, str]],
                 **fields: Any) -> Any:
    data = {"description": "Phone video of the stop", "source": "complainant",
            "obtained_on": "2026-10-01", **fields}
    return await browser.submit(
        f"/cases/{case_id}/evidence/new", data=data,
        files=[("files", (name, content, ctype)) for name, content, ctype in files])


async def test_upload_through_the_real_form_records_hashes_and_allegations(
        browser: Browser, settings: Any) -> None:
    user = await login_as(browser, "supervisor")
    case = await make_case()
    allegation = await make_allegation(case)
    video = b"\x00\x00\x00\x18ftypmp42" + os.urandom(300_000)
    image = png_bytes()
    response = await upload(browser, case.id, [("stop.mp4", video, "video/mp4"),
                                               ("car.png", image, "image/png")],
                            allegations=[str(allegation.id)])
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == f"/cases/{case.id}/evidence"

    items = await EvidenceItem.select().order_by(EvidenceItem.id)
    assert [i["original_name"] for i in items] == ["stop.mp4", "car.png"]
    assert items[0]["sha256"] == hashlib.sha256(video).hexdigest()
    assert items[0]["size_bytes"] == len(video)
    assert items[0]["kind"] == "video" and items[0]["content_type"] == "video/mp4"
    assert items[1]["sha256"] == hashlib.sha256(image).hexdigest()
    assert items[1]["kind"] == "image" and items[1]["image_verified"] is True
    assert items[0]["received_by"] == user.id and items[0]["source"] == "complainant"
    assert str(items[0]["obtained_on"]) == "2026-10-01"
    links = await EvidenceAllegation.select().where(EvidenceAllegation.item == items[0]["id"])
    assert [link["allegation"] for link in links] == [allegation.id]

    # stored once, content-addressed, under generated names; nothing left in staging
    files = await stored_files(settings)
    assert sorted(k.rsplit("/", 1)[-1] for k in files) == sorted(i["sha256"] for i in items)
    for item in items:
        sha = item["sha256"]
        assert item["storage_key"] == f"sha256/{sha[:2]}/{sha[2:4]}/{sha}"
        assert hashlib.sha256(await read_stored(settings, item["storage_key"])
                              ).hexdigest() == sha
    assert await staging_files(settings) == []

    page = await browser.get(f"/cases/{case.id}/evidence")
    assert page.status_code == 200
    assert "stop.mp4" in page.text and "car.png" in page.text


async def test_duplicate_is_recognised(browser: Browser, settings: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    content = b"Statement of witness, typed.\n" * 50
    assert (await upload(browser, case.id, [("a.txt", content, "text/plain")])).status_code == 303
    response = await upload(browser, case.id, [("copy-of-a.txt", content, "text/plain")])
    assert response.status_code == 303
    first, second = await EvidenceItem.select().order_by(EvidenceItem.id)
    assert first["duplicate_of"] is None
    assert second["duplicate_of"] == first["id"]
    assert first["storage_key"] == second["storage_key"]
    assert len(await stored_files(settings)) == 1
    page = await browser.get(f"/cases/{case.id}/evidence")
    assert "identical to item" in page.text  # the flash says so


async def test_form_errors_keep_values_and_store_nothing(browser: Browser, settings: Any
                                                         ) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    response = await upload(browser, case.id, [("a.txt", b"hello", "text/plain")],
                            description="", source="nowhere", obtained_on="2999-01-01")
    assert response.status_code == 422
    assert "Describe what the evidence is" in response.text
    assert "Choose where the evidence came from" in response.text
    assert "cannot be in the future" in response.text
    assert 'value="2999-01-01"' in response.text
    assert "choose the files again" in response.text
    assert await EvidenceItem.count() == 0
    assert await stored_files(settings) == [] and await staging_files(settings) == []


async def test_malicious_files_are_refused(browser: Browser, settings: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    cases = [
        ("statement.html", HTML_BYTES, "text/html"),
        ("notes.txt", HTML_BYTES, "text/plain"),  # HTML whatever the name
        ("map.svg", SVG_BYTES, "image/svg+xml"),
        ("map.png", SVG_BYTES, "image/png"),  # SVG whatever the declared type
        ("photo.jpg", ELF_BYTES, "image/jpeg"),  # a renamed executable
        ("photo2.jpg", PE_BYTES, "image/jpeg"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n", "text/plain"),
    ]
    for name, content, ctype in cases:
        response = await upload(browser, case.id, [(name, content, ctype)])
        assert response.status_code == 422, name
        assert "was refused" in response.text, name
    assert await EvidenceItem.count() == 0
    assert await stored_files(settings) == [] and await staging_files(settings) == []


async def test_path_traversal_name_is_neutralised(browser: Browser, settings: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    content = b"root:x:0:0:root:/root:/bin/bash\n"
    response = await upload(browser, case.id, [("../../etc/passwd", content, "text/plain")])
    assert response.status_code == 303
    item = await EvidenceItem.select().first()
    assert item["original_name"] == "passwd"
    assert item["storage_key"].startswith("sha256/")
    assert all_inside(Path(settings.evidence_dir), await stored_files(settings))
    download = await browser.get(f"/evidence/{item['id']}/download")
    disposition = download.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="evidence-{item["id"]}.txt"')
    assert "filename*=UTF-8''passwd" in disposition
    assert ".." not in disposition and "/" not in disposition.split("filename=")[1]


async def test_download_is_a_safe_attachment_with_ranges(browser: Browser, settings: Any
                                                         ) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    content = bytes(range(256)) * 40  # binary, "other"
    text = b"plain words <b>not html</b>\n"
    assert (await upload(browser, case.id, [("clip.dat", content, "application/octet-stream"),
                                            ("w.txt", text, "text/plain")])).status_code == 303
    binary, plain = await EvidenceItem.select().order_by(EvidenceItem.id)

    whole = await browser.get(f"/evidence/{binary['id']}/download", params={"purpose": "review"})
    assert whole.status_code == 200
    assert whole.content == content
    assert whole.headers["content-type"] == "application/octet-stream"
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in whole.headers["content-security-policy"]
    assert whole.headers["content-disposition"].startswith("attachment;")
    assert whole.headers["accept-ranges"] == "bytes"

    part = await browser.get(f"/evidence/{binary['id']}/download",
                             headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == content[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(content)}"
    assert part.headers["content-length"] == "1000"
    tail = await browser.get(f"/evidence/{binary['id']}/download", headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == content[-16:]
    open_end = await browser.get(f"/evidence/{binary['id']}/download",
                                 headers={"Range": "bytes=10200-"})
    assert open_end.status_code == 206 and open_end.content == content[10200:]
    bad = await browser.get(f"/evidence/{binary['id']}/download",
                            headers={"Range": f"bytes={len(content)}-"})
    assert bad.status_code == 416

    served = await browser.get(f"/evidence/{plain['id']}/download")
    assert served.headers["content-type"].startswith("text/plain")
    assert "html" not in served.headers["content-type"]
    assert served.content == text

    # no inline preview for anything but a verified raster image
    assert (await browser.get(f"/evidence/{plain['id']}/preview")).status_code == 404


async def test_real_images_preview_inline_as_a_redrawn_png(browser: Browser, settings: Any
                                                           ) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    assert (await upload(browser, case.id, [("car.png", png_bytes(), "image/png")])
            ).status_code == 303
    item = await EvidenceItem.select().first()
    page = await browser.get(f"/evidence/{item['id']}")
    assert f"/evidence/{item['id']}/preview" in page.text
    assert item["sha256"] in page.text
    preview = await browser.get(f"/evidence/{item['id']}/preview")
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/png"
    assert preview.content.startswith(b"\x89PNG")
    assert preview.headers["x-content-type-options"] == "nosniff"


async def test_custody_is_complete_for_every_action(browser: Browser, settings: Any) -> None:
    user = await login_as(browser, "supervisor")
    case = await make_case()
    assert (await upload(browser, case.id, [("a.txt", b"words\n", "text/plain")])
            ).status_code == 303
    item = await EvidenceItem.select().first()
    item_id = item["id"]
    assert (await browser.get(f"/evidence/{item_id}")).status_code == 200
    assert (await browser.get(f"/evidence/{item_id}/download",
                              params={"purpose": "prepare interview"})).status_code == 200
    page_url = f"/evidence/{item_id}"
    assert (await browser.submit(page_url, f"/evidence/{item_id}/verify")).status_code == 303
    assert (await browser.submit(page_url, f"/evidence/{item_id}/withdraw",
                                 data={"reason": "Uploaded to the wrong case"})).status_code == 303

    events = await CustodyEvent.select().where(CustodyEvent.item == item_id).order_by(
        CustodyEvent.id)
    # the item page was viewed again by the two form submissions (they open the page first)
    actions = [e["action"] for e in events]
    assert actions[0] == "received"
    for expected in ("viewed", "downloaded", "verified", "withdrawn"):
        assert expected in actions
    assert actions.index("downloaded") < actions.index("verified") < actions.index("withdrawn")
    for event in events:
        assert event["actor_id"] == user.id
        assert event["actor_label"] == user.email
        assert event["ip_address"] == "203.0.113.7"
        assert event["at"] is not None
    download = next(e for e in events if e["action"] == "downloaded")
    assert download["purpose"] == "prepare interview"
    withdrawn = next(e for e in events if e["action"] == "withdrawn")
    assert withdrawn["purpose"] == "Uploaded to the wrong case"

    audits = await AuditEvent.select().where(AuditEvent.object_type == "evidence_item")
    assert {a["action"] for a in audits} >= {"evidence.receive", "evidence.view",
                                             "evidence.view_file", "evidence.verify",
                                             "evidence.withdraw"}
    assert all(a["case_id"] == case.id for a in audits)

    # withdrawn: hidden by default, shown with the toggle, still in the store
    listing = await browser.get(f"/cases/{case.id}/evidence")
    assert "a.txt" not in listing.text and "Show withdrawn items" in listing.text
    listing = await browser.get(f"/cases/{case.id}/evidence", params={"withdrawn": "1"})
    assert "a.txt" in listing.text and "Withdrawn" in listing.text
    assert len(await stored_files(settings)) == 1
    item_page = await browser.get(f"/evidence/{item_id}")
    assert "Uploaded to the wrong case" in item_page.text
    assert "Last verified" in item_page.text


async def test_withdraw_needs_a_reason(browser: Browser, settings: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    await upload(browser, case.id, [("a.txt", b"words\n", "text/plain")])
    item = await EvidenceItem.select().first()
    response = await browser.submit(f"/evidence/{item['id']}", f"/evidence/{item['id']}/withdraw",
                                    data={"reason": "  "})
    assert response.status_code == 422
    assert "Say why" in response.text
    assert (await EvidenceItem.select().first())["withdrawn_at"] is None


async def test_users_who_may_not_see_the_case_get_404(browser: Browser, new_browser: Any,
                                                      settings: Any) -> None:
    lead = await make_user("investigator")
    other_case = await make_case(lead_investigator=lead)
    supervisor = Browser(browser.client)
    await login_as(supervisor, "supervisor")
    assert (await upload(supervisor, other_case.id, [("a.txt", b"x\n", "text/plain")])
            ).status_code == 303
    item = await EvidenceItem.select().first()

    outsider = new_browser("198.51.100.20")
    await login_as(outsider, "investigator")  # not the lead: may not see the case
    for url in (f"/cases/{other_case.id}/evidence", f"/cases/{other_case.id}/evidence/new",
                f"/evidence/{item['id']}", f"/evidence/{item['id']}/download",
                f"/evidence/{item['id']}/preview"):
        assert (await outsider.get(url)).status_code == 404, url
    # a streamed upload to that case is refused before a byte is stored
    # (the token read while signing in is valid for the whole browser session)
    response = await outsider.client.post(
        f"/cases/{other_case.id}/evidence/new",
        data={"_csrf_token": outsider.last_csrf or "", "description": "x", "source": "other"},
        files=[("files", ("b.txt", b"y\n", "text/plain"))])
    assert response.status_code == 404
    assert await EvidenceItem.count() == 1

    insider = new_browser("198.51.100.21")
    from tests.factories import DEFAULT_PASSWORD

    await insider.login(lead.email, DEFAULT_PASSWORD)
    assert (await insider.get(f"/evidence/{item['id']}")).status_code == 200
    assert (await insider.get(f"/evidence/{item['id']}/download")).status_code == 200
    # an investigator may not withdraw or verify: 403
    page = f"/evidence/{item['id']}"
    assert (await insider.submit(page, f"/evidence/{item['id']}/withdraw",
                                 data={"reason": "no"})).status_code == 403
    assert (await insider.submit(page, f"/evidence/{item['id']}/verify")).status_code == 403


async def test_missing_upload_permission_is_403(browser: Browser, settings: Any) -> None:
    await login_as(browser, "oversight")  # may read all cases and evidence, not upload
    case = await make_case()
    assert (await browser.get(f"/cases/{case.id}/evidence")).status_code == 200
    assert (await browser.get(f"/cases/{case.id}/evidence/new")).status_code == 403


async def test_upload_without_or_with_a_wrong_csrf_token_is_refused(browser: Browser,
                                                                    settings: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    await browser.get(f"/cases/{case.id}/evidence/new")
    url = f"/cases/{case.id}/evidence/new"
    fields = {"description": "x", "source": "other"}
    files = [("files", ("a.txt", b"hello\n", "text/plain"))]
    missing = await browser.client.post(url, data=fields, files=files)
    assert missing.status_code == 403 and "form expired" in missing.text
    forged = await browser.client.post(url, data={"_csrf_token": "0" * 128, **fields},
                                       files=files)
    assert forged.status_code == 403
    assert await EvidenceItem.count() == 0
    assert await stored_files(settings) == [] and await staging_files(settings) == []
    # script clients may send the header instead of the field
    token = browser.last_csrf
    with_header = await browser.client.post(url, data=fields, files=files,
                                            headers={"x-csrftoken": token or ""})
    assert with_header.status_code == 303


def test_templates_use_no_hardcoded_evidence_action() -> None:
    text = Path("templates/evidence/new.html.j2").read_text()
    # the CSRF token comes before any file input in the upload form
    assert text.index("csrf_input") < text.index('type="file"')
    assert re.search(r'enctype="multipart/form-data"', text)


async def test_every_evidence_route_is_guarded_and_only_the_upload_skips_csrf(app: Any) -> None:
    from casetracker.auth.permissions import Permission

    seen = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            name = handler.name or ""
            if not name.startswith("evidence."):
                continue
            seen.add(name)
            permissions = {p for guard in handler.guards or []
                           for p in getattr(guard, "permissions", ())}
            assert Permission.EVIDENCE_READ in permissions, name
            assert not handler.opt.get("public"), name
            skips_csrf = bool(handler.opt.get("exclude_from_csrf"))
            assert skips_csrf == (name == "evidence.upload"), name
    assert {"evidence.new", "evidence.upload", "evidence.list", "evidence.item",
            "evidence.download", "evidence.preview", "evidence.withdraw",
            "evidence.verify"} <= seen


async def test_a_fake_image_is_kept_as_data_but_never_shown_inline(browser: Browser,
                                                                   settings: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_case()
    fake = b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>" * 50  # a PNG header, no image
    assert (await upload(browser, case.id, [("photo.png", fake, "image/png")])
            ).status_code == 303
    item = await EvidenceItem.select().first()
    assert item["image_verified"] is False
    assert item["kind"] == "other" and item["content_type"] == "application/octet-stream"
    assert (await browser.get(f"/evidence/{item['id']}/preview")).status_code == 404
    page = await browser.get(f"/evidence/{item['id']}")
    assert "/preview" not in page.text
    download = await browser.get(f"/evidence/{item['id']}/download")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")
