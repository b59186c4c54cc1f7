"""Full-text search on both engines: narratives and notes, accents, updates, visibility."""

from __future__ import annotations

from typing import Any

from casetracker.auth.actor import Actor
from casetracker.cases import listing
from casetracker.cases.tables import Case, CaseNote
from tests.factories import make_user
from tests.factories_cases_list import make_list_case


async def found(actor: Actor, q: str) -> list[int]:
    page = await listing.fetch_page(actor, listing.CaseFilters(q=q), page_size=50)
    return sorted(row["id"] for row in page.rows)


async def test_accents_and_case_never_matter(settings: Any) -> None:
    sup = Actor.from_user(await make_user("supervisor"))
    case = await make_list_case(narrative="El señor Núñez habló con María José en la cárcel.")
    for query in ("nunez", "NÚÑEZ", "maria jose", "Maria José", "carcel", "senor", "hablo"):
        assert await found(sup, query) == [case.id], query


async def test_notes_are_searched_and_follow_edits_and_deletes(settings: Any) -> None:
    sup = Actor.from_user(await make_user("supervisor"))
    case = await make_list_case(narrative="Nothing special here.")
    note = CaseNote(case=case.id, body="Body camera footage requested from the agency.")
    await note.save()
    assert await found(sup, "footage") == [case.id]
    await CaseNote.update({CaseNote.body: "Dispatch log received."}).where(
        CaseNote.id == note.id)
    assert await found(sup, "footage") == []
    assert await found(sup, "dispatch") == [case.id]
    await CaseNote.delete().where(CaseNote.id == note.id)
    assert await found(sup, "dispatch") == []


async def test_narrative_edits_are_reindexed(settings: Any) -> None:
    sup = Actor.from_user(await make_user("supervisor"))
    case = await make_list_case(narrative="First words.")
    await Case.update({Case.narrative: "Segundas palabras con acentuación."}).where(
        Case.id == case.id)
    assert await found(sup, "first") == []
    assert await found(sup, "acentuacion") == [case.id]


async def test_search_respects_visibility(settings: Any) -> None:
    investigator = await make_user("investigator")
    mine = await make_list_case(status="under_investigation", lead=investigator,
                                narrative="Me preguntaron por mis papeles.")
    await make_list_case(status="under_investigation", lead=await make_user(),
                         narrative="También me preguntaron por mis papeles.")
    triage = await make_list_case(status="in_triage", narrative="Papeles otra vez.")
    assert await found(Actor.from_user(investigator), "papeles") == [mine.id]
    assert await found(Actor.from_user(await make_user("intake")), "papeles") == [triage.id]
    assert len(await found(Actor.from_user(await make_user("oversight")), "papeles")) == 3
