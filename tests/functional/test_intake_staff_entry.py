"""Complaints received by other channels: intake staff enter them with the public form's checks,
the time actually received (the clocks start then), the referring body, who took it; the
complainant's letter with the tracking number and access code, in their language; audited as
filed by staff on the complainant's behalf; once per form; nothing half-written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from casetracker.audit.tables import AuditEvent
from casetracker.cases import clocks
from casetracker.cases.tables import Case, CaseOfficer
from casetracker.intake.tables import ComplainantContact, StaffIntake
from casetracker.settings import get_settings
from tests.conftest import Browser, login_as
from tests.factories_cases import make_officer
from tests.factories_intake import ACCESS, TRACKING, complaint_fields, pdf_text
from tests.factories_registry import make_agency

ONCE = re.compile(r'name="once" value="([^"]+)"')
TAKEN_BY = re.compile(r'<option value="(\d+)" selected>')


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(get_settings().timezone))


def entry_fields(received_local: datetime, **overrides: Any) -> dict[str, Any]:
    fields = complaint_fields(
        action="file", channel="phone", received_on=received_local.date().isoformat(),
        received_time=received_local.strftime("%H:%M"))
    fields["officer-0-agency"] = "Harlow County Sheriff's Office, FL"
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


async def open_form(staff: Browser) -> str:
    """The entry form's one-time token; "Taken by" is preselected to the signed-in user."""
    page = await staff.get("/intake/new")
    assert page.status_code == 200, page.text[:1000]
    staff.taken_by = TAKEN_BY.search(page.text).group(1)  # type: ignore[attr-defined]
    return ONCE.search(page.text).group(1)


async def post_entry(staff: Browser, token: str, fields: dict[str, Any]) -> Any:
    fields = {"taken_by": getattr(staff, "taken_by", ""), **fields}
    pairs = [("_csrf_token", staff.last_csrf or ""), ("once", token), *[
        (k, item) for k, v in fields.items() for item in (v if isinstance(v, list) else [v])]]
    return await staff.client.post("/intake/new", content=urlencode(pairs), headers={
        "content-type": "application/x-www-form-urlencoded"})


async def test_a_phone_complaint_has_its_clocks_from_when_it_was_received(
        browser: Browser) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_officer(agency, "Daniel Reyes", "4471")  # designated: the ICE clock starts
    intake = await login_as(browser, "intake", name="Irene Intake")
    token = await open_form(browser)
    two_days_ago = local(datetime.now(UTC) - timedelta(days=2)).replace(
        hour=10, minute=15, second=0, microsecond=0)
    response = await post_entry(browser, token, entry_fields(two_days_ago))
    assert response.status_code == 303, response.text[:3000]
    assert response.headers["location"] == "/intake/entered"
    page = await browser.get("/intake/entered")
    number = TRACKING.search(page.text).group(1)
    code = ACCESS.search(page.text).group(1)
    assert f"Complaint {number} filed on behalf of the complainant." in page.text

    case = await Case.select().where(Case.tracking_number == number).first()
    assert case["channel"] == "phone" and case["language"] == "es"
    assert case["received_at"] == two_days_ago.astimezone(UTC)
    expected = clocks.intake_deadlines(
        two_days_ago.astimezone(UTC), ice_notice_required=True,
        calendar=clocks.BusinessCalendar.from_settings(get_settings()),
        rules=clocks.ClockRules.from_settings(get_settings()))
    assert case["ice_notification_required"] is True
    assert case["ice_notification_due_at"] == expected["ice_notification_due_at"]
    assert case["triage_due_at"] == expected["triage_due_at"]
    assert case["resolution_due_at"] == expected["resolution_due_at"]
    officer = await CaseOfficer.select().where(CaseOfficer.case == case["id"]).first()
    assert officer["agency"] == agency.id
    contact = await ComplainantContact.select().where(
        ComplainantContact.case == case["id"]).first()
    assert contact["name"] == "María López"
    row = await StaffIntake.select().where(StaffIntake.case == case["id"]).first()
    assert row["taken_by"] == intake.id and row["entered_by"] == intake.id
    assert row["received_at"] == two_days_ago.astimezone(UTC)
    events = {e["action"]: e for e in await AuditEvent.select().where(
        AuditEvent.case_id == case["id"])}
    assert events["complaint.filed"]["actor_id"] == intake.id
    assert events["complaint.entered_by_staff"]["actor_id"] == intake.id
    assert '"on_behalf_of": "complainant"' in events["complaint.entered_by_staff"]["details"]

    # The complainant's letter, in Spanish (their language) and in English on request.
    letter = await browser.client.get("/intake/entered/letter.pdf?lang=es")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(letter.content).split())
    assert "Cómo seguir su queja" in text and number in text and code in text
    assert "/status?lang=es" in text
    english = " ".join(pdf_text((await browser.client.get(
        "/intake/entered/letter.pdf?lang=en")).content).split())
    assert "How to follow your complaint" in english and code in english

    # The same form again (double click, reload, retry) files nothing more.
    again = await post_entry(browser, token, entry_fields(two_days_ago))
    assert again.status_code == 303
    assert await Case.count() == 1

    # Staff read how it came in, in words.
    case_page = await browser.get(f"/cases/{case['id']}")
    assert "(Phone call)" in case_page.text and "taken by Irene Intake" in case_page.text


