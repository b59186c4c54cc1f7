"""Benchmark: the oversight dashboard (all years) and the oversight PDF (one year).

Load the Chicago history first (see docs/oversight.md), then:

    CASETRACKER_DATABASE_URL=... .venv/bin/python bench/oversight_dashboard.py \
        [--year 2010] [--runs 5]

It signs in as an oversight user (created when missing: bench-oversight@example.org) through
the real app (ASGI, in process) and times GET /oversight?period=all and
GET /oversight/report.pdf?from=Y-01-01&to=Y-12-31, plus the metrics queries alone.
Targets: dashboard < 1 s on PostgreSQL and < 2 s on SQLite; PDF for one year < 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PICCOLO_CONF", "casetracker.piccolo_conf")

import httpx

from casetracker import db
from casetracker.settings import configure, load_settings

EMAIL = "bench-oversight@example.org"
PASSWORD = "bench password for oversight 287"  # noqa: S105


async def relax_2fa_for_bench(*roles: str) -> None:
    """Bench accounts sign in with a password alone: the second factor is measured by the
    tests, not here (recorded in the throwaway database's audit log, as any relaxation is)."""
    from casetracker.accounts import role_settings
    from casetracker.auth.actor import Actor

    required = await role_settings.effective_2fa_roles()
    await role_settings.set_required_roles(Actor.system("bench"), required - set(roles))


async def ensure_user() -> None:
    from casetracker.accounts.passwords import hash_password
    from casetracker.accounts.tables import User

    await relax_2fa_for_bench("oversight")
    if await User.exists().where(User.email == EMAIL):
        await User.update({User.password_hash: hash_password(PASSWORD),
                           User.must_change_password: False}).where(User.email == EMAIL)
        return
    await User(email=EMAIL, name="Bench Oversight", role="oversight",
               password_hash=hash_password(PASSWORD), must_change_password=False).save()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2010)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = configure(load_settings().replace(pdf_workers=0))
    await db.open_database(settings)
    await db.migrate()
    await ensure_user()
    from casetracker.app import create_app, run_feature_hooks
    from casetracker.oversight import services
    from casetracker.oversight.forms import parse_filters

    engine = "SQLite" if settings.is_sqlite else "PostgreSQL"
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    cases = (await services._raw("SELECT COUNT(*) AS n FROM ct_case"))[0]["n"]
    allegations = (await services._raw("SELECT COUNT(*) AS n FROM allegation"))[0]["n"]
    print(f"{engine}: {cases:,} cases, {allegations:,} allegations")

    years = await services.data_years()
    period, scope, _, _ = parse_filters({"period": "all"}, data_years=years)
    timings = []
    for _ in range(args.runs):
        services.clear_cache()
        t = time.perf_counter()
        await services.load_metrics(period, scope)
        timings.append(time.perf_counter() - t)
    print(f"metrics queries, all years ({period.label}): median {statistics.median(timings):.3f} s"
          f" (min {min(timings):.3f}, max {max(timings):.3f})")

    app = create_app(settings, manage_database=False)
    await run_feature_hooks(app, "ON_STARTUP")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        r = await client.post("/login", data={"_csrf_token": token, "email": EMAIL,
                                               "password": PASSWORD})
        assert r.status_code == 303, r.text[:300]
        for label, clear in (("cold: figures cache cleared before each request", True),
                             ("warm: figures cached (data unchanged)", False)):
            timings = []
            for _ in range(args.runs):
                if clear:
                    services.clear_cache()
                t = time.perf_counter()
                r = await client.get("/oversight?period=all")
                timings.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text[:500]
            print(f"GET /oversight?period=all ({label}): median "
                  f"{statistics.median(timings):.3f} s (min {min(timings):.3f}, "
                  f"max {max(timings):.3f}); {len(r.content):,} bytes")
        timings = []
        for _ in range(max(1, args.runs // 2)):
            t = time.perf_counter()
            y = args.year
            r = await client.get(f"/oversight/report.pdf?from={y}-01-01&to={y}-12-31")
            timings.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text[:500]
        print(f"GET /oversight/report.pdf ({args.year}): median {statistics.median(timings):.3f} s "
              f"(min {min(timings):.3f}, max {max(timings):.3f}); {len(r.content):,} bytes")
    await run_feature_hooks(app, "ON_SHUTDOWN")
    await db.close_database()


if __name__ == "__main__":
    asyncio.run(main())
