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
from casetracker.web.i18n import ngettext

MAX_BULK = 200


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
                                  reason: str = "", *, notify: bool = True) -> None:
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
            if not notify:
                return
            message = _("You are now the lead investigator on case %(number)s.",
                        number=case["tracking_number"])
            if reassign and reason.strip():
                message += " " + _("Reason: %(reason)s", reason=reason.strip())
            await self._notify(investigator["id"], message, f"/cases/{case_id}",
                               _("Case %(number)s assigned to you",
                                 number=case["tracking_number"]), kind="case_assigned")
            if reassign and case["lead_investigator"]:
                await self._notify(
                    case["lead_investigator"],
                    _("Case %(number)s has been reassigned to %(name)s.",
                      number=case["tracking_number"], name=investigator["name"]),
                    "", _("Case %(number)s reassigned", number=case["tracking_number"]),
                    kind="case_reassigned")


    async def bulk_candidates(self, case_ids: list[int]) -> list[dict[str, Any]]:
        """The chosen cases the actor may see, in the order chosen, each saying whether it can
        be assigned (open), reassigned (under a lead) or neither, with its status."""
        ids = list(dict.fromkeys(case_ids))[:MAX_BULK]
        if not ids:
            return []
        rows = await Case.select(Case.id, Case.tracking_number, Case.status,
                                 Case.lead_investigator, Case.lead_investigator.name).where(
            Case.id.is_in(ids))
        by_id = {r["id"]: r for r in rows if policies.may_view_case(self.actor, r)}
        out = []
        for case_id in ids:
            row = by_id.get(case_id)
            if row is None:
                continue
            row["can_assign"] = policies.may_transition(self.actor, row, "assign")
            row["can_reassign"] = policies.may_act_on_case(self.actor, row, "reassign")
            row["status_label"] = rules.status_label(row["status"])
            out.append(row)
        return out

    async def assign_many(self, case_ids: list[int], investigator_id: int | None,
                          reason: str) -> list[str]:
        """Assign or reassign several cases to one investigator in one step: all or none, each
        case audited on its own (``case.assigned`` / ``case.reassigned``), the investigator told
        once. Returns the tracking numbers."""
        ids = list(dict.fromkeys(case_ids))
        errors: dict[str, str] = {}
        if not ids:
            errors["case"] = _("Choose at least one case.")
        elif len(ids) > MAX_BULK:
            errors["case"] = _("Choose at most %(n)s cases at a time.", n=MAX_BULK)
        if not investigator_id:
            errors["investigator"] = _("Choose a lead investigator.")
        if errors:
            raise ValidationFailed(errors)
        numbers: list[str] = []
        async with db.write_transaction():
            cases = {c["id"]: c for c in await self.bulk_candidates(ids)}
            refused = [cases[i]["tracking_number"] for i in ids if i in cases
                       and not (cases[i]["can_assign"] or cases[i]["can_reassign"])]
            if len(cases) < len(ids):
                raise ValidationFailed({"case": _(
                    "Some of the chosen cases cannot be found; go back to the list and choose "
                    "again.")})
            if refused:
                raise ValidationFailed({"case": _(
                    "These cases cannot be assigned in their current state: %(numbers)s. Leave "
                    "them out.", numbers=", ".join(refused))})
            if any(c["lead_investigator"] for c in cases.values()) and not reason.strip():
                raise ValidationFailed({"reason": _(
                    "Give a reason for reassigning: some of these cases already have a lead "
                    "investigator.")})
            for case_id in ids:
                if cases[case_id]["lead_investigator"] == investigator_id:
                    continue  # already theirs: nothing to do, nothing to record
                await self.assign_investigator(case_id, investigator_id, reason, notify=False)
                numbers.append(cases[case_id]["tracking_number"])
            if numbers:
                await self._notify(
                    int(investigator_id or 0),
                    ngettext("You are now the lead investigator on case %(numbers)s.",
                             "You are now the lead investigator on %(num)s cases: %(numbers)s.",
                             len(numbers), numbers=", ".join(numbers))
                    + (" " + _("Reason: %(reason)s", reason=reason.strip())
                       if reason.strip() else ""),
                    f"/cases?investigator={int(investigator_id or 0)}",
                    ngettext("%(num)s case assigned to you", "%(num)s cases assigned to you",
                             len(numbers)), kind="case_assigned")
                previous = {c["lead_investigator"] for c in cases.values()
                            if c["lead_investigator"] not in (None, investigator_id)}
                for user_id in sorted(previous):
                    moved = [c["tracking_number"] for c in cases.values()
                             if c["lead_investigator"] == user_id]
                    await self._notify(
                        user_id, _("These cases have been reassigned: %(numbers)s.",
                                   numbers=", ".join(moved)), "",
                        _("Cases reassigned"), kind="case_reassigned")
        return numbers


def _is_overdue(row: dict[str, Any], now: datetime) -> bool:
    if row.get("resolution_due_at") and row["resolution_due_at"] < now:
        return True
    return bool(row.get("ice_notification_required") and row.get("ice_notified_at") is None
                and row.get("ice_notification_due_at") and row["ice_notification_due_at"] < now)

