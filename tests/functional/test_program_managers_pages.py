"""ICE program managers and "my agencies" as staff use them, through the app."""

from __future__ import annotations

from typing import Any

from tests.conftest import Browser, login_as
from tests.factories_registry import make_agency, make_agreement
from tests.integration.test_oversight_services import build_world


async def test_administrator_records_a_field_program_manager_and_an_agreement(
        settings: Any, browser: Browser) -> None:
    agency = await make_agency("Colbert County Sheriff's Office", state="AL")
    agreement = await make_agreement(agency, model="JEM")
    await login_as(browser, "administrator")
    refused = await browser.submit("/registry/program-managers", data={
        "name": "", "level": "field", "area": "", "email": "not-an-address"})
    assert refused.status_code == 422
    assert "Enter the program manager&#39;s name." in refused.text
    assert 'value="not-an-address"' in refused.text  # kept
    added = await browser.submit("/registry/program-managers", data={
        "name": "Lena Ortiz", "level": "field",
        "area": "ERO New Orleans: Alabama, Arkansas, Louisiana, Mississippi, Tennessee",
        "email": "", "phone": ""})
    assert added.status_code == 303
    page_url = added.headers["location"]
    monitor = await browser.submit(page_url, f"{page_url}/agreements",
                                   data={"agreement_id": str(agreement.id)})
    assert monitor.status_code == 303
    page = await browser.get(page_url)
    assert "Colbert County Sheriff&#39;s Office (AL) JEM" in page.text
    shown = await browser.get(f"/registry/agreements/{agreement.id}")
    assert "Lena Ortiz" in shown.text and "field program manager" in shown.text


async def test_my_agencies_from_the_agency_page_to_the_flags(settings: Any,
                                                            browser: Browser) -> None:
    w = await build_world()
    await login_as(browser, "oversight")
    agency_url = f"/registry/agencies/{w['a'].id}"
    page = await browser.get(agency_url)
    assert "Add to my agencies" in page.text
    added = await browser.submit(agency_url, f"/oversight/portfolio/{w['a'].id}",
                                 data={"action": "add"})
    assert added.status_code == 303
    assert "Remove from my agencies" in (await browser.get(agency_url)).text
    flags = await browser.get("/oversight/flags?as_of=2024-12-31&mine=1")
    assert "Alpha County Sheriff" in flags.text
    other = await browser.submit(agency_url, f"/oversight/portfolio/{w['a'].id}",
                                 data={"action": "remove"})
    assert other.status_code == 303
    flags = await browser.get("/oversight/flags?as_of=2024-12-31&mine=1")
    assert "No officer is over a threshold." in flags.text
    dashboard = await browser.get("/oversight?from=2024-01-01&to=2024-12-31&mine=1")
    assert dashboard.status_code == 200 and 'id="mine" name="mine" value="1" checked' in \
        dashboard.text
    queue = await browser.get("/oversight/ice-responses?mine=1")
    assert queue.status_code == 200 and "All agencies" in queue.text
