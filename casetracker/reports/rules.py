"""Pure rules of rescission recommendations. No I/O.

1. What each model × agreement text × action allows and needs (``plan_for``): the provisions a
   document quotes (clause keys of ``clauses.CLAUSES``), the determinations a named person must
   record before it can be submitted, what the agreement says ICE's notice must contain and who
   supplies each part, and the notice period. This is DOMAIN.md §3 as code; every combination is
   tested (tests/unit/test_reports_rules.py).
2. The workflow (draft → submitted → approved → issued, corrections) and document numbers.
3. Validation of what staff enter, each refusal a sentence.

Nothing here invents a term: the office's own requests (an effective date, a suspension length,
how the agency may respond) exist only when staff enter them, and are labelled as the office's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from casetracker.errors import Forbidden, InvalidTransition, ValidationFailed
from casetracker.reports.clauses import TEMPLATE_TEXTS

# --- workflow --------------------------------------------------------------------------------

# status → {verb: next status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {"edit": "draft", "submit": "submitted"},
    "submitted": {"approve": "approved", "return": "draft"},
    "approved": {"issue": "issued", "return": "draft"},
    "issued": {"correct": "issued"},  # a correction is a new recommendation; this one stays
}

ACTIONS_BY_KIND = {"officers": ("revocation",), "agreement": ("suspension", "termination")}
KIND_OF_ACTION = {"revocation": "officers", "suspension": "agreement", "termination": "agreement"}
MODELS = ("JEM", "WSO", "TFM")
MOA_2025_FROM = date(2025, 1, 1)
NOTICE_DAYS = 90  # both templates' notice period (JEM termination, WSO suspension/termination)


def next_status(status: str, verb: str) -> str:
    allowed = TRANSITIONS.get(status, {})
    if verb not in allowed:
        raise InvalidTransition(f"A {status} recommendation cannot be {verb}ed.",
                                status=status, verb=verb)
    return allowed[verb]


def ensure_not_author(author_id: int | None, actor_id: int | None) -> None:
    """The approver must be someone other than the author."""
    if author_id is not None and author_id == actor_id:
        raise Forbidden("You wrote this recommendation: another supervisor or administrator "
                        "must approve it.")


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:04d}"


# --- which text an agreement follows ---------------------------------------------------------

@dataclass(frozen=True)
class TextChoice:
    text_key: str  # a clauses.TEMPLATE_TEXTS key
    year: int
    by_analogy: bool  # TFM: no TFM text is held; the 2025 JEM text is quoted by analogy
    reason: str  # how the year was chosen, from the agreement's own record


def text_year(signed_on: date | None, revision: str = "") -> tuple[int, str]:
    """Agreements signed or revised in 2025 or later follow the 2025 template."""
    revision = revision or ""
    found = re.search(r"20\d\d", revision)
    if found and int(found.group()) >= 2025:
        return 2025, f"revision {revision}"
    if signed_on is not None:
        return (2025 if signed_on >= MOA_2025_FROM else 2020), "signing date"
    return 2020, "no signing date on record"


def text_for(model: str, signed_on: date | None, revision: str = "") -> TextChoice:
    if model == "TFM":
        return TextChoice("JEM-2025", 2025, True, "no TFM text held")
    year, reason = text_year(signed_on, revision)
    return TextChoice(f"{'WSO' if model == 'WSO' else 'JEM'}-{year}", year, False, reason)


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = re.sub(r"[\u2019\u2018'`]", "", text)
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


def own_text_held(text_key: str, agency_name: str, state: str) -> bool:
    """Whether the copy held of this template is the agency's own signed agreement."""
    held = TEMPLATE_TEXTS[text_key]
    return (_name_key(held.held_agency) == _name_key(agency_name)
            and held.held_state.upper() == (state or "").upper())


# --- determinations --------------------------------------------------------------------------

@dataclass(frozen=True)
class DeterminationRule:
    key: str
    statement: str  # printed as the named person's determination
    prompt: str  # the form's question
    clause: str  # the provision whose words it applies


