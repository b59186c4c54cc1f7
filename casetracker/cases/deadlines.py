"""A person's deadlines: the running clocks of the cases they must act on and the due dates of
their open tasks. The daily digest (cases/jobs.py) and the calendar feed (calendar_feed.py)
both read them from here.

Whose clocks: the cases a person leads (every running clock), and for intake staff the triage
clock of every complaint waiting in triage. Whose tasks: those given to them, still open, with a
due date. Everything is limited to the cases the person may see (``auth.policies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from casetracker import db
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.cases.listing import CLOCKS
from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _

MAX_ITEMS = 500


def clock_due_labels() -> dict[str, str]:
    return {
        "triage": _("Triage due"),
        "ice_notification": _("ICE notification due"),
        "resolution": _("Resolution due"),
        "results": _("Results to ICE due"),
    }


@dataclass(frozen=True)
class Deadline:
    key: str  # a clock's key, or "task"
    case_id: int
    tracking_number: str
    due_at: datetime | None = None  # a clock: a moment
    due_on: date | None = None  # a task: a day
    title: str = ""  # a task's title
    item_id: int = 0  # the task's id (clocks: 0)

    @property
    def uid(self) -> str:
        """Stable across feeds and digests (a calendar updates the event, never doubles it)."""
        if self.key == "task":
            return f"task-{self.item_id}@casetracker"
        return f"case-{self.case_id}-{self.key}@casetracker"


def _as_datetime(value: Any) -> datetime | None:
    from casetracker.cases.listing import _as_datetime as parse

    return parse(value)


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def deadlines_for(actor: Actor, *, until: datetime | None = None,
                        until_day: date | None = None) -> list[Deadline]:
    """The person's running deadlines, soonest first (overdue ones included). ``until`` (a
    moment) and ``until_day`` (its local day, for tasks) leave out what falls later."""
    visibility = policies.case_visibility_filter(actor)
    visible = QueryString("1 = 1") if visibility is None else QueryString(
        "({})", visibility.querystring)
    me = actor.id or 0
    engine = db.current_engine()
    items: list[Deadline] = []
    for key, due, done, extra in CLOCKS:
        whose = QueryString("ct_case.lead_investigator = {}", me)
        if key == "triage" and actor.role == "intake":
            whose = QueryString("(ct_case.lead_investigator = {} OR ct_case.status IN "
                                "('received', 'in_triage'))", me)
        until_sql = QueryString(f"ct_case.{due} < {{}}", until) if until else \
            QueryString("1 = 1")
        rows = await engine.run_querystring(QueryString(
            f"SELECT ct_case.id, ct_case.tracking_number, ct_case.{due} AS due_at "  # noqa: S608
            f"FROM ct_case WHERE {{}} AND ct_case.{done} IS NULL AND ct_case.{due} IS NOT NULL "
            f"AND {extra} AND {{}} AND {{}} ORDER BY ct_case.{due} LIMIT {{}}",
            whose, until_sql, visible, MAX_ITEMS))
        items += [Deadline(key, int(r["id"]), r["tracking_number"],
                           due_at=_as_datetime(r["due_at"])) for r in rows or ()]
    until_task = QueryString("case_task.due_on <= {}", until_day) if until_day else \
        QueryString("1 = 1")
    rows = await engine.run_querystring(QueryString(
        'SELECT case_task.id, case_task.title, case_task.due_on, case_task."case" AS case_id, '
        "ct_case.tracking_number FROM case_task "
        'JOIN ct_case ON ct_case.id = case_task."case" '
        "WHERE case_task.assignee = {} AND case_task.done_at IS NULL "
        "AND case_task.due_on IS NOT NULL AND {} AND {} "
        "ORDER BY case_task.due_on, case_task.id LIMIT {}",
        me, until_task, visible, MAX_ITEMS))
    items += [Deadline("task", int(r["case_id"]), r["tracking_number"],
                       due_on=_as_date(r["due_on"]), title=r["title"], item_id=int(r["id"]))
              for r in rows or ()]
    tz = ZoneInfo(get_settings().timezone)

    def order(item: Deadline) -> tuple[Any, ...]:
        # by local day; that day's clocks (by time) before its tasks
        day = item.due_at.astimezone(tz).date() if item.due_at else item.due_on or date.max
        return (day, item.due_at is None, item.due_at or datetime.min.replace(tzinfo=UTC),
                item.case_id, item.key, item.item_id)

    return sorted(items, key=order)
