"""Recommendation pages and the case report through HTTP, as staff would use them."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from casetracker.audit.tables import AuditEvent
from casetracker.reports.tables import Recommendation
from casetracker.settings import configure
from tests.conftest import login_as
from tests.factories_reports import (
    INJECTION,
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
    pdf_text,
    squeezed,
)

pytestmark = pytest.mark.asyncio


text_of = pdf_text
FLASH = re.compile(r'class="flash[^"]*"')


def form_values(page: str) -> dict[str, Any]:
    """The recommendation form's fields as the page shows them (what a browser would send)."""
    form = page[page.index('id="recommendation-form"'):]
    form = form[:form.index("</form>")]
    values: dict[str, Any] = {}
    for match in re.finditer(r'<input type="(?:text|date|number|hidden)"[^>]*?name="([^"]+)"'
                             r'[^>]*?value="([^"]*)"', form):
        values[match.group(1)] = match.group(2)
    for match in re.finditer(r'id="[^"]*" name="([^"]+)"[^>]*value="([^"]*)"', form):
        values.setdefault(match.group(1), match.group(2))
    for match in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form):
        values[match.group(1)] = match.group(2)
    for match in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', match.group(2))
        values[match.group(1)] = chosen.group(1) if chosen else ""
    for match in re.finditer(r'<input type="radio" name="([^"]+)" value="([^"]*)" checked',
                             form):
        values[match.group(1)] = match.group(2)
    values.pop("_csrf_token", None)
    return values


@pytest.fixture
async def world(settings: Any) -> dict[str, Any]:
    configure(settings.replace(pdf_workers=0))
    agency = await make_agency("Montgomery County Sheriff's Office", "TX")
    agreement = await make_agreement(agency)
    o1, d1 = await make_designated_officer(agency, agreement, "Daniel Reyes Whitfield", "GC-4471")
    await make_designated_officer(agency, agreement, "Paula Peer", "GC-0002")
    case = await make_sustained_case(agency, agreement, [o1], narrative=INJECTION)
    return {"agreement": agreement, "designation": d1, "case": case}


