"""CaseService: the verbs of case work (triage, assignment, investigation, review, referrals).

Every verb loads the case inside one write transaction (locked on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), checks the policy and the pure rules, writes,
and records the audit event in the same transaction: a change and its audit row commit together
or not at all. E-mail goes out only after the commit (a failed e-mail never undoes a change).
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casetracker import db
from casetracker.accounts.tables import Notification, User
from casetracker.audit import services as audit
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.cases import clocks, rules
from casetracker.cases.tables import (
    Allegation,
    Case,
    CaseAssignment,
    CaseNote,
    CaseOfficer,
    Interview,
    Referral,
    Task,
    Witness,
)
from casetracker.errors import NotFound, ValidationFailed
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.settings import Settings, get_settings
from casetracker.web.i18n import gettext as _

log = logging.getLogger("casetracker.cases")


def _registry_services() -> Any | None:
    """The registry engineer's service module, when it exists (it is optional here)."""
    try:
        return importlib.import_module("casetracker.registry.services")
    except ImportError:
        return None


@dataclass
class PendingMail:
    to: str
    subject: str
    body: str


@dataclass
class CaseWorkload:
    user_id: int
    name: str
    email: str
    open_cases: int = 0
    overdue_cases: int = 0


@dataclass
class _Outbox:
    messages: list[PendingMail] = field(default_factory=list)


