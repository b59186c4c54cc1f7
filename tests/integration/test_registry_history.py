"""ICE's list over time: the agreement snapshot file loaded on both engines, matched to the
agencies that ICE's real sheets put in the registry (shared data folder, ice-287g/)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.errors import Forbidden
from casetracker.registry import history
from casetracker.registry.history import HistoryService
from casetracker.registry.services import RegistryService
from casetracker.registry.tables import Agency, Agreement, AgreementListing
from tests.conftest import SHARED_DATA

ICE = SHARED_DATA / "ice-287g"
SNAPSHOTS = ICE / "recoveredfactory_agreements_snapshots.csv"
MAY = ICE / "participatingAgencies05162025am.xlsx"
JULY = ICE / "participatingAgencies07182025pm.xlsx"

pytestmark = pytest.mark.shared_data("ice-287g/recoveredfactory_agreements_snapshots.csv",
                                      "ice-287g/participatingAgencies05162025am.xlsx",
                                      "ice-287g/participatingAgencies07182025pm.xlsx")

MODELS = {"Jail Enforcement Model": "JEM", "Warrant Service Officer": "WSO",
          "Task Force Model": "TFM"}


def file_listings() -> dict[tuple[str, str, str], set[str]]:
    """What the file says, read with nothing but the csv module: (state, short name, model)
    -> the snapshots listing it."""
    listed: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    with SNAPSHOTS.open(newline="") as handle:
        for row in csv.DictReader(handle):
            listed[(row["state"], row["agency"], MODELS[row["type"]])].add(row["date"])
    return listed


async def registry_from_sheets() -> None:
    service = RegistryService(Actor.system())
    await service.import_ice_sheet(MAY)
    await service.import_ice_sheet(JULY)


async def listings_of(agency_name: str, state: str, model: str) -> set[str]:
    rows = await AgreementListing.select(AgreementListing.snapshot).where(
        (AgreementListing.agreement.agency.name == agency_name)
        & (AgreementListing.agreement.agency.state == state)
        & (AgreementListing.agreement.model == model)
        & (AgreementListing.kind == "participating"))
    return {r["snapshot"] for r in rows}


async def agreement_id(agency_name: str, state: str, model: str) -> int:
    row = await Agreement.select(Agreement.id).where(
        (Agreement.agency.name == agency_name) & (Agreement.agency.state == state)
        & (Agreement.model == model)).first()
    assert row is not None, (agency_name, state, model)
    return int(row["id"])


async def test_history_of_a_handful_of_agreements_equals_the_file(settings: Any) -> None:
    await registry_from_sheets()
    report = await HistoryService(Actor.system()).import_history(SNAPSHOTS)

    # The match report on the real file (README and docs/registry.md give these counts).
    assert report.rows == 11_257 and len(report.snapshots) == 17
    assert report.agreements_in_file == 759 and report.agencies_in_file == 622
    assert report.counts() == {"matched": 606, "ambiguous": 9, "unmatched": 7}
    ambiguous = {m.name for m in report.matches if m.status == "ambiguous"}
    assert {"st cloud police", "melbourne police", "berrian county sheriff offic"} <= ambiguous
    unmatched = {m.name: m for m in report.matches if m.status == "unmatched"}
    assert unmatched["ft myers police"].candidates[0][1] == "Fort Myers Police Department"
    assert report.agreements_not_loaded == 16
    assert report.agreements_with_history == 743 and report.agreements_added == 1
    assert report.listings_added == 10_480 and report.agencies_updated == 549

    expected = file_listings()
    file_snapshots = set(report.snapshots)
    for registry_name, state, short, model in [
        ("Colbert County Sheriff's Office", "AL", ("ALABAMA", "colbert county sheriff"), "JEM"),
        # the two apostrophe spellings: each model lands on the agency that holds it
        ("Galveston County Sheriff’s Office", "TX", ("TEXAS", "galveston county sheriff"),
         "JEM"),
        ("Galveston County Sheriff's Office", "TX", ("TEXAS", "galveston county sheriff"),
         "WSO"),
        ("Okaloosa County Sheriff's Office", "FL", ("FLORIDA", "okaloosa county sheriff"),
         "WSO"),
        ("Tennessee Department of Safety and Homeland Security / THP", "TN",
         ("TENNESSEE", "tennessee of safety and homeland security / thp"), "TFM"),
    ]:
        recorded = await listings_of(registry_name, state, model)
        assert recorded & file_snapshots == expected[(*short, model)], registry_name

    # On neither sheet, only in the history: added as no longer listed, with its five lists.
    butler = await agreement_id("Butler County Sheriff's Office", "PA", "WSO")
    assert (await Agreement.select(Agreement.status).where(Agreement.id == butler).first()
            ) == {"status": "no_longer_listed"}
    view = await history.agreement_timeline(butler)
    timeline = view["timeline"]
    assert (timeline.first_listed, timeline.last_listed, timeline.no_longer_listed_on) == (
        "2025-05-23 am", "2025-06-04 am", "2025-06-06 am")
    assert timeline.listings == 5 and timeline.gaps == []
    # Listed on every list of the file and on the July sheet: one period, still listed.
    colbert = await history.agreement_timeline(
        await agreement_id("Colbert County Sheriff's Office", "AL", "JEM"))
    assert colbert["timeline"].first_listed == "2025-05-16 am"
    assert colbert["timeline"].last_listed == "2025-07-18 pm"
    assert colbert["timeline"].no_longer_listed_on is None

    # The agency's facts, as the file's latest rows give them.
    galveston = await Agency.select(Agency.ori, Agency.agency_type, Agency.population_policed,
                                    Agency.operating_budget).where(
        Agency.name == "Galveston County Sheriff's Office").first()
    assert galveston == {"ori": "TX0840000", "agency_type": "Sheriff",
                         "population_policed": 337_890, "operating_budget": 44_813_622}
    event = await AuditEvent.select(AuditEvent.details).where(
        AuditEvent.action == "registry.import_history").first()
    assert json.loads(event["details"])["match"] == {"matched": 606, "ambiguous": 9,
                                                     "unmatched": 7}

    # Loading it again changes nothing.
    before = await AgreementListing.count()
    again = await HistoryService(Actor.system()).import_history(SNAPSHOTS)
    assert again.listings_added == 0 and again.agreements_added == 0
    assert await AgreementListing.count() == before


async def test_reviewed_mapping_loads_the_rest_and_never_duplicates(settings: Any,
                                                                    tmp_path: Path) -> None:
    await registry_from_sheets()
    agencies_before = await Agency.count()
    dry = await HistoryService(Actor.system()).import_history(SNAPSHOTS, dry_run=True)
    assert dry.dry_run and await AgreementListing.count() == 832 + 571  # the two sheets only
    fort_myers = next(m for m in dry.matches if m.name == "ft myers police")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(
        "state,name,agency_id\n"
        f"FL,ft myers police,{fort_myers.candidates[0][0]}\n"
        "WI,walworth county sheriff,new\n"
        "TX,southside place police,skip\n"
        "MO,st mary police,\n")  # not reviewed yet: stays unmatched
    report = await HistoryService(Actor.system()).import_history(SNAPSHOTS,
                                                                 mapping_path=mapping)
    assert report.counts() == {"matched": 606, "ambiguous": 9, "unmatched": 4, "mapped": 1,
                               "new": 1, "skipped": 1}
    assert await Agency.count() == agencies_before + 1
    assert await listings_of("Fort Myers Police Department", "FL", "TFM") >= file_listings()[
        ("FLORIDA", "ft myers police", "TFM")]
    walworth = await Agency.select().where(Agency.name == "Walworth County Sheriff").first()
    assert walworth["state"] == "WI" and walworth["kind"] == "county"
    # The same mapping again: the agency it added is found, not added twice.
    await HistoryService(Actor.system()).import_history(SNAPSHOTS, mapping_path=mapping)
    assert await Agency.count() == agencies_before + 1


async def test_each_sheet_is_a_dated_listing_and_staff_need_the_permission(settings: Any,
                                                                          make_staff: Any
                                                                          ) -> None:
    await registry_from_sheets()
    rows = await AgreementListing.select(AgreementListing.snapshot, AgreementListing.listed_on)
    by_label = defaultdict(int)
    for row in rows:
        by_label[row["snapshot"]] += 1
    assert dict(by_label) == {"2025-05-16 am": 571, "2025-07-18 pm": 832}
    await RegistryService(Actor.system()).import_ice_sheet(JULY)  # again: nothing new
    assert await AgreementListing.count() == 571 + 832
    investigator = await make_staff("investigator")
    with pytest.raises(Forbidden):
        await HistoryService(Actor.from_user(investigator)).import_history(SNAPSHOTS)


@pytest.mark.slow
async def test_the_command_prints_the_match_report(settings: Any, tmp_path: Path) -> None:
    from tests.integration.test_registry_cli import run

    out = tmp_path / "review.csv"
    result = run(["registry", "import-history", str(SNAPSHOTS), "--dry-run", "--write-mapping",
                  str(out)], settings)
    assert result.returncode == 0, result.stderr
    # An empty registry: every name is unmatched, and nothing is written.
    assert "unmatched (not loaded):                       622" in result.stdout
    assert "Dry run: nothing was written" in result.stdout
    assert len(out.read_text().splitlines()) == 623
    assert await AgreementListing.count() == 0
    missing = run(["registry", "import-history", str(tmp_path / "no.csv")], settings)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
