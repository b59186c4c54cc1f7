"""The bulk path of `casetracker cases seed` (issue 17), on both engines: a load at least as
large as the table drops the secondary indexes and the search triggers and puts them back at
the end. Afterwards the schema is exactly what it was, and the list, a search and the
dashboard give what an exact reference computed here in Python from the rows says; the app's
own writes are indexed for search again."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from piccolo.querystring import QueryString

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.auth.actor import Actor
from casetracker.cases import listing
from casetracker.cases.seed import seed_cases
from casetracker.cases.tables import Allegation, Case, CaseNote, CaseOfficer
from casetracker.registry.tables import Agency, Officer
from tests.factories import make_user

WORDS = ("castaneda", "walker", "interprete", "papeles", "sheriff")


async def catalogue() -> list[tuple[Any, ...]]:
    """Every index and trigger with its definition (and, on PostgreSQL, whether it is on)."""
    if db.is_sqlite():
        rows = await db.current_engine().run_querystring(QueryString(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            "ORDER BY type, name"))
        return [(r["type"], r["name"], r["sql"]) for r in rows]
    indexes = await db.current_engine().run_querystring(QueryString(
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = current_schema() ORDER BY tablename, indexname"))
    triggers = await db.current_engine().run_querystring(QueryString(
        "SELECT tgrelid::regclass::text AS tbl, tgname, tgenabled FROM pg_trigger "
        "WHERE NOT tgisinternal ORDER BY 1, 2"))
    return [tuple(r.values()) for r in indexes] + [tuple(r.values()) for r in triggers]


def fold(text: str) -> set[str]:
    """The words of ``text`` as both search indexes see them: lower case, no accents."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text or "")
                   if not unicodedata.combining(ch))
    return set(re.findall(r"\w+", bare.lower()))


async def words_by_case() -> dict[int, set[str]]:
    """Each case's searchable words, from the tables (what its search document should hold)."""
    agencies = {r["id"]: r["name"] for r in await Agency.select(Agency.id, Agency.name)}
    officers = {r["id"]: f"{r['name']} {r['badge_number']}"
                for r in await Officer.select(Officer.id, Officer.name, Officer.badge_number)}
    words: dict[int, set[str]] = {}
    for row in await Case.select(Case.id, Case.narrative, Case.harm, Case.agency):
        words[row["id"]] = fold(f"{row['narrative']} {row['harm']} "
                                f"{agencies.get(row['agency'], '')}")
    for row in await CaseNote.select(CaseNote.case, CaseNote.body):
        words[row["case"]] |= fold(row["body"])
    for row in await CaseOfficer.select(CaseOfficer.case, CaseOfficer.name,
                                        CaseOfficer.badge_number, CaseOfficer.officer):
        words[row["case"]] |= fold(f"{row['name']} {row['badge_number']} "
                                   f"{officers.get(row['officer'], '')}")
    for row in await Allegation.select(Allegation.case, Allegation.officer):
        words[row["case"]] |= fold(officers.get(row["officer"], ""))
    return words


async def every_page(actor: Actor, filters: listing.CaseFilters) -> list[int]:
    page = await listing.fetch_page(actor, filters, page_size=50)
    seen = [r["id"] for r in page.rows]
    while page.next_cursor:
        page = await listing.fetch_page(actor, filters, cursor=page.next_cursor, page_size=50)
        seen += [r["id"] for r in page.rows]
    return seen


def as_utc(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).astimezone(UTC)


