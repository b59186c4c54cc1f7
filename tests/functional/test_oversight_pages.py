"""The oversight pages as people use them: the dashboard and its links, flags acknowledged
with a note (audited), the PDF report, and the public statistics with suppression."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from casetracker.settings import configure
from tests.conftest import Browser, login_as
from tests.integration.test_oversight_services import build_world
from tests.pdf import pdf_layout_text


def squeezed_text(text: str) -> str:
    return " ".join(text.split())

PERIOD = "from=2024-01-01&to=2024-12-31"


async def test_dashboard_shows_figures_charts_and_links(settings: Any, browser: Browser) -> None:
    await build_world()
    await login_as(browser, "oversight")
    r = await browser.get(f"/oversight?{PERIOD}")
    assert r.status_code == 200, r.text[:500]
    html = r.text
    # the charts are drawn without script (the only script is the pickers' enhancement)
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert html.count("<svg") >= 3 and "<script" not in main
    # every figure links to the cases behind it
    assert ('/cases?received_from=2024-01-01&amp;received_to=2024-12-31&amp;'
            'allegation_type=racial_profiling') in html
    assert "state=closed" in html and "overdue=1" in html
    assert "/cases?received_from=2024-02-01&amp;received_to=2024-02-29" in html  # a month
    assert "33.3%" in html  # closed without a merits finding: 1 of 3
    assert "50.0%" in html  # sustained rate, profiling
    assert "Bravo County Sheriff" in html and "WSO: no oversight mechanism" in html
    # scope filter
    r = await browser.get(f"/oversight?{PERIOD}&state=FL")
    assert r.status_code == 200
    bad = await browser.get("/oversight?from=2024-13-01")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text


async def test_dashboard_needs_the_oversight_permission(settings: Any, browser: Browser) -> None:
    await login_as(browser, "investigator")
    assert (await browser.get("/oversight")).status_code == 403
    assert (await browser.get("/oversight/flags")).status_code == 403


async def test_flags_are_listed_and_acknowledged_with_a_note(settings: Any,
                                                             browser: Browser) -> None:
    from casetracker.audit.tables import AuditEvent

    w = await build_world()
    await login_as(browser, "oversight")
    page = "/oversight/flags?as_of=2024-12-31"
    r = await browser.get(page)
    assert r.status_code == 200
    assert w["o1"].name in r.text and "Alpha County Sheriff" in r.text
    assert r.text.count('type="hidden" name="flag_key"') == 4
    key = r.text.split('name="flag_key" value="', 1)[1].split('"', 1)[0]
    empty = await browser.submit(page, "/oversight/flags/acknowledge",
                                 data={"flag_key": key, "as_of": "2024-12-31", "note": " "})
    assert empty.status_code == 422 and "Describe the intervention" in empty.text
    done = await browser.submit(page, "/oversight/flags/acknowledge",
                                data={"flag_key": key, "as_of": "2024-12-31",
                                      "note": "Removed from 287(g) duties pending review."})
    assert done.status_code == 303
    r = await browser.get(page)
    # the acknowledged flag left the open list
    assert r.text.count('type="hidden" name="flag_key"') == 3
    r = await browser.get(page + "&show=all")
    assert "Removed from 287(g) duties pending review." in r.text
    event = await AuditEvent.select().where(
        AuditEvent.action == "oversight.flag.acknowledge").first()
    assert event is not None and key in event["details"]


async def test_rules_can_be_changed(settings: Any, browser: Browser) -> None:
    await build_world()
    await login_as(browser, "oversight")
    r = await browser.get("/oversight/flags/rules")
    assert r.status_code == 200
    from casetracker.oversight.flag_services import load_rules

    data: dict[str, str] = {}
    for rule in await load_rules():
        data[f"{rule.key}__window_days"] = str(rule.window_days)
        data[f"{rule.key}__warning_at"] = str(rule.warning_at)
        data[f"{rule.key}__critical_at"] = str(rule.critical_at)
        if rule.enabled:
            data[f"{rule.key}__enabled"] = "1"
    data["officer_complaints__warning_at"] = "9"
    bad = await browser.submit("/oversight/flags/rules", data=data)
    assert bad.status_code == 422  # warning above critical (5)
    data["officer_complaints__critical_at"] = "10"
    ok = await browser.submit("/oversight/flags/rules", data=data)
    assert ok.status_code == 303
    r = await browser.get("/oversight/flags?as_of=2024-12-31")
    # 3 complaints no longer reach a warning
    assert r.text.count('type="hidden" name="flag_key"') == 3


async def test_oversight_pdf_contains_the_figures(settings: Any, browser: Browser) -> None:
    configure(settings.replace(pdf_workers=0))
    await build_world()
    await login_as(browser, "oversight")
    r = await browser.get(f"/oversight/report.pdf?{PERIOD}")
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "application/pdf"
    text = pdf_layout_text(r.content)
    assert "Oversight report" in text and "2024-01-01" in text
    assert "33.3%" in text and "50.0%" in text and "40.0%" in text  # merits, profiling, 90 days
    assert "151" in text  # 90th percentile days to disposition
    assert "Alpha County Sheriff" in text  # appendix: agencies with activity, one by one
    # Bravo had no activity: counted with the others, not given a line of its own
    assert "Bravo County Sheriff" not in text
    assert "had no oversight activity in the period" in squeezed_text(text)
    # flags in words, never the rule's code
    assert "officer_sustained_profiling" not in text
    assert "sustained racial-profiling allegations in the" in squeezed_text(text)


def _numbers(stats_json: dict[str, Any]) -> list[tuple[Any, bool]]:
    out = []
    for table in stats_json["tables"]:
        out += [(row["count"], row["suppressed"]) for row in table["rows"]]
        out.append((table["total"], table["total_suppressed"]))
    return out


async def test_public_statistics_suppress_small_counts_everywhere(settings: Any,
                                                                  new_browser: Any) -> None:
    w = await build_world()
    public = new_browser()
    r = await public.get("/statistics")
    assert r.status_code == 200 and "Complaint statistics" in r.text
    assert "&lt;5" in r.text
    es = await public.get("/statistics?lang=es")
    assert "Estadísticas de quejas" in es.text
    for year in ("", "?year=2024", "?year=2023"):
        page = await public.get("/statistics" + year)
        data = json.loads((await public.get("/statistics.json" + year)).text)
        raw_csv = (await public.get("/statistics.csv" + year)).text
        for value, suppressed in _numbers(data):
            assert suppressed == (value is None)
            assert value is None or value == 0 or value >= 5, (year, value)
        for table in data["tables"]:
            withheld = [row for row in table["rows"] if row["suppressed"]]
            assert not (len(withheld) == 1 and table["total"] is not None), table
        rows = list(csv.DictReader(io.StringIO(raw_csv)))
        assert rows
        for row in rows:
            if row["suppressed"] == "1":
                assert row["count"] == ""
            else:
                assert int(row["count"]) == 0 or int(row["count"]) >= 5, row
        for cell in re.findall(r'<td class="num">(.*?)</td>', page.text, flags=re.S):
            if "&lt;5" in cell:
                continue
            number = int(cell.replace(",", "").strip())
            assert number == 0 or number >= 5, (year, cell)
        for text in (page.text, raw_csv, json.dumps(data)):
            assert w["o1"].name not in text
    # all years: Alpha has 5 complaints (published), Charlie 1 and "no agency" 1 (withheld)
    data = json.loads((await public.get("/statistics.json")).text)
    by_agency = {r["label"]: r["count"] for r in data["tables"][1]["rows"]}
    assert by_agency["Alpha County Sheriff (TX)"] == 5
    assert by_agency["Charlie Police (TX)"] is None
    assert data["tables"][1]["total"] == 7
    # 2024: Alpha 4 and "no agency" 1 are both withheld, the total of 5 is published
    data = json.loads((await public.get("/statistics.json?year=2024")).text)
    assert [r["count"] for r in data["tables"][1]["rows"]] == [None, None]
    assert data["tables"][1]["total"] == 5
