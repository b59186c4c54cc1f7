"""Pure parts of the registry over time: folding names, matching, timelines."""

from __future__ import annotations

from casetracker.oversight.metrics import per_100k, population_rates
from casetracker.registry import snapshots as s

LISTS = ["2025-05-16 am", "2025-05-19 am", "2025-05-19 pm", "2025-05-20 pm", "2025-05-23 am"]


def test_short_forms_and_ice_names_fold_alike() -> None:
    assert s.fold_name("Colbert County Sheriff's Office") == s.fold_name("colbert county sheriff")
    assert s.fold_name("Alaska Department of Corrections") == s.fold_name("alaska of corrections")
    assert s.fold_name("St. Cloud Police Department") == s.fold_name("st cloud police")
    assert s.fold_name("Kansas Bureau of Investigation") == s.fold_name("kansas of investigation")
    assert s.fold_name("Polk County Sheriff's Office") != s.fold_name("pike county sheriff")


def test_labels_name_the_list_of_the_day() -> None:
    assert s.label_from_sheet_name("participatingAgencies05162025am.xlsx", None) is None
    from datetime import date

    assert s.label_from_sheet_name("participatingAgencies07182025pm.xlsx",
                                   date(2025, 7, 18)) == "2025-07-18 pm"
    assert s.sort_labels(["2025-05-19 pm", "2025-05-19 am", "2025-05-16 am"]) == [
        "2025-05-16 am", "2025-05-19 am", "2025-05-19 pm"]


def candidate(agency_id: int, name: str, models: set[str], county: str = "") -> s.Candidate:
    return s.Candidate(agency_id, name, "TX", county, frozenset(models))


def test_matching_tells_twin_spellings_apart_by_model_and_reports_the_rest() -> None:
    twins = [candidate(1, "Galveston County Sheriff’s Office", {"JEM"}),
             candidate(2, "Galveston County Sheriff's Office", {"WSO"}),
             candidate(3, "Harris County Sheriff's Office", {"TFM"})]
    match = s.match_agency("TX", "galveston county sheriff", "", ["JEM", "WSO"], twins)
    assert match.status == "matched" and match.agency_ids == [1, 2]
    by_id = {c.agency_id: c for c in twins}
    assert s.agency_for_model(match, "WSO", by_id) == 2
    # both hold TFM: a person decides
    both = [candidate(1, "City of Melbourne Police Department", {"TFM"}),
            candidate(2, "Melbourne Police Department", {"TFM"})]
    assert s.match_agency("TX", "melbourne police", "", ["TFM"], both).status == "ambiguous"
    missing = s.match_agency("TX", "harris county sherif", "", ["TFM"], twins)
    assert missing.status == "unmatched"
    assert missing.candidates[0][1] == "Harris County Sheriff's Office"


def test_timeline_periods_gaps_and_the_list_that_dropped_it() -> None:
    t = s.agreement_timeline(LISTS, ["2025-05-16 am", "2025-05-19 am", "2025-05-20 pm"])
    assert (t.first_listed, t.last_listed) == ("2025-05-16 am", "2025-05-20 pm")
    assert t.gaps == [("2025-05-19 pm", "2025-05-19 pm")]
    assert t.no_longer_listed_on == "2025-05-23 am" and t.listings == 3
    late = s.agreement_timeline(LISTS, ["2025-05-20 pm", "2025-05-23 am"])
    assert late.first_listed == "2025-05-20 pm" and late.gaps == []
    assert late.no_longer_listed_on is None
    assert not s.agreement_timeline(LISTS, []).known


def test_model_changes() -> None:
    changes = s.model_changes(LISTS, {"WSO": set(LISTS), "TFM": set(LISTS[2:]),
                                      "JEM": set(LISTS[:4])})
    assert [(c.snapshot, c.added, c.dropped) for c in changes] == [
        ("2025-05-19 pm", ("TFM",), ()), ("2025-05-23 am", (), ("JEM",))]


def test_rates_per_100k_only_where_the_population_is_known() -> None:
    assert per_100k(3, None) is None and per_100k(3, 0) is None
    assert per_100k(5, 50_000) == 10.0
    rates = population_rates([
        {"id": 1, "name": "A", "state": "TX", "population": 200_000, "complaints": 4,
         "sustained": 1},
        {"id": 2, "name": "B", "state": "TX", "population": 50_000, "complaints": 2,
         "sustained": 0},
        {"id": 3, "name": "C", "state": "TX", "population": None, "complaints": 7,
         "sustained": 2},
        {"id": 4, "name": "D", "state": "FL", "population": 10_000, "complaints": 0,
         "sustained": 0},
    ])
    assert [a["name"] for a in rates["agencies"]] == ["B", "A"]
    assert rates["agencies"][1]["complaint_rate"] == 2.0
    assert rates["states"] == [{"state": "TX", "population": 250_000, "complaints": 6,
                                "sustained": 1, "agencies": 2, "complaint_rate": 2.4,
                                "sustained_rate": 0.4}]
    assert rates["unknown_population_complaints"] == 7
