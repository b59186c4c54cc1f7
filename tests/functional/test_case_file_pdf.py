"""The case report PDF holds everything the case page shows, in words and local times, with the
access log summarised (every row only in the optional appendix). Read back with tests/pdf.py."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from casetracker.auth.actor import Actor
from casetracker.cases.services import CaseService
from casetracker.cases.tables import Allegation, CaseOfficer
from tests.conftest import Browser
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.factories_cases import make_case, received
from tests.factories_registry import make_agency, make_agreement, make_designation, make_officer
from tests.pdf import pdf_text, squeezed


async def _walked_case() -> tuple[Any, Any, Any]:
    """A complaint taken from triage to closure through the real verbs, with one return."""
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    agreement = await make_agreement(agency, model="TFM")
    officer = await make_officer(agency, name="Daniel Reyes", badge_number="4471")
    await make_designation(officer, agreement)
    case = await make_case(status="in_triage", received_at=received(2026, 3, 6, 16, 0),
                           officers=[{"name": "Deputy Reyes", "badge_number": "4471",
                                      "agency_text": "Harlow sheriff", "rank": "Deputy",
                                      "description": "Tall, grey moustache",
                                      "vehicle": "Green pickup"}])
    supervisor = await make_user("supervisor", name="Dana Ortiz")
    investigator = await make_user("investigator", name="Sam Lee")
    boss = CaseService(Actor.from_user(supervisor))
    lead = CaseService(Actor.from_user(investigator))
    co = await CaseOfficer.select(CaseOfficer.id).where(CaseOfficer.case == case.id).first()
    await boss.link_officer(case.id, co["id"], officer_id=officer.id)
    await boss.set_agency(case.id, agency.id)
    allegation_id = await boss.add_allegation(
        case.id, allegation_type="racial_profiling", case_officer_id=co["id"],
        protected_characteristic="ethnicity", description="Asked for papers first")
    await boss.open_investigation(case.id)
    await boss.assign_investigator(case.id, investigator.id)
    await lead.add_note(case.id, "Dashcam requested from the sheriff.")
    await lead.add_task(case.id, "Request dispatch logs")
    await lead.record_interview(case.id, interviewee="María Hernández",
                                interviewee_role="complainant",
                                held_at=received(2026, 3, 10, 10, 30), language="Spanish",
                                interpreter="Ana Gil", summary="Consistent with the narrative.")
    await lead.record_recommended_finding(case.id, allegation_id, finding="sustained",
                                          rationale="Dashcam shows the questions.",
                                          standard="preponderance", action="Retraining")
    await lead.submit_findings(case.id)
    await boss.start_review(case.id)
    await boss.return_to_investigation(case.id, "Interview the partner deputy too.")
    await lead.resume_investigation(case.id)
    await lead.submit_findings(case.id)
    await boss.start_review(case.id)
    await boss.accept_finding(case.id, allegation_id, finding="sustained", rationale="")
    await boss.close(case.id)
    from casetracker.intake.tables import ComplainantLetter

    await ComplainantLetter(case=case.id, kind="opened", language="es", channel="mail",
                            subject="Su queja: investigación abierta", body="…",
                            status="mailed", sent_at=received(2026, 3, 9, 9, 0)).save()
    await ComplainantLetter(case=case.id, kind="closed", status="draft",
                            subject="Not sent yet").save()
    for _ in range(3):
        await boss.view_case(case.id)
    await lead.view_case(case.id)
    return case, supervisor, allegation_id


async def test_case_file_pdf_holds_the_whole_case(browser: Browser) -> None:
    case, supervisor, _ = await _walked_case()
    await browser.login(supervisor.email, DEFAULT_PASSWORD)
    await browser.get(f"/cases/{case.id}")
    response = await browser.get(f"/cases/{case.id}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    flat = squeezed(text).lower()  # headings are printed in capitals

    def has(words: str) -> bool:
        return squeezed(words).lower() in flat

    # The complaint as filed; the agreement in words.
    assert has("The complaint as filed") and has("Task Force Model (TFM)")
    assert has("March 6, 2026, 4:00 PM EST"), "received: local time with its zone"
    # Officers, described by part, with registry link and designation under the agreement.
    for words in ("Name (as described) Deputy Reyes", "Agency (as described) Harlow sheriff",
                  "Description Tall, grey moustache", "Vehicle Green pickup",
                  "Registry officer Daniel Reyes, badge 4471",
                  "Task Force Model agreement: designation active",
                  "the agreement this case falls under"):
        assert has(words), words
    # Allegation in words; recommended and final findings with who and rationale.
    assert has("Racial profiling / bias (Ethnicity) — Daniel Reyes")
    assert "racial_profiling" not in text
    assert has("Recommended finding Sustained — Sam Lee")
    assert has("Investigator's rationale Dashcam shows the questions.")
    assert has("Recommended action Retraining")
    assert has("Final finding Sustained — Dana Ortiz")
    # Interviews, notes, tasks.
    assert has("María Hernández (Complainant)") and has("Interpreter Ana Gil")
    assert has("March 10, 2026, 10:30 AM EDT")
    assert has("Dashcam requested from the sheriff.") and has("Request dispatch logs")
    # Letters sent (not drafts), how and in which language.
    assert has("March 9, 2026, 9:00 AM EDT By post · Spanish Su queja: investigación abierta")
    assert "Not sent yet" not in text
    # Review history with the supervisor's comments.
    assert has("Review history")
    assert has("Returned to investigation Interview the partner deputy too.")
    assert has("Outcome: Sustained")
    # Timeline in words, without reads; access log summarised, not row by row.
    assert has("Timeline of changes") and has("Lead investigator assigned")
    assert "case.view" not in text and "case_view" not in text
    assert re.search(r"Dana Ortiz\s*Viewed the case\s*[34]\b", text), text[-1500:]
    assert has("Sam Lee Viewed the case 1")
    assert not has("Appendix: every recorded access")
    assert has("can be printed as an appendix")


async def test_access_rows_only_in_the_optional_appendix(browser: Browser) -> None:
    case = await make_case(status="received", received_at=datetime(2026, 3, 6, 21, 0))
    supervisor = await make_user("supervisor", name="Dana Ortiz")
    await browser.login(supervisor.email, DEFAULT_PASSWORD)
    for _ in range(2):
        await browser.get(f"/cases/{case.id}")
    summary = pdf_text((await browser.get(f"/cases/{case.id}/report.pdf")).content)
    full = pdf_text((await browser.get(f"/cases/{case.id}/report.pdf?access=all")).content)
    heading = "APPENDIX: EVERY RECORDED ACCESS"  # headings are printed in capitals
    assert heading not in summary.upper()
    assert heading in full
    appendix = full.split(heading, 1)[1]
    assert appendix.count("Viewed the case") == 2
    assert appendix.count("Printed the case file") == 1  # the first printing
    assert await Allegation.count().where(Allegation.case == case.id) == 0
