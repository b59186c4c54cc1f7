"""The workflow rules, exhaustively: every (state, transition) pair, every role, each
requirement, the outcome summary and the public sentences."""

from __future__ import annotations

import itertools

import pytest

from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.cases import rules
from casetracker.cases.tables import CaseStatus, Finding, ReferralBody
from casetracker.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed

# The whole graph, written out by hand so a change to the table must change this test too.
EXPECTED = {
    ("start_triage", "received"): "in_triage",
    ("open", "in_triage"): "open",
    ("refer", "in_triage"): "referred",
    ("decline", "in_triage"): "declined",
    ("assign", "open"): "under_investigation",
    ("submit_findings", "under_investigation"): "findings_submitted",
    ("start_review", "findings_submitted"): "under_review",
    ("return", "under_review"): "returned",
    ("resume", "returned"): "under_investigation",
    ("close", "under_review"): "closed",
}

ROLES = ("administrator", "supervisor", "investigator", "intake", "oversight")
LEAD_ID = 7


def actor(role: str, user_id: int = 99) -> Actor:
    return Actor(id=user_id, label=f"{role}@example.org", role=role)


def case(status: str, lead: int | None = LEAD_ID) -> dict[str, object]:
    return {"status": status, "lead_investigator": lead}


def test_states_match_the_table_choices() -> None:
    assert set(rules.ALL_STATES) == {s.value for s in CaseStatus}
    assert set(rules.STATUS_LABELS) == set(rules.ALL_STATES)
    assert rules.FINAL_STATES == {"declined", "referred", "closed"}


@pytest.mark.parametrize(("name", "status"),
                         list(itertools.product(rules.TRANSITIONS, rules.ALL_STATES)))
def test_every_transition_from_every_state(name: str, status: str) -> None:
    expected = EXPECTED.get((name, status))
    if expected is None:
        with pytest.raises(InvalidTransition) as info:
            rules.check_transition(name, status)
        # a sentence naming the current state and where the step is possible
        assert rules.status_label(status) in info.value.message
        assert info.value.status_code == 409
    else:
        assert rules.check_transition(name, status).target == expected


def test_final_states_have_no_way_out() -> None:
    for status in rules.FINAL_STATES:
        assert rules.available_transitions(status) == []


def test_every_state_is_reachable_from_received() -> None:
    reached, frontier = {"received"}, ["received"]
    while frontier:
        status = frontier.pop()
        for step in rules.available_transitions(status):
            if step.target not in reached:
                reached.add(step.target)
                frontier.append(step.target)
    assert reached == set(rules.ALL_STATES)


def test_unknown_transition_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        rules.check_transition("reopen", "closed")


# Who may make each step (on a case in the right state, led by LEAD_ID).
ALLOWED_ROLES = {
    "start_triage": {"administrator", "supervisor", "intake"},
    "open": {"administrator", "supervisor", "intake"},
    "refer": {"administrator", "supervisor", "intake"},
    "decline": {"administrator", "supervisor", "intake"},
    "assign": {"administrator", "supervisor"},
    "submit_findings": {"administrator", "supervisor", "lead"},
    "start_review": {"administrator", "supervisor"},
    "return": {"administrator", "supervisor"},
    "resume": {"administrator", "supervisor", "lead"},
    "close": {"administrator", "supervisor"},
}


@pytest.mark.parametrize(("name", "who"),
                         list(itertools.product(rules.TRANSITIONS, (*ROLES, "lead"))))
def test_who_may_make_each_step(name: str, who: str) -> None:
    step = rules.TRANSITIONS[name]
    status = sorted(step.sources)[0]
    subject = actor("investigator", LEAD_ID) if who == "lead" else actor(who)
    allowed = who in ALLOWED_ROLES[name]
    assert policies.may_transition(subject, case(status), name) is allowed
    if allowed:
        policies.ensure_may_transition(subject, case(status), name)
        return
    # refused: 404 when the user may not know the case exists, 403 otherwise
    expected = Forbidden if policies.may_view_case(subject, case(status)) else NotFound
    with pytest.raises(expected):
        policies.ensure_may_transition(subject, case(status), name)


def test_wrong_state_answers_409_for_someone_allowed() -> None:
    with pytest.raises(InvalidTransition):
        policies.ensure_may_transition(actor("supervisor"), case("open"), "close")
    assert not policies.may_transition(actor("supervisor"), case("open"), "close")


