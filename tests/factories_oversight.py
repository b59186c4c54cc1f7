"""Builders for oversight tests: agencies, agreements, officers, designations, cases and
allegations with exactly the dates and findings a test needs."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from casetracker.cases.tables import Allegation, Case
from casetracker.registry.tables import Agency, Agreement, Designation, Officer

_n = itertools.count(1)


def at(day: str, hour: int = 12) -> datetime:
    """'2024-03-05' -> that day at ``hour``:00 UTC."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC) + timedelta(
        hours=hour)


async def make_agency(name: str | None = None, state: str = "TX", **fields: Any) -> Agency:
    n = next(_n)
    name = name or f"Test County Sheriff {n}"
    agency = Agency(name=name, state=state, match_key=f"{state}|{name.lower()}|{n}", **fields)
    await agency.save()
    return agency


async def make_agreement(agency: Agency, model: str = "JEM", status: str = "active",
                         **fields: Any) -> Agreement:
    agreement = Agreement(agency=agency.id, model=model, status=status, **fields)
    await agreement.save()
    return agreement


async def make_officer(agency: Agency, name: str | None = None, **fields: Any) -> Officer:
    officer = Officer(agency=agency.id, name=name or f"Officer {next(_n)}", **fields)
    await officer.save()
    return officer


async def make_designation(officer: Officer, agreement: Agreement, **fields: Any) -> Designation:
    designation = Designation(officer=officer.id, agreement=agreement.id, **fields)
    await designation.save()
    return designation


async def make_case(received: str | datetime = "2024-01-10", *, agency: Agency | None = None,
                    agreement: Agreement | None = None, **fields: Any) -> Case:
    received_at = at(received) if isinstance(received, str) else received
    case = Case(tracking_number=f"OV-{next(_n):06d}", received_at=received_at,
                agency=agency.id if agency else None,
                agreement=agreement.id if agreement else None, **fields)
    await case.save()
    return case


async def make_allegation(case: Case, allegation_type: str = "other", *,
                          officer: Officer | None = None, characteristic: str = "",
                          finding: str = "", final_at: datetime | None = None,
                          **fields: Any) -> Allegation:
    allegation = Allegation(case=case.id, officer=officer.id if officer else None,
                            allegation_type=allegation_type,
                            protected_characteristic=characteristic, final_finding=finding,
                            final_at=final_at, **fields)
    await allegation.save()
    return allegation
