"""Work that waits for the signed-in person: the dashboard's queues, each a count and a link to
the list that shows it.

Which queues a person has follows from what they may do (``auth.policies``): supervisors review
findings, approvers approve others' recommendations, investigators get their returned and
not-yet-started cases, everyone gets their open tasks and the complainants' unread follow-ups on
the cases they must act on. All counts are one statement of indexed sub-queries (no query per
case), and every case condition is applied inside the person's case visibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from piccolo.querystring import QueryString

from casetracker import db
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.auth.permissions import Permission as P
from casetracker.settings import get_settings, local_today
from casetracker.web.i18n import gettext as _

# Queues that are lists of cases (``/cases?queue=<key>``); the others link to their own lists.
CASE_QUEUES = ("not_started", "unread_follow_ups")


# Each queue's count is exact up to this many, then shown as "1000+": the lists behind them
# are exact, and a count of every case in review grows with the archive (issue 17).
QUEUE_COUNT_CAP = 1000


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    count: int
    url: str
    hint: str = ""

    @property
    def more(self) -> bool:
        """The count stopped at QUEUE_COUNT_CAP: there are more."""
        return self.count > QUEUE_COUNT_CAP

    @property
    def shown(self) -> str:
        return f"{QUEUE_COUNT_CAP}+" if self.more else str(self.count)


def queue_labels() -> dict[str, str]:
    return {
        "review": _("Findings awaiting my review"),
        "approval": _("Recommendations awaiting my approval"),
        "returned": _("Returned to me"),
        "not_started": _("Assigned to me, not yet started"),
        "unread_follow_ups": _("Follow-ups from complainants not yet read"),
        "tasks": _("Open tasks assigned to me"),
    }


def _visibility(actor: Actor) -> QueryString:
    visibility = policies.case_visibility_filter(actor)
    return QueryString("1 = 1") if visibility is None else QueryString(
        "({})", visibility.querystring)


def not_started_condition(actor: Actor) -> QueryString:
    """Cases I lead, under investigation, where I have recorded nothing yet (no note, task,
    interview or recommended finding of mine): each NOT EXISTS walks the case's own index."""
    me = actor.id or 0
    return QueryString(
        "(ct_case.status = 'under_investigation' AND ct_case.lead_investigator = {} "
        'AND NOT EXISTS (SELECT 1 FROM case_note WHERE case_note."case" = ct_case.id '
        "AND case_note.author = {}) "
        'AND NOT EXISTS (SELECT 1 FROM case_task WHERE case_task."case" = ct_case.id '
        "AND case_task.created_by = {}) "
        'AND NOT EXISTS (SELECT 1 FROM interview WHERE interview."case" = ct_case.id '
        "AND interview.recorded_by = {}) "
        'AND NOT EXISTS (SELECT 1 FROM allegation WHERE allegation."case" = ct_case.id '
        "AND allegation.recommended_by = {}))",
        me, me, me, me, me,
    )


def unread_follow_ups_condition(actor: Actor) -> QueryString:
    """Cases with a complainant's follow-up nobody has read: those I lead, and, for those who
    triage or assign, those that have no lead yet (within what I may see)."""
    me = actor.id or 0
    takes_unassigned = policies.has_permission(actor, P.CASE_TRIAGE) or \
        policies.has_permission(actor, P.CASE_ASSIGN)
    whose = QueryString("(ct_case.lead_investigator = {} OR ct_case.lead_investigator IS NULL)",
                        me) if takes_unassigned else QueryString(
        "ct_case.lead_investigator = {}", me)
    return QueryString(
        '(ct_case.id IN (SELECT follow_up."case" FROM follow_up '
        "WHERE follow_up.read_at IS NULL) AND {})", whose)


def case_condition(actor: Actor, queue: str) -> QueryString:
    """The ``ct_case`` condition of a case-list queue (visibility is added by the caller)."""
    if queue == "not_started":
        return not_started_condition(actor)
    if queue == "unread_follow_ups":
        return unread_follow_ups_condition(actor)
    raise ValueError(f"not a case queue: {queue!r}")


