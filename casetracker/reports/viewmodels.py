"""View-models of the printed documents: pure dataclasses built by pure functions.

Loaders (services.py) read the database into plain dicts (``RecommendationSource``,
``CaseReportSource``); the builders here turn them into what the templates print. Tests check
the builders without a PDF.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casetracker.cases.clocks import clock_state
from casetracker.reports import moa

SENSITIVE_LINE = "Sensitive — contains complainant information"
PUBLIC_LINE = "Public version — complainant identities withheld"

ALLEGATION_LABELS = {
    "racial_profiling": "Racial profiling / bias", "unlawful_stop": "Unlawful stop",
    "unlawful_detention": "Unlawful detention or detainer", "search": "Unlawful search",
    "force": "Excessive force", "language_access": "Language access denied",
    "discourtesy": "Discourtesy", "other": "Other misconduct",
}
CHARACTERISTIC_LABELS = {
    "race": "race/color", "race_color": "race/color", "ethnicity": "ethnicity",
    "national_origin": "national origin", "language": "language / limited English",
    "immigration_status": "immigration or citizenship status", "religion": "religion",
    "sex": "sex", "other": "other",
}
MODEL_LABELS = {"JEM": "Jail Enforcement Model", "WSO": "Warrant Service Officer",
                "TFM": "Task Force Model"}
ACTION_TITLES = {
    "revocation": "Recommendation to revoke delegated 287(g) authority",
    "suspension": "Recommendation to suspend a 287(g) agreement",
    "termination": "Recommendation to terminate a 287(g) agreement",
}
SOURCE_LABELS = {"complainant": "Complainant", "agency": "Agency", "ice": "ICE",
                 "investigator": "Investigator", "other": "Other"}
REFERRAL_LABELS = {
    "agency_ia": "Agency internal affairs", "ice_officer": "ICE officer (48-hour notice)",
    "ice_opr": "ICE OPR", "dhs_oig": "DHS OIG", "dhs_jic": "DHS Joint Intake Center",
    "dhs_crcl": "DHS CRCL", "doj_crt": "DOJ Civil Rights Division", "other": "Other",
}


def _d(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _dt(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value))


def long_date(value: date | None) -> str:
    return f"{value:%B} {value.day}, {value.year}" if value else "—"


def iso(value: date | None) -> str:
    return value.isoformat() if value else "—"


def local_date(value: Any, zone: str) -> date | None:
    moment = _dt(value)
    return moment.astimezone(ZoneInfo(zone)).date() if moment else None


# --- the recommendation ---------------------------------------------------------------------

@dataclass(frozen=True)
class OfficerTarget:
    name: str
    badge: str
    rank: str
    agreement_label: str
    authorised_on: str
    authorisation_expires_on: str
    training_completed_on: str
    last_refresher_on: str
    training_current: str  # "Current" | "Stale (last … , cycle … days)" | "No record"
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


@dataclass(frozen=True)
class ClockRow:
    name: str
    due: str
    done: str
    state: str  # met | missed | due | overdue | none
    label: str


@dataclass(frozen=True)
class AllegationRow:
    number: int
    type_label: str
    characteristic: str
    officer: str
    description: str
    finding: str
    finding_date: str
    rationale: str
    standard: str
    recommended_action: str


@dataclass(frozen=True)
class EvidenceRow:
    item: str  # "E-12"
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
    complainant: str  # identity (sensitive) or "Withheld in this version"
    narrative: str  # empty in the public version
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
class CitedSection:
    section: str
    heading: str
    summary: str


@dataclass(frozen=True)
class LegalBasis:
    statute: str
    model: str
    text_source: str
    by_analogy: bool
    note: str
    sections: tuple[CitedSection, ...]


@dataclass(frozen=True)
class ActionSection:
    title: str
    requested_action: str
    proposed_effective_on: str
    suspension_days: int | None
    notice_days: int | None
    response_instructions: str
    corrective_measures: str
    instrument: str


@dataclass(frozen=True)
class Approval:
    step: str
    name: str
    role: str
    date: str


@dataclass(frozen=True)
class RecommendationDocument:
    title: str
    number: str
    version: int
    supersedes: str
    correction_reason: str
    running_header: str
    classification: str
    classification_public: bool
    organisation: str
    subtitle: str
    date_label: str
    issued_on: str
    status: str
    to: str
    sender: str
    subject: str
    summary: str
    grounds: str
    kind: str
    action: str
    agreement: AgreementTarget
    officers: tuple[OfficerTarget, ...]
    legal_basis: LegalBasis
    cases: tuple[CaseSection, ...]
    pattern: PatternSection
    requested: ActionSection
    approvals: tuple[Approval, ...]
    sustained_count: int
    evidence_count: int


@dataclass
class RecommendationSource:
    """Everything the builder needs, as plain values (loaded by services.load_source)."""

    recommendation: dict[str, Any]
    agency: dict[str, Any]
    agreement: dict[str, Any]
    officers: list[dict[str, Any]]  # designation fields + officer_name, badge_number, rank
    cases: list[dict[str, Any]]  # case fields + allegations, contact, evidence, referrals
    pattern: dict[str, Any]
    people: dict[int, dict[str, Any]]  # user id → name, email, role
    supersedes: dict[str, Any] | None = None
    organisation: str = "287(g) Oversight Office"
    timezone: str = "America/New_York"
    training_cycle_days: int = 730
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def training_state(completed: date | None, refresher: date | None, today: date,
                   cycle_days: int) -> str:
    last = refresher or completed
    if last is None:
        return "No training record"
    age = (today - last).days
    if age > cycle_days:
        return f"Stale: last training {last.isoformat()} ({age} days; cycle {cycle_days} days)"
    return f"Current: last training {last.isoformat()}"


def _designation_status(row: dict[str, Any]) -> tuple[str, str]:
    status = row.get("status") or "active"
    detail = ""
    if status == "suspended":
        detail = f"suspended pending adjudication since {iso(_d(row.get('suspended_on')))}"
    elif status == "revoked":
        detail = f"revoked on {iso(_d(row.get('revoked_on')))}"
    if row.get("status_reason"):
        detail = (detail + "; " if detail else "") + str(row["status_reason"])
    return status.capitalize(), detail


def build_clocks(case: dict[str, Any], now: datetime, zone: str) -> tuple[ClockRow, ...]:
    specs = [
        ("Triage", "triage_due_at", "triaged_at"),
        ("ICE notification (48 weekday hours)", "ice_notification_due_at", "ice_notified_at"),
        ("Resolution (90 days)", "resolution_due_at", "resolved_at"),
        ("Results reported to ICE (30 days)", "results_due_at", "results_reported_at"),
    ]
    rows = []
    for name, due_key, done_key in specs:
        due, done = _dt(case.get(due_key)), _dt(case.get(done_key))
        if due is None and done is None:
            continue
        state = clock_state(due, done, now)
        rows.append(ClockRow(name, iso(local_date(due, zone)), iso(local_date(done, zone)),
                             state.state, state.label))
    return tuple(rows)


def build_evidence(rows: list[dict[str, Any]], zone: str, *, public: bool = False
                   ) -> tuple[EvidenceRow, ...]:
    # The uploader's file name is the complainant's own words ("maria-lopez-licence.jpg"):
    # never printed in the public variant.
    return tuple(
        EvidenceRow(
            item=f"E-{row['id']}",
            description=(row.get("description")
                         or ("" if public else row.get("original_name")) or "—"),
            source=SOURCE_LABELS.get(row.get("source") or "", str(row.get("source") or "")),
            received=iso(local_date(row.get("received_at"), zone)),
            sha256=row.get("sha256") or "",
            custody=row.get("custody_summary") or "",
        )
        for row in rows
    )


def build_allegations(rows: list[dict[str, Any]], zone: str) -> tuple[AllegationRow, ...]:
    return tuple(
        AllegationRow(
            number=index,
            type_label=ALLEGATION_LABELS.get(row.get("allegation_type") or "",
                                             str(row.get("allegation_type"))),
            characteristic=CHARACTERISTIC_LABELS.get(row.get("protected_characteristic") or "",
                                                     row.get("protected_characteristic") or ""),
            officer=row.get("officer_label") or "Not identified",
            description=row.get("description") or "",
            finding=(row.get("final_finding") or "pending").replace("_", " ").capitalize(),
            finding_date=iso(local_date(row.get("final_at"), zone)),
            rationale=row.get("final_rationale") or row.get("recommended_rationale") or "",
            standard=(row.get("recommended_standard") or "preponderance").replace("_", " "),
            recommended_action=row.get("recommended_action") or "",
        )
        for index, row in enumerate(rows, start=1)
    )


def _complainant_label(case: dict[str, Any], public: bool) -> str:
    if public:
        return "Withheld in this version"
    if case.get("anonymous"):
        return "Anonymous complainant"
    contact = case.get("contact")
    if not contact or not contact.get("name"):
        return "Not recorded"
    role = " (third party)" if case.get("complainant_role") == "third_party" else ""
    return f"{contact['name']}{role}"


def build_case_section(case: dict[str, Any], *, now: datetime, zone: str,
                       public: bool) -> CaseSection:
    incident = _d(case.get("incident_date"))
    precision = case.get("incident_date_precision") or "day"
    if incident is None or precision == "unknown":
        incident_text = "Date unknown"
    elif precision == "month":
        incident_text = f"{incident:%B %Y}"
    else:
        incident_text = iso(incident) + (f" {case['incident_time']}" if case.get("incident_time")
                                         else "")
    location = ", ".join(p for p in (case.get("incident_location"), case.get("incident_city"),
                                     case.get("incident_state")) if p)
    return CaseSection(
        tracking_number=case.get("tracking_number") or "",
        received=iso(local_date(case.get("received_at"), zone)),
        incident=incident_text,
        location=location or "—",
        setting=(case.get("incident_setting") or "other").replace("_", " "),
        complainant=_complainant_label(case, public),
        narrative="" if public else (case.get("narrative") or ""),
        allegations=build_allegations(case.get("allegations") or [], zone),
        clocks=build_clocks(case, now, zone),
        resolved=iso(local_date(case.get("resolved_at"), zone)),
        evidence=build_evidence(case.get("evidence") or [], zone, public=public),
    )


def build_legal_basis(agreement: dict[str, Any], kind: str, action: str) -> LegalBasis:
    basis = moa.basis_for(agreement.get("model") or "JEM", _d(agreement.get("signed_on")),
                          agreement.get("revision") or "")
    sections: list[moa.Citation] = []
    if kind == "officers":
        sections.append(basis.revocation)
    sections.append(basis.agreement_action)
    sections.extend(basis.complaints)
    sections.append(basis.civil_rights)
    prefix = f"{basis.model} MOA " if not basis.by_analogy else "JEM MOA (by analogy) "
    return LegalBasis(
        statute=moa.STATUTE,
        model=basis.model,
        text_source=basis.source,
        by_analogy=basis.by_analogy,
        note=basis.note,
        sections=tuple(CitedSection(prefix + s.section, s.heading, s.summary)
                       for s in sections),
    )


def _mean(total: int, count: int) -> str:
    return f"{total / count:.2f}" if count else "—"


def build_pattern(pattern: dict[str, Any]) -> PatternSection:
    peers = pattern.get("peers") or {}
    count = int(peers.get("count") or 0)
    complaints = int(peers.get("complaints") or 0)
    profiling = int(peers.get("sustained_profiling") or 0)
    return PatternSection(
        window_start=iso(_d(pattern.get("window_start"))),
        window_end=iso(_d(pattern.get("window_end"))),
        target_rows=tuple(PatternRow(r["subject"], int(r["complaints"]),
                                     int(r["sustained_profiling"]))
                          for r in pattern.get("targets") or []),
        peer_label=peers.get("label") or "",
        peer_count=count,
        peer_complaints=complaints,
        peer_sustained_profiling=profiling,
        peer_complaints_mean=_mean(complaints, count),
        peer_sustained_profiling_mean=_mean(profiling, count),
    )


def _person(people: dict[int, dict[str, Any]], user_id: Any) -> tuple[str, str]:
    if isinstance(user_id, dict):
        user_id = user_id.get("id")
    person = people.get(user_id) if user_id is not None else None
    if not person:
        return "", ""
    return person.get("name") or person.get("email") or "", (person.get("role") or "").capitalize()


def build_recommendation(source: RecommendationSource) -> RecommendationDocument:
    rec = source.recommendation
    zone = source.timezone
    public = rec.get("classification") == "public"
    kind, action = rec["kind"], rec["action"]
    agreement, agency = source.agreement, source.agency
    model = agreement.get("model") or "JEM"
    today = source.now.astimezone(ZoneInfo(zone)).date()
    issued = local_date(rec.get("issued_at"), zone)
    number = rec.get("number") or ""
    title = ACTION_TITLES.get(action, "Rescission recommendation")

    officers = []
    for row in source.officers:
        status, detail = _designation_status(row)
        officers.append(OfficerTarget(
            name=row.get("officer_name") or "",
            badge=row.get("badge_number") or "—",
            rank=row.get("rank") or "",
            agreement_label=f"{agency.get('name', '')} — {model}",
            authorised_on=iso(_d(row.get("authorised_on"))),
            authorisation_expires_on=iso(_d(row.get("authorisation_expires_on"))),
            training_completed_on=iso(_d(row.get("training_completed_on"))),
            last_refresher_on=iso(_d(row.get("last_refresher_on"))),
            training_current=training_state(_d(row.get("training_completed_on")),
                                            _d(row.get("last_refresher_on")), today,
                                            source.training_cycle_days),
            status=status, status_detail=detail,
        ))
    cases = tuple(build_case_section(c, now=source.now, zone=zone, public=public)
                  for c in source.cases)
    basis = build_legal_basis(agreement, kind, action)
    approvals = []
    for step, who_key, when_key in (("Drafted", "author", "created_at"),
                                    ("Submitted", "submitted_by", "submitted_at"),
                                    ("Approved", "approved_by", "approved_at"),
                                    ("Issued", "issued_by", "issued_at")):
        name, role = _person(source.people, rec.get(who_key))
        if name:
            approvals.append(Approval(step, name, role, iso(local_date(rec.get(when_key), zone))))
    supersedes = ""
    if source.supersedes:
        supersedes = (f"{source.supersedes.get('number') or 'an earlier version'} issued "
                      f"{iso(local_date(source.supersedes.get('issued_at'), zone))}")
    return RecommendationDocument(
        title=title,
        number=number,
        version=int(rec.get("version") or 1),
        supersedes=supersedes,
        correction_reason=rec.get("correction_reason") or "",
        running_header=f"{number or 'DRAFT'} · {title}",
        classification=PUBLIC_LINE if public else SENSITIVE_LINE,
        classification_public=public,
        organisation=source.organisation,
        subtitle="Rescission recommendation · 287(g) program oversight",
        date_label=long_date(issued) if issued else f"Draft of {long_date(today)}",
        issued_on=iso(issued),
        status=rec.get("status") or "draft",
        to=rec.get("addressee") or "",
        sender=rec.get("sender") or source.organisation,
        subject=rec.get("subject") or "",
        summary=rec.get("summary") or "",
        grounds=rec.get("grounds") or "",
        kind=kind,
        action=action,
        agreement=AgreementTarget(
            agency=agency.get("name") or "", state=agency.get("state") or "",
            model=model, model_label=MODEL_LABELS.get(model, model),
            signed_on=iso(_d(agreement.get("signed_on"))),
            status=(agreement.get("status") or "").replace("_", " ").capitalize(),
            moa_url=agreement.get("moa_url") or "",
            revision=agreement.get("revision") or "",
            designated_officers=int(agreement.get("designated_officers") or 0),
        ),
        officers=tuple(officers),
        legal_basis=basis,
        cases=cases,
        pattern=build_pattern(source.pattern),
        requested=ActionSection(
            title={"revocation": "Revocation of delegated authority",
                   "suspension": "Immediate suspension pending investigation",
                   "termination": "Termination on 90 days' notice"}[action],
            requested_action=rec.get("requested_action") or "",
            proposed_effective_on=iso(_d(rec.get("proposed_effective_on"))),
            suspension_days=rec.get("suspension_days"),
            notice_days=rec.get("notice_days"),
            response_instructions=rec.get("response_instructions") or "",
            corrective_measures=rec.get("corrective_measures") or "",
            instrument=moa.revocation_instrument(model) if kind == "officers" else "",
        ),
        approvals=tuple(approvals),
        sustained_count=sum(len(c.allegations) for c in cases),
        evidence_count=sum(len(c.evidence) for c in cases),
    )


def document_json(document: Any) -> dict[str, Any]:
    """The document's data, as embedded in the PDF (data.json)."""
    data = dataclasses.asdict(document)
    data["schema"] = f"casetracker/{type(document).__name__}/1"
    return data


