"""The public site in headless Chromium: a phone-sized Spanish filing, the form without
JavaScript, and an axe-core scan of every public page.

Skips with the reason printed when Chromium, Playwright or axe-core is missing, unless
CASETRACKER_TEST_REQUIRE_ALL is set, in which case it fails. The app runs under uvicorn in a
subprocess on a free localhost port, on its own database of the engine under test.
Set CASETRACKER_E2E_SCREENSHOTS=<dir> to keep screenshots at 360 px and 1280 px.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REQUIRE_ALL, RUN_ID, _dsn_for, _pg_admin, _postgres_available
from tests.factories_intake import png_bytes

pytestmark = pytest.mark.e2e

E2E_DIR = Path(__file__).resolve().parent
ROOT = E2E_DIR.parent.parent
CHROMIUM = os.environ.get("CASETRACKER_CHROMIUM", "/usr/bin/chromium")
AXE_JS = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = os.environ.get("CASETRACKER_E2E_SCREENSHOTS", "")
TRACKING = re.compile(r"CT-[0-9A-Z]{4}-[0-9A-Z]{4}")


def unavailable(reason: str) -> None:
    print(f"\n[e2e] {reason}", file=sys.stderr)
    if REQUIRE_ALL:
        pytest.fail(reason)
    pytest.skip(reason)


def ensure_axe() -> str:
    """axe-core from the npm registry, installed into tests/e2e/node_modules once (under a
    lock: two pytest-xdist workers may ask at the same time)."""
    import fcntl

    with open(Path(tempfile.gettempdir()) / "casetracker-e2e-npm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _install_axe()


def _install_axe() -> str:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("axe-core is not installed and npm is missing")
        try:
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent"],  # noqa: S603
                           cwd=E2E_DIR, check=True, timeout=300, capture_output=True)
        except (subprocess.SubprocessError, OSError) as exc:
            unavailable(f"could not install axe-core with npm: {exc}")
    if not AXE_JS.exists():
        unavailable("axe-core is missing after npm install")
    return AXE_JS.read_text()


# The server process binds a free port itself and prints it: picking a port here and passing
# it on left a gap in which another process (a parallel run, another app) could take it, and
# /healthz might then answer from that other server.
SERVE = """
import socket, sys, uvicorn
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config("casetracker.app:create_app", factory=True, log_level="warning")
uvicorn.Server(config).run(sockets=[sock])
"""
STARTUP_SECONDS = 90  # imports and migrations on a loaded 2-core machine


def require_browser() -> None:
    """Chromium and Playwright, or the test is reported unavailable (a failure in CI)."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM}")
    try:
        import playwright  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed")


