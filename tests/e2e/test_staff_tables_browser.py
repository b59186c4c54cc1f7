"""Staff tables on a phone: the case list and the dashboard read as one card per case at 360 px,
with nothing wider than the screen, and stay ordinary tables at 1280 px.

Runs once per engine under test (CASETRACKER_TEST_ENGINES): the app runs under uvicorn in a
subprocess on a database seeded with ``casetracker cases seed``, and a supervisor signs in
through the real form (supervisors need no second factor unless CASETRACKER_REQUIRE_2FA_ROLES
says so; the server is started with the default). Skips with the reason printed when Chromium,
Playwright, axe-core or PostgreSQL is missing, unless CASETRACKER_TEST_REQUIRE_ALL is set, in
which case it fails. Set CASETRACKER_E2E_SCREENSHOTS=<dir> to keep screenshots.
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
    axe_scan,
    ensure_axe,
    launched_chromium,
    require_browser,
    served_database,
    serving,
    shot,
)

pytestmark = pytest.mark.e2e

SUPERVISOR_EMAIL = "supervisor@e2e.example.org"
SUPERVISOR_PASSWORD = "staff-tables-e2e-password"
SEEDED_CASES = "80"


def _run_cli(args: list[str], env: dict[str, str], stdin: str = "") -> None:
    result = subprocess.run([sys.executable, "-m", "casetracker", *args],  # noqa: S603
                            cwd=ROOT, env=env, input=stdin.encode(), capture_output=True,
                            timeout=180)
    if result.returncode:
        output = (result.stdout + result.stderr).decode()
        pytest.fail(f"casetracker {' '.join(args)} failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def staff_server(engine_name: str) -> Iterator[str]:
    """The real app under uvicorn on a seeded database of the engine under test."""
    require_browser()
    var_dir = Path(tempfile.mkdtemp(prefix="casetracker-e2e-staff-"))
    try:
        with served_database(engine_name, var_dir) as database_url:
            env = {**os.environ,
                   "CASETRACKER_VAR_DIR": str(var_dir),
                   "CASETRACKER_DATABASE_URL": database_url,
                   "CASETRACKER_PDF_WORKERS": "0",
                   "CASETRACKER_REQUIRE_2FA_ROLES": "administrator",
                   "PICCOLO_CONF": "casetracker.piccolo_conf"}
            _run_cli(["cases", "seed", "--count", SEEDED_CASES], env)  # migrates first
            _run_cli(["users", "create", "--email", SUPERVISOR_EMAIL, "--name",
                      "Sam Supervisor", "--role", "supervisor", "--password-stdin"], env,
                     SUPERVISOR_PASSWORD + "\n")
            # The tables are under test here, not the second factor (tested elsewhere).
            _run_cli(["users", "role-2fa", "supervisor", "--relax"], env)
            with serving(env) as base:
                yield base
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def browser(staff_server: str) -> AsyncIterator[Any]:
    """One headless Chromium for this module's tests (started once: about a second or two each
    time on these machines); each test opens contexts of its own, with their own cookies,
    storage and cache."""
    async with launched_chromium() as chromium:
        yield chromium


async def signed_in_page(browser: Any, base: str, width: int) -> tuple[Any, Any]:
    # CSP forbids inline scripts: bypass it only for the injected axe-core scanner.
    context = await browser.new_context(viewport={"width": width, "height": 800},
                                        bypass_csp=True, locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.fill("#email", SUPERVISOR_EMAIL)
    await page.fill("#password", SUPERVISOR_PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard")
    return context, page


# Widths that do not fit: the page itself, and any table box scrolling sideways inside it.
OVERFLOW = """() => {
    const page = document.documentElement.scrollWidth > window.innerWidth
        ? [`page ${document.documentElement.scrollWidth} > ${window.innerWidth}`] : [];
    const boxes = [...document.querySelectorAll('.table-wrap, table')]
        .filter(el => el.scrollWidth > el.clientWidth + 1)
        .map(el => `${el.tagName} ${el.id || el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
    return page.concat(boxes);
}"""

# Each card starts with the case link, in larger type than any other cell of the card (the
# bulk-selection box, when the reader may assign, sits at the card's corner beside it).
CARDS = """() => [...document.querySelectorAll('table.stack > tbody > tr')].flatMap((tr, i) => {
    const cells = [...tr.children].filter(td => !td.classList.contains('select'));
    const first = cells[0];
    const size = el => parseFloat(getComputedStyle(el).fontSize);
    const problems = [];
    if (!first.classList.contains('case-ref') || !first.querySelector('a[href^="/cases/"]'))
        problems.push(`row ${i}: the first cell is not the case link`);
    if (cells.slice(1).some(td => size(td) >= size(first)))
        problems.push(`row ${i}: the case link is not the largest text`);
    const top = first.getBoundingClientRect().bottom;
    if (cells.slice(1).some(td => td.getBoundingClientRect().top < top - 1))
        problems.push(`row ${i}: a cell sits beside the case link, not below it`);
    if (cells.slice(1).some(td => !td.dataset.label))
        problems.push(`row ${i}: a cell has no data-label`);
    return problems;
})"""


async def chromium_table_roles(context: Any, page: Any) -> set[str]:
    """Roles in Chromium's own accessibility tree: what a screen reader is given."""
    cdp = await context.new_cdp_session(page)
    tree = await cdp.send("Accessibility.getFullAXTree")
    await cdp.detach()
    return {str(node.get("role", {}).get("value")) for node in tree["nodes"]}


async def test_case_list_and_dashboard_fit_a_phone(staff_server: str, browser: Any) -> None:
    axe = ensure_axe()
    context, page = await signed_in_page(browser, staff_server, 360)
    for path in ("/cases", "/dashboard"):
        await page.goto(f"{staff_server}{path}")
        assert await page.locator("table.stack > tbody > tr").count() > 0, path
        await shot(page, f"staff{path.replace('/', '-')}-360")
        assert await page.evaluate(OVERFLOW) == [], path
        assert await page.evaluate(CARDS) == [], path
        # The header row is out of sight but still there for screen readers.
        head = await page.locator("table.stack > thead").first.bounding_box()
        assert head and head["width"] <= 1 and head["height"] <= 1, (path, head)
        roles = await chromium_table_roles(context, page)
        assert {"table", "row", "columnheader", "cell"} <= roles, (path, roles)
        assert await axe_scan(page, axe) == [], path
    await context.close()


async def test_case_list_and_dashboard_stay_tables_when_wide(staff_server: str,
                                                             browser: Any) -> None:
    context, page = await signed_in_page(browser, staff_server, 1280)
    for path in ("/cases", "/dashboard"):
        await page.goto(f"{staff_server}{path}")
        await shot(page, f"staff{path.replace('/', '-')}-1280")
        header = page.locator("table.stack thead th:not(.select)").first
        assert await header.is_visible(), path
        assert (await header.text_content() or "").strip() == "Case", path
        # One line per case: the case link and its status side by side.
        first_row = page.locator("table.stack > tbody > tr").first
        link_box = await first_row.locator("td:not(.select)").nth(0).bounding_box()
        status_box = await first_row.locator("td:not(.select)").nth(1).bounding_box()
        assert link_box and status_box and status_box["x"] > link_box["x"] + link_box["width"] - 1
        assert abs(status_box["y"] - link_box["y"]) < 1, path
    await context.close()


async def test_registry_lists_fit_a_phone(staff_server: str, browser: Any) -> None:
    axe = ensure_axe()
    context, page = await signed_in_page(browser, staff_server, 360)
    for path in ("/registry/agencies", "/registry/agreements", "/registry/officers"):
        await page.goto(f"{staff_server}{path}")
        assert await page.locator("table.stack > tbody > tr").count() > 1, path
        await shot(page, f"staff{path.replace('/', '-')}-360")
        assert await page.evaluate(OVERFLOW) == [], path
        labelled = await page.evaluate("""() => [...document.querySelectorAll(
            'table.stack > tbody > tr > td:not(.card-title)')].every(td => td.dataset.label)""")
        assert labelled, path
        assert await axe_scan(page, axe) == [], path
    await context.close()
