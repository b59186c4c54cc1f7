"""Identity only for those who need it: every staff role × every document and export.

For each role, each document is either refused, or served; when served, the complainant's
identity (name, e-mail, phone) and narrative appear only for roles holding the
complainant-contact permission (and, for the case report, who may see the case). Documents:
the recommendation preview of a draft, the preview of one submitted for approval, the issued
recommendation, the draft's review page, the case report PDF (with and without its access-log
appendix), the periodic oversight PDF, the
case CSV export, and the JSON API (case list and case detail, with a personal token). A PDF's
embedded data (data.json) is checked as well as its text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from casetracker.accounts.tokens import TokenService
from casetracker.auth.actor import Actor
from casetracker.cases.tables import Case
from casetracker.reports.services import (
    EDITABLE,
    DraftValues,
    RecommendationService,
    load_source,
)
from casetracker.settings import configure
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_reports import (
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
    pdf_text,
)

pytestmark = pytest.mark.asyncio

NAME, EMAIL, PHONE = "Maria Hernández", "mh@example.org", "409-555-0100"
NARRATIVE = "NARRATIVE-MARKER: they asked for my papers because of how I look."

# What each role gets: "identity" (served, identity shown), "redacted" (served, no identity),
# "served" (served; this page need not show identity to those who may see it), or an HTTP
# status (refused).
DOCUMENTS = ("preview_draft", "preview_submitted", "issued", "draft_page", "case_report",
             "case_report_access", "oversight_pdf", "case_csv", "api_list", "api_detail")
# the API never shows identity: every role that may read the case gets it without
API_ANY = {"api_list": "redacted", "api_detail": "redacted"}
MATRIX: dict[str, dict[str, Any]] = {
    "administrator": {"preview_draft": "identity", "preview_submitted": "identity",
                      "issued": "identity", "draft_page": "served", "case_report": "identity",
                      "case_report_access": "identity", "oversight_pdf": "redacted",
                      "case_csv": "redacted", **API_ANY},
    "supervisor": {"preview_draft": "identity", "preview_submitted": "identity",
                   "issued": "identity", "draft_page": "served", "case_report": "identity",
                   "case_report_access": "identity", "oversight_pdf": "redacted",
                   "case_csv": "redacted", **API_ANY},
    "oversight": {"preview_draft": "redacted", "preview_submitted": "redacted",
                  "issued": "redacted", "draft_page": "redacted", "case_report": "redacted",
                  "case_report_access": "redacted", "oversight_pdf": "redacted",
                  "case_csv": "redacted", **API_ANY},
    # the case's lead investigator: the case file, nothing else
    "investigator": {"preview_draft": 403, "preview_submitted": 403, "issued": 403,
                     "draft_page": 403, "case_report": "identity",
                     "case_report_access": "identity", "oversight_pdf": 403, "case_csv": 403,
                     **API_ANY},
    # intake staff see cases only while in triage: this closed one is not theirs to know
    "intake": {"preview_draft": 403, "preview_submitted": 403, "issued": 403,
               "draft_page": 403, "case_report": 403, "case_report_access": 403,
               "oversight_pdf": 403, "case_csv": 403, "api_list": "redacted", "api_detail": 404},
}


async def _recommendation(author: Actor, approver: Actor, designation: int, case_id: int,
                          *, to: str) -> int:
    service = RecommendationService(author)
    rec_id = await service.draft(DraftValues("officers", "revocation", None, (designation,),
                                             (case_id,)))
    rec = (await load_source(rec_id)).recommendation
    assert rec["classification"] == "sensitive"  # a supervisor's draft names complainants
    await service.update(rec_id, {**{k: rec[k] for k in EDITABLE}, "summary": "Revoke."})
    if to == "draft":
        return rec_id
    await service.submit(rec_id)
    if to == "submitted":
        return rec_id
    await RecommendationService(approver).approve(rec_id)
    await service.issue(rec_id)
    return rec_id


@pytest.fixture
async def world(settings: Any) -> dict[str, Any]:
    configure(settings.replace(pdf_workers=0))
    agency = await make_agency("Montgomery County Sheriff's Office", "TX")
    agreement = await make_agreement(agency, signed_on=date(2020, 9, 14))
    officer, designation = await make_designated_officer(agency, agreement, "Dan Deputy", "D-1")
    await make_designated_officer(agency, agreement, "Peer Deputy", "D-2")
    case = await make_sustained_case(agency, agreement, [officer], narrative=NARRATIVE,
                                     complainant=NAME)
    author = Actor.from_user(await make_user("supervisor"))
    approver = Actor.from_user(await make_user("supervisor"))
    recs = {stage: await _recommendation(author, approver, designation, case.case_id, to=stage)
            for stage in ("draft", "submitted", "issued")}
    return {"case": case, "recs": recs}


def _urls(world: dict[str, Any]) -> dict[str, str]:
    recs, case_id = world["recs"], world["case"].case_id
    return {
        "preview_draft": f"/recommendations/{recs['draft']}/preview.pdf",
        "draft_page": f"/recommendations/{recs['draft']}",
        "preview_submitted": f"/recommendations/{recs['submitted']}/preview.pdf",
        "issued": f"/recommendations/{recs['issued']}/document.pdf",
        "case_report": f"/cases/{case_id}/report.pdf",
        "case_report_access": f"/cases/{case_id}/report.pdf?access=all",
        "oversight_pdf": "/oversight/report.pdf?from=2020-01-01&to=2030-12-31",
        "case_csv": "/cases/export.csv",
        "api_list": "/api/v1/cases?per_page=200",
        "api_detail": f"/api/v1/cases/{case_id}",
    }


def _embedded(data: bytes) -> str:
    """A PDF's attached files (data.json), as text."""
    import io

    from pypdf import PdfReader

    found = PdfReader(io.BytesIO(data)).attachments
    return "\n".join(part.decode("utf-8") for parts in found.values() for part in parts)


