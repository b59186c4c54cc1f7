"""Registry services on the database: designation verbs, edits, permissions, look-ups."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.errors import Forbidden, InvalidTransition, ValidationFailed
from casetracker.registry.lookup import search_agencies, suggest_officers
from casetracker.registry.services import RegistryService
from casetracker.registry.tables import Designation
from tests.factories import make_user
from tests.factories_registry import (
    make_agency,
    make_agreement,
    make_designation,
    make_officer,
)


async def actor(role: str) -> Actor:
    return Actor.from_user(await make_user(role), ip_address="192.0.2.1")


async def test_suspend_lift_revoke_with_dates_reasons_and_case(settings: Any) -> None:
    agency = await make_agency()
    agreement = await make_agreement(agency)
    officer = await make_officer(agency)
    designation = await make_designation(officer, agreement)
    service = RegistryService(await actor("supervisor"))

    await service.suspend_designation(designation.id, on=date(2025, 9, 1),
                                      reason="Complaint 2025-0042 under investigation",
                                      case_id=42)
    row = await Designation.select().where(Designation.id == designation.id).first()
    assert (row["status"], row["suspended_on"], row["status_case_id"]) == (
        "suspended", date(2025, 9, 1), 42)
    with pytest.raises(InvalidTransition):
        await service.suspend_designation(designation.id, on=date(2025, 9, 2), reason="again")
    await service.lift_suspension(designation.id, on=date(2025, 10, 1), reason="Not sustained")
    row = await Designation.select().where(Designation.id == designation.id).first()
    assert (row["status"], row["suspension_lifted_on"]) == ("active", date(2025, 10, 1))
    await service.revoke_designation(designation.id, on=date(2025, 11, 1), reason="Sustained",
                                     case_id=43)
    row = await Designation.select().where(Designation.id == designation.id).first()
    assert (row["status"], row["revoked_on"], row["status_reason"]) == (
        "revoked", date(2025, 11, 1), "Sustained")
    with pytest.raises(ValidationFailed):
        await service.revoke_designation(designation.id, on=date(2025, 11, 2), reason=" ")

    events = await AuditEvent.select().where(AuditEvent.object_type == "designation").order_by(
        AuditEvent.seq)
    assert [e["action"] for e in events] == [
        "registry.designation.suspend", "registry.designation.lift_suspension",
        "registry.designation.revoke"]
    assert [e["case_id"] for e in events] == [42, None, 43]
    assert json.loads(events[0]["details"])["reason"].startswith("Complaint 2025-0042")


async def test_who_may_change_what(settings: Any) -> None:
    agency = await make_agency()
    designation = await make_designation(await make_officer(agency),
                                         await make_agreement(agency))
    investigator = RegistryService(await actor("investigator"))
    with pytest.raises(Forbidden):
        await investigator.suspend_designation(designation.id, on=date(2025, 9, 1), reason="x")
    with pytest.raises(Forbidden):
        await investigator.create_agency(name="X PD", state="TX")
    with pytest.raises(Forbidden):
        await RegistryService(await actor("supervisor")).update_agency(
            agency.id, name="Y", state="TX")
    with pytest.raises(Forbidden):
        await RegistryService(Actor.public()).import_ice_sheet("whatever.xlsx")


async def test_duplicate_agreement_and_foreign_designation_are_refused(settings: Any) -> None:
    admin = RegistryService(await actor("administrator"))
    agency, other = await make_agency(), await make_agency()
    await admin.create_agreement(agency_id=agency.id, model="JEM")
    with pytest.raises(ValidationFailed) as caught:
        await admin.create_agreement(agency_id=agency.id, model="JEM")
    assert "model" in caught.value.errors
    officer = await make_officer(agency)
    foreign = await make_agreement(other)
    with pytest.raises(ValidationFailed) as caught:
        await admin.create_designation(officer_id=officer.id, agreement_id=foreign.id)
    assert "agreement_id" in caught.value.errors


async def test_search_agencies_by_name_words_or_state(settings: Any) -> None:
    galveston = await make_agency("Galveston County Sheriff's Office", state="TX")
    await make_agreement(galveston, model="JEM")
    await make_agreement(galveston, model="WSO", status="no_longer_listed")
    await make_agency("Lee County Sheriff's Office", state="FL")
    await make_agency("Ålesund Police Department", state="FL", kind="municipality")

    found = await search_agencies("GALVESTON sheriff’s")
    assert [a["name"] for a in found] == ["Galveston County Sheriff's Office"]
    assert found[0]["models"] == ["JEM"]  # active/pending/suspended only
    assert found[0]["label"] == "Galveston County Sheriff's Office (TX)"
    assert {a["state"] for a in await search_agencies("florida")} == {"FL"}
    assert {a["state"] for a in await search_agencies("fl")} == {"FL"}
    # Case-insensitive beyond ASCII on both engines (SQLite's LIKE is ASCII-only).
    assert [a["name"] for a in await search_agencies("ålesund")] == ["Ålesund Police Department"]
    assert [a["name"] for a in await search_agencies("ÅLESUND")] == ["Ålesund Police Department"]
    assert await search_agencies("%") == []
    assert await search_agencies("zzz") == []
    assert len(await search_agencies("county", limit=1)) == 1


async def test_both_apostrophe_spellings_are_found_whichever_is_typed(settings: Any) -> None:
    # ICE lists "Sheriff’s" and "Sheriff's" as two agencies; a person types either.
    straight = await make_agency("Calhoun County Sheriff's Office", state="TX")
    curly = await make_agency("Calhoun County Sheriff\u2019s Office", state="TX")
    for typed in ("calhoun sheriff's", "CALHOUN SHERIFF\u2019S", "Calhoun County Sheriff`s"):
        assert {a["id"] for a in await search_agencies(typed)} == {straight.id, curly.id}, typed
    assert [a["id"] for a in await search_agencies("calhoun sheriffs")] == []


async def test_suggest_officers_ranks_agency_then_badge_then_name(settings: Any) -> None:
    home, elsewhere = await make_agency(), await make_agency()
    exact_home = await make_officer(home, name="Chris Walker", badge_number="0417")
    similar_home = await make_officer(home, name="Kris Walker", badge_number="900")
    exact_elsewhere = await make_officer(elsewhere, name="Pat Doe", badge_number="417")
    await make_officer(home, name="Unrelated Person", badge_number="555")

    found = await suggest_officers("#417", "Walker, Chris", home.id)
    ids = [o["id"] for o in found]
    assert ids[:2] == [exact_home.id, similar_home.id]
    assert exact_elsewhere.id in ids
    assert found[0]["badge_match"] == "exact" and found[0]["same_agency"]
    by_badge_only = await suggest_officers("417", "", None)
    assert {o["id"] for o in by_badge_only} == {exact_home.id, exact_elsewhere.id}
    by_name = await suggest_officers("", "kris walker", None, limit=1)
    assert [o["id"] for o in by_name] == [similar_home.id]
    assert await suggest_officers("", "", home.id) == []


async def test_the_flagged_filter_agrees_with_the_flag_rules(settings: Any) -> None:
    from itertools import product

    from casetracker.registry.queries import flagged_designations
    from casetracker.registry.rules import designation_flags

    today, cycle = date(2026, 1, 15), 730
    agency = await make_agency()
    agreement = await make_agreement(agency)
    dates = [None, date(2023, 1, 1), date(2025, 6, 1)]
    expiries = [None, date(2026, 1, 14), date(2026, 1, 15)]
    expected: set[int] = set()
    for status, expiry, trained, refresher in product(("active", "suspended", "revoked"),
                                                      expiries, dates, dates):
        officer = await make_officer(agency)
        designation = await make_designation(
            officer, agreement, authorisation_expires_on=expiry, training_completed_on=trained,
            last_refresher_on=refresher)
        await Designation.update({Designation.status: status}).where(
            Designation.id == designation.id)
        if designation_flags(status=status, authorisation_expires_on=expiry,
                             training_completed_on=trained, last_refresher_on=refresher,
                             today=today, training_cycle_days=cycle).any:
            expected.add(officer.id)
    found = {r["officer"] for r in await flagged_designations(today, cycle)}
    assert found == expected and expected
