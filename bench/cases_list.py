"""Benchmark: the case list, filters, search and dashboard at two sizes, on both engines.

    .venv/bin/python bench/cases_list.py                  # 20,000 and 100,000 cases, both engines
    .venv/bin/python bench/cases_list.py --count 1000000  # 20,000 and 1,000,000 cases
    .venv/bin/python bench/cases_list.py --count 20000 --small 0 --engines sqlite --repeat 10
    .venv/bin/python bench/cases_list.py --count 1000000 \
        --sqlite-file-small S.db --sqlite-file L.db --pg-database-small ct_s --pg-database ct_l

Each query is measured at ``--small`` cases and at ``--count`` cases, for the data layer
(``listing.fetch_page`` / ``build_dashboard`` called as the person, warm cache) and for the
whole page through HTTP, and printed with the ratio large / small (the target: at most 2) and,
at the large size, each page's p95 over the plain first page's (the target: at most 3).
The CSV export's rows per second are printed at both sizes.

For each engine: a fresh database (a temporary SQLite file; a new PostgreSQL database on
127.0.0.1:5432, user postgres, dropped afterwards unless --keep), migrated, seeded with
``casetracker.cases.seed`` (the same command as ``casetracker cases seed``), then requests go
through the real app (httpx's ASGI transport, signed in through the login form) and the
median and 95th percentile of each page's time are printed as a table. Every list request
also writes its audit event, as in production.

Databases seeded beforehand (``casetracker cases seed``, then ``casetracker migrate`` after any
schema change) are measured as they are with ``--sqlite-file`` / ``--pg-database`` (and the
``-small`` pair for the small size): migrated, not seeded again when they hold at least that
many cases, never dropped. Each run adds its two bench users (and their audit events) to them.
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
# Background jobs (digests, checkpoints) would run inside the measured process and steal its
# time; the one this bench needs (the dashboard figures' count) it runs itself, as a worker.
os.environ.setdefault("CASETRACKER_JOBS_IN_PROCESS", "false")

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


def p95(times: list[float]) -> float:
    return summary(times)[1]


async def data_layer(actor: Any, url: str, repeat: int) -> list[float]:
    """The data layer behind a page: what the page's controller asks of cases.listing."""
    from urllib.parse import parse_qs, urlsplit

    from casetracker.cases import listing, queues

    parts = urlsplit(url)
    params = parse_qs(parts.query)
    times = []
    for n in range(repeat + 2):
        start = time.perf_counter()
        if parts.path == "/dashboard":
            await listing.build_dashboard(actor)
            await queues.queues_for(actor)
        else:
            filters, _errors = listing.parse_filters(params)
            cursor = params.get("cursor", [None])[0]
            page_size = listing.parse_page_size(params.get("per_page", [None])[0])
            await listing.fetch_page(actor, filters, cursor=cursor, page_size=page_size,
                                     with_count=True)
        if n >= 2:
            times.append(time.perf_counter() - start)
    return times


REFERENCE_TERMS = ("interprete", "jose perez", "castaneda", "papeles", '"la camara"',
                   "trabajo -hijo")


async def check_against_reference(actor: Any, q: str, states: tuple[str, ...] = ()) -> str:
    """The ranked search of ``q`` (within ``states``) against an exact reference query
    (every visible match, no bound): the count says what the reference counts (exactly up to
    the cap, else "more than"); the ranked pages hold exactly the newest RANK_WINDOW visible
    matches, each once; the first page after them continues with the next older matches,
    newest first. Returns a line to print; raises AssertionError on a difference."""
    from piccolo.querystring import QueryString

    from casetracker.auth.policies import may_search_witness_names
    from casetracker.cases import listing, search

    filters = listing.CaseFilters(q=q, states=states, sort="relevance")
    plain = listing.where_clause(actor, listing.CaseFilters(states=states))
    matching = QueryString("ct_case.id IN ({}) AND {}", search.matching_case_ids(
        q, witnesses=may_search_witness_names(actor)), plain)
    total = int((await listing._run(QueryString(
        "SELECT COUNT(*) AS n FROM ct_case WHERE {}", matching)))[0]["n"])
    window = listing.RANK_WINDOW
    newest = [int(r["id"]) for r in await listing._run(QueryString(
        "SELECT ct_case.id FROM ct_case WHERE {} ORDER BY ct_case.id DESC LIMIT {}",
        matching, window + 100))]
    page = first = await listing.fetch_page(actor, filters, page_size=100, with_count=True)
    ranked: list[int] = []
    older: list[int] = []
    while True:
        ranked += [r["id"] for r in page.rows if r["search_tier"] == 0]
        older += [r["id"] for r in page.rows if r["search_tier"] == 1]
        if older or not page.next_cursor:
            break
        page = await listing.fetch_page(actor, filters, cursor=page.next_cursor, page_size=100)
    if total <= listing.COUNT_CAP:
        assert (first.total, first.more_than) == (total, None), (q, first.total, total)
    else:
        assert (first.total, first.more_than) == (None, listing.COUNT_CAP), (q, first.total)
    assert len(ranked) == len(set(ranked)), f"{q!r}: a case twice in the ranked pages"
    assert set(ranked) == set(newest[:window]), f"{q!r}: ranked pages differ from the reference"
    assert older == newest[window:window + len(older)], (q, older[:5], newest[window:window + 5])
    return (f"{q!r}{' in ' + ','.join(states) if states else ''} as {actor.role}: "
            f"{total:,} matches, {len(ranked)} ranked, {len(older)} older checked")