def _applies(actor: Actor) -> list[str]:
    keys = []
    if policies.has_permission(actor, P.CASE_REVIEW):
        keys.append("review")
    if policies.has_permission(actor, P.RECOMMENDATION_APPROVE):
        keys.append("approval")
    if policies.has_permission(actor, P.CASE_INVESTIGATE):
        keys += ["returned", "not_started"]
    keys += ["unread_follow_ups", "tasks"]
    return keys


async def queues_for(actor: Actor) -> list[Queue]:
    """The person's queues with their counts: one statement."""
    keys = _applies(actor)
    visible = _visibility(actor)
    me = actor.id or 0
    parts: dict[str, QueryString] = {
        "review": QueryString(
            "SELECT 1 FROM ct_case WHERE ct_case.status IN "
            "('findings_submitted', 'under_review') AND {}", visible),
        "approval": QueryString(
            "SELECT 1 FROM recommendation WHERE recommendation.status = 'submitted' "
            "AND recommendation.author <> {}", me),
        "returned": QueryString(
            "SELECT 1 FROM ct_case WHERE ct_case.status = 'returned' "
            "AND ct_case.lead_investigator = {} AND {}", me, visible),
        "not_started": QueryString(
            "SELECT 1 FROM ct_case WHERE {} AND {}", not_started_condition(actor), visible),
        "unread_follow_ups": QueryString(
            "SELECT 1 FROM ct_case WHERE {} AND {}",
            unread_follow_ups_condition(actor), visible),
        "tasks": QueryString(
            "SELECT 1 FROM case_task JOIN ct_case ON ct_case.id = case_task.\"case\" "
            "WHERE case_task.assignee = {} AND case_task.done_at IS NULL AND {}", me, visible),
    }
    # each count stops one past the cap (an index read of at most that many entries)
    chosen = [QueryString("(SELECT COUNT(*) FROM ({} LIMIT {}) AS capped)", parts[k],
                          QUEUE_COUNT_CAP + 1) for k in keys]
    sql = QueryString("SELECT " + ", ".join(f"{{}} AS {k}" for k in keys), *chosen)
    rows = await db.current_engine().run_querystring(sql)
    counts = {k: int(v or 0) for k, v in dict(rows[0]).items()}
    labels = queue_labels()
    urls = {
        "review": "/cases?state=findings_submitted&state=under_review&sort=received_asc",
        "approval": "/recommendations?queue=approval",
        "returned": f"/cases?state=returned&investigator={me}",
        "not_started": "/cases?queue=not_started",
        "unread_follow_ups": "/cases?queue=unread_follow_ups",
        "tasks": "/tasks",
    }
    return [Queue(k, labels[k], counts[k], urls[k]) for k in keys]


async def open_tasks_for(actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
    """My open tasks on the cases I may see, soonest due first (undated last)."""
    visible = _visibility(actor)
    rows = await db.current_engine().run_querystring(QueryString(
        "SELECT case_task.id, case_task.title, case_task.due_on, case_task.created_at, "
        'case_task."case" AS case_id, ct_case.tracking_number, ct_case.status, '
        "ct_user.name AS created_by_name "
        'FROM case_task JOIN ct_case ON ct_case.id = case_task."case" '
        "LEFT JOIN ct_user ON ct_user.id = case_task.created_by "
        "WHERE case_task.assignee = {} AND case_task.done_at IS NULL AND {} "
        "ORDER BY case_task.due_on IS NULL, case_task.due_on, case_task.id LIMIT {}",
        actor.id or 0, visible, limit))
    today = local_today(get_settings())
    tasks = []
    for row in rows or ():
        task = dict(row)
        due = task["due_on"]
        task["due_on"] = date.fromisoformat(str(due)[:10]) if due else None
        task["overdue"] = bool(task["due_on"] and task["due_on"] < today)
        tasks.append(task)
    return tasks