# --- the case report ---------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineRow:
    when: str
    what: str


@dataclass(frozen=True)
class ReferralRow:
    body: str
    sent_on: str
    reference: str
    acknowledged_on: str
    outcome: str


@dataclass(frozen=True)
class CaseReportDocument:
    title: str
    number: str
    running_header: str
    classification: str
    classification_public: bool
    organisation: str
    subtitle: str
    date_label: str
    case: CaseSection
    status: str
    agency: str
    agreement: str
    contact_lines: tuple[str, ...]  # empty unless the reader may see contact details
    checklist: tuple[str, ...]
    characteristics: tuple[str, ...]
    harm: str
    referrals: tuple[ReferralRow, ...]
    timeline: tuple[TimelineRow, ...]
    generated_by: str
    # the witnesses the complainant named: "name — statement" (contact only with show_contact)
    witnesses: tuple[str, ...] = ()


def build_case_report(case: dict[str, Any], *, now: datetime, zone: str, organisation: str,
                      show_contact: bool, generated_by: str) -> CaseReportDocument:
    section = build_case_section(case, now=now, zone=zone, public=not show_contact)
    if show_contact:
        # the full narrative is part of the file for staff who may see the case
        pass
    contact_lines: tuple[str, ...] = ()
    contact = case.get("contact") or {}
    if show_contact and contact:
        contact_lines = tuple(f"{label}: {contact[key]}" for key, label in (
            ("name", "Name"), ("email", "E-mail"), ("phone", "Phone"), ("address", "Address"),
            ("preferred_language", "Preferred language"),
            ("preferred_contact", "Preferred contact"), ("safety_notes", "Safety notes"),
            ("relationship", "Relationship to the person affected"),
            ("victim_name", "Person affected"),
        ) if contact.get(key))
    if not show_contact:
        section = dataclasses.replace(section, narrative=case.get("narrative") or "")
    timeline = tuple(TimelineRow(iso(local_date(e["at"], zone)) + " " + (
        _dt(e["at"]).astimezone(ZoneInfo(zone)).strftime("%H:%M") if _dt(e["at"]) else ""),
        e["what"]) for e in case.get("timeline") or [])
    today = now.astimezone(ZoneInfo(zone)).date()
    number = case.get("tracking_number") or ""
    return CaseReportDocument(
        title=f"Case file {number}",
        number=number,
        running_header=f"Case file {number}",
        classification=SENSITIVE_LINE if show_contact else
        "Sensitive — law-enforcement investigative file (contact details withheld)",
        classification_public=False,
        organisation=organisation,
        subtitle="Case file · 287(g) complaint investigation",
        date_label=f"Printed {long_date(today)}",
        case=section,
        status=(case.get("status") or "").replace("_", " ").capitalize(),
        agency=case.get("agency_name") or "—",
        agreement=case.get("agreement_label") or "—",
        contact_lines=contact_lines,
        checklist=tuple(str(x).replace("_", " ") for x in case.get("checklist") or []),
        characteristics=tuple(CHARACTERISTIC_LABELS.get(str(x), str(x))
                              for x in case.get("protected_characteristics") or []),
        harm=case.get("harm") or "",
        referrals=tuple(ReferralRow(
            REFERRAL_LABELS.get(r.get("body") or "", r.get("body_other") or "Other"),
            iso(_d(r.get("sent_on"))), r.get("reference_number") or "",
            iso(_d(r.get("acknowledged_on"))), r.get("outcome") or "")
            for r in case.get("referrals") or []),
        timeline=timeline,
        generated_by=generated_by,
        witnesses=tuple(" — ".join(part for part in (
            w.get("name") or "Unnamed witness",
            (w.get("contact") or "") if show_contact else "",
            w.get("statement") or "") if part) for w in case.get("witnesses") or []),
    )


def window(now: datetime, days: int = 365) -> tuple[datetime, datetime]:
    return now - timedelta(days=days), now