async def export_rate(client: httpx.AsyncClient, url: str) -> tuple[int, float]:
    """Rows of a streamed CSV export and the seconds it took (whole download)."""
    start = time.perf_counter()
    rows = 0
    async with client.stream("GET", url) as response:
        async for _line in response.aiter_lines():
            rows += 1
    return max(0, rows - 1), time.perf_counter() - start


async def bench_engine(engine: str, count: int, seed: int, repeat: int, keep: bool,
                       existing: str = "") -> dict[str, tuple[float, float, int, float, float]]:
    from casetracker.app import create_app, run_feature_hooks
    from casetracker.cases.seed import seed_cases
    from casetracker.registry.tables import Agency, Officer

    var_dir = _TMP / f"var-{engine}-{count}"
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
    results: dict[str, tuple[float, float, int, float, float]] = {}
    try:
        await db.migrate()
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            if done % 20000 == 0 or done == total:
                print(f"  [{engine}] seeded {done:,}/{total:,} "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)

        from casetracker.cases.tables import Case

        present = await Case.count() if existing else 0
        if existing and present >= count:
            print(f"[{engine}] reusing {existing} ({present:,} cases)", flush=True)
        else:
            # a database given by name but smaller than --count is seeded up to it
            report = await seed_cases(count - present, seed, batch_size=5000,
                                      progress=progress)
            print(f"[{engine}] seeded {report.cases:,} cases, {report.allegations:,} "
                  f"allegations, {report.notes:,} notes in {report.seconds:.1f} s", flush=True)
        supervisor = await make_user("supervisor")
        investigator = await make_user("investigator")
        await relax_2fa_for_bench("supervisor", "investigator")
        # give the bench investigator a realistic caseload from the seeded cases: the 60
        # newest under investigation (an investigator's open cases are recent ones); the
        # same rows on both engines, as are the agency and the officer below
        some = await Case.select(Case.id).where(Case.status == "under_investigation").order_by(
            Case.id, ascending=False).limit(60)
        await Case.update({Case.lead_investigator: investigator.id}).where(
            Case.id.is_in([r["id"] for r in some]))
        agency = await Agency.select(Agency.id).order_by(Agency.id).first()
        officer_row = await Officer.select(Officer.id, Officer.name).order_by(Officer.id).first()
        surname = officer_row["name"].split()[-1]
        app = create_app(settings, manage_database=False)
        import logging

        logging.getLogger("httpx").setLevel(logging.WARNING)
        await run_feature_hooks(app, "ON_STARTUP")
        sup = await signed_in_client(app, supervisor.email)
        inv = await signed_in_client(app, investigator.email)
        from casetracker.auth.actor import Actor
        from casetracker.cases import listing

        started = time.perf_counter()
        stored = await listing.store_figures()  # what the worker's periodic job does
        if stored:
            print(f"  [{engine}] dashboard figures counted in "
                  f"{time.perf_counter() - started:.1f} s (periodic job)", flush=True)
        sup_actor, inv_actor = Actor.from_user(supervisor), Actor.from_user(investigator)
        pages = [
            ("list, first page (25)", sup, "/cases"),
            ("list, 100 per page", sup, "/cases?per_page=100"),
            ("list, page 40 (keyset)", sup, await deep_cursor(sup, "/cases", 40)),
            ("filter: state", sup, "/cases?state=under_investigation"),
            ("filter: state = open", sup, "/cases?state=open"),
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
            ("search: an officer (surname)", sup, f"/cases?q={surname}"),
            ("search + filter", sup, "/cases?q=camara&state=under_investigation"),
            ("dashboard (supervisor)", sup, "/dashboard"),
            ("list (investigator)", inv, "/cases"),
            ("search (investigator)", inv, "/cases?q=papeles"),
            ("dashboard (investigator)", inv, "/dashboard"),
        ]
        for label, client, url in pages:
            actor = sup_actor if client is sup else inv_actor
            layer_times = await data_layer(actor, url, repeat)
            layer = p95(layer_times)
            times, status, size = await timed(client, url, repeat)
            page = p95(times)
            results[label] = (layer * 1000, page * 1000, status,
                              statistics.median(layer_times) * 1000,
                              statistics.median(times) * 1000)
            print(f"  [{engine}] {label:34} data p95 {layer * 1000:7.1f} ms  "
                  f"page p95 {page * 1000:7.1f} ms  ({status}, {size:,} bytes)", flush=True)
        started = time.perf_counter()
        checks = [await check_against_reference(actor, q, states)
                  for actor in (sup_actor, inv_actor)
                  for q, states in [*((t, ()) for t in (*REFERENCE_TERMS, surname)),
                                    ("camara", ("under_investigation",))]]
        for line in checks:
            print(f"  [{engine}] reference: {line}", flush=True)
        print(f"  [{engine}] search against the exact reference: {len(checks)} checks passed "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
        rows, seconds = await export_rate(sup, f"/cases/export.csv?agency={agency['id']}")
        results["CSV export (rows/s)"] = (rows / seconds if seconds else 0.0, float(rows), 200,
                                          0.0, 0.0)
        print(f"  [{engine}] CSV export: {rows:,} rows in {seconds:.1f} s "
              f"({rows / seconds if seconds else 0:,.0f} rows/s)", flush=True)
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
    parser.add_argument("--count", type=int, default=100_000, help="the large size")
    parser.add_argument("--small", type=int, default=20_000,
                        help="the small size to compare with (0: only --count)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=12)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--keep", action="store_true",
                        help="keep the seeded databases (SQLite file and PostgreSQL database)")
    parser.add_argument("--sqlite-file", default="",
                        help="measure this already seeded SQLite file as the large size")
    parser.add_argument("--pg-database", default="",
                        help="measure this already seeded PostgreSQL database as the large size")
    parser.add_argument("--sqlite-file-small", default="")
    parser.add_argument("--pg-database-small", default="")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    tables = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        sizes = {}
        for size, existing in ((args.small, args.sqlite_file_small if engine == "sqlite"
                                else args.pg_database_small),
                               (args.count, args.sqlite_file if engine == "sqlite"
                                else args.pg_database)):
            if size:
                sizes[size] = await bench_engine(engine, size, args.seed, args.repeat,
                                                 args.keep, existing)
        tables.append((engine, sizes))
    if args.keep:
        print(f"kept {_TMP} (SQLite files: var-sqlite-<count>/bench.sqlite3)")
    else:
        import shutil

        shutil.rmtree(_TMP, ignore_errors=True)
    print(f"\nfinished {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for engine, sizes in tables:
        small, large = (sizes.get(args.small), sizes.get(args.count))
        print(f"\n{engine}: p95 ms at {args.small:,} and {args.count:,} cases; ratio = large / "
              "small (target <= 2); x first = large page / large first page (target <= 3)")
        print(f"{'query':36} {'data S':>8} {'data L':>8} {'ratio':>6} {'page S':>8} "
              f"{'page L':>8} {'ratio':>6} {'x first':>7}   median ratios: data, page")
        first = large["list, first page (25)"][1] if large else 0
        for label in (large or small or {}):
            s_row, l_row = (small or {}).get(label), (large or {}).get(label)
            if label.startswith("CSV"):
                print(f"{label:36} {s_row[0] if s_row else 0:8.0f} {l_row[0] if l_row else 0:8.0f}"
                      "   (rows per second at each size)")
                continue

            def ratio(i: int, s_row: Any = s_row, l_row: Any = l_row) -> str:
                return f"{l_row[i] / s_row[i]:6.1f}" if s_row and l_row and s_row[i] else "     -"

            print(f"{label:36} {s_row[0] if s_row else 0:8.1f} {l_row[0] if l_row else 0:8.1f} "
                  f"{ratio(0)} {s_row[1] if s_row else 0:8.1f} {l_row[1] if l_row else 0:8.1f} "
                  f"{ratio(1)} {l_row[1] / first if l_row and first else 0:7.1f}   "
                  f"{ratio(3)} {ratio(4)}")


if __name__ == "__main__":
    asyncio.run(main())