class CaseService:
    def __init__(self, actor: Actor, settings: Settings | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.actor = actor
        self.settings = settings or get_settings()
        self._now = now or (lambda: datetime.now(UTC))
        self.calendar = clocks.BusinessCalendar.from_settings(self.settings)
        self.clock_rules = clocks.ClockRules.from_settings(self.settings)

    # --- helpers ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._now()

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.settings.timezone)).date()

    async def _load(self, case_id: int, *, lock: bool = False) -> dict[str, Any]:
        query = Case.select().where(Case.id == case_id)
        if lock and not db.is_sqlite():
            query = query.lock_rows()
        row = await query.first()
        if row is None:
            raise NotFound(_("There is no such case."))
        return row

    async def _audit(self, action: str, case_id: int, object_type: str = "case",
                     object_id: object = "", /, **details: Any) -> None:
        await audit.record(action, actor=self.actor, object_type=object_type,
                           object_id=object_id or case_id, case_id=case_id, details=details)

    async def _update_case(self, case_id: int, values: dict[str, Any]) -> None:
        values = {**values, "updated_at": self.now()}
        await Case.update({getattr(Case, k): v for k, v in values.items()}).where(
            Case.id == case_id)

    async def _allegations(self, case_id: int) -> list[dict[str, Any]]:
        return await Allegation.select().where(Allegation.case == case_id).order_by(Allegation.id)

    async def _transition(self, case_id: int, name: str) -> tuple[dict[str, Any],
                                                                  rules.Transition]:
        case = await self._load(case_id, lock=True)
        policies.ensure_may_transition(self.actor, case, name)
        return case, rules.transition_for(name)

    async def _act(self, case_id: int, action: str, what: str) -> dict[str, Any]:
        case = await self._load(case_id, lock=True)
        policies.ensure_may_act_on_case(self.actor, case, action, what)
        return case

    async def _notify(self, user_id: int, message: str, link: str, outbox: _Outbox,
                      subject: str) -> None:
        await Notification.insert(Notification(user=user_id, message=message, link=link))
        user = await User.select(User.email, User.name, User.active).where(
            User.id == user_id).first()
        if user and user["active"] and user["email"]:
            body = (f"{message}\n\n{self.settings.base_url.rstrip('/')}{link}\n\n"
                    f"-- {self.settings.organisation_name}")
            outbox.messages.append(PendingMail(user["email"], subject, body))

    async def _send(self, outbox: _Outbox) -> None:
        from casetracker.mail import send_mail

        for message in outbox.messages:
            await send_mail(message.to, message.subject, message.body, settings=self.settings)

    # --- reading ---------------------------------------------------------------------------

    async def view_case(self, case_id: int) -> dict[str, Any]:
        """The case row, for someone allowed to see it; the read is audited (case.view)."""
        case = await self._load(case_id)
        policies.ensure_may_view_case(self.actor, case)
        async with db.write_transaction():
            await self._audit("case.view", case_id)
        return case

    async def view_contact(self, case: dict[str, Any]) -> dict[str, Any] | None:
        """The complainant's contact details, only for those allowed; every view is audited."""
        if not policies.may_view_complainant_contact(self.actor, case):
            return None
        from casetracker.intake.tables import ComplainantContact

        contact = await ComplainantContact.select().where(
            ComplainantContact.case == case["id"]).first()
        if contact is None:
            return None
        async with db.write_transaction():
            await self._audit("case.contact.view", case["id"], "complainant_contact",
                              contact["id"])
        return contact

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

    async def suggest_officers(self, case_officer: dict[str, Any], limit: int = 5
                               ) -> list[dict[str, Any]]:
        """Registry officers that may be the one described (badge, name, agency)."""
        agency_id = case_officer.get("agency")
        registry = _registry_services()
        suggest = getattr(registry, "suggest_officers", None) if registry else None
        if suggest is not None:
            try:
                found = await suggest(case_officer.get("badge_number") or "",
                                      case_officer.get("name") or "", agency_id)
                return [_as_dict(o) for o in list(found)[:limit]]
            except Exception:  # their helper failing must not break the page
                log.exception("registry.suggest_officers failed; using the local query")
        return await _suggest_officers_locally(case_officer.get("badge_number") or "",
                                               case_officer.get("name") or "", agency_id, limit)

    # --- triage ----------------------------------------------------------------------------

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
        return values

    async def set_agency(self, case_id: int, agency_id: int | None,
                         agreement_id: int | None = None) -> None:
        if not agency_id:
            raise ValidationFailed({"agency_id": _("Choose the agency.")})
        async with db.write_transaction():
            await self._act(case_id, "set_agency", _("change the agency"))
            agency = await Agency.select(Agency.id, Agency.name).where(
                Agency.id == agency_id).first()
            if agency is None:
                raise ValidationFailed({"agency_id": _("There is no such agency.")})
            if agreement_id:
                agreement = await Agreement.select(Agreement.agency).where(
                    Agreement.id == agreement_id).first()
                if agreement is None or agreement["agency"] != agency_id:
                    raise ValidationFailed({"agreement_id": _(
                        "Choose an agreement of this agency.")})
            await self._update_case(case_id, {"agency": agency_id,
                                              "agreement": agreement_id or None})
            await self._audit("case.agency_set", case_id, agency_id=agency_id,
                              agency=agency["name"], agreement_id=agreement_id)

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

    # --- assignment ------------------------------------------------------------------------

    async def assign_investigator(self, case_id: int, investigator_id: int | None,
                                  reason: str = "") -> None:
        """First assignment moves an open case under investigation; reassignment (any working
        state) needs a reason. The investigator is notified in the app and by e-mail."""
        outbox = _Outbox()
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
            await self._notify(investigator_id, message, f"/cases/{case_id}", outbox,
                               _("Case %(number)s assigned to you",
                                 number=case["tracking_number"]))
            if reassign and case["lead_investigator"]:
                await Notification.insert(Notification(
                    user=case["lead_investigator"],
                    message=_("Case %(number)s has been reassigned to %(name)s.",
                              number=case["tracking_number"], name=investigator["name"]),
                    link=""))
        await self._send(outbox)

    # --- investigation ---------------------------------------------------------------------

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

    # --- review ----------------------------------------------------------------------------

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
        outbox = _Outbox()
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
                    f"/cases/{case_id}", outbox,
                    _("Case %(number)s returned to investigation",
                      number=case["tracking_number"]))
        await self._send(outbox)

    async def resume_investigation(self, case_id: int) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "resume")
            await self._update_case(case_id, {"status": step.target})
            await self._audit("case.resumed", case_id, from_status=case["status"],
                              to_status=step.target)

    async def close(self, case_id: int) -> None:
        async with db.write_transaction():
            case, step = await self._transition(case_id, "close")
            allegations = await self._allegations(case_id)
            rules.require_close(allegations)
            now = self.now()
            outcome = rules.case_outcome(a["final_finding"] for a in allegations)
            values: dict[str, Any] = {"status": step.target, "resolved_at": now,
                                      "closed_at": now, "outcome": outcome}
            if case["ice_notification_required"]:
                values["results_due_at"] = clocks.results_due(now, self.clock_rules)
            await self._update_case(case_id, values)
            await self._audit("case.closed", case_id, from_status=case["status"],
                              to_status=step.target, outcome=outcome)

    # --- referrals and the ICE clocks ------------------------------------------------------

    def _notified_at(self, sent_on: date, sent_time: time | None) -> datetime:
        """When the ICE notice went out: the time given; otherwise now (sent today) or the end
        of that day (we never claim an earlier time than we know)."""
        zone = ZoneInfo(self.settings.timezone)
        if sent_time is not None:
            return datetime.combine(sent_on, sent_time, zone).astimezone(UTC)
        if sent_on == self.today():
            return self.now()
        return datetime.combine(sent_on, time(23, 59), zone).astimezone(UTC)

    async def _insert_referral(self, case: dict[str, Any], *, body: str, body_other: str = "",
                               sent_on: date | None = None, sent_time: time | None = None,
                               reference_number: str = "", acknowledged_on: date | None = None,
                               outcome: str = "", outcome_on: date | None = None,
                               is_ice_notification: bool | None = None) -> int:
        if is_ice_notification is None:
            is_ice_notification = body in rules.ICE_BODIES and case["ice_notification_required"]
        if is_ice_notification and body not in rules.ICE_BODIES:
            raise ValidationFailed({"is_ice_notification": _(
                "Only a referral to an ICE officer or ICE OPR is the ICE notification.")})
        if is_ice_notification and sent_on is None:
            raise ValidationFailed({"sent_on": _(
                "Give the date the ICE notification was sent.")})
        if sent_on is not None and sent_on > self.today():
            raise ValidationFailed({"sent_on": _("The date sent cannot be in the future.")})
        rows = await Referral.insert(Referral(
            case=case["id"], body=body, body_other=body_other.strip(), sent_on=sent_on,
            reference_number=reference_number.strip(), acknowledged_on=acknowledged_on,
            outcome=outcome.strip(), outcome_on=outcome_on,
            is_ice_notification=bool(is_ice_notification), created_by=self.actor.id,
            created_at=self.now(),
        )).returning(Referral.id)
        if is_ice_notification and case["ice_notified_at"] is None and sent_on is not None:
            notified_at = self._notified_at(sent_on, sent_time)
            await self._update_case(case["id"], {"ice_notified_at": notified_at})
            await self._audit("case.ice_notified", case["id"], "referral", rows[0]["id"],
                              notified_at=notified_at,
                              due_at=case["ice_notification_due_at"])
        return rows[0]["id"]

    async def record_referral(self, case_id: int, *, body: str, body_other: str = "",
                              sent_on: date | None = None, sent_time: time | None = None,
                              reference_number: str = "", acknowledged_on: date | None = None,
                              outcome: str = "", outcome_on: date | None = None,
                              is_ice_notification: bool = False) -> int:
        rules.require_referral_body(body, body_other)
        async with db.write_transaction():
            case = await self._act(case_id, "record_referral", _("record referrals"))
            referral_id = await self._insert_referral(
                case, body=body, body_other=body_other, sent_on=sent_on, sent_time=sent_time,
                reference_number=reference_number, acknowledged_on=acknowledged_on,
                outcome=outcome, outcome_on=outcome_on,
                is_ice_notification=is_ice_notification)
            await self._audit("case.referral_recorded", case_id, "referral", referral_id,
                              body=body, body_other=body_other.strip(), sent_on=sent_on,
                              reference_number=reference_number.strip(),
                              is_ice_notification=is_ice_notification)
            return referral_id

    async def update_referral(self, case_id: int, referral_id: int, *,
                              reference_number: str | None = None,
                              acknowledged_on: date | None = None, outcome: str | None = None,
                              outcome_on: date | None = None) -> None:
        async with db.write_transaction():
            await self._act(case_id, "record_referral", _("update referrals"))
            referral = await Referral.select().where(
                (Referral.id == referral_id) & (Referral.case == case_id)).first()
            if referral is None:
                raise NotFound(_("There is no such referral on this case."))
            if acknowledged_on and referral["sent_on"] and acknowledged_on < referral["sent_on"]:
                raise ValidationFailed({"acknowledged_on": _(
                    "The acknowledgment cannot be earlier than the date sent.")})
            values: dict[Any, Any] = {}
            if reference_number is not None:
                values[Referral.reference_number] = reference_number.strip()
            if acknowledged_on is not None:
                values[Referral.acknowledged_on] = acknowledged_on
            if outcome is not None:
                values[Referral.outcome] = outcome.strip()
            if outcome_on is not None:
                values[Referral.outcome_on] = outcome_on
            if values:
                await Referral.update(values).where(Referral.id == referral_id)
            await self._audit("case.referral_updated", case_id, "referral", referral_id,
                              **{k._meta.name: v for k, v in values.items()})

    async def record_results_reported(self, case_id: int, reported_on: date | None = None
                                      ) -> None:
        """The investigation's results went to ICE (due 30 days after resolution)."""
        async with db.write_transaction():
            case = await self._act(case_id, "record_results_reported",
                                   _("record that results were reported to ICE"))
            if case["results_reported_at"] is not None:
                raise ValidationFailed({"reported_on": _(
                    "The results were already recorded as reported.")})
            reported_on = reported_on or self.today()
            if reported_on > self.today():
                raise ValidationFailed({"reported_on": _("The date cannot be in the future.")})
            reported_at = self._notified_at(reported_on, None)
            await self._update_case(case_id, {"results_reported_at": reported_at})
            await self._audit("case.results_reported", case_id, reported_at=reported_at,
                              due_at=case["results_due_at"])

    # --- designations (MOA: removal from the program pending adjudication) ------------------

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
            case = await self._act(case_id, "suspend_designation", _("suspend designations"))
            designation = await self._designation_on_case(case_id, designation_id)
            if designation["status"] != "active":
                raise ValidationFailed({"designation": _(
                    "Only an active designation can be suspended.")})
            on = on or self.today()
            registry = _registry_services()
            service_cls = getattr(registry, "RegistryService", None) if registry else None
            if service_cls is not None and hasattr(service_cls, "suspend_designation"):
                # The registry records its own audit event, with this case's id.
                await service_cls(self.actor).suspend_designation(
                    designation_id, on=on, reason=reason, case_id=case_id)
                return
            else:
                values: dict[Any, Any] = {
                    Designation.status: "suspended", Designation.suspended_on: on,
                    Designation.status_changed_on: on, Designation.status_reason: reason,
                    Designation.suspension_lifted_on: None, Designation.updated_at: self.now()}
                if hasattr(Designation, "status_case_id"):
                    values[Designation.status_case_id] = case_id
                await Designation.update(values).where(Designation.id == designation_id)
            await self._audit("case.designation_suspended", case_id, "designation",
                              designation_id, officer_id=designation["officer"], on=on,
                              reason=reason, case=case["tracking_number"])

    async def lift_suspension(self, case_id: int, designation_id: int, *,
                              on: date | None = None, reason: str = "") -> None:
        reason = reason.strip() or _("Allegations adjudicated; the case is closed.")
        async with db.write_transaction():
            case = await self._act(case_id, "lift_suspension",
                                   _("lift a suspension before the case is closed"))
            designation = await self._designation_on_case(case_id, designation_id)
            if designation["status"] != "suspended":
                raise ValidationFailed({"designation": _(
                    "Only a suspended designation can be reinstated.")})
            on = on or self.today()
            registry = _registry_services()
            service_cls = getattr(registry, "RegistryService", None) if registry else None
            if service_cls is not None and hasattr(service_cls, "lift_suspension"):
                await service_cls(self.actor).lift_suspension(
                    designation_id, on=on, reason=reason, case_id=case_id)
                return
            else:
                values: dict[Any, Any] = {
                    Designation.status: "active", Designation.suspension_lifted_on: on,
                    Designation.status_changed_on: on, Designation.status_reason: reason,
                    Designation.updated_at: self.now()}
                if hasattr(Designation, "status_case_id"):
                    values[Designation.status_case_id] = case_id
                await Designation.update(values).where(Designation.id == designation_id)
            await self._audit("case.designation_reinstated", case_id, "designation",
                              designation_id, officer_id=designation["officer"], on=on,
                              reason=reason, case=case["tracking_number"])


