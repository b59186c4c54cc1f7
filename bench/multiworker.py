"""Load test: several workers (`casetracker run --workers N`) on PostgreSQL, mixed traffic, checked.

    .venv/bin/python bench/multiworker.py                       # 4 workers, 30 clients, 60 s
    .venv/bin/python bench/multiworker.py --workers 3 --clients 30 --duration 60 --seed-cases 2000

What it does:
1. creates a fresh PostgreSQL database ``ct_bench_<random>`` on 127.0.0.1:5432 (user postgres)
   and a var dir in a temporary directory; runs ``casetracker migrate`` and
   ``casetracker cases seed`` (the real commands); creates the staff accounts through
   ``UserService`` (supervisors and intake officers, one per staff client);
2. starts the real server, ``casetracker run --workers N`` on a free port, and waits for
   ``/healthz``;
3. drives it for ``--duration`` seconds with ``--clients`` concurrent virtual users and no think
   time (a closed loop: the figures are the capacity of this machine, client included).
   Public users file complaints through the real ``/complaint`` form (GET the form, take its
   CSRF token, POST multipart with the fields the form has) and look complaints up on
   ``/status`` with a tracking number and access code they were given. Staff users sign in
   through ``/login`` (and sign in again now and then), open case lists with filters and case
   pages, start triage on received complaints and add notes, each POST with the page's CSRF
   token. Every client opens a new connection per request (no keep-alive), so consecutive
   requests of one session land on different workers: a session or CSRF cookie made by one
   worker must be honoured by the others;
4. checks correctness: no 5xx and no request error; no session lost (a staff request sent back
   to /login); nothing in the server's output that looks like a failure ("Traceback",
   "database is locked", serialization or deadlock errors, duplicate keys, "nothing was
   stored"); every complaint answered 201 has a tracking number no other got, exists in the
   database exactly once, and has exactly one ``complaint.filed`` audit event; no case was
   moved into triage twice; every note answered 303 is stored; ``casetracker audit verify``
   against the database says intact. Then two bursts check limits the workers must enforce
   together: 3 x the hourly limit of status look-ups at once from one address (exactly the
   limit may pass), and 4 x the lock-out threshold of wrong passwords at once for one account
   (no more than the threshold may be checked);
5. prints a table (requests per kind, median / p95 / max latency, errors), throughput and CPU
   per server process, then drops the database. Exit status 1 on any correctness failure.

Public users send X-Forwarded-For (uvicorn trusts it from 127.0.0.1 by default) and become a new
address every 10 actions, so the per-address hourly limit (``--rate-limit``) is counted on
every filing and look-up but never reached by the mixed traffic. Litestar's CLI refuses more
than CPU count + 1 workers; the bench says so and uses that many.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("CASETRACKER_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench password that is long enough 2"  # noqa: S105 - throwaway bench users
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
TRACKING = re.compile(r'id="tracking-number">([^<]+)<')
ACCESS_CODE = re.compile(r'id="access-code">([^<]+)<')
REVIEW_TOKEN = re.compile(r'name="review_token" value="([^"]+)"')
CASE_LINK = re.compile(r'href="/cases/(\d+)"')
NOTE_MARK = "bench-note"
# What must never appear in the server's output during a healthy run.
FAILURE_PATTERNS = re.compile(
    r"Traceback|database is locked|could not serialize|deadlock detected|UniqueViolation|"
    r"duplicate key|nothing was stored|Unhandled error|Exception in ASGI|InterfaceError|"
    r"another operation is in progress|too many clients|could not send the receipt",
    re.IGNORECASE)
CASETRACKER = str(Path(sys.executable).with_name("casetracker"))

NARRATIVES = [
    "I was stopped on my way to work and the deputy asked where I was born before asking for my "
    "licence. He kept my papers for an hour and called immigration.",
    "Me pararon por una luz trasera rota. El oficial me pregunto por mis papeles y no quiso "
    "llamar a un interprete.",
    "At booking they asked everyone with a Spanish name about their status, not the others. "
    "My cousin was held for two more days on a detainer.",
    "Two officers searched my car without asking and said people like me carry drugs. They "
    "took my phone and gave it back the next day.",
]
CITIES = [("Houston", "TX"), ("Nashville", "TN"), ("Charlotte", "NC"), ("Phoenix", "AZ"),
          ("Tampa", "FL"), ("Atlanta", "GA")]


# --- set-up and tear-down --------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def pg_execute(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own console script
        [CASETRACKER, *args], env=env, cwd=ROOT, input=stdin, capture_output=True, text=True,
        check=False)
    if done.returncode != 0:
        raise SystemExit(f"casetracker {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


@dataclass
class StaffAccount:
    email: str
    role: str


async def relax_2fa_for_bench(*roles: str) -> None:
    """Bench accounts sign in with a password alone: the second factor is measured by the
    tests, not here (recorded in the throwaway database's audit log, as any relaxation is)."""
    from casetracker.accounts import role_settings
    from casetracker.auth.actor import Actor

    required = await role_settings.effective_2fa_roles()
    await role_settings.set_required_roles(Actor.system("bench"), required - set(roles))


async def create_staff(supervisors: int, intake: int) -> tuple[list[StaffAccount], list[str]]:
    """Staff accounts through the service layer, and some agencies' "Name, ST" labels."""
    from casetracker import db
    from casetracker.accounts.services import UserService
    from casetracker.auth.actor import Actor
    from casetracker.registry.tables import Agency
    from casetracker.settings import configure, load_settings

    await db.open_database(configure(load_settings()))
    try:
        accounts = []
        service = UserService(Actor.system("bench"))
        for role, count in (("supervisor", supervisors), ("intake", intake)):
            for n in range(count):
                email = f"bench-{role}-{n}@example.org"
                await service.create_user(email=email, name=f"Bench {role.title()} {n}",
                                          role=role, password=PASSWORD)
                accounts.append(StaffAccount(email, role))
        await relax_2fa_for_bench("supervisor", "intake")
        rows = await Agency.select(Agency.name, Agency.state).limit(40)
        return accounts, [f"{r['name']}, {r['state']}" for r in rows]
    finally:
        await db.close_database()


def wait_for(base: str, proc: subprocess.Popen[bytes], log_path: Path, workers: int,
             timeout: float = 120) -> None:
    """Until /healthz answers and every worker has logged that its startup is complete."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering:\n"
                             + log_path.read_text(errors="replace")[-3000:])
        started = log_path.read_text(errors="replace").count("Application startup complete")
        try:
            if started >= workers and httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not answer /healthz in time")


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for child in children.get(current, []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_label(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "multiprocessing" in cmd:
        return "worker (or PDF process)"
    if "uvicorn" in cmd:
        return "uvicorn supervisor"
    return cmd[:60]


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to uvicorn's supervisor (it stops its workers gracefully and exits, and so does
    `casetracker run`); SIGKILL to the process group we started if that takes too long."""
    if proc.poll() is not None:
        return
    supervisors = [pid for pid in descendants(proc.pid)
                   if process_label(pid) == "uvicorn supervisor"]
    for pid in supervisors or [proc.pid]:
        os.kill(pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --- the load ------------------------------------------------------------------------------------

@dataclass
class Results:
    measure_from: float = 0.0  # requests started before (the warm-up) are not timed
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[str] = field(default_factory=list)
    filed: list[tuple[str, str]] = field(default_factory=list)  # (tracking number, code)
    triaged: list[int] = field(default_factory=list)
    triage_conflicts: int = 0
    notes: int = 0
    session_lost: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < 40:
            self.problems.append(text)


class Bench:
    def __init__(self, base: str, deadline: float, results: Results,
                 agencies: list[str], email_share: float) -> None:
        self.base = base
        self.deadline = deadline
        self.results = results
        self.agencies = agencies or ["Harris County Sheriff's Office, TX"]
        self.email_share = email_share

    def client(self) -> Any:
        import httpx

        # No keep-alive: every request is a new connection, accepted by whichever worker.
        return httpx.AsyncClient(base_url=self.base, timeout=60, follow_redirects=False,
                                 limits=httpx.Limits(max_keepalive_connections=0))

    async def request(self, client: Any, kind: str, method: str, url: str,
                      expect: tuple[int, ...], **kwargs: Any) -> Any:
        import httpx

        start = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.results.errors[kind] += 1
            self.results.problem(f"{kind} {method} {url}: {type(exc).__name__}: {exc}")
            return None
        elapsed = time.perf_counter() - start
        if start >= self.results.measure_from:
            self.results.latencies[kind].append(elapsed)
        self.results.statuses[kind][response.status_code] += 1
        location = response.headers.get("location", "")
        if response.is_redirect and location.startswith("/login") and kind != "login POST":
            self.results.session_lost += 1
            self.results.errors[kind] += 1
            self.results.problem(f"{kind} {url}: session lost (sent to {location})")
            return None
        if response.status_code not in expect:
            self.results.errors[kind] += 1
            snippet = re.sub(r"\s+", " ", response.text[:300])
            self.results.problem(f"{kind} {method} {url}: {response.status_code} {snippet}")
            return None
        return response

    # --- the public ------------------------------------------------------------------------

    async def file_complaint(self, client: Any, rng: random.Random) -> None:
        page = await self.request(client, "complaint form GET", "GET", "/complaint", (200,))
        if page is None:
            return
        token = CSRF.search(page.text)
        if token is None:
            self.results.problem("complaint form has no CSRF token")
            return
        city, state = rng.choice(CITIES)
        fields: list[tuple[str, str]] = [
            ("_csrf_token", token.group(1)),  # first, as the form puts it
            ("incident_day", str(rng.randint(1, 28))),
            ("incident_month", str(rng.randint(1, 12))),
            ("incident_year", "2025"),
            ("incident_time", f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"),
            ("incident_location", f"{rng.randint(100, 9999)} Main Street"),
            ("incident_city", city),
            ("incident_state", state),
            ("incident_setting", rng.choice(["traffic_stop", "street", "jail_booking"])),
            ("context_287g", "unknown"),
            ("officer_count", "1"),
            ("officer-0-name", rng.choice(["Deputy Smith", "Officer Garcia", ""])),
            ("officer-0-badge", str(rng.randint(100, 9999))),
            ("officer-0-agency", rng.choice(self.agencies)),
            ("officer-0-agency_id", ""),
            ("witness_count", "1"),
            ("witness-0-name", ""),
            ("narrative", rng.choice(NARRATIVES) + f" ({uuid.uuid4().hex[:8]})"),
            ("checklist", "stopped"),
            ("checklist", "questioned_status"),
            ("protected", "ethnicity"),
            ("complainant_role", "victim"),
            ("action", "review"),
        ]
        if rng.random() < 0.3:
            fields.append(("anonymous", "1"))
        else:
            with_email = rng.random() < self.email_share
            fields += [("name", "Bench Complainant"),
                       ("phone", "555-0100"),
                       ("email", "complainant@example.org" if with_email else ""),
                       ("preferred_contact", "email" if with_email else "phone"),
                       ("preferred_language", rng.choice(["en", "es"]))]
        # A browser sends the empty file input too; httpx then encodes multipart/form-data.
        files = [("files", ("", b"", "application/octet-stream"))]
        saved = await self.request(client, "complaint POST", "POST", "/complaint", (303,),
                                   data=_multi(fields), files=files)
        if saved is None:
            return
        # "Check your answers", then "Send my complaint", then the confirmation.
        review = await self.request(client, "review GET", "GET", "/complaint/review", (200,))
        if review is None:
            return
        review_token, token = REVIEW_TOKEN.search(review.text), CSRF.search(review.text)
        if review_token is None or token is None:
            self.results.problem("review page without its send form")
            return
        sent = await self.request(client, "send POST", "POST", "/complaint/send", (303,),
                                  data={"_csrf_token": token.group(1),
                                        "review_token": review_token.group(1)})
        if sent is None:
            return
        response = await self.request(client, "confirmation GET", "GET", "/complaint/sent",
                                      (200,))
        if response is None:
            return
        number, code = TRACKING.search(response.text), ACCESS_CODE.search(response.text)
        if number is None or code is None:
            self.results.problem("confirmation page without tracking number or access code")
            self.results.errors["complaint POST"] += 1
            return
        self.results.filed.append((number.group(1).strip(), code.group(1).strip()))

    async def look_up_status(self, client: Any, rng: random.Random) -> None:
        if not self.results.filed:
            await self.file_complaint(client, rng)
            return
        number, code = rng.choice(self.results.filed)
        page = await self.request(client, "status form GET", "GET", "/status", (200,))
        if page is None:
            return
        token = CSRF.search(page.text)
        assert token is not None
        found = await self.request(
            client, "status POST", "POST", "/status", (303,),
            data={"_csrf_token": token.group(1), "tracking_number": number.lower(),
                  "access_code": code})
        if found is None:
            return
        response = await self.request(client, "status page GET", "GET", "/status/complaint",
                                      (200,))
        if response is not None and number not in response.text:
            self.results.errors["status POST"] += 1
            self.results.problem(f"status page for {number} does not show it")

    async def public_user(self, seed: int) -> None:
        rng = random.Random(seed)
        async with self.client() as client:
            actions = 0
            while time.monotonic() < self.deadline:
                # Each virtual user is a new person (address) every 10 actions, so the hourly
                # per-address limit is counted on every request but never reached. uvicorn
                # trusts X-Forwarded-For from 127.0.0.1 by default.
                client.headers["x-forwarded-for"] = f"198.18.{seed % 250}.{actions // 10 % 250}"
                actions += 1
                if rng.random() < 0.5:
                    await self.file_complaint(client, rng)
                else:
                    await self.look_up_status(client, rng)

    # --- staff -----------------------------------------------------------------------------

    async def log_in(self, client: Any, account: StaffAccount) -> bool:
        client.cookies.clear()
        page = await self.request(client, "login form GET", "GET", "/login", (200,))
        if page is None:
            return False
        token = CSRF.search(page.text)
        assert token is not None
        response = await self.request(client, "login POST", "POST", "/login", (303,), data={
            "_csrf_token": token.group(1), "email": account.email, "password": PASSWORD,
            "next": ""})
        return response is not None

    async def case_ids(self, client: Any, query: str) -> tuple[list[int], str]:
        response = await self.request(client, "case list GET", "GET", "/cases" + query, (200,))
        if response is None:
            return [], ""
        token = CSRF.search(response.text)
        ids = list(dict.fromkeys(int(i) for i in CASE_LINK.findall(response.text)))
        return ids, token.group(1) if token else ""

    async def case_page(self, client: Any, case_id: int) -> str:
        response = await self.request(client, "case detail GET", "GET", f"/cases/{case_id}",
                                      (200,))
        if response is None:
            return ""
        token = CSRF.search(response.text)
        return token.group(1) if token else ""

    async def start_triage(self, client: Any, rng: random.Random) -> None:
        ids, _token = await self.case_ids(client, "?state=received&sort=received_desc")
        if not ids:
            return
        case_id = rng.choice(ids[:10])
        token = await self.case_page(client, case_id)
        if not token:
            return
        # 409 is the right answer when another user started triage on it a moment before.
        response = await self.request(client, "triage POST", "POST",
                                      f"/cases/{case_id}/start-triage", (303, 409),
                                      data={"_csrf_token": token})
        if response is None:
            return
        if response.status_code == 303:
            self.results.triaged.append(case_id)
        else:
            self.results.triage_conflicts += 1

    async def add_note(self, client: Any, rng: random.Random) -> None:
        ids, _token = await self.case_ids(client, "?state=in_triage")
        if not ids:
            return
        case_id = rng.choice(ids)
        token = await self.case_page(client, case_id)
        if not token:
            return
        # 409 only if the case left triage in between (nobody in this bench moves it on).
        response = await self.request(
            client, "note POST", "POST", f"/cases/{case_id}/notes", (303,),
            data={"_csrf_token": token, "note_body": f"{NOTE_MARK} {uuid.uuid4().hex}: "
                  "called the complainant back; interpreter booked for Tuesday."})
        if response is not None:
            self.results.notes += 1

    async def staff_user(self, seed: int, account: StaffAccount) -> None:
        rng = random.Random(seed)
        lists = ["", "?state=received", "?state=in_triage", "?sort=due_asc", "?q=interprete",
                 "?state=under_investigation", "?overdue=1"]
        async with self.client() as client:
            if not await self.log_in(client, account):
                return
            while time.monotonic() < self.deadline:
                roll = rng.random()
                if roll < 0.04:
                    await self.log_in(client, account)  # a new session, mid-run
                elif roll < 0.40:
                    await self.case_ids(client, rng.choice(lists))
                elif roll < 0.75:
                    ids, _token = await self.case_ids(client, "")
                    if ids:
                        await self.case_page(client, rng.choice(ids))
                elif roll < 0.88:
                    await self.start_triage(client, rng)
                else:
                    await self.add_note(client, rng)


def _multi(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """httpx's form data: repeated names as lists, first-seen order kept."""
    data: dict[str, Any] = {}
    for name, value in fields:
        if name in data:
            data[name] = [*([data[name]] if isinstance(data[name], str) else data[name]), value]
        else:
            data[name] = value
    return data


# --- bursts: limits that several workers must enforce together -------------------------------

async def burst_status_lookups(base: str, limit: int) -> tuple[int, int, int]:
    """3 x limit look-ups at once from one new address: (answered, refused 429, other)."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_keepalive_connections=0),
                                 headers={"x-forwarded-for": "203.0.113.250"}) as client:
        page = await client.get("/status")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        responses = await asyncio.gather(*[
            client.post("/status", data={"_csrf_token": token, "tracking_number": "CT-2345-6789",
                                         "access_code": "WRONG"}) for _ in range(3 * limit)])
    codes = [r.status_code for r in responses]
    return codes.count(422), codes.count(429), len(codes) - codes.count(422) - codes.count(429)


async def burst_wrong_passwords(base: str, attempts: int) -> tuple[int, int, int]:
    """Wrong passwords for one account at once, each from its own address, so only the
    per-account lock-out applies: (passwords checked 422, locked 429, other)."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_keepalive_connections=0)) as client:
        page = await client.get("/login")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        responses = await asyncio.gather(*[
            client.post("/login", headers={"x-forwarded-for": f"203.0.113.{n + 1}"},
                        data={"_csrf_token": token, "email": "bench-supervisor-0@example.org",
                              "password": f"not the password {n}", "next": ""})
            for n in range(attempts)])
    codes = [r.status_code for r in responses]
    return codes.count(422), codes.count(429), len(codes) - codes.count(422) - codes.count(429)


# --- checks after the run ---------------------------------------------------------------------

async def check_database(dsn: str, results: Results) -> list[str]:
    import asyncpg

    failures: list[str] = []
    numbers = [n for n, _code in results.filed]
    if len(set(numbers)) != len(numbers):
        failures.append(f"{len(numbers) - len(set(numbers))} tracking numbers given twice")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT tracking_number, count(*) AS n FROM ct_case WHERE tracking_number = ANY($1) "
            "GROUP BY tracking_number", numbers)
        stored = {r["tracking_number"]: r["n"] for r in rows}
        missing = [n for n in numbers if n not in stored]
        doubled = [n for n, count in stored.items() if count != 1]
        if missing:
            failures.append(f"{len(missing)} filed complaints are not in the database "
                            f"(e.g. {missing[:3]})")
        if doubled:
            failures.append(f"{len(doubled)} tracking numbers stored more than once")
        filed_events = await conn.fetch(
            "SELECT details::json->>'tracking_number' AS number, count(*) AS n FROM audit_event "
            "WHERE action = 'complaint.filed' AND details::json->>'tracking_number' = ANY($1) "
            "GROUP BY 1", numbers)
        events = {r["number"]: r["n"] for r in filed_events}
        wrong = [n for n in numbers if events.get(n) != 1]
        if wrong:
            failures.append(f"{len(wrong)} filed complaints without exactly one complaint.filed "
                            "audit event")
        twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT case_id FROM audit_event "
            "WHERE action = 'case.triage_started' GROUP BY case_id HAVING count(*) > 1) AS t")
        if twice:
            failures.append(f"{twice} cases moved into triage more than once")
        if len(set(results.triaged)) != len(results.triaged):
            failures.append("a case answered 'triage started' to two users")
        not_in_triage = await conn.fetchval(
            "SELECT count(*) FROM ct_case WHERE id = ANY($1) AND status = 'received'",
            results.triaged)
        if not_in_triage:
            failures.append(f"{not_in_triage} cases answered 'triage started' still 'received'")
        notes = await conn.fetchval("SELECT count(*) FROM case_note WHERE body LIKE $1",
                                    NOTE_MARK + " %")
        if notes != results.notes:
            failures.append(f"{results.notes} notes answered 303 but {notes} stored")
        events_total = await conn.fetchval("SELECT count(*) FROM audit_event")
        seq_max = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM audit_event")
        if events_total != seq_max:
            failures.append(f"audit log: {events_total} rows but last seq {seq_max}")
    finally:
        await conn.close()
    return failures


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def print_table(results: Results, seconds: float) -> None:
    kinds = ["complaint form GET", "complaint POST", "review GET", "send POST",
             "confirmation GET", "status form GET", "status POST", "status page GET",
             "login form GET", "login POST", "case list GET", "case detail GET", "triage POST",
             "note POST"]
    total = sum(len(v) for v in results.latencies.values())
    print()
    print(f"{'request':20} {'count':>7} {'req/s':>7} {'median ms':>10} {'p95 ms':>9} "
          f"{'max ms':>8} {'errors':>7}  statuses")
    for kind in kinds:
        times = sorted(results.latencies.get(kind, []))
        statuses = ", ".join(f"{code}:{n}" for code, n in sorted(results.statuses[kind].items()))
        if not times:
            print(f"{kind:20} {0:7d}")
            continue
        print(f"{kind:20} {len(times):7d} {len(times) / seconds:7.1f} "
              f"{statistics.median(times) * 1000:10.1f} {percentile(times, 0.95) * 1000:9.1f} "
              f"{times[-1] * 1000:8.1f} {results.errors.get(kind, 0):7d}  {statuses}")
    every = sorted(t for v in results.latencies.values() for t in v)
    if every:
        print(f"{'all':20} {total:7d} {total / seconds:7.1f} "
              f"{statistics.median(every) * 1000:10.1f} {percentile(every, 0.95) * 1000:9.1f} "
              f"{every[-1] * 1000:8.1f} {sum(results.errors.values()):7d}")


# --- main --------------------------------------------------------------------------------------

async def drive(base: str, args: argparse.Namespace, accounts: list[StaffAccount],
                agencies: list[str]) -> tuple[Results, float]:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    results = Results(measure_from=time.perf_counter() + args.warmup)
    start = time.monotonic()
    bench = Bench(base, start + args.warmup + args.duration, results, agencies,
                  args.email_share)
    staff_clients = len(accounts)
    tasks = [bench.staff_user(1000 + n, accounts[n]) for n in range(staff_clients)]
    tasks += [bench.public_user(n) for n in range(args.clients - staff_clients)]
    await asyncio.gather(*tasks)
    return results, time.monotonic() - start - args.warmup


def main() -> int:
    default_workers = 4
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=default_workers,
                        help="server worker processes (Litestar allows at most CPUs + 1)")
    parser.add_argument("--clients", type=int, default=30, help="concurrent virtual users")
    parser.add_argument("--staff-share", type=float, default=0.4,
                        help="share of the clients that are signed-in staff")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds of the same load first, checked but not timed")
    parser.add_argument("--seed-cases", type=int, default=2000,
                        help="synthetic cases seeded first (0: none)")
    parser.add_argument("--email-share", type=float, default=0.1,
                        help="share of named complainants who give an e-mail (a PDF receipt is "
                             "rendered and mailed to the outbox after the response)")
    parser.add_argument("--rate-limit", type=int, default=30,
                        help="CASETRACKER_PUBLIC_RATE_LIMIT_PER_HOUR for the run (each virtual "
                             "person stays below it; a burst checks it holds across workers)")
    parser.add_argument("--keep", action="store_true", help="keep the database and temp dir")
    args = parser.parse_args()
    cap = (os.cpu_count() or 1) + 1
    if args.workers > cap:
        print(f"note: Litestar's CLI allows at most {cap} workers on this {cap - 1}-CPU "
              f"machine; using {cap} instead of {args.workers}", flush=True)
        args.workers = cap

    tmp = Path(tempfile.mkdtemp(prefix="casetracker-bench-multiworker-"))
    var_dir = tmp / "var"
    db_name = f"ct_bench_{uuid.uuid4().hex[:8]}"
    dsn = PG_ADMIN.rsplit("/", 1)[0] + "/" + db_name
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ,
           "CASETRACKER_VAR_DIR": str(var_dir),
           "CASETRACKER_DATABASE_URL": dsn,
           "CASETRACKER_SECRET_KEY": "bench-secret-key-not-for-production-" + uuid.uuid4().hex,
           "CASETRACKER_BASE_URL": base,
           "CASETRACKER_PUBLIC_RATE_LIMIT_PER_HOUR": str(args.rate_limit),
           "PICCOLO_CONF": "casetracker.piccolo_conf"}
    os.environ.update(env)
    server: subprocess.Popen[bytes] | None = None
    log_path = tmp / "server.log"
    failures: list[str] = []
    asyncio.run(pg_execute(PG_ADMIN, f'CREATE DATABASE "{db_name}"'))
    try:
        t0 = time.perf_counter()
        run_cli(["migrate"], env)
        if args.seed_cases:
            print(run_cli(["cases", "seed", "--count", str(args.seed_cases)], env).strip()
                  .splitlines()[-1] if args.seed_cases else "", flush=True)
        staff = max(1, round(args.clients * args.staff_share))
        intake = max(1, staff // 5)
        accounts, agencies = asyncio.run(create_staff(staff - intake, intake))
        print(f"database {db_name}: migrated, {args.seed_cases:,} cases seeded, "
              f"{len(accounts)} staff accounts ({time.perf_counter() - t0:.1f} s)", flush=True)

        with log_path.open("wb") as log:
            server = subprocess.Popen(  # noqa: S603 - our own console script
                [CASETRACKER, "run", "--workers", str(args.workers), "--host", "127.0.0.1",
                 "--port", str(port)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        wait_for(base, server, log_path, args.workers)
        processes = descendants(server.pid)
        cpu_before = {pid: cpu_seconds(pid) for pid in [server.pid, *processes]}
        print(f"server up: {args.workers} workers on {base}; {args.clients} clients "
              f"({len(accounts)} staff, {args.clients - len(accounts)} public) for "
              f"{args.duration:.0f} s after {args.warmup:.0f} s of warm-up", flush=True)

        load_before = Path("/proc/loadavg").read_text().split()[0]
        client_cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        results, seconds = asyncio.run(drive(base, args, accounts, agencies))
        client_cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        load_after = Path("/proc/loadavg").read_text().split()[0]
        lookups = asyncio.run(burst_status_lookups(base, args.rate_limit))
        max_failures = int(os.environ.get("CASETRACKER_LOGIN_MAX_FAILURES", "5"))
        logins = asyncio.run(burst_wrong_passwords(base, 4 * max_failures))
        time.sleep(3)  # e-mailed receipts render after their responses
        server_output = log_path.read_text(errors="replace")  # before shutdown's own lines
        processes = descendants(server.pid)
        cpu_used = {pid: cpu_seconds(pid) - cpu_before.get(pid, 0.0)
                    for pid in [server.pid, *processes]}
        labels = {pid: process_label(pid) for pid in cpu_used}
        stop_server(server)

        print_table(results, seconds)
        client_cpu = ((client_cpu_after.ru_utime - client_cpu_before.ru_utime)
                      + (client_cpu_after.ru_stime - client_cpu_before.ru_stime))
        print()
        print(f"timed {seconds:.1f} s; over the whole run (warm-up too): complaints filed "
              f"{len(results.filed)}; cases triaged {len(results.triaged)} "
              f"(+{results.triage_conflicts} correct 409s: another user was first); "
              f"notes {results.notes}")
        busy = sorted(((cpu, pid) for pid, cpu in cpu_used.items() if cpu >= 0.05),
                      reverse=True)
        print("server CPU seconds by process: " + ", ".join(
            f"{pid} {labels[pid]} {cpu:.1f}" for cpu, pid in busy))
        print(f"load generator CPU seconds: {client_cpu:.1f} (same machine); 1-minute load "
              f"average {load_before} before, {load_after} after")
        print(f"burst of {3 * args.rate_limit} status look-ups from one address (limit "
              f"{args.rate_limit}/hour): {lookups[0]} answered, {lookups[1]} refused (429), "
              f"{lookups[2]} other")
        if lookups != (args.rate_limit, 2 * args.rate_limit, 0):
            failures.append(f"public rate limit across workers: {lookups[0]} of "
                            f"{3 * args.rate_limit} look-ups answered, limit {args.rate_limit}")
        print(f"burst of {4 * max_failures} wrong passwords for one account (lock-out after "
              f"{max_failures}): {logins[0]} passwords checked (422), {logins[1]} locked (429), "
              f"{logins[2]} other")
        if logins[0] > max_failures or logins[2]:
            failures.append(f"login lock-out under a concurrent burst: {logins[0]} wrong "
                            f"passwords were checked, limit {max_failures}")

        # --- correctness ---
        if any(code >= 500 for kinds in results.statuses.values() for code in kinds):
            failures.append("5xx responses")
        if sum(results.errors.values()):
            failures.append(f"{sum(results.errors.values())} failed requests")
        if results.session_lost:
            failures.append(f"{results.session_lost} staff requests lost their session")
        if not results.filed:
            failures.append("no complaint was filed")
        bad_lines = [line for line in server_output.splitlines()
                     if FAILURE_PATTERNS.search(line)]
        if bad_lines:
            failures.append(f"{len(bad_lines)} failure lines in the server output")
            for line in bad_lines[:10]:
                print("  server:", line[:300])
        failures += asyncio.run(check_database(dsn, results))
        verify = subprocess.run(  # noqa: S603 - our own console script
            [CASETRACKER, "audit", "verify"], env=env, cwd=ROOT, capture_output=True, text=True,
            check=False)
        print(f"casetracker audit verify: {verify.stdout.strip()} (exit {verify.returncode})")
        if verify.returncode != 0 or not verify.stdout.startswith("intact"):
            failures.append(f"audit chain: {verify.stdout.strip()} {verify.stderr.strip()[-300:]}")
        for text in results.problems[:15]:
            print("  problem:", text)
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            print(f"kept database {db_name} and {tmp}")
        else:
            asyncio.run(pg_execute(PG_ADMIN, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    if failures:
        print("CORRECTNESS FAILURES:")
        for failure in failures:
            print("  -", failure)
        return 1
    print("correctness: all checks passed (no 5xx, sessions held across workers, every "
          "complaint stored once with a unique tracking number, audit chain intact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
