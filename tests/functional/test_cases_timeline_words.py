"""Words, not codes: the case page's timeline and contact panel say what happened in sentences
("ICE notification due Monday, December 7, 2026, 9:12 AM EST", "Racial profiling", people's
names), never stored values (``due_at: 2026-…``, ``racial_profiling``, ids)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from casetracker.cases.tables import Case
from casetracker.intake.tables import ComplainantContact
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_cases import make_case, received


def section(page: str, anchor: str) -> str:
    body = page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


async def test_timeline_and_contact_in_words(new_browser: Any) -> None:
    supervisor_b = new_browser("198.51.100.91")
    await login_as(supervisor_b, "supervisor", name="Sam Supervisor")
    investigator = await make_user("investigator", name="Ivan Investigator")
    case = await make_case(status="in_triage", tracking_number="CT-W-0001")
    await Case.update({Case.ice_notification_required: True,
                       Case.ice_notification_due_at: received(2026, 12, 7, 9, 12)}).where(
        Case.id == case.id)
    await ComplainantContact(case=case.id, name="María Hernández", email="maria@example.net",
                             preferred_language="es", preferred_contact="email").save()
    url = f"/cases/{case.id}"

    assert (await supervisor_b.submit(url, f"{url}/allegations", data={
        "allegation_type": "racial_profiling", "protected_characteristic": "ethnicity",
        "description": "Asked for papers because of his accent."})).status_code == 303
    response = await supervisor_b.submit(url, f"{url}/referrals", data={
        "body": "ice_officer", "sent_on": "2026-12-02", "sent_time": "10:30",
        "reference_number": "OPR-88", "is_ice_notification": "on"})
    assert response.status_code == 303, re.findall(r'field-error[^>]*>(.*?)</p>', response.text)
    assert (await supervisor_b.submit(url, f"{url}/open")).status_code == 303
    assert (await supervisor_b.submit(f"{url}/assign", f"{url}/assign", data={
        "investigator": str(investigator.id)})).status_code == 303
    assert (await supervisor_b.submit(url, f"{url}/tasks", data={
        "task_title": "Request the dash-camera video", "task_due_on": "2026-12-09",
        "task_assignee": str(investigator.id)})).status_code == 303

    page = (await supervisor_b.get(url)).text
    timeline = section(page, "timeline")
    assert "ICE notification due Monday, December 7, 2026, 9:12 AM EST" in timeline
    assert "ICE notified Wednesday, December 2, 2026, 10:30 AM EST" in timeline
    assert "Racial profiling / bias (ethnicity)" in timeline
    assert "to Ivan Investigator" in timeline
    assert ("\u201cRequest the dash-camera video\u201d; for Ivan Investigator; due Wednesday, "
            "December 9, 2026") in timeline
    assert "from in triage to open, awaiting assignment" in timeline
    for code in ("due_at", "racial_profiling", "investigator_id", "assignee_id", "to_status",
                 "+00:00", "ice_officer"):
        assert code not in timeline, code
    contact = section(page, "contact")
    assert "Spanish, by e-mail" in contact and "es · email" not in contact
    assert date(2026, 12, 9)  # (the task's day, in words above)
