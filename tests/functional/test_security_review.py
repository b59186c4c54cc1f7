"""Regressions for the security review: each test names the finding it guards."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import login_as

# Ids no row can have (PostgreSQL ids are 32-bit, SQLite's 64-bit), bad dates at the edge of
# what Python can represent: a visitor's mistake, never a 500 (and never a traceback).
ABSURD_INPUT: list[tuple[str, Any]] = [
    ("/cases/3000000000", 404),
    ("/cases/99999999999999999999", 404),
    ("/evidence/3000000000", 404),
    ("/evidence/99999999999999999999999", 404),
    ("/cases/3000000000/evidence", 404),
    ("/cases/3000000000/report.pdf", 404),
    ("/recommendations/3000000000", 404),
    ("/notifications?before=3000000000", (200, 404)),
    ("/notifications?before=99999999999999999999999", 404),
    ("/admin/audit?before=99999999999999999999999", 404),
    ("/admin/audit?case_id=3000000000", (200, 404)),
    ("/cases?agency=3000000000", 422),  # beyond 32-bit ids: named as a bad filter
    ("/cases?investigator=3000000000", 422),  # beyond 32-bit ids: named as a bad filter
    ("/cases?officer_id=3000000000", 422),  # beyond 32-bit ids: named as a bad filter
    ("/registry/agencies?after=3000000000", (200, 404)),
    ("/recommendations/new?agreement_id=99999999999999999999", 404),
    ("/oversight?from=0001-01-01&to=9999-12-31", 400),
    ("/oversight/flags?as_of=0001-01-01", 400),
]


async def test_absurd_ids_and_dates_never_give_a_server_error(browser: Any) -> None:
    await login_as(browser, "administrator")
    for url, expected in ABSURD_INPUT:
        response = await browser.get(url)
        # An id that fits SQLite's 64-bit integers is a valid, empty filter there.
        allowed = expected if isinstance(expected, tuple) else (expected,)
        assert response.status_code in allowed, (url, response.status_code)
        assert "Traceback" not in response.text and "int32" not in response.text, url
        assert "SQLite" not in response.text and "asyncpg" not in response.text, url


async def test_absurd_id_in_a_form_post_is_not_found(browser: Any) -> None:
    await login_as(browser, "supervisor")
    await browser.get("/dashboard")
    response = await browser.post("/cases/3000000000/notes", data={"body": "x"})
    assert response.status_code == 404


async def test_absurd_id_in_the_api_answers_json_404(browser: Any) -> None:
    user = await login_as(browser, "supervisor")
    from casetracker.accounts.tokens import TokenService
    from casetracker.auth.actor import Actor

    created = await TokenService(Actor.from_user(user, ip_address=None)).create("script")
    response = await browser.client.get(
        "/api/v1/cases/3000000000", headers={"Authorization": f"Bearer {created.token}",
                                             "Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


# --- the public variant of a recommendation never prints the complainant's file names -------

async def _draft_recommendation(browser: Any, settings: Any, original_name: str) -> str:
    from datetime import UTC, datetime

    from casetracker.evidence.tables import EvidenceItem
    from casetracker.settings import configure
    from tests.factories_reports import (
        make_agency,
        make_agreement,
        make_designated_officer,
        make_sustained_case,
    )

    configure(settings.replace(pdf_workers=0))
    agency = await make_agency()
    agreement = await make_agreement(agency)
    officer, designation = await make_designated_officer(agency, agreement, "Daniel Whitfield",
                                                         "GC-4471")
    case = await make_sustained_case(agency, agreement, [officer], evidence_count=0)
    # A file the complainant attached on the public form: no description, their own name.
    await EvidenceItem(case=case.case_id, original_name=original_name, description="",
                       source="complainant", sha256="a" * 64, storage_key="sha256/" + "a" * 64,
                       size_bytes=10, received_at=datetime.now(UTC)).save()
    page = f"/recommendations/new?agreement_id={agreement}&kind=officers"
    response = await browser.submit(page, "/recommendations/new", data={
        "agreement_id": str(agreement), "kind": "officers", "action": "revocation",
        "designation_ids": [str(designation)], "case_ids": [str(case.case_id)]})
    assert response.status_code == 303
    return response.headers["location"]


async def _preview_text(browser: Any, detail: str, classification: str) -> str:
    from casetracker.reports.tables import Recommendation
    from tests.pdf import pdf_text

    rec_id = int(detail.rstrip("/").rsplit("/", 1)[-1])
    await Recommendation.update({Recommendation.classification: classification}).where(
        Recommendation.id == rec_id)
    response = await browser.get(f"{detail}/preview.pdf")
    assert response.status_code == 200
    return await asyncio.to_thread(pdf_text, response.content)


async def test_public_recommendation_withholds_complainant_file_names(
        browser: Any, new_browser: Any, settings: Any) -> None:
    await login_as(browser, "oversight")
    detail = await _draft_recommendation(browser, settings, "Rosa-Quintero-licence.jpg")
    # the sensitive version may name her, for those who may see complainant identity
    supervisor = new_browser()
    await login_as(supervisor, "supervisor")
    sensitive = await _preview_text(supervisor, detail, "sensitive")
    assert "Rosa-Quintero" in sensitive
    assert "Rosa-Quintero" not in await _preview_text(browser, detail, "sensitive")
    public = await _preview_text(browser, detail, "public")
    assert "Rosa-Quintero" not in public
    assert "Maria Hern" not in public  # the complainant's name, as before


# --- API tokens honour the forced password change and two-factor enrolment ----------------

@pytest.mark.parametrize("reset", ["reset-password", "reset-2fa"])
async def test_api_token_stops_working_after_an_administrators_reset(
        browser: Any, new_browser: Any, reset: str) -> None:
    from casetracker.accounts.tokens import TokenService
    from casetracker.auth.actor import Actor
    from tests.factories import TEST_TOTP_SECRET, make_user

    # A supervisor whose role needs two-factor sign-in, enrolled, with a script token.
    victim = await make_user("supervisor", totp_enabled=True, totp_secret=TEST_TOTP_SECRET)
    created = await TokenService(Actor.from_user(victim, ip_address=None)).create("script")
    headers = {"Authorization": f"Bearer {created.token}", "Accept": "application/json"}
    admin_browser = new_browser("198.51.100.30")
    await login_as(admin_browser, "administrator")
    await admin_browser.submit("/admin/roles", data={"require_2fa": ["supervisor"]})
    assert (await browser.client.get("/api/v1/cases", headers=headers)).status_code == 200

    # The administrator resets the account (say the laptop was stolen).
    response = await admin_browser.submit(f"/admin/users/{victim.id}",
                                          f"/admin/users/{victim.id}/{reset}")
    assert response.status_code in (200, 303), response.text[:300]
    response = await browser.client.get("/api/v1/cases", headers=headers)
    assert response.status_code == 401


# --- logs never carry a complainant's identity --------------------------------------------

async def test_refused_public_upload_does_not_log_the_file_name(browser: Any,
                                                                caplog: Any) -> None:
    import logging

    from tests.factories_intake import complaint_fields

    caplog.set_level(logging.DEBUG)
    token = await browser.csrf_for("/complaint")
    response = await browser.client.post(
        "/complaint", data={"_csrf_token": token, **complaint_fields()},
        files=[("files", ("Rosa-Quintero-passport.jpg", b"\x7fELF\x02\x01\x01" + b"\0" * 600,
                          "image/jpeg"))])
    assert response.status_code == 422
    assert "Rosa-Quintero" in response.text  # she is told which file was refused
    assert "Rosa-Quintero" not in caplog.text
    assert "maria@example.org" not in caplog.text and "López" not in caplog.text


# --- sub-objects must belong to the case in the address (IDOR) -----------------------------

async def test_sub_objects_of_another_case_are_not_found(browser: Any) -> None:
    from casetracker.cases.tables import Allegation, Referral, Task
    from tests.factories import make_user
    from tests.factories_cases import add_allegation, make_case

    lead = await login_as(browser, "investigator")
    other_lead = await make_user("investigator")
    mine = await make_case(status="under_investigation", lead_investigator=lead.id)
    theirs = await make_case(status="under_investigation", lead_investigator=other_lead.id)
    their_allegation = await add_allegation(theirs)
    their_task = Task(case=theirs.id, title="Call the witness")
    await their_task.save()
    their_referral = Referral(case=theirs.id, body="agency_ia")
    await their_referral.save()
    page = f"/cases/{mine.id}"
    assert (await browser.get(page)).status_code == 200

    attempts = [
        (f"allegations/{their_allegation.id}/recommend",
         {"finding": "sustained", "rationale": "Forged.", "standard": "preponderance"}),
        (f"tasks/{their_task.id}/complete", {}),
        (f"referrals/{their_referral.id}", {"reference_number": "FORGED", "outcome": "x"}),
    ]
    for path, data in attempts:
        response = await browser.submit(page, f"/cases/{mine.id}/{path}", data=data)
        assert response.status_code in (404, 422), (path, response.status_code)
    allegation = await Allegation.select().where(Allegation.id == their_allegation.id).first()
    assert allegation["recommended_finding"] == ""
    task = await Task.select().where(Task.id == their_task.id).first()
    assert task["done_at"] is None
    referral = await Referral.select().where(Referral.id == their_referral.id).first()
    assert referral["reference_number"] == ""
    # and the other case itself stays invisible
    assert (await browser.get(f"/cases/{theirs.id}")).status_code == 404
    assert (await browser.get(f"/cases/{theirs.id}/evidence")).status_code == 404