async def test_bulk_seed_leaves_lists_search_and_dashboard_exact(settings: Any,
                                                                 monkeypatch: Any) -> None:
    before = await catalogue()
    # The dashboard reads stored figures above LARGE_TABLE cases: lower it so that the
    # figures the seed stores at its end are the ones read (and checked) here.
    monkeypatch.setattr(listing, "LARGE_TABLE", 100)
    now = datetime.now(UTC).replace(microsecond=0)
    report = await seed_cases(350, seed=11, batch_size=120, now=now)
    assert report.cases == await Case.count() == 350
    assert await catalogue() == before  # every index and trigger back, as it was

    supervisor = Actor.from_user(await make_user("supervisor"))
    cases = await Case.select(Case.id, Case.status, Case.received_at, Case.lead_investigator,
                              *[getattr(Case, c) for _k, due, done, _e in listing.CLOCKS
                                for c in (due, done)], Case.ice_notification_required)
    for row in cases:
        for key, value in list(row.items()):
            if key.endswith("_at"):
                row[key] = as_utc(value)

    # The list: every case, newest first, exactly once.
    expected_order = [r["id"] for r in sorted(cases, key=lambda r: (r["received_at"], r["id"]),
                                              reverse=True)]
    assert await every_page(supervisor, listing.CaseFilters()) == expected_order

    # Search: the cases whose narrative, harm, notes, officers or agency hold the word.
    words = await words_by_case()
    assert set(words) == {r["id"] for r in cases}
    found_any = 0
    for word in WORDS:
        expected = {case_id for case_id, case_words in words.items() if word in case_words}
        seen = await every_page(supervisor, listing.CaseFilters(q=word, sort="relevance"))
        assert len(seen) == len(set(seen)), word
        assert set(seen) == expected, word
        found_any += bool(expected)
    assert found_any >= 4  # the sample is not all empty

    # The dashboard's figures (stored by the seed's last step) against counts of the rows.
    def overdue(row: dict[str, Any], key: str) -> bool:
        _key, due, done, _extra = next(c for c in listing.CLOCKS if c[0] == key)
        applies = {"triage": row["status"] in listing.TRIAGE_STATES,
                   "ice_notification": bool(row["ice_notification_required"]),
                   "resolution": row["status"] not in listing.FINAL_STATES,
                   "results": True}[key]
        return applies and row[done] is None and row[due] is not None and row[due] < now

    dashboard = await listing.build_dashboard(supervisor, now)
    assert dashboard.counted_at is not None  # the stored figures were read
    clocks = [key for key, *_ in listing.CLOCKS]
    expected_counts = {
        "unassigned": sum(1 for r in cases if r["lead_investigator"] is None
                          and r["status"] not in listing.FINAL_STATES),
        **{f"overdue_{key}": sum(overdue(r, key) for r in cases) for key in clocks},
        "overdue_cases": sum(any(overdue(r, key) for key in clocks) for r in cases),
    }
    assert {k: dashboard.counts[k] for k in expected_counts} == expected_counts
    assert expected_counts["unassigned"] and expected_counts["overdue_cases"]
    oldest_unassigned = sorted((r for r in cases if r["lead_investigator"] is None
                                and r["status"] not in listing.FINAL_STATES),
                               key=lambda r: (r["received_at"], r["id"]))
    assert {r["id"] for r in dashboard.unassigned} <= {r["id"] for r in oldest_unassigned}
    assert len(dashboard.unassigned) == min(dashboard.limit, len(oldest_unassigned))

    # The app's own writes are indexed again (the triggers are back).
    case_id = expected_order[-1]
    author = await User.select(User.id).where(User.role == "investigator").first()
    await CaseNote(case=case_id, author=author["id"], body="Zyxwvutsrq entrevista.").save()
    assert await every_page(supervisor, listing.CaseFilters(q="zyxwvutsrq")) == [case_id]


class Interrupted(Exception):
    pass


async def test_an_interrupted_bulk_seed_puts_indexes_and_search_back(settings: Any) -> None:
    before = await catalogue()

    def stop_after_first_batch(done: int, total: int) -> None:
        raise Interrupted

    try:
        await seed_cases(300, seed=12, batch_size=100, progress=stop_after_first_batch)
    except Interrupted:
        pass
    else:
        raise AssertionError("the seed was not interrupted")
    assert await catalogue() == before  # indexes and triggers back
    assert 100 <= await Case.count() < 300  # the batches written before the stop stay
    words = await words_by_case()
    supervisor = Actor.from_user(await make_user("supervisor"))
    expected = {case_id for case_id, case_words in words.items() if "papeles" in case_words}
    assert expected
    assert set(await every_page(supervisor, listing.CaseFilters(q="papeles"))) == expected
