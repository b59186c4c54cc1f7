"""The registry over time as staff read it: an agreement's and an agency's timeline, and the
oversight dashboard's rates per 100,000 people policed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casetracker.registry.history import record_listings
from casetracker.registry.tables import Agency
from tests.conftest import Browser, login_as
from tests.factories_oversight import make_allegation, make_case
from tests.factories_registry import make_agency, make_agreement

LISTS = ["2025-05-16 am", "2025-05-19 am", "2025-05-19 pm", "2025-05-20 pm", "2025-05-23 am"]


async def test_agreement_and_agency_pages_show_the_timeline(settings: Any,
                                                           browser: Browser) -> None:
    agency = await make_agency("Colbert County Sheriff's Office", state="AL")
    jem = await make_agreement(agency, model="JEM")
    wso = await make_agreement(agency, model="WSO", status="no_longer_listed")
    other = await make_agreement(await make_agency(), model="TFM")
    # JEM on every list but one; WSO dropped after the second; another agency on all of them
    await record_listings([(jem.id, label) for label in LISTS if label != "2025-05-20 pm"]
                          + [(wso.id, label) for label in LISTS[:2]]
                          + [(other.id, label) for label in LISTS],
                          kind="participating", source="test")
    await login_as(browser, "intake")

    page = await browser.get(f"/registry/agreements/{jem.id}")
    assert page.status_code == 200
    text = page.text
    assert "On ICE&#39;s list over time" in text or "On ICE's list over time" in text
    assert "May 16, 2025 (morning list)" in text  # listed from
    assert "May 20, 2025 (afternoon list)" in text  # the gap
    assert "Listed on 4 of ICE" in text

    page = await browser.get(f"/registry/agreements/{wso.id}")
    assert "May 19, 2025 (afternoon list)" in page.text  # no longer listed on

    page = await browser.get(f"/registry/agencies/{agency.id}")
    assert "Model changes" in page.text
    assert "no longer listed for WSO" in page.text

    fresh = await make_agreement(await make_agency(), model="WSO")
    page = await browser.get(f"/registry/agreements/{fresh.id}")
    assert "Not on any of ICE" in page.text


async def test_dashboard_rates_per_100k_people_policed(settings: Any, browser: Browser) -> None:
    known = await make_agency("Galveston County Sheriff's Office", state="TX")
    await Agency.update({Agency.population_policed: 200_000}).where(Agency.id == known.id)
    unknown = await make_agency("Harris County Sheriff's Office", state="TX")
    for day in ("2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"):
        case = await make_case(day, agency=known)
    await make_allegation(case, finding="sustained",
                          final_at=datetime(2024, 6, 1, tzinfo=UTC))
    await make_case("2024-02-01", agency=unknown)
    await login_as(browser, "oversight")
    page = await browser.get("/oversight?from=2024-01-01&to=2024-12-31")
    assert page.status_code == 200
    html = page.text.split('id="sec-rates"', 1)[1]
    row = html.split("Galveston County Sheriff", 1)[1].split("</tr>")[0]
    assert "200,000" in row and "<td>4</td><td>2.0</td><td>1</td><td>0.5</td>" in row
    assert "1 complaints concern agencies whose population is not known" in html


async def test_administrator_merges_two_records_and_undoes_it(settings: Any,
                                                              browser: Browser) -> None:
    kept = await make_agency("St. Cloud Police Department", state="FL", kind="municipality")
    renamed = await make_agency("City of St. Cloud Police Department", state="FL",
                                kind="municipality")
    await make_agreement(renamed, model="TFM", status="no_longer_listed")
    await login_as(browser, "administrator")
    page_url = f"/registry/agencies/{kept.id}"
    page = await browser.get(page_url)
    assert "Merge into this agency" in page.text
    # the probable rename is offered first
    options = page.text.split('id="merged_id"', 1)[1].split("</select>")[0]
    assert "City of St. Cloud" in options.split("</option>")[1]

    refused = await browser.submit(page_url, f"{page_url}/merge",
                                   data={"merged_id": str(renamed.id), "reason": ""})
    assert refused.status_code == 422
    assert "Say why these two records are one agency." in refused.text
    assert f'<option value="{renamed.id}" selected' in refused.text  # the choice is kept

    done = await browser.submit(page_url, f"{page_url}/merge",
                                data={"merged_id": str(renamed.id),
                                      "reason": "Renamed between ICE's May and July sheets"})
    assert done.status_code == 303
    page = await browser.get(page_url)
    assert "Agencies merged." in page.text and "In effect" in page.text
    assert "City of St. Cloud Police Department" in page.text
    alias = await browser.get(f"/registry/agencies/{renamed.id}")
    assert "This record was merged into" in alias.text
    listed = await browser.get("/registry/agencies?q=city+of+st+cloud")
    assert f"/registry/agencies/{kept.id}\"" in listed.text
    assert f"/registry/agencies/{renamed.id}\"" not in listed.text

    form = page.text.split("Undo this merge")[0].rsplit('action="', 1)[1].split('"')[0]
    undone = await browser.submit(page_url, form, data={})
    assert undone.status_code == 303
    page = await browser.get(page_url)
    assert "Merge undone" in page.text and "Undone on" in page.text
    assert "This record was merged into" not in (
        await browser.get(f"/registry/agencies/{renamed.id}")).text