def test_actions_follow_role_assignment_and_state() -> None:
    lead, other = actor("investigator", LEAD_ID), actor("investigator")
    working = case("under_investigation")
    assert policies.may_act_on_case(lead, working, "add_note")
    assert not policies.may_act_on_case(other, working, "add_note")
    assert not policies.may_act_on_case(actor("oversight"), working, "add_note")
    assert policies.may_act_on_case(actor("supervisor"), working, "record_recommended_finding")
    assert not policies.may_act_on_case(lead, case("under_review"),
                                        "record_recommended_finding")
    assert policies.may_act_on_case(actor("supervisor"), case("under_review"), "accept_finding")
    assert not policies.may_act_on_case(lead, case("under_review"), "accept_finding")
    # intake works cases in triage only
    assert policies.may_act_on_case(actor("intake"), case("in_triage", None), "add_allegation")
    assert policies.may_act_on_case(actor("intake"), case("in_triage", None), "add_note")
    assert not policies.may_act_on_case(actor("intake"), case("received", None), "link_officer")
    with pytest.raises(NotFound):
        policies.ensure_may_act_on_case(actor("intake"), case("open", None), "add_note")
    with pytest.raises(Forbidden):
        policies.ensure_may_act_on_case(actor("oversight"), working, "add_note")
    with pytest.raises(InvalidTransition):
        policies.ensure_may_act_on_case(actor("supervisor"), case("in_triage"), "accept_finding")
    # suspensions: while the case is live; lifting once it is adjudicated
    assert policies.may_act_on_case(actor("supervisor"), working, "suspend_designation")
    assert not policies.may_act_on_case(actor("supervisor"), working, "lift_suspension")
    assert policies.may_act_on_case(actor("supervisor"), case("closed"), "lift_suspension")
    assert not policies.may_act_on_case(lead, case("closed"), "lift_suspension")


def test_contact_details_only_for_the_lead_and_supervisors() -> None:
    for status in rules.ALL_STATES:
        subject = case(status)
        assert policies.may_view_complainant_contact(actor("supervisor"), subject)
        assert policies.may_view_complainant_contact(actor("administrator"), subject)
        assert policies.may_view_complainant_contact(actor("investigator", LEAD_ID), subject)
        assert not policies.may_view_complainant_contact(actor("investigator"), subject)
        assert not policies.may_view_complainant_contact(actor("intake"), subject)
        assert not policies.may_view_complainant_contact(actor("oversight"), subject)


# --- requirements --------------------------------------------------------------------------

def test_open_needs_an_allegation() -> None:
    with pytest.raises(InvalidTransition, match="at least one allegation"):
        rules.require_open([])
    rules.require_open([{"allegation_type": "force"}])


def test_decline_needs_a_reason() -> None:
    with pytest.raises(ValidationFailed) as info:
        rules.require_reason("   ")
    assert "reason" in info.value.errors
    assert rules.require_reason("  Outside our remit. ") == "Outside our remit."


def test_referral_needs_a_known_body_and_a_name_for_other() -> None:
    with pytest.raises(ValidationFailed):
        rules.require_referral_body("")
    with pytest.raises(ValidationFailed):
        rules.require_referral_body("fbi")
    with pytest.raises(ValidationFailed) as info:
        rules.require_referral_body("other", "")
    assert "body_other" in info.value.errors
    rules.require_referral_body("other", "State Attorney General")
    for body in ReferralBody:
        if body.value != "other":
            rules.require_referral_body(body.value)
    assert set(rules.REFERRAL_BODY_LABELS) == {b.value for b in ReferralBody}


def test_assignment_needs_a_lead_and_reassignment_a_reason() -> None:
    with pytest.raises(ValidationFailed):
        rules.require_assignment(None, None, "")
    assert rules.require_assignment(None, 3, "") is False
    with pytest.raises(ValidationFailed) as info:
        rules.require_assignment(3, 4, " ")
    assert "reason" in info.value.errors
    with pytest.raises(ValidationFailed):
        rules.require_assignment(3, 3, "again")
    assert rules.require_assignment(3, 4, "On leave") is True


def test_submitting_findings_needs_a_recommendation_on_every_allegation() -> None:
    with pytest.raises(InvalidTransition):
        rules.require_submit_findings([])
    with pytest.raises(InvalidTransition, match="1 of 2"):
        rules.require_submit_findings([{"recommended_finding": "sustained"},
                                       {"recommended_finding": ""}])
    rules.require_submit_findings([{"recommended_finding": "unfounded"}])


