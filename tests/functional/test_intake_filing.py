"""Filing a complaint through the real public form, with the real CSRF token: the form, "Check
your answers", "Send my complaint", the confirmation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from casetracker import jobs
from casetracker.audit.tables import AuditEvent
from casetracker.cases.tables import Case, CaseOfficer, Witness
from casetracker.evidence.tables import EvidenceItem
from casetracker.intake import rules
from casetracker.intake.tables import ComplainantContact
from casetracker.settings import configure
from tests.conftest import Browser
from tests.factories_intake import (
    ACCESS,
    ELF_BYTES,
    PDF_BYTES,
    RECEIPT_LINK,
    TRACKING,
    complaint_fields,
    incident_date_of,
    pdf_text,
    png_bytes,
    review_and_send,
    save_form,
    send_complaint,
    stored_files,
)
from tests.factories_registry import make_agency, make_agreement, make_designation, make_officer


async def post_complaint(browser: Browser, fields: dict[str, Any], files: Any = None,
                         lang: str = "en") -> Any:
    """The form posted with "Continue": 303 to the review page, or the form with its
    mistakes."""
    return await save_form(browser, {**fields, "action": "review"}, files, lang)


async def test_english_complaint_with_officers_witnesses_and_files(browser: Browser,
                                                                   settings: Any) -> None:
    fields = complaint_fields()
    response = await send_complaint(browser, fields, files=[
        ("files", ("stop.png", png_bytes(), "image/png")),
        ("files", ("ticket.pdf", PDF_BYTES, "application/pdf")),
    ])
    assert response.status_code == 200, response.text[:3000]
    assert "We received your complaint" in response.text
    assert response.headers["cache-control"] == "no-store"
    number = TRACKING.search(response.text).group(1)
    code = ACCESS.search(response.text).group(1)
    assert rules.TRACKING_RE.match(number)
    assert "Write the access code down now" in response.text

    case = await Case.select().where(Case.tracking_number == number).first()
    assert case["status"] == "received" and case["channel"] == "web" and case["language"] == "en"
    assert case["access_code_hash"] == rules.access_code_hash(settings.secret_key, number, code)
    assert code.replace("-", "") not in json.dumps(case, default=str)
    assert case["triage_due_at"] and case["resolution_due_at"]
    assert case["consent_share_agency"] is True and case["consent_share_ice"] is False
    assert case["incident_date"] == incident_date_of(fields)  # not "today": midnight may pass
    assert case["late_filing"] is False
    officers = await CaseOfficer.select().where(CaseOfficer.case == case["id"]).order_by(
        CaseOfficer.position)
    assert [o["name"] for o in officers] == ["Daniel Reyes", ""]
    assert officers[1]["unidentified"] is True
    witnesses = await Witness.select().where(Witness.case == case["id"])
    assert sorted(w["name"] for w in witnesses) == ["Ana Flores", "Luis Ortega"]
    contact = await ComplainantContact.select().where(
        ComplainantContact.case == case["id"]).first()
    assert contact["email"] == "maria@example.org" and contact["safety_notes"]
    items = await EvidenceItem.select().where(EvidenceItem.case == case["id"])
    assert sorted(i["original_name"] for i in items) == ["stop.png", "ticket.pdf"]
    assert {i["kind"] for i in items} == {"image", "pdf"}
    events = await AuditEvent.select().where(AuditEvent.case_id == case["id"])
    assert "complaint.filed" in [e["action"] for e in events]
    assert all(e["ip_address"] in (None, "") for e in events)

    # The receipt: exactly what they submitted, no internal data.
    link = RECEIPT_LINK.search(response.text).group(1)
    pdf = await browser.client.get(link)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for expected in (number, "Daniel Reyes", "Ana Flores", "stop.png", "ticket.pdf",
                     "asked for my papers", "Route 9"):
        assert expected in text, expected
    assert code not in text
    assert case["access_code_hash"] not in text

    # The same receipt went by e-mail (to the outbox), without the access code.
    await jobs.run_due()  # the receipt e-mail is a background job
    messages = list(Path(settings.outbox_dir).glob("*.eml"))  # noqa: ASYNC240
    assert len(messages) == 1
    mail = messages[0].read_text(errors="replace")
    assert number in mail and code not in mail and "application/pdf" in mail
    # ... and it is the case's "received" letter: on the case, in the contact log, once.
    from casetracker.intake.tables import ComplainantLetter, ContactLogEntry

    await jobs.run_due()
    letters = await ComplainantLetter.select().where(ComplainantLetter.case == case["id"])
    assert [(r["kind"], r["status"], r["channel"]) for r in letters] == [
        ("received", "sent", "email")]
    assert await ContactLogEntry.count().where(ContactLogEntry.case == case["id"]) == 1


async def test_spanish_anonymous_complaint(browser: Browser, settings: Any) -> None:
    page = await browser.get("/complaint?lang=es")
    assert "Presentar una queja" in page.text and 'lang="es"' in page.text
    fields = complaint_fields(anonymous="1", name="", email="", phone="", preferred_contact="",
                              narrative="Me pidieron los papeles sin motivo. Ñandú, acción.")
    response = await send_complaint(browser, fields, lang="es", files=[
        ("files", ("foto.png", png_bytes("blue"), "image/png")),
        ("files", ("multa.pdf", PDF_BYTES, "application/pdf")),
    ])
    assert response.status_code == 200, response.text[:3000]
    assert "Recibimos su queja" in response.text
    number = TRACKING.search(response.text).group(1)
    case = await Case.select().where(Case.tracking_number == number).first()
    assert case["language"] == "es" and case["anonymous"] is True
    assert case["narrative"].endswith("Ñandú, acción.")
    assert not await ComplainantContact.exists().where(ComplainantContact.case == case["id"])
    assert case["consent_share_agency"] is False  # no identity to share
    assert await CaseOfficer.count().where(CaseOfficer.case == case["id"]) == 2
    assert await Witness.count().where(Witness.case == case["id"]) == 2
    assert await EvidenceItem.count().where(EvidenceItem.case == case["id"]) == 2
    link = RECEIPT_LINK.search(response.text).group(1)
    text = pdf_text((await browser.client.get(link)).content)
    assert "Recibo de su queja" in text and number in text
    assert "foto.png" in text and "multa.pdf" in text and "Ñandú" in text


async def test_add_another_officer_and_witness_keeps_everything_typed(browser: Browser) -> None:
    saved = await save_form(browser, complaint_fields(action="add_officer"), files=[
        ("files", ("stop.png", png_bytes(), "image/png"))])
    assert saved.status_code == 303 and saved.headers["location"] == "/complaint?lang=en#officer-2"
    response = await browser.get(saved.headers["location"])
    assert 'id="officer-2"' in response.text  # a third, blank block
    assert 'value="Daniel Reyes"' in response.text and 'value="Ana Flores"' in response.text
    assert "asked for my papers" in response.text
    assert 'name="officer_count" value="3"' in response.text
    assert "stop.png" in response.text  # the file chosen stays chosen
    saved = await save_form(browser, complaint_fields(action="add_witness"))
    response = await browser.get(saved.headers["location"])
    assert 'id="witness-2"' in response.text and "stop.png" in response.text
    assert not await Case.exists()


async def test_find_agency_without_javascript(browser: Browser) -> None:
    await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_agency("Harlow Police Department", state="GA")
    fields = complaint_fields(**{"officer-0-agency": "Harlow", "action": "find_agency-0"})
    saved = await save_form(browser, fields)
    assert saved.status_code == 303
    response = await browser.get(saved.headers["location"])
    assert "Which agency did you mean?" in response.text
    assert "Harlow County Sheriff&#39;s Office, FL" in response.text
    suggestions = await browser.client.get("/complaint/agencies?q=harlow")
    assert {row["label"] for row in suggestions.json()} == {
        "Harlow County Sheriff's Office, FL", "Harlow Police Department, GA"}


async def test_designated_officer_starts_the_ice_clock(browser: Browser) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    agreement = await make_agreement(agency, model="TFM")
    officer = await make_officer(agency, name="Daniel Reyes", badge_number="4471")
    await make_designation(officer, agreement)
    fields = complaint_fields(**{"officer-0-agency": "Harlow County Sheriff's Office, FL"})
    response = await send_complaint(browser, fields)
    assert response.status_code == 200, response.text[:2000]
    case = await Case.select().order_by(Case.id, ascending=False).first()
    assert case["ice_notification_required"] is True and case["ice_notification_due_at"]
    assert case["agency"] == agency.id
    linked = await CaseOfficer.select().where(CaseOfficer.case == case["id"]).order_by(
        CaseOfficer.position)
    assert linked[0]["officer"] == officer.id and linked[0]["agency"] == agency.id


async def test_unnamed_officer_of_an_agency_with_an_active_agreement_starts_the_clock(
        browser: Browser) -> None:
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_agreement(agency, model="JEM")
    fields = complaint_fields(**{"officer-0-name": "", "officer-0-badge": "",
                                 "officer-0-agency": "Harlow County Sheriff's Office, FL"})
    response = await send_complaint(browser, fields)
    assert response.status_code == 200
    case = await Case.select().first()
    assert case["ice_notification_required"] is True and case["officer_unidentified"] is True


async def test_no_registry_match_means_no_ice_clock(browser: Browser) -> None:
    response = await send_complaint(browser, complaint_fields(
        **{"officer-0-agency": "Some town police"}))
    assert response.status_code == 200
    case = await Case.select().first()
    assert case["ice_notification_required"] is False and case["ice_notification_due_at"] is None
    officer = await CaseOfficer.select().where(CaseOfficer.position == 0).first()
    assert officer["agency_text"] == "Some town police" and officer["agency"] is None


async def test_late_filing_is_accepted_and_flagged(browser: Browser) -> None:
    response = await send_complaint(browser, complaint_fields(incident_year="2024"))
    assert response.status_code == 200
    assert (await Case.select(Case.late_filing).first())["late_filing"] is True


# --- what comes back when something is wrong ------------------------------------------------

async def test_missing_narrative_comes_back_with_everything_kept(browser: Browser) -> None:
    response = await post_complaint(browser, complaint_fields(narrative=""), files=[
        ("files", ("stop.png", png_bytes(), "image/png"))])
    assert response.status_code == 422
    text = response.text
    assert 'class="error-summary"' in text and 'href="#narrative"' in text
    assert 'aria-invalid="true"' in text
    assert 'aria-describedby="narrative-hint narrative-error"' in text
    assert 'value="Daniel Reyes"' in text and 'value="maria@example.org"' in text
    assert "Files you attached" in text and "stop.png" in text  # kept, not to choose again
    assert not await Case.exists()


async def test_errors_come_back_in_spanish(browser: Browser) -> None:
    response = await post_complaint(browser, complaint_fields(narrative=""), lang="es")
    assert response.status_code == 422
    assert "Hay un problema" in response.text
    assert "Cuéntenos qué pasó" in response.text


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"narrative": "x" * 7001}, "narrative", "7,000 characters or fewer"),
    ({"officer-0-name": "A" * 201}, "officer-0-name", "200 characters or fewer"),
    ({"incident_location": "Main St\x00\x1b[31m"}, "incident_location", "control characters"),
    ({"narrative": "Hello\u202eevil"}, "narrative", "control characters"),
    # explicit years: the form's own date is 12 days ago, which may be in a leap year or
    # on 29 February
    ({"incident_day": "31", "incident_month": "2", "incident_year": "2025"}, "incident_day",
     "That month has 28 days"),
    ({"incident_month": "13"}, "incident_month", "from 1 to 12"),
    ({"incident_year": "26"}, "incident_year", "four digits"),
    ({"incident_day": "1", "incident_month": "3", "incident_year": "2099"}, "incident_day",
     "in the future"),
    ({"incident_time": "25:99"}, "incident_time", "like 14:30"),
    ({"email": "not-an-address"}, "email", "name@example.com"),
    ({"incident_state": "XX"}, "incident_state", "Choose a state"),
    ({"anonymous": "1"}, "anonymous", "file anonymously"),
    ({"preferred_contact": "phone", "phone": ""}, "phone", "add your phone number"),
])
async def test_malformed_input_gets_a_clear_error(browser: Browser, overrides: dict[str, str],
                                                  field: str, message: str) -> None:
    response = await post_complaint(browser, complaint_fields(**overrides))
    assert response.status_code == 422, response.text[:500]
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert not await Case.exists()


async def test_script_payloads_are_shown_escaped(browser: Browser) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = await post_complaint(browser, complaint_fields(
        narrative="", **{"officer-0-name": payload, "harm": payload}))
    assert response.status_code == 422
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    # Stored as typed, shown escaped on the receipt too.
    response = await send_complaint(browser, complaint_fields(**{"officer-0-name": payload}))
    assert response.status_code == 200
    link = RECEIPT_LINK.search(response.text).group(1)
    assert "<script>alert" in pdf_text((await browser.client.get(link)).content)


async def test_missing_csrf_token_gets_a_friendly_page(browser: Browser) -> None:
    await browser.get("/complaint?lang=es")
    response = await browser.client.post("/complaint?lang=es", data=complaint_fields(),
                                         files=[("files", ("a.png", png_bytes(), "image/png"))])
    assert response.status_code == 403
    assert "Su formulario caducó" in response.text and "Presentar una queja" in response.text
    assert not await Case.exists()
    response = await browser.client.post("/complaint?lang=en", data=complaint_fields())
    assert response.status_code == 403 and "Your form expired" in response.text


async def test_honeypot_stores_nothing(browser: Browser) -> None:
    response = await post_complaint(browser, complaint_fields(fax_number="http://spam.example"))
    assert response.status_code == 400
    assert "could not accept this form" in response.text
    assert not await Case.exists()


async def test_refused_file_stores_nothing(browser: Browser, settings: Any) -> None:
    response = await post_complaint(browser, complaint_fields(), files=[
        ("files", ("photo.png", png_bytes(), "image/png")),
        ("files", ("holiday.jpg", ELF_BYTES, "image/jpeg")),  # forged type
    ])
    assert response.status_code == 422
    assert "holiday.jpg" in response.text and "Allowed:" in response.text
    assert "photos" in response.text and "PDF" in response.text
    assert 'value="Daniel Reyes"' in response.text
    assert not await Case.exists()
    assert not await EvidenceItem.exists()
    assert stored_files(Path(settings.evidence_dir)) == []


async def test_forged_html_as_image_is_refused(browser: Browser, settings: Any) -> None:
    response = await post_complaint(browser, complaint_fields(), files=[
        ("files", ("cat.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"))])
    assert response.status_code == 422 and "cat.jpg" in response.text
    assert stored_files(Path(settings.evidence_dir)) == []


async def test_database_failure_mid_submission_leaves_nothing(browser: Browser, settings: Any,
                                                              monkeypatch: Any) -> None:
    from casetracker.intake import services

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    saved = await post_complaint(browser, complaint_fields(), files=[
        ("files", ("stop.png", png_bytes(), "image/png")),
        ("files", ("ticket.pdf", PDF_BYTES, "application/pdf")),
    ])
    assert saved.status_code == 303
    monkeypatch.setattr(services.audit, "record", broken)
    response = await review_and_send(browser)
    assert response.status_code == 422
    assert "problem on our side" in response.text and "Daniel Reyes" in response.text
    assert "Please attach your files again: stop.png, ticket.pdf." in response.text
    assert not await Case.exists()
    assert not await CaseOfficer.exists() and not await Witness.exists()
    assert not await ComplainantContact.exists() and not await EvidenceItem.exists()
    assert stored_files(Path(settings.evidence_dir)) == []


async def test_too_many_and_too_large_files(browser: Browser, settings: Any) -> None:
    configure(settings.replace(upload_max_file_mb=1, upload_max_files=2))
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    response = await post_complaint(browser, complaint_fields(), files=[
        ("files", ("big.pdf", big, "application/pdf"))])
    assert response.status_code == 422 and "big.pdf" in response.text
    assert "too large" in response.text
    response = await post_complaint(browser, complaint_fields(), files=[
        ("files", (f"p{i}.png", png_bytes(), "image/png")) for i in range(3)])
    assert response.status_code == 422 and "at most 2 files" in response.text
    assert not await Case.exists()
    assert stored_files(Path(settings.evidence_dir)) == []


async def test_oversized_body_gets_a_413_page_in_spanish(browser: Browser) -> None:
    await browser.get("/status?lang=es")
    response = await browser.client.post("/status?lang=es", content=b"a=" + b"x" * 2_000_000,
                                         headers={"content-type":
                                                  "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "demasiado grande" in response.text and 'lang="es"' in response.text


async def test_filing_is_rate_limited(browser: Browser, settings: Any) -> None:
    configure(settings.replace(public_rate_limit_per_hour=2))
    for _ in range(2):
        assert (await send_complaint(browser, complaint_fields())).status_code == 200
    assert (await post_complaint(browser, complaint_fields(), lang="es")).status_code == 303
    response = await review_and_send(browser, lang="es")
    assert response.status_code == 429
    assert "Se enviaron demasiadas quejas" in response.text
    assert "Daniel Reyes" in response.text  # nothing typed is lost: the answers are kept
    assert await Case.count() == 2


async def test_public_pages_have_no_staff_navigation(browser: Browser) -> None:
    for url in ("/", "/complaint", "/status", "/?lang=es"):
        response = await browser.get(url)
        assert response.status_code == 200
        assert "/dashboard" not in response.text and "Sign out" not in response.text
        assert "?lang=es" in response.text or "?lang=en" in response.text
        assert "<script>" not in response.text  # CSP: scripts only from files
    home = await browser.get("/?lang=en")
    for other in ("internal affairs", "ICE Office of Professional Responsibility",
                  "DHS Office of Inspector General", "Civil Rights and Civil Liberties",
                  "anonymously"):
        assert other in home.text


async def test_language_follows_accept_language(browser: Browser) -> None:
    response = await browser.get("/", headers={"accept-language": "es-MX,es;q=0.9,en;q=0.5"})
    assert 'lang="es"' in response.text and "Presentar una queja" in response.text


async def test_oversized_form_without_files_is_refused_early(browser: Browser) -> None:
    token = await browser.csrf_for("/complaint?lang=en")
    response = await browser.client.post("/complaint?lang=en", data={
        "_csrf_token": token, "narrative": "x" * 1_100_000, "action": "add_officer"})
    assert response.status_code == 413
    assert "What you sent is too large" in response.text


async def test_wrong_or_broken_bodies_get_a_clear_400(browser: Browser) -> None:
    token = await browser.csrf_for("/complaint?lang=en")
    as_json = await browser.client.post("/complaint?lang=en", json={"narrative": "x"},
                                        headers={"x-csrftoken": token})
    assert as_json.status_code == 400 and "could not be understood" in as_json.text
    broken = await browser.client.post(
        "/complaint?lang=en",
        content=b"--XYZ\r\nContent-Disposition: form-data; name=\"_csrf_token\"\r\n\r\n"
                + token.encode() + b"\r\n--XYZ\r\nContent-Disposition: form-data; name=\"files\";"
                b" filename=\"a.png\"\r\n\r\n\x89PNG-truncated",
        headers={"content-type": "multipart/form-data; boundary=XYZ"})
    assert broken.status_code == 400 and "could not be understood" in broken.text
    assert not await Case.exists()


async def test_declared_body_over_the_route_limit_is_refused_before_reading(
        browser: Browser) -> None:
    from casetracker.intake.public import UPLOAD_BODY_LIMIT

    token = await browser.csrf_for("/complaint?lang=es")

    async def body() -> Any:
        yield b"--XYZ\r\nContent-Disposition: form-data; name=\"_csrf_token\"\r\n\r\n"
        yield token.encode() + b"\r\n--XYZ--\r\n"

    response = await browser.client.post(
        "/complaint?lang=es", content=body(),
        headers={"content-type": "multipart/form-data; boundary=XYZ",
                 "content-length": str(UPLOAD_BODY_LIMIT + 1)})
    assert response.status_code == 413
    assert "Lo que envió es demasiado grande" in response.text
    assert not await Case.exists()
