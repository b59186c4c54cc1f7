"""The case workflow as pure rules: states, transitions, who may make them, what each needs.

No I/O. Services load rows, ask these functions, then write. Every refusal is an
``errors.InvalidTransition`` (409) or ``errors.ValidationFailed`` (422) whose message is a
sentence telling the user what to do next.

States::

    received → in_triage → declined | referred | open
    open → under_investigation (a lead investigator is assigned)
    under_investigation → findings_submitted → under_review → returned | closed
    returned → under_investigation → findings_submitted → …
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casetracker.auth.permissions import Permission as P
from casetracker.errors import InvalidTransition, ValidationFailed
from casetracker.web.i18n import gettext as _
from casetracker.web.i18n import lazy_gettext as _l

RECEIVED = "received"
IN_TRIAGE = "in_triage"
DECLINED = "declined"
REFERRED = "referred"
OPEN = "open"
UNDER_INVESTIGATION = "under_investigation"
FINDINGS_SUBMITTED = "findings_submitted"
UNDER_REVIEW = "under_review"
RETURNED = "returned"
CLOSED = "closed"

ALL_STATES = (RECEIVED, IN_TRIAGE, DECLINED, REFERRED, OPEN, UNDER_INVESTIGATION,
              FINDINGS_SUBMITTED, UNDER_REVIEW, RETURNED, CLOSED)
TRIAGE_STATES = frozenset({RECEIVED, IN_TRIAGE})
FINAL_STATES = frozenset({DECLINED, REFERRED, CLOSED})
# States in which the lead investigator works the case (notes, tasks, interviews, findings).
INVESTIGATION_STATES = frozenset({UNDER_INVESTIGATION, RETURNED})
ACTIVE_STATES = frozenset(ALL_STATES) - FINAL_STATES

STATUS_LABELS: dict[str, Any] = {
    RECEIVED: _l("Received"),
    IN_TRIAGE: _l("In triage"),
    DECLINED: _l("Declined"),
    REFERRED: _l("Referred elsewhere"),
    OPEN: _l("Open, awaiting assignment"),
    UNDER_INVESTIGATION: _l("Under investigation"),
    FINDINGS_SUBMITTED: _l("Findings submitted"),
    UNDER_REVIEW: _l("Under review"),
    RETURNED: _l("Returned to investigation"),
    CLOSED: _l("Closed"),
}

# Who may act: "permission" = anyone holding the permission who may see the case;
# "lead" = the case's lead investigator, or anyone holding CASE_REVIEW (supervisors).
BY_PERMISSION = "permission"
BY_LEAD = "lead"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    permission: P
    who: str = BY_PERMISSION
    label: Any = ""


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("start_triage", frozenset({RECEIVED}), IN_TRIAGE, P.CASE_TRIAGE,
               label=_l("Start triage")),
    Transition("open", frozenset({IN_TRIAGE}), OPEN, P.CASE_TRIAGE,
               label=_l("Open an investigation")),
    Transition("refer", frozenset({IN_TRIAGE}), REFERRED, P.CASE_TRIAGE,
               label=_l("Refer elsewhere")),
    Transition("decline", frozenset({IN_TRIAGE}), DECLINED, P.CASE_TRIAGE,
               label=_l("Decline")),
    Transition("assign", frozenset({OPEN}), UNDER_INVESTIGATION, P.CASE_ASSIGN,
               label=_l("Assign a lead investigator")),
    Transition("submit_findings", frozenset({UNDER_INVESTIGATION}), FINDINGS_SUBMITTED,
               P.CASE_INVESTIGATE, who=BY_LEAD, label=_l("Submit findings for review")),
    Transition("start_review", frozenset({FINDINGS_SUBMITTED}), UNDER_REVIEW, P.CASE_REVIEW,
               label=_l("Start review")),
    Transition("return", frozenset({UNDER_REVIEW}), RETURNED, P.CASE_REVIEW,
               label=_l("Return to investigation")),
    Transition("resume", frozenset({RETURNED}), UNDER_INVESTIGATION, P.CASE_INVESTIGATE,
               who=BY_LEAD, label=_l("Resume the investigation")),
    Transition("close", frozenset({UNDER_REVIEW}), CLOSED, P.CASE_REVIEW,
               label=_l("Close the case")),
)}


@dataclass(frozen=True)
class Action:
    """A change that does not move the case between states, allowed in ``states``."""

    name: str
    states: frozenset[str]
    permission: P
    who: str = BY_PERMISSION


_WORKING = frozenset({OPEN, UNDER_INVESTIGATION, FINDINGS_SUBMITTED, UNDER_REVIEW, RETURNED})
ACTIONS: dict[str, Action] = {a.name: a for a in (
    # triage
    Action("link_officer", frozenset({IN_TRIAGE}), P.CASE_TRIAGE),
    Action("set_agency", frozenset({IN_TRIAGE}), P.CASE_TRIAGE),
    Action("add_allegation", frozenset({IN_TRIAGE}), P.CASE_TRIAGE),
    Action("add_allegation_investigation", INVESTIGATION_STATES, P.CASE_INVESTIGATE, BY_LEAD),
    # assignment after the first one
    Action("reassign", frozenset({UNDER_INVESTIGATION, FINDINGS_SUBMITTED, UNDER_REVIEW,
                                  RETURNED}), P.CASE_ASSIGN),
    # investigation
    Action("add_note_triage", frozenset({IN_TRIAGE}), P.CASE_TRIAGE),
    Action("add_note", _WORKING | FINAL_STATES, P.CASE_INVESTIGATE, BY_LEAD),
    Action("add_task", _WORKING, P.CASE_INVESTIGATE, BY_LEAD),
    Action("complete_task", _WORKING, P.CASE_INVESTIGATE, BY_LEAD),
    Action("record_interview", INVESTIGATION_STATES, P.CASE_INVESTIGATE, BY_LEAD),
    Action("record_recommended_finding", INVESTIGATION_STATES, P.CASE_INVESTIGATE, BY_LEAD),
    # review
    Action("accept_finding", frozenset({UNDER_REVIEW}), P.CASE_REVIEW),
    # referrals and the ICE clocks: triage staff while in triage, the lead or a supervisor later
    Action("record_referral_triage", frozenset({IN_TRIAGE}), P.CASE_TRIAGE),
    Action("record_referral", _WORKING | FINAL_STATES, P.CASE_INVESTIGATE, BY_LEAD),
    Action("record_results_reported", frozenset({CLOSED, DECLINED, REFERRED}), P.CASE_REVIEW),
    # designations (MOA: removal from the program pending adjudication)
    Action("suspend_designation", ACTIVE_STATES, P.DESIGNATION_SUSPEND),
    Action("lift_suspension", FINAL_STATES, P.DESIGNATION_SUSPEND),
)}

# Several actions exist in two flavours (triage staff / lead); these are the user-facing names.
ACTION_ALIASES: dict[str, tuple[str, ...]] = {
    "add_allegation": ("add_allegation", "add_allegation_investigation"),
    "add_note": ("add_note_triage", "add_note"),
    "record_referral": ("record_referral_triage", "record_referral"),
}


def transition_for(name: str) -> Transition:
    try:
        return TRANSITIONS[name]
    except KeyError:
        raise InvalidTransition(_("There is no workflow step called %(name)s.", name=name)
                                ) from None


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def check_transition(name: str, status: str) -> Transition:
    """The transition, if it may start from ``status``; InvalidTransition otherwise."""
    transition = transition_for(name)
    if status not in transition.sources:
        allowed = ", ".join(status_label(s) for s in sorted(transition.sources))
        raise InvalidTransition(
            _("%(step)s is not possible while the case is “%(status)s”: it is only possible "
              "when the case is %(allowed)s.", step=str(transition.label),
              status=status_label(status), allowed=allowed),
            transition=name, status=status,
        )
    return transition


def available_transitions(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]


def action_allowed_in(action: str, status: str) -> bool:
    return any(status in ACTIONS[name].states for name in ACTION_ALIASES.get(action, (action,)))


def check_action_state(action: str, status: str, what: str) -> None:
    if not action_allowed_in(action, status):
        raise InvalidTransition(
            _("You cannot %(what)s while the case is “%(status)s”.", what=what,
              status=status_label(status)),
            action=action, status=status,
        )


# --- requirements of each transition -----------------------------------------------------

def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def require_open(allegations: Sequence[Any]) -> None:
    if not allegations:
        raise InvalidTransition(_(
            "Record at least one allegation before opening an investigation."))


def require_reason(reason: str, field: str = "reason",
                   message: str = "") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({field: message or _("Give the reason for this decision.")})
    return reason


def require_referral_body(body: str, body_other: str = "") -> None:
    from casetracker.cases.tables import ReferralBody

    if body not in {b.value for b in ReferralBody}:
        raise ValidationFailed({"body": _("Choose the body the complaint is referred to.")})
    if body == "other" and not (body_other or "").strip():
        raise ValidationFailed({"body_other": _("Name the body the complaint is referred to.")})


def require_assignment(current_lead_id: int | None, new_lead_id: int | None,
                       reason: str) -> bool:
    """Returns True when this is a reassignment. A lead is required; reassigning needs a
    reason; "assigning" the current lead again is refused."""
    if not new_lead_id:
        raise ValidationFailed({"investigator": _("Choose a lead investigator.")})
    if current_lead_id is None:
        return False
    if current_lead_id == new_lead_id:
        raise ValidationFailed({"investigator": _("This investigator already leads the case.")})
    if not (reason or "").strip():
        raise ValidationFailed({"reason": _("Give the reason for reassigning the case.")})
    return True


def missing_recommended(allegations: Iterable[Any]) -> list[Any]:
    return [a for a in allegations if not _get(a, "recommended_finding")]


def missing_final(allegations: Iterable[Any]) -> list[Any]:
    return [a for a in allegations if not _get(a, "final_finding")]


def require_submit_findings(allegations: Sequence[Any]) -> None:
    if not allegations:
        raise InvalidTransition(_("The case has no allegation to make a finding on."))
    missing = missing_recommended(allegations)
    if missing:
        raise InvalidTransition(
            _("Record a recommended finding on every allegation before submitting: "
              "%(missing)s of %(total)s still need one.", missing=len(missing),
              total=len(allegations)))


def require_close(allegations: Sequence[Any]) -> None:
    if not allegations:
        raise InvalidTransition(
            _("The case has no allegation, so it cannot be closed on findings."))
    missing = missing_final(allegations)
    if missing:
        raise InvalidTransition(
            _("The case cannot be closed until every allegation has a final finding: "
              "%(missing)s of %(total)s still need one. Accept or record a final finding on "
              "each allegation, then close the case.", missing=len(missing),
              total=len(allegations)))


def require_return_comments(comments: str) -> str:
    return require_reason(comments, "comments",
                          _("Say what the investigator should do before resubmitting."))


# --- findings and allegations ------------------------------------------------------------

STANDARDS_OF_PROOF = ("preponderance", "clear_and_convincing", "beyond_reasonable_doubt")
STANDARD_LABELS: dict[str, Any] = {
    "preponderance": _l("Preponderance of the evidence"),
    "clear_and_convincing": _l("Clear and convincing evidence"),
    "beyond_reasonable_doubt": _l("Beyond a reasonable doubt"),
}

FINDING_LABELS: dict[str, Any] = {
    "sustained": _l("Sustained"),
    "not_sustained": _l("Not sustained"),
    "unfounded": _l("Unfounded"),
    "exonerated": _l("Exonerated"),
    "policy_failure": _l("Policy failure"),
    "training_failure": _l("Training failure"),
    "withdrawn": _l("Withdrawn"),
    "mediated": _l("Mediated"),
    "officer_unidentified": _l("Officer unidentified"),
    "complainant_unavailable": _l("Complainant unavailable or uncooperative"),
    "administratively_closed": _l("Administratively closed"),
    "referred": _l("Referred"),
    "pending_litigation": _l("Pending litigation"),
}

ALLEGATION_LABELS: dict[str, Any] = {
    "racial_profiling": _l("Racial profiling / bias"),
    "unlawful_stop": _l("Unlawful stop"),
    "unlawful_detention": _l("Unlawful detention or detainer"),
    "search": _l("Unlawful search"),
    "force": _l("Force"),
    "language_access": _l("Language access"),
    "discourtesy": _l("Discourtesy"),
    "other": _l("Other"),
}

PROTECTED_CHARACTERISTICS: dict[str, Any] = {
    "race": _l("Race or color"),
    "ethnicity": _l("Ethnicity"),
    "national_origin": _l("National origin"),
    "language": _l("Language / limited English"),
    "immigration_status": _l("Immigration or citizenship status"),
    "religion": _l("Religion"),
    "sex": _l("Sex"),
    "other": _l("Other"),
}

REFERRAL_BODY_LABELS: dict[str, Any] = {
    "agency_ia": _l("The agency's internal affairs"),
    "ice_officer": _l("ICE officer (48-hour notification)"),
    "ice_opr": _l("ICE Office of Professional Responsibility"),
    "dhs_oig": _l("DHS Office of Inspector General"),
    "dhs_jic": _l("DHS Joint Intake Center"),
    "dhs_crcl": _l("DHS Office for Civil Rights and Civil Liberties"),
    "doj_crt": _l("DOJ Civil Rights Division"),
    "other": _l("Another body"),
}

ICE_BODIES = frozenset({"ice_officer", "ice_opr"})


def validate_allegation(allegation_type: str, protected_characteristic: str,
                        existing: Iterable[tuple[int | None, str]],
                        case_officer_id: int | None) -> None:
    """One allegation per officer and act; profiling needs the protected characteristic."""
    errors: dict[str, str] = {}
    if allegation_type not in ALLEGATION_LABELS:
        errors["allegation_type"] = _("Choose the type of allegation.")
    if allegation_type == "racial_profiling" and protected_characteristic not in \
            PROTECTED_CHARACTERISTICS:
        errors["protected_characteristic"] = _(
            "Choose the protected characteristic the complainant believes was the basis.")
    elif protected_characteristic and protected_characteristic not in PROTECTED_CHARACTERISTICS:
        errors["protected_characteristic"] = _("Choose a protected characteristic from the list.")
    if not errors and (case_officer_id, allegation_type) in set(existing):
        errors["allegation_type"] = _(
            "This officer already has an allegation of this type: edit that one instead.")
    if errors:
        raise ValidationFailed(errors)


def validate_finding(finding: str, field: str = "finding") -> None:
    if finding not in FINDING_LABELS:
        raise ValidationFailed({field: _("Choose a finding from the list.")})


def validate_standard(standard: str) -> None:
    if standard not in STANDARDS_OF_PROOF:
        raise ValidationFailed({"standard": _("Choose the standard of proof.")})


# Order of precedence when one word must summarise a case's findings (most serious first).
_OUTCOME_PRECEDENCE = tuple(FINDING_LABELS)


def case_outcome(final_findings: Iterable[str]) -> str:
    """The most serious final finding: what Case.outcome records at closure."""
    found = set(final_findings)
    for finding in _OUTCOME_PRECEDENCE:
        if finding in found:
            return finding
    return ""


# --- ICE notification --------------------------------------------------------------------

# The 287(g) context the complainant described, as the agreement model it points to.
CONTEXT_MODELS = {"jail_screening": "JEM", "warrant_service": "WSO", "field": "TFM"}
LIVE_AGREEMENT_STATUSES = frozenset({"active", "pending", "suspended"})


def choose_agreement(agreements: Sequence[Any], context_287g: str = "",
                     designated_agreement_ids: Iterable[int] = ()) -> int | None:
    """The agreement a case falls under, when it can be told without asking: the agency's only
    agreement; else the one a linked officer is designated under; else the only live one of the
    model the complaint describes. None when a person has to choose (or none exists)."""
    if not agreements:
        return None
    if len(agreements) == 1:
        return _get(agreements[0], "id")
    ids = {_get(a, "id") for a in agreements}
    designated = [i for i in dict.fromkeys(designated_agreement_ids) if i in ids]
    if len(designated) == 1:
        return designated[0]
    model = CONTEXT_MODELS.get(context_287g or "")
    if model:
        of_model = [a for a in agreements if _get(a, "model") == model]
        live = [a for a in of_model if _get(a, "status") in LIVE_AGREEMENT_STATUSES]
        for group in (of_model, live):
            if len(group) == 1:
                return _get(group[0], "id")
    return None


def ice_notification_required(designation_statuses: Iterable[str]) -> bool:
    """A complaint naming a designated officer (active or suspended designation) must be
    notified to ICE within 48 weekday hours."""
    return any(s in ("active", "suspended") for s in designation_statuses)


# --- what the public status page says ----------------------------------------------------

PUBLIC_SENTENCES: dict[str, str] = {
    "received": "We have received your complaint. Staff will review it soon.",
    "in_review": "Staff are reviewing your complaint to decide what happens next.",
    "declined": "We reviewed your complaint and decided not to investigate it. "
                "The complaint stays on record.",
    "referred": "We sent your complaint to %(body)s, which is responsible for it.",
    "investigating": "Your complaint is being investigated.",
    "reviewing": "The investigation has finished and its findings are being reviewed.",
    "closed_sustained": "The investigation is closed. It found that the officer's conduct "
                        "broke the law or policy.",
    "closed_not_sustained": "The investigation is closed. There was not enough evidence to "
                            "prove or disprove the complaint.",
    "closed_unfounded": "The investigation is closed. It found that what was described did "
                        "not happen.",
    "closed_exonerated": "The investigation is closed. It found that what happened was lawful "
                         "and within policy.",
    "closed_systemic": "The investigation is closed. It found a problem with the agency's "
                       "policy or training.",
    "closed_no_finding": "The case is closed without a finding on the merits.",
    "closed": "The case is closed.",
}

PUBLIC_BODY_NAMES: dict[str, str] = {
    "agency_ia": "the agency's internal affairs office",
    "ice_officer": "U.S. Immigration and Customs Enforcement (ICE)",
    "ice_opr": "ICE's Office of Professional Responsibility",
    "dhs_oig": "the DHS Office of Inspector General",
    "dhs_jic": "the DHS Joint Intake Center",
    "dhs_crcl": "the DHS Office for Civil Rights and Civil Liberties",
    "doj_crt": "the U.S. Department of Justice, Civil Rights Division",
    "other": "another office",
}


def public_status_key(status: str, outcome: str = "", referred_to: str = "") -> str:
    """Which plain sentence (a key of PUBLIC_SENTENCES) the public status page shows."""
    if status == RECEIVED:
        return "received"
    if status == IN_TRIAGE:
        return "in_review"
    if status == DECLINED:
        return "declined"
    if status == REFERRED:
        return "referred"
    if status in (OPEN, UNDER_INVESTIGATION, RETURNED):
        return "investigating"
    if status in (FINDINGS_SUBMITTED, UNDER_REVIEW):
        return "reviewing"
    if status == CLOSED:
        if outcome in ("sustained", "not_sustained", "unfounded", "exonerated"):
            return f"closed_{outcome}"
        if outcome in ("policy_failure", "training_failure"):
            return "closed_systemic"
        if outcome:
            return "closed_no_finding"
        return "closed"
    return "in_review"


def public_status_sentence(status: str, outcome: str = "", referred_to: str = "") -> str:
    """The English sentence (a gettext msgid, with the body already filled in for referrals).

    Translate with ``public_status_text``."""
    key = public_status_key(status, outcome, referred_to)
    return PUBLIC_SENTENCES[key]


def public_status_text(status: str, outcome: str = "", referred_to: str = "") -> str:
    """The sentence in the current request's language."""
    from casetracker.web.i18n import gettext

    key = public_status_key(status, outcome, referred_to)
    if key == "referred":
        body = PUBLIC_BODY_NAMES.get(referred_to, PUBLIC_BODY_NAMES["other"])
        return gettext(PUBLIC_SENTENCES[key], body=gettext(body))
    return gettext(PUBLIC_SENTENCES[key])