@contextmanager
def served_database(engine_name: str, var_dir: Path) -> Iterator[str]:
    """A database URL of the engine under test for a served app: a file in ``var_dir``, or a
    new PostgreSQL database, dropped afterwards (PostgreSQL unavailable: the test is reported
    unavailable, a failure in CI)."""
    if engine_name != "postgres":
        yield f"sqlite:///{var_dir / 'e2e.sqlite3'}"
        return
    if reason := asyncio.run(_postgres_available()):
        unavailable(reason)
    name = f"ct_e2e_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _dsn_for(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def server(engine_name: str) -> Iterator[str]:
    """The real app under uvicorn, migrated, on a free port, on the engine under test."""
    require_browser()
    var_dir = Path(tempfile.mkdtemp(prefix="casetracker-e2e-"))
    try:
        with served_database(engine_name, var_dir) as database_url:
            env = {**os.environ,
                   "CASETRACKER_VAR_DIR": str(var_dir),
                   "CASETRACKER_DATABASE_URL": database_url,
                   "CASETRACKER_PUBLIC_RATE_LIMIT_PER_HOUR": "1000",
                   "CASETRACKER_PDF_WORKERS": "0",
                   "PICCOLO_CONF": "casetracker.piccolo_conf"}
            subprocess.run([sys.executable, "-m", "casetracker", "migrate"],
                           cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
            with serving(env) as base:
                yield base
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """The app under uvicorn with ``env``, on a port it picks; yields its base URL once it
    answers /healthz, and stops it afterwards."""
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().decode().strip()
        if not first_line.isdigit():
            out = first_line + process.stdout.read().decode()
            pytest.fail(f"the app did not start:\n{out[-3000:]}")
        base = f"http://127.0.0.1:{first_line}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5):  # noqa: S310
                    break
            except OSError:
                if process.poll() is not None:
                    out = process.stdout.read().decode()
                    pytest.fail(f"the app did not start:\n{out[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(f"the app did not answer on /healthz in {STARTUP_SECONDS} s")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@asynccontextmanager
async def launched_chromium() -> AsyncIterator[Any]:
    """Headless Chromium (the test is reported unavailable when it will not start)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        try:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:
            unavailable(f"Chromium would not start: {exc}")
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(scope="module")
async def chromium(server: str) -> AsyncIterator[Any]:
    """One headless Chromium for this module's tests (started once: about a second or two each
    time on these machines); each test opens contexts of its own, with their own cookies,
    storage and cache."""
    async with launched_chromium() as browser:
        yield browser


async def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - test set-up, tiny
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def fill_spanish_complaint(page: Any, tmp_path: Path) -> None:
    await page.fill("#incident_day", "3")
    await page.select_option("#incident_month", "11")
    await page.fill("#incident_year", "2026")
    await page.fill("#incident_location", "Calle 5 y Avenida Central")
    await page.select_option("#incident_state", "TX")
    await page.check("input[name=incident_setting][value=traffic_stop]")
    await page.fill("#officer-0-name", "Agente Pérez")
    await page.fill("#officer-0-badge", "5521")
    await page.fill("#narrative", "Me detuvieron sin motivo y me pidieron los papeles "
                                  "porque hablo español. Mis hijos lloraban.")
    await page.check("input[name=checklist][value=questioned_status]")
    await page.check("input[name=protected][value=language]")
    await page.fill("#witness-0-name", "Rosa Díaz")
    photo = tmp_path / "foto.png"
    photo.write_bytes(png_bytes("orange"))
    await page.set_input_files("#files", str(photo))
    await page.check("input[name=complainant_role][value=victim]")
    await page.check("#anonymous")


async def test_spanish_complaint_on_a_phone(server: str, chromium: Any, tmp_path: Path) -> None:
    context = await chromium.new_context(viewport={"width": 360, "height": 740},
                                         locale="es-MX", is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(f"{server}/")
    assert await page.locator("html").get_attribute("lang") == "es"
    await page.click("text=Presentar una queja")
    await page.wait_for_selector("#narrative")
    # Nothing wider than the phone: no sideways scrolling.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    await shot(page, "complaint-es-360")
    await fill_spanish_complaint(page, tmp_path)
    await page.click("button.big[value=review]")
    await page.wait_for_selector("text=Revise sus respuestas")
    await shot(page, "review-es-360")
    await page.click("button[data-send-once]")
    await page.wait_for_selector("#tracking-number")
    assert "Recibimos su queja" in await page.content()
    number = await page.text_content("#tracking-number")
    assert number and TRACKING.fullmatch(number.strip())
    assert await page.text_content("#access-code")
    await shot(page, "confirmation-es-360")
    await context.close()


async def test_form_works_without_javascript(server: str, chromium: Any) -> None:
    context = await chromium.new_context(java_script_enabled=False,
                                         viewport={"width": 320, "height": 640})
    page = await context.new_page()
    await page.goto(f"{server}/complaint?lang=en")
    await page.fill("#officer-0-name", "First Officer")
    await page.click("text=Add another officer")
    await page.wait_for_selector("#officer-1-name")
    assert await page.input_value("#officer-0-name") == "First Officer"
    await page.click("button.big[value=review]")  # nothing typed in the narrative
    await page.wait_for_selector(".error-summary")
    assert await page.get_attribute("#narrative", "aria-invalid") == "true"
    await page.click(".error-summary a[href='#narrative']")
    await page.fill("#narrative", "Typed without JavaScript.")
    await page.click("button.big[value=review]")
    await page.wait_for_selector("text=Check your answers")
    await page.click("button[data-send-once]")
    await page.wait_for_selector("#tracking-number")
    await context.close()


async def axe_scan(page: Any, axe: str) -> list[dict[str, Any]]:
    await page.add_script_tag(content=axe)
    result = await page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


async def test_public_pages_pass_axe(server: str, chromium: Any, tmp_path: Path) -> None:
    axe = ensure_axe()
    problems: dict[str, list[dict[str, Any]]] = {}
    for width in (360, 1280):
        # CSP forbids inline scripts: bypass it only for the injected scanner.
        context = await chromium.new_context(viewport={"width": width, "height": 900},
                                             bypass_csp=True)
        page = await context.new_page()
        for lang in ("en", "es"):
            for path in ("/", "/complaint", "/status"):
                await page.goto(f"{server}{path}?lang={lang}")
                found = await axe_scan(page, axe)
                if found:
                    problems[f"{path}?lang={lang} @{width}"] = found
                await shot(page, f"{path.strip('/') or 'home'}-{lang}-{width}")
            # the form with errors, and the confirmation
            await page.goto(f"{server}/complaint?lang={lang}")
            await page.click("button.big[value=review]")
            await page.wait_for_selector(".error-summary")
            found = await axe_scan(page, axe)
            if found:
                problems[f"errors {lang} @{width}"] = found
            await shot(page, f"complaint-errors-{lang}-{width}")
            await page.fill("#narrative", "Scan me.")
            await page.click("button.big[value=review]")
            await page.wait_for_selector("button[data-send-once]")
            found = await axe_scan(page, axe)
            if found:
                problems[f"review {lang} @{width}"] = found
            await shot(page, f"review-{lang}-{width}")
            await page.click("button[data-send-once]")
            await page.wait_for_selector("#tracking-number")
            found = await axe_scan(page, axe)
            if found:
                problems[f"confirmation {lang} @{width}"] = found
            await shot(page, f"confirmation-{lang}-{width}")
            number = (await page.text_content("#tracking-number") or "").strip()
            code = (await page.text_content("#access-code") or "").strip()
            await page.goto(f"{server}/status?lang={lang}")
            await page.fill("#tracking_number", number)
            await page.fill("#access_code", code)
            await page.click("form button[type=submit]")
            await page.wait_for_selector("#add")
            found = await axe_scan(page, axe)
            if found:
                problems[f"status page {lang} @{width}"] = found
            await shot(page, f"status-found-{lang}-{width}")
            await page.goto(f"{server}/status?lang={lang}")
            await page.fill("#tracking_number", "CT-2345-6789")
            await page.fill("#access_code", "nope")
            await page.click("form button[type=submit]")
            await page.wait_for_selector(".error-summary")
            found = await axe_scan(page, axe)
            if found:
                problems[f"status error {lang} @{width}"] = found
        await context.close()
    assert not problems, problems