async def test_a_referral_needs_its_body_and_a_future_time_is_refused(browser: Browser) -> None:
    await login_as(browser, "intake")
    token = await open_form(browser)
    tomorrow = local(datetime.now(UTC) + timedelta(days=1))
    fields = entry_fields(tomorrow, channel="referral", referring_reference="JIC-2026-114",
                          narrative="Referred to us: <b>detained</b> without cause.")
    response = await post_entry(browser, token, fields)
    assert response.status_code == 422
    assert "The time received is in the future." in response.text
    assert "Choose the body that referred the complaint." in response.text
    # everything typed is kept
    assert "Referred to us: &lt;b&gt;detained&lt;/b&gt; without cause." in response.text
    assert 'value="JIC-2026-114"' in response.text and "Ana Flores" in response.text
    assert await Case.count() == 0

    yesterday = local(datetime.now(UTC) - timedelta(days=1))
    fields = entry_fields(yesterday, channel="referral", referring_body="jic",
                          referring_reference="JIC-2026-114")
    response = await post_entry(browser, token, fields)
    assert response.status_code == 303, response.text[:3000]
    row = await StaffIntake.select().first()
    assert (row["channel"], row["referring_body"], row["referring_reference"]) == (
        "referral", "jic", "JIC-2026-114")
    case = await Case.select().first()
    assert case["channel"] == "referral"
    page = await browser.get(f"/cases/{case['id']}")
    assert "DHS Joint Intake Center" in page.text and "JIC-2026-114" in page.text


async def test_the_public_forms_checks_apply(browser: Browser) -> None:
    await login_as(browser, "intake")
    token = await open_form(browser)
    fields = entry_fields(local(datetime.now(UTC) - timedelta(hours=3)), narrative="",
                          email="not an address")
    response = await post_entry(browser, token, fields)
    assert response.status_code == 422
    assert 'id="narrative-error"' in response.text and 'id="email-error"' in response.text
    assert await Case.count() == 0


async def test_nothing_is_half_written_when_a_step_fails(browser: Browser,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from casetracker.intake import staff

    await login_as(browser, "intake")
    token = await open_form(browser)
    real_record = staff.audit.record

    async def failing(action: str, **kwargs: Any) -> Any:
        if action == "complaint.entered_by_staff":
            raise RuntimeError("disk full")
        return await real_record(action, **kwargs)

    monkeypatch.setattr(staff.audit, "record", failing)
    response = await post_entry(browser, token, entry_fields(
        local(datetime.now(UTC) - timedelta(hours=1))))
    assert response.status_code == 500
    assert await Case.count() == 0
    assert await StaffIntake.count() == 0
    assert await ComplainantContact.count() == 0


async def test_only_intake_work_may_enter_complaints(new_browser: Any) -> None:
    investigator = new_browser()
    await login_as(investigator, "investigator")
    assert (await investigator.get("/intake/new")).status_code == 403
