"""Builders for case-list tests: cases with officers, allegations and notes, by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker.cases.tables import Allegation, Case, CaseNote, CaseOfficer

_counter = itertools.count(1)
BASE_TIME = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday


async def make_list_case(*, status: str = "received", received_at: datetime | None = None,
                         narrative: str = "", agency: Any = None, agreement: Any = None,
                         lead: Any = None, officers: list[Any] = (),  # type: ignore[assignment]
                         allegations: list[dict[str, Any]] = (),  # type: ignore[assignment]
                         notes: list[str] = (),  # type: ignore[assignment]
                         **fields: Any) -> Case:
    n = next(_counter)
    received_at = received_at or BASE_TIME + timedelta(hours=n)
    case = Case(
        tracking_number=fields.pop("tracking_number", f"CT-T{n:06d}"),
        status=status,
        received_at=received_at,
        narrative=narrative or f"Complaint number {n}.",
        agency=getattr(agency, "id", agency),
        agreement=getattr(agreement, "id", agreement),
        lead_investigator=getattr(lead, "id", lead),
        resolution_due_at=fields.pop("resolution_due_at", received_at + timedelta(days=90)),
        **fields,
    )
    await case.save()
    for position, officer in enumerate(officers):
        await CaseOfficer(case=case.id, position=position, name=getattr(officer, "name", ""),
                          badge_number=getattr(officer, "badge_number", ""),
                          officer=getattr(officer, "id", None),
                          agency=getattr(agency, "id", agency)).save()
    for allegation in allegations:
        officer = allegation.get("officer")
        await Allegation(case=case.id, officer=getattr(officer, "id", officer),
                         allegation_type=allegation.get("type", "other"),
                         protected_characteristic=allegation.get("characteristic", "")).save()
    for body in notes:
        await CaseNote(case=case.id, body=body).save()
    return case
