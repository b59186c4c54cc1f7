"""Oversight figures from the database, on hand-made cases with known answers (both engines),
early-intervention flags at their thresholds, and the legacy import against the real files."""

from __future__ import annotations

import collections
import csv
import gzip
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from casetracker.oversight import flag_services, services
from casetracker.oversight.metrics import Period, Scope
from tests.conftest import SHARED_DATA
from tests.factories_oversight import (
    at,
    make_agency,
    make_agreement,
    make_allegation,
    make_case,
    make_designation,
    make_officer,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
YEAR_2024 = Period(date(2024, 1, 1), date(2024, 12, 31))


async def build_world() -> dict[str, Any]:
    a = await make_agency("Alpha County Sheriff", "TX")
    b = await make_agency("Bravo County Sheriff", "FL")
    c = await make_agency("Charlie Police", "TX")
    jem = await make_agreement(a, "JEM")
    await make_agreement(b, "WSO")
    tfm = await make_agreement(c, "TFM")
    o1 = await make_officer(a)
    o2 = await make_officer(a)
    o3 = await make_officer(a)
    o4 = await make_officer(a)
    await make_designation(o1, jem, training_completed_on=date(2024, 1, 5))
    await make_designation(o2, jem, status="suspended")
    await make_designation(o3, jem, status="revoked")
    await make_designation(o4, jem, authorisation_expires_on=date(2024, 6, 1),
                           training_completed_on=date(2020, 1, 1))
    c1 = await make_case("2024-01-10", agency=a, agreement=jem, status="closed",
                         closed_at=at("2024-02-19"), resolved_at=at("2024-02-19"),
                         ice_notification_required=True, ice_notified_at=at("2024-01-11"),
                         results_due_at=at("2024-03-20"), results_reported_at=at("2024-03-01"))
    await make_allegation(c1, "racial_profiling", officer=o1, characteristic="race",
                          finding="sustained", final_at=at("2024-02-19"))
    await make_allegation(c1, "force", officer=o1, finding="not_sustained",
                          final_at=at("2024-02-19"))
    c2 = await make_case("2024-02-01", agency=a, agreement=jem, status="closed",
                         closed_at=at("2024-07-01"), resolved_at=at("2024-07-01"),
                         ice_notification_required=True, ice_notified_at=at("2024-02-10"),
                         results_due_at=at("2024-07-31"), results_reported_at=at("2024-08-15"))
    await make_allegation(c2, "racial_profiling", officer=o1, characteristic="ethnicity",
                          finding="unfounded", final_at=at("2024-07-01"))
    c3 = await make_case("2024-03-01", agency=a, agreement=jem, status="closed",
                         closed_at=at("2024-03-11"), resolved_at=at("2024-03-11"))
    await make_allegation(c3, "other", finding="withdrawn", final_at=at("2024-03-11"))
    c4 = await make_case("2024-11-15", agency=a, agreement=jem, status="under_investigation",
                         ice_notification_required=True)
    await make_allegation(c4, "search", officer=o1)
    await make_case("2023-12-31", agency=a, agreement=jem)  # before the period
    await make_case("2023-05-01", agency=c, agreement=tfm)  # before the period
    c6 = await make_case("2024-05-05", incident_state="FL")  # no agency
    return {"a": a, "b": b, "c": c, "o1": o1, "o4": o4, "cases": [c1, c2, c3, c4, c6]}


async def test_every_dashboard_figure_has_its_known_answer(settings: Any) -> None:
    w = await build_world()
    m = await services.load_metrics(YEAR_2024, Scope(), now=NOW)
    assert m["received"] == 5
    assert {t["label"]: t["count"] for t in m["trend"] if t["count"]} == {
        "2024-01": 1, "2024-02": 1, "2024-03": 1, "2024-05": 1, "2024-11": 1}
    al = m["allegations"]
    assert al["total"] == 5
    assert al["by_type"] == {"racial_profiling": 2, "force": 1, "other": 1, "search": 1}
    assert al["by_characteristic"] == {"ethnicity": 1, "race": 1}
    assert al["sustained_rate"] == {"profiling": 50.0, "other": 0.0}
    assert m["closed"] == {"closed": 3, "without_merits": 1, "share": 33.3}
    t = m["timeliness"]
    assert t["disposition"] == {"count": 3, "median": 40, "p90": 151}
    assert (t["resolution"]["measured"], t["resolution"]["on_time"],
            t["resolution"]["overdue"], t["resolution"]["share"]) == (5, 2, 2, 40.0)
    assert (t["results"]["measured"], t["results"]["on_time"], t["results"]["share"]) == \
        (2, 1, 50.0)
    assert (t["ice_notice"]["measured"], t["ice_notice"]["on_time"], t["ice_notice"]["late"],
            t["ice_notice"]["overdue"], t["ice_notice"]["share"]) == (3, 1, 1, 1, 33.3)
    o = m["officers"]
    assert (o["suspended"], o["revoked"], o["expired"], o["stale_training"], o["active"],
            o["current_training_share"]) == (1, 1, 1, 1, 2, 50.0)
    assert [(x["name"], x["wso"]) for x in m["inactive_agencies"]] == [
        ("Bravo County Sheriff", True), ("Charlie Police", False)]
    assert w["a"].id not in {x["id"] for x in m["inactive_agencies"]}


@pytest.mark.parametrize(("scope", "received"), [
    (Scope(state="TX"), 4), (Scope(state="FL"), 1), (Scope(model="JEM"), 4),
    (Scope(model="WSO"), 0), ("agency_a", 4),
])
async def test_scopes(settings: Any, scope: Any, received: int) -> None:
    w = await build_world()
    if scope == "agency_a":
        scope = Scope(agency_id=w["a"].id)
    m = await services.load_metrics(YEAR_2024, scope, now=NOW)
    assert m["received"] == received


async def test_all_years_reads_everything(settings: Any) -> None:
    await build_world()
    m = await services.load_metrics(Period(date(2023, 1, 1), date(2024, 12, 31)), Scope(),
                                    now=NOW)
    assert m["received"] == 7
    assert m["by_year"] == {"2023": 2, "2024": 5}


async def test_months_are_local_months_like_the_period_bounds(settings: Any) -> None:
    # 23:30 on 31 January in New York is 04:30 on 1 February in UTC: a January complaint.
    late_january = datetime(2024, 2, 1, 4, 30, tzinfo=UTC)
    early_february = datetime(2024, 2, 1, 5, 30, tzinfo=UTC)  # 00:30 on 1 February locally
    await make_case(late_january)
    await make_case(early_february)
    january = await services.load_metrics(Period(date(2024, 1, 1), date(2024, 1, 31)), Scope(),
                                          now=NOW)
    assert january["received"] == 1
    assert {t["label"]: t["count"] for t in january["trend"]} == {"2024-01": 1}
    both = await services.load_metrics(Period(date(2024, 1, 1), date(2024, 2, 29)), Scope(),
                                       now=NOW)
    assert {t["label"]: t["count"] for t in both["trend"]} == {"2024-01": 1, "2024-02": 1}


async def test_early_intervention_flags_from_the_database(settings: Any) -> None:
    w = await build_world()
    flags = await flag_services.current_flags(date(2024, 12, 31))
    got = {(f["subject"], f["subject_id"], f["rule"].key, f["level"], f["count"]) for f in flags}
    o1, a = w["o1"].id, w["a"].id
    assert got == {
        ("officer", o1, "officer_complaints", "warning", 3),
        ("officer", o1, "officer_profiling", "warning", 2),
        ("officer", o1, "officer_sustained_profiling", "critical", 1),
        # 4 complaints and 2 profiling allegations, but 2 designated officers double the
        # thresholds (6 and 4); a sustained profiling finding is never scaled
        ("agency", a, "agency_sustained_profiling", "critical", 1),
    }
    # one day later the January case leaves the window: 2 complaints, no complaints flag
    later = await flag_services.current_flags(date(2025, 1, 10))
    assert ("officer_complaints" not in {f["rule"].key for f in later if f["subject_id"] == o1})


# --- legacy import -----------------------------------------------------------------------

CHICAGO = SHARED_DATA / "complaints" / "chicago-cpdp"
MAPPING = Path(__file__).resolve().parents[2] / "docs" / "legacy-mapping-chicago.toml"


def _sample(tmp: Path, complaints: int = 2000) -> tuple[Path, Path, Path, dict[str, Any]]:
    """The first ``complaints`` distinct complaints of the real file (every row of each, so
    duplicates are included) with their accused and complainant rows."""
    def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
        with gzip.open(CHICAGO / name, "rt", newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            return list(reader.fieldnames or []), list(reader)

    c_fields, c_rows = read("complaints-complaints_2000-2018_2018-03.csv.gz")
    ids: list[str] = []
    seen: set[str] = set()
    kept = []
    for row in c_rows:
        if row["cr_id"] not in seen:
            if len(ids) >= complaints:
                continue
            seen.add(row["cr_id"])
            ids.append(row["cr_id"])
        kept.append(row)
    a_fields, a_rows = read("complaints-accused_2000-2018_2018-03.csv.gz")
    p_fields, p_rows = read("complaints-complainants_2000-2018_2018-03.csv.gz")
    accused = [r for r in a_rows if r["cr_id"] in seen]
    people = [r for r in p_rows if r["cr_id"] in seen]
    paths = []
    for name, fields, rows in (("complaints.csv.gz", c_fields, kept),
                               ("accused.csv", a_fields, accused),
                               ("complainants.csv", p_fields, people)):
        path = tmp / name
        handle = gzip.open(path, "wt", newline="", encoding="utf-8") if name.endswith(".gz") \
            else path.open("w", newline="", encoding="utf-8")
        with handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    first: dict[str, dict[str, str]] = {}
    for row in kept:
        first.setdefault(row["cr_id"], row)
    expected = {
        "per_year": collections.Counter(r["complaint_date"][:4] for r in first.values()),
        "by_category": collections.Counter((r["allegation_category"].strip(),
                                            r["final_finding"].strip()) for r in accused),
        "duplicates": len(kept) - len(first),
        "accused": len(accused),
        "complainants": len(people),
    }
    return paths[0], paths[1], paths[2], expected


@pytest.mark.shared_data(
    "complaints/chicago-cpdp/complaints-complaints_2000-2018_2018-03.csv.gz",
    "complaints/chicago-cpdp/complaints-accused_2000-2018_2018-03.csv.gz",
    "complaints/chicago-cpdp/complaints-complainants_2000-2018_2018-03.csv.gz")
async def test_legacy_import_reproduces_the_counts_of_the_files(settings: Any,
                                                                 tmp_path: Path) -> None:
    from casetracker.audit.tables import AuditEvent
    from casetracker.cases.tables import Case
    from casetracker.oversight.legacy import load_mapping, run_import
    from casetracker.oversight.tables import LegacyComplaintDetail

    complaints, accused, people, expected = _sample(tmp_path)
    mapping = load_mapping(MAPPING)
    result = await run_import(mapping, complaints, accused, people, actor_label="test")
    assert result.loaded["complaints"] == 2000
    assert result.duplicates == expected["duplicates"]
    assert result.loaded["accused"] == expected["accused"]
    assert result.loaded["complainants"] == expected["complainants"]
    assert result.rejects.counts == {"complaints": 0, "accused": 0, "complainants": 0}

    years = await services.data_years()
    assert years is not None
    m = await services.load_metrics(Period(date(years[0], 1, 1), date(years[1], 12, 31)),
                                    Scope(), now=NOW)
    assert m["received"] == 2000
    assert m["by_year"] == dict(sorted(expected["per_year"].items()))
    got = collections.Counter({(cat, f): n for cat, row in m["legacy"]["by_category"].items()
                               for f, n in row.items()})
    assert got == expected["by_category"]

    row = await Case.select().where(Case.legacy_source == "chicago-cpdp").first()
    assert row["channel"] == "legacy" and row["status"] == "closed" and row["legacy_id"]
    assert await LegacyComplaintDetail.count() == 2000
    assert await AuditEvent.exists().where(AuditEvent.action == "oversight.legacy_import")

    # running it again loads nothing twice
    again = await run_import(mapping, complaints, accused, people, actor_label="test")
    assert again.loaded["complaints"] == 0 and again.skipped_existing == 2000
    assert await Case.count().where(Case.legacy_source == "chicago-cpdp") == 2000


async def test_legacy_import_reports_rejected_rows(settings: Any, tmp_path: Path) -> None:
    from casetracker.oversight.legacy import load_mapping, run_import

    complaints = tmp_path / "c.csv"
    complaints.write_text(
        "cr_id,complaint_date,closed_date,current_complaint_category\n"
        "1,2010-01-05,2010-03-01,RACIAL PROFILING\n"
        ",2010-01-06,,X\n"
        "3,not a date,,X\n"
        "4,2011-02-03,,X\n")
    accused = tmp_path / "a.csv"
    accused.write_text("cr_id,allegation_category,final_finding,UID\n"
                       "1,RACIAL PROFILING ,SUSTAINED,55.0\n"
                       "99,FORCE,UNFOUNDED,56\n")
    result = await run_import(load_mapping(MAPPING), complaints, accused, None)
    assert result.loaded["complaints"] == 2 and result.loaded["accused"] == 1
    assert result.rejects.counts == {"complaints": 2, "accused": 1, "complainants": 0}
    reasons = [r["reason"] for r in result.rejects.sample]
    assert reasons[0] == "no complaint id" and "not a date" in reasons[1]
    assert "99" in reasons[2]
    m = await services.load_metrics(Period(date(2010, 1, 1), date(2011, 12, 31)), Scope(),
                                    now=NOW)
    assert m["allegations"]["by_type"] == {"racial_profiling": 1}
    assert m["allegations"]["sustained_rate"]["profiling"] == 100.0


async def test_recommendations_drafted_issued_and_their_outcomes(settings: Any) -> None:
    from casetracker.auth.actor import Actor
    from casetracker.registry.tables import Designation
    from casetracker.reports.responses import IceResponseService
    from casetracker.reports.tables import Recommendation, RecommendationOfficer
    from tests.factories import make_user

    w = await build_world()
    author = await make_user("oversight")
    agreement = (await Recommendation.raw(
        "SELECT id FROM agreement WHERE agency = {}", w["a"].id))[0]["id"]
    designation = await Designation.objects().where(Designation.officer == w["o4"].id).first()

    async def rec(created: str, issued: str | None, kind: str = "officers") -> Recommendation:
        r = Recommendation(kind=kind, action="revocation" if kind == "officers" else
                           "termination", status="issued" if issued else "draft",
                           agency=w["a"].id, agreement=agreement, author=author.id,
                           subject="Test", created_at=at(created), number=(
                               f"RR-2024-{created[5:7]}" if issued else None),
                           issued_at=at(issued) if issued else None)
        await r.save()
        return r

    await rec("2024-02-01", None)  # drafted only
    revoked = await rec("2024-03-01", "2024-04-01")
    await RecommendationOfficer(recommendation=revoked.id, designation=designation.id).save()
    # ICE's answer, as the office records it: the registry follows
    await IceResponseService(Actor.from_user(author)).record(
        revoked.id, target="designation", target_id=designation.id, outcome="revoked",
        acted_on=date(2024, 4, 15))
    await rec("2023-12-01", "2024-05-01", kind="agreement")  # drafted before, issued in 2024
    await rec("2023-01-01", None)  # outside the period
    m = await services.load_metrics(YEAR_2024, Scope(), now=NOW)
    r = m["recommendations"]
    assert r["available"] and (r["drafted"], r["issued"]) == (2, 2)
    assert (r["acted"], r["declined"], r["unanswered"]) == (1, 0, 1)
    assert r["median_days_to_action"] == 14
    issued = await services.issued_recommendations(YEAR_2024, Scope())
    assert [x["outcome"] for x in issued] == [
        f"{w['o4'].name}: authority revoked (April 15, 2024)", "awaiting ICE's answer"]
    # the revoked designation now counts among revoked officers
    assert m["officers"]["revoked"] == 2
