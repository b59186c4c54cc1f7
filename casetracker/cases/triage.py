"""Triage: the first look at a complaint. Link the officers described to the registry (or mark
them unidentified), set the agency and agreement, add allegations, then open an investigation,
decline, or refer the complaint elsewhere."""

from __future__ import annotations

from datetime import date
from typing import Any

from casetracker import db
from casetracker.audit import services as audit
from casetracker.cases import clocks, rules
from casetracker.cases.referrals import ReferralVerbs
from casetracker.cases.tables import Allegation, CaseOfficer
from casetracker.errors import NotFound, ValidationFailed
from casetracker.registry.tables import MODEL_LABELS, Agency, Agreement, Designation, Officer
from casetracker.web.i18n import gettext as _


class TriageVerbs(ReferralVerbs):
    """Triage steps (referring a complaint at triage records a referral, hence the base)."""

    async def suggest_officers(self, case_officer: dict[str, Any], limit: int = 5
                               ) -> list[dict[str, Any]]:
        """Registry officers that may be the one described (badge, name, agency)."""
        agency_id = case_officer.get("agency")
        return await _suggest_officers_locally(case_officer.get("badge_number") or "",
                                               case_officer.get("name") or "", agency_id, limit)

    async def start_triage(self, case_id: int) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "start_triage")
            await self._update_case(case_id, {"status": step.target})
            await self._audit("case.triage_started", case_id, from_status=case["status"],
                              to_status=step.target)

    async def link_officer(self, case_id: int, case_officer_id: int, *,
                           officer_id: int | None = None, unidentified: bool = False) -> None:
        """Link the officer the complainant described to a registry officer, or mark them
        unidentified. Recomputes whether ICE must be notified (and by when)."""
        if not officer_id and not unidentified:
            raise ValidationFailed({"officer_id": _(
                "Choose the registry officer, or mark the officer as unidentified.")})
        async with db.write_transaction():
            case = await self._act(case_id, "link_officer", _("link officers"))
            case_officer = await CaseOfficer.select().where(
                (CaseOfficer.id == case_officer_id) & (CaseOfficer.case == case_id)).first()
            if case_officer is None:
                raise NotFound(_("There is no such officer on this case."))
            values: dict[str, Any]
            if officer_id:
                officer = await Officer.select().where(Officer.id == officer_id).first()
                if officer is None:
                    raise ValidationFailed({"officer_id": _("There is no such registry officer.")})
                values = {CaseOfficer.officer: officer_id, CaseOfficer.unidentified: False,
                          CaseOfficer.agency: officer["agency"]}
            else:
                values = {CaseOfficer.officer: None, CaseOfficer.unidentified: True}
            await CaseOfficer.update(values).where(CaseOfficer.id == case_officer_id)
            await Allegation.update({Allegation.officer: officer_id or None}).where(
                Allegation.case_officer == case_officer_id)
            case_values = await self._officer_dependent_values(case, officer_id)
            await self._update_case(case_id, case_values)
            await self._audit("case.officer_linked", case_id, "case_officer", case_officer_id,
                              officer_id=officer_id, unidentified=not officer_id,
                              described_as=case_officer["name"] or case_officer["badge_number"],
                              ice_notification_required=case_values[
                                  "ice_notification_required"])

    async def propose_officer(self, case_id: int, case_officer_id: int, *, name: str,
                              badge_number: str = "", agency_id: int | None = None) -> int:
        """The officer described is not in the registry: add them, marked as awaiting a
        supervisor's confirmation (or merge with an officer already there), and link them."""
        errors = {}
        name = " ".join((name or "").split())[:200]
        badge_number = " ".join((badge_number or "").split())[:40]
        if not name:
            errors["propose_name"] = _("Enter the officer's name as far as it is known.")
        if not agency_id:
            errors["propose_agency"] = _("Choose the officer's agency.")
        if errors:
            raise ValidationFailed(errors)
        async with db.write_transaction():
            case = await self._act(case_id, "link_officer", _("link officers"))
            case_officer = await CaseOfficer.select().where(
                (CaseOfficer.id == case_officer_id) & (CaseOfficer.case == case_id)).first()
            if case_officer is None:
                raise NotFound(_("There is no such officer on this case."))
            agency = await Agency.select(Agency.id, Agency.name).where(
                Agency.id == agency_id).first()
            if agency is None:
                raise ValidationFailed({"propose_agency": _("There is no such agency.")})
            rows = await Officer.insert(Officer(
                agency=agency_id, name=name, badge_number=badge_number, active=True,
                awaiting_confirmation=True, proposed_by_id=self.actor.id,
                proposed_case_id=case_id)).returning(Officer.id)
            officer_id = rows[0]["id"]
            await CaseOfficer.update({CaseOfficer.officer: officer_id,
                                      CaseOfficer.unidentified: False,
                                      CaseOfficer.agency: agency_id}).where(
                CaseOfficer.id == case_officer_id)
            await Allegation.update({Allegation.officer: officer_id}).where(
                Allegation.case_officer == case_officer_id)
            case_values = await self._officer_dependent_values(case, officer_id)
            await self._update_case(case_id, case_values)
            await audit.record("registry.officer.proposed", actor=self.actor,
                               object_type="officer", object_id=officer_id, case_id=case_id,
                               details={"agency_id": agency_id, "agency": agency["name"],
                                        "name": name, "badge_number": badge_number})
            await self._audit("case.officer_proposed", case_id, "case_officer", case_officer_id,
                              officer_id=officer_id, name=name, badge_number=badge_number,
                              agency=agency["name"])
            return int(officer_id)

    async def _officer_dependent_values(self, case: dict[str, Any],
                                        new_officer_id: int | None) -> dict[str, Any]:
        officers = await CaseOfficer.select(CaseOfficer.officer, CaseOfficer.unidentified,
                                            CaseOfficer.agency).where(
            CaseOfficer.case == case["id"])
        officer_ids = [o["officer"] for o in officers if o["officer"]]
        statuses = []
        if officer_ids:
            statuses = [d["status"] for d in await Designation.select(Designation.status).where(
                Designation.officer.is_in(officer_ids))]
        required = rules.ice_notification_required(statuses)
        values: dict[str, Any] = {
            "ice_notification_required": required,
            "officer_unidentified": bool(officers) and not officer_ids
            and any(o["unidentified"] for o in officers),
        }
        if required and case["ice_notification_due_at"] is None:
            values["ice_notification_due_at"] = self.calendar.add_business_hours(
                case["received_at"], self.clock_rules.ice_notice_business_hours)
        elif not required and case["ice_notified_at"] is None:
            values["ice_notification_due_at"] = None
        if case["agency"] is None and new_officer_id:
            agency = next((o["agency"] for o in officers if o["officer"] == new_officer_id), None)
            if agency:
                values["agency"] = agency
                values["agreement"] = await self._agreement_for(case, agency)
        elif case["agency"] and not case["agreement"] and new_officer_id:
            agreement = await self._agreement_for(case, case["agency"])
            if agreement:
                values["agreement"] = agreement
        return values

    async def set_agency(self, case_id: int, agency_id: int | None,
                         agreement_id: int | None = None) -> None:
        """Set the agency and the agreement the case falls under. Without an agreement given,
        the agreement is chosen when it can be told (``rules.choose_agreement``: the agency's
        only one, the one a linked officer is designated under, or the only one of the model
        the complaint describes); otherwise it stays to be chosen from those offered."""
        if not agency_id:
            raise ValidationFailed({"agency_id": _("Choose the agency.")})
        async with db.write_transaction():
            case = await self._act(case_id, "set_agency", _("change the agency"))
            agency = await Agency.select(Agency.id, Agency.name).where(
                Agency.id == agency_id).first()
            if agency is None:
                raise ValidationFailed({"agency_id": _("There is no such agency.")})
            chosen_by = "person"
            if agreement_id:
                agreement = await Agreement.select(Agreement.agency).where(
                    Agreement.id == agreement_id).first()
                if agreement is None or agreement["agency"] != agency_id:
                    if case["agency"] == agency_id:
                        raise ValidationFailed({"agreement_id": _(
                            "Choose an agreement of this agency.")})
                    agreement_id = None  # offered for the previous agency: choose again
            if not agreement_id:
                agreement_id = await self._agreement_for(case, agency_id)
                chosen_by = "automatically" if agreement_id else ""
            await self._update_case(case_id, {"agency": agency_id,
                                              "agreement": agreement_id or None})
            await self._audit("case.agency_set", case_id, agency_id=agency_id,
                              agency=agency["name"], agreement_id=agreement_id,
                              agreement=await _agreement_words(agreement_id),
                              agreement_chosen=chosen_by)

    async def _agreement_for(self, case: dict[str, Any], agency_id: int) -> int | None:
        agreements = await Agreement.select(Agreement.id, Agreement.model,
                                            Agreement.status).where(
            Agreement.agency == agency_id).order_by(Agreement.id)
        officer_ids = [o["officer"] for o in await CaseOfficer.select(CaseOfficer.officer).where(
            CaseOfficer.case == case["id"]) if o["officer"]]
        designated: list[int] = []
        if officer_ids:
            designated = [d["agreement"] for d in await Designation.select(
                Designation.agreement).where(Designation.officer.is_in(officer_ids))]
        return rules.choose_agreement(agreements, case.get("context_287g") or "", designated)

    async def add_allegation(self, case_id: int, *, allegation_type: str,
                             case_officer_id: int | None = None,
                             protected_characteristic: str = "", description: str = "") -> int:
        async with db.write_transaction():
            await self._act(case_id, "add_allegation", _("add allegations"))
            officer_id = None
            if case_officer_id:
                case_officer = await CaseOfficer.select().where(
                    (CaseOfficer.id == case_officer_id) & (CaseOfficer.case == case_id)).first()
                if case_officer is None:
                    raise ValidationFailed({"case_officer_id": _(
                        "Choose an officer named in this complaint.")})
                officer_id = case_officer["officer"]
            existing = [(a["case_officer"], a["allegation_type"])
                        for a in await self._allegations(case_id)]
            rules.validate_allegation(allegation_type, protected_characteristic, existing,
                                      case_officer_id or None)
            if allegation_type != "racial_profiling" and not protected_characteristic:
                protected_characteristic = ""
            rows = await Allegation.insert(Allegation(
                case=case_id, case_officer=case_officer_id or None, officer=officer_id,
                allegation_type=allegation_type,
                protected_characteristic=protected_characteristic,
                description=description.strip(),
            )).returning(Allegation.id)
            allegation_id = rows[0]["id"]
            await self._audit("case.allegation_added", case_id, "allegation", allegation_id,
                              allegation_type=allegation_type,
                              protected_characteristic=protected_characteristic,
                              case_officer_id=case_officer_id)
            return allegation_id

    async def open_investigation(self, case_id: int) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "open")
            rules.require_open(await self._allegations(case_id))
            await self._update_case(case_id, {"status": step.target, "triaged_at": self.now()})
            await self._audit("case.opened", case_id, from_status=case["status"],
                              to_status=step.target)

    async def decline(self, case_id: int, reason: str) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "decline")
            reason = rules.require_reason(reason)
            now = self.now()
            values = {"status": step.target, "decision_reason": reason, "triaged_at": now,
                      "resolved_at": now, "closed_at": now,
                      "outcome": "administratively_closed"}
            if case["ice_notification_required"]:
                values["results_due_at"] = clocks.results_due(now, self.clock_rules)
            await self._update_case(case_id, values)
            await self._audit("case.declined", case_id, from_status=case["status"],
                              to_status=step.target, reason=reason)

    async def refer(self, case_id: int, *, body: str, body_other: str = "", reason: str = "",
                    sent_on: date | None = None, reference_number: str = "") -> int:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "refer")
            rules.require_referral_body(body, body_other)
            now = self.now()
            referral_id = await self._insert_referral(case, body=body, body_other=body_other,
                                                      sent_on=sent_on or self.today(),
                                                      reference_number=reference_number)
            values = {"status": step.target, "referred_to": body,
                      "decision_reason": reason.strip(), "triaged_at": now, "resolved_at": now,
                      "closed_at": now, "outcome": "referred"}
            if case["ice_notification_required"]:
                values["results_due_at"] = clocks.results_due(now, self.clock_rules)
            await self._update_case(case_id, values)
            await self._audit("case.referred", case_id, from_status=case["status"],
                              to_status=step.target, body=body, body_other=body_other,
                              reason=reason.strip(), referral_id=referral_id)
            return referral_id


