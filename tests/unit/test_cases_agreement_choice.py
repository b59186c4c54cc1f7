"""Which agreement a case falls under, when it can be told without asking a person."""

from __future__ import annotations

from casetracker.cases.rules import choose_agreement

JEM = {"id": 1, "model": "JEM", "status": "active"}
WSO = {"id": 2, "model": "WSO", "status": "active"}
OLD_JEM = {"id": 3, "model": "JEM", "status": "terminated"}


def test_the_only_agreement_is_chosen_whatever_the_complaint_says() -> None:
    assert choose_agreement([WSO], "jail_screening") == 2
    assert choose_agreement([], "field") is None


def test_the_model_the_complaint_describes_picks_among_several() -> None:
    assert choose_agreement([JEM, WSO], "jail_screening") == 1
    assert choose_agreement([JEM, WSO], "warrant_service") == 2
    assert choose_agreement([JEM, WSO], "field") is None  # no TFM: a person chooses
    assert choose_agreement([JEM, WSO], "unknown") is None
    assert choose_agreement([JEM, WSO], "") is None


def test_a_live_agreement_wins_over_a_terminated_one_of_the_same_model() -> None:
    assert choose_agreement([JEM, OLD_JEM, WSO], "jail_screening") == 1
    assert choose_agreement([OLD_JEM, WSO], "jail_screening") == 3


def test_the_agreement_a_linked_officer_is_designated_under_comes_first() -> None:
    assert choose_agreement([JEM, WSO], "jail_screening", [2]) == 2
    assert choose_agreement([JEM, WSO], "jail_screening", [1, 2]) == 1  # ambiguous: model
    assert choose_agreement([JEM, WSO], "", [99]) is None  # another agency's
