"""Nothing a person types is lost, nothing is filed twice: the public complaint form in headless
Chromium, in English and Spanish, at 375 px and 1280 px (issue 10).

- Enter in every text box of the form never files (it leads to "Check your answers", or with
  JavaScript in an agency box, looks the agency up).
- The review page shows every answer; "Change" comes back with everything kept (files too).
- A double click on "Send my complaint" (without JavaScript, so the browser really posts
  twice), a reload of the confirmation and the back button file one complaint.
- An agency chosen from "Find agency" is the case's agency and starts the ICE clock.

The app runs under uvicorn on its own SQLite database (seeded with one agency holding an
active agreement, and its second spelling); the test reads that database to count cases.
"""

from __future__ import annotations

import os
import sqlite3
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
    serving,
    shot,
)
from tests.factories_intake import png_bytes

pytestmark = pytest.mark.e2e

SEED = """
import asyncio
from casetracker import db
from casetracker.settings import get_settings
from tests.factories_registry import make_agency, make_agreement

async def main():
    await db.open_database(get_settings())
    await make_agency("Harlow County Sheriff’s Office", state="FL")  # ICE's second spelling
    agency = await make_agency("Harlow County Sheriff's Office", state="FL")
    await make_agreement(agency, model="TFM")
    await make_agency("Harlow Police Department", state="GA")
    await db.close_database()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, Path]]:
    """The app's base URL and its database file."""
    require_browser()
    var_dir = Path(tempfile.mkdtemp(prefix="casetracker-e2e-review-"))
    database = var_dir / "e2e.sqlite3"
    env = {**os.environ,
           "CASETRACKER_VAR_DIR": str(var_dir),
           "CASETRACKER_DATABASE_URL": f"sqlite:///{database}",
           "CASETRACKER_PUBLIC_RATE_LIMIT_PER_HOUR": "1000",
           "CASETRACKER_PDF_WORKERS": "0",
           "PICCOLO_CONF": "casetracker.piccolo_conf"}
    python = sys.executable
    subprocess.run([python, "-m", "casetracker", "migrate"], cwd=ROOT, env=env, check=True,  # noqa: S603
                   capture_output=True, timeout=120)
    subprocess.run([python, "-c", SEED], cwd=ROOT, env=env, check=True,  # noqa: S603
                   capture_output=True, timeout=120)
    try:
        with serving(env) as base:
            yield base, database
    finally:
        import shutil

        shutil.rmtree(var_dir, ignore_errors=True)


def query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def case_count(database: Path) -> int:
    return query(database, "SELECT count(*) FROM ct_case")[0][0]


@pytest.fixture
async def chromium(site: tuple[str, Path]) -> AsyncIterator[Any]:
    # A Chromium per test in this module (the other browser modules share one): with one for
    # the whole module, the radios' layout check failed in two of five parallel runs on a
    # loaded machine (labels measured as if unstyled) and passed on its own; cause not found.
    async with launched_chromium() as browser:
        yield browser


WORDS = {
    "en": {"review": "Check your answers", "thanks": "We received your complaint",
           "traffic": "A traffic stop", "papers": "Asked about immigration status or papers",
           "found": "Found in our list of agencies."},
    "es": {"review": "Revise sus respuestas", "thanks": "Recibimos su queja",
           "traffic": "Una parada de tráfico",
           "papers": "Me preguntaron por mi estatus migratorio o mis papeles",
           "found": "Encontrada en nuestra lista de agencias."},
}
SIZES = [("en", 375), ("es", 375), ("en", 1280), ("es", 1280)]


