"""Tracking a complaint: status in plain words, follow-ups with files, receipts, rate limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Case
from casetracker.evidence.tables import EvidenceItem
from casetracker.intake.tables import FollowUp, PublicRateHit
from casetracker.settings import configure
from tests.conftest import Browser
from tests.factories_intake import (
    ACCESS,
    ELF_BYTES,
    TRACKING,
    complaint_fields,
    look_up,
    pdf_text,
    png_bytes,
    post_follow_up,
    send_complaint,
    stored_files,
)

GENERIC = "We could not find a complaint with that tracking number and access code."


async def file_one(browser: Browser, lang: str = "en") -> tuple[str, str]:
    response = await send_complaint(browser, complaint_fields(), lang=lang)
    assert response.status_code == 200, response.text[:2000]
    return TRACKING.search(response.text).group(1), ACCESS.search(response.text).group(1)


async def test_status_in_plain_words_with_dates(browser: Browser) -> None:
    number, code = await file_one(browser)
    # People read codes aloud and type them loosely: case, spaces and dashes do not matter.
    response = await look_up(browser, number.lower().replace("-", " "),
                             code.lower().replace("-", ""))
    assert response.status_code == 200, response.text[:2000]
    assert number in response.text
    assert "We have received your complaint" in response.text
    assert "We aim to finish by" in response.text and "What happens next" in response.text


async def test_status_follows_the_case_work(browser: Browser) -> None:
    number, code = await file_one(browser)
    await Case.update({Case.status: "referred", Case.referred_to: "dhs_oig"}).where(
        Case.tracking_number == number)
    response = await look_up(browser, number, code)
    assert "DHS Office of Inspector General" in response.text
    await Case.update({Case.status: "closed", Case.outcome: "sustained"}).where(
        Case.tracking_number == number)
    response = await look_up(browser, number, code)
    assert "The investigation is closed" in response.text


async def test_wrong_code_and_unknown_number_get_the_same_answer(browser: Browser) -> None:
    number, code = await file_one(browser)
    wrong_code = await look_up(browser, number, "ABCD-EFGH-JKMN-PQRS-TWXY")
    unknown = await look_up(browser, "CT-2345-6789", code)
    garbage = await look_up(browser, "<script>", "'; drop table case; --")
    for response in (wrong_code, unknown, garbage):
        assert response.status_code == 422
        assert GENERIC in response.text
        assert "We have received your complaint" not in response.text
    assert "&lt;script&gt;" in garbage.text and "<script>" not in garbage.text


async def test_follow_up_with_files_is_stored_with_its_own_time(browser: Browser,
                                                                settings: Any) -> None:
    number, code = await file_one(browser)
    page = await look_up(browser, number, code)
    assert 'action="/status/add' in page.text
    assert code not in page.text  # the page never carries the access code
    response = await post_follow_up(browser, "I found the name of the second deputy: Smith.",
                                    files=[("files", ("later.png", png_bytes("green"),
                                                      "image/png"))], page=page)
    assert response.status_code == 303, response.text[:2000]
    response = await browser.get(response.headers["location"])
    assert "We added this to your complaint" in response.text
    assert "1 file was attached." in response.text
    case = await Case.select(Case.id).where(Case.tracking_number == number).first()
    follow_up = await FollowUp.select().where(FollowUp.case == case["id"]).first()
    assert follow_up["message"].endswith("Smith.") and follow_up["received_at"]
    item = await EvidenceItem.select().where(EvidenceItem.follow_up == follow_up["id"]).first()
    assert item["original_name"] == "later.png" and item["case"] == case["id"]
    assert await AuditEvent.exists().where(AuditEvent.action == "complaint.follow_up")
    # Later follow-ups do not change the receipt of what was first submitted.
    receipt = await browser.client.get("/status/complaint/receipt?lang=en")
    assert receipt.headers["content-type"] == "application/pdf"
    text = pdf_text(receipt.content)
    assert number in text and "later.png" not in text


async def test_follow_up_in_spanish_with_a_refused_file_keeps_the_text(browser: Browser,
                                                                       settings: Any) -> None:
    number, code = await file_one(browser, "es")
    page = await look_up(browser, number, code, "es")
    response = await post_follow_up(browser, "Más información.", lang="es", page=page,
                                    files=[("files", ("foto.jpg", ELF_BYTES, "image/jpeg"))])
    assert response.status_code == 422
    assert "Más información." in response.text
    assert "Vuelva a adjuntar sus archivos." in response.text
    assert not await FollowUp.exists()
    assert stored_files(Path(settings.evidence_dir)) == []


async def test_follow_up_needs_the_status_pages_cookie(browser: Browser, new_browser: Any
                                                       ) -> None:
    number, code = await file_one(browser)
    page = await look_up(browser, number, code)
    # Another browser (no cookie from the look-up) cannot add to the complaint.
    other = new_browser()
    await other.get("/status")
    once = re.search(r'name="once" value="([^"]+)"', page.text).group(1)
    response = await other.client.post("/status/add?lang=en", data={
        "_csrf_token": other.last_csrf, "once": once, "message": "hello"},
        files=[("files", ("", b"", "application/octet-stream"))])
    assert response.status_code == 422 and "closes after 30 minutes" in response.text
    # A forged or expired cookie is no better.
    other.client.cookies.set("ct_status", "1x00.9999999999.forged", path="/status")
    assert (await other.get("/status/complaint")).status_code == 303
    assert not await FollowUp.exists()
    # "Leave this page" ends it in this browser too.
    left = await browser.client.post("/status/leave?lang=en",
                                     data={"_csrf_token": browser.last_csrf})
    assert left.status_code == 303
    assert (await browser.get("/status/complaint")).status_code == 303


async def test_lookups_are_rate_limited_per_address(browser: Browser, new_browser: Any,
                                                    settings: Any) -> None:
    configure(settings.replace(public_rate_limit_per_hour=3))
    for _ in range(3):
        await look_up(browser, "CT-2345-6789", "nope")
    response = await look_up(browser, "CT-2345-6789", "nope", lang="es")
    assert response.status_code == 429
    assert "Demasiadas solicitudes" in response.text and 'lang="es"' in response.text
    # Another address is not affected, and no address is stored in the clear.
    other = new_browser("198.51.100.99")
    assert (await look_up(other, "CT-2345-6789", "nope")).status_code == 422
    hashes = [row["key_hash"] for row in await PublicRateHit.select()]
    assert hashes and all("203.0.113.7" not in h and len(h) == 64 for h in hashes)


async def test_a_rate_limited_follow_up_keeps_what_was_typed(browser: Browser,
                                                             settings: Any) -> None:
    number, code = await file_one(browser)
    page = await look_up(browser, number, code, lang="es")
    configure(settings.replace(public_rate_limit_per_hour=1))  # the look-up used it up
    typed = "Encontré el nombre del segundo agente: <b>Smith</b>."
    response = await post_follow_up(browser, typed, lang="es", page=page, files=[
        ("files", ("later.png", png_bytes("green"), "image/png"))])
    assert response.status_code == 429
    assert "espere una hora" in response.text and 'lang="es"' in response.text
    assert "Encontré el nombre del segundo agente: &lt;b&gt;Smith&lt;/b&gt;." in response.text
    assert number in response.text and 'action="/status/add?lang=es"' in response.text
    assert "Vuelva a adjuntar sus archivos." in response.text
    assert not await FollowUp.exists()
    assert page.status_code == 200


async def test_receipt_link_is_signed_and_expires(browser: Browser) -> None:
    await file_one(browser)
    response = await browser.client.get("/complaint/receipt/1.9999999999.forged")
    assert response.status_code == 404 and "expired" in response.text
    from casetracker.intake.receipt import receipt_token

    case = await Case.select(Case.id).first()
    expired = receipt_token(case["id"], now=1_000_000)
    assert (await browser.client.get(f"/complaint/receipt/{expired}")).status_code == 404


async def test_follow_up_without_csrf_token_is_refused(browser: Browser, settings: Any) -> None:
    number, code = await file_one(browser)
    await look_up(browser, number, code)
    response = await browser.client.post("/status/add?lang=en", data={"message": "forged"},
        files=[("files", ("x.png", png_bytes(), "image/png"))])
    assert response.status_code == 403 and "Your form expired" in response.text
    assert not await FollowUp.exists()
    assert not await EvidenceItem.exists()
