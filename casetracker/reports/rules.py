"""Pure rules of rescission recommendations: workflow, numbering, proposed text. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from casetracker.errors import Forbidden, InvalidTransition, ValidationFailed
from casetracker.reports import moa

# status → {verb: next status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "draft": {"edit": "draft", "submit": "submitted"},
    "submitted": {"approve": "approved", "return": "draft"},
    "approved": {"issue": "issued", "return": "draft"},
    "issued": {"correct": "issued"},  # a correction is a new recommendation; this one stays
}

ACTIONS_BY_KIND = {"officers": ("revocation",), "agreement": ("suspension", "termination")}
DEFAULT_SUSPENSION_DAYS = 90
TERMINATION_NOTICE_DAYS = 90


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


def proposed_effective_date(kind: str, action: str, today: date) -> date:
    """Revocation and suspension: as soon as notice can be given (7 days); termination: 90
    days' notice."""
    if kind == "agreement" and action == "termination":
        return today + timedelta(days=TERMINATION_NOTICE_DAYS)
    return today + timedelta(days=7)


@dataclass(frozen=True)
class ProposedText:
    subject: str
    summary: str
    grounds: str
    requested_action: str
    response_instructions: str
    corrective_measures: str
    proposed_effective_on: date
    suspension_days: int | None
    notice_days: int | None


@dataclass(frozen=True)
class Ground:
    """One sustained allegation the proposal rests on."""

    case_number: str
    allegation_type: str
    officer_name: str
    finding_date: date | None
    rationale: str


def propose(
    *,
    kind: str,
    action: str,
    model: str,
    agency_name: str,
    officer_names: list[str],
    grounds: list[Ground],
    today: date,
    signed_on: date | None = None,
    revision: str = "",
) -> ProposedText:
    """The text the system proposes; staff may edit every part of it."""
    basis = moa.basis_for(model, signed_on, revision)
    effective = proposed_effective_date(kind, action, today)
    case_numbers = sorted({g.case_number for g in grounds})
    profiling = [g for g in grounds if g.allegation_type == "racial_profiling"]
    n = len(grounds)
    ground_lines = [
        f"- Case {g.case_number}: {g.allegation_type.replace('_', ' ')}"
        f"{' by ' + g.officer_name if g.officer_name else ''}, sustained"
        f"{' on ' + g.finding_date.isoformat() if g.finding_date else ''}."
        for g in grounds
    ]
    grounds_text = (
        f"{n} allegation{'s' if n != 1 else ''} sustained on final review in "
        f"{len(case_numbers)} case{'s' if len(case_numbers) != 1 else ''}"
        f"{f', {len(profiling)} of them for racial profiling' if profiling else ''}:\n"
        + "\n".join(ground_lines)
    )
    if kind == "officers":
        names = ", ".join(officer_names) or "the officers named below"
        single = len(officer_names) == 1
        possessive = "officer's" if single else "officers'"
        subject = (f"Recommendation to revoke the delegated 287(g) authority of {names} "
                   f"({agency_name}, {model})")
        summary = (
            f"Investigations by this office sustained allegations of misconduct against {names} "
            f"of the {agency_name} while exercising authority delegated under the agency's "
            f"287(g) {model} agreement. We recommend that ICE revoke the delegated immigration "
            f"officer authority of {'this officer' if single else 'these officers'} "
            f"effective {effective.isoformat()}.")
        requested = (
            f"Revoke the delegated immigration officer authority of {names} by "
            f"{moa.revocation_instrument(model)}, effective {effective.isoformat()}, and "
            f"retrieve the {possessive} "
            f"ICE-issued credentials.")
        return ProposedText(subject, summary, grounds_text, requested, "", "", effective, None,
                            None)
    if action == "suspension":
        days = DEFAULT_SUSPENSION_DAYS
        if basis.model == "WSO":
            how = ("Under WSO MOA §VIII a suspension takes effect 90 days after the written "
                   "notice is received unless exigent circumstances involving public safety "
                   "dictate otherwise; we consider that they do.")
        else:
            how = (f"Under {model} MOA §VIII the ICE Director may, on the recommendation of the "
                   f"Executive Associate Director for ERO, suspend the agreement immediately "
                   f"pending investigation.")
        subject = f"Recommendation to suspend the 287(g) {model} agreement of the {agency_name}"
        summary = (
            f"Sustained findings of serious misconduct by personnel acting under the "
            f"{agency_name}'s 287(g) {model} agreement warrant its immediate suspension "
            f"pending investigation. {how}")
        requested = (
            f"Suspend the {model} agreement with the {agency_name} effective "
            f"{effective.isoformat()} for {days} days pending investigation of the misconduct "
            f"described below, and give the agency notice stating the reasons, the length of "
            f"the suspension and how it may respond.")
        response = (
            "The agency may provide ICE with information regarding the alleged misconduct and "
            "any corrective measures it has undertaken, in writing to the Field Office Director, "
            "within 30 days of receiving the notice.")
        corrective = (
            "Replace the officers who are the focus of the allegations; retrain remaining "
            "designated personnel on the DOJ 2014 guidance on the use of race and ethnicity; "
            "report complaint notifications to ICE within 48 hours as Appendix B requires.")
        return ProposedText(subject, summary, grounds_text, requested, response, corrective,
                            effective, days, None)
    subject = f"Recommendation to terminate the 287(g) {model} agreement of the {agency_name}"
    summary = (
        f"The misconduct sustained against personnel acting under the {agency_name}'s 287(g) "
        f"{model} agreement is, in this office's assessment, unresolvable and detrimental to "
        f"the program. We recommend termination on {TERMINATION_NOTICE_DAYS} days' written "
        f"notice.")
    requested = (
        f"Terminate the {model} agreement with the {agency_name} on "
        f"{TERMINATION_NOTICE_DAYS} days' written notice (effective {effective.isoformat()}), "
        f"the notice stating the reasons, the supporting data and examples set out below; "
        f"publish the decision {TERMINATION_NOTICE_DAYS} days in advance.")
    response = ("The agency may respond in writing to the Field Office Director during the "
                "notice period.")
    return ProposedText(subject, summary, grounds_text, requested, response, "", effective,
                        None, TERMINATION_NOTICE_DAYS)


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


def validate_text(values: dict[str, object], *, kind: str, action: str) -> dict[str, str]:
    """Errors by field for the editable text (empty dict when valid)."""
    errors: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        value = str(values.get(name) or "")
        if len(value) > limit:
            errors[name] = f"Keep this under {limit} characters."
    for name in ("subject", "summary", "requested_action"):
        if not str(values.get(name) or "").strip():
            errors[name] = "This cannot be empty."
    if not values.get("proposed_effective_on"):
        errors["proposed_effective_on"] = "Give the proposed effective date (YYYY-MM-DD)."
    if kind == "agreement" and action == "suspension":
        days = values.get("suspension_days")
        if not isinstance(days, int) or not 1 <= days <= 365:
            errors["suspension_days"] = ("Give the proposed length of the suspension in days "
                                         "(1–365).")
        if not str(values.get("response_instructions") or "").strip():
            errors["response_instructions"] = "Say how the agency may respond."
    if kind == "agreement" and action == "termination":
        days = values.get("notice_days")
        if not isinstance(days, int) or days < 90:
            errors["notice_days"] = "Termination needs at least 90 days' written notice."
    return errors
