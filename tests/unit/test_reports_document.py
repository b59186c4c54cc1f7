"""The recommendation's view-model (reports/document.py) and template, without a database.

Every paragraph has a source; the template's own prose is limited to headings, labels and
statements about the document itself (the list below: adding a sentence means adding it here,
on purpose)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from babel.messages.extract import extract_from_file

from casetracker.reports import document, rendering, rules
from casetracker.reports.viewmodels import PUBLIC_LINE, SENSITIVE_LINE
from casetracker.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)

# Sentences of the template itself. Each is about the document or its records, never a claim
# about the agency, the officers or the agreement.
APPARATUS = {
    "Draft — not issued.",
    "This copy has no document number and is not an official record.",
    "Correction.",
    "This document (version %(v)s) supersedes %(old)s.",
    "Reason, written by %(who)s:",
    "Written by %(who)s.",
    "No summary has been written yet.",
    "The agency's own agreement, as held by this office.",
    "No Task Force Model agreement text is held by this office: the provisions are quoted by "
    "analogy only.",
    "This office does not hold the text of the agency's own agreement.",
    "Words in square brackets stand where the copy held names its own agency.",
    "From the registry.",
    "Determination by %(who)s (%(role)s), %(when)s:",
    "Reason, as %(who)s wrote it:",
    "Not yet made:",
    "This action needs this determination, made and explained by a person, before it can be "
    "submitted.",
    "The words applied are quoted from",
    "Final finding by %(who)s on %(when)s; standard of proof: %(standard)s.",
    "Rationale, written by %(who)s:",
    "No deadlines recorded.",
    "Each item is identified by the SHA-256 hash of its content as received; the custody "
    "summary lists every recorded access.",
    "No evidence items are recorded for these cases.",
    "Complaints received and racial-profiling allegations sustained from %(start)s to %(end)s "
    "(365 days), counted from this office's records.",
    "The following are requests of this office, entered by the named staff member; they are "
    "not terms of the agreement.",
    "Requested by %(who)s.",
    "sustained allegations: %(allegations)s; cases: %(cases)s; evidence items listed with their "
    "SHA-256 hashes: %(items)s.",
    "No request of this office as to dates, length, the agency's response or corrective "
    "measures was entered.",
}


def template_messages() -> set[str]:
    path = PROJECT_ROOT / "templates" / "reports" / "pdf" / "recommendation.html.j2"
    found = set()
    for _line, message, _comments, _context in extract_from_file(
            "jinja2.ext.babel_extract", str(path), keywords={"_": None},
            options={"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_template_says_nothing_of_its_own() -> None:
    sentences = {m for m in template_messages()
                 if re.search(r"[.:]$", m) or re.search(r"\w\. \w", m)}
    assert sentences <= APPARATUS, sorted(sentences - APPARATUS)


def _source(model: str = "JEM", action: str = "suspension", **rec: Any
            ) -> document.RecommendationSource:
    received = NOW - timedelta(days=100)
    kind = rules.KIND_OF_ACTION[action]
    return document.RecommendationSource(
        recommendation={"id": 1, "kind": kind, "action": action, "status": "draft",
                        "classification": "sensitive", "author": 1, "created_at": NOW,
                        "addressee": "Director", "sender": "Office", "subject": "S",
                        "summary": "", "text_authors": "{}", **rec},
        agency={"name": "Example County Sheriff's Office", "state": "TX"},
        agreement={"model": model, "signed_on": date(2020, 9, 1), "status": "active",
                   "designated_officers": 3, "other_active_officers": 2,
                   "moa_url": "https://www.ice.gov/x.pdf"},
        officers=[{"officer": 1, "officer_name": "A. Officer", "badge_number": "B-1",
                   "training_completed_on": date(2021, 1, 1), "status": "active"}]
        if kind == "officers" else [],
        cases=[{"tracking_number": "CT-1", "received_at": received,
                "narrative": "My name is Private Person and I was stopped.",
                "contact": {"name": "Private Person"},
                "allegations": [{"allegation_type": "racial_profiling",
                                 "final_finding": "sustained", "final_rationale": "Video.",
                                 "final_by": 2, "officer_label": "A. Officer",
                                 "final_at": NOW}],
                "evidence": [{"id": 5, "sha256": "ab" * 32, "source": "complainant",
                              "original_name": "private-person-id.jpg", "description": "",
                              "received_at": received, "custody_summary": "received"}]}],
        pattern={"window_start": NOW - timedelta(days=365), "window_end": NOW,
                 "targets": [], "peers": {"label": "Peers", "count": 0}},
        people={1: {"name": "Author Person", "role": "oversight"},
                2: {"name": "Reviewer Person", "role": "supervisor"},
                3: {"name": "Decider Person", "role": "supervisor"}},
        now=NOW)


def test_every_paragraph_has_a_source() -> None:
    doc = document.build(_source(summary="Our request.", text_authors=json.dumps(
        {"summary": 3})))
    kinds = {item.kind for item in doc.review}
    assert kinds <= {"quotation", "data", "staff", "determination"}
    assert {"quotation", "data", "staff", "determination"} <= kinds
    for item in doc.review:
        assert item.text and item.source and item.section, item
    summary = next(i for i in doc.review if i.section.endswith("Summary"))
    assert summary.source == "Written by Decider Person"
    quotes = [i for i in doc.review if i.kind == "quotation"]
    assert all(i.source.startswith("Quoted from the 2020 JEM template text") for i in quotes)


def test_a_determination_not_made_is_shown_as_missing_not_as_made() -> None:
    doc = document.build(_source())
    [made] = doc.determinations
    assert not made.made and made.decided_by == ""
    assert any("NOT YET MADE" in i.source for i in doc.review)
    assert any("determination" in m for m in doc.missing)
    html = rendering.render_html("recommendation.html.j2", {"doc": doc})
    assert "Not yet made:" in html and "Determination by" not in html
    decided = _source()
    decided.determinations = {"serious_misconduct": {
        "key": "serious_misconduct", "reason": "Three sustained stops in a month.",
        "decided_by": 3, "decided_at": NOW}}
    doc = document.build(decided)
    [made] = doc.determinations
    assert made.made and made.decided_by == "Decider Person" and made.role == "Supervisor"
    html = rendering.render_html("recommendation.html.j2", {"doc": doc})
    assert "Determination by Decider Person (Supervisor), November 20, 2026:" in html
    assert "Three sustained stops in a month." in html


def test_no_date_appears_unless_entered() -> None:
    doc = document.build(_source(action="termination"))
    assert doc.requests == ()
    html = rendering.render_html("recommendation.html.j2", {"doc": doc})
    assert "Requested effective date" not in html
    doc = document.build(_source(action="termination",
                                 proposed_effective_on=date(2027, 3, 1),
                                 text_authors=json.dumps({"proposed_effective_on": 3})))
    [request] = doc.requests
    assert (request.label, request.value, request.author) == (
        "Requested effective date", "March 1, 2027", "Decider Person")


def test_redacted_variant_withholds_identity_everywhere() -> None:
    for source in (_source(classification="public"), _source()):
        if source.recommendation["classification"] == "sensitive":
            source.redacted = True
        doc = document.build(source)
        assert doc.classification == PUBLIC_LINE and doc.classification_public
        case = doc.cases[0]
        assert case.complainant == "Withheld in this version" and case.narrative == ""
        assert case.evidence[0].description == "—"
        dumped = json.dumps(document.document_json(doc))
        assert "Private Person" not in dumped and "private-person" not in dumped
    doc = document.build(_source())
    assert doc.classification == SENSITIVE_LINE
    assert doc.cases[0].complainant == "Private Person"


def test_tfm_is_quoted_by_analogy_and_wso_2020_in_brackets() -> None:
    doc = document.build(_source(model="TFM", action="revocation"))
    assert doc.legal_basis.by_analogy
    assert doc.legal_basis.text_label == "the 2025 JEM template text, as published by ICE"
    wso = _source(model="WSO", action="revocation")
    doc = document.build(wso)
    assert doc.legal_basis.bracketed
    assert any("[LEA]" in q.words for g in doc.legal_basis.groups for q in g.quotes)


def test_sections_are_numbered_in_order() -> None:
    revocation = document.build(_source(action="revocation"))
    assert list(revocation.numbers) == ["summary", "target", "legal", "grounds", "evidence",
                                        "pattern", "timing", "approval"]
    suspension = document.build(_source(action="suspension"))
    assert suspension.numbers["determinations"] == 4 and suspension.numbers["notice"] == 8
    row = suspension.notice_rows[0]
    assert row.detail.startswith("the grounds in section 5")
