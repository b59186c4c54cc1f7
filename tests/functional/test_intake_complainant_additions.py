"""What the complainant adds later reaches staff: follow-ups in full on the case page (the
"From the complainant" section and the timeline) and in the case file PDF, a notification to
the lead investigator or intake, and consent changes dated, audited and shown only to staff
who may see who the complainant is."""

from __future__ import annotations

import re
from typing import Any

from casetracker.accounts.tables import Notification
from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Case
from casetracker.intake.tables import ConsentChange
from tests.conftest import Browser, login_as
from tests.factories_intake import (
    ACCESS,
    TRACKING,
    complaint_fields,
    look_up,
    pdf_text,
    png_bytes,
    post_follow_up,
    send_complaint,
)

ADDED = "The second deputy was Smith, badge 5120 — he kept my phone for an hour."


async def file_and_add(browser: Browser) -> dict[str, Any]:
    response = await send_complaint(browser, complaint_fields())
    assert response.status_code == 200, response.text[:2000]
    number = TRACKING.search(response.text).group(1)
    code = ACCESS.search(response.text).group(1)
    page = await look_up(browser, number, code)
    added = await post_follow_up(browser, ADDED, page=page, files=[
        ("files", ("bruise.png", png_bytes("green"), "image/png"))])
    assert added.status_code == 303, added.text[:2000]
    return await Case.select().where(Case.tracking_number == number).first()


def section(page: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


async def test_a_follow_up_is_on_the_case_page_in_full_and_notifies_intake(
        browser: Browser, new_browser: Any) -> None:
    staff = new_browser()
    intake = await login_as(staff, "intake")
    case = await file_and_add(browser)
    # No lead investigator yet: the intake staff hear of it, with a link to the section.
    note = await Notification.select().where(Notification.user == intake.id).first()
    assert note is not None and case["tracking_number"] in note["message"]
    assert note["link"].endswith("#follow-ups")  # the list inside "From the complainant"
    page = await staff.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    additions = section(page.text, "from-complainant")
    assert "The second deputy was Smith, badge 5120 — he kept my phone for an hour." in additions
    assert "bruise.png" in additions
    timeline = section(page.text, "timeline")
    assert "Complainant added information" in timeline and "badge 5120" in timeline
    assert "characters:" not in timeline


async def test_the_lead_investigator_is_told_and_the_case_file_has_the_text(
        browser: Browser, new_browser: Any) -> None:
    staff = new_browser()
    lead = await login_as(staff, "investigator")
    response = await send_complaint(browser, complaint_fields())
    number = TRACKING.search(response.text).group(1)
    code = ACCESS.search(response.text).group(1)
    await Case.update({Case.status: "under_investigation", Case.lead_investigator: lead.id}
                      ).where(Case.tracking_number == number)
    page = await look_up(browser, number, code)
    assert (await post_follow_up(browser, ADDED, page=page)).status_code == 303
    case = await Case.select(Case.id).where(Case.tracking_number == number).first()
    note = await Notification.select().where(Notification.user == lead.id).first()
    assert note is not None and number in note["message"]
    report = await staff.get(f"/cases/{case['id']}/report.pdf")
    assert report.status_code == 200, report.text[:500]
    text = " ".join(pdf_text(report.content).split())
    assert "From the complainant" in text and "badge 5120" in text


async def test_a_consent_change_is_dated_audited_and_shown_to_those_who_may_see_contact(
        browser: Browser, new_browser: Any) -> None:
    case = await file_and_add(browser)
    assert case["consent_share_agency"] is True and case["consent_share_ice"] is False
    response = await browser.client.post("/status/consent?lang=en", data={
        "_csrf_token": browser.last_csrf, "share_agency": "no", "share_ice": "yes"})
    assert response.status_code == 303
    # The same choice again changes nothing and records nothing.
    await browser.client.post("/status/consent?lang=en", data={
        "_csrf_token": browser.last_csrf, "share_agency": "no", "share_ice": "yes"})
    changes = await ConsentChange.select().where(ConsentChange.case == case["id"])
    assert [(c["share_agency"], c["share_ice"], c["source"]) for c in changes] == [
        (False, True, "complainant")]
    event = await AuditEvent.select().where(
        AuditEvent.action == "complaint.consent_changed").first()
    assert event is not None and event["case_id"] == case["id"]

    supervisor = new_browser()
    await login_as(supervisor, "supervisor")
    page = await supervisor.get(f"/cases/{case['id']}")
    contact = section(page.text, "contact")
    assert 'id="consent-changes"' in contact
    assert "agency no, ICE/DHS yes (changed by the complainant on the status page)" in contact
    assert "Complainant changed who may know their identity" in section(page.text, "timeline")

    intake = new_browser()
    await login_as(intake, "intake")
    page = await intake.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    assert 'id="consent-changes"' not in page.text  # intake may not see contact details
    assert "badge 5120" in page.text  # but reads what was added
