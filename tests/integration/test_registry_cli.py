"""``casetracker registry import-ice`` as a person runs it: a real process on the test's
migrated database, on each engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from casetracker.registry.tables import Agreement
from tests.conftest import SHARED_DATA

PENDING = SHARED_DATA / "ice-287g" / "pendingAgencies07182025pm.xlsx"


def run(args: list[str], settings: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASETRACKER_VAR_DIR": str(settings.var_dir),
           "CASETRACKER_DATABASE_URL": settings.database_url}
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [sys.executable, "-m", "casetracker", *args], env=env, capture_output=True, text=True,
        timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.shared_data("ice-287g/pendingAgencies07182025pm.xlsx")
async def test_import_ice_prints_a_summary_and_fails_on_unreadable_files(
        settings: Any, tmp_path: Path) -> None:
    result = run(["registry", "import-ice", str(PENDING)], settings)
    assert result.returncode == 0, result.stderr
    assert "pending sheet" in result.stdout
    assert "added:            26" in result.stdout
    assert "rejected:         0" in result.stdout
    assert await Agreement.count().where(Agreement.status == "pending") == 26

    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a spreadsheet")
    result = run(["registry", "import-ice", str(junk)], settings)
    assert result.returncode == 1
    assert "Cannot import" in result.stderr and "junk.xlsx" in result.stderr
