"""The whole staff path in a real browser, using only what each screen offers (no address or
id typed after the start page and sign-in): intake triages a complaint (links the officer the
complaint describes, chooses the agency with the picker's suggestions, records the
allegation, opens the investigation) → a supervisor assigns the lead → the investigator
recommends a finding and submits it → the supervisor reviews, records the final finding and
closes → oversight drafts a rescission recommendation from the case page and submits it → a
supervisor approves it → oversight issues it; the officer's registry page then says so.

Runs once per engine under test, against the app under uvicorn (a subprocess) with headless
Chromium. Set CASETRACKER_E2E_SCREENSHOTS=<dir> to keep screenshots at 1280 px and 375 px.
"""

from __future__ import annotations

import os
import re
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

pytestmark = pytest.mark.e2e

PASSWORD = "staff-path-e2e-password"
PEOPLE = {
    "intake": ("ines.intake@e2e.example.org", "Inés Intake"),
    "supervisor": ("sam.supervisor@e2e.example.org", "Sam Supervisor"),
    "investigator": ("ivan.investigator@e2e.example.org", "Ivan Investigator"),
    "oversight": ("olga.oversight@e2e.example.org", "Olga Oversight"),
}

# The registry and one complaint as the public form leaves it (the public form itself is
# walked in test_intake_browser.py).
WORLD = """
from casetracker.cli import with_database

@with_database
async def run():
    from casetracker import db
    await db.migrate_with_lock()
    from tests.factories_cases import make_case
    from tests.factories_registry import (make_agency, make_agreement, make_designation,
                                          make_officer)
    harlow = await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_agency("Harlan County Police Department", state="KY")
    jem = await make_agreement(harlow, model="JEM")
    await make_agreement(harlow, model="WSO")
    reyes = await make_officer(harlow, name="Daniel Reyes", badge_number="4471")
    await make_designation(reyes, jem)
    await make_designation(await make_officer(harlow, name="Maria Soto", badge_number="5120"),
                           jem)  # revoking one officer is then not revoking the agreement
    await make_case(status="received", context_287g="jail_screening", officers=[{
        "name": "Deputy Reyes", "badge_number": "4471", "agency_text": "Harlow sheriff",
        "description": "Tall, grey moustache"}])
    # The people, and no second factor for their roles (the path is under test here, not the
    # second factor, which is tested elsewhere).
    from casetracker.accounts.role_settings import set_required_roles
    from casetracker.auth.actor import Actor
    from tests.factories import make_user
    for role, (email, name) in PEOPLE.items():
        await make_user(role, email=email, name=name, password=PASSWORD, totp_enabled=False)
    await set_required_roles(Actor.system(), ["administrator"])

run()
"""


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> None:
    result = subprocess.run(args, cwd=ROOT, env=env, input=stdin.encode(),  # noqa: S603
                            capture_output=True, timeout=180)
    if result.returncode:
        output = (result.stdout + result.stderr).decode()
        pytest.fail(f"{' '.join(args[:4])} failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def staff_path_server(engine_name: str) -> Iterator[str]:
    require_browser()
    var_dir = Path(tempfile.mkdtemp(prefix="casetracker-e2e-path-"))
    try:
        with served_database(engine_name, var_dir) as database_url:
            env = {**os.environ, "CASETRACKER_VAR_DIR": str(var_dir),
                   "CASETRACKER_DATABASE_URL": database_url, "CASETRACKER_PDF_WORKERS": "0",
                   "PICCOLO_CONF": "casetracker.piccolo_conf"}
            _run([sys.executable, "-c",
                  f"PEOPLE = {PEOPLE!r}\nPASSWORD = {PASSWORD!r}\n{WORLD}"], env)
            with serving(env) as base:
                yield base
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def chromium(staff_path_server: str) -> AsyncIterator[Any]:
    """One headless Chromium for this module's tests (started once: about a second or two each
    time on these machines); each test opens contexts of its own, with their own cookies,
    storage and cache."""
    async with launched_chromium() as browser:
        yield browser


async def sign_in(browser: Any, base: str, role: str, width: int = 1280) -> tuple[Any, Any]:
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/login")  # the start page: the only address typed
    await page.fill("#email", PEOPLE[role][0])
    await page.fill("#password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard")
    return context, page


async def open_the_case(page: Any) -> None:
    """From the dashboard: the Cases tab, then the case's link in the list."""
    await page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Cases", exact=True).first.click()
    await page.locator("table a[href^='/cases/']").first.click()
    await page.wait_for_selector("h1:has-text('Case CT-')")


async def press(page: Any, name: str) -> None:
    try:
        await page.get_by_role("button", name=name, exact=True).first.click(timeout=15000)
    except Exception:
        await shot(page, f"staff-path-failed-{name}")
        raise
    await page.wait_for_load_state("load")


async def flash(page: Any) -> str:
    return " ".join(await page.locator(".flash").all_inner_texts())


async def test_the_whole_staff_path_to_an_issued_recommendation(
        staff_path_server: str, chromium: Any) -> None:
    base = staff_path_server

    # --- intake: triage ------------------------------------------------------------------
    context, page = await sign_in(chromium, base, "intake")
    await open_the_case(page)
    await press(page, "Start triage")
    assert "Triage started." in await flash(page)
    officer = page.locator("article.officer").first
    await officer.get_by_label(re.compile(r"^\s*Daniel Reyes \(badge 4471\)")).check()
    await officer.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_load_state("load")
    assert "Officer updated." in await flash(page)
    # The officer's agency came with them, and the only agreement of the model the complaint
    # describes (a jail screening: JEM) with it.
    assert "Jail Enforcement Model (active)" in await page.locator("#case-agreement").inner_text()
    # The agency picker with JavaScript: suggestions while typing, chosen with a click.
    box = page.locator("form[action$='/agency']").get_by_label("Agency", exact=True)
    await box.fill("")
    await box.type("harl", delay=60)
    suggestion = page.get_by_role("option", name=re.compile(r"Harlow County Sheriff's Office"))
    await suggestion.click()
    assert await box.input_value() == "Harlow County Sheriff's Office (FL)"
    await shot(page, "staff-path-1280-triage-picker")
    await press(page, "Save agency")
    assert "Agency saved." in await flash(page)
    await page.get_by_text("Add an allegation", exact=True).click()
    await page.select_option("#add_allegation-case_officer_id", label="Daniel Reyes (4471)")
    await page.select_option("#add_allegation-allegation_type", label="Racial profiling / bias")
    await page.select_option("#add_allegation-protected_characteristic", label="Ethnicity")
    await page.fill("#add_allegation-description", "Asked for papers before the licence.")
    await press(page, "Add allegation")
    await press(page, "Open an investigation")
    assert "Investigation opened." in await flash(page)
    await context.close()

    # --- supervisor: assign the lead ----------------------------------------------------------
    context, page = await sign_in(chromium, base, "supervisor")
    await open_the_case(page)
    await page.get_by_role("link", name="Assign a lead investigator").click()
    await page.get_by_label("Ivan Investigator").check()
    await press(page, "Assign and notify")
    assert "Ivan Investigator" in await page.locator("#lead").inner_text()
    await context.close()

    # --- investigator: recommend and submit -----------------------------------------------------
    context, page = await sign_in(chromium, base, "investigator")
    await open_the_case(page)
    allegation = page.locator("article.allegation").first
    await allegation.get_by_text("Record the recommended finding").click()
    await allegation.get_by_label("Finding", exact=True).select_option(label="Sustained")
    await allegation.get_by_label("Rationale").fill("The dashcam shows the questions first.")
    await press(page, "Save recommended finding")
    await press(page, "Submit findings for review")
    assert "Findings submitted for review." in await flash(page)
    await context.close()

    # --- supervisor: review, final finding, close ------------------------------------------------
    context, page = await sign_in(chromium, base, "supervisor")
    await open_the_case(page)
    await press(page, "Start review")
    allegation = page.locator("article.allegation").first
    await allegation.get_by_label("Final finding").select_option(label="Sustained")
    await press(page, "Record final finding")
    await page.get_by_role("link", name="Close the case", exact=True).click()  # then confirm
    await press(page, "Close the case")
    assert "Case closed." in await flash(page)
    await context.close()

    # --- oversight: draft the recommendation from the case page, submit it -----------------------
    context, page = await sign_in(chromium, base, "oversight")
    await open_the_case(page)
    await page.get_by_role("link", name="Draft a rescission recommendation for this officer"
                           ).click()
    await page.get_by_label(re.compile(r"Daniel Reyes")).check()
    for box in await page.locator("input[name=case_ids]").all():
        await box.check()
    await press(page, "Draft the recommendation")
    await page.fill("textarea[name=summary]",
                    "The office recommends revoking Daniel Reyes's delegated authority.")
    await press(page, "Save and submit for approval")
    await shot(page, "staff-path-1280-submitted")
    assert "Saved and submitted for approval." in await flash(page), (
        await page.locator("main").inner_text())[:3000]
    await context.close()

    # --- supervisor: approve -------------------------------------------------------------------
    context, page = await sign_in(chromium, base, "supervisor")
    await page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Recommendations", exact=True).first.click()
    await page.locator("table a[href^='/recommendations/']").first.click()
    await press(page, "Approve")
    await context.close()

    # --- oversight: issue ----------------------------------------------------------------------
    context, page = await sign_in(chromium, base, "oversight")
    await page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Recommendations", exact=True).first.click()
    await page.locator("table a[href^='/recommendations/']").first.click()
    await press(page, "Issue: assign the number and freeze the document")
    body = await page.locator("main").inner_text()
    assert re.search(r"RR-\d{4}-\d+", body), body[:2000]
    await shot(page, "staff-path-1280-issued")
    # The officer's registry page, reached from the case, says a recommendation was issued.
    await open_the_case(page)
    await shot(page, "staff-path-1280-case")
    await page.locator("#officers a[href^='/registry/officers/']").first.click()
    assert "has been issued" in await page.locator("#issued-recommendation").inner_text()
    await context.close()

    # --- the closed case on a phone: the contents list, each section one tap away -----------
    context, page = await sign_in(chromium, base, "supervisor", width=375)
    await open_the_case(page)
    await shot(page, "staff-path-375-case")
    await page.locator("#contents").get_by_role("link", name="Allegations and findings").click()
    assert page.url.endswith("#allegations")
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the case page is {overflow} px wider than a 375 px phone"
    await context.close()
