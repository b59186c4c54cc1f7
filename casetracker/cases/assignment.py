"""Assignment: a supervisor gives a case its lead investigator (and reassigns it, with a reason),
seeing each investigator's open and overdue caseload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.auth import policies
from casetracker.cases import rules
from casetracker.cases.casework import CaseWork
from casetracker.cases.tables import Case, CaseAssignment
from casetracker.errors import ValidationFailed
from casetracker.web.i18n import gettext as _


@dataclass
class CaseWorkload:
    user_id: int
    name: str
    email: str
    open_cases: int = 0
    overdue_cases: int = 0



class AssignmentVerbs(CaseWork):
    """Assigning and reassigning the lead investigator."""

    async def investigator_workloads(self) -> list[CaseWorkload]:
        """Every active investigator with their open caseload and overdue count."""
        users = await (User.select(User.id, User.name, User.email)
                       .where((User.role == "investigator") & (User.active == True))  # noqa: E712
                       .order_by(User.name, User.id))
        loads = {u["id"]: CaseWorkload(u["id"], u["name"], u["email"]) for u in users}
        if not loads:
            return []
        rows = await Case.select(
            Case.lead_investigator, Case.resolution_due_at, Case.ice_notification_required,
            Case.ice_notification_due_at, Case.ice_notified_at,
        ).where(Case.lead_investigator.is_in(list(loads))
                & Case.status.is_in(sorted(rules.ACTIVE_STATES)))
        now = self.now()
        for row in rows:
            load = loads[row["lead_investigator"]]
            load.open_cases += 1
            if _is_overdue(row, now):
                load.overdue_cases += 1
        return list(loads.values())

    async def assign_investigator(self, case_id: int, investigator_id: int | None,
                                  reason: str = "") -> None:
        """First assignment moves an open case under investigation; reassignment (any working
        state) needs a reason. The investigator is notified in the app and by e-mail."""
        async with db.write_transaction():
            case = await self._load(case_id, lock=True)
            reassign = case["lead_investigator"] is not None
            if reassign:
                policies.ensure_may_act_on_case(self.actor, case, "reassign",
                                                _("reassign the case"))
            else:
                policies.ensure_may_transition(self.actor, case, "assign")
            rules.require_assignment(case["lead_investigator"], investigator_id, reason)
            investigator = await User.select(User.id, User.name, User.role, User.active).where(
                User.id == investigator_id).first()
            if investigator is None or not investigator["active"] or \
                    investigator["role"] != "investigator":
                raise ValidationFailed({"investigator": _(
                    "Choose an active investigator from the list.")})
            values: dict[str, Any] = {"lead_investigator": investigator_id}
            if not reassign:
                values["status"] = rules.TRANSITIONS["assign"].target
            await self._update_case(case_id, values)
            await CaseAssignment.insert(CaseAssignment(
                case=case_id, investigator=investigator_id, assigned_by=self.actor.id,
                assigned_at=self.now(), reason=reason.strip()))
            await self._audit("case.reassigned" if reassign else "case.assigned", case_id,
                              investigator_id=investigator_id,
                              investigator=investigator["name"],
                              previous_investigator_id=case["lead_investigator"],
                              reason=reason.strip())
            message = _("You are now the lead investigator on case %(number)s.",
                        number=case["tracking_number"])
            if reassign and reason.strip():
                message += " " + _("Reason: %(reason)s", reason=reason.strip())
            await self._notify(investigator_id, message, f"/cases/{case_id}",
                               _("Case %(number)s assigned to you",
                                 number=case["tracking_number"]), kind="case_assigned")
            if reassign and case["lead_investigator"]:
                await self._notify(
                    case["lead_investigator"],
                    _("Case %(number)s has been reassigned to %(name)s.",
                      number=case["tracking_number"], name=investigator["name"]),
                    "", _("Case %(number)s reassigned", number=case["tracking_number"]),
                    kind="case_reassigned")


def _is_overdue(row: dict[str, Any], now: datetime) -> bool:
    if row.get("resolution_due_at") and row["resolution_due_at"] < now:
        return True
    return bool(row.get("ice_notification_required") and row.get("ice_notified_at") is None
                and row.get("ice_notification_due_at") and row["ice_notification_due_at"] < now)

