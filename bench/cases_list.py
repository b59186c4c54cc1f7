"""Benchmark: the case list, filters, search and dashboard with 100,000 cases, on both engines.

    .venv/bin/python bench/cases_list.py                 # 100,000 cases, SQLite and PostgreSQL
    .venv/bin/python bench/cases_list.py --count 20000 --engines sqlite --repeat 10

For each engine: a fresh database (a temporary SQLite file; a new PostgreSQL database on
127.0.0.1:5432, user postgres, dropped afterwards unless --keep), migrated, seeded with
``casetracker.cases.seed`` (the same command as ``casetracker cases seed``), then requests go
through the real app (httpx's ASGI transport, signed in through the login form) and the
median and 95th percentile of each page's time are printed as a table. Every list request
also writes its audit event, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="casetracker-bench-"))
os.environ.setdefault("CASETRACKER_VAR_DIR", str(_TMP / "var"))
os.environ.setdefault("CASETRACKER_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("PICCOLO_CONF", "casetracker.piccolo_conf")

import httpx  # noqa: E402

from casetracker import db  # noqa: E402
from casetracker.settings import configure, load_settings  # noqa: E402

PG_ADMIN = os.environ.get("CASETRACKER_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password that is long enough"  # noqa: S105 - throwaway bench users
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def relax_2fa_for_bench(*roles: str) -> None:
    """Bench accounts sign in with a password alone: the second factor is measured by the
    tests, not here (recorded in the throwaway database's audit log, as any relaxation is)."""
    from casetracker.accounts import role_settings
    from casetracker.auth.actor import Actor

    required = await role_settings.effective_2fa_roles()
    await role_settings.set_required_roles(Actor.system("bench"), required - set(roles))


async def make_user(role: str) -> Any:
    from casetracker.accounts.passwords import hash_password
    from casetracker.accounts.tables import User

    user = User(email=f"bench-{role}-{uuid.uuid4().hex[:6]}@example.org", name=f"Bench {role}",
                role=role, password_hash=hash_password(PASSWORD), must_change_password=False)
    await user.save()
    return user


async def signed_in_client(app: Any, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)),
                               base_url="http://testserver")
    page = await client.get("/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    response = await client.post("/login", data={"_csrf_token": token, "email": email,
                                                 "password": PASSWORD})
    assert response.status_code == 303, response.text[:300]
    return client


async def timed(client: httpx.AsyncClient, url: str, repeat: int, **kwargs: Any
                ) -> tuple[list[float], int, int]:
    times = []
    status = size = 0
    for n in range(repeat + 2):
        start = time.perf_counter()
        response = await client.get(url, **kwargs)
        body = response.content
        elapsed = time.perf_counter() - start
        status, size = response.status_code, len(body)
        if n >= 2:  # two warm-up requests
            times.append(elapsed)
    return times, status, size


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


async def deep_cursor(client: httpx.AsyncClient, url: str, pages: int) -> str:
    """The URL of page ``pages`` (following the "next page" links)."""
    for _ in range(pages - 1):
        text = (await client.get(url)).text
        match = re.search(r'href="([^"]+)" rel="next"', text)
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
    return url