# --- what the case timeline calls each audit event ------------------------------------------

EVENT_LABELS: dict[str, Any] = {
    "case.filed": _l("Complaint filed"),
    # recorded by intake and evidence on the case (their own action names)
    "complaint.filed": _l("Complaint filed"),
    "complaint.follow_up": _l("Complainant added information"),
    "complaint.consent_changed": _l("Complainant changed who may know their identity"),
    "evidence.receive": _l("Evidence received"),
    "evidence.withdraw": _l("Evidence withdrawn"),
    "case.triage_started": _l("Triage started"),
    "case.officer_linked": _l("Officer linked to the registry"),
    "case.agency_set": _l("Agency set"),
    "case.allegation_added": _l("Allegation recorded"),
    "case.opened": _l("Investigation opened"),
    "case.referred": _l("Complaint referred elsewhere"),
    "case.declined": _l("Complaint declined"),
    "case.assigned": _l("Lead investigator assigned"),
    "case.reassigned": _l("Lead investigator reassigned"),
    "case.note_added": _l("Note added"),
    "case.task_added": _l("Task added"),
    "case.task_completed": _l("Task completed"),
    "case.interview_recorded": _l("Interview recorded"),
    "case.finding_recommended": _l("Recommended finding recorded"),
    "case.findings_submitted": _l("Findings submitted for review"),
    "case.review_started": _l("Review started"),
    "case.finding_accepted": _l("Final finding recorded"),
    "case.returned": _l("Returned to investigation"),
    "case.resumed": _l("Investigation resumed"),
    "case.closed": _l("Case closed"),
    "case.ice_notified": _l("ICE notified"),
    "case.referral_recorded": _l("Referral recorded"),
    "case.referral_updated": _l("Referral updated"),
    "case.results_reported": _l("Results reported to ICE"),
    "case.designation_suspended": _l("Designation suspended pending adjudication"),
    "case.designation_reinstated": _l("Designation suspension lifted"),
    "registry.designation.suspend": _l("Designation suspended pending adjudication"),
    "registry.designation.lift_suspension": _l("Designation suspension lifted"),
    "registry.designation.revoke": _l("Designation revoked"),
    "case.officer_proposed": _l("New registry officer proposed"),
    "case.officer_merged": _l("Proposed officer merged with the registry officer"),
}

# Reads recorded on a case (the access log), in words.
ACCESS_LABELS: dict[str, Any] = {
    "case.view": _l("Viewed the case"),
    "case.contact.view": _l("Viewed contact details"),
    "case.report": _l("Printed the case file"),
    "evidence.view": _l("Viewed evidence"),
    "evidence.view_list": _l("Viewed the evidence list"),
    "evidence.view_file": _l("Opened an evidence file"),
    "evidence.preview": _l("Previewed evidence"),
    "evidence.download": _l("Downloaded evidence"),
    "evidence.export": _l("Exported evidence"),
    "evidence.item": _l("Viewed evidence"),
    "evidence.list": _l("Viewed the evidence list"),
    "evidence.verify": _l("Verified evidence hashes"),
}


def event_label(action: str) -> str:
    label = EVENT_LABELS.get(action)
    return str(label) if label is not None else action
