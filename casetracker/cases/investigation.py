"""Investigation: notes, tasks, interviews, and the investigator's recommended findings, then
submitting them for review."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.cases import rules
from casetracker.cases.casework import CaseWork
from casetracker.cases.tables import Allegation, CaseNote, Interview, Task
from casetracker.errors import NotFound, ValidationFailed
from casetracker.web.i18n import format_day
from casetracker.web.i18n import gettext as _


def _as_actor(user: dict[str, Any]) -> Actor:
    return Actor(id=user["id"], label=user["email"], role=user["role"], name=user["name"])


class InvestigationVerbs(CaseWork):
    """The investigator's work on a case, up to submitting findings."""

    async def add_note(self, case_id: int, body: str) -> int:
        body = (body or "").strip()
        if not body:
            raise ValidationFailed({"note_body": _("Write the note before saving it.")})
        async with db.write_transaction():
            await self._act(case_id, "add_note", _("add notes"))
            rows = await CaseNote.insert(CaseNote(case=case_id, author=self.actor.id, body=body,
                                                  created_at=self.now())).returning(CaseNote.id)
            await self._audit("case.note_added", case_id, "case_note", rows[0]["id"])
            return rows[0]["id"]

    async def task_assignees(self, case: dict[str, Any]) -> list[dict[str, Any]]:
        """Everyone a task on this case may be given to: active staff who may see it."""
        users = await User.select(User.id, User.name, User.email, User.role).where(
            User.active == True).order_by(User.name, User.id)  # noqa: E712
        return [u for u in users if policies.may_be_given_task(_as_actor(u), case)]

    async def add_task(self, case_id: int, title: str, due_on: date | None = None,
                       assignee_id: int | None = None) -> int:
        """A task with an optional due date, given to a staff member who may see the case (by
        default the lead investigator, else the person adding it); they are told."""
        title = (title or "").strip()
        if not title:
            raise ValidationFailed({"task_title": _("Say what the task is.")})
        async with db.write_transaction():
            case = await self._act(case_id, "add_task", _("add tasks"))
            assignee_id = assignee_id or case["lead_investigator"] or self.actor.id
            assignee = await User.select(User.id, User.name, User.email, User.role).where(
                (User.id == assignee_id) & (User.active == True)).first()  # noqa: E712
            if assignee is None or not policies.may_be_given_task(_as_actor(assignee), case):
                raise ValidationFailed({"task_assignee": _(
                    "Choose someone from the list: a task can only go to a staff member who "
                    "may see this case.")})
            rows = await Task.insert(Task(case=case_id, title=title, due_on=due_on,
                                          assignee=assignee_id, created_by=self.actor.id,
                                          created_at=self.now())).returning(Task.id)
            await self._audit("case.task_added", case_id, "task", rows[0]["id"], title=title,
                              due_on=due_on, assignee_id=assignee_id,
                              assignee=assignee["name"])
            if assignee_id != self.actor.id:
                due = (_(" (due %(date)s)", date=format_day(due_on)) if due_on else "")
                await self._notify(
                    assignee["id"],
                    _("%(name)s gave you a task on case %(number)s: %(title)s%(due)s",
                      name=self.actor.name, number=case["tracking_number"], title=title,
                      due=due),
                    f"/cases/{case_id}#task-{rows[0]['id']}",
                    _("New task on case %(number)s", number=case["tracking_number"]),
                    kind="task_assigned")
            return rows[0]["id"]

    async def complete_task(self, case_id: int, task_id: int) -> None:
        async with db.write_transaction():
            case = await self._load(case_id, lock=True)
            policies.ensure_may_view_case(self.actor, case)
            task = await Task.select().where((Task.id == task_id) & (Task.case == case_id)).first()
            if task is None:
                raise NotFound(_("There is no such task on this case."))
            if not policies.may_complete_task(self.actor, case, task):
                # the usual refusal, with the rules' sentence for the wrong state
                policies.ensure_may_act_on_case(self.actor, case, "complete_task",
                                                _("complete tasks"))
            if task["done_at"] is None:
                await Task.update({Task.done_at: self.now()}).where(Task.id == task_id)
                await self._audit("case.task_completed", case_id, "task", task_id,
                                  title=task["title"])

    async def record_interview(self, case_id: int, *, interviewee: str, interviewee_role: str,
                               held_at: datetime | None, language: str = "",
                               interpreter: str = "", summary: str = "") -> int:
        errors = {}
        if not (interviewee or "").strip():
            errors["interviewee"] = _("Say who was interviewed.")
        if interviewee_role not in ("complainant", "witness", "officer", "other"):
            errors["interviewee_role"] = _("Choose who the person is in this case.")
        if held_at is None:
            errors["held_at"] = _("Give the date and time of the interview.")
        elif held_at > self.now() + timedelta(minutes=5):
            errors["held_at"] = _("The interview cannot be in the future.")
        if errors:
            raise ValidationFailed(errors)
        async with db.write_transaction():
            await self._act(case_id, "record_interview", _("record interviews"))
            rows = await Interview.insert(Interview(
                case=case_id, interviewee=interviewee.strip(), interviewee_role=interviewee_role,
                held_at=held_at, language=language.strip(), interpreter=interpreter.strip(),
                summary=summary.strip(), recorded_by=self.actor.id, created_at=self.now(),
            )).returning(Interview.id)
            await self._audit("case.interview_recorded", case_id, "interview", rows[0]["id"],
                              interviewee=interviewee.strip(), role=interviewee_role,
                              language=language.strip(), interpreter=interpreter.strip())
            return rows[0]["id"]

    async def _allegation_on(self, case_id: int, allegation_id: int) -> dict[str, Any]:
        allegation = await Allegation.select().where(
            (Allegation.id == allegation_id) & (Allegation.case == case_id)).first()
        if allegation is None:
            raise NotFound(_("There is no such allegation on this case."))
        return allegation

    async def record_recommended_finding(self, case_id: int, allegation_id: int, *, finding: str,
                                         rationale: str, standard: str = "preponderance",
                                         action: str = "") -> None:
        rules.validate_finding(finding)
        rules.validate_standard(standard)
        rationale = rules.require_reason(rationale, "rationale",
                                         _("Explain the reasons for this finding."))
        async with db.write_transaction():
            await self._act(case_id, "record_recommended_finding",
                            _("record recommended findings"))
            allegation = await self._allegation_on(case_id, allegation_id)
            values: dict[Any, Any] = {
                Allegation.recommended_finding: finding,
                Allegation.recommended_rationale: rationale,
                Allegation.recommended_standard: standard,
                Allegation.recommended_action: action.strip(),
                Allegation.recommended_at: self.now(),
                Allegation.recommended_by: self.actor.id,
            }
            if allegation["final_finding"] and allegation["recommended_finding"] != finding:
                # The reviewer accepted another recommendation: it must be reviewed again.
                values.update({Allegation.final_finding: "", Allegation.final_at: None,
                                Allegation.final_by: None, Allegation.final_rationale: ""})
            await Allegation.update(values).where(Allegation.id == allegation_id)
            await self._audit("case.finding_recommended", case_id, "allegation", allegation_id,
                              finding=finding, standard=standard, action=action.strip())

    async def submit_findings(self, case_id: int) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "submit_findings")
            rules.require_submit_findings(await self._allegations(case_id))
            await self._update_case(case_id, {"status": step.target})
            await self._audit("case.findings_submitted", case_id, from_status=case["status"],
                              to_status=step.target)
            from casetracker.accounts.notifications import notify_many, staff_with_role

            await notify_many(
                await staff_with_role("supervisor"),
                _("%(name)s submitted findings on case %(number)s for review.",
                  name=self.actor.name, number=case["tracking_number"]),
                f"/cases/{case_id}#allegations",
                subject=_("Findings on case %(number)s await review",
                          number=case["tracking_number"]),
                kind="findings_submitted", skip=self.actor.id)