async def bench_engine(engine: str, count: int, seed: int, repeat: int, keep: bool,
                       existing: str = "") -> list[tuple[str, str, float, float, int, int]]:
    from casetracker.app import create_app, run_feature_hooks
    from casetracker.cases.seed import seed_cases
    from casetracker.registry.tables import Agency, Officer

    var_dir = _TMP / f"var-{engine}"
    var_dir.mkdir(parents=True, exist_ok=True)
    base = load_settings().replace(var_dir=var_dir, session_dir=var_dir / "sessions",
                                   evidence_dir=var_dir / "evidence", outbox_dir=var_dir / "outbox")
    pg_name = existing if engine == "postgres" and existing else \
        f"ct_bench_{uuid.uuid4().hex[:8]}"
    if engine == "sqlite":
        path = existing or var_dir / "bench.sqlite3"
        settings = configure(base.replace(database_url=f"sqlite:///{path}"))
    else:
        if not existing:
            await pg_admin(f'CREATE DATABASE "{pg_name}"')
        dsn = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
        settings = configure(base.replace(database_url=dsn, db_pool_min=2, db_pool_max=10))
    await db.open_database(settings)
    results = []
    try:
        await db.migrate()
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done % 20000 == 0 or done == total:
                print(f"  [{engine}] seeded {done:,}/{total:,} "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)

        from casetracker.cases.tables import Case

        if existing and await Case.count() >= count:
            print(f"[{engine}] reusing {existing} ({await Case.count():,} cases)", flush=True)
        else:
            report = await seed_cases(count, seed, progress=progress)
            print(f"[{engine}] seeded {report.cases:,} cases, {report.allegations:,} "
                  f"allegations, {report.notes:,} notes in {report.seconds:.1f} s", flush=True)
            results.append((engine, f"seed {count:,} cases (s)", report.seconds,
                            report.seconds, 0, 0))
        supervisor = await make_user("supervisor")
        investigator = await make_user("investigator")
        await relax_2fa_for_bench("supervisor", "investigator")
        # give the bench investigator a realistic caseload from the seeded cases
        some = await Case.select(Case.id).where(Case.status == "under_investigation").limit(60)
        await Case.update({Case.lead_investigator: investigator.id}).where(
            Case.id.is_in([r["id"] for r in some]))
        agency = await Agency.select(Agency.id).first()
        officer_row = await Officer.select(Officer.id, Officer.name).first()
        surname = officer_row["name"].split()[-1]
        app = create_app(settings, manage_database=False)
        import logging

        logging.getLogger("httpx").setLevel(logging.WARNING)
        await run_feature_hooks(app, "ON_STARTUP")
        sup = await signed_in_client(app, supervisor.email)
        inv = await signed_in_client(app, investigator.email)
        pages = [
            ("list, first page (25)", sup, "/cases"),
            ("list, 100 per page", sup, "/cases?per_page=100"),
            ("list, page 40 (keyset)", sup, await deep_cursor(sup, "/cases", 40)),
            ("filter: state", sup, "/cases?state=under_investigation"),
            ("filter: agency", sup, f"/cases?agency={agency['id']}"),
            ("filter: model TFM", sup, "/cases?model=TFM"),
            ("filter: officer", sup, f"/cases?officer_id={officer_row['id']}"),
            ("filter: officer typed (surname)", sup, f"/cases?officer={surname}"),
            ("filter: profiling + ethnicity", sup,
             "/cases?allegation_type=racial_profiling&characteristic=ethnicity"),
            ("filter: received range", sup,
             "/cases?received_from=2025-01-01&received_to=2025-03-31"),
            ("filter: overdue", sup, "/cases?overdue=1"),
            ("filter: unassigned, oldest", sup, "/cases?investigator=none&sort=received_asc"),
            ("sort: resolution due", sup, "/cases?sort=due_asc"),
            ("search: 'interprete' (common)", sup, "/cases?q=interprete"),
            ("search: 'jose perez' (accents)", sup, "/cases?q=jose+perez"),
            ("search: a surname (castaneda)", sup, "/cases?q=castaneda"),
            ("search + filter", sup, "/cases?q=camara&state=under_investigation"),
            ("dashboard (supervisor)", sup, "/dashboard"),
            ("list (investigator)", inv, "/cases"),
            ("search (investigator)", inv, "/cases?q=papeles"),
            ("dashboard (investigator)", inv, "/dashboard"),
        ]
        for label, client, url in pages:
            times, status, size = await timed(client, url, repeat)
            median, p95 = summary(times)
            results.append((engine, label, median * 1000, p95 * 1000, status, size))
            print(f"  [{engine}] {label:34} median {median * 1000:7.1f} ms  "
                  f"p95 {p95 * 1000:7.1f} ms  ({status}, {size:,} bytes)", flush=True)
        times, status, size = await timed(sup, "/cases/export.csv?state=under_review", 3)
        median, p95 = summary(times)
        results.append((engine, f"CSV export ({size // 1024} KiB)", median * 1000, p95 * 1000,
                        status, size))
        await sup.aclose()
        await inv.aclose()
        await run_feature_hooks(app, "ON_SHUTDOWN")
    finally:
        await db.close_database()
        if engine == "postgres" and not keep and not existing:
            await pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        elif engine == "postgres":
            print(f"[postgres] kept database {pg_name}")
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--keep", action="store_true",
                        help="keep the seeded databases (SQLite file and PostgreSQL database)")
    parser.add_argument("--sqlite-file", default="",
                        help="measure this already seeded SQLite file instead of a new one")
    parser.add_argument("--pg-database", default="",
                        help="measure this already seeded PostgreSQL database (kept)")
    args = parser.parse_args()
    rows = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        existing = args.sqlite_file if engine == "sqlite" else args.pg_database
        rows += await bench_engine(engine, args.count, args.seed, args.repeat, args.keep,
                                   existing)
    if args.keep:
        print(f"kept {_TMP} (the SQLite file is var-sqlite/bench.sqlite3)")
    else:
        import shutil

        shutil.rmtree(_TMP, ignore_errors=True)
    print()
    print(f"{'engine':9} {'page':36} {'median ms':>10} {'p95 ms':>10} {'status':>6}")
    for engine, label, median, p95, status, _size in rows:
        print(f"{engine:9} {label:36} {median:10.1f} {p95:10.1f} {status:>6}")


if __name__ == "__main__":
    asyncio.run(main())
