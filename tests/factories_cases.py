"""Builders for case-work tests: registry rows and a received complaint with its officers."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from casetracker.cases import clocks
from casetracker.cases.tables import Allegation, Case, CaseOfficer
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.settings import get_settings

_counter = itertools.count(1)


async def make_agency(name: str = "Harlow County Sheriff's Office", state: str = "FL") -> Agency:
    n = next(_counter)
    agency = Agency(name=name, state=state, county="Harlow", kind="county",
                    match_key=f"{state}:{name.lower()}:{n}")
    await agency.save()
    return agency


async def make_agreement(agency: Agency, model: str = "TFM", status: str = "active") -> Agreement:
    agreement = Agreement(agency=agency.id, model=model, status=status,
                          signed_on=date(2025, 3, 1))
    await agreement.save()
    return agreement


async def make_officer(agency: Agency, name: str = "Daniel Reyes", badge: str = "4471", *,
                       designated: bool = True, agreement: Agreement | None = None,
                       designation_status: str = "active") -> Officer:
    officer = Officer(agency=agency.id, name=name, badge_number=badge, rank="Deputy")
    await officer.save()
    if designated:
        agreement = agreement or await make_agreement(agency)
        await Designation(officer=officer.id, agreement=agreement.id,
                          authorised_on=date(2025, 6, 1), status=designation_status,
                          training_completed_on=date(2025, 5, 20)).save()
    return officer


def received(*args: int) -> datetime:
    """A local (configured zone) wall-clock time, as stored: UTC."""
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(get_settings().timezone)).astimezone(UTC)


async def make_case(*, status: str = "received", received_at: datetime | None = None,
                    officers: list[dict[str, Any]] | None = None, agency: Agency | None = None,
                    narrative: str | None = None, **fields: Any) -> Case:
    """A realistic complaint as the public form leaves it: content, deadlines, officers as
    described (not yet linked to the registry)."""
    n = next(_counter)
    settings = get_settings()
    received_at = received_at or datetime.now(UTC)
    deadlines = clocks.intake_deadlines(
        received_at, ice_notice_required=False,
        calendar=clocks.BusinessCalendar.from_settings(settings),
        rules=clocks.ClockRules.from_settings(settings))
    case = Case(
        tracking_number=fields.pop("tracking_number", f"CT-2026-{n:05d}"),
        status=status, channel="web", language="es", received_at=received_at,
        incident_date=date(2026, 2, 27), incident_time="22:40",
        incident_location="US-27 northbound near exit 12", incident_city="Moore Haven",
        incident_state="FL", incident_setting="traffic_stop",
        context_287g=fields.pop("context_287g", "field"),
        narrative=narrative if narrative is not None else (
            "I was driving home from work when a deputy stopped me.\n"
            "He asked where I was born and for my papers before asking for my licence.\n"
            "<b>He said</b> people like me should go back."),
        checklist=["stopped", "questioned_status", "slurs"],
        protected_characteristics=["ethnicity", "national_origin"],
        agency=agency.id if agency else None,
        **deadlines, **fields,
    )
    await case.save()
    for position, officer in enumerate(officers if officers is not None else [
            {"name": "Deputy Reyes", "badge_number": "4471"}]):
        await CaseOfficer(case=case.id, position=position, **officer).save()
    return case


async def add_allegation(case: Case, allegation_type: str = "racial_profiling", **fields: Any
                         ) -> Allegation:
    allegation = Allegation(case=case.id, allegation_type=allegation_type, **fields)
    await allegation.save()
    return allegation
