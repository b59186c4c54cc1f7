"""The rescission recommendation as a document: a pure view-model with the source of every part.

Every sentence the PDF prints is one of:
- a **quotation** of the agreement (``clauses.CLAUSES``), with the template text and section;
- **generated from data** (the registry, the cases, their findings, the audit of who did what),
  naming the records it comes from;
- **written or decided by a named staff member** (the summary and the office's requests, the
  determinations an action needs, each finding's rationale), with the person's name.

``RecommendationDocument.review`` lists every paragraph with its source, for the draft and
approval pages. ``services.load_source`` loads a ``RecommendationSource``; ``build`` here does
the rest with no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from casetracker.accounts.rules import role_label
from casetracker.reports import rules
from casetracker.reports.clauses import CLAUSES, TEMPLATE_TEXTS
from casetracker.reports.viewmodels import (
    ALLEGATION_LABELS,
    CHARACTERISTIC_LABELS,
    MODEL_LABELS,
    PUBLIC_LINE,
    SENSITIVE_LINE,
    SOURCE_LABELS,
    _d,
    _dt,
    document_json,
    local_date,
    long_date,
)

__all__ = ["RecommendationDocument", "RecommendationSource", "build", "document_json"]

ACTION_TITLES = {
    "revocation": "Recommendation to revoke delegated 287(g) authority",
    "suspension": "Recommendation to suspend a 287(g) agreement",
    "termination": "Recommendation to terminate a 287(g) agreement",
}
WSO_REVOCATION_TITLE = "Recommendation to withdraw 287(g) authorization"
STAFF_FIELDS = ("addressee", "sender", "subject", "summary", "grounds", "requested_action",
                "proposed_effective_on", "suspension_days", "response_instructions",
                "corrective_measures", "timing", "viii_process")


def day(value: Any) -> str:
    """A date in words (June 8, 2020), or an em dash."""
    return long_date(_d(value)) if value not in (None, "") else "—"


# --- parts of the document ---------------------------------------------------------------

@dataclass(frozen=True)
class QuotedClause:
    key: str
    section: str
    heading: str
    words: str
    text_label: str  # "the 2020 JEM template text, as published by ICE"
    source: str  # the same, with the section: "…, §IV.D"


@dataclass(frozen=True)
class QuoteGroup:
    title: str
    quotes: tuple[QuotedClause, ...]


@dataclass(frozen=True)
class LegalBasis:
    agreement: str  # the agency's own agreement, from the registry
    moa_url: str
    text_label: str  # which template text is quoted
    text_reason: str  # why that one (the agreement's signing date or revision)
    own_text_held: bool
    by_analogy: bool
    bracketed: bool  # some quotation shows "[LEA]"
    groups: tuple[QuoteGroup, ...]


@dataclass(frozen=True)
class StaffText:
    label: str
    text: str
    author: str  # who wrote it ("" only when the text is empty)


@dataclass(frozen=True)
class DeterminationView:
    key: str
    statement: str
    made: bool
    reason: str
    decided_by: str
    role: str
    decided_on: str
    clause_source: str  # the provision whose words it applies


@dataclass(frozen=True)
class NoticeRow:
    words: str
    supplied_by: str  # "This recommendation" | "The office's request" | "ICE"
    detail: str


@dataclass(frozen=True)
class OfficeRequest:
    label: str
    value: str
    author: str


@dataclass(frozen=True)
class OfficerTarget:
    name: str
    badge: str
    rank: str
    authorised_on: str
    authorisation_expires_on: str
    training_completed_on: str
    last_refresher_on: str
    training_current: str
    status: str
    status_detail: str


@dataclass(frozen=True)
class AgreementTarget:
    agency: str
    state: str
    model: str
    model_label: str
    signed_on: str
    status: str
    moa_url: str
    revision: str
    designated_officers: int
    # the ICE field program manager monitoring the agreement ("" when none is recorded)
    field_program_manager: str = ""


@dataclass(frozen=True)
class AllegationRow:
    number: int
    type_label: str
    characteristic: str
    officer: str
    description: str
    finding: str
    decided_by: str  # who made the final finding
    finding_date: str
    rationale: str
    rationale_by: str
    standard: str


@dataclass(frozen=True)
class ClockRow:
    name: str
    due: str
    done: str
    state: str
    label: str


@dataclass(frozen=True)
class EvidenceRow:
    item: str
    description: str
    source: str
    received: str
    sha256: str
    custody: str


@dataclass(frozen=True)
class CaseSection:
    tracking_number: str
    received: str
    incident: str
    location: str
    setting: str
    complainant: str
    narrative: str
    allegations: tuple[AllegationRow, ...]
    clocks: tuple[ClockRow, ...]
    resolved: str
    evidence: tuple[EvidenceRow, ...]


@dataclass(frozen=True)
class PatternRow:
    subject: str
    complaints_365: int
    sustained_profiling_365: int


@dataclass(frozen=True)
class PatternSection:
    window_start: str
    window_end: str
    target_rows: tuple[PatternRow, ...]
    peer_label: str
    peer_count: int
    peer_complaints: int
    peer_sustained_profiling: int
    peer_complaints_mean: str
    peer_sustained_profiling_mean: str


@dataclass(frozen=True)
class Approval:
    step: str
    name: str
    role: str
    date: str


@dataclass(frozen=True)
class ReviewItem:
    """One paragraph of the document and where it comes from (for the review pages)."""

    section: str
    text: str
    kind: str  # quotation | data | staff | determination
    source: str


@dataclass(frozen=True)
class RecommendationDocument:
    title: str
    number: str
    version: int
    supersedes: str
    correction_reason: StaffText
    running_header: str
    classification: str
    classification_public: bool
    organisation: str
    subtitle: str
    date_label: str
    issued_on: str
    status: str
    to: StaffText
    sender: StaffText
    subject: StaffText
    summary: StaffText
    kind: str
    action: str
    action_title: str
    agreement: AgreementTarget
    officers: tuple[OfficerTarget, ...]
    legal_basis: LegalBasis
    determinations: tuple[DeterminationView, ...]
    amounts_line: str  # JEM: naming every designated officer (data)
    further_grounds: StaffText
    cases: tuple[CaseSection, ...]
    pattern: PatternSection
    notice_intro: QuotedClause | None
    notice_rows: tuple[NoticeRow, ...]
    agreement_status_line: str  # with the §VIII sequence (data)
    timing_line: str
    requests: tuple[OfficeRequest, ...]
    approvals: tuple[Approval, ...]
    sustained_count: int
    evidence_count: int
    review: tuple[ReviewItem, ...] = ()
    missing: tuple[str, ...] = ()  # what submitting would still need (drafts only)
    numbers: dict[str, int] = field(default_factory=dict)  # section name → its number


@dataclass
class RecommendationSource:
    """Everything ``build`` needs, as plain values (loaded by services.load_source)."""

    recommendation: dict[str, Any]
    agency: dict[str, Any]
    agreement: dict[str, Any]  # + designated_officers (active designations on record)
    officers: list[dict[str, Any]]  # designation fields + officer_name, badge_number, rank
    cases: list[dict[str, Any]]  # case fields + allegations, contact, evidence
    pattern: dict[str, Any]
    people: dict[int, dict[str, Any]]  # user id → name, email, role
    determinations: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → row
    supersedes: dict[str, Any] | None = None
    organisation: str = "287(g) Oversight Office"
    timezone: str = "America/New_York"
    training_cycle_days: int = 730
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    redacted: bool = False  # build the variant without complainant identity


# --- helpers ---------------------------------------------------------------------------------

def _person(people: dict[int, dict[str, Any]], user_id: Any) -> tuple[str, str]:
    if isinstance(user_id, dict):
        user_id = user_id.get("id")
    person = people.get(user_id) if user_id is not None else None
    if not person:
        return "", ""
    return (person.get("name") or person.get("email") or "",
            role_label(person.get("role")))


def text_authors(rec: dict[str, Any]) -> dict[str, int]:
    raw = rec.get("text_authors") or "{}"
    try:
        value = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except ValueError:
        return {}
    return {k: v for k, v in value.items() if isinstance(v, int)}


def plan_of(source: RecommendationSource) -> rules.Plan:
    rec, agreement = source.recommendation, source.agreement
    return rules.plan_for(
        agreement.get("model") or "JEM", _d(agreement.get("signed_on")),
        agreement.get("revision") or "", rec["action"],
        officers_named=len(source.officers),
        others_active=int(agreement.get("other_active_officers") or 0),
        viii_process=rec.get("viii_process") or "", timing=rec.get("timing") or "",
        agreement_status=agreement.get("status") or "active",
        suspension_length_requested=rec.get("suspension_days") is not None,
        response_requested=bool((rec.get("response_instructions") or "").strip()))


def training_state(completed: date | None, refresher: date | None, today: date,
                   cycle_days: int) -> str:
    last = refresher or completed
    if last is None:
        return "No training on record"
    age = (today - last).days
    if age > cycle_days:
        return (f"Stale: last training {long_date(last)} ({age} days ago; this office's "
                f"refresher cycle is {cycle_days} days)")
    return f"Current: last training {long_date(last)}"


def _designation_status(row: dict[str, Any]) -> tuple[str, str]:
    status = row.get("status") or "active"
    detail = ""
    if status == "suspended":
        detail = f"suspended pending adjudication since {day(row.get('suspended_on'))}"
    elif status == "revoked":
        detail = f"revoked on {day(row.get('revoked_on'))}"
    if row.get("status_reason"):
        detail = (detail + "; " if detail else "") + str(row["status_reason"])
    return status.capitalize(), detail


def _clocks(case: dict[str, Any], now: datetime, zone: str) -> tuple[ClockRow, ...]:
    from casetracker.cases.clocks import clock_state

    specs = (("Triage", "triage_due_at", "triaged_at"),
             ("ICE notified of the complaint", "ice_notification_due_at", "ice_notified_at"),
             ("Resolution", "resolution_due_at", "resolved_at"),
             ("Results reported to ICE", "results_due_at", "results_reported_at"))
    rows = []
    for name, due_key, done_key in specs:
        due, done = _dt(case.get(due_key)), _dt(case.get(done_key))
        if due is None and done is None:
            continue
        state = clock_state(due, done, now)
        rows.append(ClockRow(name, day(local_date(due, zone)), day(local_date(done, zone)),
                             state.state, state.label))
    return tuple(rows)


def _allegations(rows: list[dict[str, Any]], people: dict[int, dict[str, Any]], zone: str
                 ) -> tuple[AllegationRow, ...]:
    out = []
    for index, row in enumerate(rows, start=1):
        decided_by = _person(people, row.get("final_by"))[0]
        if row.get("final_rationale"):
            rationale, rationale_by = row["final_rationale"], decided_by
        else:
            rationale = row.get("recommended_rationale") or ""
            rationale_by = _person(people, row.get("recommended_by"))[0]
        out.append(AllegationRow(
            number=index,
            type_label=ALLEGATION_LABELS.get(row.get("allegation_type") or "",
                                             str(row.get("allegation_type") or "")),
            characteristic=CHARACTERISTIC_LABELS.get(row.get("protected_characteristic") or "",
                                                     row.get("protected_characteristic") or ""),
            officer=row.get("officer_label") or "Not identified",
            description=row.get("description") or "",
            finding=(row.get("final_finding") or "pending").replace("_", " ").capitalize(),
            decided_by=decided_by or "not recorded",
            finding_date=day(local_date(row.get("final_at"), zone)),
            rationale=rationale, rationale_by=rationale_by or "not recorded",
            standard=("preponderance of the evidence"
                      if (row.get("recommended_standard") or "preponderance") == "preponderance"
                      else str(row.get("recommended_standard")).replace("_", " ")),
        ))
    return tuple(out)


def _complainant(case: dict[str, Any], redacted: bool) -> str:
    if redacted:
        return "Withheld in this version"
    if case.get("anonymous"):
        return "Anonymous complainant"
    contact = case.get("contact")
    if not contact or not contact.get("name"):
        return "Not recorded"
    role = " (third party)" if case.get("complainant_role") == "third_party" else ""
    return f"{contact['name']}{role}"


def _case(case: dict[str, Any], people: dict[int, dict[str, Any]], *, now: datetime, zone: str,
          redacted: bool) -> CaseSection:
    incident = _d(case.get("incident_date"))
    precision = case.get("incident_date_precision") or "day"
    if incident is None or precision == "unknown":
        incident_text = "Date unknown"
    elif precision == "month":
        incident_text = f"{incident:%B %Y}"
    else:
        incident_text = long_date(incident) + (f", {case['incident_time']}"
                                               if case.get("incident_time") else "")
    location = ", ".join(p for p in (case.get("incident_location"), case.get("incident_city"),
                                     case.get("incident_state")) if p)
    evidence = tuple(
        EvidenceRow(
            item=f"E-{row['id']}",
            # the uploader's file name is the complainant's own words: never in the redacted
            # variant
            description=(row.get("description")
                         or ("" if redacted else row.get("original_name")) or "—"),
            source=SOURCE_LABELS.get(row.get("source") or "", str(row.get("source") or "")),
            received=day(local_date(row.get("received_at"), zone)),
            sha256=row.get("sha256") or "", custody=row.get("custody_summary") or "")
        for row in case.get("evidence") or [])
    return CaseSection(
        tracking_number=case.get("tracking_number") or "",
        received=day(local_date(case.get("received_at"), zone)),
        incident=incident_text, location=location or "—",
        setting=(case.get("incident_setting") or "other").replace("_", " "),
        complainant=_complainant(case, redacted),
        narrative="" if redacted else (case.get("narrative") or ""),
        allegations=_allegations(case.get("allegations") or [], people, zone),
        clocks=_clocks(case, now, zone),
        resolved=day(local_date(case.get("resolved_at"), zone)),
        evidence=evidence,
    )


def _mean(total: int, count: int) -> str:
    return f"{total / count:.2f}" if count else "—"


def _pattern(pattern: dict[str, Any]) -> PatternSection:
    peers = pattern.get("peers") or {}
    count = int(peers.get("count") or 0)
    complaints = int(peers.get("complaints") or 0)
    profiling = int(peers.get("sustained_profiling") or 0)
    return PatternSection(
        window_start=day(pattern.get("window_start")), window_end=day(pattern.get("window_end")),
        target_rows=tuple(PatternRow(r["subject"], int(r["complaints"]),
                                     int(r["sustained_profiling"]))
                          for r in pattern.get("targets") or []),
        peer_label=peers.get("label") or "", peer_count=count, peer_complaints=complaints,
        peer_sustained_profiling=profiling, peer_complaints_mean=_mean(complaints, count),
        peer_sustained_profiling_mean=_mean(profiling, count))


def _quote(key: str, text_key: str, own_text: bool) -> QuotedClause:
    item = CLAUSES[key]
    label = TEMPLATE_TEXTS[text_key].label if not own_text else "the agency's own agreement"
    return QuotedClause(key, item.section, item.heading, item.words(text_key, own_text=own_text),
                        label, f"{label}, {item.section}")


def section_numbers(plan: rules.Plan) -> dict[str, int]:
    """The document's sections, numbered in order; determinations and the notice only when
    the action has them."""
    names = ["summary", "target", "legal"]
    if plan.determinations or plan.amounts_to_agreement_action:
        names.append("determinations")
    names += ["grounds", "evidence", "pattern"]
    if plan.notice_intro:
        names.append("notice")
    names += ["timing", "approval"]
    return {name: index for index, name in enumerate(names, start=1)}


# --- the builder -------------------------------------------------------------------------------

def build(source: RecommendationSource) -> RecommendationDocument:
    rec = source.recommendation
    zone = source.timezone
    redacted = source.redacted or rec.get("classification") == "public"
    kind, action = rec["kind"], rec["action"]
    agreement, agency = source.agreement, source.agency
    model = agreement.get("model") or "JEM"
    today = source.now.astimezone(ZoneInfo(zone)).date()
    issued = local_date(rec.get("issued_at"), zone)
    number = rec.get("number") or ""
    plan = plan_of(source)
    title = WSO_REVOCATION_TITLE if (kind == "officers" and model == "WSO") else \
        ACTION_TITLES.get(action, "Rescission recommendation")
    authors = text_authors(rec)
    author_name = _person(source.people, rec.get("author"))[0]
    review: list[ReviewItem] = []
    n = section_numbers(plan)

    def staff(field_name: str, label: str, text: str, proposal: str | None = None) -> StaffText:
        writer = authors.get(field_name)
        if writer is not None:
            who = _person(source.people, writer)[0] or author_name
        elif proposal is not None and text == proposal:
            who = ""  # the system's proposal from the registry, unchanged
        else:
            who = author_name
        return StaffText(label, text, who if text else "")

    # --- memo lines ---
    officer_names = [o.get("officer_name") or "" for o in source.officers]
    subject = staff("subject", "Subject", rec.get("subject") or "",
                    rules.proposed_subject(kind, action, model, agency.get("name") or "",
                                           officer_names))
    to = staff("addressee", "To", rec.get("addressee") or "",
               rules.proposed_addressee(kind, action, model))
    sender = staff("sender", "From", rec.get("sender") or "", source.organisation)
    for part in (to, sender, subject):
        review.append(ReviewItem("Heading", f"{part.label}: {part.text}",
                                 "staff" if part.author else "data",
                                 f"Written by {part.author}" if part.author else
                                 "Proposed from the registry and the chosen action"))
    summary = staff("summary", "Summary", rec.get("summary") or "")
    if summary.text:
        review.append(ReviewItem(f"{n['summary']}. Summary", summary.text, "staff",
                                 f"Written by {summary.author}"))

    # --- target ---
    officers = []
    for row in source.officers:
        status, detail = _designation_status(row)
        officers.append(OfficerTarget(
            name=row.get("officer_name") or "", badge=row.get("badge_number") or "—",
            rank=row.get("rank") or "", authorised_on=day(row.get("authorised_on")),
            authorisation_expires_on=day(row.get("authorisation_expires_on")),
            training_completed_on=day(row.get("training_completed_on")),
            last_refresher_on=day(row.get("last_refresher_on")),
            training_current=training_state(_d(row.get("training_completed_on")),
                                            _d(row.get("last_refresher_on")), today,
                                            source.training_cycle_days),
            status=status, status_detail=detail))
    target = AgreementTarget(
        agency=agency.get("name") or "", state=agency.get("state") or "", model=model,
        model_label=MODEL_LABELS.get(model, model), signed_on=day(agreement.get("signed_on")),
        status=(agreement.get("status") or "").replace("_", " ").capitalize(),
        moa_url=agreement.get("moa_url") or "", revision=agreement.get("revision") or "",
        designated_officers=int(agreement.get("designated_officers") or 0),
        field_program_manager=agreement.get("field_program_manager") or "")
    review.append(ReviewItem(
        f"{n['target']}. Target",
        f"{target.agency} ({target.state}), {target.model_label} agreement"
        + (f"; officers: {', '.join(officer_names)}" if officer_names else ""),
        "data", "The registry (agency, agreement, designations)"))

    # --- legal basis ---
    text = plan.text
    own = (not text.by_analogy) and rules.own_text_held(text.text_key, target.agency,
                                                        target.state)
    groups = tuple(QuoteGroup(g.title, tuple(_quote(k, text.text_key, own) for k in g.clauses))
                   for g in plan.groups)
    text_reason = ("no Task Force Model text is held" if text.by_analogy else
                   f"the agreement's {text.reason}: "
                   + (f"{target.revision}" if text.reason.startswith("revision")
                      else target.signed_on))
    basis = LegalBasis(
        agreement=(f"{target.agency} ({target.state}), {model} — {target.model_label}, signed "
                   f"{target.signed_on}" + (f", revision {target.revision}"
                                            if target.revision else "")),
        moa_url=target.moa_url,
        text_label=TEMPLATE_TEXTS[text.text_key].label, text_reason=text_reason,
        own_text_held=own, by_analogy=text.by_analogy,
        bracketed=any("[LEA]" in q.words for g in groups for q in g.quotes),
        groups=groups)
    review.append(ReviewItem(
        f"{n['legal']}. Legal basis", f"The agency's own agreement: {basis.agreement}", "data",
        "The registry (the agreement's record, from ICE's list)"))
    for group in groups:
        for q in group.quotes:
            review.append(ReviewItem(f"{n['legal']}. Legal basis — {group.title}", q.words,
                                     "quotation",
                                     f"Quoted from {q.source}"))

    # --- determinations ---
    determinations = []
    for key in plan.determinations:
        row = source.determinations.get(key) or {}
        name, role = _person(source.people, row.get("decided_by"))
        made = bool(row) and bool(name)
        view = DeterminationView(
            key=key, statement=rules.determination_statement(key, plan.agreement_action
                                                             or action),
            made=made, reason=row.get("reason") or "", decided_by=name, role=role,
            decided_on=day(local_date(row.get("decided_at"), zone)),
            clause_source=_quote(rules.DETERMINATIONS[key].clause, text.text_key, own).source)
        determinations.append(view)
        review.append(ReviewItem(
            f"{n['determinations']}. Determinations",
            view.statement + (f" Reason: {view.reason}" if made else ""),
            "determination",
            f"Determined by {name} ({role}) on {view.decided_on}" if made else
            "NOT YET MADE: a person must record it before the draft can be submitted"))
    amounts_line = ""
    if plan.amounts_to_agreement_action:
        amounts_line = (f"Active designated officers on record under this agreement: "
                        f"{target.designated_officers}; named in this recommendation: "
                        f"{len(officers)}; others: none.")
        review.append(ReviewItem(f"{n['determinations']}. Determinations", amounts_line, "data",
                                 "The registry (active designations under the agreement)"))

    # --- grounds ---
    cases = tuple(_case(c, source.people, now=source.now, zone=zone, redacted=redacted)
                  for c in source.cases)
    for case in cases:
        for a in case.allegations:
            review.append(ReviewItem(
                f"{n['grounds']}. Grounds — case {case.tracking_number}",
                f"{a.type_label} — {a.officer}: {a.finding} on {a.finding_date}. {a.rationale}",
                "data", f"Case {case.tracking_number}: final finding by {a.decided_by}; "
                        f"rationale written by {a.rationale_by}"))
    further = staff("grounds", "Further grounds stated by the office", rec.get("grounds") or "")
    if further.text:
        review.append(ReviewItem(f"{n['grounds']}. Grounds", further.text, "staff",
                                 f"Written by {further.author}"))

    # --- notice contents and sequence ---
    notice_intro = _quote(plan.notice_intro, text.text_key, own) if plan.notice_intro else None
    length_author = staff("suspension_days", "", str(rec.get("suspension_days") or "")).author
    response_author = staff("response_instructions", "",
                            rec.get("response_instructions") or "").author
    notice_rows: list[NoticeRow] = []
    for item in plan.notice_items:
        quoted = _quote(item.clause, text.text_key, own)
        if item.supplied_by == "recommendation":
            notice_row = NoticeRow(quoted.words, "This recommendation",
                            f"the grounds in section {n['grounds']}, for ICE's overview of "
                            "its reasons")
        elif item.supplied_by == "office":
            if item.clause.endswith(".2"):
                notice_row = NoticeRow(quoted.words, "The office's request",
                                f"{rec.get('suspension_days')} days, requested by "
                                f"{length_author} (section {n['timing']})")
            else:
                notice_row = NoticeRow(quoted.words, "The office's request",
                                f"how the agency may respond, requested by {response_author} "
                                f"(section {n['timing']})")
        elif plan.agreement_action == "termination":
            notice_row = NoticeRow(quoted.words, "ICE",
                            "requested from ICE: these are ICE's data, which this office does "
                            "not hold or supply")
        else:
            notice_row = NoticeRow(quoted.words, "ICE", "for ICE to set in its notice")
        notice_rows.append(notice_row)
        review.append(ReviewItem(f"{n['notice']}. The notice the agreement requires",
                                 f"{notice_row.words} — {notice_row.supplied_by}: "
                                 f"{notice_row.detail}", "quotation",
                                 f"Quoted from {quoted.source}; who supplies it: rules of the "
                                 f"{plan.model} agreement"))
    status_line = ""
    if plan.sequence_clause:
        # §VIII moves "from suspension to termination": say so, and where this agreement is
        status_line = ("The agreement treats termination as a step after suspension (\"If ICE "
                       "decides to move from suspension to termination\", §VIII). Status of the "
                       f"agreement on record: {target.status or 'not recorded'}.")
        if (agreement.get("status") or "") != "suspended":
            status_line += (" It has not been suspended: the reason for recommending termination "
                            "now is the determination in section "
                            f"{n.get('determinations', '')}.")
        review.append(ReviewItem(f"{n['notice']}. The notice the agreement requires",
                                 status_line, "data",
                                 "The registry (the agreement's status)"))
    timing_line = ""
    if plan.timing_choices:
        timing_line = ("Sooner than 90 days after ICE's notice is received, on the determination "
                       f"in section {n['determinations']}." if plan.timing == "exigent" else
                       "90 days after ICE's notice is received, as §VIII provides.")
        review.append(ReviewItem(f"{n['timing']}. When it would take effect", timing_line,
                                 "determination" if plan.timing == "exigent" else "quotation",
                                 f"The determination in section {n['determinations']}"
                                 if plan.timing == "exigent"
                                 else f"§VIII of the agreement, quoted in section {n['legal']}"))

    # --- the office's requests ---
    requests = []
    requested_on = _d(rec.get("proposed_effective_on"))
    for field_name, label, value in (
            ("proposed_effective_on", "Requested effective date",
             long_date(requested_on) if requested_on else ""),
            ("suspension_days", "Requested length of the suspension",
             f"{rec['suspension_days']} days" if rec.get("suspension_days") else ""),
            ("response_instructions", "How the agency may respond",
             rec.get("response_instructions") or ""),
            ("corrective_measures", "Corrective measures", rec.get("corrective_measures") or ""),
            ("requested_action", "Further requests", rec.get("requested_action") or "")):
        if not value:
            continue
        author = staff(field_name, label, value).author
        requests.append(OfficeRequest(label, value, author))
        review.append(ReviewItem(f"{n['timing']}. The office's requests", f"{label}: {value}",
                                 "staff",
                                 f"Entered by {author} as the office's request (not a term of "
                                 "the agreement)"))

    # --- approvals ---
    approvals = []
    for step, who_key, when_key in (("Drafted", "author", "created_at"),
                                    ("Submitted", "submitted_by", "submitted_at"),
                                    ("Approved", "approved_by", "approved_at"),
                                    ("Issued", "issued_by", "issued_at")):
        name, role = _person(source.people, rec.get(who_key))
        if name:
            approvals.append(Approval(step, name, role, day(local_date(rec.get(when_key),
                                                                       zone))))
    supersedes = ""
    if source.supersedes:
        supersedes = (f"{source.supersedes.get('number') or 'an earlier version'} issued "
                      f"{day(local_date(source.supersedes.get('issued_at'), zone))}")
    correction = staff("correction_reason", "Reason for the correction",
                       rec.get("correction_reason") or "")
    missing: tuple[str, ...] = ()
    if rec.get("status") == "draft":
        problems = rules.submit_problems(rec, plan, {
            k: {"made": True, "reason": v.get("reason")} for k, v in
            source.determinations.items()}, viii_process=rec.get("viii_process") or "")
        missing = tuple(problems.values())
    return RecommendationDocument(
        title=title, number=number, version=int(rec.get("version") or 1),
        supersedes=supersedes, correction_reason=correction,
        running_header=f"{number or 'DRAFT'} · {title}",
        classification=PUBLIC_LINE if redacted else SENSITIVE_LINE,
        classification_public=redacted, organisation=source.organisation,
        subtitle="Rescission recommendation · 287(g) program oversight",
        date_label=long_date(issued) if issued else f"Draft of {long_date(today)}",
        issued_on=day(issued), status=rec.get("status") or "draft",
        to=to, sender=sender, subject=subject, summary=summary,
        kind=kind, action=action, action_title=plan.title, agreement=target,
        officers=tuple(officers), legal_basis=basis, determinations=tuple(determinations),
        amounts_line=amounts_line, further_grounds=further, cases=cases,
        pattern=_pattern(source.pattern), notice_intro=notice_intro,
        notice_rows=tuple(notice_rows), agreement_status_line=status_line,
        timing_line=timing_line, requests=tuple(requests), approvals=tuple(approvals),
        sustained_count=sum(len(c.allegations) for c in cases),
        evidence_count=sum(len(c.evidence) for c in cases),
        review=tuple(review), missing=missing, numbers=n)
