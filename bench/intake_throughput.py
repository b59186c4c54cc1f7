"""Complaint intake under load, as ratios to ``/healthz`` measured in the same run.

    .venv/bin/python bench/intake_throughput.py                      # both engines, 10 s a figure
    .venv/bin/python bench/intake_throughput.py --engines sqlite --seconds 5

For each engine: a fresh database (a SQLite file, or ``ct_bench_<random>`` on the local
PostgreSQL, dropped afterwards) and var dir; the real server (``casetracker run``, one
process, background jobs in the process as on the embedded default; the per-address hourly
limit off, since every request comes from one address); load from separate processes: ``wrk``
(apt) for the fixed requests, an async client for the forms (they need each page's CSRF token
and, for the complaint form, the review step). Rows:

- ``/healthz`` req/s at 16 connections: the yardstick (what the framework answers when the
  handler does nothing);
- anonymous ``POST /api/v1/complaints``: req/s ÷ yardstick at 16 connections; latency per
  complaint at 1 connection; errors and p95 at 64 connections;
- complaints with an e-mail address (each promises a receipt PDF, rendered and e-mailed by a
  background job): req/s ÷ the anonymous rate; then every receipt is waited for and counted;
- ``GET /complaint`` (the form) ÷ yardstick;
- ``/healthz`` p95 while receipt PDFs render ÷ its idle p95;
- the complaint form (GET, review, send: real CSRF tokens) and the status look-up, req/s with
  16 clients.

Exit status 1 when any request fails (a non-2xx/3xx answer, a socket error) or a receipt is
missing or sent twice. Targets (issue 14): anonymous ratio ≥ 0.20 SQLite / ≥ 0.30 PostgreSQL;
latency ≤ 8 / ≤ 6 ms; 64 connections: no error, p95 ≤ 1 s; with e-mail ≥ 0.5 × anonymous; the
form ≥ 0.30; healthz p95 while rendering ≤ 2 × idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("CASETRACKER_BENCH_PG_DSN",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
CASETRACKER = str(Path(sys.executable).with_name("casetracker"))
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
ANONYMOUS = {"narrative": "Stopped on Route 9 and asked for my papers by a deputy who would "
             "not say why.", "incident_date": "2026-11-02", "incident_setting": "traffic_stop",
             "checklist": ["stopped", "questioned_status"], "language": "en"}
WITH_EMAIL = {**ANONYMOUS, "name": "Bench Complainant", "email": "bench@example.org"}

# wrk prints one JSON line at the end (requests, errors, percentiles in microseconds).
WRK_SCRIPT = """
local body_file = os.getenv("CT_BODY_FILE")
if body_file then
  local f = io.open(body_file, "r"); wrk.body = f:read("*a"); f:close()
  wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.timeout + summary.errors.status
  io.write(string.format(
    'CTJSON {"requests": %d, "seconds": %.3f, "errors": %d, "status_errors": %d, '
    .. '"p50": %d, "p95": %d, "p99": %d, "mean": %.1f}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    mean_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(url: str, *, connections: int, seconds: float, body: dict[str, Any] | None = None,
        work: Path) -> Load:
    script = work / "ct.lua"
    script.write_text(WRK_SCRIPT)
    env = dict(os.environ)
    if body is not None:
        body_file = work / f"body-{uuid.uuid4().hex[:6]}.json"
        body_file.write_text(json.dumps(body))
        env["CT_BODY_FILE"] = str(body_file)
    threads = max(1, min(2, connections))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: S603
                         check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("CTJSON "))
    data = json.loads(line[len("CTJSON "):])
    return Load(requests=data["requests"], seconds=data["seconds"], errors=data["errors"],
                p50_ms=data["p50"] / 1000, p95_ms=data["p95"] / 1000, mean_ms=data["mean"] / 1000)


