"""A rescission recommendation through the browser, on a phone (375 px) and a desk (1280 px):
oversight staff draft it (a missing summary is refused next to the field), a supervisor
approves it, oversight staff issue it and download it. Nothing is wider than the screen, and
the PDF oversight staff download is the redacted variant, read back with pypdf.

Runs once per engine under test (CASETRACKER_TEST_ENGINES): the app runs under uvicorn in a
subprocess; the registry rows and the case with its sustained finding are made with the test
factories in a subprocess on the served database. Skips with the reason printed when Chromium or
PostgreSQL is missing (see tests/e2e/test_intake_browser.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_intake_browser import (
    ROOT,
    launched_chromium,
    require_browser,
    served_database,
    serving,
    shot,
)
from tests.pdf import pdf_text, squeezed

pytestmark = pytest.mark.e2e

PASSWORD = "recommendation-e2e-password"
PEOPLE = {"oversight": ("olive@e2e.example.org", "Olive Oversight"),
          "supervisor": ("sam@e2e.example.org", "Sam Supervisor")}
COMPLAINANT = "Maria Hernández"

WORLD = """
import asyncio
from datetime import date
from casetracker import db
from casetracker.settings import configure, load_settings
from tests.factories_reports import (make_agency, make_agreement, make_designated_officer,
                                     make_sustained_case)

async def main():
    await db.open_database(configure(load_settings()))
    agency = await make_agency("Montgomery County Sheriff's Office", "TX")
    agreement = await make_agreement(agency, "JEM", signed_on=date(2020, 9, 14))
    officer, designation = await make_designated_officer(agency, agreement, "Dana Deputy", "D-7")
    await make_designated_officer(agency, agreement, "Peer Deputy", "D-8")
    case = await make_sustained_case(agency, agreement, [officer], evidence_count=1)
    await db.close_database()
    print(agreement, designation, case.case_id, case.tracking_number)

asyncio.run(main())
"""


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,  # noqa: S603
                            input=stdin.encode(), capture_output=True, timeout=300)
    if result.returncode:
        output = (result.stdout + result.stderr).decode()
        pytest.fail(f"{' '.join(args[:4])} failed:\n{output[-3000:]}")
    return result.stdout.decode()


@pytest.fixture(scope="module")
def served(engine_name: str) -> Iterator[dict[str, Any]]:
    require_browser()
    var_dir = Path(tempfile.mkdtemp(prefix="casetracker-e2e-recs-"))
    try:
        with served_database(engine_name, var_dir) as database_url:
            env = {**os.environ, "CASETRACKER_VAR_DIR": str(var_dir),
                   "CASETRACKER_DATABASE_URL": database_url, "CASETRACKER_PDF_WORKERS": "0",
                   "CASETRACKER_REQUIRE_2FA_ROLES": "administrator",
                   "PICCOLO_CONF": "casetracker.piccolo_conf"}
            _run(["-m", "casetracker", "migrate"], env)
            for role, (email, name) in PEOPLE.items():
                _run(["-m", "casetracker", "users", "create", "--email", email, "--name", name,
                      "--role", role, "--password-stdin"], env, PASSWORD + "\n")
                # the pages are under test here, not the second factor (tested elsewhere)
                _run(["-m", "casetracker", "users", "role-2fa", role, "--relax"], env)
            agreement, designation, case, tracking = _run(["-c", WORLD], env).split()
            with serving(env) as base:
                yield {"base": base, "agreement": agreement, "designation": designation,
                       "case": case, "tracking": tracking}
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


async def _signed_in(chromium: Any, base: str, role: str, width: int) -> Any:
    context = await chromium.new_context(viewport={"width": width, "height": 900},
                                         locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("#email", PEOPLE[role][0])
    await page.fill("#password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard")
    return page


WIDER_THAN_THE_SCREEN = """() => {
    const page = document.documentElement.scrollWidth > window.innerWidth
        ? [`page ${document.documentElement.scrollWidth} > ${window.innerWidth}`] : [];
    return page.concat([...document.querySelectorAll('main *')]
        .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                      && !el.closest('.table-wrap'))
        .slice(0, 5).map(el => `${el.tagName}.${el.className}`));
}"""


@pytest.fixture(scope="module")
async def chromium(served: dict[str, Any]) -> AsyncIterator[Any]:
    """One headless Chromium for this module's tests; each signs in in contexts of its own
    (cookies, storage and cache are per context)."""
    async with launched_chromium() as browser:
        yield browser


@pytest.mark.parametrize("width", [375, 1280])
async def test_draft_approve_issue_in_the_browser(served: dict[str, Any], chromium: Any,
                                                 width: int) -> None:
    base = served["base"]
    page = await _signed_in(chromium, base, "oversight", width)
    await page.goto(f"{base}/recommendations/new?agreement_id={served['agreement']}"
                    "&kind=officers")
    assert await page.evaluate(WIDER_THAN_THE_SCREEN) == []
    await page.check(f"input[name=designation_ids][value='{served['designation']}']")
    await page.check(f"input[name=case_ids][value='{served['case']}']")
    await page.click("main button:has-text('Draft the recommendation')")
    await page.wait_for_load_state()
    draft = page.url
    await shot(page, f"recommendation-draft-{width}")
    assert await page.evaluate(WIDER_THAN_THE_SCREEN) == []
    main = await page.inner_text("main")
    assert "Public version" in main  # oversight staff cannot see complainants' identity
    assert "Montgomery County Sheriff's Office (TX)" in main
    assert "2020 JEM template text, as published by ICE" in main
    assert COMPLAINANT not in main

    # submitting without the summary: refused next to the field, nothing lost
    await page.fill("#grounds", "GROUNDS TYPED BEFORE THE MISTAKE.")
    await page.click("button[name=then][value=submit]")
    await page.wait_for_load_state()
    assert "Write the summary" in await page.inner_text("#summary-error")
    assert await page.input_value("#grounds") == "GROUNDS TYPED BEFORE THE MISTAKE."
    await page.fill("#summary", "The office asks ICE to revoke this officer's authority.")
    await page.click("button[name=then][value=submit]")
    await page.wait_for_load_state()
    assert "Saved and submitted for approval." in await page.inner_text("main")

    approver = await _signed_in(chromium, base, "supervisor", width)
    await approver.goto(draft)
    await shot(approver, f"recommendation-approval-{width}")
    assert await approver.evaluate(WIDER_THAN_THE_SCREEN) == []
    review = await approver.inner_text("main")
    assert "Every paragraph and its source" in review
    assert "Written by Olive Oversight" in review
    await approver.click("main button:has-text('Approve')")
    await approver.wait_for_load_state()
    assert "Approved." in await approver.inner_text("main")

    await page.goto(draft)
    await page.click("main button:has-text('Issue')")
    await page.wait_for_load_state()
    issued = await page.inner_text("main")
    assert "Issued as RR-" in issued
    number = issued.split("Issued as ", 1)[1].split(".", 1)[0]
    await shot(page, f"recommendation-issued-{width}")
    assert await page.evaluate(WIDER_THAN_THE_SCREEN) == []
    response = await page.request.get(f"{draft}/document.pdf")
    assert response.status == 200
    text = pdf_text(await response.body())
    assert number in text and "PUBLIC VERSION" in text.upper()
    assert squeezed("Montgomery County Sheriff's Office (TX), JEM") in squeezed(text)
    assert squeezed("Written by Olive Oversight.") in squeezed(text)
    assert COMPLAINANT not in text
