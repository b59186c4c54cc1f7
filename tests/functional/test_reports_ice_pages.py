"""Recording what ICE did through the pages: the recommendation's page, the oversight queue of
overdue answers, the registry's officer and agreement pages, the dashboard's figures."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from casetracker.registry.tables import Designation
from casetracker.reports.tables import IceResponse, Recommendation, RecommendationOfficer
from casetracker.settings import local_today
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_reports import make_agency, make_agreement, make_designated_officer

pytestmark = pytest.mark.asyncio

FLASH = re.compile(r'class="flash[^"]*"')
TODAY = local_today()


def dashboard_figures(page: str) -> dict[str, str]:
    """The dashboard's rows about what ICE did with issued recommendations, as read."""
    section = page[page.index('id="sec-recs"'):]
    section = section[:section.index("</table>")]
    rows = re.findall(r"<th[^>]*>(.*?)</th>\s*<td[^>]*>(.*?)</td>", section, re.S)
    text = {re.sub(r"<[^>]+>", "", k).strip(): " ".join(re.sub(r"<[^>]+>", "", v).split())
            for k, v in rows}
    wanted = ("Issued", "ICE acted on them", "ICE declined", "Unanswered",
              "Median days from issue to ICE's action")
    return {html.unescape(k): html.unescape(v) for k, v in text.items()
            if html.unescape(k) in wanted}


@pytest.fixture
async def world(settings: Any) -> dict[str, Any]:
    author = await make_user("supervisor")
    agency = await make_agency("Montgomery County Sheriff's Office", "TX")
    agreement = await make_agreement(agency, "JEM", signed_on=date(2020, 9, 14))
    officer, designation = await make_designated_officer(agency, agreement, "Dan Deputy", "D-1")
    await make_designated_officer(agency, agreement, "Peer Deputy", "D-2")
    issued_at = datetime.now(UTC) - timedelta(days=30)
    rec = Recommendation(kind="officers", action="revocation", status="issued", agency=agency,
                         agreement=agreement, author=author.id, subject="Revoke Dan Deputy",
                         number="RR-2026-0007", issued_at=issued_at, created_at=issued_at,
                         classification="public", follow_up_on=TODAY - timedelta(days=2))
    await rec.save()
    await RecommendationOfficer(recommendation=rec.id, designation=designation).save()
    return {"rec": rec.id, "officer": officer, "designation": designation,
            "agreement": agreement}


async def test_overdue_answer_is_queued_then_recorded_through_the_page(
        world: dict[str, Any], browser: Any) -> None:
    await login_as(browser, "oversight")
    queue = await browser.get("/oversight/ice-responses")
    assert queue.status_code == 200
    assert "RR-2026-0007" in queue.text and "2 days overdue" in queue.text
    assert "Dan Deputy (badge D-1)" in queue.text
    dashboard = await browser.get("/oversight")
    assert 'href="/oversight/ice-responses"' in dashboard.text
    assert dashboard_figures(dashboard.text) == {
        "Issued": "1", "ICE acted on them": "0", "ICE declined": "0",
        "Unanswered": "1 (1 overdue)", "Median days from issue to ICE's action": "—"}

    detail = f"/recommendations/{world['rec']}"
    page = await browser.get(detail)
    assert "What ICE did" in page.text and "No answer: overdue" in page.text

    # a mistake: the form comes back with what was typed and the error by the field
    target = f"designation:{world['designation']}"
    response = await browser.submit(detail, f"{detail}/responses", data={
        "target": target, "outcome": "declined", "acted_on": TODAY.isoformat(),
        "reason": "", "ice_reference": "ERO-HOU-17"})
    assert response.status_code == 422
    assert "Give ICE's reason for declining" in html.unescape(response.text)
    assert 'value="ERO-HOU-17"' in response.text and not FLASH.search(response.text)
    assert await IceResponse.count() == 0

    response = await browser.submit(detail, f"{detail}/responses", data={
        "target": target, "outcome": "revoked",
        "acted_on": (TODAY - timedelta(days=1)).isoformat(), "reason": "",
        "ice_reference": "ERO-HOU-17"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{detail}#ice-response"
    page = await browser.get(detail)
    assert "ICE's response is recorded. The registry now shows it." in html.unescape(page.text)
    assert "ICE acted" in page.text and "authority revoked" in page.text
    assert (await Designation.select().where(Designation.id == world["designation"]).first()
            )["status"] == "revoked"
    queue = await browser.get("/oversight/ice-responses")
    assert "RR-2026-0007" not in queue.text
    # the dashboard's figures follow: acted on, none unanswered, 29 days from issue to action
    dashboard = await browser.get("/oversight")
    assert dashboard_figures(dashboard.text) == {
        "Issued": "1", "ICE acted on them": "1", "ICE declined": "0", "Unanswered": "0",
        "Median days from issue to ICE's action": "29"}

    # the registry's pages show the recommendation and its outcome
    officer_page = await browser.get(f"/registry/officers/{world['officer']}")
    assert "RR-2026-0007" in officer_page.text and "authority revoked" in officer_page.text
    agreement_page = await browser.get(f"/registry/agreements/{world['agreement']}")
    assert "RR-2026-0007" in agreement_page.text

    # the follow-up date: a bad one is refused by the field, a good one saved (303)
    response = await browser.submit(detail, f"{detail}/follow-up",
                                    data={"follow_up_on": "soon"})
    assert response.status_code == 422 and "Give the date as YYYY-MM-DD." in response.text
    response = await browser.submit(detail, f"{detail}/follow-up",
                                    data={"follow_up_on": (TODAY + timedelta(days=5))
                                          .isoformat()})
    assert response.status_code == 303


async def test_who_sees_and_records_responses(world: dict[str, Any], browser: Any,
                                              new_browser: Any) -> None:
    # an investigator reads the registry but not recommendations: no section, no recording
    await login_as(browser, "investigator")
    officer_page = await browser.get(f"/registry/officers/{world['officer']}")
    assert officer_page.status_code == 200 and "RR-2026-0007" not in officer_page.text
    response = await browser.post(f"/recommendations/{world['rec']}/responses", data={
        "target": f"designation:{world['designation']}", "outcome": "revoked",
        "acted_on": TODAY.isoformat()})
    assert response.status_code == 403
    assert await IceResponse.count() == 0
    assert (await browser.get("/oversight/ice-responses")).status_code == 403