async def test_draft_approve_issue_download_through_pages(world: dict[str, Any], browser: Any,
                                                          new_browser: Any) -> None:
    await login_as(browser, "oversight", name="Olga Oversight")
    page = f"/recommendations/new?agreement_id={world['agreement']}&kind=officers"
    response = await browser.get(page)
    assert response.status_code == 200
    assert "Daniel Reyes Whitfield" in response.text
    assert world["case"].tracking_number in response.text

    # nothing chosen: the same form, with the errors by the fields
    response = await browser.submit(page, "/recommendations/new", data={
        "agreement_id": str(world["agreement"]), "kind": "officers", "action": "revocation"})
    assert response.status_code == 422
    assert "Choose at least one officer" in response.text
    assert not FLASH.search(response.text)

    response = await browser.submit(page, "/recommendations/new", data={
        "agreement_id": str(world["agreement"]), "kind": "officers", "action": "revocation",
        "designation_ids": [str(world["designation"])], "case_ids": [str(world["case"].case_id)]})
    assert response.status_code == 303
    detail = response.headers["location"]
    response = await browser.get(detail)
    assert response.status_code == 200
    # the provisions are quoted with their source; nothing is proposed as the office's words
    assert "letter of revocation signed by the FOD" in response.text
    assert "Quoted from the 2020 JEM template text, as published by ICE" in response.text
    values = form_values(response.text)
    assert values["summary"] == "" and values["proposed_effective_on"] == ""
    # the oversight author may not see complainant identity: the public version only
    assert values["classification"] == "public"
    assert 'value="sensitive"' not in response.text

    # an invalid edit keeps every value typed and says what is wrong, with no success message
    typed = {**values, "addressee": "FOD Houston", "summary": "Typed summary kept.",
             "proposed_effective_on": "not a date"}
    response = await browser.submit(detail, f"{detail}/edit", data={**typed, "then": "save"})
    assert response.status_code == 422
    assert "Give the date as YYYY-MM-DD." in response.text
    assert "FOD Houston" in response.text and "Typed summary kept." in response.text
    assert "not a date" in response.text
    assert not FLASH.search(response.text)

    # a ground added and "Save and submit for approval" pressed: saved and submitted together
    page = (await browser.get(detail)).text
    values = {**form_values(page), "summary": "The office recommends revocation.",
              "grounds": "A FURTHER GROUND ADDED JUST BEFORE SUBMITTING."}
    response = await browser.submit(detail, f"{detail}/edit", data={**values, "then": "submit"})
    assert response.status_code == 303
    assert response.headers["location"] == detail
    response = await browser.get(detail)
    assert "Saved and submitted for approval." in response.text
    assert "another supervisor or administrator must approve it" in response.text
    # the author's approve attempt is refused (oversight role lacks the permission)
    response = await browser.post(f"{detail}/approve", data={"comment": ""})
    assert response.status_code == 403

    supervisor_browser = new_browser()
    await login_as(supervisor_browser, "supervisor")
    response = await supervisor_browser.submit(detail, f"{detail}/approve", data={"comment": "ok"})
    assert response.status_code == 303
    response = await browser.submit(detail, f"{detail}/issue")
    assert response.status_code == 303
    response = await browser.get(detail)
    assert "RR-" in response.text and "frozen" in response.text
    # when, in words and local time with the zone ("Issued December 3, 2026, 11:13 AM EST")
    assert re.search(r"Issued [A-Z][a-z]+ \d{1,2}, \d{4}, \d{1,2}:\d\d\s[AP]M [A-Z]{2,5}",
                     response.text), response.text
    assert "Sustained allegations: 1, in these cases:" in response.text

    first = await browser.get(f"{detail}/document.pdf")
    second = await supervisor_browser.get(f"{detail}/document.pdf")
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content == second.content  # a public version: the same bytes for everyone
    text = text_of(first.content)
    assert "Daniel Reyes Whitfield" in text
    assert squeezed("A FURTHER GROUND ADDED JUST BEFORE SUBMITTING.") in squeezed(text)
    assert squeezed("Written by Olga Oversight.") in squeezed(text)
    assert len(PdfReader(io.BytesIO(first.content)).pages) >= 2

    listing = await browser.get("/recommendations?status=issued")
    assert "RR-" in listing.text
    listing = await browser.get("/recommendations?status=draft")
    assert "RR-" not in listing.text


async def test_submitting_without_a_determination_saves_nothing_and_keeps_the_typing(
        world: dict[str, Any], browser: Any) -> None:
    await login_as(browser, "supervisor", name="Sam Supervisor")
    page = f"/recommendations/new?agreement_id={world['agreement']}&kind=agreement"
    response = await browser.submit(page, "/recommendations/new", data={
        "agreement_id": str(world["agreement"]), "kind": "agreement", "action": "suspension",
        "case_ids": [str(world["case"].case_id)]})
    detail = response.headers["location"]
    rec_id = int(detail.rsplit("/", 1)[-1])
    page = (await browser.get(detail)).text
    assert "serious misconduct or violations of the terms of the MOA" in page
    values = {**form_values(page), "summary": "Summary typed before the refusal.",
              "det_serious_misconduct_reason": "A reason typed, but the box left unticked."}
    response = await browser.submit(detail, f"{detail}/edit", data={**values, "then": "submit"})
    assert response.status_code == 422
    assert "This action needs this determination" in response.text
    assert "Summary typed before the refusal." in response.text
    assert "A reason typed, but the box left unticked." in response.text
    assert not FLASH.search(response.text)
    row = await Recommendation.select().where(Recommendation.id == rec_id).first()
    assert row["status"] == "draft" and row["summary"] == ""  # nothing was saved

    values["det_serious_misconduct"] = "1"
    response = await browser.submit(detail, f"{detail}/edit", data={**values, "then": "submit"})
    assert response.status_code == 303
    page = (await browser.get(detail)).text
    assert "Made by Sam Supervisor (Supervisor)" in page
    assert "A reason typed, but the box left unticked." in page


