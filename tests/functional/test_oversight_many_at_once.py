"""Many at once in oversight: several early-intervention flags acknowledged with one note (each
recorded and audited), and a periodic report where agencies with no activity are a count and a
short table, and flags read as words."""

from __future__ import annotations

import re
from typing import Any

from casetracker.audit.tables import AuditEvent
from casetracker.oversight.tables import FlagAcknowledgement
from casetracker.settings import configure
from tests.conftest import Browser, login_as
from tests.factories_oversight import make_agency, make_agreement
from tests.integration.test_oversight_services import build_world
from tests.pdf import pdf_layout_text

PAGE = "/oversight/flags?as_of=2024-12-31"


def open_keys(page: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="flag_key" value="([^"]+)"', page)


async def test_several_flags_acknowledged_with_one_note(settings: Any, browser: Browser) -> None:
    await build_world()
    await login_as(browser, "oversight")
    page = (await browser.get(PAGE)).text
    keys = open_keys(page)
    assert len(keys) == 4 and 'id="flags-bulk"' in page
    for key in keys:
        assert f'name="flag_key" value="{key}" form="flags-bulk"' in page

    # no note: refused, nothing recorded, the choice kept
    response = await browser.submit(PAGE, "/oversight/flags/acknowledge-many", data={
        "flag_key": keys[:2], "as_of": "2024-12-31", "note": "  "})
    assert response.status_code == 422 and "Describe the intervention" in response.text
    assert f'value="{keys[0]}" form="flags-bulk" checked' in response.text
    assert await FlagAcknowledgement.select().run() == []
    # none chosen
    response = await browser.submit(PAGE, "/oversight/flags/acknowledge-many", data={
        "as_of": "2024-12-31", "note": "Supervisor meeting held."})
    assert response.status_code == 422 and "Choose at least one flag" in response.text

    response = await browser.submit(PAGE, "/oversight/flags/acknowledge-many", data={
        "flag_key": keys[:3], "as_of": "2024-12-31",
        "note": "Supervisor meeting held; retraining scheduled."})
    assert response.status_code == 303
    page = (await browser.get(response.headers["location"])).text
    assert "3 flags were acknowledged with the same note." in page
    assert open_keys((await browser.get(PAGE)).text) == keys[3:]
    acks = await FlagAcknowledgement.select().order_by(FlagAcknowledgement.id)
    assert [a["flag_key"] for a in acks] == keys[:3]
    assert {a["note"] for a in acks} == {"Supervisor meeting held; retraining scheduled."}
    events = await AuditEvent.select(AuditEvent.details).where(
        AuditEvent.action == "oversight.flag.acknowledge")
    assert len(events) == 3


async def test_report_counts_quiet_agencies_and_prints_flags_in_words(settings: Any,
                                                                      browser: Browser) -> None:
    configure(settings.replace(pdf_workers=0))
    world = await build_world()
    for n in range(40):
        agency = await make_agency(f"Quiet Town {n:02d} Police", "TX")
        await make_agreement(agency, model="WSO" if n % 2 else "JEM")
    await login_as(browser, "oversight")
    response = await browser.get("/oversight/report.pdf?from=2024-01-01&to=2024-12-31")
    assert response.status_code == 200, response.text[:500]
    text = " ".join(pdf_layout_text(response.content).split())
    # Bravo (no case) and the 40 quiet towns: a count and a table by model, not 41 lines
    assert "agencies in scope received no complaint and had no allegation" in text
    assert "Quiet Town" not in text, text[text.index("Quiet Town") - 300:][:600]
    match = re.search(r"Warrant Service Officer \(WSO\) (\d+)", text)
    assert match and int(match.group(1)) >= 20
    assert "Alpha County Sheriff" in text  # an agency with activity keeps its line
    assert world["o1"].name in text
    assert "Critical:" in text or "Warning:" in text
    assert re.search(r"\(officer, Alpha County Sheriff\): \d+ [a-z -]+ in the \d+ days to "
                     r"December 31, 2024 \(threshold \d+\)", text)
    assert "officer_complaints" not in text and "officer_sustained_profiling" not in text
