"""The registry's staff pages: lists, search, details, administrators' forms, audit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from casetracker.audit.tables import AuditEvent
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from tests.conftest import Browser, login_as
from tests.factories_registry import (
    make_agency,
    make_agreement,
    make_designation,
    make_officer,
)


async def events(action: str) -> list[dict[str, Any]]:
    rows = await AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.seq)
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows


async def test_agency_list_search_filters_and_keyset_pages(browser: Browser) -> None:
    await login_as(browser, "investigator")
    galveston = await make_agency("Galveston County Sheriff's Office", state="TX")
    await make_agreement(galveston, model="JEM")
    harris = await make_agency("Harris County Sheriff's Office", state="TX")
    await make_agreement(harris, model="TFM", status="pending")
    for n in range(55):
        await make_agency(f"Zeta Police Department {n:02d}", state="FL", kind="municipality")

    page = await browser.get("/registry/agencies?q=GALVESTON")
    assert page.status_code == 200
    assert "Galveston County Sheriff" in page.text and "Harris County" not in page.text
    page = await browser.get("/registry/agencies?model=TFM&status=pending")
    assert "Harris County" in page.text and "Galveston County" not in page.text
    page = await browser.get("/registry/agencies?state=FL")
    assert "Zeta Police Department 00" in page.text and "Galveston" not in page.text
    assert "Zeta Police Department 54" not in page.text  # 50 a page
    assert 'rel="next"' in page.text
    next_url = page.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    page2 = await browser.get(next_url.replace("&amp;", "&"))
    assert "Zeta Police Department 54" in page2.text
    assert "Zeta Police Department 00" not in page2.text
    assert 'rel="next"' not in page2.text


async def test_agency_detail_shows_agreements_and_officers_with_flags(browser: Browser,
                                                                       settings: Any) -> None:
    await login_as(browser, "intake")
    agency = await make_agency("Grundy County Sheriff's Office", state="TN")
    agreement = await make_agreement(agency, model="WSO", signed_on=None, signed_raw="5025-07-07")
    officer = await make_officer(agency, name="Dana Reyes", badge_number="417")
    # The app's "today" is the local date in its zone, not the machine's (they differ for
    # hours every night).
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    old = today - timedelta(days=settings.training_cycle_days + 30)
    await make_designation(officer, agreement, authorisation_expires_on=today
                           - timedelta(days=1), training_completed_on=old)
    page = await browser.get(f"/registry/agencies/{agency.id}")
    assert page.status_code == 200
    assert "5025-07-07" in page.text  # the sheet's raw text is shown, not a date
    assert "Dana Reyes" in page.text
    assert "Authorisation expired" in page.text and "Refresher training overdue" in page.text
    page = await browser.get(f"/registry/officers/{officer.id}")
    assert "Authorisation expired" in page.text and "417" in page.text
    page = await browser.get(f"/registry/agreements/{agreement.id}")
    assert "Dana Reyes" in page.text
    page = await browser.get("/registry/officers?q=reyes")
    assert "Dana Reyes" in page.text and "Authorisation expired" in page.text
    fine = await make_officer(agency, name="Lee Fine")
    await make_designation(fine, agreement, authorisation_expires_on=today
                           + timedelta(days=90), training_completed_on=today)
    page = await browser.get("/registry/officers?flagged=1")
    assert "Dana Reyes" in page.text and "Lee Fine" not in page.text
    page = await browser.get("/registry/officers")
    assert "Dana Reyes" in page.text and "Lee Fine" in page.text
    page = await browser.get("/registry/agreements?state=TN&model=WSO")
    assert "Grundy County" in page.text
    assert (await browser.get("/registry/agencies/999999")).status_code == 404


async def test_non_administrators_cannot_edit(browser: Browser) -> None:
    await login_as(browser, "supervisor")
    agency = await make_agency()
    assert (await browser.get("/registry/agencies/new")).status_code == 403
    assert (await browser.get(f"/registry/agencies/{agency.id}/edit")).status_code == 403
    await browser.get("/registry/agencies")  # a page with the CSRF token
    response = await browser.post(f"/registry/agencies/{agency.id}/edit",
                                  data={"name": "Renamed", "state": "TX", "kind": "county"})
    assert response.status_code == 403
    assert (await Agency.select(Agency.name).where(Agency.id == agency.id).first())["name"] \
        != "Renamed"
    page = await browser.get(f"/registry/agencies/{agency.id}")
    assert "Edit agency" not in page.text


async def test_administrator_creates_and_edits_with_validation(browser: Browser) -> None:
    await login_as(browser, "administrator")
    response = await browser.submit("/registry/agencies/new", data={
        "name": "", "state": "XX", "county": "Lee County", "kind": "county"})
    assert response.status_code == 422
    assert "Enter the agency&#39;s name." in response.text
    assert "Choose the agency&#39;s state." in response.text
    assert 'value="Lee County"' in response.text  # kept
    assert 'aria-invalid="true"' in response.text

    response = await browser.submit("/registry/agencies/new", data={
        "name": "Lee County Sheriff's Office ", "state": "FL", "county": "Lee County",
        "kind": "county"})
    assert response.status_code == 303, response.text[:400]
    agency = await Agency.objects().where(Agency.state == "FL").first()
    assert agency.name == "Lee County Sheriff's Office"
    assert agency.match_key == "FL|lee county sheriff's office"

    # The same agency again (other apostrophe): refused beside the name.
    response = await browser.submit("/registry/agencies/new", data={
        "name": "LEE COUNTY SHERIFF’S OFFICE", "state": "FL", "kind": "county"})
    assert response.status_code == 422 and "already exists" in response.text

    response = await browser.submit(f"/registry/agencies/{agency.id}/edit", data={
        "name": "Lee County Sheriff's Office", "state": "FL", "county": "Lee",
        "kind": "county"})
    assert response.status_code == 303

    response = await browser.submit("/registry/agreements/new", data={
        "agency_id": str(agency.id), "model": "WSO", "status": "active",
        "signed_on": "2025-13-40", "moa_url": "ftp://example"})
    assert response.status_code == 422
    assert "must be a date" in response.text and "https://" in response.text
    response = await browser.submit("/registry/agreements/new", data={
        "agency_id": str(agency.id), "model": "WSO", "status": "active",
        "signed_on": "2025-05-08", "moa_url": "https://www.ice.gov/doclib/287gMOA/x.pdf"})
    assert response.status_code == 303
    agreement = await Agreement.objects().where(Agreement.agency == agency.id).first()
    response = await browser.submit(f"/registry/agreements/{agreement.id}/edit", data={
        "model": "WSO", "status": "suspended", "signed_on": "2025-05-08",
        "moa_url": "https://www.ice.gov/doclib/287gMOA/x.pdf"})
    assert response.status_code == 303

    response = await browser.submit("/registry/officers/new", data={
        "agency_id": "999999", "name": "Nobody", "active": "1"})
    assert response.status_code == 422 and "Choose the officer&#39;s agency." in response.text
    response = await browser.submit("/registry/officers/new", data={
        "agency_id": str(agency.id), "name": "", "badge_number": "12", "active": "1"})
    assert response.status_code == 422 and "Enter the officer&#39;s name." in response.text
    assert 'value="12"' in response.text
    response = await browser.submit("/registry/officers/new", data={
        "agency_id": str(agency.id), "name": "Sam Ortiz", "badge_number": "12", "rank": "Sgt",
        "active": "1"})
    assert response.status_code == 303
    officer = await Officer.objects().where(Officer.name == "Sam Ortiz").first()
    response = await browser.submit(f"/registry/officers/{officer.id}/edit", data={
        "agency_id": str(agency.id), "name": "Sam Ortiz", "badge_number": "0012", "rank": "Sgt",
        "active": "1"})
    assert response.status_code == 303

    url = f"/registry/officers/{officer.id}/designations/new"
    response = await browser.submit(url, data={
        "agreement_id": str(agreement.id), "authorised_on": "2025-06-01",
        "authorisation_expires_on": "2025-01-01"})
    assert response.status_code == 422 and "must expire after" in response.text
    response = await browser.submit(url, data={
        "agreement_id": str(agreement.id), "authorised_on": "2025-06-01",
        "authorisation_expires_on": "2027-06-01", "training_completed_on": "2025-05-20"})
    assert response.status_code == 303
    designation = await Designation.objects().where(Designation.officer == officer.id).first()
    other = await make_agency("Other Police Department", state="FL")
    response = await browser.submit(f"/registry/officers/{officer.id}/edit", data={
        "agency_id": str(other.id), "name": "Sam Ortiz", "badge_number": "0012", "rank": "Sgt",
        "active": "1"})
    assert response.status_code == 422 and "holds designations" in response.text
    response = await browser.submit(f"/registry/designations/{designation.id}/edit", data={
        "authorised_on": "2025-06-01", "authorisation_expires_on": "2027-06-01",
        "training_completed_on": "2025-05-20", "last_refresher_on": "2025-11-01"})
    assert response.status_code == 303

    # Status verbs through the officer page.
    officer_page = f"/registry/officers/{officer.id}"
    status_url = f"/registry/designations/{designation.id}/status"
    response = await browser.submit(officer_page, status_url, data={
        "verb": "suspend", "on": "2025-12-01", "reason": ""})
    assert response.status_code == 422 and "Give the reason" in response.text
    response = await browser.submit(officer_page, status_url, data={
        "verb": "suspend", "on": "2025-12-01", "reason": "Complaint under investigation",
        "case_id": ""})
    assert response.status_code == 303
    page = await browser.get(officer_page)
    assert "Suspended pending adjudication" in page.text
    response = await browser.submit(officer_page, status_url, data={
        "verb": "suspend", "on": "2025-12-02", "reason": "again"})
    assert response.status_code == 422 and "cannot be suspended" in response.text

    for action in ("registry.agency.create", "registry.agency.update",
                   "registry.agreement.create", "registry.agreement.update",
                   "registry.officer.create", "registry.officer.update",
                   "registry.designation.create", "registry.designation.update",
                   "registry.designation.suspend"):
        assert len(await events(action)) == 1, action
    update = (await events("registry.agency.update"))[0]
    assert update["details"] == {"county": ["Lee County", "Lee"]}
    assert update["object_id"] == str(agency.id)


async def test_registry_requires_sign_in(browser: Browser) -> None:
    response = await browser.get("/registry/agencies")
    assert response.status_code == 303 and "/login" in response.headers["location"]


@pytest.mark.shared_data("ice-287g/participatingAgencies07182025pm.xlsx")
async def test_keyset_pages_walk_the_whole_july_sheet_once(browser: Browser) -> None:
    import re

    from casetracker.auth.actor import Actor
    from casetracker.registry.services import RegistryService
    from tests.conftest import SHARED_DATA

    july = SHARED_DATA / "ice-287g" / "participatingAgencies07182025pm.xlsx"
    await RegistryService(Actor.system()).import_ice_sheet(july)
    await login_as(browser, "oversight")
    seen: list[str] = []
    url: str | None = "/registry/agencies"
    pages = 0
    while url:
        page = await browser.get(url)
        assert page.status_code == 200
        pages += 1
        seen += re.findall(r'href="/registry/agencies/(\d+)"', page.text)
        match = re.search(r'href="([^"]+)" rel="next"', page.text)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert len(seen) == len(set(seen)) == await Agency.count() == 690
    assert pages == 14  # 50 a page
    first = await browser.get("/registry/agencies")
    assert "Last ICE sheet imported: participatingAgencies07182025pm.xlsx" in first.text
    assert "832 added" in first.text
    tx_jem = await Agreement.count().where((Agreement.agency.state == "TX")
                                           & (Agreement.model == "JEM"))
    page = await browser.get("/registry/agreements?state=TX&model=JEM")
    assert page.text.count('href="/registry/agreements/') == tx_jem
    fl_tfm = await Agreement.count().where((Agreement.agency.state == "FL")
                                           & (Agreement.model == "TFM"))
    assert fl_tfm > 50
    page = await browser.get("/registry/agreements?state=FL&model=TFM")
    assert page.text.count('href="/registry/agreements/') == 50
    assert 'rel="next"' in page.text
    page = await browser.get("/registry/agencies?q=sheriff%E2%80%99s+galveston")
    assert "Galveston County Sheriff" in page.text
    # ICE spells Galveston's sheriff both ways; both agencies are found whichever apostrophe
    # is typed, and each agency's page points to the other.
    twins = {int(i) for i in re.findall(r'href="/registry/agencies/(\d+)"', page.text)}
    page = await browser.get("/registry/agencies?q=galveston+sheriff%27s")
    assert {int(i) for i in re.findall(r'href="/registry/agencies/(\d+)"', page.text)} == twins
    assert len(twins) == 2
    first, second = sorted(twins)
    page = await browser.get(f"/registry/agencies/{first}")
    assert "Possibly the same office:" in page.text
    assert f'href="/registry/agencies/{second}"' in page.text
    lee = await Agency.select(Agency.id).where(Agency.name == "Lee County Sheriff's Office").first()
    page = await browser.get(f"/registry/agencies/{lee['id']}")
    assert "Possibly the same office" not in page.text
