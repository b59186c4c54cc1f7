"""A person's calendar feed (iCalendar, RFC 5545): the running clocks of their cases and their
open tasks with a due date, for Outlook or Google Calendar. Fetched through the secret link on
the account page (``accounts.preferences``), without signing in; each fetch is audited.

Clocks are 15-minute events at the moment they fall due; tasks are all-day events on their due
day. UIDs are stable, so a calendar moves an event whose deadline changed instead of adding a
second one, and drops the events of clocks that stopped (met) or tasks done.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Response

from casetracker.accounts.preferences import user_for_calendar_token
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.guards import PUBLIC
from casetracker.cases.deadlines import Deadline, clock_due_labels, deadlines_for
from casetracker.errors import NotFound
from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _


def build_calendar(items: list[Deadline], *, owner: str, now: datetime) -> bytes:
    from icalendar import Calendar, Event  # only the feed needs it

    settings = get_settings()
    base = settings.base_url.rstrip("/")
    calendar = Calendar()
    calendar.add("prodid", "-//casetracker//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Case deadlines: %(name)s", name=owner))
    calendar.add("x-wr-timezone", settings.timezone)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    labels = clock_due_labels()
    for item in items:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", now)
        if item.key == "task":
            assert item.due_on is not None
            event.add("summary", _("Task: %(title)s (%(number)s)", title=item.title,
                                   number=item.tracking_number))
            event.add("dtstart", item.due_on)
            event.add("dtend", item.due_on + timedelta(days=1))
            url = f"{base}/cases/{item.case_id}#task-{item.item_id}"
        else:
            assert item.due_at is not None
            event.add("summary", _("%(clock)s: %(number)s", clock=labels[item.key],
                                   number=item.tracking_number))
            event.add("dtstart", item.due_at.astimezone(UTC))
            event.add("dtend", item.due_at.astimezone(UTC) + timedelta(minutes=15))
            url = f"{base}/cases/{item.case_id}"
        event.add("url", url)
        event.add("description", url)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


@get("/calendar/{token:str}", name="calendar.feed", include_in_schema=False,
     opt={PUBLIC: True, "skip_session": True})
async def calendar_feed(request: Request[Any, Any, Any], token: FromPath[str]) -> Response:
    if not token.endswith(".ics"):
        raise NotFound("There is no such calendar.")
    user = await user_for_calendar_token(token[: -len(".ics")])
    actor = Actor(id=user["id"], label=user["email"], role=user["role"], name=user["name"])
    items = await deadlines_for(actor)
    await audit.record("calendar.feed", actor=actor, object_type="user", object_id=user["id"],
                       details={"events": len(items)})
    body = build_calendar(items, owner=user["name"], now=datetime.now(UTC))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, no-store",
                             "Content-Disposition": 'inline; filename="deadlines.ics"'})