async def fill_everything(page: Any, photo: Path) -> None:
    await page.select_option("#incident_month", "3")
    await page.fill("#incident_day", "14")
    await page.fill("#incident_year", "2026")
    await page.fill("#incident_time", "21:40")
    await page.fill("#incident_location", "Route 9 near the Shell station")
    await page.fill("#incident_city", "Harlow")
    await page.select_option("#incident_state", "FL")
    await page.check("input[name=incident_setting][value=traffic_stop]")
    await page.fill("#officer-0-name", "Daniel Reyes")
    await page.fill("#officer-0-badge", "4471")
    await page.fill("#officer-0-rank", "Deputy")
    await page.fill("#officer-0-description", "Tall, grey moustache")
    await page.fill("#officer-0-vehicle", "White SUV 212")
    await page.fill("#narrative", "They asked for my papers in front of my children.")
    await page.check("input[name=checklist][value=questioned_status]")
    await page.check("input[name=protected][value=language]")
    await page.fill("#harm", "I missed work.")
    await page.fill("#witness-0-name", "Ana Flores")
    await page.fill("#witness-0-contact", "555-0100")
    await page.set_input_files("#files", str(photo))
    await page.fill("#name", "María López")
    await page.fill("#email", "maria@example.org")
    await page.fill("#phone", "555 0199")
    await page.check("input[name=preferred_contact][value=email]")
    await page.fill("#safety_notes", "Do not call before 6 pm.")
    await page.check("input[name=consent_share_agency]")


@pytest.mark.parametrize(("lang", "width"), SIZES)
async def test_enter_in_every_text_box_never_files(site: tuple[str, Path], chromium: Any,
                                                   lang: str, width: int) -> None:
    base, database = site
    before = case_count(database)
    context = await chromium.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    await page.goto(f"{base}/complaint?lang={lang}")
    await page.fill("#narrative", "Enter must never send this.")
    await page.check("input[name=complainant_role][value=third_party]")  # shows every box
    await page.click("button.big[value=review]")  # a draft exists: its answers come back
    await page.wait_for_url("**/complaint/review**")
    await page.goto(f"{base}/complaint?lang={lang}")
    boxes = await page.eval_on_selector_all(
        "#complaint-form input[type=text]:not([tabindex='-1']), #complaint-form input[type=email],"
        " #complaint-form input[type=tel]", "els => els.map(e => e.id)")
    assert len(boxes) >= 15, boxes
    for box in boxes:
        await page.goto(f"{base}/complaint?lang={lang}")
        await page.fill(f"#{box}", "x" if box != "email" else "x@example.org")
        await page.press(f"#{box}", "Enter")
        await page.wait_for_load_state("load")
        assert "/complaint/sent" not in page.url, box
        # The review page, the form with its mistakes, or (an agency box) the suggestions.
        assert "/complaint" in page.url, (box, page.url)
    assert case_count(database) == before
    await shot(page, f"enter-{lang}-{width}")
    await context.close()


