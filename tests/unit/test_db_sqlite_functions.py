"""The SQL functions casetracker adds to SQLite (PostgreSQL has them built in) exist on every
connection: plain queries and transactions alike."""

from __future__ import annotations

from pathlib import Path

from casetracker import db


async def test_functions_on_plain_queries_and_in_transactions(tmp_path: Path) -> None:
    engine = db.CaseTrackerSQLiteEngine(path=str(tmp_path / "f.sqlite3"), zone="America/New_York")
    sql = ("SELECT ct_local_month('2024-02-01 04:30:00+00:00') AS late_january, "
           "ct_local_month('2024-02-01 05:30:00.123456+00:00') AS february, "
           "ct_local_month('2024-02-01 04:30:00') AS naive_is_utc, "
           "ct_local_month('not a time') AS garbage, ct_local_month(NULL) AS missing, "
           "ct_fold('JOSÉ NÚÑEZ') AS folded")
    expected = {"late_january": "2024-01", "february": "2024-02", "naive_is_utc": "2024-01",
                "garbage": None, "missing": None, "folded": "josé núñez"}
    assert (await engine._run_in_new_connection(sql))[0] == expected
    async with engine.transaction():
        assert (await engine.run_ddl(sql))[0] == expected
