"""Tasks: given to any staff member who may see the case (the policy module decides), with a due
date; they are told, see it in their queue, and may mark it done; each step audited."""

from __future__ import annotations

import re
from typing import Any

from casetracker.accounts.tables import Notification
from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Task
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_cases import make_case
from tests.functional.test_cases_queues import queue


def assignee_choices(page: str) -> list[str]:
    select = page.split('id="add_task-task_assignee"')[1].split("</select>")[0]
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select)


async def test_a_task_goes_to_anyone_who_may_see_the_case(new_browser: Any) -> None:
    lead = await make_user("investigator", name="Lena Lead")
    await make_user("investigator", name="Otto Outsider")
    await make_user("intake", name="Ines Intake")
    analyst = await make_user("oversight", name="Ada Analyst")
    case = await make_case(status="under_investigation", lead_investigator=lead.id,
                           tracking_number="CT-T-0001")
    supervisor_b = new_browser("198.51.100.41")
    await login_as(supervisor_b, "supervisor", name="Sam Supervisor")

    page = (await supervisor_b.get(f"/cases/{case.id}")).text
    names = assignee_choices(page)
    assert "Lena Lead (Investigator)" in names and "Ada Analyst (Oversight staff)" in names
    assert "Sam Supervisor (Supervisor)" in names
    # an investigator who does not lead the case, and intake (the case left triage), may not
    # see it: they are not offered
    assert not any("Otto" in n or "Ines" in n for n in names)

    # The form refuses someone the case is hidden from, keeping what was typed.
    outsider = await make_user("investigator", name="Olga Other")
    response = await supervisor_b.submit(f"/cases/{case.id}", f"/cases/{case.id}/tasks", data={
        "task_title": "Compare the CAD log", "task_assignee": str(outsider.id),
        "task_due_on": "2026-12-18"})
    assert response.status_code == 422
    assert "only go to a staff member who may see this case" in response.text
    assert 'value="Compare the CAD log"' in response.text
    assert await Task.count().where(Task.case == case.id) == 0

    response = await supervisor_b.submit(f"/cases/{case.id}", f"/cases/{case.id}/tasks", data={
        "task_title": "Compare the CAD log", "task_assignee": str(analyst.id),
        "task_due_on": "2026-12-18"})
    assert response.status_code == 303
    page = (await supervisor_b.get(f"/cases/{case.id}")).text
    tasks = page.split('id="tasks"')[1].split("</section>")[0]
    assert "Compare the CAD log" in tasks and "December 18, 2026" in tasks
    assert "for Ada Analyst" in tasks
    task = await Task.objects().where(Task.case == case.id).first()
    event = await AuditEvent.select().where(AuditEvent.action == "case.task_added").first()
    assert event["case_id"] == case.id and str(analyst.id) in str(event["details"])
    notes = await Notification.select().where(Notification.user == analyst.id)
    assert len(notes) == 1
    assert notes[0]["message"] == ("Sam Supervisor gave you a task on case CT-T-0001: "
                                   "Compare the CAD log (due December 18, 2026)")
    assert notes[0]["link"] == f"/cases/{case.id}#task-{task.id}"

    # The analyst sees it in their queue and marks it done from the case page.
    analyst_b = new_browser("198.51.100.42")
    await login_as(analyst_b, "oversight", email="analyst2@example.org")  # someone else
    assert queue((await analyst_b.get("/dashboard")).text, "tasks")[0] == 0
    ada_b = new_browser("198.51.100.43")
    from tests.factories import DEFAULT_PASSWORD

    await ada_b.login(analyst.email, DEFAULT_PASSWORD)
    dashboard = (await ada_b.get("/dashboard")).text
    count, link, _label = queue(dashboard, "tasks")
    assert count == 1 and link == "/tasks"
    assert "Compare the CAD log" in (await ada_b.get("/tasks")).text
    case_page = (await ada_b.get(f"/cases/{case.id}")).text
    assert f'/cases/{case.id}/tasks/{task.id}/complete' in case_page
    response = await ada_b.submit(f"/cases/{case.id}",
                                  f"/cases/{case.id}/tasks/{task.id}/complete")
    assert response.status_code == 303
    assert (await Task.objects().where(Task.id == task.id).first()).done_at is not None
    done = await AuditEvent.select().where(AuditEvent.action == "case.task_completed").first()
    assert done["actor_label"] == analyst.email
    assert queue((await ada_b.get("/dashboard")).text, "tasks")[0] == 0
    assert "You have no open task." in (await ada_b.get("/tasks")).text


async def test_a_task_on_a_hidden_case_cannot_be_completed(new_browser: Any) -> None:
    lead = await make_user("investigator")
    case = await make_case(status="under_investigation", lead_investigator=lead.id)
    task = Task(case=case.id, title="Visit the scene", assignee=lead.id)
    await task.save()
    other_b = new_browser("198.51.100.44")
    await login_as(other_b, "investigator")
    await other_b.get("/dashboard")
    response = await other_b.post(f"/cases/{case.id}/tasks/{task.id}/complete")
    assert response.status_code == 404
    assert (await Task.objects().where(Task.id == task.id).first()).done_at is None
