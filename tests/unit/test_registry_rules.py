"""Pure registry rules: identity, states, models, designation transitions and flags."""

from __future__ import annotations

from datetime import date

import pytest

from casetracker.errors import InvalidTransition
from casetracker.registry import rules

TODAY = date(2026, 1, 15)


def test_match_key_folds_case_spacing_and_nbsp_but_not_apostrophes() -> None:
    key = rules.agency_match_key("tx", "Galveston  County\u00a0Sheriff's Office ")
    assert key == "TX|galveston county sheriff's office"
    assert key == rules.agency_match_key("TX", "GALVESTON COUNTY SHERIFF'S OFFICE")
    # ICE lists "Sheriff’s" and "Sheriff's" as two agencies: two identities, one similar key.
    curly = "Galveston County Sheriff\u2019s Office"
    assert rules.agency_match_key("TX", curly) != key
    assert rules.similar_agency_key("TX", curly) == rules.similar_agency_key("tx", key[3:])


def test_like_pattern_lets_an_apostrophe_match_either_style() -> None:
    word = rules.normalise_name("Sheriff\u2019s")
    assert rules.like_pattern_for_word(word) == "%sheriff_s%"


@pytest.mark.parametrize(("text", "code"), [
    ("FLORIDA", "FL"), ("Florida ", "FL"), ("fl", "FL"), ("NEW HAMPSHIRE", "NH"),
    ("District of Columbia", "DC"), ("Puerto Rico", "PR"), ("ATLANTIS", None), ("", None),
])
def test_state_codes(text: str, code: str | None) -> None:
    assert rules.state_code(text) == code


@pytest.mark.parametrize(("text", "code"), [
    ("Jail Enforcement Model", "JEM"), ("Warrant Service Officer ", "WSO"),
    ("task force model", "TFM"), ("TFM", "TFM"), ("Border Model", None),
])
def test_models(text: str, code: str | None) -> None:
    assert rules.model_code(text) == code


@pytest.mark.parametrize(("current", "verb", "after"), [
    ("active", "suspend", "suspended"),
    ("suspended", "lift", "active"),
    ("active", "revoke", "revoked"),
    ("suspended", "revoke", "revoked"),
])
def test_allowed_designation_transitions(current: str, verb: str, after: str) -> None:
    assert rules.next_designation_status(current, verb) == after


@pytest.mark.parametrize(("current", "verb"), [
    ("suspended", "suspend"), ("active", "lift"), ("revoked", "lift"), ("revoked", "suspend"),
    ("revoked", "revoke"),
])
def test_refused_designation_transitions(current: str, verb: str) -> None:
    with pytest.raises(InvalidTransition):
        rules.next_designation_status(current, verb)


def flags(**kwargs: object) -> rules.DesignationFlags:
    values: dict[str, object] = {"status": "active", "authorisation_expires_on": None,
                                 "training_completed_on": None, "last_refresher_on": None,
                                 "today": TODAY, "training_cycle_days": 730}
    values.update(kwargs)
    return rules.designation_flags(**values)  # type: ignore[arg-type]


def test_expiry_flag() -> None:
    assert flags(authorisation_expires_on=date(2026, 1, 14)).authorisation_expired
    assert not flags(authorisation_expires_on=TODAY).authorisation_expired
    assert not flags().any


def test_refresher_is_counted_from_last_refresher_else_initial_training() -> None:
    old = date(2023, 1, 1)
    assert flags(training_completed_on=old).refresher_overdue
    assert not flags(training_completed_on=old, last_refresher_on=date(2025, 1, 1)).any
    assert flags(training_completed_on=old, training_cycle_days=10_000).refresher_due_on == \
        date(2050, 5, 19)


def test_revoked_designations_raise_no_flags() -> None:
    assert not flags(status="revoked", authorisation_expires_on=date(2020, 1, 1),
                     training_completed_on=date(2010, 1, 1)).any


@pytest.mark.parametrize(("old", "new", "same"), [
    # Real May -> July 2025 pairs
    ("City of Melbourne Police Department", "Melbourne Police Department", True),
    ("Town of Palm Beach Police Department", "Palm Beach Police Department", True),
    ("Lake Clark Shores Police Department", "Lake Clarke Shores Police Department", True),
    ("Berrian County Sheriff's Offic", "Berrian County Sheriff's Office", True),
    ("Tennessee Department of Safety and Homeland Security / THP",
     "Tennessee Department of Safety and Homeland Security", True),
    # Different agencies that look alike
    ("City of Melbourne Police Department", "West Melbourne Police Department", False),
    ("Town of Palm Beach Police Department", "North Palm Beach Police Department", False),
    ("Polk County Sheriff's Office", "Pike County Sheriff's Office", False),
    ("Jackson Police Department", "Jackson County Sheriff's Office", False),
    ("Boca Raton Police Department", "Bartow Police Department", False),
])
def test_probably_renamed(old: str, new: str, same: bool) -> None:
    assert rules.probably_renamed(old, new) is same
