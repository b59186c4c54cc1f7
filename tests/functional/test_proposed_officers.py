"""Intake proposes a new registry officer from triage when the officer is not in the registry;
a supervisor confirms it or merges it with the officer already there. Audited."""

from __future__ import annotations

import re
from typing import Any

from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Case, CaseOfficer
from casetracker.registry.tables import Officer
from tests.conftest import Browser, login_as
from tests.factories_cases import make_case
from tests.factories_registry import make_agency, make_agreement, make_designation, make_officer


async def _actions(**where: Any) -> list[str]:
    query = AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return [row["action"] for row in await query]


async def _propose(browser: Browser, case: Case, agency: Any) -> int:
    co = await CaseOfficer.select(CaseOfficer.id).where(CaseOfficer.case == case.id).first()
    action = f"/cases/{case.id}/officers/{co['id']}/propose"
    page = (await browser.get(f"/cases/{case.id}")).text
    assert "Not in the registry? Propose a new registry officer" in page
    # Without JavaScript: find the agency first; the name and badge typed are kept.
    found = await browser.post(action, data={
        "propose_name": "Deputy Carl Moss", "propose_badge": "5120",
        "propose_agency_q": "harlow", "_find": "propose_agency"})
    assert found.status_code == 200
    assert 'value="Deputy Carl Moss"' in found.text and 'value="5120"' in found.text
    assert f'name="propose_agency" value="{agency.id}"' in found.text
    saved = await browser.post(action, data={
        "propose_name": "Deputy Carl Moss", "propose_badge": "5120",
        "propose_agency_q": "harlow", "propose_agency_searched": "harlow",
        "propose_agency": str(agency.id)})
    assert saved.status_code == 303
    officer = await Officer.select().where(Officer.name == "Deputy Carl Moss").first()
    assert officer["awaiting_confirmation"] is True
    assert officer["proposed_case_id"] == case.id and officer["badge_number"] == "5120"
    linked = await CaseOfficer.select(CaseOfficer.officer).where(CaseOfficer.id == co["id"]).first()
    assert linked["officer"] == officer["id"]
    page = (await browser.get(f"/cases/{case.id}")).text
    assert "New registry officer, awaiting a supervisor's confirmation" in page
    return int(officer["id"])


async def test_intake_proposes_and_a_supervisor_confirms(new_browser: Any) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    case = await make_case(status="in_triage", officers=[{"name": "Moss", "badge_number": "5120"}])
    intake = new_browser()
    await login_as(intake, "intake")
    officer_id = await _propose(intake, case, agency)
    assert (await intake.get("/registry/proposed-officers")).status_code == 403
    assert "case.officer_proposed" in await _actions(case_id=case.id)

    supervisor = new_browser("198.51.100.20")
    await login_as(supervisor, "supervisor")
    listing = (await supervisor.get("/registry/officers")).text
    assert "1 officer proposed at triage awaits confirmation" in listing
    page = (await supervisor.get("/registry/proposed-officers")).text
    assert "Deputy Carl Moss" in page and case.tracking_number in page
    assert (await supervisor.post(f"/registry/proposed-officers/{officer_id}/confirm",
                                  data={})).status_code == 303
    row = await Officer.select(Officer.awaiting_confirmation).where(
        Officer.id == officer_id).first()
    assert row["awaiting_confirmation"] is False
    assert "No officer awaits confirmation." in (
        await supervisor.get("/registry/proposed-officers")).text
    assert "registry.officer.confirmed" in await _actions(object_id=str(officer_id))


async def test_a_supervisor_merges_a_proposal_with_the_registry_officer(new_browser: Any
                                                                      ) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    agreement = await make_agreement(agency, model="TFM")
    existing = await make_officer(agency, name="Carl Moss", badge_number="5120")
    await make_designation(existing, agreement)
    case = await make_case(status="in_triage", officers=[{"name": "", "badge_number": ""}])
    intake = new_browser()
    await login_as(intake, "intake")
    proposed = await _propose(intake, case, agency)
    row = await Case.select(Case.ice_notification_required).where(Case.id == case.id).first()
    assert row["ice_notification_required"] is False  # nobody designated named yet

    supervisor = new_browser("198.51.100.20")
    await login_as(supervisor, "supervisor")
    page = (await supervisor.get("/registry/proposed-officers")).text
    # The registry officer with the same badge is offered.
    assert re.search(rf'name="into_choice" value="{existing.id}"> Carl Moss, badge 5120', page)
    merged = await supervisor.post(f"/registry/proposed-officers/{proposed}/merge",
                                   data={"into_choice": str(existing.id)})
    assert merged.status_code == 303
    assert await Officer.select().where(Officer.id == proposed).first() is None
    co = await CaseOfficer.select(CaseOfficer.officer).where(CaseOfficer.case == case.id).first()
    assert co["officer"] == existing.id
    row = await Case.select(Case.ice_notification_required, Case.ice_notification_due_at).where(
        Case.id == case.id).first()
    assert row["ice_notification_required"] is True and row["ice_notification_due_at"]
    assert "case.officer_merged" in await _actions(case_id=case.id)
    assert "registry.officer.merged" in await _actions(object_id=str(existing.id))


async def test_proposing_needs_a_name_and_an_agency(browser: Browser) -> None:
    case = await make_case(status="in_triage", officers=[{"name": "", "badge_number": ""}])
    co = await CaseOfficer.select(CaseOfficer.id).where(CaseOfficer.case == case.id).first()
    await login_as(browser, "intake")
    await browser.get(f"/cases/{case.id}")
    response = await browser.post(f"/cases/{case.id}/officers/{co['id']}/propose",
                                  data={"propose_name": "", "propose_badge": "9"})
    assert response.status_code == 422
    assert "Enter the officer&#39;s name as far as it is known." in response.text
    assert "Choose the officer&#39;s agency." in response.text
    assert await Officer.count() == 0