async def test_identity_appears_only_for_those_who_need_it(world: dict[str, Any],
                                                           new_browser: Any) -> None:
    # one world (its documents take a while to issue), every role in turn
    for index, role in enumerate(MATRIX):
        await _check_role(world, new_browser(f"198.51.100.{40 + index}"), role)


async def _check_role(world: dict[str, Any], browser: Any, role: str) -> None:
    user = await login_as(browser, role)
    if role == "investigator":
        await Case.update({Case.lead_investigator: user.id}).where(
            Case.id == world["case"].case_id)
    created = await TokenService(Actor.from_user(user)).create("identity matrix")
    api_headers = {"Authorization": f"Bearer {created.token}"}
    assert set(MATRIX[role]) == set(DOCUMENTS) == set(_urls(world))
    for document, url in _urls(world).items():
        expected = MATRIX[role][document]
        if document.startswith("api_"):
            response = await browser.client.get(url, headers=api_headers)
        else:
            response = await browser.get(url)
        if isinstance(expected, int):
            assert response.status_code in (expected, 404), (role, document,
                                                             response.status_code)
            continue
        assert response.status_code == 200, (role, document, response.status_code)
        is_pdf = response.content.startswith(b"%PDF")
        # the attachments are read once (each parse of a PDF takes a while)
        embedded = _embedded(response.content) if is_pdf else ""
        text = (pdf_text(response.content) + "\n" + embedded if is_pdf
                else response.content.decode("utf-8-sig"))
        if is_pdf:
            assert embedded, (role, document)  # the data is checked too
        shown = [marker for marker in (NAME, EMAIL, PHONE) if marker in text]
        if expected == "identity":
            assert NAME in text, (role, document)
        elif expected == "redacted":
            assert shown == [], (role, document, shown)
        if document in ("preview_draft", "preview_submitted", "issued"):
            # the recommendation prints the narrative only in the sensitive variant
            assert ("NARRATIVE-MARKER" in text) == (expected == "identity"), (role, document)
            assert ("Public version" in text) == (expected == "redacted"), (role, document)
        if document in ("case_csv", "api_detail") or (document == "api_list"
                                                      and role != "intake"):
            assert world["case"].tracking_number in text  # served, and has the case


async def test_staff_without_the_permission_cannot_make_or_change_the_sensitive_version(
        world: dict[str, Any], browser: Any) -> None:
    await login_as(browser, "oversight")
    detail = f"/recommendations/{world['recs']['draft']}"
    page = await browser.get(detail)
    assert "This draft is the sensitive version" in page.text
    assert 'id="recommendation-form"' not in page.text  # read-only for them
    response = await browser.post(f"{detail}/edit", data={"subject": "x", "then": "save"})
    assert response.status_code == 403
    response = await browser.post(f"{detail}/submit", data={})
    assert response.status_code == 403