def test_closing_needs_a_final_finding_on_every_allegation() -> None:
    with pytest.raises(InvalidTransition, match="2 of 2 still need one"):
        rules.require_close([{"final_finding": ""}, {"final_finding": ""}])
    rules.require_close([{"final_finding": "exonerated"}, {"final_finding": "withdrawn"}])


def test_return_needs_comments() -> None:
    with pytest.raises(ValidationFailed) as info:
        rules.require_return_comments("")
    assert "comments" in info.value.errors


def test_allegations_one_per_officer_and_act_and_profiling_needs_the_characteristic() -> None:
    rules.validate_allegation("force", "", [], 1)
    with pytest.raises(ValidationFailed) as info:
        rules.validate_allegation("racial_profiling", "", [], 1)
    assert "protected_characteristic" in info.value.errors
    rules.validate_allegation("racial_profiling", "ethnicity", [(2, "racial_profiling")], 1)
    with pytest.raises(ValidationFailed, match="already has an allegation"):
        rules.validate_allegation("racial_profiling", "race", [(1, "racial_profiling")], 1)
    with pytest.raises(ValidationFailed):
        rules.validate_allegation("rudeness", "", [], 1)
    with pytest.raises(ValidationFailed):
        rules.validate_allegation("search", "astrology", [], 1)


def test_finding_vocabulary_is_domain_section_5() -> None:
    assert set(rules.FINDING_LABELS) == {f.value for f in Finding}
    for finding in Finding:
        rules.validate_finding(finding.value)
    with pytest.raises(ValidationFailed):
        rules.validate_finding("guilty")
    with pytest.raises(ValidationFailed):
        rules.validate_standard("vibes")


def test_case_outcome_is_the_most_serious_final_finding() -> None:
    assert rules.case_outcome(["not_sustained", "sustained", "unfounded"]) == "sustained"
    assert rules.case_outcome(["exonerated", "training_failure"]) == "exonerated"
    assert rules.case_outcome(["withdrawn"]) == "withdrawn"
    assert rules.case_outcome([]) == ""


def test_ice_notification_is_required_for_designated_officers_only() -> None:
    assert rules.ice_notification_required(["active"])
    assert rules.ice_notification_required(["revoked", "suspended"])
    assert not rules.ice_notification_required(["revoked"])
    assert not rules.ice_notification_required([])


# --- public words ----------------------------------------------------------------------------

@pytest.mark.parametrize("status", rules.ALL_STATES)
def test_every_state_has_a_plain_public_sentence(status: str) -> None:
    sentence = rules.public_status_text(status, "", "")
    assert sentence.endswith(".") and "_" not in sentence


@pytest.mark.parametrize(("outcome", "words"), [
    ("sustained", "broke the law or policy"),
    ("not_sustained", "not enough evidence"),
    ("unfounded", "did not happen"),
    ("exonerated", "lawful and within policy"),
    ("policy_failure", "policy or training"),
    ("withdrawn", "without a finding on the merits"),
    ("", "The case is closed."),
])
def test_closed_cases_say_their_outcome(outcome: str, words: str) -> None:
    assert words in rules.public_status_text("closed", outcome, "")


def test_referred_cases_name_the_body_in_plain_words() -> None:
    assert "Civil Rights Division" in rules.public_status_text("referred", "referred", "doj_crt")
    assert "another office" in rules.public_status_text("referred", "referred", "")
    assert rules.public_status_key("referred", "referred", "agency_ia") == "referred"
    assert rules.public_status_key("returned") == "investigating"
    assert rules.public_status_key("under_review") == "reviewing"


def test_public_sentences_and_labels_are_translated_to_spanish() -> None:
    from casetracker.web import i18n

    token = i18n._current_language.set("es")
    try:
        assert rules.public_status_text("closed", "sustained") == (
            "La investigación está cerrada. Concluyó que la conducta del agente infringió la "
            "ley o las normas.")
        assert "División de Derechos Civiles" in rules.public_status_text("referred", "",
                                                                          "doj_crt")
        assert rules.status_label("under_review") == "En revisión"
        with pytest.raises(InvalidTransition, match="no puede cerrarse"):
            rules.require_close([{"final_finding": ""}])
    finally:
        i18n._current_language.reset(token)
