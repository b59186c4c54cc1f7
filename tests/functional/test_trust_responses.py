"""Every response: security headers on error answers too, one charset, honest units, CSV cells
that never run as formulas, the status-page receipt's 200, and a start-up that names a wrong
database setting in one line."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from typing import Any

import pytest

from casetracker.settings import configure
from casetracker.web.csv_safety import safe_cell
from tests.conftest import Browser, login_as
from tests.factories_cases_list import make_list_case

SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options",
                    "referrer-policy", "cache-control")


def assert_secured(response: Any) -> None:
    for name in SECURITY_HEADERS:
        assert name in response.headers, (response.status_code, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store" or response.status_code == 200


async def test_error_answers_carry_the_security_headers(browser: Browser, client: Any) -> None:
    not_found = await client.get("/no/such/page")
    assert not_found.status_code == 404
    wrong_method = await client.delete("/login")
    assert wrong_method.status_code == 405
    await browser.get("/login")
    no_token = await client.post("/login", data={"email": "a@example.org", "password": "x"})
    assert no_token.status_code == 403
    api_404 = await client.get("/api/v1/nothing-here")
    api_401 = await client.get("/api/v1/cases")
    assert api_401.status_code == 401
    page = await client.get("/login")
    for response in (not_found, wrong_method, no_token, api_404, api_401, page):
        assert_secured(response)


async def test_content_type_names_one_charset(browser: Browser, client: Any) -> None:
    await login_as(browser, "supervisor")
    await make_list_case(status="open")
    responses = [await browser.get("/cases/export.csv"), await browser.get("/dashboard"),
                 await client.get("/statistics.csv"), await client.get("/api/schema/openapi.json"),
                 await client.get("/no/such/page")]
    for response in responses:
        content_type = response.headers["content-type"]
        assert content_type.lower().count("charset") <= 1, content_type
    assert responses[0].headers["content-type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize("cell", [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
    "＝HYPERLINK(\"http://evil\")", "＋1", "－1", "＠SUM(A1)", "﹦1", "﹢1", "﹣1", "﹫x",
    "\u200b=1+1", "\u200d\u200c＝1", "\ufeff+1", "\u2060-1", "\u00ad@x", "\u202e=1",
    " =1", "\u3000＝1",
])
def test_formula_prefixes_are_neutralised_however_disguised(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Harlow", "María López", "CT-2026-0001", "1+1", "e-mail",
                                  "", "\u200bHarlow"])
def test_ordinary_cells_are_left_alone(cell: str) -> None:
    assert safe_cell(cell) == cell


async def test_the_case_export_neutralises_disguised_formulas(browser: Browser) -> None:
    await login_as(browser, "supervisor")
    await make_list_case(status="open", incident_city="\u200b＝HYPERLINK(\"http://evil\")")
    response = await browser.get("/cases/export.csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    cities = [row[rows[0].index("incident_city")] for row in rows[1:]]
    assert cities == ["'\u200b＝HYPERLINK(\"http://evil\")"]


async def test_the_status_page_receipt_answers_200(browser: Browser, client: Any,
                                                   settings: Any) -> None:
    configure(settings.replace(pdf_workers=0))
    filed = (await client.post("/api/v1/complaints", json={
        "narrative": "Stopped and asked for papers.", "incident_state": "TX"})).json()
    found = await browser.submit("/status", data={
        "tracking_number": filed["tracking_number"], "access_code": filed["access_code"]})
    assert found.status_code == 303
    response = await browser.client.get("/status/complaint/receipt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"


async def test_megabytes_mean_a_million_bytes_in_limits_and_messages(browser: Browser,
                                                                     settings: Any) -> None:
    from tests.factories_intake import complaint_fields, save_form

    configure(settings.replace(upload_max_file_mb=2))
    page = await browser.get("/complaint")
    assert "each up to 2 MB" in page.text
    over = b"%PDF-1.4\n" + b"0" * (2_000_001 - 9)
    response = await save_form(browser, {**complaint_fields(), "action": "review"},
                               files=[("files", ("big.pdf", over, "application/pdf"))])
    assert response.status_code == 422, response.status_code
    assert "2 MB" in response.text and "2.1 MB" not in response.text


def run_migrate(database_url: str, var_dir: str, command: str = "migrate"
                ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASETRACKER_DATABASE_URL": database_url,
           "CASETRACKER_VAR_DIR": var_dir, "CASETRACKER_PORT": "8197"}
    return subprocess.run([sys.executable, "-m", "casetracker", command],  # noqa: S603
                          capture_output=True, text=True, env=env, timeout=120, check=False)


async def test_a_wrong_database_setting_is_named_in_one_line(engine_name: str,
                                                             tmp_path: Any) -> None:
    from tests.conftest import PG_ADMIN_DSN

    if engine_name == "sqlite":
        cases = {"sqlite:////proc/no-such-dir/db.sqlite3": "CASETRACKER_DATABASE_URL",
                 "mysql://someone@127.0.0.1/db": "must start with sqlite:/// or postgresql://"}
    else:
        base = PG_ADMIN_DSN.rsplit("@", 1)[1].split("/")[0]  # host:port
        host = base.split(":")[0]
        cases = {f"postgresql://nobody_{os.getpid()}@{base}/postgres": 'role "nobody_',
                 f"postgresql://postgres@{host}:1/postgres": "Check the host and port",
                 f"postgresql://postgres@{base}/no_such_db_{os.getpid()}": "does not exist",
                 f"postgresql://postgres@{host}:port/db": "port in CASETRACKER_DATABASE_URL"}
    runs = [(url, expected, "migrate") for url, expected in cases.items()]
    first_url, first_expected = next(iter(cases.items()))
    runs.append((first_url, first_expected, "run"))  # the server never starts either
    results = await asyncio.gather(*(asyncio.to_thread(run_migrate, url, str(tmp_path), command)
                                     for url, _expected, command in runs))
    for (url, expected, _command), result in zip(runs, results, strict=True):
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1, (url, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("Error: "), (url, result.stderr)
        assert expected in lines[0] and "CASETRACKER_DATABASE_URL" in lines[0], lines[0]
