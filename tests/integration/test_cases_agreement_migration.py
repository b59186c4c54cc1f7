"""The data migration links cases to their agency's only agreement, and nothing else."""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

from casetracker.cases.tables import Case
from casetracker.settings import PROJECT_ROOT
from tests.factories_cases import make_agency, make_agreement, make_case

MIGRATION = (PROJECT_ROOT / "migrations" / "cases"
             / "cases_2026_12_03t15_40_00_000000_link_agreements.py")


def load_migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("link_agreements_migration", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run_migration() -> None:
    manager = await load_migration().forwards()
    await manager.run()


async def agreement_of(case: Case) -> int | None:
    row = await Case.select(Case.agreement).where(Case.id == case.id).first()
    return row["agreement"]


async def test_cases_get_their_agencys_only_agreement(settings: Any) -> None:
    single = await make_agency("Harlow County Sheriff's Office")
    only = await make_agreement(single, model="WSO", status="terminated")
    several = await make_agency("Collier County Sheriff's Office")
    jem = await make_agreement(several, model="JEM")
    await make_agreement(several, model="TFM")
    none = await make_agency("Lee County Sheriff's Office")

    linked = await make_case(agency=single)
    already = await make_case(agency=several, agreement=jem.id)
    ambiguous = await make_case(agency=several)
    without_agreements = await make_case(agency=none)
    without_agency = await make_case()

    await run_migration()

    assert await agreement_of(linked) == only.id
    assert await agreement_of(already) == jem.id
    assert await agreement_of(ambiguous) is None
    assert await agreement_of(without_agreements) is None
    assert await agreement_of(without_agency) is None
    await run_migration()  # again: nothing changes
    assert await agreement_of(linked) == only.id
    assert await agreement_of(ambiguous) is None
