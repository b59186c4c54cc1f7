"""A complaint walked through every state by the right people, over real HTTP with real CSRF
tokens; wrong roles refused at each step; the 287(g) clocks on fixed dates; contact details
hidden and their views audited; notifications and e-mails; the timeline."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from casetracker import jobs
from casetracker.accounts.tables import Notification
from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Allegation, Case, CaseAssignment, CaseNote, Referral
from casetracker.intake.tables import ComplainantContact
from casetracker.registry.tables import Designation
from tests.conftest import Browser, login_as
from tests.factories import make_user
from tests.factories_cases import make_agency, make_case, make_officer, received

NY = ZoneInfo("America/New_York")


async def act(browser: Browser, case_id: int, action: str, data: dict[str, Any] | None = None
              ) -> httpx.Response:
    """Open the case page (or whatever the user gets there) for its token, then post."""
    return await browser.submit(f"/cases/{case_id}", f"/cases/{case_id}/{action}",
                                data=data or {})


async def status_of(case_id: int) -> str:
    row = await Case.select(Case.status).where(Case.id == case_id).first()
    return row["status"]


def clock_line(page: str, key: str) -> str:
    match = re.search(rf'<li class="clock clock-(\w+)" data-clock="{key}">(.*?)</li>', page, re.S)
    assert match, f"no {key} clock on the page"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(2))).strip()
    return f"{match.group(1)}: {text}"


async def setup_complaint() -> tuple[Any, Any, Any]:
    agency = await make_agency()
    officer = await make_officer(agency, "Daniel Reyes", "4471")
    # Received on Friday 6 March 2026 at 16:00 local time.
    case = await make_case(received_at=received(2026, 3, 6, 16, 0),
                           officers=[{"name": "Deputy Reyes", "badge_number": "4471",
                                      "agency_text": "Harlow County Sheriff"}])
    await ComplainantContact(case=case.id, name="María Hernández", email="maria@example.net",
                             phone="+1 555 0100", preferred_language="es",
                             preferred_contact="phone", safety_notes="Do not call after 8pm"
                             ).save()
    return agency, officer, case


async def test_complaint_walks_through_every_state(new_browser: Any, settings: Any) -> None:
    agency, officer, case = await setup_complaint()
    cid = case.id
    intake_b, supervisor_b, investigator_b = new_browser(), new_browser(), new_browser()
    intake = await login_as(intake_b, "intake", name="Ines Intake")
    supervisor = await login_as(supervisor_b, "supervisor", name="Sam Supervisor")
    investigator = await login_as(investigator_b, "investigator", name="Ivan Investigator",
                                  email_notifications=True)
    await make_user("investigator", name="Olga Other")

    # --- triage (intake) ---------------------------------------------------------------
    page = await intake_b.get(f"/cases/{cid}")
    assert page.status_code == 200
    assert "Received" in page.text and case.tracking_number in page.text
    # the narrative is escaped, with its line breaks kept
    assert "&lt;b&gt;He said&lt;/b&gt;" in page.text and "<br>He asked" in page.text
    response = await act(intake_b, cid, "start-triage")
    assert response.status_code == 303
    assert await status_of(cid) == "in_triage"

    page = await intake_b.get(f"/cases/{cid}")
    assert "Daniel Reyes" in page.text  # suggested from the registry by badge and name
    co_id = int(re.search(r'/officers/(\d+)/link', page.text).group(1))
    response = await act(intake_b, cid, f"officers/{co_id}/link", {"officer_id": str(officer.id)})
    assert response.status_code == 303
    row = await Case.select().where(Case.id == cid).first()
    assert row["ice_notification_required"] is True
    # 48 weekday hours after Friday 16:00 is Tuesday 16:00
    assert row["ice_notification_due_at"].astimezone(NY) == datetime(2026, 3, 10, 16, 0,
                                                                     tzinfo=NY)
    assert row["agency"] == agency.id
    page = await intake_b.get(f"/cases/{cid}")
    assert "2026-03-10 16:00" in clock_line(page.text, "ice_notification")
    assert "MOA expects this officer to be removed" in page.text

    # opening without an allegation is refused, and nothing changes
    response = await act(intake_b, cid, "open")
    assert response.status_code == 409
    assert "Record at least one allegation" in response.text
    assert await status_of(cid) == "in_triage"

    response = await act(intake_b, cid, "allegations", {
        "case_officer_id": str(co_id), "allegation_type": "racial_profiling"})
    assert response.status_code == 422
    assert "protected characteristic" in response.text
    response = await act(intake_b, cid, "allegations", {
        "case_officer_id": str(co_id), "allegation_type": "racial_profiling",
        "protected_characteristic": "ethnicity", "description": "Asked for papers first."})
    assert response.status_code == 303

    # the ICE notification, sent Monday 10:00: recording it stops the 48-hour clock
    response = await act(intake_b, cid, "referrals", {
        "body": "ice_officer", "is_ice_notification": "1", "sent_on": "2026-03-09",
        "sent_time": "10:00", "reference_number": "ICE-MIA-0042"})
    assert response.status_code == 303, response.text[:2000]
    row = await Case.select().where(Case.id == cid).first()
    assert row["ice_notified_at"].astimezone(NY) == datetime(2026, 3, 9, 10, 0, tzinfo=NY)
    page = await intake_b.get(f"/cases/{cid}")
    assert clock_line(page.text, "ice_notification").startswith(
        "met: ICE notification (48 weekday hours): met")

    response = await act(intake_b, cid, "open")
    assert response.status_code == 303
    assert await status_of(cid) == "open"
    # intake no longer sees the case once it leaves triage: they land on their queue, with
    # the message, never on "no such case"
    assert response.headers["location"] == "/cases"
    landing = await intake_b.get(response.headers["location"])
    assert landing.status_code == 200 and "Investigation opened" in landing.text
    assert (await intake_b.get(f"/cases/{cid}")).status_code == 404

    # --- assignment (supervisor) -----------------------------------------------------------
    page = await supervisor_b.get(f"/cases/{cid}/assign")
    assert page.status_code == 200
    assert "Ivan Investigator" in page.text and "Olga Other" in page.text
    response = await supervisor_b.submit(f"/cases/{cid}/assign", data={})
    assert response.status_code == 422 and "Choose a lead investigator" in response.text
    response = await supervisor_b.submit(f"/cases/{cid}/assign",
                                         data={"investigator": str(investigator.id)})
    assert response.status_code == 303
    assert await status_of(cid) == "under_investigation"
    # the investigator is told in the app and (they turned e-mail on) by e-mail
    notes = await Notification.select().where(Notification.user == investigator.id)
    assert len(notes) == 1 and case.tracking_number in notes[0]["message"]
    await jobs.run_due()
    mails = [p.read_text() for p in settings.outbox_dir.glob("*.eml")]
    assert len(mails) == 1
    assert f"To: {investigator.email}" in mails[0] and case.tracking_number in mails[0]
    # the new caseload shows on the assignment page
    page = await supervisor_b.get(f"/cases/{cid}/assign")
    caseload = re.search(rf'data-investigator="{investigator.id}">.*?class="caseload">(\d+)<',
                         page.text, re.S)
    assert caseload and caseload.group(1) == "1"
    overdue = re.search(rf'data-investigator="{investigator.id}">.*?class="overdue">(\d+)<',
                        page.text, re.S)
    assert overdue and overdue.group(1) == "1"  # received in March: resolution is overdue

    # --- investigation (the lead) --------------------------------------------------------
    page = await investigator_b.get(f"/cases/{cid}")
    assert page.status_code == 200 and "María Hernández" in page.text
    assert (await act(investigator_b, cid, "notes", {"note_body": "Called the complainant."})
            ).status_code == 303
    assert (await act(investigator_b, cid, "tasks", {"task_title": "Request dashcam video",
                                                     "task_due_on": "2026-12-01"})
            ).status_code == 303
    response = await act(investigator_b, cid, "interviews", {
        "interviewee": "María Hernández", "interviewee_role": "complainant",
        "held_at": "2026-03-12T10:30", "language": "Spanish",
        "interpreter": "LanguageLine #2231", "summary": "Confirms the account."})
    assert response.status_code == 303
    response = await act(investigator_b, cid, "submit-findings")
    assert response.status_code == 409 and "recommended finding on every allegation" in \
        response.text
    allegation = await Allegation.select().where(Allegation.case == cid).first()
    response = await act(investigator_b, cid, f"allegations/{allegation['id']}/recommend", {
        "finding": "sustained", "standard": "preponderance",
        "rationale": "Dashcam shows the status question before any traffic question.",
        "recommended_action": "Remove from the 287(g) program; retraining."})
    assert response.status_code == 303
    assert (await act(investigator_b, cid, "submit-findings")).status_code == 303
    assert await status_of(cid) == "findings_submitted"

    # --- review (supervisor): return once, then accept and close --------------------------
    assert (await act(supervisor_b, cid, "start-review")).status_code == 303
    response = await act(supervisor_b, cid, "return", {"comments": ""})
    assert response.status_code == 422
    response = await act(supervisor_b, cid, "return", {"comments": "Interview the deputy."})
    assert response.status_code == 303
    assert await status_of(cid) == "returned"
    # the investigator reads the supervisor's comments at the top of the case
    page = await investigator_b.get(f"/cases/{cid}")
    top = page.text.split('id="actions"')[0]
    assert 'id="return-comments-box"' in top and "Interview the deputy." in top
    assert (await act(investigator_b, cid, "resume")).status_code == 303
    assert "Interview the deputy." in (await investigator_b.get(f"/cases/{cid}")).text.split(
        'id="actions"')[0]
    assert (await act(investigator_b, cid, "submit-findings")).status_code == 303
    assert (await act(supervisor_b, cid, "start-review")).status_code == 303

    # closing without a final finding is refused with a clear message and changes nothing
    before = await Case.select().where(Case.id == cid).first()
    response = await act(supervisor_b, cid, "close", {"confirm": "yes"})
    assert response.status_code == 409
    assert "cannot be closed until every allegation has a final finding" in response.text
    after = await Case.select().where(Case.id == cid).first()
    assert after == before

    response = await act(supervisor_b, cid, f"allegations/{allegation['id']}/final", {})
    assert response.status_code == 303
    # "Close" asks first: the open task is listed, to mark done or carry, with the next step
    unconfirmed = await act(supervisor_b, cid, "close")
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/cases/{cid}/close"
    assert await status_of(cid) == "under_review"
    confirm = await supervisor_b.get(f"/cases/{cid}/close")
    assert confirm.status_code == 200 and "Request dashcam video" in confirm.text
    assert "The results must be reported to ICE by" in confirm.text
    task_id = re.search(r'name="close_task" value="(\d+)"', confirm.text).group(1)
    response = await supervisor_b.submit(f"/cases/{cid}/close", f"/cases/{cid}/close",
                                         data={"confirm": "yes", "close_task": task_id})
    assert response.status_code == 303
    closed_page = await supervisor_b.get(response.headers["location"])
    assert "Next step: report the results to ICE by" in closed_page.text
    assert "Request dashcam video" in closed_page.text
    from casetracker.cases.tables import Task

    assert await Task.count().where((Task.case == cid) & Task.done_at.is_null()) == 0
    row = await Case.select().where(Case.id == cid).first()
    assert row["status"] == "closed" and row["outcome"] == "sustained"
    assert row["resolved_at"] and row["closed_at"]
    assert (row["results_due_at"] - row["resolved_at"]).days == 30
    page = await supervisor_b.get(f"/cases/{cid}")
    assert "broke the law or policy" in page.text  # what the public status page will say
    assert "due in 30 days" in clock_line(page.text, "results") or \
        "due in 29 days" in clock_line(page.text, "results")

    # --- the timeline: every change, in order, with its actor ------------------------------
    events = await AuditEvent.select().where(
        (AuditEvent.case_id == cid) & AuditEvent.action.not_like("%.view%")
    ).order_by(AuditEvent.seq)
    actions = [(e["action"], e["actor_label"]) for e in events]
    assert actions == [
        ("case.triage_started", intake.email),
        ("case.officer_linked", intake.email),
        ("case.allegation_added", intake.email),
        ("case.ice_notified", intake.email),
        ("case.referral_recorded", intake.email),
        ("case.opened", intake.email),
        ("case.assigned", supervisor.email),
        ("case.note_added", investigator.email),
        ("case.task_added", investigator.email),
        ("case.interview_recorded", investigator.email),
        ("case.finding_recommended", investigator.email),
        ("case.findings_submitted", investigator.email),
        ("case.review_started", supervisor.email),
        ("case.returned", supervisor.email),
        ("case.resumed", investigator.email),
        ("case.findings_submitted", investigator.email),
        ("case.review_started", supervisor.email),
        ("case.finding_accepted", supervisor.email),
        ("case.task_completed", supervisor.email),  # marked done with the closing
        ("case.closed", supervisor.email),
    ]
    timeline = page.text.split('id="timeline"', 1)[1]
    shown = re.findall(r'data-action="([\w.]+)".*?class="actor">([^<]+)<', timeline, re.S)
    assert [a for a, _ in shown] == [a for a, _ in actions]
    assert shown[0][1] == "Ines Intake" and shown[-1][1] == "Sam Supervisor"
    assert "Investigation opened" in timeline and "Returned to investigation" in timeline
    # reads are audited too
    assert await AuditEvent.count().where((AuditEvent.case_id == cid)
                                          & (AuditEvent.action == "case.view")) > 10


async def test_wrong_roles_are_refused_at_each_step(new_browser: Any) -> None:
    _, _, case = await setup_complaint()
    cid = case.id
    intake_b, supervisor_b, lead_b, other_b, oversight_b = (new_browser() for _ in range(5))
    await login_as(intake_b, "intake")
    await login_as(supervisor_b, "supervisor")
    lead = await login_as(lead_b, "investigator")
    await login_as(other_b, "investigator")
    await login_as(oversight_b, "oversight")

    # received: oversight sees all cases but may not triage (403); an investigator may not
    # know the case exists (404)
    assert (await act(oversight_b, cid, "start-triage")).status_code == 403
    assert (await act(other_b, cid, "start-triage")).status_code == 404
    assert (await other_b.get(f"/cases/{cid}")).status_code == 404
    assert (await act(supervisor_b, cid, "start-review")).status_code == 409  # wrong state
    assert (await act(intake_b, cid, "start-triage")).status_code == 303

    await act(intake_b, cid, "allegations", {"allegation_type": "unlawful_stop"})
    assert (await act(oversight_b, cid, "open")).status_code == 403
    assert (await act(oversight_b, cid, "decline", {"reason": "x"})).status_code == 403
    assert (await act(lead_b, cid, "open")).status_code == 404
    assert (await act(intake_b, cid, "open")).status_code == 303

    # open: only supervisors assign
    assert (await act(intake_b, cid, "assign", {"investigator": str(lead.id)})).status_code \
        == 404
    assert (await act(oversight_b, cid, "assign", {"investigator": str(lead.id)})
            ).status_code == 403
    assert (await oversight_b.get(f"/cases/{cid}/assign")).status_code == 403
    assert (await act(supervisor_b, cid, "assign", {"investigator": str(lead.id)})
            ).status_code == 303

    # under investigation: only the lead (or a supervisor) works the case
    allegation = await Allegation.select().where(Allegation.case == cid).first()
    recommend = f"allegations/{allegation['id']}/recommend"
    finding = {"finding": "not_sustained", "rationale": "No witness.", "standard":
               "preponderance"}
    assert (await act(other_b, cid, "notes", {"note_body": "x"})).status_code == 404
    assert (await act(other_b, cid, recommend, finding)).status_code == 404
    assert (await act(oversight_b, cid, "notes", {"note_body": "x"})).status_code == 403
    assert (await act(oversight_b, cid, recommend, finding)).status_code == 403
    assert (await act(intake_b, cid, "submit-findings")).status_code == 404
    assert (await act(lead_b, cid, recommend, finding)).status_code == 303
    assert (await act(lead_b, cid, "close", {"confirm": "yes"})).status_code == 403
    assert (await lead_b.get(f"/cases/{cid}/close")).status_code == 403
    assert (await act(lead_b, cid, "submit-findings")).status_code == 303

    # findings submitted / under review: reviewers only
    assert (await act(lead_b, cid, "start-review")).status_code == 403
    assert (await act(oversight_b, cid, "start-review")).status_code == 403
    assert (await act(supervisor_b, cid, "start-review")).status_code == 303
    final = f"allegations/{allegation['id']}/final"
    assert (await act(lead_b, cid, final, {})).status_code == 403
    assert (await act(lead_b, cid, "return", {"comments": "x"})).status_code == 403
    assert (await act(oversight_b, cid, "close", {"confirm": "yes"})).status_code == 403
    assert (await act(supervisor_b, cid, final, {})).status_code == 303
    assert (await act(supervisor_b, cid, "close", {"confirm": "yes"})).status_code == 303
    assert await status_of(cid) == "closed"
    # after closure nothing moves it again
    assert (await act(supervisor_b, cid, "start-review")).status_code == 409
    assert (await act(lead_b, cid, recommend, finding)).status_code == 409


async def test_contact_details_hidden_and_every_view_audited(new_browser: Any) -> None:
    _, _, case = await setup_complaint()
    cid = case.id
    intake_b, oversight_b, supervisor_b, lead_b, other_b = (new_browser() for _ in range(5))
    await login_as(intake_b, "intake")
    await login_as(oversight_b, "oversight")
    supervisor = await login_as(supervisor_b, "supervisor")
    lead = await login_as(lead_b, "investigator")
    await login_as(other_b, "investigator")

    for browser in (intake_b, oversight_b):
        page = await browser.get(f"/cases/{cid}")
        assert page.status_code == 200
        assert "María Hernández" not in page.text and "maria@example.net" not in page.text
        assert "Complainant contact" not in page.text
    page = await supervisor_b.get(f"/cases/{cid}")
    assert "maria@example.net" in page.text and "Do not call after 8pm" in page.text

    await act(intake_b, cid, "start-triage")
    await act(intake_b, cid, "allegations", {"allegation_type": "discourtesy"})
    await act(intake_b, cid, "open")
    await act(supervisor_b, cid, "assign", {"investigator": str(lead.id)})
    assert (await other_b.get(f"/cases/{cid}")).status_code == 404
    page = await lead_b.get(f"/cases/{cid}")
    assert "maria@example.net" in page.text

    views = await AuditEvent.select(AuditEvent.actor_label).where(
        (AuditEvent.case_id == cid) & (AuditEvent.action == "case.contact.view"))
    viewers = {v["actor_label"] for v in views}
    assert viewers == {supervisor.email, lead.email}


async def test_reassignment_needs_a_reason_and_notifies(new_browser: Any, settings: Any
                                                        ) -> None:
    case = await make_case(status="open")
    await Allegation(case=case.id, allegation_type="force").save()
    supervisor_b = new_browser()
    await login_as(supervisor_b, "supervisor")
    first = await make_user("investigator", email_notifications=True)
    second = await make_user("investigator", email_notifications=True)
    assert (await act(supervisor_b, case.id, "assign", {"investigator": str(first.id)})
            ).status_code == 303
    page = await supervisor_b.get(f"/cases/{case.id}/assign")
    assert "Reason for reassigning" in page.text
    response = await supervisor_b.submit(f"/cases/{case.id}/assign",
                                         data={"investigator": str(second.id)})
    assert response.status_code == 422 and "reason for reassigning" in response.text
    assert (await Case.select(Case.lead_investigator).where(Case.id == case.id).first()
            )["lead_investigator"] == first.id
    response = await supervisor_b.submit(f"/cases/{case.id}/assign", data={
        "investigator": str(second.id), "reason": "First investigator on leave."})
    assert response.status_code == 303
    history = await CaseAssignment.select().where(CaseAssignment.case == case.id).order_by(
        CaseAssignment.id)
    assert [h["investigator"] for h in history] == [first.id, second.id]
    assert history[1]["reason"] == "First investigator on leave."
    assert await Notification.count().where(Notification.user == second.id) == 1
    assert await Notification.count().where(Notification.user == first.id) == 2
    await jobs.run_due()
    # each notification by e-mail: assigned (first), assigned (second), reassigned away (first)
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 3


async def test_decline_and_refer_need_their_reason_and_body(new_browser: Any) -> None:
    declined = await make_case(status="in_triage")
    referred = await make_case(status="in_triage")
    intake_b = new_browser()
    await login_as(intake_b, "intake")
    response = await act(intake_b, declined.id, "decline", {"reason": "  "})
    assert response.status_code == 422 and "Give the reason" in response.text
    assert await status_of(declined.id) == "in_triage"
    assert (await act(intake_b, declined.id, "decline", {
        "reason": "Not about a 287(g) officer."})).status_code == 303
    assert await status_of(declined.id) == "declined"

    response = await act(intake_b, referred.id, "refer", {"body": ""})
    assert response.status_code == 422
    assert await Referral.count().where(Referral.case == referred.id) == 0
    assert (await act(intake_b, referred.id, "refer", {
        "body": "doj_crt", "reference_number": "DJ-170-12"})).status_code == 303
    row = await Case.select().where(Case.id == referred.id).first()
    assert row["status"] == "referred" and row["referred_to"] == "doj_crt"
    assert row["outcome"] == "referred" and row["closed_at"] is not None
    ref = await Referral.select().where(Referral.case == referred.id).first()
    assert ref["reference_number"] == "DJ-170-12"


async def test_late_ice_notice_and_undesignated_officers(new_browser: Any) -> None:
    agency = await make_agency()
    undesignated = await make_officer(agency, "Paul Clerk", "900", designated=False)
    designated = await make_officer(agency, "Rita Vance", "901")
    plain = await make_case(status="in_triage", received_at=received(2026, 3, 6, 16, 0),
                            officers=[{"name": "Clerk", "badge_number": "900"}])
    late = await make_case(status="in_triage", received_at=received(2026, 3, 6, 16, 0),
                           officers=[{"name": "Vance", "badge_number": "901"}])
    intake_b = new_browser()
    await login_as(intake_b, "intake")
    for case, officer in ((plain, undesignated), (late, designated)):
        page = await intake_b.get(f"/cases/{case.id}")
        co_id = int(re.search(r'/officers/(\d+)/link', page.text).group(1))
        assert (await act(intake_b, case.id, f"officers/{co_id}/link",
                          {"officer_id": str(officer.id)})).status_code == 303
    page = await intake_b.get(f"/cases/{plain.id}")
    assert 'data-clock="ice_notification"' not in page.text  # only shown when required
    page = await intake_b.get(f"/cases/{late.id}")
    assert clock_line(page.text, "ice_notification").startswith("overdue: ")
    # sent Wednesday (a day late): met late, by a day
    await act(intake_b, late.id, "referrals", {"body": "ice_opr", "is_ice_notification": "1",
                                               "sent_on": "2026-03-11", "sent_time": "16:00"})
    page = await intake_b.get(f"/cases/{late.id}")
    assert clock_line(page.text, "ice_notification").startswith(
        "missed: ICE notification (48 weekday hours): met late by 24 hours")


async def test_supervisor_suspends_designation_and_lifts_it_at_closure(new_browser: Any
                                                                      ) -> None:
    agency = await make_agency()
    officer = await make_officer(agency, "Daniel Reyes", "4471")
    case = await make_case(status="in_triage", officers=[{"name": "Reyes",
                                                          "badge_number": "4471"}])
    supervisor_b = new_browser()
    await login_as(supervisor_b, "supervisor")
    page = await supervisor_b.get(f"/cases/{case.id}")
    co_id = int(re.search(r'/officers/(\d+)/link', page.text).group(1))
    await act(supervisor_b, case.id, f"officers/{co_id}/link", {"officer_id": str(officer.id)})
    designation = await Designation.select().where(Designation.officer == officer.id).first()
    page = await supervisor_b.get(f"/cases/{case.id}")
    assert f"/designations/{designation['id']}/suspend" in page.text
    # lifting before adjudication is refused
    response = await act(supervisor_b, case.id, f"designations/{designation['id']}/lift")
    assert response.status_code == 409
    response = await act(supervisor_b, case.id, f"designations/{designation['id']}/suspend")
    assert response.status_code == 303
    row = await Designation.select().where(Designation.id == designation["id"]).first()
    assert row["status"] == "suspended" and row["suspended_on"] is not None
    await Case.update({Case.status: "closed"}).where(Case.id == case.id)
    page = await supervisor_b.get(f"/cases/{case.id}")
    assert f"/designations/{designation['id']}/lift" in page.text
    assert (await act(supervisor_b, case.id, f"designations/{designation['id']}/lift")
            ).status_code == 303
    row = await Designation.select().where(Designation.id == designation["id"]).first()
    assert row["status"] == "active" and row["suspension_lifted_on"] is not None
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.case_id == case.id).order_by(AuditEvent.seq)]
    # on the case's timeline (recorded by the registry service, or by ours without it)
    suspended = [a for a in actions if "suspend" in a and "lift" not in a]
    lifted = [a for a in actions if "lift" in a or "reinstated" in a]
    assert len(suspended) == 1 and len(lifted) == 1
    assert await CaseNote.count().where(CaseNote.case == case.id) == 0


async def test_referral_ledger_updates_and_results_reported_to_ice(new_browser: Any) -> None:
    agency = await make_agency()
    officer = await make_officer(agency)
    case = await make_case(status="under_review", received_at=received(2026, 3, 6, 16, 0),
                           ice_notification_required=True)
    await Allegation(case=case.id, allegation_type="force", recommended_finding="unfounded",
                     recommended_rationale="Video shows no force.").save()
    supervisor_b = new_browser()
    await login_as(supervisor_b, "supervisor")
    page = await supervisor_b.get(f"/cases/{case.id}")
    co_id = int(re.search(r'id="case-officer-(\d+)"', page.text).group(1))
    assert co_id and officer.id
    assert (await act(supervisor_b, case.id, "referrals", {
        "body": "agency_ia", "sent_on": "2026-03-12"})).status_code == 303
    referral = await Referral.select().where(Referral.case == case.id).first()
    response = await act(supervisor_b, case.id, f"referrals/{referral['id']}", {
        "reference_number": "IA-26-118", "acknowledged_on": "2026-03-01"})
    assert response.status_code == 422 and "earlier than the date sent" in response.text
    assert (await act(supervisor_b, case.id, f"referrals/{referral['id']}", {
        "reference_number": "IA-26-118", "acknowledged_on": "2026-03-16",
        "outcome": "Policy violation sustained", "outcome_on": "2026-05-02"})).status_code == 303
    referral = await Referral.select().where(Referral.id == referral["id"]).first()
    assert referral["reference_number"] == "IA-26-118"
    assert str(referral["acknowledged_on"]) == "2026-03-16"

    allegation = await Allegation.select().where(Allegation.case == case.id).first()
    # an edited final finding needs its own rationale
    response = await act(supervisor_b, case.id, f"allegations/{allegation['id']}/final",
                         {"final_finding": "not_sustained"})
    assert response.status_code == 422 and "differs from the recommended" in response.text
    assert (await act(supervisor_b, case.id, f"allegations/{allegation['id']}/final", {
        "final_finding": "not_sustained", "final_rationale": "The video is incomplete."})
            ).status_code == 303
    assert (await act(supervisor_b, case.id, "close", {"confirm": "yes"})).status_code == 303
    row = await Case.select().where(Case.id == case.id).first()
    assert row["outcome"] == "not_sustained" and row["results_due_at"] is not None
    page = await supervisor_b.get(f"/cases/{case.id}")
    assert clock_line(page.text, "results").startswith("due: ")
    assert "not enough evidence" in page.text
    assert (await act(supervisor_b, case.id, "results-reported", {})).status_code == 303
    page = await supervisor_b.get(f"/cases/{case.id}")
    assert clock_line(page.text, "results").startswith("met: ")


async def test_triage_sets_agency_and_model_and_marks_officers_unidentified(new_browser: Any
                                                                           ) -> None:
    from tests.factories_cases import make_agreement

    agency = await make_agency("Collier County Sheriff's Office")
    agreement = await make_agreement(agency, model="JEM")
    other_agency = await make_agency("Lee County Sheriff's Office")
    case = await make_case(status="in_triage", officers=[{"name": "", "badge_number": "",
                                                          "description": "tall, moustache"}])
    intake_b = new_browser()
    await login_as(intake_b, "intake")
    assert (await act(intake_b, case.id, "agency", {
        "agency_id": str(agency.id), "agreement_id": str(agreement.id)})).status_code == 303
    page = await intake_b.get(f"/cases/{case.id}")
    assert "Collier County Sheriff" in page.text
    assert "Jail Enforcement Model (active)" in page.text
    # an agreement of another agency is refused
    other_agreement = await make_agreement(other_agency, model="WSO")
    response = await act(intake_b, case.id, "agency", {
        "agency_id": str(agency.id), "agreement_id": str(other_agreement.id)})
    assert response.status_code == 422 and "agreement of this agency" in response.text

    co_id = int(re.search(r'/officers/(\d+)/link', page.text).group(1))
    response = await act(intake_b, case.id, f"officers/{co_id}/link", {})
    assert response.status_code == 422 and "mark the officer as unidentified" in response.text
    assert (await act(intake_b, case.id, f"officers/{co_id}/link",
                      {"officer_id": "unidentified"})).status_code == 303
    row = await Case.select().where(Case.id == case.id).first()
    assert row["officer_unidentified"] is True
    assert row["ice_notification_required"] is False
    page = await intake_b.get(f"/cases/{case.id}")
    assert "Officer unidentified." in page.text


async def test_case_page_in_spanish(new_browser: Any) -> None:
    case = await make_case(status="closed", outcome="unfounded")
    supervisor_b = new_browser()
    await login_as(supervisor_b, "supervisor")
    page = await supervisor_b.get(f"/cases/{case.id}", headers={"accept-language": "es"})
    assert page.status_code == 200
    assert "Cronología" in page.text and "Cerrada" in page.text
    assert "Concluyó que lo descrito no ocurrió." in page.text
