"""Pure rules of rescission recommendations (no database, no PDF): the workflow, and what each
model × agreement text × action allows and needs (DOMAIN.md §3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casetracker.errors import Forbidden, InvalidTransition, ValidationFailed
from casetracker.reports import rules


@pytest.mark.parametrize(("status", "verb", "expected"), [
    ("draft", "submit", "submitted"), ("draft", "edit", "draft"),
    ("submitted", "approve", "approved"), ("submitted", "return", "draft"),
    ("approved", "issue", "issued"), ("approved", "return", "draft"),
    ("issued", "correct", "issued"),
])
def test_allowed_transitions(status: str, verb: str, expected: str) -> None:
    assert rules.next_status(status, verb) == expected


@pytest.mark.parametrize(("status", "verb"), [
    ("draft", "approve"), ("draft", "issue"), ("submitted", "issue"), ("submitted", "edit"),
    ("approved", "edit"), ("issued", "edit"), ("issued", "issue"), ("issued", "approve"),
])
def test_refused_transitions(status: str, verb: str) -> None:
    with pytest.raises(InvalidTransition):
        rules.next_status(status, verb)


def test_author_cannot_approve_own() -> None:
    with pytest.raises(Forbidden):
        rules.ensure_not_author(7, 7)
    rules.ensure_not_author(7, 8)


def test_document_numbers() -> None:
    assert rules.format_number("RR", 2026, 7) == "RR-2026-0007"
    assert rules.format_number("RR", 2027, 1234) == "RR-2027-1234"


# --- which text an agreement follows --------------------------------------------------------

@pytest.mark.parametrize(("model", "signed", "revision", "key", "analogy"), [
    ("JEM", date(2020, 6, 8), "", "JEM-2020", False),
    ("JEM", date(2024, 12, 31), "", "JEM-2020", False),
    ("JEM", date(2025, 1, 1), "", "JEM-2025", False),
    ("JEM", date(2019, 1, 1), "Revised 02/15/2025", "JEM-2025", False),
    ("JEM", None, "", "JEM-2020", False),
    ("WSO", date(2020, 2, 12), "", "WSO-2020", False),
    ("WSO", date(2025, 2, 26), "", "WSO-2025", False),
    ("TFM", date(2020, 1, 1), "", "JEM-2025", True),
    ("TFM", date(2025, 5, 1), "", "JEM-2025", True),
])
def test_text_for(model: str, signed: date | None, revision: str, key: str,
                  analogy: bool) -> None:
    choice = rules.text_for(model, signed, revision)
    assert (choice.text_key, choice.by_analogy) == (key, analogy)


def test_own_text_held_matches_agency_and_state_only() -> None:
    assert rules.own_text_held("WSO-2020", "Waller County Sheriff’s Office", "tx")
    assert rules.own_text_held("JEM-2020", "GALVESTON COUNTY SHERIFFS OFFICE", "TX")
    assert not rules.own_text_held("JEM-2020", "Galveston County Sheriff's Office", "FL")
    assert not rules.own_text_held("JEM-2020", "Montgomery County Sheriff's Office", "TX")


# --- every model × text × action ---------------------------------------------------------------

def _clauses(plan: rules.Plan) -> list[str]:
    return [k for g in plan.groups for k in g.clauses]


SIGNED = {2020: date(2020, 6, 8), 2025: date(2025, 3, 1)}
# (model, year, action) → (quoted provisions that must be there, determinations, notice items
# with who supplies them, minimum notice days of a requested date)
EXPECTED = {
    ("JEM", "revocation"): ({"authority", "jem.revocation", "jem.revocation_letter",
                             "jem.credentials", "civil_rights"}, (), (), None),
    ("JEM", "suspension"): ({"authority", "jem.suspension", "jem.opportunity_to_respond",
                             "jem.moa_end_revokes"}, ("serious_misconduct",),
                            (("jem.suspension_notice.1", "recommendation"),
                             ("jem.suspension_notice.2", "ice"),
                             ("jem.suspension_notice.3", "ice")), None),
    ("JEM", "termination"): ({"authority", "jem.termination_reserved",
                              "jem.termination_published", "jem.moa_end_revokes"},
                             ("unresolvable", "termination_before_suspension"),
                             (("jem.termination_notice.1", "recommendation"),
                              ("jem.termination_notice.2", "ice"),
                              ("jem.termination_notice.3", "ice")), 90),
    ("WSO", "revocation"): ({"authority", "wso.withdrawal", "wso.credentials", "civil_rights"},
                            (), (), None),
    ("WSO", "suspension"): ({"authority", "wso.notice", "wso.ice_notice_effect"}, (), (), 90),
    ("WSO", "termination"): ({"authority", "wso.notice", "wso.ice_notice_effect",
                              "wso.moa_end_revokes"}, (), (), 90),
}


@pytest.mark.parametrize("model", ["JEM", "WSO", "TFM"])
@pytest.mark.parametrize("year", [2020, 2025])
@pytest.mark.parametrize("action", ["revocation", "suspension", "termination"])
def test_plan_for_every_model_text_and_action(model: str, year: int, action: str) -> None:
    plan = rules.plan_for(model, SIGNED[year], "", action, officers_named=1,
                          others_active=2)
    family = "WSO" if model == "WSO" else "JEM"
    clauses, determinations, notice, min_notice = EXPECTED[(family, action)]
    assert clauses <= set(_clauses(plan))
    assert plan.determinations == determinations
    assert tuple((i.clause, i.supplied_by) for i in plan.notice_items) == notice
    assert plan.min_notice_days == min_notice
    assert plan.text.by_analogy == (model == "TFM")
    assert plan.text.text_key == ("JEM-2025" if model == "TFM" else f"{family}-{year}")
    # complaint procedure and civil rights are quoted for every action, from the right family
    assert ("jem.complaint_notice" if family == "JEM" else "wso.complaint_notice") in _clauses(plan)
    assert "civil_rights" in _clauses(plan)
    # provisions of the other family never appear
    other = "wso." if family == "JEM" else "jem."
    assert not any(k.startswith(other) for k in _clauses(plan))
    # the WSO text has no suspension pending investigation: never quoted from it
    assert "jem.suspension" not in _clauses(plan) or family == "JEM"
    # the 2020-only WSO interim action is not cited by recommendations on sustained findings
    assert not any(k.startswith("wso2020.") for k in _clauses(plan))
    # an officer-level action never needs a determination of exigency
    if action == "revocation":
        assert "exigent_public_safety" not in plan.determinations
        assert plan.timing_choices == ()


@pytest.mark.parametrize("action", ["suspension", "termination"])
def test_wso_agreement_sooner_than_90_days_needs_exigency(action: str) -> None:
    normal = rules.plan_for("WSO", SIGNED[2025], "", action, timing="notice_90")
    assert normal.timing == "notice_90" and normal.determinations == ()
    assert "90 days' written notice" in normal.title
    sooner = rules.plan_for("WSO", SIGNED[2025], "", action, timing="exigent")
    assert sooner.determinations == ("exigent_public_safety",)
    assert sooner.min_notice_days is None
    assert "exigent circumstances involving public safety" in sooner.title
    statement = rules.determination_statement("exigent_public_safety", action)
    assert f"the {action} take effect sooner than 90 days" in statement
    # JEM has no such timing choice: a JEM termination always takes the 90-day notice
    assert rules.plan_for("JEM", SIGNED[2025], "", "termination",
                          timing="exigent").min_notice_days == 90


@pytest.mark.parametrize("model", ["JEM", "TFM"])
@pytest.mark.parametrize("process", ["suspension", "termination"])
def test_jem_revocation_of_every_officer_is_the_viii_process(model: str, process: str) -> None:
    plan = rules.plan_for(model, SIGNED[2025], "", "revocation", officers_named=2,
                          others_active=0, viii_process=process)
    assert plan.amounts_to_agreement_action and plan.agreement_action == process
    assert "jem.revocation_amounts_to_moa" in _clauses(plan)
    assert f"§IV.D treats as the {process} of the agreement" in plan.title
    expected = EXPECTED[("JEM", process)]
    assert plan.determinations == expected[1]
    assert len(plan.notice_items) == 3
    # not chosen yet: the draft cannot be submitted until it is
    unchosen = rules.plan_for(model, SIGNED[2025], "", "revocation", officers_named=2,
                              others_active=0)
    assert "viii_process" in rules.plan_problems(unchosen, viii_process="")
    # some officers left: a plain revocation
    partial = rules.plan_for(model, SIGNED[2025], "", "revocation", officers_named=1,
                             others_active=1, viii_process=process)
    assert not partial.amounts_to_agreement_action and partial.determinations == ()


def test_wso_revocation_of_every_officer_is_still_a_withdrawal() -> None:
    plan = rules.plan_for("WSO", SIGNED[2025], "", "revocation", officers_named=2,
                          others_active=0)
    assert not plan.amounts_to_agreement_action and plan.determinations == ()


def test_termination_of_a_suspended_jem_agreement_needs_no_sequence_reason() -> None:
    plan = rules.plan_for("JEM", SIGNED[2020], "", "termination", agreement_status="suspended")
    assert plan.determinations == ("unresolvable",)
    assert plan.sequence_clause == "jem.termination_notice"


def test_office_requests_are_the_offices_when_entered() -> None:
    plan = rules.plan_for("JEM", SIGNED[2020], "", "suspension",
                          suspension_length_requested=True, response_requested=True)
    assert [i.supplied_by for i in plan.notice_items] == ["recommendation", "office", "office"]
    termination = rules.plan_for("JEM", SIGNED[2020], "", "termination",
                                 response_requested=True)
    # ICE's own data are requested from ICE whatever the office enters
    assert [i.supplied_by for i in termination.notice_items] == ["recommendation", "ice", "ice"]


# --- what staff enter ----------------------------------------------------------------------------

TODAY = date(2026, 11, 29)
BASE = {"addressee": "a", "sender": "s", "subject": "s"}


def test_target_validation() -> None:
    with pytest.raises(ValidationFailed) as failure:
        rules.validate_target(rules.DraftInput("officers", "termination", None, (), ()))
    assert set(failure.value.errors) >= {"action", "designation_ids", "case_ids"}


def test_no_date_is_needed_and_none_is_invented() -> None:
    for model in rules.MODELS:
        for action in rules.KIND_OF_ACTION:
            plan = rules.plan_for(model, SIGNED[2025], "", action, timing="notice_90")
            values = {**BASE, "timing": "notice_90" if plan.timing_choices else ""}
            assert rules.validate_text(values, plan=plan, document_date=TODAY) == {}


def test_requested_dates_respect_the_agreements_notice() -> None:
    jem = rules.plan_for("JEM", SIGNED[2025], "", "termination")
    soon = {**BASE, "proposed_effective_on": TODAY + timedelta(days=30)}
    assert "90-day notice" in rules.validate_text(soon, plan=jem, document_date=TODAY)[
        "proposed_effective_on"]
    later = {**BASE, "proposed_effective_on": TODAY + timedelta(days=90)}
    assert rules.validate_text(later, plan=jem, document_date=TODAY) == {}
    wso = rules.plan_for("WSO", SIGNED[2025], "", "suspension", timing="notice_90")
    error = rules.validate_text({**soon, "timing": "notice_90"}, plan=wso,
                                document_date=TODAY)["proposed_effective_on"]
    assert "exigent circumstances involving public safety" in error
    exigent = rules.plan_for("WSO", SIGNED[2025], "", "suspension", timing="exigent")
    assert rules.validate_text({**soon, "timing": "exigent"}, plan=exigent,
                               document_date=TODAY) == {}
    revocation = rules.plan_for("WSO", SIGNED[2025], "", "revocation")
    assert rules.validate_text({**BASE, "proposed_effective_on": TODAY}, plan=revocation,
                               document_date=TODAY) == {}
    past = {**BASE, "proposed_effective_on": TODAY - timedelta(days=1)}
    assert "proposed_effective_on" in rules.validate_text(past, plan=revocation,
                                                          document_date=TODAY)


def test_suspension_length_only_for_a_suspension() -> None:
    suspension = rules.plan_for("JEM", SIGNED[2025], "", "suspension")
    assert rules.validate_text({**BASE, "suspension_days": 60}, plan=suspension,
                               document_date=TODAY) == {}
    assert "suspension_days" in rules.validate_text({**BASE, "suspension_days": 0},
                                                    plan=suspension, document_date=TODAY)
    revocation = rules.plan_for("JEM", SIGNED[2025], "", "revocation")
    assert "suspension_days" in rules.validate_text({**BASE, "suspension_days": 60},
                                                    plan=revocation, document_date=TODAY)


def test_submit_needs_a_summary_and_each_determination_with_a_reason() -> None:
    plan = rules.plan_for("JEM", SIGNED[2025], "", "termination")
    problems = rules.submit_problems({}, plan, {}, viii_process="")
    assert set(problems) == {"summary", "determination_unresolvable",
                             "determination_termination_before_suspension"}
    given = {"unresolvable": {"made": True, "reason": "  "},
             "termination_before_suspension": {"made": True, "reason": "Because."}}
    problems = rules.submit_problems({"summary": "S"}, plan, given, viii_process="")
    assert set(problems) == {"determination_unresolvable"}
    assert rules.validate_determination(True, "") is not None
    assert rules.validate_determination(False, "") is None


# --- ICE's response -------------------------------------------------------------------------------

def test_response_validation_and_state() -> None:
    issued = date(2026, 10, 1)
    assert rules.validate_response("designation", "terminated", TODAY, "", TODAY, issued)
    assert "acted_on" in rules.validate_response("agreement", "suspended", None, "", TODAY,
                                                 issued)
    assert "reason" in rules.validate_response("agreement", "declined", TODAY, "", TODAY,
                                               issued)
    assert "acted_on" in rules.validate_response("designation", "revoked",
                                                 TODAY + timedelta(days=1), "", TODAY, issued)
    assert rules.validate_response("designation", "revoked", TODAY, "", TODAY, issued) == {}
    assert rules.response_state([], None, TODAY) == "awaiting"
    assert rules.response_state([], TODAY - timedelta(days=1), TODAY) == "overdue"
    assert rules.response_state([], TODAY, TODAY) == "awaiting"
    assert rules.response_state(["declined"], TODAY - timedelta(days=9), TODAY) == "declined"
    assert rules.response_state(["declined", "revoked"], None, TODAY) == "acted"
    assert rules.response_state(["revoked", "declined"], None, TODAY) == "declined"
