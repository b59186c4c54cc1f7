"""The whole life of one complaint, as the real people would live it, over real HTTP with real
CSRF tokens, on both engines: the registry from the real ICE sheet, a Spanish public filing
with a witness and a photo, triage, the MOA's removal pending adjudication, assignment,
the ICE notification, the investigation, review and closure, the public status, the
oversight recommendation, the dashboard and early-intervention flags, and the audit chain.

Each step asserts what the person doing it sees; where two parts did not fit, the fix is in
the owning module (see the report of the integration pass)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from casetracker import jobs
from casetracker.accounts.tables import Notification
from casetracker.audit import services as audit_services
from casetracker.auth.actor import Actor
from casetracker.cases.clocks import BusinessCalendar
from casetracker.cases.tables import Allegation, Case, CaseOfficer
from casetracker.registry.services import RegistryService
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.settings import configure, get_settings
from tests.conftest import SHARED_DATA, Browser, login_as
from tests.factories_intake import (
    ACCESS,
    RECEIPT_LINK,
    TRACKING,
    png_bytes,
    send_complaint,
)
from tests.factories_intake import look_up as look_up_as_public
from tests.pdf import pdf_layout_text, pdf_text

ICE_SHEET = SHARED_DATA / "ice-287g" / "participatingAgencies07182025pm.xlsx"
NARRATIVE = ("El agente me detuvo sin motivo frente a la tienda y me preguntó por mis papeles "
             "antes que nada, solo porque hablo español.")

pytestmark = pytest.mark.shared_data("ice-287g/participatingAgencies07182025pm.xlsx")


async def act(browser: Browser, case_id: int, action: str, data: dict[str, Any] | None = None
              ) -> httpx.Response:
    return await browser.submit(f"/cases/{case_id}", f"/cases/{case_id}/{action}",
                                data=data or {})


def section(page: str, heading_id: str) -> str:
    """The HTML of the dashboard section whose heading has this id."""
    start = page.index(f'id="{heading_id}"')
    end = page.find("</section>", start)
    return page[start:end if end != -1 else len(page)]


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


async def look_up(browser: Browser, number: str, code: str) -> httpx.Response:
    return await look_up_as_public(browser, number, code, "es")


async def test_a_complaint_from_filing_to_rescission(new_browser: Any, settings: Any) -> None:
    configure(settings.replace(pdf_workers=0))

    # --- 1. the registry: the real July ICE sheet, then an officer with a JEM designation -----
    summary = await RegistryService(Actor.system()).import_ice_sheet(ICE_SHEET)
    assert summary is not None
    jem = await (Agreement.select(Agreement.id, Agreement.agency)
                 .where((Agreement.model == "JEM") & (Agreement.status == "active"))
                 .order_by(Agreement.id).first())
    assert jem, "the July sheet lists JEM agreements"
    agency = await Agency.select().where(Agency.id == jem["agency"]).first()

    admin_b = new_browser("198.51.100.2")
    await login_as(admin_b, "administrator", name="Ada Admin")
    response = await admin_b.submit("/registry/officers/new", data={
        "agency_id": str(agency["id"]), "name": "Daniel Reyes Whitfield",
        "badge_number": "GC-4471", "rank": "Deputy", "active": "1"})
    assert response.status_code == 303, response.text[:2000]
    officer = await Officer.objects().where(Officer.name == "Daniel Reyes Whitfield").first()
    response = await admin_b.submit(f"/registry/officers/{officer.id}/designations/new", data={
        "agreement_id": str(jem["id"]), "authorised_on": "2025-06-01",
        "authorisation_expires_on": "2027-06-01", "training_completed_on": "2025-05-20"})
    assert response.status_code == 303, response.text[:2000]
    designation = await Designation.objects().where(Designation.officer == officer.id).first()
    assert designation.status == "active"
    page = await admin_b.get(f"/registry/officers/{officer.id}")
    assert "GC-4471" in page.text and "JEM" in page.text

    # --- 2. the public files in Spanish, naming the officer by badge and agency --------------
    public = new_browser("203.0.113.50")
    form = await public.get("/complaint?lang=es")
    assert form.status_code == 200 and 'lang="es"' in form.text
    photo = png_bytes("green")
    fields = {
        "incident_day": "", "incident_month": "", "incident_year": "",
        "incident_location": "Frente a la tienda", "incident_state": agency["state"],
        "incident_setting": "traffic_stop", "context_287g": "field",
        "officer_count": "1",
        "officer-0-name": "", "officer-0-badge": "GC-4471",
        "officer-0-agency": f"{agency['name']}, {agency['state']}",
        "narrative": NARRATIVE,
        "protected": ["ethnicity"], "checklist": ["stopped", "questioned_status"],
        "witness_count": "1",
        "witness-0-name": "Ana Flores", "witness-0-contact": "555-0100",
        "witness-0-statement": "Lo vi todo desde la acera.",
        "complainant_role": "victim", "name": "María López", "email": "maria@example.org",
        "phone": "", "preferred_language": "es", "preferred_contact": "email",
    }
    response = await send_complaint(public, fields, lang="es",
                                    files=[("files", ("foto.png", photo, "image/png"))])
    assert response.status_code == 200, response.text[:3000]
    assert "Recibimos su queja" in response.text
    number = TRACKING.search(response.text).group(1)
    code = ACCESS.search(response.text).group(1)
    receipt = await public.client.get(RECEIPT_LINK.search(response.text).group(1))
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    receipt_text = re.sub(r"\s+", " ", pdf_layout_text(receipt.content))
    assert number in receipt_text and "solo porque hablo español" in receipt_text
    assert "foto.png" in receipt_text and "Ana Flores" in receipt_text

    status = await look_up(public, number, code)
    assert status.status_code == 200, status.text[:2000]
    assert "Hemos recibido su queja" in status.text

    case = await Case.select().where(Case.tracking_number == number).first()
    cid = case["id"]
    assert case["language"] == "es" and case["status"] == "received"

    # --- 3. staff: the dashboard queue with the ICE clock running -----------------------------
    supervisor_b = new_browser("198.51.100.3")
    supervisor = await login_as(supervisor_b, "supervisor", name="Sam Supervisor")
    intake_b = new_browser("198.51.100.4")
    await login_as(intake_b, "intake", name="Ines Intake")
    investigator_b = new_browser("198.51.100.5")
    investigator = await login_as(investigator_b, "investigator", name="Ivan Investigator",
                                  email_notifications=True)  # e-mail turned on

    # the officer is designated: the 48-weekday-hour ICE notice clock runs from receipt
    assert case["ice_notification_required"] is True
    calendar = BusinessCalendar.from_settings(get_settings())
    assert case["ice_notification_due_at"] == calendar.add_business_hours(
        case["received_at"], 48)
    dashboard = await supervisor_b.get("/dashboard")
    assert dashboard.status_code == 200
    queue = section(dashboard.text, "unassigned-title")
    assert number in queue
    assert "ICE notification" in plain(queue)

    # intake triages
    assert (await act(intake_b, cid, "start-triage")).status_code == 303
    page = await intake_b.get(f"/cases/{cid}")
    assert page.status_code == 200
    assert "Daniel Reyes Whitfield" in page.text
    # the badge and agency the public typed were linked to the registry officer at filing
    co = await CaseOfficer.select().where(CaseOfficer.case == cid).first()
    assert co["officer"] == officer.id and co["badge_number"] == "GC-4471"
    assert case["agency"] == agency["id"]
    # what the public wrote is all there for triage: the narrative, the basis, the witness
    assert "solo porque hablo español" in page.text
    assert "Believed basis Ethnicity " in plain(page.text)
    assert ("What happened (checklist) I was stopped or pulled over; Asked about immigration "
            "status or papers") in plain(page.text)
    assert "Setting A traffic stop · 287(g) context: Out in the community (a task force)" \
        in plain(page.text)
    assert "Ana Flores" in page.text and "Lo vi todo desde la acera." in page.text
    assert "555-0100" not in page.text  # intake does not see contact details
    response = await act(intake_b, cid, "allegations", {
        "case_officer_id": str(co["id"]), "allegation_type": "racial_profiling",
        "protected_characteristic": "ethnicity",
        "description": "Preguntó por los papeles antes que nada."})
    assert response.status_code == 303, response.text[:2000]
    assert (await act(intake_b, cid, "open")).status_code == 303
    assert (await Case.select(Case.status).where(Case.id == cid).first())["status"] == "open"

    # the MOA: the officer is removed from the program pending adjudication
    page = await supervisor_b.get(f"/cases/{cid}")
    assert "MOA expects this officer to be removed" in page.text
    response = await act(supervisor_b, cid, f"designations/{designation.id}/suspend",
                         {"reason": "Pending adjudication of " + number})
    assert response.status_code == 303, response.text[:2000]
    assert (await Designation.select().where(Designation.id == designation.id).first()
            )["status"] == "suspended"

    # the supervisor assigns an investigator, who is told
    response = await supervisor_b.submit(f"/cases/{cid}/assign",
                                         data={"investigator": str(investigator.id)})
    assert response.status_code == 303, response.text[:2000]
    notes = await Notification.select().where(Notification.user == investigator.id)
    assert len(notes) == 1 and number in notes[0]["message"]
    assert number in (await investigator_b.get("/notifications")).text
    board = await investigator_b.get("/dashboard")
    assert number in section(board.text, "my-cases-title")
    assert number not in section((await supervisor_b.get("/dashboard")).text, "unassigned-title")
    # the receipt went to the complainant, the assignment to the investigator (outbox)
    await jobs.run_due()  # the receipt e-mail is a background job
    mails = [p.read_text(errors="replace") for p in sorted(settings.outbox_dir.glob("*.eml"))]
    receipt_mails = [m for m in mails if "To: maria@example.org" in m]
    assert len(receipt_mails) == 1 and f"Subject: Su queja {number}" in receipt_mails[0]
    assert code not in receipt_mails[0] and code.replace("-", "") not in receipt_mails[0]
    assert any(f"To: {investigator.email}" in m and number in m for m in mails)

    # the referral to ICE stops the ICE clock
    response = await act(supervisor_b, cid, "referrals", {
        "body": "ice_officer", "is_ice_notification": "1",
        "sent_on": datetime.now(calendar.tz).date().isoformat(), "reference_number": "ICE-0042"})
    assert response.status_code == 303, response.text[:2000]
    row = await Case.select().where(Case.id == cid).first()
    assert row["ice_notified_at"] is not None
    page = await supervisor_b.get(f"/cases/{cid}")
    clock = re.search(r'<li class="clock clock-(\w+)" data-clock="ice_notification">', page.text)
    assert clock and clock.group(1) == "met"

    # the investigator sees the public's photo and its SHA-256
    sha = hashlib.sha256(photo).hexdigest()
    page = await investigator_b.get(f"/cases/{cid}/evidence")
    assert page.status_code == 200 and "foto.png" in page.text
    item_url = re.search(r'href="(/evidence/\d+)"', page.text).group(1)
    item_page = await investigator_b.get(item_url)
    assert item_page.status_code == 200 and sha in item_page.text

    page = await investigator_b.get(f"/cases/{cid}")
    assert "Ana Flores" in page.text and "555-0100" in page.text  # the lead may call her
    allegation = await Allegation.select().where(Allegation.case == cid).first()
    assert allegation["allegation_type"] == "racial_profiling"
    assert allegation["protected_characteristic"] == "ethnicity"
    response = await act(investigator_b, cid, f"allegations/{allegation['id']}/recommend", {
        "finding": "sustained", "standard": "preponderance",
        "rationale": "La grabación muestra la pregunta sobre el estatus antes que nada.",
        "recommended_action": "Remove from the 287(g) program."})
    assert response.status_code == 303, response.text[:2000]
    assert (await act(investigator_b, cid, "submit-findings")).status_code == 303

    # the supervisor accepts the finding and closes the case
    assert (await act(supervisor_b, cid, "start-review")).status_code == 303
    response = await act(supervisor_b, cid, f"allegations/{allegation['id']}/final", {})
    assert response.status_code == 303, response.text[:2000]
    response = await act(supervisor_b, cid, "close", {"confirm": "yes"})
    assert response.status_code == 303, response.text[:2000]
    row = await Case.select().where(Case.id == cid).first()
    assert row["status"] == "closed" and row["outcome"] == "sustained"
    # the timeline names every step, including those intake and evidence recorded
    timeline = plain((await supervisor_b.get(f"/cases/{cid}")).text)
    for label in ("Complaint filed", "Evidence received", "Triage started", "Case closed"):
        assert label in timeline, label
    assert "complaint.filed" not in timeline and "evidence.receive" not in timeline
    report = await supervisor_b.get(f"/cases/{cid}/report.pdf")
    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    report_text = re.sub(r"\s+", " ", pdf_layout_text(report.content))
    assert "solo porque hablo español" in report_text and sha[:20] in report_text
    assert "Ana Flores — 555-0100 — Lo vi todo desde la acera." in report_text
    for label in ("Complaint filed", "Evidence received", "Investigation opened",
                  "Lead investigator assigned", "Case closed"):
        assert label in report_text, label
    assert (await Allegation.select().where(Allegation.id == allegation["id"]).first()
            )["final_finding"] == "sustained"

    # --- 4. the public sees the outcome in plain Spanish --------------------------------------
    status = await look_up(public, number, code)
    assert status.status_code == 200
    assert ("La investigación está cerrada. Concluyó que la conducta del agente infringió la "
            "ley o las normas.") in status.text

    # --- 5. oversight: the rescission recommendation, the dashboard, the flags ----------------
    oversight_b = new_browser("198.51.100.6")
    await login_as(oversight_b, "oversight", name="Olivia Oversight")
    page_url = f"/recommendations/new?agreement_id={jem['id']}&kind=officers"
    # the closed case with a sustained finding points oversight to the recommendation
    case_page = await oversight_b.get(f"/cases/{cid}")
    assert page_url.replace("&", "&amp;") in case_page.text
    page = await oversight_b.get(page_url)
    assert page.status_code == 200, page.text[:2000]
    assert "Daniel Reyes Whitfield" in page.text and number in page.text
    response = await oversight_b.submit(page_url, "/recommendations/new", data={
        "agreement_id": str(jem["id"]), "kind": "officers", "action": "revocation",
        "designation_ids": [str(designation.id)], "case_ids": [str(cid)]})
    assert response.status_code == 303, response.text[:2000]
    detail = response.headers["location"]
    # the only designated officer: revoking them amounts to suspending the agreement (§IV.D),
    # which needs a person's determination; written and submitted in one step
    draft = await oversight_b.get(detail)
    assert "treats revoking them all as suspending or terminating the agreement" in draft.text
    fields = dict(re.findall(r'name="(addressee|sender|subject|classification|timing)"[^>]*?'
                             r'value="([^"]*)"', draft.text))
    response = await oversight_b.submit(detail, f"{detail}/edit", data={
        **fields, "classification": "public", "summary": "The office recommends revocation.",
        "viii_process": "suspension", "det_serious_misconduct_shown": "1",
        "det_serious_misconduct": "1",
        "det_serious_misconduct_reason": "A sustained racial-profiling stop.", "then": "submit"})
    assert response.status_code == 303, response.text[:3000]
    response = await supervisor_b.submit(detail, f"{detail}/approve", data={"comment": "ok"})
    assert response.status_code == 303, response.text[:2000]
    assert (await oversight_b.submit(detail, f"{detail}/issue")).status_code == 303
    first = await oversight_b.get(f"{detail}/document.pdf")
    second = await oversight_b.get(f"{detail}/document.pdf")
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content == second.content
    text = pdf_layout_text(first.content)
    # the hash wraps inside its table cell: read the text in reading order, without spaces
    flat = re.sub(r"\s+", "", pdf_text(first.content))
    assert "Daniel Reyes Whitfield" in re.sub(r"\s+", " ", text)
    assert re.search(r"racial\s+profiling", text, re.I)
    assert re.search(r"sustained", text, re.I)
    assert sha in flat

    dashboard = await oversight_b.get("/oversight")
    assert dashboard.status_code == 200, dashboard.text[:2000]
    figures = plain(dashboard.text)
    assert "Complaints received 1 complaints received" in figures, figures[:3000]
    assert "Final findings by allegation type Type Sustained Total Racial profiling / bias 1 1" \
        in figures, figures[:6000]
    flags = await oversight_b.get("/oversight/flags")
    assert flags.status_code == 200
    officer_flag = re.search(r"Critical · Daniel Reyes Whitfield \([^)]*\) Sustained "
                             r"racial-profiling allegations: 1 .{0,80}Cases: (CT-[0-9A-Z-]+)",
                             plain(flags.text))
    assert officer_flag and officer_flag.group(1) == number, plain(flags.text)[:3000]

    # --- a later complaint about the same officer, now suspended pending adjudication: still
    # a designated officer, linked at filing, with the ICE clock running (as triage counts it)
    other = new_browser("203.0.113.51")
    response = await send_complaint(other, {
        "officer_count": "1",
        "officer-0-name": "", "officer-0-badge": "GC-4471",
        "officer-0-agency": f"{agency['name']}, {agency['state']}",
        "narrative": "The same deputy stopped my brother and asked for his papers.",
        "witness_count": "0", "complainant_role": "third_party", "anonymous": "1"})
    assert response.status_code == 200, response.text[:3000]
    later = await Case.select().where(
        Case.tracking_number == TRACKING.search(response.text).group(1)).first()
    later_officer = await CaseOfficer.select().where(CaseOfficer.case == later["id"]).first()
    assert later_officer["officer"] == officer.id
    assert later["ice_notification_required"] is True

    # --- 6. the audit chain holds ------------------------------------------------------------
    result = await audit_services.verify_chain()
    assert result.first_break is None and result.checked > 0
    assert supervisor.id
