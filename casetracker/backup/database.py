"""The database side of a backup: a consistent snapshot on each engine, and the facts read
from a snapshot (row counts, migrations, the audit log's head, the stored objects it refers
to), which the manifest records and ``verify``/``restore`` read again to compare.

SQLite: the online backup API copies every page in one step inside one read transaction (a
step-wise copy restarts whenever the app writes, so under steady filings it might never end).
PostgreSQL: a read-only REPEATABLE READ transaction exports its snapshot; the facts are read in
that transaction and ``pg_dump -Fc --snapshot`` dumps exactly the same state.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casetracker.audit.rules import KEYED_MARKER_ACTION, Anchor, ChainBreak, ChainChecker
from casetracker.backup.rules import StoredObject, unique_objects

Fetch = Callable[[str], Awaitable[list[tuple[Any, ...]]]]

AUDIT_COLUMNS = ("id", "seq", "occurred_at", "actor_id", "actor_label", "action",
                 "object_type", "object_id", "case_id", "ip_address", "details", "prev_hash",
                 "hash")


class DatabaseToolError(Exception):
    """pg_dump / pg_restore / SQLite refused (the message says what it printed)."""


@dataclass(frozen=True)
class Facts:
    counts: dict[str, int]
    migrations: list[str]
    audit: dict[str, Any]  # seq, hash, count, legacy_until
    objects: list[StoredObject]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def read_facts(fetch: Fetch, engine: str) -> Facts:
    """Everything the manifest records about the database, read through ``fetch``."""
    if engine == "sqlite":
        tables_sql = ("SELECT name FROM sqlite_master WHERE type = 'table' "
                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        tables_sql = ("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                      "ORDER BY tablename")
    tables = [row[0] for row in await fetch(tables_sql)]
    counts = {}
    for table in tables:
        counts[table] = int((await fetch(f"SELECT count(*) FROM {_quote(table)}"))[0][0])  # noqa: S608 - names from the catalogue
    migrations = []
    if "migration" in tables:
        migrations = [f"{app}:{name}" for app, name in await fetch(
            "SELECT app_name, name FROM migration ORDER BY app_name, name")]
    audit: dict[str, Any] = {"seq": 0, "hash": "", "count": 0, "legacy_until": 0}
    if "audit_event" in tables:
        last = await fetch("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
        marker_sql = f"SELECT min(seq) FROM audit_event WHERE action = '{KEYED_MARKER_ACTION}'"  # noqa: S608 - a constant
        marker = await fetch(marker_sql)
        if last:
            audit = {"seq": int(last[0][0]), "hash": str(last[0][1]),
                     "count": counts["audit_event"],
                     "legacy_until": int(marker[0][0]) - 1 if marker and marker[0][0] else 0}
    objects: list[StoredObject] = []
    if "evidence_item" in tables:
        for key, sha, size in await fetch(
                "SELECT storage_key, sha256, size_bytes FROM evidence_item "
                "WHERE storage_key <> ''"):
            objects.append(StoredObject("evidence", key, sha, int(size)))
    if "recommendation" in tables:
        for prefix in ("document", "redacted"):
            for key, sha, size in await fetch(
                    f"SELECT {prefix}_key, {prefix}_sha256, {prefix}_size "  # noqa: S608 - constants
                    f"FROM recommendation WHERE {prefix}_key <> ''"):
                objects.append(StoredObject("documents", key, sha,
                                            int(size) if size is not None else None))
    return Facts(counts, migrations, audit, unique_objects(objects))


async def iter_audit_rows(fetch: Fetch, batch: int = 2000
                          ) -> AsyncIterator[dict[str, Any]]:
    last = 0
    columns = ", ".join(AUDIT_COLUMNS)
    while True:
        rows = await fetch(f"SELECT {columns} FROM audit_event WHERE seq > {int(last)} "  # noqa: S608 - an int
                           f"ORDER BY seq LIMIT {int(batch)}")
        if not rows:
            return
        for row in rows:
            yield dict(zip(AUDIT_COLUMNS, row, strict=True))
        last = int(rows[-1][1])


async def check_audit_chain(fetch: Fetch, key: bytes, legacy_until: int,
                            anchors: list[Anchor]) -> tuple[int, ChainBreak | None]:
    """Walk the snapshot's audit log as ``audit verify`` does; (events checked, first break)."""
    checker = ChainChecker(key, legacy_until=legacy_until, anchors=anchors)
    async for row in iter_audit_rows(fetch):
        broken = checker.feed(row)
        if broken is not None:
            return checker.checked, broken
    return checker.checked, checker.finish()


