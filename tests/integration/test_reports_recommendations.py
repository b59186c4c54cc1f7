"""Rescission recommendations end to end: draft, submit, approve, issue, download, correct."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from pypdf import PdfReader

from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.errors import Forbidden, InvalidTransition, ValidationFailed
from casetracker.reports import document, rendering
from casetracker.reports.services import DraftValues, RecommendationService, load_source
from casetracker.settings import configure
from tests.factories import make_user
from tests.factories_reports import (
    INJECTION,
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
    pdf_text,
    squeezed,
)
from tests.pdf import check_structure, page_texts

pytestmark = pytest.mark.asyncio


def attachments(data: bytes) -> dict[str, list[bytes]]:
    return PdfReader(io.BytesIO(data)).attachments


async def actors() -> dict[str, Actor]:
    out = {}
    for role in ("oversight", "supervisor", "administrator", "investigator"):
        user = await make_user(role)
        out[role] = Actor.from_user(user)
    out["supervisor2"] = Actor.from_user(await make_user("supervisor"))
    return out


@pytest.fixture
async def fast(settings: Any) -> Any:
    # in-process rendering (a thread) keeps these tests quick; the pool has its own test
    return configure(settings.replace(pdf_workers=0))


async def _officer_world() -> dict[str, Any]:
    agency = await make_agency("Montgomery County Sheriff's Office", "TX")
    agreement = await make_agreement(agency, "JEM")
    o1, d1 = await make_designated_officer(agency, agreement, "Daniel Reyes Whitfield", "GC-4471")
    o2, d2 = await make_designated_officer(agency, agreement, "Carla Booker", "GC-5210")
    await make_designated_officer(agency, agreement, "Peer Officer", "GC-0001")
    case1 = await make_sustained_case(agency, agreement, [o1, o2])
    case2 = await make_sustained_case(agency, agreement, [o1],
                                      allegation_types=("racial_profiling", "search"),
                                      complainant="José Ramírez")
    return {"agency": agency, "agreement": agreement, "officers": [o1, o2],
            "designations": [d1, d2], "cases": [case1, case2]}


async def test_officer_revocation_workflow_and_pdf(fast: Any) -> None:
    people = await actors()
    world = await _officer_world()
    author = RecommendationService(people["oversight"])
    rec_id = await author.draft(DraftValues(
        "officers", "revocation", None, tuple(world["designations"]),
        tuple(c.case_id for c in world["cases"])))

    # the system proposes only what the registry gives; the office's words are left to staff
    source = await load_source(rec_id)
    rec = source.recommendation
    assert "Daniel Reyes Whitfield" in rec["subject"]
    assert rec["summary"] == "" and rec["requested_action"] == ""
    assert rec["proposed_effective_on"] is None and rec["suspension_days"] is None
    assert rec["classification"] == "public"  # oversight may not see complainant identity

    with pytest.raises(InvalidTransition):
        await RecommendationService(people["supervisor"]).approve(rec_id)
    with pytest.raises(ValidationFailed) as refused:
        await author.submit(rec_id)  # no summary written yet
    assert "summary" in refused.value.errors
    # a supervisor (who may see identity) writes it and makes it the sensitive version
    values = {k: rec[k] for k in ("addressee", "sender", "subject", "grounds",
                                  "requested_action", "proposed_effective_on",
                                  "suspension_days", "response_instructions",
                                  "corrective_measures", "timing", "viii_process")}
    with pytest.raises(ValidationFailed) as refused:
        await author.update(rec_id, {**values, "summary": "S", "classification": "sensitive"})
    assert "classification" in refused.value.errors
    await RecommendationService(people["supervisor2"]).update(
        rec_id, {**values, "summary": "The office recommends revocation.",
                 "classification": "sensitive"})
    with pytest.raises(Forbidden):  # the sensitive draft is no longer the oversight user's
        await author.submit(rec_id)
    await RecommendationService(people["supervisor2"]).submit(rec_id)
    # the author cannot approve; an oversight user has no approval permission at all
    with pytest.raises(Forbidden):
        await author.approve(rec_id)
    with pytest.raises(Forbidden):
        await RecommendationService(people["investigator"]).approve(rec_id)
    await RecommendationService(people["supervisor"]).approve(rec_id, "Agreed.")
    number = await author.issue(rec_id)
    assert re.fullmatch(r"RR-20\d\d-0001", number)

    rec, first = await RecommendationService(people["supervisor"]).issued_document(rec_id)
    _, second = await RecommendationService(people["administrator"]).issued_document(rec_id)
    assert first == second  # frozen
    assert rec["document_sha256"] == rendering.sha256_hex(first)
    # the oversight user gets the redacted variant, frozen too
    redacted_rec, redacted = await author.issued_document(rec_id)
    assert redacted_rec["variant"] == "redacted" and redacted != first
    assert rendering.sha256_hex(redacted) == rec["redacted_sha256"]
    assert "Maria Hernández" not in pdf_text(redacted) and number in pdf_text(redacted)

    text = pdf_text(first)
    flat = squeezed(text)
    assert number in text
    assert "Sensitive — contains complainant information" in text
    for name, badge in (("Daniel Reyes Whitfield", "GC-4471"), ("Carla Booker", "GC-5210")):
        assert name in text and badge in text
    for citation in ("8 U.S.C. § 1357(g)", "§IV.D Certification and Authorization",
                     "Appendix B Complaint Procedure", "the 2020 JEM template text",
                     "LEA personnel may have their delegated authority revoked at any time for "
                     "any reason."):
        assert squeezed(citation) in flat, citation
    for case in world["cases"]:
        assert case.tracking_number in text
        for rationale in case.rationales:
            assert squeezed(rationale) in flat
        for sha in case.evidence_hashes:
            assert sha in flat
    assert "NOT-SUSTAINED-MARKER" not in text  # only sustained allegations are grounds
    assert "Maria Hernández" in text  # sensitive version names the complainant

    reader = PdfReader(io.BytesIO(first))
    pages = len(reader.pages)
    assert pages >= 2
    for page in range(1, pages + 1):  # "Page X of Y" on every page
        assert f"Page {page} of {pages}" in text
    # the running header (document number and title) on every page after the first
    for page_text in page_texts(first)[1:]:
        assert number in page_text

    data = json.loads(attachments(first)["data.json"][0])
    assert data["number"] == number
    assert data["sustained_count"] == 4
    assert list(attachments(first)) == ["data.json"]

    # every step audited
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.object_type == "recommendation")]
    for step in ("recommendation.draft", "recommendation.submit", "recommendation.approve",
                 "recommendation.issue", "recommendation.download"):
        assert step in actions

    # a correction is a new version naming the one it supersedes
    with pytest.raises(InvalidTransition):
        await author.submit(rec_id)
    corrector = RecommendationService(people["supervisor2"])
    new_id = await corrector.correct(rec_id, "Badge number of the second officer corrected.")
    await corrector.submit(new_id)
    await RecommendationService(people["supervisor"]).approve(new_id)
    number2 = await RecommendationService(people["administrator"]).issue(new_id)
    assert number2.endswith("0002")
    _, corrected = await corrector.issued_document(new_id)
    corrected_text = pdf_text(corrected)
    assert f"supersedes {number}" in squeezed(corrected_text).replace("supersedes", "supersedes ")\
        or squeezed(f"supersedes {number}") in squeezed(corrected_text)
    # the first document is unchanged
    _, again = await corrector.issued_document(rec_id)
    assert again == first


async def test_cases_without_sustained_findings_are_refused(fast: Any) -> None:
    people = await actors()
    world = await _officer_world()
    other_agency = await make_agency("Elsewhere PD")
    other_agreement = await make_agreement(other_agency)
    _, d3 = await make_designated_officer(other_agency, other_agreement, "Not Involved", "X-1")
    with pytest.raises(ValidationFailed) as failure:
        await RecommendationService(people["oversight"]).draft(DraftValues(
            "officers", "revocation", None, (d3,), (world["cases"][0].case_id,)))
    assert "case_ids" in failure.value.errors
    with pytest.raises(ValidationFailed):
        await RecommendationService(people["oversight"]).draft(DraftValues(
            "officers", "revocation", None, (world["designations"][0], d3),
            (world["cases"][0].case_id,)))


async def test_injection_prints_literally_and_fetches_nothing(fast: Any) -> None:
    people = await actors()
    agency = await make_agency()
    agreement = await make_agreement(agency)
    o1, d1 = await make_designated_officer(agency, agreement, "Eve Injector", "INJ-1")
    case = await make_sustained_case(agency, agreement, [o1], narrative=INJECTION,
                                     rationale=INJECTION, complainant=INJECTION)
    service = RecommendationService(people["oversight"])
    rec_id = await service.draft(DraftValues("officers", "revocation", None, (d1,),
                                             (case.case_id,)))
    doc = document.build(await load_source(rec_id))
    html = rendering.render_html("recommendation.html.j2", {"doc": doc})
    assert "<img src=" not in html and "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    asked: list[str] = []
    pdf = rendering.html_to_pdf(html, title="t", attachment_json=document.document_json(doc),
                                fetcher=rendering.make_fetcher(on_request=asked.append))
    assert asked and all(url.startswith("ct-asset:") for url in asked)
    assert not any("passwd" in url or "127.0.0.1" in url for url in asked)
    text = pdf_text(pdf)
    assert '<img src="file:///etc/passwd">' in text
    assert '<link rel="attachment" href="file:///etc/passwd">' in text
    assert "url(http://127.0.0.1:1/x)" in text
    assert list(attachments(pdf)) == ["data.json"]
    assert "root:" not in text

    # the refusing fetcher itself: anything but a packaged asset raises
    fetcher = rendering.make_fetcher()
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/x", "https://example.org/a.css",
                "data:text/css,body{}", "ct-asset:../../etc/passwd", "ct-asset:fonts/x.ttf"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


async def test_pdf_structure_is_pdfa3_tagged_and_deterministic(fast: Any) -> None:
    people = await actors()
    world = await _officer_world()
    rec_id = await RecommendationService(people["oversight"]).draft(DraftValues(
        "officers", "revocation", None, (world["designations"][0],),
        (world["cases"][0].case_id,)))
    source = await load_source(rec_id)
    doc = document.build(source)
    html = rendering.render_html("recommendation.html.j2", {"doc": doc})
    payload = document.document_json(doc)
    one = rendering.html_to_pdf(html, title="x", attachment_json=payload)
    two = rendering.html_to_pdf(html, title="x", attachment_json=payload)
    assert one == two
    assert check_structure(one) == []  # what qpdf --check checks, through pikepdf
    reader = PdfReader(io.BytesIO(one), strict=True)  # parses without repairs
    for page in reader.pages:
        assert page.extract_text()
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"
    assert "/OutputIntents" in root and "/AF" in root
    associated = [spec.get_object() for spec in root["/AF"]]
    # (WeasyPrint 70 lists the one file spec twice in /AF; it is the same object)
    assert {(a["/F"], a["/AFRelationship"]) for a in associated} == {("data.json", "/Data")}
    metadata = root["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part=\"3\"" in metadata or "<pdfaid:part>3</pdfaid:part>" in metadata
    assert "pdfaid:conformance=\"B\"" in metadata or "<pdfaid:conformance>B" in metadata
    assert "<pdfuaid:part>1</pdfuaid:part>" in metadata
    assert json.loads(reader.attachments["data.json"][0])["schema"].startswith("casetracker/")


async def test_render_in_worker_pool_with_time_limit(settings: Any) -> None:
    doc = {"title": "Pool test", "number": "", "running_header": "Pool test",
           "classification": "Public", "classification_public": True,
           "organisation": "Office", "subtitle": "", "date_label": "", "paragraphs": ["x"]}
    try:
        # a render over the time limit is abandoned: its worker is killed, the pool recreated
        configure(settings.replace(pdf_workers=1, pdf_timeout_seconds=0))
        with pytest.raises(rendering.RenderTimeout):
            await rendering.render_pdf("minimal.html.j2", {"doc": doc}, title="Pool test")
        configure(settings.replace(pdf_workers=1, pdf_timeout_seconds=120))
        pdf = await rendering.render_pdf("minimal.html.j2", {"doc": doc}, title="Pool test")
        assert "Pool test" in pdf_text(pdf)
    finally:
        rendering.shutdown_pool()
