"""The case list page, the dashboard and the CSV export through the real app (both engines)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.audit.tables import AuditEvent
from casetracker.intake.tables import ComplainantContact
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_cases_list import make_list_case
from tests.factories_registry import make_agency, make_agreement, make_officer


async def test_list_page_filters_searches_and_is_audited(browser: Any) -> None:
    user = await login_as(browser, "supervisor")
    agency = await make_agency("Delta County Sheriff's Office", state="NC")
    await make_agreement(agency, model="TFM")
    wanted = await make_list_case(status="open", agency=agency,
                                  narrative="Me pararon por hablar español con mi hijo.")
    other = await make_list_case(status="closed", narrative="A parking dispute.")
    response = await browser.get("/cases")
    assert response.status_code == 200
    assert wanted.tracking_number in response.text and other.tracking_number in response.text
    response = await browser.get("/cases", params={"q": "espanol", "model": "TFM"})
    assert wanted.tracking_number in response.text
    assert other.tracking_number not in response.text
    assert "Delta County Sheriff&#39;s Office" in response.text
    assert f'href="/cases/{wanted.id}"' in response.text  # the case's own page
    event = await AuditEvent.select().where(AuditEvent.action == "case.list").order_by(
        AuditEvent.seq, ascending=False).first()
    details = json.loads(event["details"])
    assert event["actor_id"] == user.id
    assert details["filters"] == {"model": "TFM", "q": "espanol"}


async def test_bad_filters_are_explained_and_the_list_still_shows(browser: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_list_case()
    response = await browser.get("/cases", params={"received_from": "yesterday"})
    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in response.text
    assert case.tracking_number in response.text


async def test_list_pages_with_next_links_until_every_case_is_seen(browser: Any) -> None:
    await login_as(browser, "supervisor")
    made = [await make_list_case() for _ in range(7)]
    seen: list[str] = []
    url = "/cases?per_page=3"
    import re
    while url:
        response = await browser.get(url)
        assert response.status_code == 200
        seen += re.findall(r">(CT-T\d+)</a>", response.text)
        match = re.search(r'href="([^"]+)" rel="next"', response.text)
        url = match.group(1).replace("&amp;", "&") if match else ""
    assert seen == [c.tracking_number for c in reversed(made)]


async def test_investigator_sees_only_own_cases_and_cannot_export(browser: Any) -> None:
    user = await login_as(browser, "investigator")
    mine = await make_list_case(status="under_investigation", lead=user,
                                narrative="Estaba en el trabajo.")
    theirs = await make_list_case(status="under_investigation",
                                  lead=await make_user("investigator"),
                                  narrative="Estaba en el trabajo también.")
    response = await browser.get("/cases", params={"q": "trabajo"})
    assert mine.tracking_number in response.text
    assert theirs.tracking_number not in response.text
    response = await browser.get("/cases/export.csv")
    assert response.status_code == 403


async def test_list_queries_do_not_grow_with_the_page_size(browser: Any, monkeypatch: Any
                                                          ) -> None:
    await login_as(browser, "supervisor")
    agency = await make_agency()
    officers = [await make_officer(agency) for _ in range(3)]
    for n in range(60):
        await make_list_case(agency=agency, officers=officers[: 1 + n % 3],
                             allegations=[{"type": "force", "officer": officers[0]},
                                          {"type": "racial_profiling", "characteristic": "race"}],
                             notes=["una nota"])
    engine_class = type(db.current_engine())
    counted: list[str] = []
    original_querystring, original_ddl = engine_class.run_querystring, engine_class.run_ddl

    async def counting_querystring(self: Any, querystring: Any, *args: Any, **kwargs: Any
                                   ) -> Any:
        counted.append(str(querystring)[:80])
        return await original_querystring(self, querystring, *args, **kwargs)

    async def counting_ddl(self: Any, ddl: str, *args: Any, **kwargs: Any) -> Any:
        counted.append(ddl[:80])
        return await original_ddl(self, ddl, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting_querystring)
    monkeypatch.setattr(engine_class, "run_ddl", counting_ddl)
    await browser.get("/cases")  # warm per-process caches (role settings) first
    counts = {}
    for size in (10, 50):
        for params in ({}, {"q": "nota", "allegation_type": "force"}):
            counted.clear()
            response = await browser.get("/cases", params={"per_page": size, **params})
            assert response.status_code == 200
            assert response.text.count(">CT-T") == size
            counts[(size, bool(params))] = len(counted)
    monkeypatch.undo()
    assert counts[(10, False)] == counts[(50, False)]
    assert counts[(10, True)] == counts[(50, True)]
    assert counts[(10, False)] <= 12


async def test_officer_filter_from_the_registry_page_names_the_officer(browser: Any) -> None:
    await login_as(browser, "supervisor")
    agency = await make_agency("Foxtrot County Sheriff's Office", state="AZ")
    officer = await make_officer(agency, name="Robin Vasquez", badge_number="F-19")
    named = await make_list_case(status="open", agency=agency, officers=[officer])
    other = await make_list_case(status="open", agency=agency)
    page = await browser.get(f"/registry/officers/{officer.id}")
    assert f'href="/cases?officer_id={officer.id}"' in page.text  # "Cases naming this officer"
    page = await browser.get(f"/cases?officer_id={officer.id}")
    assert page.status_code == 200
    assert "Registry officer:" in page.text and "Robin Vasquez #F-19" in page.text
    assert f"/cases/{named.id}\"" in page.text and f"/cases/{other.id}\"" not in page.text
    assert f'name="officer_id" value="{officer.id}"' in page.text  # kept when filters change
    # the same by a typed name, kept in the field
    page = await browser.get("/cases", params={"officer": "vasquez"})
    assert 'value="vasquez"' in page.text
    assert f"/cases/{named.id}\"" in page.text and f"/cases/{other.id}\"" not in page.text


async def test_export_streams_the_filtered_rows_without_contact_details(browser: Any) -> None:
    await login_as(browser, "supervisor")
    agency = await make_agency("Echo County Sheriff's Office", state="AZ")
    officer = await make_officer(agency, name="Sam Rivera", badge_number="E-7")
    # one case with details, then more plain ones than two export batches, in the same filter
    first = await make_list_case(status="open", agency=agency, officers=[officer],
                                 allegations=[{"type": "racial_profiling",
                                               "characteristic": "national_origin"}],
                                 narrative="=HYPERLINK(\"http://evil\")")
    await ComplainantContact(case=first.id, name="Maria Lopez", email="maria@example.org",
                             phone="555-0100", address="1 Main St").save()
    from casetracker.cases.tables import Case

    base = datetime(2026, 6, 1, tzinfo=UTC)
    rows = [Case(tracking_number=f"CT-X{n:06d}", status="open", agency=agency.id,
                 received_at=base + timedelta(minutes=n), narrative="x")
            for n in range(1200)]
    for start in range(0, len(rows), 200):
        await Case.insert(*rows[start:start + 200])
    await make_list_case(status="closed", agency=agency)  # filtered out by state
    async with browser.client.stream("GET", "/cases/export.csv",
                                     params={"state": "open", "agency": agency.id}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        assert "content-length" not in response.headers  # streamed, not buffered
        text = (await response.aread()).decode("utf-8-sig")
    # httpx's ASGI transport gathers the body; the generator behind the response yields it
    # in pieces, one keyset batch at a time.
    from casetracker.auth.actor import Actor
    from casetracker.cases.listing import CaseFilters
    from casetracker.cases.listing_routes import csv_lines

    user = await make_user("supervisor")
    chunks = [c async for c in csv_lines(Actor.from_user(user),
                                         CaseFilters(states=("open",), agency_id=agency.id))]
    assert len(chunks) > 5
    assert b"".join(chunks).decode("utf-8-sig") == text
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == 1201
    assert {r["status"] for r in records} == {"open"}
    detailed = next(r for r in records if r["tracking_number"] == first.tracking_number)
    assert detailed["agency"] == "Echo County Sheriff's Office"
    assert detailed["officers"] == "Sam Rivera #E-7"
    assert detailed["allegation_types"] == "racial_profiling"
    assert detailed["protected_characteristics"] == "national_origin"
    for secret in ("Maria", "maria@example.org", "555-0100", "Main St", "HYPERLINK"):
        assert secret not in text
    event = await AuditEvent.select().where(AuditEvent.action == "case.export").first()
    assert json.loads(event["details"])["filters"] == {"agency_id": agency.id,
                                                       "states": ["open"]}


async def test_dashboard_sections(browser: Any) -> None:
    user = await login_as(browser, "supervisor")
    now = datetime.now(UTC)
    mine = await make_list_case(status="under_investigation", lead=user,
                                resolution_due_at=now + timedelta(days=40))
    queued = await make_list_case(status="open", resolution_due_at=now + timedelta(days=60))
    late = await make_list_case(status="in_triage", triage_due_at=now - timedelta(days=3),
                                resolution_due_at=now + timedelta(days=70))
    soon = await make_list_case(status="under_investigation", lead=await make_user(),
                                ice_notification_required=True,
                                ice_notification_due_at=now + timedelta(hours=20),
                                resolution_due_at=now + timedelta(days=70))
    done = await make_list_case(status="under_investigation", lead=await make_user(),
                                ice_notification_required=True,
                                ice_notification_due_at=now + timedelta(hours=20),
                                ice_notified_at=now, resolution_due_at=now + timedelta(days=70))
    response = await browser.get("/dashboard")
    assert response.status_code == 200
    html = response.text

    def section(title_id: str) -> str:
        start = html.index(f'id="{title_id}"')
        end = html.find("<section", start)
        return html[start:end if end > 0 else None]

    assert mine.tracking_number in section("my-cases-title")
    assert queued.tracking_number in section("unassigned-title")
    assert mine.tracking_number not in section("unassigned-title")
    overdue = section("overdue-title")
    assert late.tracking_number in overdue and "Triage" in overdue
    due_soon = section("due-soon-title")
    assert soon.tracking_number in due_soon and "ICE notification" in due_soon
    assert done.tracking_number not in html.split('id="my-cases-title"')[0]


async def test_dashboard_counts_overdue_cases_as_the_list_behind_it_shows(browser: Any
                                                                         ) -> None:
    await login_as(browser, "supervisor")
    now = datetime.now(UTC)
    # one case late on two clocks, one late on one, one on time
    await make_list_case(status="in_triage", triage_due_at=now - timedelta(days=3),
                         resolution_due_at=now - timedelta(days=1))
    await make_list_case(status="under_investigation", lead=await make_user(),
                         resolution_due_at=now - timedelta(days=2))
    await make_list_case(status="open", resolution_due_at=now + timedelta(days=30))
    html = (await browser.get("/dashboard")).text
    card = html[html.index('<div class="figure">', html.index("Unassigned")):]
    assert card.startswith('<div class="figure">2</div><a href="/cases?overdue=1">Overdue cases')
    assert "3 overdue deadlines" in card.split("</div>", 2)[1]
    listed = (await browser.get("/cases?overdue=1")).text
    assert len(set(re.findall(r'href="/cases/(\d+)"', listed))) == 2


async def test_dashboard_respects_visibility(browser: Any) -> None:
    user = await login_as(browser, "investigator")
    now = datetime.now(UTC)
    mine = await make_list_case(status="under_investigation", lead=user,
                                resolution_due_at=now - timedelta(days=1))
    other = await make_list_case(status="under_investigation", lead=await make_user(),
                                 resolution_due_at=now - timedelta(days=1))
    hidden_queue = await make_list_case(status="open")
    response = await browser.get("/dashboard")
    assert mine.tracking_number in response.text
    assert other.tracking_number not in response.text
    assert hidden_queue.tracking_number not in response.text


async def test_list_and_dashboard_speak_spanish(browser: Any) -> None:
    await login_as(browser, "supervisor")
    await make_list_case(status="open")
    headers = {"Accept-Language": "es"}
    response = await browser.get("/cases", headers=headers)
    assert "Mostrar casos" in response.text and "Buscar" in response.text
    response = await browser.get("/dashboard", headers=headers)
    assert "Cola sin asignar" in response.text