# --- module helpers ----------------------------------------------------------------------

def _is_overdue(row: dict[str, Any], now: datetime) -> bool:
    if row.get("resolution_due_at") and row["resolution_due_at"] < now:
        return True
    return bool(row.get("ice_notification_required") and row.get("ice_notified_at") is None
                and row.get("ice_notification_due_at") and row["ice_notification_due_at"] < now)


def _as_dict(officer: Any) -> dict[str, Any]:
    if isinstance(officer, dict):
        return officer
    if hasattr(officer, "to_dict"):
        return officer.to_dict()
    return dict(vars(officer))


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


# --- the case page's view-model ----------------------------------------------------------

@dataclass
class NamedClock:
    key: str
    label: str
    state: clocks.ClockState


def case_clocks(case: dict[str, Any], now: datetime) -> list[NamedClock]:
    """The clocks shown on a case: triage, ICE notice (only when required), resolution,
    results to ICE (once there is a due date)."""
    result = [NamedClock("triage", _("Triage"),
                         clocks.clock_state(case["triage_due_at"], case["triaged_at"], now))]
    if case["ice_notification_required"]:
        result.append(NamedClock("ice_notification", _("ICE notification (48 weekday hours)"),
                                 clocks.clock_state(case["ice_notification_due_at"],
                                                    case["ice_notified_at"], now)))
    result.append(NamedClock("resolution", _("Resolution"),
                             clocks.clock_state(case["resolution_due_at"], case["resolved_at"],
                                                now)))
    if case["results_due_at"] is not None:
        result.append(NamedClock("results", _("Results reported to ICE"),
                                 clocks.clock_state(case["results_due_at"],
                                                    case["results_reported_at"], now)))
    return result


