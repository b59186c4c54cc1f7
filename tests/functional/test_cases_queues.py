"""The dashboard's queues: work waiting for the signed-in person, each with its count and a link
to the list that shows exactly that work; follow-ups stay unread until a staff member who may
see the case opens its page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from casetracker.cases.tables import CaseNote, Task
from casetracker.intake.tables import FollowUp
from casetracker.registry.tables import Agency, Agreement
from casetracker.reports.tables import Recommendation
from tests.conftest import Browser, login_as
from tests.factories import make_user
from tests.factories_cases import make_case


def queue(page: str, key: str) -> tuple[int, str, str]:
    """(count, link, label) of one queue on the dashboard."""
    match = re.search(rf'data-queue="{key}"><a href="([^"]+)"><span class="figure">(\d+)</span>'
                      r' <span class="queue-label">([^<]+)</span>', page)
    assert match, f"no {key} queue on the dashboard"
    return int(match.group(2)), match.group(1).replace("&amp;", "&"), match.group(3)


def queue_keys(page: str) -> list[str]:
    return re.findall(r'data-queue="(\w+)"', page)


async def make_recommendation(author_id: int, status: str = "submitted") -> int:
    agency = Agency(name="Galveston County Sheriff's Office", state="TX", county="Galveston",
                    kind="county", match_key=f"TX:galveston:{author_id}:{status}")
    await agency.save()
    agreement = Agreement(agency=agency.id, model="JEM", status="active",
                          signed_on=date(2020, 6, 8))
    await agreement.save()
    rows = await Recommendation.insert(Recommendation(
        kind="agreement", action="suspension", status=status, agency=agency.id,
        agreement=agreement.id, author=author_id, subject=f"Suspend the agreement ({status})",
    )).returning(Recommendation.id)
    return int(rows[0]["id"])


async def test_supervisor_sees_findings_to_review_and_others_recommendations(
        browser: Browser) -> None:
    supervisor = await login_as(browser, "supervisor")
    colleague = await make_user("supervisor")
    submitted = await make_case(status="findings_submitted", tracking_number="CT-Q-0001")
    reviewing = await make_case(status="under_review", tracking_number="CT-Q-0002")
    await make_case(status="under_investigation", tracking_number="CT-Q-0003")
    await make_recommendation(colleague.id)  # awaiting my approval
    await make_recommendation(supervisor.id)  # my own: someone else approves it
    await make_recommendation(colleague.id, status="draft")

    page = (await browser.get("/dashboard")).text
    count, link, label = queue(page, "review")
    assert (count, label) == (2, "Findings awaiting my review")
    listed = (await browser.get(link)).text
    assert "CT-Q-0001" in listed and "CT-Q-0002" in listed and "CT-Q-0003" not in listed
    assert submitted.id and reviewing.id

    count, link, label = queue(page, "approval")
    assert (count, label) == (1, "Recommendations awaiting my approval")
    listed = (await browser.get(link)).text
    assert "Suspend the agreement (submitted)" in listed
    assert listed.count("Suspend the agreement") == 1  # not my own, not the draft


async def test_a_queue_counts_up_to_its_cap_and_its_list_shows_every_case(
        browser: Browser, monkeypatch: Any) -> None:
    from casetracker.cases import queues

    monkeypatch.setattr(queues, "QUEUE_COUNT_CAP", 2)
    await login_as(browser, "supervisor")
    for n in range(3):
        await make_case(status="under_review", tracking_number=f"CT-Q-020{n}")
    page = (await browser.get("/dashboard")).text
    assert re.search(r'data-queue="review"><a href="[^"]+"><span class="figure">2\+</span>',
                     page)
    listed = (await browser.get(
        "/cases?state=findings_submitted&state=under_review&sort=received_asc")).text
    assert all(f"CT-Q-020{n}" in listed for n in range(3))
    monkeypatch.setattr(queues, "QUEUE_COUNT_CAP", 3)  # exact up to the cap
    assert queue((await browser.get("/dashboard")).text, "review")[0] == 3


async def test_investigator_queues_returned_not_started_and_tasks(browser: Browser) -> None:
    me = await login_as(browser, "investigator")
    other = await make_user("investigator")
    await make_case(status="returned", lead_investigator=me.id, tracking_number="CT-Q-0101")
    await make_case(status="returned", lead_investigator=other.id, tracking_number="CT-Q-0102")
    fresh = await make_case(status="under_investigation", lead_investigator=me.id,
                            tracking_number="CT-Q-0103")
    started = await make_case(status="under_investigation", lead_investigator=me.id,
                              tracking_number="CT-Q-0104")
    await CaseNote(case=started.id, author=me.id, body="Called the witness.").save()
    # a note by the previous lead does not make the case started for me
    await CaseNote(case=fresh.id, author=other.id, body="Handed over.").save()
    await Task(case=fresh.id, title="Request the dash-camera video", assignee=me.id,
               due_on=date(2026, 12, 7), created_by=other.id).save()
    await Task(case=started.id, title="Already done", assignee=me.id,
               done_at=datetime.now(UTC)).save()
    await Task(case=started.id, title="Someone else's", assignee=other.id).save()

    page = (await browser.get("/dashboard")).text
    assert "review" not in queue_keys(page) and "approval" not in queue_keys(page)
    count, link, _label = queue(page, "returned")
    assert count == 1
    listed = (await browser.get(link)).text
    assert "CT-Q-0101" in listed and "CT-Q-0102" not in listed

    count, link, label = queue(page, "not_started")
    assert (count, label) == (1, "Assigned to me, not yet started")
    listed = (await browser.get(link)).text
    assert "Showing: Assigned to me, not yet started." in listed
    assert "CT-Q-0103" in listed and "CT-Q-0104" not in listed

    count, link, label = queue(page, "tasks")
    assert (count, label) == (1, "Open tasks assigned to me")
    listed = (await browser.get(link)).text
    assert "Request the dash-camera video" in listed and "CT-Q-0103" in listed
    assert "December 7, 2026" in listed
    assert "Already done" not in listed and "Someone else&#39;s" not in listed

    # Recording a note starts the case: it leaves the queue.
    await browser.submit(f"/cases/{fresh.id}", f"/cases/{fresh.id}/notes",
                         data={"note_body": "First call made."})
    page = (await browser.get("/dashboard")).text
    assert queue(page, "not_started")[0] == 0


async def test_follow_ups_are_unread_until_someone_opens_the_case(browser: Browser,
                                                                  new_browser: Any) -> None:
    me = await login_as(browser, "investigator")
    mine = await make_case(status="under_investigation", lead_investigator=me.id,
                           tracking_number="CT-Q-0201")
    theirs = await make_case(status="under_investigation",
                             lead_investigator=(await make_user("investigator")).id,
                             tracking_number="CT-Q-0202")
    unassigned = await make_case(status="in_triage", tracking_number="CT-Q-0203")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    await FollowUp(case=mine.id, message="I found the deputy's card.", language="es",
                   received_at=yesterday).save()
    await FollowUp(case=theirs.id, message="Not for me.").save()
    await FollowUp(case=unassigned.id, message="Still waiting to hear.").save()

    page = (await browser.get("/dashboard")).text
    count, link, label = queue(page, "unread_follow_ups")
    assert (count, label) == (1, "Follow-ups from complainants not yet read")
    listed = (await browser.get(link)).text
    assert "CT-Q-0201" in listed and "CT-Q-0202" not in listed and "CT-Q-0203" not in listed

    # Intake staff take the cases in triage without a lead.
    intake_browser = new_browser("198.51.100.31")
    await login_as(intake_browser, "intake")
    page = (await intake_browser.get("/dashboard")).text
    assert queue(page, "unread_follow_ups")[0] == 1

    case_page = (await browser.get(f"/cases/{mine.id}")).text
    section = case_page.split('id="follow-ups"')[1].split("</section>")[0]
    assert "I found the deputy&#39;s card." in section and "Spanish" in section
    assert ">New<" in section
    row = await FollowUp.objects().where(FollowUp.case == mine.id).first()
    assert row.read_at is not None and row.read_by == me.id
    page = (await browser.get("/dashboard")).text
    assert queue(page, "unread_follow_ups")[0] == 0
    again = (await browser.get(f"/cases/{mine.id}")).text
    assert ">New<" not in again.split('id="follow-ups"')[1].split("</section>")[0]
    # Someone who may not see the case cannot mark its follow-ups read.
    assert (await browser.get(f"/cases/{theirs.id}")).status_code == 404
    other = await FollowUp.objects().where(FollowUp.case == theirs.id).first()
    assert other.read_at is None
