"""The case page's view-model: everything the page shows, for this actor (the read is audited)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from casetracker.accounts.rules import role_labels
from casetracker.accounts.tables import User
from casetracker.audit import services as audit
from casetracker.auth import policies
from casetracker.cases import clocks, rules
from casetracker.cases import timeline as timeline_words
from casetracker.cases.designations import designations_for
from casetracker.cases.tables import (
    CaseAssignment,
    CaseNote,
    CaseOfficer,
    Interview,
    Referral,
    Task,
    Witness,
)
from casetracker.registry.pickers import AGREEMENT_STATUS_LABELS
from casetracker.registry.tables import MODEL_LABELS, Agency, Agreement
from casetracker.web.i18n import gettext as _

if TYPE_CHECKING:
    from casetracker.cases.services import CaseService


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


# audit details that name a person by id (the timeline says their name)
_PEOPLE_IN_DETAILS = ("investigator_id", "previous_investigator_id", "assignee_id")


async def case_page_context(service: CaseService, case_id: int) -> dict[str, Any]:
    """Everything the case page shows, for this actor (the read is audited)."""
    actor = service.actor
    from casetracker.intake import forms as intake_forms
    from casetracker.intake import staff_forms

    case = await service.view_case(case_id, opening_page=True)
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
        *CaseOfficer.all_columns(), CaseOfficer.officer.name.as_alias("registry_name"),
        CaseOfficer.officer.badge_number.as_alias("registry_badge"),
        CaseOfficer.officer._.agency._.name.as_alias("registry_agency"),
        CaseOfficer.officer.awaiting_confirmation.as_alias("awaiting_confirmation"),
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
        | {i["recorded_by"] for i in interviews}
        | {e["details"].get(key) for e in timeline for key in _PEOPLE_IN_DETAILS
           if isinstance(e["details"].get(key), int)})
    for event in timeline:
        event["words"] = timeline_words.describe(event["action"], event["details"], names,
                                                 service.settings.timezone)
    contact = await service.view_contact(case)
    may_view_contact = policies.may_view_complainant_contact(actor, case)
    # What the complainant added from the status page, in full (the read above is audited);
    # consent changes only for those who may see who the complainant is.
    from casetracker.intake import additions

    follow_ups = await additions.follow_ups(case_id)
    from casetracker.intake.staff import how_received

    staff_intake = await how_received(case_id)
    # Letters to the complainant and the contact log (intake.correspondence).
    from casetracker.intake import correspondence

    may_write = policies.may_write_to_complainant(actor, case)
    letters = contact_log = due_letters = []
    if may_write:
        letters = await correspondence.letters_for_case(case_id)
        contact_log = await correspondence.contact_log(case_id)
        due_letters = await correspondence.CorrespondenceService(actor).due_kinds(case_id)
    for follow_up in follow_ups:
        follow_up["new"] = follow_up["id"] in service.follow_ups_just_read
    consent_changes = await additions.consent_changes(case_id) if may_view_contact else []

    def can(action: str) -> bool:
        return policies.may_act_on_case(actor, case, action)

    transitions = [t.name for t in rules.TRANSITIONS.values()
                   if policies.may_transition(actor, case, t.name)]
    suggestions: dict[int, list[dict[str, Any]]] = {}
    agreements: list[dict[str, Any]] = []
    if can("link_officer"):
        for officer in case_officers:
            if not officer["officer"]:
                suggestions[officer["id"]] = await service.suggest_officers(officer)
    if can("set_agency"):
        if case["agency"]:
            agreements = await Agreement.select(Agreement.id, Agreement.model,
                                                Agreement.status).where(
                Agreement.agency == case["agency"])
    task_assignees = await service.task_assignees(case) if can("add_task") else []
    for task in tasks:
        task["may_complete"] = task["done_at"] is None and policies.may_complete_task(
            actor, case, task)
    # A case the supervisor sent back: their comments stay at the top until the findings
    # go in again.
    return_comments = None
    if case["status"] in ("returned", "under_investigation"):
        for event in timeline:
            if event["action"] == "case.returned":
                return_comments = event
            elif event["action"] == "case.findings_submitted":
                return_comments = None
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
        "task_assignees": task_assignees,
        "role_labels": role_labels(),
        "interviews": interviews,
        "referrals": referrals,
        "assignments": assignments,
        "timeline": timeline,
        "names": names,
        "contact": contact,
        "may_view_contact": may_view_contact,
        "follow_ups": follow_ups,
        "return_comments": return_comments,
        "staff_intake": staff_intake,
        "may_write_to_complainant": may_write,
        "letters": letters,
        "contact_log": contact_log,
        "due_letters": due_letters,
        "follow_up_by_id": {f["id"]: f for f in follow_ups},
        "consent_changes": consent_changes,
        "clocks": case_clocks(case, now),
        "transitions": transitions,
        "may": {name: can(name) for name in (
            "link_officer", "set_agency", "add_allegation", "add_note", "add_task",
            "complete_task", "record_interview", "record_recommended_finding",
            "accept_finding", "record_referral", "record_results_reported",
            "suspend_designation", "lift_suspension")} | {"assign": may_assign},
        "suggestions": suggestions,
        "model_labels": {k: _(v) for k, v in MODEL_LABELS.items()},
        "agreement_status_labels": AGREEMENT_STATUS_LABELS,
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
            "channels": {"web": _("web form"), "api": _("partner API"),
                         "legacy": _("earlier system"),
                         **dict(staff_forms.CHANNELS)},
            "referring_bodies": dict(staff_forms.REFERRING_BODIES),
        },
        "event_label": rules.event_label,
        "public_status": rules.public_status_text(case["status"], case["outcome"],
                                                  case["referred_to"]),
    }
