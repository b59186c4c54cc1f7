"""The synthetic data generator behind `casetracker cases seed` (both engines)."""

from __future__ import annotations

from typing import Any

from casetracker.accounts.tables import User
from casetracker.auth.actor import Actor
from casetracker.cases import listing
from casetracker.cases.seed import seed_cases
from casetracker.cases.tables import Allegation, Case, CaseNote
from casetracker.registry.tables import Agency, Officer
from tests.factories import make_user


async def test_seed_fills_an_empty_database_with_usable_cases(settings: Any) -> None:
    report = await seed_cases(400, seed=7, batch_size=150)
    assert report.cases == 400 and await Case.count() == 400
    assert report.agencies_created == await Agency.count() > 10
    assert await Officer.count() > 100
    assert await User.count().where(User.role == "investigator") == 40
    statuses = {r["status"] for r in await Case.select(Case.status)}
    assert {"received", "in_triage", "under_investigation", "closed"} <= statuses
    closed = await Case.select(Case.id).where(Case.status == "closed")
    finals = await Allegation.select(Allegation.final_finding).where(
        Allegation.case.is_in([r["id"] for r in closed]))
    assert finals and all(r["final_finding"] for r in finals)
    assert await CaseNote.count() > 100
    spanish = await Case.select(Case.narrative).where(Case.language == "es").first()
    assert any(ch in spanish["narrative"] for ch in "áéíóúñ")
    # the lists and search work on it, and a second run adds more without clashing
    sup = Actor.from_user(await make_user("supervisor"))
    page = await listing.fetch_page(sup, listing.CaseFilters(q="papeles"), page_size=10)
    assert page.rows
    again = await seed_cases(50, seed=7)
    assert again.agencies_created == 0 and again.investigators_created == 0
    assert await Case.count() == 450
    new = Case(tracking_number="CT-AFTER-SEED", narrative="x")
    await new.save()  # sequences moved past the seeded ids
    assert new.id > 450 - 1
