"""Pure rules and view-models of the reports package (no database, no PDF)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from casetracker.errors import Forbidden, InvalidTransition, ValidationFailed
from casetracker.reports import moa, rules, viewmodels


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


def test_citations_per_model_and_text() -> None:
    jem2020 = moa.basis_for("JEM", date(2020, 6, 8))
    assert jem2020.text == "2020" and jem2020.revocation.section == "§IV.D"
    assert "letter of revocation signed by the FOD" in jem2020.revocation.summary
    assert jem2020.agreement_action.heading == (
        "Effective Date, Suspension, and Termination of this MOA")
    assert [c.section for c in jem2020.complaints] == ["Appendix B"]
    wso2020 = moa.basis_for("WSO", date(2020, 2, 12))
    assert "written notice of withdrawal" in wso2020.revocation.summary
    assert wso2020.agreement_action.heading == "Effective Date and Termination of this MOA"
    assert [c.section for c in wso2020.complaints] == ["Appendix B", "Appendix B ¶3.B",
                                                       "Appendix B ¶3.C"]
    wso2025 = moa.basis_for("WSO", date(2025, 2, 14))
    assert [c.section for c in wso2025.complaints] == ["Appendix B"]
    assert moa.basis_for("JEM", None, "Revised 02/15/2025").text == "2025"
    tfm = moa.basis_for("TFM", date(2025, 5, 1))
    assert tfm.by_analogy and "No Task Force Model agreement text" in tfm.note


def test_proposals_per_kind() -> None:
    today = date(2026, 11, 29)
    grounds = [rules.Ground("CT-1", "racial_profiling", "A. Officer", date(2026, 10, 1), "r")]
    officers = rules.propose(kind="officers", action="revocation", model="WSO", agency_name="X SO",
                             officer_names=["A. Officer"], grounds=grounds, today=today)
    assert "written notice of withdrawal" in officers.requested_action
    assert officers.proposed_effective_on == today + timedelta(days=7)
    suspension = rules.propose(kind="agreement", action="suspension", model="JEM",
                               agency_name="X SO", officer_names=[], grounds=grounds, today=today)
    assert suspension.suspension_days == 90 and suspension.response_instructions
    assert "Replace the officers" in suspension.corrective_measures
    termination = rules.propose(kind="agreement", action="termination", model="JEM",
                                agency_name="X SO", officer_names=[], grounds=grounds, today=today)
    assert termination.notice_days == 90
    assert termination.proposed_effective_on == today + timedelta(days=90)
    assert "1 of them for racial profiling" in termination.grounds


def test_target_and_text_validation() -> None:
    with pytest.raises(ValidationFailed) as failure:
        rules.validate_target(rules.DraftInput("officers", "termination", None, (), ()))
    assert set(failure.value.errors) >= {"action", "designation_ids", "case_ids"}
    errors = rules.validate_text({"subject": "s", "summary": "s", "requested_action": "r",
                                  "proposed_effective_on": date(2026, 1, 1), "notice_days": 30},
                                 kind="agreement", action="termination")
    assert "notice_days" in errors
    assert rules.validate_text({"subject": "s", "summary": "s", "requested_action": "r",
                                "proposed_effective_on": date(2026, 1, 1)},
                               kind="officers", action="revocation") == {}


def test_training_state() -> None:
    today = date(2026, 11, 29)
    assert viewmodels.training_state(None, None, today, 730) == "No training record"
    assert viewmodels.training_state(date(2021, 1, 1), None, today, 730).startswith("Stale")
    assert viewmodels.training_state(date(2021, 1, 1), date(2026, 1, 1), today, 730).startswith(
        "Current")


def _source(classification: str = "sensitive") -> viewmodels.RecommendationSource:
    now = datetime(2026, 11, 20, 15, tzinfo=UTC)
    received = now - timedelta(days=100)
    return viewmodels.RecommendationSource(
        recommendation={"kind": "officers", "action": "revocation", "status": "issued",
                        "classification": classification, "number": "RR-2026-0003",
                        "issued_at": now, "author": 1, "created_at": now, "approved_by": 2,
                        "approved_at": now, "proposed_effective_on": date(2026, 12, 1)},
        agency={"name": "Example SO", "state": "TX"},
        agreement={"model": "JEM", "signed_on": date(2020, 6, 8), "status": "active"},
        officers=[{"officer": 1, "officer_name": "A. Officer", "badge_number": "B-1",
                   "training_completed_on": date(2021, 1, 1), "status": "suspended",
                   "suspended_on": date(2026, 9, 1)}],
        cases=[{"tracking_number": "CT-1", "received_at": received, "narrative": "N",
                "contact": {"name": "Private Person"},
                "allegations": [{"allegation_type": "racial_profiling",
                                 "final_finding": "sustained", "final_rationale": "why",
                                 "officer_label": "A. Officer", "final_at": now}],
                "evidence": [{"id": 5, "sha256": "ab" * 32, "source": "agency",
                              "received_at": received, "custody_summary": "received"}],
                "ice_notification_due_at": received + timedelta(days=2),
                "ice_notified_at": received + timedelta(days=1)}],
        pattern={"window_start": now - timedelta(days=365), "window_end": now,
                 "targets": [{"subject": "A. Officer", "complaints": 3, "sustained_profiling": 1}],
                 "peers": {"label": "Peers", "count": 4, "complaints": 2,
                           "sustained_profiling": 0}},
        people={1: {"name": "Author", "role": "oversight"}, 2: {"name": "Approver",
                                                                "role": "supervisor"}},
        now=now)


def test_recommendation_view_model() -> None:
    doc = viewmodels.build_recommendation(_source())
    assert doc.number == "RR-2026-0003" and doc.date_label == "November 20, 2026"
    assert doc.classification == viewmodels.SENSITIVE_LINE
    assert doc.officers[0].status == "Suspended" and "2026-09-01" in doc.officers[0].status_detail
    assert [s.section for s in doc.legal_basis.sections] == [
        "JEM MOA §IV.D", "JEM MOA §VIII", "JEM MOA Appendix B", "JEM MOA §IV.I"]
    case = doc.cases[0]
    assert case.complainant == "Private Person" and case.narrative == "N"
    assert case.clocks[0].state == "met"
    assert case.evidence[0].item == "E-5" and case.evidence[0].sha256 == "ab" * 32
    assert doc.pattern.peer_complaints_mean == "0.50"
    assert [a.step for a in doc.approvals] == ["Drafted", "Approved"]
    data = viewmodels.document_json(doc)
    assert data["schema"] == "casetracker/RecommendationDocument/1"


def test_public_variant_withholds_identities() -> None:
    doc = viewmodels.build_recommendation(_source("public"))
    assert doc.classification_public and doc.classification == viewmodels.PUBLIC_LINE
    assert doc.cases[0].complainant == "Withheld in this version"
    assert doc.cases[0].narrative == ""
    assert "Private Person" not in str(viewmodels.document_json(doc))
