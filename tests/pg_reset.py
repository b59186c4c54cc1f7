"""A PostgreSQL database per test process, put back to its just-migrated state before each test.

Copying a template database per test (``CREATE DATABASE ... TEMPLATE`` then ``DROP DATABASE``)
cost about a second a test on the 2-core machines. Instead each test process (each pytest-xdist
worker) creates one working database from the migrated template once, remembers what the
migrations left in it (the rows of every non-empty table, every sequence's position, a
fingerprint of the schema), and before each test:

- ends any connection a previous test left open on it (as ``DROP DATABASE ... WITH (FORCE)``
  did);
- re-creates it from the template if a test changed the schema (the fingerprint differs);
- otherwise empties every table that holds rows (only the tables the test wrote to), puts back
  the rows the migrations had written, and sets every sequence back, so ids start where they
  started in a fresh copy.

A test sees what a fresh copy of the template gave it, for about 30 ms instead of a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_SCHEMA_FINGERPRINT = """
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace),
       (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
           AND NOT a.attisdropped),
       (SELECT count(*) FROM pg_trigger),
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace),
       (SELECT count(*) FROM pg_namespace),
       (SELECT count(*) FROM pg_extension),
       (SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace)
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class ResettableDatabase:
    """One working database, created from ``template``, reset between tests."""

    name: str
    template: str
    admin_dsn: str
    tables: list[str] = field(default_factory=list)
    seeds: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = field(default_factory=dict)
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)
    fingerprint: tuple[int, ...] = ()
    fresh: bool = False  # just created: the next test needs no reset

    def dsn(self) -> str:
        return self.admin_dsn.rsplit("/", 1)[0] + "/" + self.name

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self) -> None:
        """(Re-)create the working database from the template and remember its state."""
        await self._admin(f"DROP DATABASE IF EXISTS {_quote(self.name)} WITH (FORCE)")
        await self._admin(f"CREATE DATABASE {_quote(self.name)} TEMPLATE {_quote(self.template)}")
        # Tests never need a commit to survive a crash of the server: do not wait for the
        # write-ahead log to reach the disk at each commit (a per-database default).
        await self._admin(f"ALTER DATABASE {_quote(self.name)} SET synchronous_commit = off")
        import asyncpg

        conn = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            await self._remember(conn)
        finally:
            await conn.close()
        self.fresh = True

    async def _remember(self, conn: Any) -> None:
        self.tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        self.seeds = {}
        for table in self.tables:
            if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quote(table)})"):  # noqa: S608
                columns = [r["attname"] for r in await conn.fetch(
                    "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass "
                    "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                    _quote(table))]
                listed = ", ".join(_quote(c) for c in columns)
                rows = [tuple(r) for r in await conn.fetch(
                    f"SELECT {listed} FROM {_quote(table)}")]  # noqa: S608
                self.seeds[table] = (columns, rows)
        self.sequences = [
            (f"{_quote(r['schemaname'])}.{_quote(r['sequencename'])}",
             r["last_value"] if r["last_value"] is not None else r["start_value"],
             r["last_value"] is not None)
            for r in await conn.fetch(
                "SELECT schemaname, sequencename, last_value, start_value FROM pg_sequences "
                "WHERE schemaname = 'public'")]
        self.fingerprint = tuple(await conn.fetchrow(_SCHEMA_FINGERPRINT))

    async def reset(self) -> None:
        """Put the database back to the state the template gave it."""
        if self.fresh:
            self.fresh = False
            return
        import asyncpg

        await self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
            f"WHERE datname = '{self.name}' AND pid <> pg_backend_pid()")
        conn = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            if tuple(await conn.fetchrow(_SCHEMA_FINGERPRINT)) != self.fingerprint:
                recreate = True
            else:
                recreate = False
                await self._empty(conn)
        finally:
            await conn.close()
        if recreate:
            await self.create()
            self.fresh = False

    async def _empty(self, conn: Any) -> None:
        probes = " UNION ALL ".join(
            f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {_quote(t)})"  # noqa: S608
            for i, t in enumerate(self.tables))
        dirty = {self.tables[r[0]] for r in await conn.fetch(probes)} | set(self.seeds)
        async with conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '10s'")
            # Replica mode: no triggers, no foreign-key checks, so the tables empty (and the
            # migrations' rows go back) in any order. DELETE, not TRUNCATE: a TRUNCATE of
            # ct_user must name (or CASCADE to) nearly every table and took 0.3-0.8 s, where
            # deleting the few rows a test wrote takes milliseconds (autovacuum tidies up).
            await conn.execute("SET LOCAL session_replication_role = replica")
            for table in sorted(dirty):
                await conn.execute(f"DELETE FROM {_quote(table)}")  # noqa: S608
            for table, (columns, rows) in self.seeds.items():
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            if self.sequences:
                await conn.execute("SELECT " + ", ".join(
                    f"setval('{name}', {value}, {'true' if called else 'false'})"
                    for name, value, called in self.sequences))

    async def drop(self) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {_quote(self.name)} WITH (FORCE)")
