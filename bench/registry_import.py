"""Benchmark: importing ICE's July 2025 participating-agencies sheet, on both engines.

    .venv/bin/python bench/registry_import.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/registry_import.py --engines sqlite --repeat 5

For each engine and repeat: a fresh database (a temporary SQLite file; a new PostgreSQL
database on 127.0.0.1:5432, user postgres, dropped afterwards), migrated; then the July sheet
is imported into the empty database ("first") and again ("again", all unchanged), and the May
sheet followed by July ("may+july"). Each import is one transaction. Prints the median time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="casetracker-bench-"))
os.environ.setdefault("CASETRACKER_VAR_DIR", str(_TMP / "var"))
os.environ.setdefault("CASETRACKER_SECRET_KEY", "bench-secret-key-not-for-production-000000")

# the shared data folder: CASETRACKER_SHARED_DATA, or ../shared/data beside the repository
SHARED_DATA = Path(os.environ.get("CASETRACKER_SHARED_DATA") or ROOT.parent / "shared" / "data")
ICE = SHARED_DATA / "ice-287g"
JULY = ICE / "participatingAgencies07182025pm.xlsx"
MAY = ICE / "participatingAgencies05162025am.xlsx"
PG_ADMIN = os.environ.get("CASETRACKER_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def run_once(engine: str) -> dict[str, float]:
    from casetracker import db
    from casetracker.auth.actor import Actor
    from casetracker.registry.services import RegistryService
    from casetracker.settings import configure, load_settings

    timings: dict[str, float] = {}
    for scenario in ("first", "may+july"):
        name = f"bench_registry_{uuid.uuid4().hex[:8]}"
        if engine == "sqlite":
            url = f"sqlite:///{_TMP / (name + '.sqlite3')}"
        else:
            await _pg(f'CREATE DATABASE "{name}"')
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        await db.open_database(configure(load_settings().replace(database_url=url)))
        try:
            await db.migrate()
            service = RegistryService(Actor.system("bench"))
            if scenario == "first":
                started = time.perf_counter()
                await service.import_ice_sheet(JULY)
                timings["first"] = time.perf_counter() - started
                started = time.perf_counter()
                summary = await service.import_ice_sheet(JULY)
                timings["again"] = time.perf_counter() - started
                assert summary.unchanged == 832, summary
            else:
                await service.import_ice_sheet(MAY)
                started = time.perf_counter()
                await service.import_ice_sheet(JULY)
                timings["may+july"] = time.perf_counter() - started
        finally:
            await db.close_database()
            if engine != "sqlite":
                await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from casetracker.registry.ice_sheet import read_ice_sheet

    started = time.perf_counter()
    read_ice_sheet(JULY)
    print(f"parse only (no database): {time.perf_counter() - started:.3f}s")
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        runs = [await run_once(engine) for _ in range(args.repeat)]
        line = ", ".join(f"{key} {statistics.median(r[key] for r in runs):.3f}s"
                         for key in ("first", "again", "may+july"))
        print(f"{engine:9} median of {args.repeat}: {line}")


if __name__ == "__main__":
    asyncio.run(main())
