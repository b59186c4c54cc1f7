"""Without CASETRACKER_BASE_URL, the address in the first-start banner, e-mails and links is
the one the server was started on: CASETRACKER_PORT / CASETRACKER_HOST, or `run --port`."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from casetracker.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "http://127.0.0.1:8000"),
    ({"CASETRACKER_PORT": "8131"}, "http://127.0.0.1:8131"),
    ({"CASETRACKER_HOST": "0.0.0.0", "CASETRACKER_PORT": "8131"},  # noqa: S104
     "http://127.0.0.1:8131"),
    ({"CASETRACKER_HOST": "casetracker.local", "CASETRACKER_PORT": "9000"},
     "http://casetracker.local:9000"),
    ({"CASETRACKER_PORT": "8131", "CASETRACKER_BASE_URL": "https://complaints.example.org/"},
     "https://complaints.example.org"),
])
def test_base_url_follows_the_port_unless_set(monkeypatch: pytest.MonkeyPatch,
                                               env: dict[str, str], expected: str) -> None:
    for name in ("CASETRACKER_PORT", "CASETRACKER_HOST", "CASETRACKER_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings().base_url == expected


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_start_banner(tmp_path: Path, args: list[str], extra_env: dict[str, str]) -> str:
    """Start `casetracker run ARGS` on an empty database, return its output up to the
    administrator banner's sign-in line, and stop it."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("CASETRACKER_BASE_URL", "CASETRACKER_PORT", "CASETRACKER_HOST",
                          "LITESTAR_APP", "LITESTAR_PORT", "LITESTAR_HOST")}
    env.update({"CASETRACKER_VAR_DIR": str(tmp_path / "var"),
                "CASETRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
                "CASETRACKER_PDF_WORKERS": "0", **extra_env})
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [sys.executable, "-m", "casetracker", "run", *args], cwd=ROOT, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    seen = []
    try:
        while True:
            line = lines.get(timeout=120)
            seen.append(line)
            if not line or "Sign in at" in line:
                break
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = "".join(seen)
    assert "Sign in at" in output, output[-3000:]
    return output


@pytest.mark.slow
def test_run_port_option_names_its_port_in_the_banner(tmp_path: Path) -> None:
    port = _free_port()
    output = _first_start_banner(tmp_path, ["--port", str(port)], {})
    assert f"Sign in at http://127.0.0.1:{port}/login" in output
    assert ":8000" not in output

