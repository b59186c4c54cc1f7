"""CaseService on a real database: atomic changes, concurrent steps, audit in the same
transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from casetracker.audit import services as audit_services
from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.cases.services import CaseService
from casetracker.cases.tables import Case, CaseAssignment
from casetracker.errors import InvalidTransition
from tests.factories import make_user
from tests.factories_cases import add_allegation, make_case


async def _actor(role: str) -> Actor:
    return Actor.from_user(await make_user(role))


async def test_a_failure_after_the_change_leaves_nothing_half_done(
        settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    case = await make_case(status="open")
    await add_allegation(case, "force")
    supervisor = await _actor("supervisor")
    investigator = await make_user("investigator")

    async def broken_record(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit_services, "record", broken_record)
    with pytest.raises(RuntimeError):
        await CaseService(supervisor, settings=settings).assign_investigator(
            case.id, investigator.id)
    row = await Case.select().where(Case.id == case.id).first()
    assert row["status"] == "open" and row["lead_investigator"] is None
    assert await CaseAssignment.count().where(CaseAssignment.case == case.id) == 0
    assert not list(settings.outbox_dir.glob("*.eml"))  # no e-mail for a change not made


async def test_two_people_closing_at_once_close_it_once(settings: Any) -> None:
    case = await make_case(status="under_review")
    await add_allegation(case, "search", recommended_finding="exonerated",
                         final_finding="exonerated")
    first, second = await _actor("supervisor"), await _actor("supervisor")
    results = await asyncio.gather(
        CaseService(first, settings=settings).close(case.id),
        CaseService(second, settings=settings).close(case.id),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["InvalidTransition", "NoneType"]
    assert await AuditEvent.count().where((AuditEvent.case_id == case.id)
                                          & (AuditEvent.action == "case.closed")) == 1


async def test_every_change_is_audited_with_the_case_id(settings: Any) -> None:
    case = await make_case(status="received")
    intake = await _actor("intake")
    service = CaseService(intake, settings=settings)
    await service.start_triage(case.id)
    await service.add_allegation(case.id, allegation_type="language_access")
    await service.add_note(case.id, "Complainant prefers Spanish; interpreter booked.")
    with pytest.raises(InvalidTransition):
        await service.start_triage(case.id)
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.case_id,
                                     AuditEvent.actor_label).where(
        AuditEvent.case_id == case.id).order_by(AuditEvent.seq)
    assert [e["action"] for e in events] == ["case.triage_started", "case.allegation_added",
                                             "case.note_added"]
    assert {e["actor_label"] for e in events} == {intake.label}
    chain = await audit_services.verify_chain()
    assert chain.intact
