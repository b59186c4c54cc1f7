"""Many at once: cases chosen in the list are assigned or reassigned to one investigator with a
reason, in one step; each case is audited on its own and the investigator told once."""

from __future__ import annotations

from typing import Any

from casetracker.accounts.tables import Notification
from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Allegation, Case, CaseAssignment
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_cases import make_case


async def test_assign_and_reassign_chosen_cases_in_one_step(new_browser: Any) -> None:
    previous = await make_user("investigator", name="Pia Previous")
    chosen = await make_user("investigator", name="Carl Chosen")
    fresh = await make_case(status="open", tracking_number="CT-B-0001")
    await Allegation(case=fresh.id, allegation_type="force").save()
    moving = await make_case(status="under_investigation", lead_investigator=previous.id,
                             tracking_number="CT-B-0002")
    closed = await make_case(status="closed", tracking_number="CT-B-0003")
    supervisor_b = new_browser("198.51.100.81")
    supervisor = await login_as(supervisor_b, "supervisor")

    listing = (await supervisor_b.get("/cases?sort=received_asc")).text
    assert 'id="bulk-assign"' in listing
    for case in (fresh, moving, closed):
        assert f'name="case" value="{case.id}" form="bulk-assign"' in listing

    # the list's form (GET) opens the step with the chosen cases
    page = await supervisor_b.get(
        f"/cases/bulk-assign?case={fresh.id}&case={moving.id}&case={closed.id}"
        "&back=/cases?sort=received_asc")
    assert page.status_code == 200
    assert "CT-B-0003" in page.text and "cannot be assigned in this state" in page.text
    assert "lead: Pia Previous" in page.text and "Carl Chosen" in page.text

    all_three = {"case": [str(fresh.id), str(moving.id), str(closed.id)],
                 "investigator": str(chosen.id), "reason": "Balancing caseloads.",
                 "back": "/cases?sort=received_asc"}
    response = await supervisor_b.post("/cases/bulk-assign", data=all_three)
    assert response.status_code == 422
    assert "cannot be assigned in their current state: CT-B-0003" in response.text
    assert (await Case.select(Case.status).where(Case.id == fresh.id).first())["status"] == \
        "open"  # all or nothing

    two = {"case": [str(fresh.id), str(moving.id)], "investigator": str(chosen.id),
           "back": "/cases?sort=received_asc"}
    response = await supervisor_b.post("/cases/bulk-assign", data={**two, "reason": ""})
    assert response.status_code == 422
    assert "Give a reason for reassigning" in response.text
    assert f'value="{chosen.id}" checked' in response.text  # the choice is kept

    response = await supervisor_b.post("/cases/bulk-assign",
                                       data={**two, "reason": "Pia is on leave."})
    assert response.status_code == 303
    assert response.headers["location"] == "/cases?sort=received_asc"
    assert "2 cases assigned: CT-B-0001, CT-B-0002." in (
        await supervisor_b.get(response.headers["location"])).text
    rows = {r["id"]: r for r in await Case.select(
        Case.id, Case.status, Case.lead_investigator).where(
        Case.id.is_in([fresh.id, moving.id]))}
    assert rows[fresh.id]["status"] == "under_investigation"
    assert {r["lead_investigator"] for r in rows.values()} == {chosen.id}

    events = await AuditEvent.select(AuditEvent.action, AuditEvent.case_id,
                                     AuditEvent.actor_label, AuditEvent.details).where(
        AuditEvent.action.is_in(["case.assigned", "case.reassigned"])).order_by(AuditEvent.id)
    assert [(e["action"], e["case_id"]) for e in events] == [
        ("case.assigned", fresh.id), ("case.reassigned", moving.id)]
    assert all(e["actor_label"] == supervisor.email for e in events)
    assert "Pia is on leave." in str(events[1]["details"])
    history = await CaseAssignment.select().where(CaseAssignment.case == moving.id)
    assert history[-1]["reason"] == "Pia is on leave."

    told = await Notification.select().where(Notification.user == chosen.id)
    assert len(told) == 1  # once, for both
    assert told[0]["message"] == ("You are now the lead investigator on 2 cases: CT-B-0001, "
                                  "CT-B-0002. Reason: Pia is on leave.")
    moved = await Notification.select().where(Notification.user == previous.id)
    assert len(moved) == 1 and "CT-B-0002" in moved[0]["message"]


async def test_only_those_who_assign_may_bulk_assign(new_browser: Any) -> None:
    investigator_b = new_browser("198.51.100.82")
    me = await login_as(investigator_b, "investigator")
    case = await make_case(status="under_investigation", lead_investigator=me.id)
    listing = (await investigator_b.get("/cases")).text
    assert 'id="bulk-assign"' not in listing and 'form="bulk-assign"' not in listing
    assert (await investigator_b.get(f"/cases/bulk-assign?case={case.id}")).status_code == 403
    response = await investigator_b.post("/cases/bulk-assign", data={
        "case": str(case.id), "investigator": str(me.id), "reason": "x"})
    assert response.status_code == 403