DETERMINATIONS: dict[str, DeterminationRule] = {d.key: d for d in (
    DeterminationRule(
        "serious_misconduct",
        "The conduct set out in the grounds of this recommendation is \"serious misconduct or "
        "violations of the terms of the MOA\" in the words of §VIII of the agreement.",
        "Do the sustained findings amount to \"serious misconduct or violations of the terms of "
        "the MOA\" (§VIII)? A suspension pending investigation rests on it.",
        "jem.suspension"),
    DeterminationRule(
        "unresolvable",
        "The problems set out in the grounds of this recommendation are \"unresolvable and "
        "detrimental to the 287(g) Program\" in the words of §VIII of the agreement.",
        "Are the problems \"unresolvable and detrimental to the 287(g) Program\" (§VIII)? The "
        "agreement generally reserves termination for them.",
        "jem.termination_reserved"),
    DeterminationRule(
        "termination_before_suspension",
        "Termination is recommended although the agreement has not been suspended.",
        "The agreement's notice of termination follows a suspension (\"If ICE decides to move "
        "from suspension to termination\"), and this agreement is not suspended. Why recommend "
        "termination now?",
        "jem.termination_notice"),
    DeterminationRule(
        "exigent_public_safety",
        "Exigent circumstances involving public safety dictate that the {action} take effect "
        "sooner than 90 days after ICE's notice is received, in the words of §VIII of the "
        "agreement.",
        "Do \"exigent circumstances involving public safety\" dictate that it take effect sooner "
        "than 90 days after ICE's notice is received (§VIII)?",
        "wso.ice_notice_effect"),
)}


def determination_statement(key: str, action: str) -> str:
    noun = {"suspension": "suspension", "termination": "termination"}.get(action, action)
    return DETERMINATIONS[key].statement.replace("{action}", noun)


# --- the plan of one model × text × action ----------------------------------------------------

@dataclass(frozen=True)
class NoticeItem:
    """One thing the agreement says ICE's notice must contain, and who supplies it."""

    clause: str
    supplied_by: str  # "recommendation" (its grounds) | "office" (a request staff entered) | "ice"


@dataclass(frozen=True)
class ClauseGroup:
    title: str
    clauses: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    model: str
    text: TextChoice
    kind: str
    action: str  # as chosen: revocation | suspension | termination
    agreement_action: str  # "" for officers, or the §VIII process that applies
    amounts_to_agreement_action: bool  # a JEM revocation leaving no designated officer
    title: str  # the action as the document names it
    groups: tuple[ClauseGroup, ...]  # the provisions quoted, in order
    determinations: tuple[str, ...]  # DeterminationRule keys a person must record
    notice_intro: str  # clause introducing the notice contents ("" when none)
    notice_items: tuple[NoticeItem, ...]
    sequence_clause: str  # JEM termination: the MOA sequences suspension before it
    min_notice_days: int | None  # an office's requested date must leave at least this notice
    timing_choices: tuple[str, ...]  # WSO agreement actions: ("notice_90", "exigent")
    timing: str  # the chosen one ("" when there is no choice)
    may_request_length: bool  # a suspension: the office may request its length


def _revocation_groups(jem: bool) -> tuple[ClauseGroup, ...]:
    if jem:
        return (ClauseGroup("Revocation of an officer's delegated authority",
                            ("jem.revocation", "jem.revocation_letter", "jem.credentials")),)
    return (ClauseGroup("Withdrawal of an officer's authorization",
                        ("wso.withdrawal", "wso.credentials")),)


def _complaint_group(jem: bool) -> ClauseGroup:
    return ClauseGroup("Complaint procedure (the timeliness shown for each case)",
                       ("jem.complaint_notice", "jem.complaint_results") if jem else
                       ("wso.complaint_notice", "wso.complaint_results"))


