"""The complaint form's review step and its promises: nothing typed or chosen is lost, nothing is
filed twice, and a draft belongs to one browser and goes away when abandoned."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from casetracker.cases.tables import Case, CaseOfficer
from casetracker.evidence.tables import EvidenceItem, StagingHold
from casetracker.intake import drafts
from casetracker.intake.tables import ComplaintDraft, IntakeSubmission
from tests.conftest import Browser
from tests.factories_intake import (
    ACCESS,
    PDF_BYTES,
    REVIEW_TOKEN,
    TRACKING,
    complaint_fields,
    png_bytes,
    review_and_send,
    save_form,
    send_complaint,
    stored_files,
)
from tests.factories_registry import make_agency, make_agreement


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_enter_or_continue_never_files_and_the_review_shows_every_answer(
        browser: Browser) -> None:
    # Enter in a text box presses the form's first button ("Continue"); a browser sends its
    # value, or none at all: neither files anything.
    fields = complaint_fields()
    del fields["action"]
    saved = await save_form(browser, fields, files=[
        ("files", ("stop.png", png_bytes(), "image/png"))])
    assert saved.status_code == 303 and saved.headers["location"] == "/complaint/review?lang=en"
    assert not await Case.exists()
    review = await browser.get("/complaint/review?lang=en")
    assert review.status_code == 200 and review.headers["cache-control"] == "no-store"
    text = plain(review.text)
    for answer in ("Route 9 near the Shell station", "Harlow", "Florida", "A traffic stop",
                   "Out in the community (a task force)", "9:40 PM", "Daniel Reyes", "4471",
                   "Deputy", "Tall, grey moustache", "White SUV 212",
                   "Second deputy, short, glasses", "asked for my papers",
                   "I was stopped or pulled over", "Asked about immigration status or papers",
                   "Ethnicity", "Language or limited English", "I missed work", "Ana Flores",
                   "555-0100", "I saw the stop from my porch.", "Luis Ortega", "stop.png",
                   "It happened to me", "María López", "maria@example.org", "555 0199",
                   "E-mail", "Do not call before 6 pm.", "Spanish",
                   "Yes, you may share my name and contact details"):
        assert answer in text, answer
    day = datetime.now(UTC).date() - timedelta(days=12)
    assert f"{day:%B} {day.day}, {day.year}" in text  # "March 27, 2026", never "27 3 2026"
    assert "traffic_stop" not in text and "questioned_status" not in text
    for section in ("s-when", "s-officers", "s-what", "s-witnesses", "s-evidence", "s-you"):
        assert f'href="/complaint?lang=en#{section}"' in review.text
    assert not await Case.exists()


async def test_change_returns_to_the_form_with_everything_kept(browser: Browser) -> None:
    await save_form(browser, complaint_fields(**{"officer-0-agency": "Some town police"}),
                    files=[("files", ("stop.png", png_bytes(), "image/png")),
                           ("files", ("ticket.pdf", PDF_BYTES, "application/pdf"))])
    form = await browser.get("/complaint?lang=en")  # "Change" on the review page
    assert form.status_code == 200
    for kept in ('value="Daniel Reyes"', 'value="Some town police"', 'value="Ana Flores"',
                 'value="maria@example.org"', "asked for my papers", "Do not call before 6 pm.",
                 'value="traffic_stop" checked', 'value="stopped" checked',
                 'value="ethnicity" checked', 'name="consent_share_agency" value="1" checked',
                 'value="FL" selected', "stop.png", "ticket.pdf"):
        assert kept in form.text, kept
    # Sent after a change: the files chosen at the start are the complaint's evidence.
    page = await send_complaint(browser, complaint_fields(harm="Changed on the way."))
    case = await Case.select().where(
        Case.tracking_number == TRACKING.search(page.text).group(1)).first()
    assert case["harm"] == "Changed on the way."
    names = sorted(r["original_name"] for r in await EvidenceItem.select(
        EvidenceItem.original_name).where(EvidenceItem.case == case["id"]))
    assert names == ["stop.png", "ticket.pdf"]
    assert not await ComplaintDraft.exists() and not await StagingHold.exists()


async def test_the_same_submission_token_twice_files_once(browser: Browser) -> None:
    await save_form(browser, complaint_fields(action="review"))
    review = await browser.get("/complaint/review?lang=en")
    data = {"_csrf_token": browser.last_csrf,
            "review_token": REVIEW_TOKEN.search(review.text).group(1)}
    first = await browser.client.post("/complaint/send?lang=en", data=data)
    again = await browser.client.post("/complaint/send?lang=en", data=data)  # a retry
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/complaint/sent?lang=en"
    assert await Case.count() == 1
    confirmation = await browser.get("/complaint/sent?lang=en")
    number = TRACKING.search(confirmation.text).group(1)
    code = ACCESS.search(confirmation.text).group(1)
    # Reload: the same confirmation, the same code, nothing filed.
    reloaded = await browser.get("/complaint/sent?lang=en")
    assert TRACKING.search(reloaded.text).group(1) == number
    assert ACCESS.search(reloaded.text).group(1) == code
    # Back to the review page: it leads to the confirmation, not to a second complaint.
    back = await browser.get("/complaint/review?lang=en")
    assert back.status_code == 303 and back.headers["location"] == "/complaint/sent?lang=en"
    assert await Case.count() == 1


async def test_a_double_click_files_once(browser: Browser) -> None:
    await save_form(browser, complaint_fields(action="review"), files=[
        ("files", ("stop.png", png_bytes(), "image/png"))])
    review = await browser.get("/complaint/review?lang=en")
    data = {"_csrf_token": browser.last_csrf,
            "review_token": REVIEW_TOKEN.search(review.text).group(1)}
    answers = await asyncio.gather(*(browser.client.post("/complaint/send?lang=en", data=data)
                                     for _ in range(3)))
    assert [a.status_code for a in answers] == [303, 303, 303]
    # Each of the three lands on the confirmation, never on "your form expired".
    assert {a.headers["location"] for a in answers} == {"/complaint/sent?lang=en"}
    assert await Case.count() == 1 and await EvidenceItem.count() == 1
    assert await IntakeSubmission.count() == 1


async def test_a_send_that_wins_while_the_second_is_reading_shows_the_confirmation(
        browser: Browser, monkeypatch: Any) -> None:
    # A double click in a browser without JavaScript: the first send commits at the moment the
    # second one reads its draft. The second finds the draft gone because it was sent, not
    # because it expired, and shows the confirmation.
    await save_form(browser, complaint_fields(action="review"))
    review = await browser.get("/complaint/review?lang=en")
    data = {"_csrf_token": browser.last_csrf,
            "review_token": REVIEW_TOKEN.search(review.text).group(1)}
    real_load = drafts.load
    first: list[Any] = []

    async def the_other_send_commits_first(token: str | None, *args: Any, **kw: Any) -> Any:
        monkeypatch.setattr(drafts, "load", real_load)
        first.append(await browser.client.post("/complaint/send?lang=en", data=data))
        return await real_load(token, *args, **kw)

    monkeypatch.setattr(drafts, "load", the_other_send_commits_first)
    second = await browser.client.post("/complaint/send?lang=en", data=data)
    assert first[0].headers["location"] == "/complaint/sent?lang=en"
    assert second.status_code == 303
    assert second.headers["location"] == "/complaint/sent?lang=en"
    assert await Case.count() == 1
    confirmation = await browser.get(second.headers["location"])
    assert TRACKING.search(confirmation.text)


async def test_answers_changed_in_another_window_are_checked_again(browser: Browser) -> None:
    await save_form(browser, complaint_fields(action="review"))
    review = await browser.get("/complaint/review?lang=en")
    stale = REVIEW_TOKEN.search(review.text).group(1)
    await save_form(browser, complaint_fields(action="review", harm="Changed elsewhere."))
    response = await browser.client.post("/complaint/send?lang=en", data={
        "_csrf_token": browser.last_csrf, "review_token": stale})
    assert response.status_code == 303
    assert response.headers["location"] == "/complaint/review?lang=en&changed=1"
    assert not await Case.exists()
    again = await browser.get(response.headers["location"])
    assert "Your answers changed since this page was shown" in again.text
    assert "Changed elsewhere." in again.text


async def test_a_draft_belongs_to_one_browser_and_is_sealed(browser: Browser,
                                                            new_browser: Any) -> None:
    await save_form(browser, complaint_fields(narrative="Only in my browser, sealed."))
    stranger = new_browser()
    form = await stranger.get("/complaint?lang=en")
    assert "Only in my browser" not in form.text
    assert (await stranger.get("/complaint/review?lang=en")).status_code == 303
    # A made-up or altered cookie is ignored.
    stranger.client.cookies.set("ct_draft", "abc.9999999999.0123456789abcdef0123456789abcdef",
                                path="/complaint")
    assert "Only in my browser" not in (await stranger.get("/complaint?lang=en")).text
    # The database holds neither the text nor the cookie's token.
    row = await ComplaintDraft.select().first()
    assert "sealed" not in row["sealed"] and "Only in my browser" not in str(row)
    cookie = browser.client.cookies.get("ct_draft")
    assert cookie and cookie.split(".")[0] not in str(row)


async def test_removing_a_file_and_discarding_the_draft(browser: Browser, settings: Any) -> None:
    await save_form(browser, complaint_fields(action="review"), files=[
        ("files", ("stop.png", png_bytes(), "image/png")),
        ("files", ("ticket.pdf", PDF_BYTES, "application/pdf"))])
    form = await browser.get("/complaint?lang=en")
    remove = re.search(r'value="(remove_file-[^"]+)"', form.text).group(1)
    response = await save_form(browser, complaint_fields(action=remove))
    assert response.status_code == 303
    form = await browser.get(response.headers["location"])
    assert "stop.png" not in form.text and "ticket.pdf" in form.text
    assert len(stored_files(Path(settings.evidence_dir))) == 1
    response = await save_form(browser, complaint_fields(action="discard"))
    assert response.status_code == 303
    assert not await ComplaintDraft.exists() and not await StagingHold.exists()
    assert stored_files(Path(settings.evidence_dir)) == []
    assert 'value="Daniel Reyes"' not in (await browser.get("/complaint?lang=en")).text


async def test_files_are_limited_across_the_whole_draft(browser: Browser, settings: Any) -> None:
    from casetracker.settings import configure

    configure(settings.replace(upload_max_files=2))
    await save_form(browser, complaint_fields(action="add_officer"), files=[
        ("files", ("a.png", png_bytes("red"), "image/png")),
        ("files", ("b.png", png_bytes("blue"), "image/png"))])
    response = await save_form(browser, complaint_fields(action="review"), files=[
        ("files", ("c.png", png_bytes("green"), "image/png"))])
    assert response.status_code == 422
    assert "You have already attached 2 files, the most we accept" in response.text
    assert "a.png" in response.text and "b.png" in response.text


async def test_abandoned_drafts_and_their_files_are_swept(browser: Browser, settings: Any) -> None:
    from casetracker.evidence.services import sweep as evidence_sweep

    await save_form(browser, complaint_fields(action="review"), files=[
        ("files", ("stop.png", png_bytes(), "image/png"))])
    staged = stored_files(Path(settings.evidence_dir))
    assert len(staged) == 1
    # The evidence sweep leaves a draft's file alone, however old, while the draft lives.
    assert (await evidence_sweep(older_than_seconds=0))["staging"] == []
    assert staged[0].exists()
    assert (await drafts.sweep())["drafts"] == 0
    # Abandoned: past its time, the draft and its file go.
    await ComplaintDraft.update({ComplaintDraft.expires_at: datetime.now(UTC)
                                 - timedelta(minutes=1)}).where(ComplaintDraft.id > 0)
    result = await drafts.sweep()
    assert result["drafts"] == 1 and result["files"] == 1
    assert stored_files(Path(settings.evidence_dir)) == []
    assert not await ComplaintDraft.exists() and not await StagingHold.exists()
    # The person coming back is told, and nothing was sent.
    back = await browser.get("/complaint/review?lang=en")
    assert back.status_code == 303 and back.headers["location"] == "/complaint?lang=en&expired=1"
    page = await browser.get(back.headers["location"])
    assert "Your answers were no longer kept" in page.text
    assert not await Case.exists()


async def test_the_access_code_is_shown_again_for_an_hour_only(browser: Browser) -> None:
    page = await send_complaint(browser, complaint_fields())
    number = TRACKING.search(page.text).group(1)
    assert ACCESS.search(page.text)
    await IntakeSubmission.update({IntakeSubmission.answer_until: datetime.now(UTC)
                                   - timedelta(seconds=1)}).where(IntakeSubmission.id > 0)
    later = await browser.get("/complaint/sent?lang=en")
    assert number in later.text and not ACCESS.search(later.text)
    assert "no longer shown" in later.text
    await drafts.sweep()
    assert (await IntakeSubmission.select(IntakeSubmission.answer).first())["answer"] == ""


async def test_a_chosen_agency_is_linked_once_and_starts_the_ice_clock(browser: Browser) -> None:
    # The registry holds the same office twice (two apostrophes, as ICE's sheet does).
    twin = await make_agency("Harlow County Sheriff’s Office", state="FL")
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_agreement(agency, model="TFM")
    await make_agency("Harlow Police Department", state="GA")
    saved = await save_form(browser, complaint_fields(**{
        "officer-0-agency": "harlow", "action": "find_agency-0"}))
    assert saved.headers["location"] == "/complaint?lang=en#officer-0-agency"
    form = await browser.get(saved.headers["location"])
    offered = re.findall(r'name="officer-0-agency_choice" value="(\d+)"', form.text)
    assert str(agency.id) in offered and str(twin.id) not in offered  # shown once
    assert len(offered) == 2  # and the Georgia department
    # Chosen, whatever was typed: the link is kept through the review to the case.
    await save_form(browser, complaint_fields(**{
        "officer-0-agency": "harlow", "officer-0-agency_choice": str(agency.id),
        "action": "review"}))
    review = await browser.get("/complaint/review?lang=en")
    assert "Harlow County Sheriff&#39;s Office, FL" in review.text
    assert "Found in our list of agencies." in review.text
    sent = await review_and_send(browser)
    assert sent.status_code == 303
    case = await Case.select().first()
    assert case["agency"] == agency.id
    assert case["ice_notification_required"] is True and case["ice_notification_due_at"]
    officer = await CaseOfficer.select().where(CaseOfficer.position == 0).first()
    assert officer["agency"] == agency.id


async def test_typed_name_of_a_twin_office_links_the_office(browser: Browser) -> None:
    await make_agency("Harlow County Sheriff’s Office", state="FL")
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_agreement(agency, model="JEM")
    await send_complaint(browser, complaint_fields(**{
        "officer-0-agency": "Harlow County Sheriff’s Office, FL"}))
    case = await Case.select().first()
    assert case["agency"] == agency.id and case["ice_notification_required"] is True


async def test_anonymous_with_contact_details_is_one_clear_error(browser: Browser) -> None:
    response = await save_form(browser, complaint_fields(anonymous="1", action="review"))
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    assert summary.count("<li>") == 1 and 'href="#anonymous"' in summary
    assert response.text.count("You chose to file anonymously") == 2  # summary + by the box
    assert "Your name, E-mail, Phone" in response.text