async def test_case_report_pdf_respects_access_and_contact(world: dict[str, Any], browser: Any,
                                                           new_browser: Any) -> None:
    case = world["case"]
    await login_as(browser, "supervisor")
    response = await browser.get(f"/cases/{case.case_id}/report.pdf")
    assert response.status_code == 200
    text = text_of(response.content)
    assert case.tracking_number in text
    assert "Maria Hernández" in text  # supervisors may see contact details
    assert '<img src="file:///etc/passwd">' in text  # the narrative prints literally
    for sha in case.evidence_hashes:
        assert sha in text.replace("\n", "")
    events = await AuditEvent.select(AuditEvent.action).where(AuditEvent.case_id == case.case_id)
    assert "case.report" in [e["action"] for e in events]

    oversight = new_browser()
    await login_as(oversight, "oversight")
    response = await oversight.get(f"/cases/{case.case_id}/report.pdf")
    assert response.status_code == 200
    assert "Maria Hernández" not in text_of(response.content)  # no contact for oversight

    investigator = new_browser("198.51.100.20")
    await login_as(investigator, "investigator")  # not assigned: the case does not exist for them
    response = await investigator.get(f"/cases/{case.case_id}/report.pdf")
    assert response.status_code == 404


async def test_a_supervisor_cannot_approve_their_own_recommendation(
        world: dict[str, Any], browser: Any, new_browser: Any) -> None:
    await login_as(browser, "supervisor")
    page = f"/recommendations/new?agreement_id={world['agreement']}&kind=agreement"
    response = await browser.submit(page, "/recommendations/new", data={
        "agreement_id": str(world["agreement"]), "kind": "agreement", "action": "suspension",
        "case_ids": [str(world["case"].case_id)]})
    assert response.status_code == 303
    detail = response.headers["location"]
    values = {**form_values((await browser.get(detail)).text), "summary": "S",
              "det_serious_misconduct": "1", "det_serious_misconduct_reason": "R"}
    assert (await browser.submit(detail, f"{detail}/edit",
                                 data={**values, "then": "submit"})).status_code == 303
    page_text = (await browser.get(detail)).text
    assert "another supervisor or administrator must approve it" in page_text
    assert f'action="{detail}/approve"' not in page_text  # no approve button for the author
    response = await browser.post(f"{detail}/approve", data={"comment": "self"})
    assert response.status_code == 403
    assert "another supervisor or administrator must approve it" in response.text
    events = await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.object_type == "recommendation")
    assert "recommendation.approve" not in [e["action"] for e in events]
    # a second supervisor may
    other = new_browser()
    await login_as(other, "supervisor")
    assert (await other.submit(detail, f"{detail}/approve")).status_code == 303


async def test_agreement_choices_keep_one_order_for_one_agencys_agreements(
        settings: Any, browser: Any) -> None:
    """An agency holds several MOAs: sorted by agency name alone, their order was the
    database's (PostgreSQL returns a row after an update last)."""
    from casetracker.registry.tables import Agreement

    agency = await make_agency("Polk County Sheriff's Office", "FL")
    first = await make_agreement(agency, "WSO")
    second = await make_agreement(agency, "JEM")
    await Agreement.update({Agreement.status: "suspended"}).where(Agreement.id == first)
    await login_as(browser, "oversight")
    suggested = (await browser.get("/registry/pick/agreement?q=polk")).json()
    assert [r["id"] for r in suggested] == [first, second]
    # Without JavaScript: "Find" lists the same matches as radio buttons, in the same order.
    page = (await browser.get("/recommendations/new?agreement_id_q=polk&_find=agreement_id"
                              "&kind=officers")).text
    assert page.index(f'name="agreement_id" value="{first}"') < page.index(
        f'name="agreement_id" value="{second}"')
    chosen = await browser.get(f"/recommendations/new?agreement_id_q=polk"
                               f"&agreement_id_searched=polk&agreement_id={second}&kind=officers")
    assert chosen.status_code == 200
    # the second step (officers and cases) is for the agreement chosen
    assert f'<input type="hidden" name="agreement_id" value="{second}">' in chosen.text
