"""Pickers: agencies, agreements and officers chosen by typing, never by internal id and never
from a 700-row dropdown. With JavaScript the page asks /registry/pick/<kind> for suggestions
and fills a hidden id; without it, "Find" brings the page back with the matches as radio
buttons and everything typed kept. Both paths over real HTTP with the real CSRF token."""

from __future__ import annotations

import re
from typing import Any

from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Case, CaseOfficer
from tests.conftest import Browser, login_as
from tests.factories_cases import make_case
from tests.factories_registry import make_agency, make_agreement, make_designation, make_officer


async def _case_in_triage(**fields: Any) -> Case:
    return await make_case(status="in_triage", **fields)


async def _agency_row(case_id: int) -> dict[str, Any]:
    return await Case.select(Case.agency, Case.agreement).where(Case.id == case_id).first()


def _radios(page: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" value="(\d+)"', page)


async def test_suggestions_are_json_for_signed_in_staff_only(browser: Browser,
                                                             new_browser: Any) -> None:
    agency = await make_agency("Harlow <County> Sheriff's Office", state="FL")
    await make_agency("Jackson County Sheriff's Office", state="FL")
    await make_agreement(agency, model="JEM")
    stranger = new_browser()
    refused = await stranger.get("/registry/pick/agency?q=harlow")
    assert refused.status_code in (302, 303, 401)
    assert "Harlow" not in refused.text

    await login_as(browser, "intake")
    response = await browser.get("/registry/pick/agency?q=harl")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    rows = response.json()
    assert [r["label"] for r in rows] == ["Harlow <County> Sheriff's Office (FL)"]
    assert rows[0]["hint"] == "Jail Enforcement Model"
    # Agreements by agency words and model; officers by name or badge.
    agreements = (await browser.get("/registry/pick/agreement?q=harlow+jem")).json()
    assert [r["label"] for r in agreements] == [
        "Harlow <County> Sheriff's Office (FL): Jail Enforcement Model, active"]
    await make_officer(agency, name="Daniel Reyes", badge_number="4471")
    by_badge = (await browser.get("/registry/pick/officer?q=4471")).json()
    assert by_badge[0]["label"].startswith("Daniel Reyes, badge 4471 · Harlow")
    assert (await browser.get("/registry/pick/nothing?q=x")).status_code == 404


async def test_triage_agency_without_javascript_find_then_choose(browser: Browser) -> None:
    harlow = await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_agency("Harlan County Police Department", state="KY")
    agreement = await make_agreement(harlow, model="TFM")
    case = await _case_in_triage()
    await login_as(browser, "intake")
    page = (await browser.get(f"/cases/{case.id}")).text
    assert "<select" not in page.split(f'action="/cases/{case.id}/agency"')[1].split(
        "</form>")[0], "the agency is no longer a dropdown"
    assert "Registry officer number" not in page

    # "Find" with a few letters: the page comes back with the matches, the words kept.
    found = await browser.post(f"/cases/{case.id}/agency",
                               data={"agency_id_q": "harl", "_find": "agency_id"})
    assert found.status_code == 200
    assert 'value="harl"' in found.text
    assert "Matches for “harl”: choose one" in found.text
    assert "Harlow County Sheriff&#39;s Office (FL)" in found.text
    assert "Harlan County Police Department (KY)" in found.text
    assert len(_radios(found.text, "agency_id")) == 2
    assert (await _agency_row(case.id))["agency"] is None, "finding changes nothing"

    # Choosing a match saves it; the agency's only agreement is linked with it.
    saved = await browser.post(f"/cases/{case.id}/agency", data={
        "agency_id_q": "harl", "agency_id_searched": "harl", "agency_id": str(harlow.id)})
    assert saved.status_code == 303
    row = await _agency_row(case.id)
    assert row == {"agency": harlow.id, "agreement": agreement.id}
    page = (await browser.get(f"/cases/{case.id}")).text
    assert re.search(r'id="case-agreement">Task Force Model \(active\)', page)
    event = await AuditEvent.select(AuditEvent.details).where(
        (AuditEvent.case_id == case.id) & (AuditEvent.action == "case.agency_set")).first()
    assert "agreement_chosen" in str(event["details"])


async def test_triage_agency_words_alone_ask_to_choose(browser: Browser) -> None:
    await make_agency("Harlow County Sheriff's Office", state="FL")
    case = await _case_in_triage()
    await login_as(browser, "intake")
    await browser.get(f"/cases/{case.id}")
    response = await browser.post(f"/cases/{case.id}/agency", data={"agency_id_q": "Harlow"})
    assert response.status_code == 422
    assert "Choose one of the matches below." in response.text
    assert len(_radios(response.text, "agency_id")) == 1
    nothing = await browser.post(f"/cases/{case.id}/agency", data={"agency_id_q": "Zzyzx"})
    assert nothing.status_code == 422
    assert "Nothing matches “Zzyzx”" in nothing.text
    assert 'value="Zzyzx"' in nothing.text


async def test_triage_agency_with_javascript_choice(browser: Browser) -> None:
    """What the script sends: the label in the box and the id in the hidden field."""
    harlow = await make_agency("Harlow County Sheriff's Office", state="FL")
    other = await make_agency("Polk County Sheriff's Office", state="FL")
    case = await _case_in_triage()
    await login_as(browser, "intake")
    await browser.get(f"/cases/{case.id}")
    saved = await browser.post(f"/cases/{case.id}/agency", data={
        "agency_id_q": "Harlow County Sheriff's Office (FL)", "agency_id": str(harlow.id)})
    assert saved.status_code == 303
    assert (await _agency_row(case.id))["agency"] == harlow.id
    # An id left behind while the words were changed is not taken: the words are searched.
    stale = await browser.post(f"/cases/{case.id}/agency", data={
        "agency_id_q": "Polk", "agency_id": str(harlow.id)})
    assert stale.status_code == 422
    assert _radios(stale.text, "agency_id") == [str(other.id)]
    assert (await _agency_row(case.id))["agency"] == harlow.id


async def test_agreement_offered_when_the_agency_holds_several(browser: Browser) -> None:
    agency = await make_agency("Collier County Sheriff's Office", state="FL")
    jem = await make_agreement(agency, model="JEM")
    wso = await make_agreement(agency, model="WSO")
    # The complaint says "I don't know": a person chooses.
    case = await _case_in_triage(context_287g="unknown")
    await login_as(browser, "intake")
    await browser.get(f"/cases/{case.id}")
    label = "Collier County Sheriff's Office (FL)"
    assert (await browser.post(f"/cases/{case.id}/agency", data={
        "agency_id_q": label, "agency_id": str(agency.id)})).status_code == 303
    assert await _agency_row(case.id) == {"agency": agency.id, "agreement": None}
    page = (await browser.get(f"/cases/{case.id}")).text
    assert "This agency holds several agreements" in page
    assert sorted(_radios(page, "agreement_id")) == sorted([str(jem.id), str(wso.id)])
    assert "Warrant Service Officer (active)" in page
    assert (await browser.post(f"/cases/{case.id}/agency", data={
        "agency_id_q": label, "agency_id": str(agency.id),
        "agreement_id": str(wso.id)})).status_code == 303
    assert await _agency_row(case.id) == {"agency": agency.id, "agreement": wso.id}

    # A complaint describing a jail screening falls under the agency's JEM agreement.
    jail = await _case_in_triage(context_287g="jail_screening")
    await browser.get(f"/cases/{jail.id}")
    assert (await browser.post(f"/cases/{jail.id}/agency", data={
        "agency_id_q": label, "agency_id": str(agency.id)})).status_code == 303
    assert await _agency_row(jail.id) == {"agency": agency.id, "agreement": jem.id}


async def test_link_officer_by_search_without_javascript(browser: Browser) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    agreement = await make_agreement(agency, model="TFM")
    await make_agreement(agency, model="JEM")
    officer = await make_officer(agency, name="Daniel Ruiz-Reyes", badge_number="9001")
    await make_designation(officer, agreement)
    case = await _case_in_triage(context_287g="unknown",
                                 officers=[{"name": "the tall deputy", "badge_number": ""}])
    case_officer = await CaseOfficer.select(CaseOfficer.id).where(
        CaseOfficer.case == case.id).first()
    action = f"/cases/{case.id}/officers/{case_officer['id']}/link"
    await login_as(browser, "intake")
    await browser.get(f"/cases/{case.id}")
    found = await browser.post(action, data={"officer_id": "search",
                                             "officer_pick_q": "ruiz", "_find": "officer_pick"})
    assert found.status_code == 200
    assert _radios(found.text, "officer_pick") == [str(officer.id)]
    assert "Daniel Ruiz-Reyes, badge 9001 · Harlow County Sheriff&#39;s Office (FL)" in found.text
    linked = await browser.post(action, data={
        "officer_id": "search", "officer_pick_q": "ruiz", "officer_pick_searched": "ruiz",
        "officer_pick": str(officer.id)})
    assert linked.status_code == 303
    row = await CaseOfficer.select(CaseOfficer.officer).where(
        CaseOfficer.id == case_officer["id"]).first()
    assert row["officer"] == officer.id
    # The officer's agency comes with them, and the agreement they are designated under.
    assert await _agency_row(case.id) == {"agency": agency.id, "agreement": agreement.id}


async def test_registry_officer_form_agency_by_search(browser: Browser) -> None:
    harlow = await make_agency("Harlow County Sheriff's Office", state="FL")
    await login_as(browser, "administrator")
    page = (await browser.get("/registry/officers/new")).text
    assert "<select" not in page.split('action="/registry/officers/new"')[1].split("</form>")[0]
    found = await browser.post("/registry/officers/new", data={
        "agency_id_q": "harlow", "_find": "agency_id", "name": "Ana Ruiz",
        "badge_number": "77", "rank": "Deputy", "active": "1"})
    assert found.status_code == 200
    assert 'value="Ana Ruiz"' in found.text and 'value="77"' in found.text
    assert _radios(found.text, "agency_id") == [str(harlow.id)]
    saved = await browser.post("/registry/officers/new", data={
        "agency_id_q": "harlow", "agency_id_searched": "harlow", "agency_id": str(harlow.id),
        "name": "Ana Ruiz", "badge_number": "77", "rank": "Deputy", "active": "1"})
    assert saved.status_code == 303
    officer = (await browser.get("/registry/pick/officer?q=ana+ruiz")).json()
    assert officer[0]["label"] == "Ana Ruiz, badge 77 · Harlow County Sheriff's Office (FL)"


async def test_oversight_scope_agency_by_search(browser: Browser) -> None:
    harlow = await make_agency("Harlow County Sheriff's Office", state="FL")
    await login_as(browser, "oversight")
    found = await browser.get("/oversight?agency_q=harlow&_find=agency")
    assert found.status_code == 200
    assert _radios(found.text, "agency") == [str(harlow.id)]
    chosen = await browser.get(f"/oversight?agency_q=harlow&agency_searched=harlow"
                               f"&agency={harlow.id}")
    assert chosen.status_code == 200
    assert 'value="Harlow County Sheriff&#39;s Office (FL)"' in chosen.text
    assert f"agency={harlow.id}" in chosen.text  # the figures' links keep the scope
