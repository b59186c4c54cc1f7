"""Merging two agency records and undoing it keeps every row, on both engines."""

from __future__ import annotations

import json
from typing import Any

import pytest
from piccolo.conf.apps import Finder

from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.errors import Forbidden, InvalidTransition, ValidationFailed
from casetracker.registry import lookup, queries
from casetracker.registry.history import record_listings
from casetracker.registry.merge import MergeService
from casetracker.registry.services import RegistryService
from casetracker.registry.tables import Agency, AgencyMerge, Agreement, Designation, Officer
from tests.factories_registry import make_agency as make_registry_agency
from tests.factories_reports import make_agreement, make_designated_officer, make_sustained_case

# Tables the merge itself writes to (its record, the audit log) or that time alone changes.
_LEFT_OUT = {"audit_event", "agency_merge"}


async def make_agency(name: str, state: str) -> int:
    return int((await make_registry_agency(name, state=state, county="Galveston")).id)


async def everything() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, without the columns that record when a row last changed."""
    dump = {}
    for table in Finder().get_table_classes():
        name = table._meta.tablename
        if name in _LEFT_OUT:
            continue
        rows = await table.select()
        dump[name] = sorted(json.dumps({k: v for k, v in row.items() if k != "updated_at"},
                                        sort_keys=True, default=str) for row in rows)
    return dump


async def twin_world() -> dict[str, int]:
    """ICE's two spellings of one Texas sheriff: JEM under one, WSO and TFM under the other,
    and a TFM under both (a rename), each with officers, designations, a case, listings."""
    curly = await make_agency("Galveston County Sheriff’s Office", "TX")
    straight = await make_agency("Galveston County Sheriff's Office", "TX")
    jem = await make_agreement(curly, "JEM")
    tfm_kept = await make_agreement(curly, "TFM")
    wso = await make_agreement(straight, "WSO")
    tfm_old = await make_agreement(straight, "TFM")
    officer_wso, designation_wso = await make_designated_officer(straight, wso, "Ana Ruiz", "71")
    officer_tfm, designation_tfm = await make_designated_officer(straight, tfm_old, "Bo Lee", "72")
    await make_designated_officer(curly, jem, "Cy Diaz", "73")
    case = await make_sustained_case(straight, tfm_old, [officer_tfm], evidence_count=0)
    await record_listings([(wso, "2025-05-16 am"), (tfm_old, "2025-05-16 am"),
                           (jem, "2025-05-16 am"), (tfm_kept, "2025-07-18 pm")],
                          kind="participating", source="test")
    return {"kept": curly, "merged": straight, "jem": jem, "tfm_kept": tfm_kept, "wso": wso,
            "tfm_old": tfm_old, "officer_wso": officer_wso, "officer_tfm": officer_tfm,
            "designation_wso": designation_wso, "designation_tfm": designation_tfm,
            "case": case.case_id}


async def test_a_merge_and_its_undo_keep_every_row(settings: Any, make_staff: Any) -> None:
    w = await twin_world()
    admin = Actor.from_user(await make_staff("administrator"))
    before = await everything()
    counts = {name: len(rows) for name, rows in before.items()}

    merge_id = await MergeService(admin).merge_agencies(
        kept_id=w["kept"], merged_id=w["merged"], reason="ICE spells it with two apostrophes")

    after = await everything()
    assert {name: len(rows) for name, rows in after.items()} == counts  # nothing lost, added
    merged = await Agency.select().where(Agency.id == w["merged"]).first()
    assert merged["merged_into"] == w["kept"]  # kept as an alias
    agreements = {a["id"]: a for a in await Agreement.select()}
    assert agreements[w["wso"]]["agency"] == w["kept"]  # moved as it is
    assert agreements[w["tfm_old"]]["agency"] == w["merged"]  # folded: stays, marked
    assert agreements[w["tfm_old"]]["merged_into"] == w["tfm_kept"]
    assert {o["agency"] for o in await Officer.select()} == {w["kept"]}
    designation = await Designation.select().where(
        Designation.id == w["designation_tfm"]).first()
    assert designation["agreement"] == w["tfm_kept"]
    from casetracker.cases.tables import Allegation, Case, CaseOfficer

    case = await Case.select(Case.agency, Case.agreement).where(Case.id == w["case"]).first()
    assert case == {"agency": w["kept"], "agreement": w["tfm_kept"]}
    assert {r["agency"] for r in await CaseOfficer.select(CaseOfficer.agency)} == {w["kept"]}
    assert await Allegation.count() > 0
    kept_page = await queries.agency_detail(w["kept"], today=__import__("datetime").date.today(),
                                            cycle_days=730)
    assert sorted(a["model"] for a in kept_page["agreements"]) == ["JEM", "TFM", "WSO"]
    event = await AuditEvent.select(AuditEvent.details).where(
        AuditEvent.action == "registry.agency.merge").first()
    details = json.loads(event["details"])
    assert details["merged"]["id"] == w["merged"] and details["moved"]["officer.agency"] == 2

    await MergeService(admin).undo_merge(merge_id)
    assert await everything() == before  # every row as it was
    record = await AgencyMerge.select().where(AgencyMerge.id == merge_id).first()
    assert record["undone_at"] is not None
    assert await AuditEvent.count().where(AuditEvent.action == "registry.agency.merge_undo") == 1
    with pytest.raises(InvalidTransition):
        await MergeService(admin).undo_merge(merge_id)


async def test_the_alias_resolves_in_imports_and_searches(settings: Any, make_staff: Any,
                                                          tmp_path: Any) -> None:
    w = await twin_world()
    admin = Actor.from_user(await make_staff("administrator"))
    await MergeService(admin).merge_agencies(kept_id=w["kept"], merged_id=w["merged"],
                                             reason="one office")
    found = await lookup.search_agencies("galveston")
    assert [a["id"] for a in found] == [w["kept"]]
    page = await queries.list_agencies(q="galveston county sheriff's")
    assert [a["id"] for a in page.items] == [w["kept"]]

    # A sheet naming the alias adds nothing and updates the kept agency's agreement.
    from casetracker.registry.ice_sheet import parse_table

    sheet = parse_table([
        ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA"],
        ["TEXAS", "Galveston County Sheriff's Office", "County", "Galveston",
         "Warrant Service Officer", "45800", "link pending"],
        ["TEXAS", "Galveston County Sheriff’s Office", "County", "Galveston",
         "Jail Enforcement Model", "45800", "link pending"],
        ["TEXAS", "Galveston County Sheriff’s Office", "County", "Galveston",
         "Task Force Model", "45800", "link pending"],
    ], source="participatingAgencies08012025am.xlsx")
    summary = await RegistryService(Actor.system()).apply_sheet(sheet)
    assert summary.added == 0 and summary.agencies_added == 0
    assert await Agency.count() == 2
    wso = await Agreement.select().where(Agreement.id == w["wso"]).first()
    assert wso["agency"] == w["kept"] and wso["moa_pending"] is True
    folded = await Agreement.select().where(Agreement.id == w["tfm_old"]).first()
    assert folded["status"] == "active"  # ignored by the import: not made "no longer listed"


async def test_undo_is_refused_once_something_new_refers_to_moved_rows(
        settings: Any, make_staff: Any) -> None:
    w = await twin_world()
    admin = Actor.from_user(await make_staff("administrator"))
    merge_id = await MergeService(admin).merge_agencies(
        kept_id=w["kept"], merged_id=w["merged"], reason="one office")
    # after the merge, an officer that moved is designated under the kept agency's JEM
    await RegistryService(admin).create_designation(officer_id=w["officer_wso"],
                                                    agreement_id=w["jem"])
    with pytest.raises(InvalidTransition, match="1 designation"):
        await MergeService(admin).undo_merge(merge_id)


async def test_merging_is_for_administrators_and_needs_a_reason(settings: Any,
                                                                make_staff: Any) -> None:
    w = await twin_world()
    supervisor = Actor.from_user(await make_staff("supervisor"))
    with pytest.raises(Forbidden):
        await MergeService(supervisor).merge_agencies(kept_id=w["kept"], merged_id=w["merged"],
                                                      reason="x")
    admin = Actor.from_user(await make_staff("administrator"))
    with pytest.raises(ValidationFailed) as missing:
        await MergeService(admin).merge_agencies(kept_id=w["kept"], merged_id=w["merged"],
                                                 reason=" ")
    assert "reason" in missing.value.errors
    other_state = await make_agency("Galveston Police Department", "IN")
    with pytest.raises(ValidationFailed):
        await MergeService(admin).merge_agencies(kept_id=w["kept"], merged_id=other_state,
                                                 reason="no")


async def test_the_dashboard_no_longer_lists_the_alias(settings: Any, make_staff: Any) -> None:
    from casetracker.oversight import services

    w = await twin_world()
    admin = Actor.from_user(await make_staff("administrator"))
    await MergeService(admin).merge_agencies(kept_id=w["kept"], merged_id=w["merged"],
                                             reason="one office")
    choices = await services.filter_choices()
    assert [a["id"] for a in choices["agencies"]] == [w["kept"]]
