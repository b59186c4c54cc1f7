"""Case list filters, keyset pagination and visibility on hand-made data (both engines)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from casetracker.auth.actor import Actor
from casetracker.cases import listing
from casetracker.errors import ValidationFailed
from tests.factories import make_user
from tests.factories_cases_list import make_list_case
from tests.factories_registry import make_agency, make_agreement, make_officer


def actor_for(user: Any) -> Actor:
    return Actor.from_user(user)


async def build_world() -> dict[str, Any]:
    now = datetime.now(UTC)
    w: dict[str, Any] = {}
    w["agency_a"] = a = await make_agency("Alpha County Sheriff's Office", state="TX")
    w["agency_b"] = b = await make_agency("Bravo County Sheriff's Office", state="FL")
    w["agency_c"] = c = await make_agency("Charlie Police Department", state="GA",
                                          kind="municipality")
    w["jem_a"] = await make_agreement(a, model="JEM")
    await make_agreement(b, model="TFM")
    await make_agreement(c, model="WSO")
    w["o1"] = o1 = await make_officer(a, name="Dana Ortiz", badge_number="A-11")
    w["o2"] = o2 = await make_officer(b, name="Lee Brown", badge_number="B-22")
    w["inv1"] = inv1 = await make_user("investigator")
    w["inv2"] = inv2 = await make_user("investigator")
    w["supervisor"] = await make_user("supervisor")
    w["intake"] = await make_user("intake")
    w["c1"] = await make_list_case(
        status="received", agency=a, agreement=w["jem_a"], officers=[o1],
        allegations=[{"type": "racial_profiling", "characteristic": "ethnicity", "officer": o1}],
        narrative="José Pérez fue detenido en la carretera sin motivo.",
        received_at=datetime(2026, 1, 10, 15, tzinfo=UTC),
        resolution_due_at=now + timedelta(days=60))
    w["c2"] = await make_list_case(
        status="under_investigation", agency=b, lead=inv1,
        allegations=[{"type": "force", "officer": o2}],
        narrative="The deputy pushed me against the car.",
        received_at=datetime(2026, 2, 10, 15, tzinfo=UTC),
        resolution_due_at=now - timedelta(days=2))
    w["c3"] = await make_list_case(
        status="closed", agency=c, lead=inv2, allegations=[{"type": "search"}],
        protected_characteristics=["language"],
        narrative="They searched my bag at the jail.",
        received_at=datetime(2026, 3, 10, 15, tzinfo=UTC),
        resolution_due_at=now - timedelta(days=5), resolved_at=now - timedelta(days=6))
    w["c4"] = await make_list_case(
        status="in_triage", narrative="Detención en la cárcel del condado.",
        notes=["El oficial sólo habló en inglés durante la entrevista."],
        received_at=datetime(2026, 4, 10, 15, tzinfo=UTC),
        triage_due_at=now + timedelta(days=1), resolution_due_at=now + timedelta(days=80))
    return w


async def ids(actor: Actor, **params: Any) -> list[int]:
    filters, errors = listing.parse_filters(params)
    assert errors == {}
    page = await listing.fetch_page(actor, filters, page_size=100)
    return [row["id"] for row in page.rows]


def case_ids(w: dict[str, Any], *names: str) -> list[int]:
    return [w[n].id for n in names]


async def test_each_filter_returns_exactly_the_expected_cases(settings: Any) -> None:
    w = await build_world()
    sup = actor_for(w["supervisor"])
    # newest first by default
    assert await ids(sup) == case_ids(w, "c4", "c3", "c2", "c1")
    assert await ids(sup, state="received") == case_ids(w, "c1")
    assert await ids(sup, state=["received", "closed"]) == case_ids(w, "c3", "c1")
    assert await ids(sup, agency=str(w["agency_a"].id)) == case_ids(w, "c1")
    assert await ids(sup, model="JEM") == case_ids(w, "c1")
    # the oversight dashboard's state scope links here with agency_state
    assert await ids(sup, agency_state="FL") == case_ids(w, "c2")
    assert await ids(sup, agency_state="tx") == case_ids(w, "c1")
    assert listing.parse_filters({"agency_state": "Texas"})[1] == {
        "agency_state": "Enter a two-letter state code, such as TX."}
    assert await ids(sup, model="TFM") == case_ids(w, "c2")  # via the agency's agreement
    assert await ids(sup, model="WSO") == case_ids(w, "c3")
    assert await ids(sup, officer_id=str(w["o1"].id)) == case_ids(w, "c1")
    assert await ids(sup, officer_id=str(w["o2"].id)) == case_ids(w, "c2")  # via the allegation
    assert await ids(sup, investigator=str(w["inv1"].id)) == case_ids(w, "c2")
    assert await ids(sup, investigator="none") == case_ids(w, "c4", "c1")
    assert await ids(sup, allegation_type="force") == case_ids(w, "c2")
    assert await ids(sup, characteristic="ethnicity") == case_ids(w, "c1")
    assert await ids(sup, characteristic="language") == case_ids(w, "c3")  # from the form
    assert await ids(sup, received_from="2026-02-01", received_to="2026-03-10") == \
        case_ids(w, "c3", "c2")
    assert await ids(sup, overdue="1") == case_ids(w, "c2")
    assert await ids(sup, model="JEM", state="closed") == []
    assert await ids(sup, sort="received_asc") == case_ids(w, "c1", "c2", "c3", "c4")
    assert (await ids(sup, sort="due_asc"))[:2] == case_ids(w, "c3", "c2")


@pytest.mark.parametrize("mode", ["few cases: collected", "many cases: the list walked",
                                  "too many registry officers: joined"])
async def test_officer_filter_takes_a_typed_name_or_badge(settings: Any, monkeypatch: Any,
                                                          mode: str) -> None:
    from types import SimpleNamespace

    if mode.startswith("many"):  # every typed name counts as naming many cases
        monkeypatch.setattr(listing, "OFFICER_WALK_MIN", 0)
        monkeypatch.setattr(listing, "OFFICER_WALK_FACTOR", 0.0)
    elif mode.startswith("too many"):
        monkeypatch.setattr(listing, "OFFICER_ID_LIMIT", 0)
    w = await build_world()
    sup = actor_for(w["supervisor"])
    # a complaint naming an officer the registry does not know (typed, not linked)
    w["c5"] = await make_list_case(
        status="received", narrative="Stopped outside the store.",
        officers=[SimpleNamespace(name="Deputy Kowalski", badge_number="771")],
        received_at=datetime(2026, 5, 10, 15, tzinfo=UTC))
    w["c6"] = await make_list_case(
        status="received", narrative="Stopped at the jail.",
        officers=[SimpleNamespace(name="JOSÉ NÚÑEZ", badge_number="")],
        received_at=datetime(2026, 6, 10, 15, tzinfo=UTC))
    assert await ids(sup, officer="núñez") == case_ids(w, "c6")  # beyond ASCII, both engines
    assert await ids(sup, officer="ortiz") == case_ids(w, "c1")  # linked, by registry name
    assert await ids(sup, officer="ORTIZ, DANA") == case_ids(w, "c1")  # words in any order
    assert await ids(sup, officer="#B-22") == case_ids(w, "c2")  # only via an allegation
    assert await ids(sup, officer="kowalski") == case_ids(w, "c5")  # as typed by the public
    assert await ids(sup, officer="Badge No. 771") == case_ids(w, "c5")
    assert await ids(sup, officer="brown 771") == []
    assert await ids(sup, officer="owalski") == []  # words are matched from their start
    assert await ids(sup, officer="rtiz") == []
    assert await ids(sup, officer="100%_") == []
    filters, _errors = listing.parse_filters({"officer": " Dana   Ortiz "})
    assert (filters.officer_id, filters.officer_text) == (None, "Dana Ortiz")
    assert filters.query_params() == [("officer", "Dana Ortiz")]
    # digits typed are a badge, never a registry id
    filters, _errors = listing.parse_filters({"officer": str(w["o1"].id)})
    assert (filters.officer_id, filters.officer_text) == (None, str(w["o1"].id))
    assert await ids(sup, officer="771") == case_ids(w, "c5")
    assert listing.parse_filters({"officer_id": "\u00b2"})[1] == {
        "officer_id": "Choose a value from the list."}
    assert listing.officer_words("Dep. Walker, #417") == ["dep.", "walker", "417"]


async def test_search_finds_narratives_and_notes_without_accents(settings: Any) -> None:
    w = await build_world()
    sup = actor_for(w["supervisor"])
    assert await ids(sup, q="jose perez") == case_ids(w, "c1")
    assert await ids(sup, q="JOSÉ") == case_ids(w, "c1")
    assert await ids(sup, q="ingles") == case_ids(w, "c4")  # in a note
    assert await ids(sup, q="detencion") == case_ids(w, "c4")
    assert await ids(sup, q='"pushed me"') == case_ids(w, "c2")
    assert await ids(sup, q="jail or carretera", sort="received_desc") == case_ids(w, "c3", "c1")
    assert await ids(sup, q="en -carretera") == case_ids(w, "c4")
    assert await ids(sup, q="nothing-like-this") == []
    assert await ids(sup, q='"; DROP TABLE ct_case; --') == []
    # search combines with the other filters
    assert await ids(sup, q="jail", state="received") == []


async def test_investigators_and_intake_see_only_their_cases(settings: Any) -> None:
    w = await build_world()
    inv1 = actor_for(w["inv1"])
    assert await ids(inv1) == case_ids(w, "c2")
    assert await ids(inv1, q="jose") == []
    assert await ids(inv1, q="pushed") == case_ids(w, "c2")
    assert await ids(actor_for(w["intake"])) == case_ids(w, "c4", "c1")
    rows = [row async for row in listing.iter_rows(inv1, listing.CaseFilters())]
    assert [r["id"] for r in rows] == case_ids(w, "c2")


async def test_rows_carry_officers_allegations_and_clocks(settings: Any) -> None:
    w = await build_world()
    page = await listing.fetch_page(actor_for(w["supervisor"]), listing.CaseFilters())
    by_id = {row["id"]: row for row in page.rows}
    c1 = by_id[w["c1"].id]
    assert c1["agency_name"] == "Alpha County Sheriff's Office"
    assert c1["agreement_model"] == "JEM"
    assert [o["registry_name"] for o in c1["officers"]] == ["Dana Ortiz"]
    assert [a["allegation_type"] for a in c1["allegations"]] == ["racial_profiling"]
    c2 = by_id[w["c2"].id]
    assert c2["lead_investigator_name"] == w["inv1"].name
    assert c2["next_due"]["key"] == "resolution" and c2["next_due"]["state"] == "overdue"


async def test_relevance_puts_the_best_match_first_and_pages_through_all(settings: Any
                                                                         ) -> None:
    sup = actor_for(await make_user("supervisor"))
    weak = [await make_list_case(narrative=f"Un policía me paró. Caso {n} con muchas otras "
                                           "palabras que no importan para nada aquí.")
            for n in range(6)]
    strong = await make_list_case(narrative="Policía, policía, policía: la policía otra vez.")
    noted = await make_list_case(narrative="Nothing here.", notes=["Policía policía policía."])
    filters, _ = listing.parse_filters({"q": "policia"})
    assert filters.sort == "relevance"
    first = await listing.fetch_page(sup, filters, page_size=3)
    assert {first.rows[0]["id"], first.rows[1]["id"]} == {strong.id, noted.id}
    seen = list(first.rows)
    cursor = first.next_cursor
    while cursor:
        page = await listing.fetch_page(sup, filters, cursor=cursor, page_size=3)
        seen += page.rows
        cursor = page.next_cursor
    assert sorted(r["id"] for r in seen) == sorted([*(c.id for c in weak), strong.id, noted.id])
    ranks = [r["search_rank"] for r in seen]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize("sort", [s for s in listing.SORTS if s != "relevance"])
async def test_keyset_pagination_visits_every_case_once_in_order(settings: Any, sort: str
                                                                 ) -> None:
    sup = actor_for(await make_user("supervisor"))
    base = datetime(2026, 5, 1, 12, tzinfo=UTC)
    made = []
    for n in range(23):
        # pairs share a received time (and some a due date) to test the id tie-break
        received = base + timedelta(hours=n // 2)
        due = None if n % 5 == 0 else received + timedelta(days=90 - (n % 3))
        made.append(await make_list_case(received_at=received, resolution_due_at=due))
    filters = listing.CaseFilters(sort=sort)
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        page = await listing.fetch_page(sup, filters, cursor=cursor, page_size=5)
        seen.extend(page.rows)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 5
    assert sorted(r["id"] for r in seen) == sorted(c.id for c in made)
    assert len({r["id"] for r in seen}) == 23
    everything = await listing.fetch_page(sup, filters, page_size=100)
    assert [r["id"] for r in seen] == [r["id"] for r in everything.rows]
    if sort == "received_desc":
        keys = [(r["received_at"], r["id"]) for r in seen]
        assert keys == sorted(keys, reverse=True)
    elif sort == "received_asc":
        keys = [(r["received_at"], r["id"]) for r in seen]
        assert keys == sorted(keys)
    else:
        dated = [(r["resolution_due_at"], r["id"]) for r in seen if r["resolution_due_at"]]
        assert seen[:len(dated)] == [r for r in seen if r["resolution_due_at"]]
        assert dated == sorted(dated)


async def test_a_cursor_from_another_sort_is_refused(settings: Any) -> None:
    sup = actor_for(await make_user("supervisor"))
    for _ in range(3):
        await make_list_case()
    page = await listing.fetch_page(sup, listing.CaseFilters(), page_size=1)
    assert page.next_cursor
    with pytest.raises(ValidationFailed):
        await listing.fetch_page(sup, listing.CaseFilters(sort="due_asc"),
                                 cursor=page.next_cursor)
    with pytest.raises(ValidationFailed):
        await listing.fetch_page(sup, listing.CaseFilters(), cursor="garbage!")


def test_bad_filter_values_are_reported_not_applied() -> None:
    filters, errors = listing.parse_filters({"state": "nope", "agency": "x", "model": "ABC",
                                             "received_from": "2026-13-01",
                                             "sort": "sideways"})
    assert set(errors) == {"state", "agency", "model", "received_from", "sort"}
    assert filters == listing.CaseFilters()
    assert listing.parse_filters({"received_from": "2026-02-02",
                                  "received_to": "2026-02-01"})[1].keys() == {"received_to"}
    assert date(2026, 2, 2) == listing.parse_filters({"received_from": "2026-02-02"})[0]\
        .received_from
