"""Designations from a case: remove an officer from the program pending adjudication (MOA) and
reinstate them; the registry records the change and its audit event, with this case's id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from casetracker import db
from casetracker.cases.casework import CaseWork
from casetracker.cases.tables import CaseOfficer
from casetracker.errors import NotFound, ValidationFailed
from casetracker.registry.services import RegistryService
from casetracker.registry.tables import Designation
from casetracker.web.i18n import gettext as _


class DesignationVerbs(CaseWork):
    """Suspending and reinstating a case officer's designation."""

    async def _designation_on_case(self, case_id: int, designation_id: int) -> dict[str, Any]:
        officer_ids = [o["officer"] for o in await CaseOfficer.select(CaseOfficer.officer).where(
            (CaseOfficer.case == case_id) & CaseOfficer.officer.is_not_null())]
        designation = await Designation.select().where(Designation.id == designation_id).first()
        if designation is None or designation["officer"] not in officer_ids:
            raise NotFound(_("That designation is not one of this case's officers."))
        return designation

    async def suspend_designation(self, case_id: int, designation_id: int, *,
                                  on: date | None = None, reason: str = "") -> None:
        reason = reason.strip() or _("Removed from the program pending adjudication of case "
                                     "allegations.")
        async with db.write_transaction():
            await self._act(case_id, "suspend_designation", _("suspend designations"))
            designation = await self._designation_on_case(case_id, designation_id)
            if designation["status"] != "active":
                raise ValidationFailed({"designation": _(
                    "Only an active designation can be suspended.")})
            # The registry records its own audit event, with this case's id.
            await RegistryService(self.actor).suspend_designation(
                designation_id, on=on or self.today(), reason=reason, case_id=case_id)

    async def lift_suspension(self, case_id: int, designation_id: int, *,
                              on: date | None = None, reason: str = "") -> None:
        reason = reason.strip() or _("Allegations adjudicated; the case is closed.")
        async with db.write_transaction():
            await self._act(case_id, "lift_suspension",
                            _("lift a suspension before the case is closed"))
            designation = await self._designation_on_case(case_id, designation_id)
            if designation["status"] != "suspended":
                raise ValidationFailed({"designation": _(
                    "Only a suspended designation can be reinstated.")})
            await RegistryService(self.actor).lift_suspension(
                designation_id, on=on or self.today(), reason=reason, case_id=case_id)


async def designations_for(officer_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    if not officer_ids:
        return {}
    rows = await Designation.select(
        Designation.id, Designation.officer, Designation.status, Designation.suspended_on,
        Designation.suspension_lifted_on, Designation.agreement,
        Designation.agreement.model.as_alias("model"),
    ).where(Designation.officer.is_in(list(officer_ids))).order_by(Designation.id)
    result: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        result.setdefault(row["officer"], []).append(row)
    return result
