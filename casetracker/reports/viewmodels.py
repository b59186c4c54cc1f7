"""View-models of the printed documents: pure dataclasses built by pure functions.

Loaders read the database into plain dicts; the builders here turn them into what the templates
print. Tests check the builders without a PDF. The rescission recommendation's view-model is in
``reports/document.py``; this module holds the case report's and the labels both use.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casetracker.cases.clocks import clock_state

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


# --- case sections (the case report) --------------------------------------------------------

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
class FollowUpRow:
    when: str
    text: str
    files: tuple[str, ...]


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
    # what the complainant added from the status page, in full: (when, text, files)
    follow_ups: tuple[FollowUpRow, ...] = ()
    # dated consent changes (only with show_contact)
    consent_changes: tuple[TimelineRow, ...] = ()
    # officers, findings, interviews, notes, tasks, review history, access summary
    # (reports/case_file.py); None for documents built without them
    file: Any = None


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
        at.astimezone(ZoneInfo(zone)).strftime("%H:%M") if (at := _dt(e["at"])) else ""),
        e["what"]) for e in case.get("timeline") or [])
    today = now.astimezone(ZoneInfo(zone)).date()
    number = case.get("tracking_number") or ""

    def when(value: Any) -> str:
        moment = _dt(value)
        return (iso(local_date(moment, zone)) + " "
                + moment.astimezone(ZoneInfo(zone)).strftime("%H:%M %Z")) if moment else "—"

    follow_ups = tuple(FollowUpRow(when(f["received_at"]), f.get("message") or "",
                                   tuple(i.get("original_name") or "file"
                                         for i in f.get("files") or []))
                       for f in case.get("follow_ups") or [])
    consent_changes = tuple(TimelineRow(when(c["changed_at"]), (
        f"Identity may be shared with the agency: {'yes' if c['share_agency'] else 'no'}; "
        f"with ICE/DHS: {'yes' if c['share_ice'] else 'no'} — "
        + (f"recorded by {c.get('recorded_by_name') or 'staff'} from what the complainant said"
           if c.get("source") == "staff" else "changed by the complainant on the status page")))
        for c in case.get("consent_changes") or []) if show_contact else ()
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
        follow_ups=follow_ups,
        consent_changes=consent_changes,
    )


def window(now: datetime, days: int = 365) -> tuple[datetime, datetime]:
    return now - timedelta(days=days), now