def plan_for(model: str, signed_on: date | None, revision: str, action: str, *,
             officers_named: int = 0, others_active: int | None = None,
             viii_process: str = "", timing: str = "", agreement_status: str = "active",
             suspension_length_requested: bool = False,
             response_requested: bool = False) -> Plan:
    """What the document quotes and what a person must decide, for one recommendation.

    ``others_active``: the agreement's active designations on record other than those named;
    when there is none, a JEM (or TFM) revocation would leave no participating personnel and
    amounts to the §VIII process ``viii_process`` chose.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}")
    if action not in KIND_OF_ACTION:
        raise ValueError(f"unknown action {action!r}")
    text = text_for(model, signed_on, revision)
    jem = model != "WSO"
    kind = KIND_OF_ACTION[action]
    amounts = (kind == "officers" and jem and others_active is not None
               and officers_named > 0 and others_active == 0)
    agreement_action = action if kind == "agreement" else (viii_process if amounts else "")
    groups: list[ClauseGroup] = [ClauseGroup("Authority", ("authority",))]
    determinations: list[str] = []
    notice_intro = ""
    notice_items: tuple[NoticeItem, ...] = ()
    sequence_clause = ""
    min_notice: int | None = None
    timing_choices: tuple[str, ...] = ()
    chosen_timing = ""

    if kind == "officers":
        groups.extend(_revocation_groups(jem))
        title = ("Revocation of delegated authority (§IV.D)" if jem
                 else "Withdrawal of authorization (§IV.D)")
        if amounts:
            groups.append(ClauseGroup("A revocation that leaves no designated officer",
                                      ("jem.revocation_amounts_to_moa",)))
            title = ("Revocation of the delegated authority of every designated officer, which "
                     "§IV.D treats as the " + (agreement_action or "suspension or termination")
                     + " of the agreement (§VIII)")
    if agreement_action == "suspension" and jem:
        groups.append(ClauseGroup("Suspension pending investigation",
                                  ("jem.suspension", "jem.opportunity_to_respond",
                                   "jem.moa_end_revokes")))
        determinations.append("serious_misconduct")
        notice_intro = "jem.suspension_notice"
        notice_items = (
            NoticeItem("jem.suspension_notice.1", "recommendation"),
            NoticeItem("jem.suspension_notice.2",
                       "office" if suspension_length_requested else "ice"),
            NoticeItem("jem.suspension_notice.3", "office" if response_requested else "ice"),
        )
        if kind == "agreement":
            title = "Suspension of the agreement pending investigation (§VIII)"
    elif agreement_action == "termination" and jem:
        groups.append(ClauseGroup("Termination", ("jem.termination_reserved",
                                                  "jem.termination_published",
                                                  "jem.moa_end_revokes")))
        determinations.append("unresolvable")
        if agreement_status != "suspended":
            determinations.append("termination_before_suspension")
        notice_intro = "jem.termination_notice"
        notice_items = (NoticeItem("jem.termination_notice.1", "recommendation"),
                        NoticeItem("jem.termination_notice.2", "ice"),
                        NoticeItem("jem.termination_notice.3", "ice"))
        sequence_clause = "jem.termination_notice"
        min_notice = NOTICE_DAYS
        if kind == "agreement":
            title = "Termination of the agreement on 90 days' notice (§VIII)"
    elif kind == "agreement":  # WSO suspension or termination
        clauses_: tuple[str, ...] = ("wso.notice", "wso.ice_notice_effect")
        if action == "termination":
            clauses_ += ("wso.moa_end_revokes",)
        groups.append(ClauseGroup("Suspension or termination on written notice", clauses_))
        timing_choices = ("notice_90", "exigent")
        chosen_timing = timing if timing in timing_choices else "notice_90"
        if chosen_timing == "exigent":
            determinations.append("exigent_public_safety")
            title = (f"{action.capitalize()} of the agreement sooner than 90 days after "
                     "notice, for exigent circumstances involving public safety (§VIII)")
        else:
            min_notice = NOTICE_DAYS
            title = f"{action.capitalize()} of the agreement on 90 days' written notice (§VIII)"
    groups.append(ClauseGroup("Civil rights standards", ("civil_rights",)))
    groups.append(_complaint_group(jem))
    return Plan(
        model=model, text=text, kind=kind, action=action, agreement_action=agreement_action,
        amounts_to_agreement_action=amounts, title=title, groups=tuple(groups),
        determinations=tuple(determinations), notice_intro=notice_intro,
        notice_items=notice_items, sequence_clause=sequence_clause,
        min_notice_days=min_notice, timing_choices=timing_choices, timing=chosen_timing,
        may_request_length=agreement_action == "suspension" or action == "suspension",
    )


def plan_problems(plan: Plan, *, viii_process: str) -> dict[str, str]:
    """What the chosen target and action still need before the text can be written."""
    errors: dict[str, str] = {}
    if plan.amounts_to_agreement_action and viii_process not in ("suspension", "termination"):
        errors["viii_process"] = (
            "These are all the designated officers under this agreement: §IV.D treats revoking "
            "them all as suspending or terminating the agreement. Choose which process applies.")
    return errors


# --- what staff enter ------------------------------------------------------------------------

@dataclass(frozen=True)
class DraftInput:
    kind: str
    action: str
    agreement_id: int | None
    designation_ids: tuple[int, ...]
    case_ids: tuple[int, ...]


def validate_target(data: DraftInput) -> None:
    errors: dict[str, str] = {}
    if data.kind not in ACTIONS_BY_KIND:
        errors["kind"] = "Choose whether the recommendation targets officers or an agreement."
    elif data.action not in ACTIONS_BY_KIND[data.kind]:
        errors["action"] = "Choose an action that fits the target."
    if data.kind == "officers" and not data.designation_ids:
        errors["designation_ids"] = "Choose at least one officer's designation."
    if data.kind == "agreement" and not data.agreement_id:
        errors["agreement_id"] = "Choose the agreement."
    if not data.case_ids:
        errors["case_ids"] = "Choose at least one case with sustained findings."
    if errors:
        raise ValidationFailed(errors)


TEXT_LIMITS = {
    "addressee": 300, "sender": 300, "subject": 300, "summary": 6000, "grounds": 12000,
    "requested_action": 4000, "response_instructions": 4000, "corrective_measures": 4000,
}
REASON_LIMIT = 4000


def validate_text(values: dict[str, object], *, plan: Plan, document_date: date) -> dict[str, str]:
    """Errors by field for what staff entered (empty dict when valid). Saving a draft needs
    no more than this; submitting needs ``submit_problems`` too."""
    errors: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        value = str(values.get(name) or "")
        if len(value) > limit:
            errors[name] = f"Keep this under {limit} characters."
    for name in ("addressee", "sender", "subject"):
        if not str(values.get(name) or "").strip():
            errors[name] = "This cannot be empty."
    requested = values.get("proposed_effective_on")
    if requested is not None:
        if not isinstance(requested, date):
            errors["proposed_effective_on"] = "Give the date as YYYY-MM-DD."
        elif requested < document_date:
            errors["proposed_effective_on"] = "Choose a date from today on, or leave it empty."
        elif plan.min_notice_days and requested < document_date + timedelta(
                days=plan.min_notice_days):
            if plan.timing_choices:
                errors["proposed_effective_on"] = (
                    "The agreement gives 90 days after ICE's notice is received (§VIII). A "
                    "sooner date needs the determination that exigent circumstances involving "
                    "public safety dictate otherwise: choose that timing and record it, or "
                    "leave the date empty.")
            else:
                errors["proposed_effective_on"] = (
                    "The agreement requires a 90-day notice before termination (§VIII): choose "
                    f"a date on or after {(document_date + timedelta(days=90)).isoformat()}, or "
                    "leave it empty.")
    days = values.get("suspension_days")
    if days is not None:
        if not plan.may_request_length:
            errors["suspension_days"] = "Only a suspension has a length."
        elif not isinstance(days, int) or not 1 <= days <= 365:
            errors["suspension_days"] = ("Give the length the office requests in days (1–365), "
                                         "or leave it empty for ICE to set.")
    if plan.timing_choices and values.get("timing") not in plan.timing_choices:
        errors["timing"] = "Choose when the action should take effect."
    return errors


def submit_problems(values: dict[str, object], plan: Plan,
                    determinations: dict[str, dict[str, object]], *,
                    viii_process: str) -> dict[str, str]:
    """What a draft still lacks before it can go for approval (errors by field)."""
    errors = plan_problems(plan, viii_process=viii_process)
    if not str(values.get("summary") or "").strip():
        errors["summary"] = "Write the summary: it is the office's own statement of the request."
    for key in plan.determinations:
        recorded = determinations.get(key) or {}
        if not recorded.get("made") or not str(recorded.get("reason") or "").strip():
            errors[f"determination_{key}"] = (
                "This action needs this determination, made and explained by a person. Record "
                "it with its reason, or choose another action.")
    return errors


def validate_determination(made: bool, reason: str) -> str | None:
    if made and not reason.strip():
        return "Say why: the document prints your reason with your name."
    if len(reason) > REASON_LIMIT:
        return f"Keep this under {REASON_LIMIT} characters."
    return None


# --- what the system proposes (from the registry only) ---------------------------------------

def proposed_subject(kind: str, action: str, model: str, agency_name: str,
                     officer_names: list[str]) -> str:
    if kind == "officers":
        names = ", ".join(officer_names) or "designated officers"
        verb = "withdraw the 287(g) authorization" if model == "WSO" else \
            "revoke the delegated 287(g) authority"
        return f"Recommendation to {verb} of {names} ({agency_name}, {model})"
    verb = "terminate" if action == "termination" else "suspend"
    return f"Recommendation to {verb} the 287(g) {model} agreement of the {agency_name}"


def proposed_addressee(kind: str, action: str, model: str) -> str:
    """To whom the agreement gives the decision: the FOD signs a JEM letter of revocation
    (§IV.D); the ICE Director suspends a JEM agreement on the ERO Executive Associate
    Director's recommendation (§VIII). Otherwise ICE (a WSO notice is "by ICE")."""
    if kind == "officers":
        return "Field Office Director, U.S. Immigration and Customs Enforcement"
    if model != "WSO":
        return ("Director, U.S. Immigration and Customs Enforcement (through the Executive "
                "Associate Director, Enforcement and Removal Operations)")
    return "Director, U.S. Immigration and Customs Enforcement"