async def _agreement_words(agreement_id: int | None) -> str:
    """"Jail Enforcement Model (active)" for the audit trail and timeline."""
    if not agreement_id:
        return ""
    row = await Agreement.select(Agreement.model, Agreement.status).where(
        Agreement.id == agreement_id).first()
    if row is None:
        return ""
    return f"{MODEL_LABELS.get(row['model'], row['model'])} ({row['status']})"


async def _suggest_officers_locally(badge: str, name: str, agency_id: int | None,
                                    limit: int) -> list[dict[str, Any]]:
    badge, name = badge.strip(), name.strip()
    conditions = []
    if badge:
        conditions.append(Officer.badge_number == badge)
    words = [w for w in name.replace(",", " ").split() if len(w) >= 3]
    for word in words:
        # SQLite's LIKE already ignores ASCII case (and Piccolo warns on ILIKE there).
        pattern = f"%{word}%"
        conditions.append(Officer.name.like(pattern) if db.is_sqlite()
                          else Officer.name.ilike(pattern))
    if not conditions:
        if not agency_id:
            return []
        where: Any = Officer.agency == agency_id
    else:
        where = conditions[0]
        for condition in conditions[1:]:
            where = where | condition
    rows = await Officer.select(
        Officer.id, Officer.name, Officer.badge_number, Officer.rank, Officer.agency,
        Officer.agency.name.as_alias("agency_name"),
    ).where(where).limit(200)

    def score(row: dict[str, Any]) -> int:
        points = 0
        if badge and row["badge_number"] == badge:
            points += 4
        if agency_id and row["agency"] == agency_id:
            points += 2
        lowered = row["name"].lower()
        points += sum(1 for w in words if w.lower() in lowered)
        return points

    ranked = sorted(rows, key=lambda r: (-score(r), r["name"]))[:limit]
    return ranked

