"""Officers intake proposed at triage because they were not in the registry: a supervisor
confirms each one (it becomes an ordinary registry officer) or merges it with the officer
already in the registry (the cases that named it then name that officer, and their 287(g)
clocks follow that officer's designations). Every step is audited."""

from __future__ import annotations

from typing import Any

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.audit import services as audit
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.cases.tables import Allegation, Case, CaseOfficer
from casetracker.errors import NotFound, ValidationFailed
from casetracker.registry import lookup
from casetracker.registry.tables import Designation, Officer
from casetracker.web.i18n import gettext as _


class ProposedOfficers:
    def __init__(self, actor: Actor, settings: Any = None) -> None:
        self.actor = actor
        self.settings = settings

    async def count(self) -> int:
        return await Officer.count().where(Officer.awaiting_confirmation.eq(True))

    async def pending(self) -> list[dict[str, Any]]:
        """Each proposed officer with who proposed it, from which case, and the registry
        officers it may be (same agency first, then badge, then name)."""
        policies.ensure_may_confirm_proposed_officers(self.actor)
        rows = await Officer.select(
            Officer.id, Officer.name, Officer.badge_number, Officer.agency,
            Officer.agency.name, Officer.agency.state, Officer.proposed_by_id,
            Officer.proposed_case_id, Officer.created_at,
        ).where(Officer.awaiting_confirmation.eq(True)).order_by(Officer.created_at)
        user_ids = {r["proposed_by_id"] for r in rows if r["proposed_by_id"]}
        case_ids = {r["proposed_case_id"] for r in rows if r["proposed_case_id"]}
        names = {u["id"]: u["name"] for u in await User.select(User.id, User.name).where(
            User.id.is_in(sorted(user_ids)))} if user_ids else {}
        cases = {c["id"]: c["tracking_number"] for c in await Case.select(
            Case.id, Case.tracking_number).where(Case.id.is_in(sorted(case_ids)))
        } if case_ids else {}
        for row in rows:
            row["proposed_by"] = names.get(row["proposed_by_id"], "")
            row["case_tracking_number"] = cases.get(row["proposed_case_id"], "")
            candidates = await lookup.suggest_officers(row["badge_number"], row["name"],
                                                       row["agency"], limit=8)
            row["candidates"] = [c for c in candidates if c["id"] != row["id"]]
        return rows

    async def _proposed(self, officer_id: int) -> dict[str, Any]:
        row = await Officer.select().where(Officer.id == officer_id).first()
        if row is None or not row["awaiting_confirmation"]:
            raise NotFound(_("There is no proposed officer awaiting confirmation with that "
                             "reference."))
        return row

    async def confirm(self, officer_id: int) -> None:
        policies.ensure_may_confirm_proposed_officers(self.actor)
        async with db.write_transaction():
            officer = await self._proposed(officer_id)
            await Officer.update({Officer.awaiting_confirmation: False}).where(
                Officer.id == officer_id)
            await audit.record("registry.officer.confirmed", actor=self.actor,
                               object_type="officer", object_id=officer_id,
                               case_id=officer["proposed_case_id"],
                               details={"name": officer["name"],
                                        "badge_number": officer["badge_number"]})

    async def merge(self, officer_id: int, into_officer_id: int | None) -> list[int]:
        """Merge the proposed officer into ``into_officer_id``; returns the cases touched."""
        policies.ensure_may_confirm_proposed_officers(self.actor)
        if not into_officer_id:
            raise ValidationFailed({"into": _("Choose the registry officer this is.")})
        from casetracker.cases.services import CaseService

        async with db.write_transaction():
            officer = await self._proposed(officer_id)
            into = await Officer.select().where(Officer.id == into_officer_id).first()
            if into is None or into["id"] == officer_id or into["awaiting_confirmation"]:
                raise ValidationFailed({"into": _(
                    "Choose an officer already confirmed in the registry.")})
            linked = await CaseOfficer.select(CaseOfficer.id, CaseOfficer.case).where(
                CaseOfficer.officer == officer_id)
            case_ids = sorted({row["case"] for row in linked})
            await CaseOfficer.update({CaseOfficer.officer: into_officer_id,
                                      CaseOfficer.agency: into["agency"]}).where(
                CaseOfficer.officer == officer_id)
            await Allegation.update({Allegation.officer: into_officer_id}).where(
                Allegation.officer == officer_id)
            await Designation.update({Designation.officer: into_officer_id}).where(
                Designation.officer == officer_id)
            await Officer.delete().where(Officer.id == officer_id)
            # The cases now name a registry officer who may hold a designation: the ICE
            # notification clock follows.
            service = CaseService(self.actor, settings=self.settings)
            for case_id in case_ids:
                case = await Case.select().where(Case.id == case_id).first()
                if case is None:
                    continue
                values = await service._officer_dependent_values(case, into_officer_id)
                await service._update_case(case_id, values)
                await audit.record("case.officer_merged", actor=self.actor,
                                   object_type="case", object_id=case_id, case_id=case_id,
                                   details={"proposed": officer["name"],
                                            "officer_id": into_officer_id,
                                            "officer": into["name"]})
            await audit.record("registry.officer.merged", actor=self.actor,
                               object_type="officer", object_id=into_officer_id,
                               case_id=officer["proposed_case_id"],
                               details={"proposed_officer_id": officer_id,
                                        "proposed_name": officer["name"],
                                        "proposed_badge_number": officer["badge_number"],
                                        "into": into["name"], "cases": case_ids})
        return case_ids