class Server:
    def __init__(self, engine: str, work: Path) -> None:
        self.engine = engine
        self.work = work
        self.port = free_port()
        self.var_dir = work / f"var-{engine}"
        self.database = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.log = work / f"server-{engine}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASETRACKER_")}
        env.update({
            "CASETRACKER_VAR_DIR": str(self.var_dir),
            "CASETRACKER_PORT": str(self.port),
            "CASETRACKER_PUBLIC_RATE_LIMIT_PER_HOUR": "0",
            "CASETRACKER_SECRET_KEY": "bench-secret-key-0123456789-0123456789-abcdef",
        })
        if self.engine == "postgres":
            env["CASETRACKER_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.database
        return env

    async def start(self) -> None:
        if self.engine == "postgres":
            import asyncpg

            self.database = f"ct_bench_{uuid.uuid4().hex[:8]}"
            conn = await asyncpg.connect(PG_ADMIN)
            try:
                await conn.execute(f'CREATE DATABASE "{self.database}"')
            finally:
                await conn.close()
        self.process = subprocess.Popen([CASETRACKER, "run"], env=self.env(),  # noqa: ASYNC220, S603
                                        stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        import httpx

        deadline = time.monotonic() + 120
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server stopped: see {self.log}")
                try:
                    if (await client.get(f"{self.base}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        raise RuntimeError("the server did not answer /healthz within 120 s")

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        if self.database:
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            finally:
                await conn.close()

    def outbox_count(self) -> int:
        return len(list((self.var_dir / "outbox").glob("*.eml")))

    async def complaints_with_email(self) -> int:
        """Complaints the database holds with an e-mail address: each promised one receipt.
        (wrk's request count misses the requests still in flight when it stops, which the
        server completes: counting from it once took a full outbox for a duplicate.)"""
        sql = "SELECT count(*) FROM complainant_contact WHERE email <> ''"
        if self.engine == "postgres":
            import asyncpg

            conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + self.database)
            try:
                return int(await conn.fetchval(sql))
            finally:
                await conn.close()
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.var_dir / "casetracker.sqlite3")) as conn:
            return int(conn.execute(sql).fetchone()[0])


async def wait_for_receipts(server: Server, expected: int, limit_seconds: float = 900) -> float:
    """Seconds until the outbox holds ``expected`` receipts (every job done)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_seconds:
        if server.outbox_count() >= expected:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise RuntimeError(f"only {server.outbox_count()} of {expected} receipts after "
                       f"{limit_seconds} s")


async def form_clients(server: Server, *, clients: int, seconds: float) -> dict[str, Any]:
    """The complaint form as people use it (GET, fill in, review, send) and the status
    look-up with the number and code they were given, each with the page's CSRF token."""
    from bench.intake_forms import file_through_the_form, look_up_status

    counts = {"filed": 0, "looked_up": 0, "errors": 0}
    latencies: dict[str, list[float]] = {"filed": [], "looked_up": []}
    deadline = time.monotonic() + seconds

    async def client_loop(n: int) -> None:
        import httpx

        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            while time.monotonic() < deadline:
                try:
                    started = time.monotonic()
                    number, code = await file_through_the_form(client, n)
                    latencies["filed"].append(time.monotonic() - started)
                    counts["filed"] += 1
                    started = time.monotonic()
                    await look_up_status(client, number, code)
                    latencies["looked_up"].append(time.monotonic() - started)
                    counts["looked_up"] += 1
                except Exception as exc:  # counted and reported
                    counts["errors"] += 1
                    print(f"  form client {n}: {exc}", file=sys.stderr)

    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    return {**counts, "seconds": seconds,
            "filed_p95_ms": _p95(latencies["filed"]), "lookup_p95_ms": _p95(latencies["looked_up"])}


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


async def run_engine(engine: str, seconds: float, work: Path) -> tuple[dict[str, Any], bool]:
    server = Server(engine, work)
    ok = True
    rows: dict[str, Any] = {}
    try:
        await server.start()
        api = f"{server.base}/api/v1/complaints"
        wrk(f"{server.base}/healthz", connections=16, seconds=2, work=work)  # warm up
        healthz = wrk(f"{server.base}/healthz", connections=16, seconds=seconds, work=work)
        rows["healthz"] = healthz
        anonymous = wrk(api, connections=16, seconds=seconds, body=ANONYMOUS, work=work)
        rows["anonymous"] = anonymous
        single = wrk(api, connections=1, seconds=seconds, body=ANONYMOUS, work=work)
        rows["single"] = single
        burst = wrk(api, connections=64, seconds=seconds, body=ANONYMOUS, work=work)
        rows["burst"] = burst
        sent_before = server.outbox_count()
        emails = wrk(api, connections=16, seconds=seconds, body=WITH_EMAIL, work=work)
        rows["email"] = emails
        form = wrk(f"{server.base}/complaint", connections=16, seconds=seconds, work=work)
        rows["form"] = form
        # Receipts still rendering from the e-mail row (plus a fresh backlog): the
        # yardstick's p95 while they render, against its idle p95.
        wrk(api, connections=4, seconds=2, body=WITH_EMAIL, work=work)
        rendering = wrk(f"{server.base}/healthz", connections=16, seconds=seconds, work=work)
        rows["healthz_rendering"] = rendering
        await asyncio.sleep(1)  # the requests in flight when wrk stopped are answered
        expected = sent_before + await server.complaints_with_email()
        rows["receipt_wait_s"] = await wait_for_receipts(server, expected)
        await asyncio.sleep(3)  # anything sent twice would show up now
        rows["receipts"] = (server.outbox_count() - sent_before, expected - sent_before)
        if server.outbox_count() != expected:
            print(f"  {engine}: {server.outbox_count()} receipts for {expected} complaints",
                  file=sys.stderr)
            ok = False
        rows["forms"] = await form_clients(server, clients=16, seconds=seconds)
        for name in ("healthz", "anonymous", "single", "burst", "email", "form",
                     "healthz_rendering"):
            if rows[name].errors:
                print(f"  {engine}: {rows[name].errors} failed requests in '{name}'",
                      file=sys.stderr)
                ok = False
        if rows["forms"]["errors"]:
            ok = False
        log_text = server.log.read_text(errors="replace")
        if re.search(r"Traceback|Unhandled error|database is locked", log_text):
            print(f"  {engine}: failures in the server's output ({server.log})", file=sys.stderr)
            ok = False
    finally:
        await server.stop()
    return rows, ok


def report(engine: str, rows: dict[str, Any]) -> None:
    h = rows["healthz"]
    a = rows["anonymous"]
    targets = {"sqlite": (0.20, 8.0), "postgres": (0.30, 6.0)}[engine]

    def mark(good: bool) -> str:
        return "ok" if good else "MISSED"

    print(f"\n## {engine}\n")
    print("| measure | figure | target | |")
    print("|---|---:|---|---|")
    print(f"| `/healthz` req/s, 16 connections | {h.rate:,.0f} | (the yardstick) | |")
    ratio = a.rate / h.rate
    print(f"| anonymous complaint req/s ÷ healthz | {ratio:.3f} ({a.rate:,.0f} req/s) | "
          f"≥ {targets[0]:.2f} | {mark(ratio >= targets[0])} |")
    s = rows["single"]
    print(f"| the same, 1 connection: mean / median ms | {s.mean_ms:.1f} / {s.p50_ms:.1f} | "
          f"≤ {targets[1]:.0f} | {mark(s.mean_ms <= targets[1])} |")
    b = rows["burst"]
    print(f"| 64 connections: errors, p95 ms | {b.errors}, {b.p95_ms:,.0f} | 0, ≤ 1,000 | "
          f"{mark(b.errors == 0 and b.p95_ms <= 1000)} |")
    e = rows["email"]
    print(f"| with e-mail (receipt PDF) req/s ÷ anonymous | {e.rate / a.rate:.2f} "
          f"({e.rate:,.0f} req/s) | ≥ 0.50 | {mark(e.rate / a.rate >= 0.5)} |")
    f = rows["form"]
    print(f"| `GET /complaint` ÷ healthz | {f.rate / h.rate:.3f} ({f.rate:,.0f} req/s) | "
          f"≥ 0.30 | {mark(f.rate / h.rate >= 0.30)} |")
    r = rows["healthz_rendering"]
    print(f"| healthz p95 while receipts render ÷ idle p95 | {r.p95_ms / h.p95_ms:.2f} "
          f"({r.p95_ms:.1f} / {h.p95_ms:.1f} ms) | ≤ 2 | {mark(r.p95_ms / h.p95_ms <= 2)} |")
    sent, expected = rows["receipts"]
    print(f"| receipts e-mailed / complaints with e-mail | {sent:,} / {expected:,} (all sent "
          f"{rows['receipt_wait_s']:.0f} s after the load) | equal | {mark(sent == expected)} |")
    forms = rows["forms"]
    print(f"| complaint form, GET + review + send, 16 clients: filed/s, p95 ms | "
          f"{forms['filed'] / forms['seconds']:.1f}, {forms['filed_p95_ms']:,.0f} | | |")
    print(f"| status look-up (form, CSRF): look-ups/s, p95 ms | "
          f"{forms['looked_up'] / forms['seconds']:.1f}, {forms['lookup_p95_ms']:,.0f} | | |")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="ct-intake-bench-"))
    ok = True
    print(f"# Intake throughput, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"{args.seconds:.0f} s a figure")
    try:
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            rows, engine_ok = await run_engine(engine, args.seconds, work)
            report(engine, rows)
            ok = ok and engine_ok
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\nall requests answered, every receipt sent once" if ok else "\nFAILURES (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
