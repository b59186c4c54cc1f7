"""Named builders for registry rows: ``await make_agency(name=..., state="TX")``."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from casetracker.registry.rules import agency_match_key
from casetracker.registry.tables import Agency, Agreement, Designation, Officer

_counter = itertools.count(1)


async def make_agency(name: str | None = None, *, state: str = "TX", county: str = "",
                      kind: str = "county") -> Agency:
    name = name or f"Test County {next(_counter)} Sheriff's Office"
    agency = Agency(name=name, state=state, county=county or name.split(" Sheriff")[0],
                    kind=kind, match_key=agency_match_key(state, name))
    await agency.save()
    return agency


async def make_agreement(agency: Agency | None = None, *, model: str = "WSO",
                         status: str = "active", signed_on: date | None = date(2025, 3, 1),
                         **fields: Any) -> Agreement:
    agency = agency or await make_agency()
    agreement = Agreement(agency=agency.id, model=model, status=status, signed_on=signed_on,
                          **fields)
    await agreement.save()
    return agreement


async def make_officer(agency: Agency | None = None, *, name: str | None = None,
                       badge_number: str = "", rank: str = "Deputy", active: bool = True
                       ) -> Officer:
    agency = agency or await make_agency()
    n = next(_counter)
    officer = Officer(agency=agency.id, name=name or f"Officer {n}",
                      badge_number=badge_number or f"B{n:04d}", rank=rank, active=active)
    await officer.save()
    return officer


async def make_designation(officer: Officer, agreement: Agreement, **fields: Any) -> Designation:
    fields.setdefault("authorised_on", date(2025, 4, 1))
    fields.setdefault("authorisation_expires_on", date(2027, 4, 1))
    fields.setdefault("training_completed_on", date(2025, 3, 20))
    designation = Designation(officer=officer.id, agreement=agreement.id, status="active",
                              **fields)
    await designation.save()
    return designation
