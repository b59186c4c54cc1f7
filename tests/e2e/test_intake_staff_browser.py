"""What the complainant adds later reaches staff, and staff land on pages they may see (issue 10),
in headless Chromium against the real app under uvicorn, on the engine under test:

- a complainant files, then on the status page adds a follow-up and changes a consent;
- a supervisor reads the follow-up's text on the case page ("From the complainant" and the
  timeline) and the dated consent change;
- intake starts triage, records an allegation and presses "Open an investigation": they land
  on a page they may see (200, the triage queue) with the message, never on "no such case".

Skips with the reason printed when Chromium or Playwright is missing, unless
CASETRACKER_TEST_REQUIRE_ALL is set."""

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

pytestmark = pytest.mark.e2e

PASSWORD = "intake-staff-e2e-password"
FOLLOW_UP = "The second deputy was called Smith; he kept my phone for an hour."


def _cli(args: list[str], env: dict[str, str], stdin: str = "") -> None:
    result = subprocess.run([sys.executable, "-m", "casetracker", *args],  # noqa: S603
                            cwd=ROOT, env=env, input=stdin.encode(), capture_output=True,
                            timeout=180)
    if result.returncode:
        output = (result.stdout + result.stderr).decode()
        pytest.fail(f"casetracker {' '.join(args)} failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def staff_site(engine_name: str) -> Iterator[str]:
    require_browser()
    var_dir = Path(tempfile.mkdtemp(prefix="casetracker-e2e-intake-staff-"))
    try:
        with served_database(engine_name, var_dir) as database_url:
            env = {**os.environ, "CASETRACKER_VAR_DIR": str(var_dir),
                   "CASETRACKER_DATABASE_URL": database_url,
                   "CASETRACKER_PDF_WORKERS": "0",
                   "CASETRACKER_PUBLIC_RATE_LIMIT_PER_HOUR": "1000",
                   "CASETRACKER_REQUIRE_2FA_ROLES": "administrator",
                   "PICCOLO_CONF": "casetracker.piccolo_conf"}
            _cli(["migrate"], env)
            for role, name in (("intake", "Iris Intake"), ("supervisor", "Sam Supervisor")):
                _cli(["users", "create", "--email", f"{role}@e2e.example.org", "--name", name,
                      "--role", role, "--password-stdin"], env, PASSWORD + "\n")
                # The second factor is tested elsewhere; here, what staff see.
                _cli(["users", "role-2fa", role, "--relax"], env)
            with serving(env) as base:
                yield base
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def chromium(staff_site: str) -> AsyncIterator[Any]:
    """One headless Chromium for this module's tests (started once: about a second or two each
    time on these machines); each test opens contexts of its own, with their own cookies,
    storage and cache."""
    async with launched_chromium() as browser:
        yield browser


async def sign_in(browser: Any, base: str, role: str, width: int = 1280) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("#email", f"{role}@e2e.example.org")
    await page.fill("#password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard")
    return page


async def file_and_follow_up(browser: Any, base: str) -> str:
    context = await browser.new_context(viewport={"width": 375, "height": 800},
                                        locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/complaint?lang=en")
    await page.fill("#narrative", "Stopped on Route 9 and asked for papers before my licence.")
    await page.fill("#name", "María López")
    await page.fill("#email", "maria@example.org")
    await page.check("input[name=consent_share_agency]")
    await page.click("main .submit-row button[value=review]")
    await page.wait_for_url("**/complaint/review**")
    await page.click("text=Send my complaint")
    await page.wait_for_url("**/complaint/sent**")
    number = (await page.text_content("#tracking-number") or "").strip()
    code = (await page.text_content("#access-code") or "").strip()
    await page.goto(f"{base}/status?lang=en")
    await page.fill("#tracking_number", number)
    await page.fill("#access_code", code)
    await page.click("main form button[type=submit]")
    await page.wait_for_url("**/status/complaint**")
    await page.fill("#message", FOLLOW_UP)
    await page.click("form[action^='/status/add'] button[type=submit]")
    await page.wait_for_url("**/status/complaint**")
    assert "We added this to your complaint" in await page.content()
    await page.check("input[name=share_ice][value=yes]")
    await page.click("text=Save my choices")
    await page.wait_for_url("**/status/complaint**")
    await shot(page, "status-after-consent")
    await context.close()
    return number


async def test_follow_up_and_consent_reach_staff_and_open_lands_on_a_page(
        staff_site: str, chromium: Any) -> None:
    base = staff_site
    number = await file_and_follow_up(chromium, base)

    supervisor = await sign_in(chromium, base, "supervisor")
    await supervisor.goto(f"{base}/cases")  # the only case
    await supervisor.click(f"a:has-text('{number}')")
    await supervisor.wait_for_url("**/cases/*")
    case_url = supervisor.url.split("#")[0]
    additions = await supervisor.text_content("#from-complainant") or ""
    assert FOLLOW_UP in additions
    assert FOLLOW_UP in (await supervisor.text_content("#timeline") or "")
    consent = " ".join((await supervisor.text_content("#consent-changes") or "").split())
    assert "agency yes, ICE/DHS yes (changed by the complainant on the status page)" in consent
    await shot(supervisor, "case-from-complainant")

    intake = await sign_in(chromium, base, "intake", width=375)
    await intake.goto(case_url)
    await intake.click("text=Start triage")
    await intake.wait_for_load_state()
    await intake.click("summary:has-text('Add an allegation')")
    await intake.select_option("#add_allegation-allegation_type", "unlawful_stop")
    await intake.click("form[action$='/allegations'] button[type=submit]")
    await intake.wait_for_load_state()
    response_codes: list[int] = []
    intake.on("response", lambda r: response_codes.append(r.status)
              if r.request.resource_type == "document" else None)
    await intake.click("form[action$='/open'] button[type=submit]")
    await intake.wait_for_load_state()
    assert intake.url.rstrip("/").endswith("/cases"), intake.url
    assert response_codes and response_codes[-1] == 200, response_codes
    body = await intake.content()
    assert "Investigation opened" in body and "There is no such case" not in body
    await shot(intake, "intake-after-open")
