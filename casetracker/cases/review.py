"""Review: the supervisor reads the submitted findings, records final findings, returns the case
with comments or closes it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from casetracker import db
from casetracker.cases import clocks, rules
from casetracker.cases.casework import CaseWork
from casetracker.cases.tables import Allegation, CaseNote, Task
from casetracker.errors import ValidationFailed
from casetracker.web.i18n import gettext as _


class ReviewVerbs(CaseWork):
    # from InvestigationVerbs, the other half of CaseService
    _allegation_on: Callable[[int, int], Awaitable[dict[str, Any]]]
    """The supervisor's review of submitted findings."""

    async def start_review(self, case_id: int) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "start_review")
            await self._update_case(case_id, {"status": step.target})
            await self._audit("case.review_started", case_id, from_status=case["status"],
                              to_status=step.target)

    async def accept_finding(self, case_id: int, allegation_id: int, *,
                             finding: str | None = None, rationale: str = "") -> None:
        """The reviewer's final finding: the recommendation as it stands, or an edited one
        (which needs its own rationale)."""
        async with db.write_transaction():
            await self._act(case_id, "accept_finding", _("record final findings"))
            allegation = await self._allegation_on(case_id, allegation_id)
            recommended = allegation["recommended_finding"]
            final = finding or recommended
            if not final:
                raise ValidationFailed({"finding": _(
                    "There is no recommended finding to accept: choose the final finding.")})
            rules.validate_finding(final)
            rationale = (rationale or "").strip()
            if final != recommended and not rationale:
                raise ValidationFailed({"rationale": _(
                    "Explain why the final finding differs from the recommended one.")})
            await Allegation.update({
                Allegation.final_finding: final,
                Allegation.final_rationale: rationale or allegation["recommended_rationale"],
                Allegation.final_at: self.now(),
                Allegation.final_by: self.actor.id,
            }).where(Allegation.id == allegation_id)
            await self._audit("case.finding_accepted", case_id, "allegation", allegation_id,
                              finding=final, recommended=recommended,
                              edited=final != recommended)

    async def return_to_investigation(self, case_id: int, comments: str) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "return")
            comments = rules.require_return_comments(comments)
            await self._update_case(case_id, {"status": step.target})
            await CaseNote.insert(CaseNote(
                case=case_id, author=self.actor.id, created_at=self.now(),
                body=_("Returned to investigation: %(comments)s", comments=comments)))
            await self._audit("case.returned", case_id, from_status=case["status"],
                              to_status=step.target, comments=comments)
            if case["lead_investigator"]:
                await self._notify(
                    case["lead_investigator"],
                    _("Case %(number)s was returned to you with comments: %(comments)s",
                      number=case["tracking_number"], comments=comments),
                    f"/cases/{case_id}",
                    _("Case %(number)s returned to investigation",
                      number=case["tracking_number"]), kind="case_returned")

    async def resume_investigation(self, case_id: int) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "resume")
            await self._update_case(case_id, {"status": step.target})
            await self._audit("case.resumed", case_id, from_status=case["status"],
                              to_status=step.target)

    async def close(self, case_id: int, *, close_task_ids: Sequence[int] = ()) -> None:
        """Close the case; the open tasks named in ``close_task_ids`` are marked done with it,
        the others stay open on the case (carried)."""
        async with db.write_transaction():
            case, step = await self._transition(case_id, "close")
            allegations = await self._allegations(case_id)
            rules.require_close(allegations)
            now = self.now()
            if close_task_ids:
                tasks = await Task.select(Task.id, Task.title).where(
                    (Task.case == case_id) & Task.done_at.is_null()
                    & Task.id.is_in(sorted(set(close_task_ids))))
                for task in tasks:
                    await Task.update({Task.done_at: now}).where(Task.id == task["id"])
                    await self._audit("case.task_completed", case_id, "task", task["id"],
                                      title=task["title"], with_closing=True)
            outcome = rules.case_outcome(a["final_finding"] for a in allegations)
            values: dict[str, Any] = {"status": step.target, "resolved_at": now,
                                      "closed_at": now, "outcome": outcome}
            if case["ice_notification_required"]:
                values["results_due_at"] = clocks.results_due(now, self.clock_rules)
            await self._update_case(case_id, values)
            await self._audit("case.closed", case_id, from_status=case["status"],
                              to_status=step.target, outcome=outcome)
