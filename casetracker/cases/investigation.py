"""Investigation: notes, tasks, interviews, and the investigator's recommended findings, then
submitting them for review."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.cases import rules
from casetracker.cases.casework import CaseWork
from casetracker.cases.tables import Allegation, CaseNote, Interview, Task
from casetracker.errors import NotFound, ValidationFailed
from casetracker.web.i18n import gettext as _


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

    async def add_task(self, case_id: int, title: str, due_on: date | None = None,
                       assignee_id: int | None = None) -> int:
        title = (title or "").strip()
        if not title:
            raise ValidationFailed({"task_title": _("Say what the task is.")})
        async with db.write_transaction():
            case = await self._act(case_id, "add_task", _("add tasks"))
            assignee = assignee_id or case["lead_investigator"] or self.actor.id
            rows = await Task.insert(Task(case=case_id, title=title, due_on=due_on,
                                          assignee=assignee, created_by=self.actor.id,
                                          created_at=self.now())).returning(Task.id)
            await self._audit("case.task_added", case_id, "task", rows[0]["id"], title=title,
                              due_on=due_on)
            return rows[0]["id"]

    async def complete_task(self, case_id: int, task_id: int) -> None:
        async with db.write_transaction():
            await self._act(case_id, "complete_task", _("complete tasks"))
            task = await Task.select().where((Task.id == task_id) & (Task.case == case_id)).first()
            if task is None:
                raise NotFound(_("There is no such task on this case."))
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