# --- SQLite ----------------------------------------------------------------------------------

def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live database (WAL or not) as one self-contained file."""
    src = sqlite3.connect(str(source), timeout=60)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)  # every page in one step, in one read transaction
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


class SQLiteReader:
    """``fetch`` over a SQLite file, each query in a worker thread."""

    def __init__(self, path: Path, read_only: bool = True) -> None:
        uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
        self.connection = sqlite3.connect(uri, uri=True, check_same_thread=False)

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(lambda: self.connection.execute(sql).fetchall())

    def integrity(self) -> str:
        return str(self.connection.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self.connection.close()


def sqlite_has_tables(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bool(connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchall())
    finally:
        connection.close()


# --- PostgreSQL ------------------------------------------------------------------------------

def pg_tool(name: str, server_major: int | None) -> str:
    """``pg_dump``/``pg_restore`` of the server's major version when installed side by side
    (Debian's /usr/lib/postgresql/<major>/bin), else the one on PATH."""
    if server_major:
        candidate = Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if installed:
        return installed[-1]
    raise DatabaseToolError(f"{name} is not installed (install the PostgreSQL client tools "
                            "of the server's version)")


class PostgresReader:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self.connection.fetch(sql)]


async def server_major(connection: Any) -> int:
    return int(await connection.fetchval("SHOW server_version_num")) // 10000


async def run_tool(*args: str) -> None:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        tool = Path(args[0]).name
        raise DatabaseToolError(f"{tool} failed (exit {proc.returncode}): "
                                f"{(err or out).decode(errors='replace').strip()[-2000:]}")


async def pg_snapshot(dsn: str, dump_path: Path,
                      on_facts: Callable[[Facts], None] | None = None) -> Facts:
    """Dump the database with ``pg_dump -Fc`` inside one snapshot, and read the facts in it."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        try:
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            facts = await read_facts(PostgresReader(connection).fetch, "postgresql")
            if on_facts:
                on_facts(facts)
            pg_dump = pg_tool("pg_dump", await server_major(connection))
            await run_tool(pg_dump, "--format=custom", f"--snapshot={snapshot}",
                           f"--file={dump_path}", f"--dbname={dsn}")
        finally:
            await transaction.rollback()
    finally:
        await connection.close()
    return facts


async def pg_has_tables(connection: Any) -> bool:
    return bool(await connection.fetchval(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"))


async def pg_restore(dsn: str, dump_path: Path) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        major = await server_major(connection)
    finally:
        await connection.close()
    await run_tool(pg_tool("pg_restore", major), "--no-owner", "--no-privileges",
                   "--exit-on-error", "--single-transaction", f"--dbname={dsn}",
                   str(dump_path))


def facts_problems(expected: Mapping[str, Any], facts: Facts) -> list[str]:
    """Where a database's facts differ from the manifest's."""
    from casetracker.backup.rules import compare_counts

    problems = compare_counts(expected["counts"], facts.counts)
    if list(expected["migrations"]) != facts.migrations:
        problems.append("the applied migrations differ from the manifest's")
    audit = expected["audit"]
    if (facts.audit.get("seq"), facts.audit.get("hash")) != (audit.get("seq"), audit.get("hash")):
        problems.append(f"the audit log ends at event {facts.audit.get('seq')}, the manifest "
                        f"says {audit.get('seq')} (or its last hash differs)")
    listed = {(o["area"], o["key"]): o["sha256"] for o in expected["objects"]}
    for obj in facts.objects:
        if listed.get((obj.area, obj.key)) != obj.sha256:
            problems.append(f"{obj.area} object {obj.key} is referenced by the database but "
                            "not listed in the manifest with the same SHA-256")
    return problems