# --- ICE's response ----------------------------------------------------------------------------

RESPONSE_OUTCOMES = {
    "designation": ("revoked", "suspended", "declined"),
    "agreement": ("suspended", "terminated", "declined"),
}


def validate_response(target: str, outcome: str, acted_on: date | None, reason: str,
                      today: date, issued_on: date | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if outcome not in RESPONSE_OUTCOMES.get(target, ()):
        errors["outcome"] = "Choose what ICE did."
        return errors
    if acted_on is None:
        errors["acted_on"] = ("Give the date of ICE's decision (YYYY-MM-DD)." if outcome ==
                              "declined" else "Give the date ICE's action took effect "
                              "(YYYY-MM-DD).")
    elif acted_on > today:
        errors["acted_on"] = "Record what ICE has done, not what it plans: the date cannot be " \
                             "in the future."
    elif issued_on and acted_on < issued_on and outcome == "declined":
        errors["acted_on"] = "ICE cannot have declined before the recommendation was issued."
    if outcome == "declined" and not reason.strip():
        errors["reason"] = "Give ICE's reason for declining, as ICE stated it."
    if len(reason) > REASON_LIMIT:
        errors["reason"] = f"Keep this under {REASON_LIMIT} characters."
    return errors


def validate_follow_up(follow_up_on: date | None, issued_on: date | None) -> str | None:
    if follow_up_on is not None and issued_on is not None and follow_up_on < issued_on:
        return "Choose a date on or after the date of issue."
    return None


ACTED = frozenset({"revoked", "suspended", "terminated"})


def response_state(responses: list[str], follow_up_on: date | None, today: date) -> str:
    """One target's state from its responses, oldest first (the latest counts): acted |
    declined | overdue (no answer by the office's follow-up date) | awaiting."""
    if responses:
        return "acted" if responses[-1] in ACTED else "declined"
    if follow_up_on is not None and follow_up_on < today:
        return "overdue"
    return "awaiting"


def recommendation_state(target_states: list[str]) -> str:
    """A recommendation's state from its targets': acted when ICE acted on any; declined when
    it declined all; otherwise overdue (a target past the follow-up date) or awaiting."""
    if "acted" in target_states:
        return "acted"
    if target_states and all(s == "declined" for s in target_states):
        return "declined"
    return "overdue" if "overdue" in target_states else "awaiting"
