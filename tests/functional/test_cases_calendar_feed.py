"""The calendar feed: a person's case deadlines and tasks as iCalendar, behind a secret link on
their account page; a new link or turning it off makes the old link answer 404."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Case, Task
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_cases import make_case, received

LINK = re.compile(r'id="calendar-link" readonly value="http://[^/"]+(/calendar/[^"]+\.ics)"')


async def test_calendar_feed_behind_a_revocable_secret_link(new_browser: Any) -> None:
    me_b = new_browser("198.51.100.71")
    me = await login_as(me_b, "investigator", name="Ivan Investigator")
    other = await make_user("investigator")
    mine = await make_case(status="under_investigation", lead_investigator=me.id,
                           tracking_number="CT-C-0001")
    await Case.update({Case.resolution_due_at: received(2026, 12, 7, 9, 12),
                       Case.ice_notification_required: True,
                       Case.ice_notification_due_at: received(2026, 12, 4, 16, 0)}).where(
        Case.id == mine.id)
    met = await make_case(status="under_investigation", lead_investigator=me.id,
                          tracking_number="CT-C-0002")
    await Case.update({Case.ice_notification_required: True,
                       Case.ice_notification_due_at: received(2026, 12, 1, 9, 0),
                       Case.ice_notified_at: received(2026, 11, 30, 9, 0)}).where(
        Case.id == met.id)
    theirs = await make_case(status="under_investigation", lead_investigator=other.id,
                             tracking_number="CT-C-0003")
    task = Task(case=mine.id, title="Request the dash-camera video", assignee=me.id,
                due_on=date(2026, 12, 9))
    await task.save()
    await Task(case=mine.id, title="No date", assignee=me.id).save()
    await Task(case=theirs.id, title="Not mine", assignee=other.id,
               due_on=date(2026, 12, 9)).save()

    page = (await me_b.get("/account")).text
    assert "Make my calendar link" in page and not LINK.search(page)
    assert (await me_b.submit("/account", "/account/calendar", data={"action": "new"})
            ).status_code == 303
    page = (await me_b.get("/account")).text
    link = LINK.search(page).group(1)
    assert str(me.email) not in link

    anonymous = new_browser("198.51.100.72")  # a calendar program: no session
    response = await anonymous.get(link)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = {str(e.get("summary")): e for e in calendar.walk("VEVENT")}
    # the ICE notice of CT-C-0002 was made: that clock stopped, only its resolution runs
    assert set(events) == {"ICE notification due: CT-C-0001", "Resolution due: CT-C-0001",
                           "Resolution due: CT-C-0002",
                           "Task: Request the dash-camera video (CT-C-0001)"}
    ny = ZoneInfo("America/New_York")
    resolution = events["Resolution due: CT-C-0001"].decoded("dtstart")
    assert resolution.astimezone(ny) == datetime(2026, 12, 7, 9, 12, tzinfo=ny)
    task_event = events["Task: Request the dash-camera video (CT-C-0001)"]
    assert task_event.decoded("dtstart") == date(2026, 12, 9)
    assert str(task_event.get("uid")) == f"task-{task.id}@casetracker"
    assert str(task_event.get("url")).endswith(f"/cases/{mine.id}#task-{task.id}")
    assert await AuditEvent.count().where(AuditEvent.action == "calendar.feed") == 1

    # A new link: the old one is gone, the new one works.
    await me_b.submit("/account", "/account/calendar", data={"action": "new"})
    new_link = LINK.search((await me_b.get("/account")).text).group(1)
    assert new_link != link
    assert (await anonymous.get(link)).status_code == 404
    assert (await anonymous.get(new_link)).status_code == 200
    # Guesses and someone else's id with my secret do not work.
    forged = new_link.replace(f"/calendar/{me.id}-", f"/calendar/{other.id}-")
    assert (await anonymous.get(forged)).status_code == 404
    assert (await anonymous.get("/calendar/1-abc.ics")).status_code == 404
    # Turned off: 404, and the page offers to make one again.
    await me_b.submit("/account", "/account/calendar", data={"action": "off"})
    assert (await anonymous.get(new_link)).status_code == 404
    assert "Make my calendar link" in (await me_b.get("/account")).text
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.action.like("account.calendar%")).order_by(AuditEvent.id)]
    assert actions == ["account.calendar_link_created", "account.calendar_link_created",
                       "account.calendar_link_revoked"]