async def _user_names(ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = await User.select(User.id, User.name).where(User.id.is_in(sorted(ids)))
    return {r["id"]: r["name"] for r in rows}


async def case_page_context(service: CaseService, case_id: int) -> dict[str, Any]:
    """Everything the case page shows, for this actor (the read is audited)."""
    actor = service.actor
    from casetracker.intake import forms as intake_forms

    case = await service.view_case(case_id)
    # JSON columns come back as text from a plain select (intake stores lists in them).
    for column in ("checklist", "protected_characteristics"):
        if isinstance(case.get(column), str):
            try:
                case[column] = json.loads(case[column] or "[]")
            except ValueError:
                case[column] = []
    agency = agreement = None
    if case["agency"]:
        agency = await Agency.select().where(Agency.id == case["agency"]).first()
    if case["agreement"]:
        agreement = await Agreement.select().where(Agreement.id == case["agreement"]).first()
    case_officers = await CaseOfficer.select(
        CaseOfficer.all_columns(), CaseOfficer.officer.name.as_alias("registry_name"),
        CaseOfficer.officer.badge_number.as_alias("registry_badge"),
        CaseOfficer.officer.agency.name.as_alias("registry_agency"),
    ).where(CaseOfficer.case == case_id).order_by(CaseOfficer.position, CaseOfficer.id)
    designations = await designations_for([o["officer"] for o in case_officers if o["officer"]])
    allegations = await service._allegations(case_id)
    for officer in case_officers:
        officer["designations"] = designations.get(officer["officer"], [])
        officer["has_active_designation"] = any(
            d["status"] == "active" for d in officer["designations"])
        # A sustained final finding is the ground for a rescission recommendation.
        officer["sustained"] = bool(officer["officer"]) and any(
            a["officer"] == officer["officer"] and a["final_finding"] == "sustained"
            for a in allegations)
    # The witnesses the complainant named on the public form (their contact details are shown
    # only to those who may see the complainant's).
    witnesses = await Witness.select().where(Witness.case == case_id).order_by(
        Witness.position, Witness.id)
    notes = await CaseNote.select().where(CaseNote.case == case_id).order_by(CaseNote.id)
    tasks = await Task.select().where(Task.case == case_id).order_by(Task.id)
    interviews = await Interview.select().where(Interview.case == case_id).order_by(
        Interview.held_at, Interview.id)
    referrals = await Referral.select().where(Referral.case == case_id).order_by(Referral.id)
    assignments = await CaseAssignment.select().where(CaseAssignment.case == case_id).order_by(
        CaseAssignment.id)
    timeline = await audit.case_timeline(case_id)
    names = await _user_names(
        {case["lead_investigator"]} | {n["author"] for n in notes}
        | {t["assignee"] for t in tasks} | {a["investigator"] for a in assignments}
        | {a["assigned_by"] for a in assignments} | {e["actor_id"] for e in timeline}
        | {a["recommended_by"] for a in allegations} | {a["final_by"] for a in allegations}
        | {i["recorded_by"] for i in interviews})
    contact = await service.view_contact(case)

    def can(action: str) -> bool:
        return policies.may_act_on_case(actor, case, action)

    transitions = [t.name for t in rules.TRANSITIONS.values()
                   if policies.may_transition(actor, case, t.name)]
    suggestions: dict[int, list[dict[str, Any]]] = {}
    agencies: list[dict[str, Any]] = []
    agreements: list[dict[str, Any]] = []
    if can("link_officer"):
        for officer in case_officers:
            if not officer["officer"]:
                suggestions[officer["id"]] = await service.suggest_officers(officer)
    if can("set_agency"):
        agencies = await Agency.select(Agency.id, Agency.name, Agency.state).order_by(
            Agency.state, Agency.name, Agency.id)
        if case["agency"]:
            agreements = await Agreement.select(Agreement.id, Agreement.model,
                                                Agreement.status).where(
                Agreement.agency == case["agency"])
    may_assign = (policies.may_transition(actor, case, "assign")
                  or policies.may_act_on_case(actor, case, "reassign"))
    now = service.now()
    return {
        "case": case,
        "status_label": rules.status_label(case["status"]),
        "agency": agency,
        "agreement": agreement,
        "case_officers": case_officers,
        "officer_by_case_officer": {o["id"]: o for o in case_officers},
        "allegations": allegations,
        "witnesses": witnesses,
        "notes": notes,
        "tasks": tasks,
        "interviews": interviews,
        "referrals": referrals,
        "assignments": assignments,
        "timeline": timeline,
        "names": names,
        "contact": contact,
        "may_view_contact": policies.may_view_complainant_contact(actor, case),
        "clocks": case_clocks(case, now),
        "transitions": transitions,
        "may": {name: can(name) for name in (
            "link_officer", "set_agency", "add_allegation", "add_note", "add_task",
            "complete_task", "record_interview", "record_recommended_finding",
            "accept_finding", "record_referral", "record_results_reported",
            "suspend_designation", "lift_suspension")} | {"assign": may_assign},
        "suggestions": suggestions,
        "agencies": agencies,
        "agreements": agreements,
        "today": service.today(),
        "now": now,
        "labels": {
            "findings": rules.FINDING_LABELS,
            "allegations": rules.ALLEGATION_LABELS,
            "characteristics": rules.PROTECTED_CHARACTERISTICS,
            "bodies": rules.REFERRAL_BODY_LABELS,
            "standards": rules.STANDARD_LABELS,
            "transitions": {t.name: t.label for t in rules.TRANSITIONS.values()},
            # the public form's own choices, so staff read what the complainant was shown
            "settings": dict(intake_forms.SETTINGS),
            "contexts_287g": dict(intake_forms.CONTEXTS_287G),
            "checklist": dict(intake_forms.CHECKLIST),
        },
        "event_label": rules.event_label,
        "public_status": rules.public_status_text(case["status"], case["outcome"],
                                                  case["referred_to"]),
    }