@pytest.mark.parametrize(("lang", "width"), SIZES)
async def test_review_change_send_reload_back_and_a_chosen_agency(
        site: tuple[str, Path], chromium: Any, tmp_path: Path, lang: str, width: int) -> None:
    base, database = site
    words = WORDS[lang]
    photo = tmp_path / "stop.png"
    photo.write_bytes(png_bytes("orange"))
    before = case_count(database)
    context = await chromium.new_context(viewport={"width": width, "height": 900},
                                         java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/complaint?lang={lang}")
    await fill_everything(page, photo)
    # "Find agency" without JavaScript: the typed text shows matching agencies, once each.
    await page.fill("#officer-0-agency", "harlow")
    await page.click("button[data-find-agency='0']")
    await page.wait_for_selector("input[name='officer-0-agency_choice']")
    labels = await page.locator(".suggestions label").all_text_contents()
    assert sum("Harlow County Sheriff" in label for label in labels) == 1, labels
    assert await page.input_value("#narrative")  # everything typed is still there
    await page.locator(".suggestions label", has_text="Harlow County Sheriff").click()
    await page.click("button.big[value=review]")
    await page.wait_for_url("**/complaint/review**")
    await shot(page, f"review-{lang}-{width}")
    review = await page.inner_text("main")
    for answer in ("Route 9 near the Shell station", "Harlow", "Florida", words["traffic"],
                   "Daniel Reyes", "4471", "Deputy", "Tall, grey moustache", "White SUV 212",
                   "Harlow County Sheriff's Office, FL", words["found"], words["papers"],
                   "They asked for my papers in front of my children.", "I missed work.",
                   "Ana Flores", "555-0100", "stop.png", "María López", "maria@example.org",
                   "555 0199", "Do not call before 6 pm."):
        assert answer in review, answer
    assert ("March 14, 2026" if lang == "en" else "14 de marzo de 2026") in review
    assert ("9:40 PM" if lang == "en" else "9:40 p.m.") in review
    # "Change": everything comes back, the chosen file and agency included.
    await page.click("a.change-link[href$='#s-officers']")
    await page.wait_for_selector("#officer-0-name")
    assert await page.input_value("#officer-0-name") == "Daniel Reyes"
    assert await page.input_value("#officer-0-agency") == "Harlow County Sheriff's Office, FL"
    assert await page.input_value("#witness-0-name") == "Ana Flores"
    assert await page.input_value("#safety_notes") == "Do not call before 6 pm."
    assert await page.is_checked("input[name=checklist][value=questioned_status]")
    assert "stop.png" in await page.inner_text("#kept-files")
    await page.fill("#harm", "I missed two days of work.")
    await page.click("button.big[value=review]")
    await page.wait_for_url("**/complaint/review**")
    assert case_count(database) == before
    # A double click (no JavaScript to stop it: the browser posts twice).
    await page.dblclick("button[data-send-once]")
    await page.wait_for_selector("#tracking-number")
    number = (await page.text_content("#tracking-number") or "").strip()
    assert words["thanks"] in await page.inner_text("main")
    await shot(page, f"confirmation-{lang}-{width}")
    await page.reload()
    await page.wait_for_selector("#tracking-number")
    assert (await page.text_content("#tracking-number") or "").strip() == number
    await page.go_back()
    await page.wait_for_load_state("load")
    await page.go_back()
    await page.wait_for_load_state("load")
    assert case_count(database) == before + 1
    rows = query(database, "SELECT agency, ice_notification_required, ice_notification_due_at,"
                           " harm FROM ct_case WHERE tracking_number = ?", number)
    agency_id = query(database, "SELECT id FROM agency WHERE name = ?",
                      "Harlow County Sheriff's Office")[0][0]
    assert rows[0][0] == agency_id and rows[0][1] and rows[0][2]
    assert rows[0][3] == "I missed two days of work."
    assert query(database, "SELECT count(*) FROM evidence_item e JOIN ct_case c ON "
                           'c.id = e."case" WHERE c.tracking_number = ?', number)[0][0] == 1
    await context.close()


async def test_radios_sit_on_their_labels_line_on_a_phone(site: tuple[str, Path],
                                                          chromium: Any) -> None:
    base, _database = site
    context = await chromium.new_context(viewport={"width": 375, "height": 900})
    page = await context.new_page()
    # Every stylesheet or script answer that was not a success, named if the check fails.
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda r: bad.append(f"failed {r.url}: {r.failure}"))
    for lang in ("en", "es"):
        await page.goto(f"{base}/complaint?lang={lang}")
        # The layout is measured once the stylesheet applies (a loaded machine has been seen
        # measuring before it did); a stylesheet that never applies still fails here.
        await page.wait_for_function(
            "getComputedStyle(document.querySelector('fieldset.radios label')).display"
            " === 'flex'", timeout=15_000)
        await page.fill("#officer-0-agency", "harlow")
        await page.click("button[data-find-agency='0']")
        await page.wait_for_selector(".suggestions")
        misplaced = await page.eval_on_selector_all(
            "fieldset.radios label, fieldset.checks label", """labels => labels.filter(l => {
                const box = l.querySelector('input'), text = l.querySelector('span');
                if (!box || !text || !l.offsetParent) return false;
                const b = box.getBoundingClientRect(), t = text.getBoundingClientRect();
                return !(t.left >= b.right && t.top < b.bottom && b.top < t.bottom);
            }).map(l => l.textContent.trim())""")
        assert not misplaced, (misplaced, bad)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375
        await shot(page, f"radios-{lang}-375")
    await context.close()
