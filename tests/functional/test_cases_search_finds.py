"""Search that finds (issue 11) through the real app, on both engines: a tracking number or a
legacy reference goes straight to its case; officers, agencies and (for those allowed)
witnesses are found; the page says how many cases match and shows an escaped, highlighted
snippet; saved lists in the navigation; previous as well as next pages."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from casetracker.cases import listing
from casetracker.cases.tables import Allegation, Witness
from tests.conftest import login_as
from tests.factories import make_user
from tests.factories_cases_list import make_list_case
from tests.factories_registry import make_agency, make_officer

TRACKING = re.compile(r">(CT-[A-Z0-9-]+|CPD-\d+)</a>")


def shown(text: str) -> list[str]:
    return TRACKING.findall(text)


def link(text: str, rel: str) -> str:
    match = re.search(rf'href="([^"]+)" rel="{rel}"', text)
    return match.group(1).replace("&amp;", "&") if match else ""


async def test_a_tracking_number_in_any_spelling_goes_to_its_case(browser: Any) -> None:
    await login_as(browser, "supervisor")
    case = await make_list_case(status="open", tracking_number="CT-QN2W-24K7",
                                narrative="Stopped on the way to work.")
    for typed in ("CT-QN2W-24K7", "QN2W-24K7", "qn2w24k7", " ct qn2w 24k7 "):
        response = await browser.get("/cases", params={"q": typed})
        assert response.status_code == 303, typed
        assert response.headers["location"] == f"/cases/{case.id}", typed
    legacy = await make_list_case(status="closed", tracking_number="CPD-1087236",
                                  legacy_source="chicago-cpdp", legacy_id="1087236")
    for typed in ("CPD-1087236", "cpd-1087236", "1087236"):
        response = await browser.get("/cases", params={"q": typed})
        assert response.headers.get("location") == f"/cases/{legacy.id}", typed


async def test_a_tracking_number_never_reveals_a_case_one_may_not_see(browser: Any) -> None:
    await login_as(browser, "investigator")
    hidden = await make_list_case(status="under_investigation", tracking_number="CT-ZZ22-33XX",
                                  lead=await make_user("investigator"))
    response = await browser.get("/cases", params={"q": "CT-ZZ22-33XX"})
    assert response.status_code == 200
    assert shown(response.text) == [] and f"/cases/{hidden.id}" not in response.text
    assert "0 cases match." in response.text


async def test_officers_agencies_and_witnesses_are_found(browser: Any, new_browser: Any
                                                         ) -> None:
    await login_as(browser, "supervisor")
    agency = await make_agency("Alamance County Sheriff's Office", state="NC")
    registry = await make_officer(agency, name="Terrence Holloway", badge_number="5521")
    typed = await make_list_case(
        status="open", narrative="He asked for my papers.",
        officers=[SimpleNamespace(name="Dep. Walker", badge_number="417", id=None)])
    linked = await make_list_case(status="open", narrative="Nothing about names.",
                                  officers=[SimpleNamespace(name="", badge_number="",
                                                            id=registry.id)])
    on_allegation = await make_list_case(status="open", narrative="Another stop.")
    await Allegation(case=on_allegation.id, officer=registry.id,
                     allegation_type="unlawful_stop").save()
    at_agency = await make_list_case(status="open", agency=agency, narrative="At the jail.")
    with_witness = await make_list_case(status="in_triage", narrative="My cousin saw it.")
    await Witness(case=with_witness.id, name="Rosalinda Quintanilla").save()

    async def found(q: str) -> set[str]:
        response = await browser.get("/cases", params={"q": q})
        assert response.status_code == 200, q
        return set(shown(response.text))

    assert await found("walker") == {typed.tracking_number}
    assert await found("417") == {typed.tracking_number}
    assert await found("holloway") == {linked.tracking_number, on_allegation.tracking_number}
    assert await found("5521") == {linked.tracking_number, on_allegation.tracking_number}
    assert await found("alamance") == {at_agency.tracking_number}
    assert await found("quintanilla") == {with_witness.tracking_number}

    # intake sees the case (it is in triage) but not by its witness's name
    intake = new_browser()
    await login_as(intake, "intake")
    response = await intake.get("/cases", params={"q": "quintanilla"})
    assert with_witness.tracking_number not in response.text
    response = await intake.get("/cases", params={"q": "cousin"})
    assert with_witness.tracking_number in response.text
    assert "Quintanilla" not in response.text


async def test_counts_and_escaped_highlighted_snippets(browser: Any) -> None:
    await login_as(browser, "supervisor")
    attack = await make_list_case(
        status="open",
        narrative='They said <script>alert("x")</script> no interprete '
                  '<img src=x onerror=alert(1)> was called.')
    await make_list_case(status="open", narrative="Pidieron un intérprete y no vino.")
    await make_list_case(status="open", narrative="Nothing to see.")
    response = await browser.get("/cases", params={"q": "interprete"})
    assert "2 cases match." in response.text
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    assert "&lt;img src=x onerror=alert" in response.text  # shown, as text
    assert "<mark>interprete</mark>" in response.text
    assert "<mark>intérprete</mark>" in response.text
    row = response.text.split(f">{attack.tracking_number}</a>", 1)[1].split("</td>", 1)[0]
    assert '<p class="snippet">' in row and "<mark>interprete</mark>" in row
    response = await browser.get("/cases", params={"q": "nothing"})
    assert "1 case matches." in response.text
    response = await browser.get("/cases", params={"state": "open"})
    assert "3 cases match." in response.text


async def test_past_the_cap_the_count_says_more_than(browser: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    monkeypatch.setattr(listing, "RANK_WINDOW", 3)
    await login_as(browser, "supervisor")
    for n in range(5):
        await make_list_case(status="open", narrative=f"Detenido en la carretera {n}.")
    assert "More than 3 cases match." in (await browser.get("/cases?state=open")).text
    assert "More than 3 cases match." in (await browser.get("/cases?q=detenido")).text


async def walk(browser: Any, url: str) -> tuple[list[str], list[str]]:
    """Every page forwards with "Next page", then back with "Previous page"."""
    pages: list[list[str]] = []
    while url:
        text = (await browser.get(url)).text
        pages.append(shown(text))
        last, url = text, link(text, "next")
    back: list[list[str]] = [pages[-1]]
    url = link(last, "prev")
    while url:
        text = (await browser.get(url)).text
        back.append(shown(text))
        url = link(text, "prev")
    forwards = [t for page in pages for t in page]
    backwards = [t for page in reversed(back) for t in page]
    return forwards, backwards


async def test_previous_and_next_pages_walk_the_same_order(browser: Any, monkeypatch: Any
                                                           ) -> None:
    await login_as(browser, "supervisor")
    made = [await make_list_case(status="open", narrative=f"Papeles {'otra vez ' * n}")
            for n in range(8)]
    forwards, backwards = await walk(browser, "/cases?per_page=3")
    assert forwards == [c.tracking_number for c in reversed(made)]
    assert backwards == forwards
    forwards, backwards = await walk(browser, "/cases?per_page=3&sort=due_asc")
    assert sorted(forwards) == sorted(c.tracking_number for c in made) and backwards == forwards
    # ranked search: best match among the newest RANK_WINDOW, then older ones newest first
    monkeypatch.setattr(listing, "RANK_WINDOW", 4)
    forwards, backwards = await walk(browser, "/cases?per_page=3&q=papeles")
    assert sorted(forwards) == sorted(c.tracking_number for c in made)
    assert forwards[4:] == [c.tracking_number for c in reversed(made[:4])]
    assert backwards == forwards


async def test_saved_lists_appear_in_my_navigation_only(browser: Any, new_browser: Any) -> None:
    await login_as(browser, "supervisor")
    wanted = await make_list_case(status="open", narrative="Perfilado racial en Texas.")
    response = await browser.submit(
        "/cases?state=open&q=perfilado", "/cases/saved",
        data={"name": "  Open profiling  ", "query": "state=open&q=perfilado&cursor=abc"})
    assert response.status_code == 303
    page = await browser.get("/cases")
    assert 'href="/cases?state=open&amp;q=perfilado">Open profiling</a>' in page.text
    response = await browser.get("/cases?state=open&q=perfilado")
    assert wanted.tracking_number in response.text
    response = await browser.submit("/cases", "/cases/saved", data={"name": "", "query": ""})
    assert response.status_code == 303
    assert "Give this list a name." in (await browser.get(response.headers["location"])).text

    other = new_browser()
    await login_as(other, "supervisor")
    assert "Open profiling" not in (await other.get("/cases")).text

    match = re.search(r'action="(/cases/saved/\d+/remove)"', page.text)
    assert match
    response = await other.submit("/cases", match.group(1))
    assert response.status_code == 404  # someone else's saved list
    response = await browser.submit("/cases", match.group(1))
    assert response.status_code == 303
    page = await browser.get("/cases")
    assert "Removed the saved list “Open profiling”." in page.text
    assert "Open profiling</a>" not in page.text
