"""Importing ICE's real 287(g) sheets (the shared data folder's ice-287g/) on both engines."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.registry import rules
from casetracker.registry.ice_sheet import SheetError
from casetracker.registry.services import RegistryService
from casetracker.registry.tables import Agency, Agreement
from tests.conftest import SHARED_DATA

ICE = SHARED_DATA / "ice-287g"
JULY = ICE / "participatingAgencies07182025pm.xlsx"
MAY = ICE / "participatingAgencies05162025am.xlsx"
PENDING = ICE / "pendingAgencies07182025pm.xlsx"

pytestmark = pytest.mark.shared_data("ice-287g/participatingAgencies07182025pm.xlsx",
                                      "ice-287g/participatingAgencies05162025am.xlsx",
                                      "ice-287g/pendingAgencies07182025pm.xlsx")


def service() -> RegistryService:
    return RegistryService(Actor.system())


async def agreement_counts() -> dict[str, Any]:
    rows = await Agreement.select(Agreement.model, Agreement.status, Agreement.agency.state)
    return {
        "agreements": len(rows),
        "models": Counter(r["model"] for r in rows),
        "statuses": Counter(r["status"] for r in rows),
        "states": len({r["agency.state"] for r in rows}),
    }


async def test_july_sheet_gives_the_published_counts(settings: Any) -> None:
    started = time.perf_counter()
    summary = await service().import_ice_sheet(JULY)
    elapsed = time.perf_counter() - started
    print(f"July import on {settings.database_url.split(':')[0]}: {elapsed:.2f}s")
    counts = await agreement_counts()
    assert counts["agreements"] == 832
    assert counts["models"] == {"TFM": 415, "WSO": 300, "JEM": 117}
    assert counts["states"] == 40
    assert counts["statuses"] == {"active": 832}
    # 690 agencies, as ICE counts them: five Texas sheriffs are spelled with "’" on some rows
    # and "'" on others (e.g. Galveston County Sheriff’s Office JEM / Galveston County
    # Sheriff's Office WSO); the sheet lists each spelling as an agency, and so does the
    # registry, with a warning on every such row so that nobody is surprised.
    assert await Agency.count() == 690
    assert summary.added == 832 and summary.updated == 0 and summary.unchanged == 0
    assert summary.rejected == []
    warned_rows = {w["row"] for w in summary.warnings}
    assert {639, 775, 785} <= warned_rows  # 5025-07-07, '7/72025', '05/082025'
    twins = [w["reason"] for w in summary.warnings
             if "differ only in the apostrophe" in w["reason"]]
    offices = {rules.similar_agency_key("TX", w.split(" (TX) ")[0]) for w in twins}
    assert len(offices) == 5 and all(" (TX) " in w for w in twins)
    assert any("Galveston County Sheriff" in w for w in twins)
    grundy = await Agreement.select(Agreement.signed_on, Agreement.signed_raw).where(
        (Agreement.agency.name == "Grundy County Sheriff's Office")
        & (Agreement.model == "WSO")).first()
    assert grundy == {"signed_on": None, "signed_raw": "5025-07-07"}
    galveston = await Agreement.select(Agreement.model, Agreement.agency.name).where(
        Agreement.agency.name.like("Galveston County Sheriff%"))
    assert sorted((r["agency.name"], r["model"]) for r in galveston) == [
        ("Galveston County Sheriff's Office", "WSO"), ("Galveston County Sheriff’s Office", "JEM")]
    events = await AuditEvent.select().where(AuditEvent.action == "registry.import")
    assert len(events) == 1
    details = json.loads(events[0]["details"])
    assert details["added"] == 832 and details["source"] == JULY.name


async def test_importing_july_twice_changes_nothing(settings: Any) -> None:
    await service().import_ice_sheet(JULY)
    before = await Agreement.select().order_by(Agreement.id)
    ticks: list[tuple[int, int]] = []
    summary = await service().import_ice_sheet(JULY, progress=lambda d, t: ticks.append((d, t)))
    assert (summary.added, summary.updated, summary.unchanged, summary.no_longer_listed) == (
        0, 0, 832, 0)
    assert summary.agencies_added == 0 and summary.agencies_updated == 0
    assert await Agreement.select().order_by(Agreement.id) == before
    assert await Agency.count() == 690
    assert ticks[-1] == (832, 832)


async def test_may_sheet_into_an_empty_database(settings: Any) -> None:
    summary = await service().import_ice_sheet(MAY)
    assert summary.added == 571
    assert await Agreement.count() == 571


async def test_may_then_july_keeps_what_disappeared_as_no_longer_listed(settings: Any) -> None:
    await service().import_ice_sheet(MAY)
    may_keys = {(r["agency"], r["model"]) for r in
                await Agreement.select(Agreement.agency, Agreement.model)}
    summary = await service().import_ice_sheet(JULY)
    counts = await agreement_counts()
    gone = await Agreement.select(Agreement.agency, Agreement.model).where(
        Agreement.status == "no_longer_listed")
    assert summary.no_longer_listed == len(gone) > 0
    assert {(r["agency"], r["model"]) for r in gone} <= may_keys
    assert counts["statuses"]["active"] == 832
    assert counts["agreements"] == 832 + len(gone)  # nothing deleted
    assert summary.added + summary.updated + summary.unchanged == 832
    assert summary.updated > 0  # e.g. MOA links published since May
    renamed = [w["reason"] for w in summary.warnings if "probably the same agency" in w["reason"]]
    assert any(r.startswith("City of Melbourne Police Department (FL) TFM") for r in renamed)
    assert not any("West Melbourne" in r for r in renamed)
    # The same July sheet again: everything unchanged, the missing ones stay missing.
    again = await service().import_ice_sheet(JULY)
    assert (again.added, again.updated, again.no_longer_listed) == (0, 0, 0)


async def test_pending_sheet_then_participating_sheet(settings: Any) -> None:
    summary = await service().import_ice_sheet(PENDING)
    assert summary.sheet_kind == "pending"
    assert summary.added == 26
    assert (await agreement_counts())["statuses"] == {"pending": 26}
    # Re-importing the pending sheet changes nothing.
    again = await service().import_ice_sheet(PENDING)
    assert again.unchanged == 26 and again.updated == 0
    # A pending agreement that a participating sheet lists becomes active. Make one: import a
    # copy of the pending sheet forced as participating (same agencies and models).
    summary = await service().import_ice_sheet(PENDING, pending=False)
    assert summary.updated == 26
    assert (await agreement_counts())["statuses"] == {"active": 26}


async def test_unreadable_file_changes_nothing(settings: Any, tmp_path: Path) -> None:
    bad = tmp_path / "participatingAgencies.xlsx"
    bad.write_bytes(b"this is not a spreadsheet")
    with pytest.raises(SheetError):
        await service().import_ice_sheet(bad)
    with pytest.raises(SheetError):
        await service().import_ice_sheet(tmp_path / "missing.xlsx")
    assert await Agreement.count() == 0
    assert await AuditEvent.count().where(AuditEvent.action == "registry.import") == 0


async def test_a_failure_midway_leaves_no_half_import(settings: Any, monkeypatch: Any) -> None:
    from casetracker.registry import services as registry_services

    async def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry_services.audit, "record", boom)
    with pytest.raises(RuntimeError):
        await service().import_ice_sheet(JULY)
    assert await Agreement.count() == 0
    assert await Agency.count() == 0


async def test_rejected_rows_are_reported_and_the_rest_import(settings: Any) -> None:
    from datetime import date

    from casetracker.registry.ice_sheet import parse_table

    header = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED",
              "MOA"]
    sheet = parse_table([
        header,
        ["TEXAS", "Rusk County Sheriff's Office", "County", "Rusk", "Task Force Model",
         date(2025, 3, 4), "link pending"],
        ["ATLANTIS", "Nowhere PD", "Municipality", "", "Task Force Model", date(2025, 3, 4), ""],
        ["TEXAS", "Rusk County Sheriff's Office", "County", "Rusk", "Border Model", "", ""],
    ], source="participatingAgencies08012025am.xlsx")
    summary = await service().apply_sheet(sheet)
    assert summary.added == 1
    assert [(r["row"], r["reason"].split(" ")[0]) for r in summary.rejected] == [
        (3, "STATE"), (4, "SUPPORT")]
    event = await AuditEvent.select().where(AuditEvent.action == "registry.import").first()
    assert [r["row"] for r in json.loads(event["details"])["rejected"]] == [3, 4]

    only_bad = parse_table([header, ["ATLANTIS", "Nowhere PD", "", "", "Task Force Model", "",
                                     ""]], source="bad.xlsx")
    with pytest.raises(SheetError):
        await service().apply_sheet(only_bad)
    # The earlier agreement was not marked "no longer listed" by the unusable sheet.
    assert await Agreement.count().where(Agreement.status == "active") == 1
