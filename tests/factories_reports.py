"""Rows for report tests: registry entries, cases with sustained findings, evidence; and how
report tests read a PDF: ``pdf_text`` and ``squeezed`` from tests/pdf.py, like every test."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from casetracker.cases.tables import Allegation, Case, CaseOfficer
from casetracker.evidence.tables import CustodyEvent, EvidenceItem
from casetracker.intake.tables import ComplainantContact
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from tests.pdf import pdf_text, squeezed  # noqa: F401 - report tests import them from here

_n = itertools.count(1)

INJECTION = ('<img src="file:///etc/passwd"> <link rel="attachment" href="file:///etc/passwd"> '
             '<style>body{background:url(http://127.0.0.1:1/x)}</style> url(http://127.0.0.1:1/x)')


async def make_agency(name: str = "Galveston County Sheriff's Office", state: str = "TX") -> int:
    n = next(_n)
    agency = Agency(name=name, state=state, county=name.split()[0], kind="county",
                    match_key=f"{state}:{name.lower()}:{n}")
    await agency.save()
    return int(agency.id)


async def make_agreement(agency_id: int, model: str = "JEM", *, signed_on: date = date(2020, 6, 8),
                         revision: str = "", status: str = "active") -> int:
    agreement = Agreement(agency=agency_id, model=model, signed_on=signed_on, status=status,
                          moa_url=f"https://www.ice.gov/doclib/287gMOA/{model.lower()}-{agency_id}.pdf",
                          revision=revision)
    await agreement.save()
    return int(agreement.id)


async def make_designated_officer(agency_id: int, agreement_id: int, name: str, badge: str,
                                  *, rank: str = "Deputy", refresher: date | None = None
                                  ) -> tuple[int, int]:
    officer = Officer(agency=agency_id, name=name, badge_number=badge, rank=rank)
    await officer.save()
    designation = Designation(
        officer=officer.id, agreement=agreement_id, authorised_on=date(2021, 3, 1),
        authorisation_expires_on=date(2027, 3, 1), training_completed_on=date(2021, 2, 12),
        last_refresher_on=refresher, status="active")
    await designation.save()
    return int(officer.id), int(designation.id)


@dataclass
class SustainedCase:
    case_id: int
    tracking_number: str
    allegation_ids: list[int] = field(default_factory=list)
    rationales: list[str] = field(default_factory=list)
    evidence_hashes: list[str] = field(default_factory=list)


async def make_sustained_case(
    agency_id: int, agreement_id: int, officer_ids: list[int], *,
    narrative: str = "I was stopped and asked for my papers because of how I look.",
    rationale: str = "Body-camera video and two witnesses establish the stop had no lawful basis.",
    complainant: str = "Maria Hernández",
    allegation_types: tuple[str, ...] = ("racial_profiling",),
    evidence_count: int = 2,
    received_days_ago: int = 120,
    extra_other_finding: bool = True,
    final_by: int | None = None,
    recommended_by: int | None = None,
) -> SustainedCase:
    n = next(_n)
    received = datetime.now(UTC) - timedelta(days=received_days_ago)
    resolved = received + timedelta(days=70)
    case = Case(
        tracking_number=f"CT-RPT{n:04d}", status="closed", received_at=received,
        incident_date=(received - timedelta(days=3)).date(), incident_location="FM 646 at I-45",
        incident_city="Dickinson", incident_state="TX", incident_setting="traffic_stop",
        context_287g="jail_screening", narrative=narrative, agency=agency_id,
        agreement=agreement_id, triage_due_at=received + timedelta(days=7),
        triaged_at=received + timedelta(days=2), ice_notification_required=True,
        ice_notification_due_at=received + timedelta(days=2),
        ice_notified_at=received + timedelta(days=3),
        resolution_due_at=received + timedelta(days=90), resolved_at=resolved,
        results_due_at=resolved + timedelta(days=30),
        results_reported_at=resolved + timedelta(days=10), closed_at=resolved,
    )
    await case.save()
    result = SustainedCase(int(case.id), case.tracking_number)
    await ComplainantContact(case=case.id, name=complainant, email="mh@example.org",
                             phone="409-555-0100").save()
    for position, officer_id in enumerate(officer_ids):
        officer = await Officer.select().where(Officer.id == officer_id).first()
        co = CaseOfficer(case=case.id, position=position, name=officer["name"],
                         badge_number=officer["badge_number"], agency=agency_id,
                         officer=officer_id)
        await co.save()
        for allegation_type in allegation_types:
            text = (f"{rationale} ({allegation_type}, {officer['name']}, "
                    f"case {case.tracking_number})")
            allegation = Allegation(
                case=case.id, case_officer=co.id, officer=officer_id,
                allegation_type=allegation_type,
                protected_characteristic=("ethnicity" if allegation_type == "racial_profiling"
                                          else ""),
                description=f"Stop and questioning about status ({allegation_type}).",
                recommended_finding="sustained", recommended_rationale=text,
                recommended_at=resolved - timedelta(days=5), final_finding="sustained",
                final_rationale=text, final_at=resolved, final_by=final_by,
                recommended_by=recommended_by)
            await allegation.save()
            result.allegation_ids.append(int(allegation.id))
            result.rationales.append(text)
        if extra_other_finding:
            await Allegation(case=case.id, case_officer=co.id, officer=officer_id,
                             allegation_type="discourtesy", final_finding="not_sustained",
                             final_rationale="NOT-SUSTAINED-MARKER", final_at=resolved).save()
    for index in range(evidence_count):
        sha = hashlib.sha256(f"evidence {case.id} {index}".encode()).hexdigest()
        item = EvidenceItem(case=case.id, original_name=f"bodycam-{index}.mp4",
                            description=f"Body-camera video, part {index + 1}",
                            source="agency", sha256=sha, storage_key=f"sha256/{sha}",
                            size_bytes=1000 + index, received_at=received + timedelta(days=5))
        await item.save()
        await CustodyEvent(item=item.id, action="received", actor_label="investigator@example.org",
                           at=received + timedelta(days=5)).save()
        result.evidence_hashes.append(sha)
    return result


async def rows_of(table: Any, **where: Any) -> list[dict[str, Any]]:
    query = table.select()
    for key, value in where.items():
        query = query.where(getattr(table, key) == value)
    return await query


# --- reading PDFs ------------------------------------------------------------------------------



# --- one agreement of each model and text ------------------------------------------------------

# Agencies none of the held template texts belongs to, one per model and text year.
WORLD_AGENCIES = {
    ("JEM", 2020): ("Montgomery County Sheriff's Office", "TX", date(2020, 9, 14), ""),
    ("JEM", 2025): ("Brazos County Sheriff's Office", "TX", date(2025, 3, 3), ""),
    ("WSO", 2020): ("Lee County Sheriff's Office", "FL", date(2020, 5, 20), ""),
    ("WSO", 2025): ("Polk County Sheriff's Office", "FL", date(2025, 4, 9), ""),
    ("TFM", 2025): ("Hernando County Sheriff's Office", "FL", date(2025, 5, 1), ""),
}
# Names of the agencies whose signed copies are the held texts: never on another's document.
HELD_AGENCY_WORDS = ("Galveston", "Grayson", "Waller", "Hardee", "WCSO", "Woosley", "Houston",
                     "Trochesset")


@dataclass
class World:
    agency_id: int
    agency_name: str
    agreement_id: int
    designation_ids: list[int]
    officer_ids: list[int]
    case: SustainedCase


async def make_world(model: str, year: int, *, officers: int = 2,
                     agreement_status: str = "active", final_by: int | None = None) -> World:
    name, state, signed, revision = WORLD_AGENCIES[(model, year)]
    agency = await make_agency(name, state)
    agreement = await make_agreement(agency, model, signed_on=signed, revision=revision,
                                     status=agreement_status)
    officer_ids, designation_ids = [], []
    for index in range(officers):
        officer, designation = await make_designated_officer(
            agency, agreement, f"Officer {model}{year} Number{index + 1}", f"B-{index + 1:03d}")
        officer_ids.append(officer)
        designation_ids.append(designation)
    case = await make_sustained_case(agency, agreement, officer_ids[:1], evidence_count=1,
                                     final_by=final_by, recommended_by=final_by)
    return World(agency, name, agreement, designation_ids, officer_ids, case)
