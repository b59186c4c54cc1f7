"""Officer and agency pages show the complaint history (allegations and findings), flags and
recommendations with their status; an officer with an issued recommendation says so."""

from __future__ import annotations

from datetime import UTC, datetime

from casetracker.reports.tables import Recommendation, RecommendationOfficer
from tests.conftest import Browser, login_as
from tests.factories import make_user
from tests.factories_cases import add_allegation, make_case
from tests.factories_registry import make_agency, make_agreement, make_designation, make_officer


async def test_officer_and_agency_pages_show_complaints_findings_and_recommendations(
        browser: Browser) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    agreement = await make_agreement(agency, model="TFM")
    officer = await make_officer(agency, name="Daniel Reyes", badge_number="4471")
    designation = await make_designation(officer, agreement)
    case = await make_case(status="closed", agency=agency, outcome="sustained")
    await add_allegation(case, "racial_profiling", officer=officer.id,
                         protected_characteristic="ethnicity", recommended_finding="sustained",
                         final_finding="sustained")
    other = await make_case(status="closed", agency=agency, outcome="unfounded")
    await add_allegation(other, "force", officer=officer.id,
                         recommended_finding="unfounded", final_finding="unfounded")
    author = await make_user("oversight")
    issued = Recommendation(number="RR-2026-0001", kind="officers", action="revocation",
                            status="issued", agency=agency.id, agreement=agreement.id,
                            author=author.id, issued_at=datetime(2026, 11, 2, 15, tzinfo=UTC))
    await issued.save()
    await RecommendationOfficer(recommendation=issued.id, designation=designation.id).save()
    draft = Recommendation(kind="agreement", action="suspension", status="submitted",
                           agency=agency.id, agreement=agreement.id, author=author.id)
    await draft.save()

    await login_as(browser, "supervisor")
    page = (await browser.get(f"/registry/officers/{officer.id}")).text
    assert "A rescission recommendation about this officer has been issued:" in page
    assert "RR-2026-0001" in page and "November 2, 2026" in page
    history = page.split('id="complaint-history"')[1].split("</section>")[0]
    assert case.tracking_number in history and other.tracking_number in history
    assert "Racial profiling / bias (Ethnicity)" in history
    assert "<strong>Sustained</strong>" in history
    assert "Force" in history and "Unfounded" in history
    assert "racial_profiling" not in history
    statuses = page.split('id="recommendation-status"')[1].split("</section>")[0]
    assert "Issued" in statuses and "Revoke officers" in statuses

    agency_page = (await browser.get(f"/registry/agencies/{agency.id}")).text
    assert case.tracking_number in agency_page.split('id="complaint-history"')[1]
    agency_recs = agency_page.split('id="recommendation-status"')[1].split("</section>")[0]
    assert "Awaiting approval" in agency_recs and "Suspend agreement" in agency_recs
    assert "RR-2026-0001" in agency_recs


async def test_roles_see_only_the_cases_open_to_them(browser: Browser) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    officer = await make_officer(agency, name="Daniel Reyes")
    case = await make_case(status="closed", agency=agency)
    await add_allegation(case, "racial_profiling", officer=officer.id)
    await login_as(browser, "intake")
    page = (await browser.get(f"/registry/officers/{officer.id}")).text
    assert case.tracking_number not in page
    assert "1 more case is not open to your role." in page
    assert 'id="recommendation-status"' not in page


async def test_a_designation_change_names_its_case_by_tracking_number(browser: Browser) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    officer = await make_officer(agency, name="Daniel Reyes")
    designation = await make_designation(officer, await make_agreement(agency, model="JEM"))
    case = await make_case(status="under_investigation", agency=agency)
    await login_as(browser, "supervisor")
    page_url = f"/registry/officers/{officer.id}"
    page = (await browser.get(page_url)).text
    assert "Case tracking number (optional)" in page and 'name="case_id"' not in page
    action = f"/registry/designations/{designation.id}/status"
    unknown = await browser.submit(page_url, action, data={
        "verb": "suspend", "on": "2026-12-01", "reason": "Pending", "case_ref": "CT-NOPE"})
    assert unknown.status_code == 422
    assert "No case has the tracking number CT-NOPE." in unknown.text
    assert 'value="CT-NOPE"' in unknown.text
    saved = await browser.submit(page_url, action, data={
        "verb": "suspend", "on": "2026-12-01", "reason": "Pending",
        "case_ref": case.tracking_number.lower()})
    assert saved.status_code == 303
    page = (await browser.get(page_url)).text
    assert f"(case {case.tracking_number})" in page
