"""Database engines, binding, transactions and migrations for SQLite and PostgreSQL.

SQLite: WAL (set once on the file), a 30 s busy timeout, foreign keys on (Piccolo sets it per
connection) and writes in ``BEGIN IMMEDIATE`` transactions so that concurrent requests queue
instead of failing with "database is locked". SQLite has no time-zone database, so each
connection gets ``ct_local_month(ts)`` (the "YYYY-MM" of a stored UTC timestamp in the
configured time zone; PostgreSQL does the same with ``AT TIME ZONE``). PostgreSQL: a pool
opened in the app lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from enum import Enum
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.table import Table

from casetracker.settings import Settings

APP_MODULES = (
    "casetracker.accounts.piccolo_app",
    "casetracker.audit.piccolo_app",
    "casetracker.registry.piccolo_app",
    "casetracker.cases.piccolo_app",
    "casetracker.intake.piccolo_app",
    "casetracker.evidence.piccolo_app",
    "casetracker.reports.piccolo_app",
    "casetracker.oversight.piccolo_app",
    "casetracker.jobs.piccolo_app",
)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_month(value: Any, zone: str) -> str | None:
    """"YYYY-MM" of a stored timestamp (ISO text, UTC when it carries no offset) in ``zone``;
    None for text that is not a timestamp (SQL NULL, rather than failing the whole query)."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(zone)).strftime("%Y-%m")


def fold(value: Any) -> str | None:
    """``ct_fold(text)``: lower case beyond ASCII, as PostgreSQL's ``lower()`` (SQLite's own
    ``lower()`` leaves "É" alone)."""
    return None if value is None else str(value).lower()


class _PooledConnection:
    """An aiosqlite connection lent by the pool: ``close()`` gives it back instead."""

    __slots__ = ("_connection", "_pool")

    def __init__(self, connection: Any, pool: _SQLitePool) -> None:
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_pool", pool)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:  # e.g. row_factory
        setattr(self._connection, name, value)

    async def close(self) -> None:
        await self._pool.release(self._connection)


class _SQLitePool:
    """Idle SQLite connections kept open. Piccolo opens a connection (and aiosqlite a
    thread) for every transaction and every query outside one, about 1.5 ms each: most of a
    small request's time. Connections are returned clean (no open transaction)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: list[Any] = []
        self.closed = False

    def take(self) -> Any | None:
        return self._idle.pop() if self._idle else None

    async def release(self, connection: Any) -> None:
        try:
            if connection.in_transaction:
                await connection.execute("ROLLBACK")
        except Exception:
            await connection.close()
            return
        if self.closed or len(self._idle) >= self.size:
            await connection.close()
        else:
            self._idle.append(connection)

    async def close(self) -> None:
        self.closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            with contextlib.suppress(Exception):
                await connection.close()


class CaseTrackerSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with our SQL functions (``ct_local_month``, ``ct_fold``) on
    every connection, and a pool of open connections (see ``_SQLitePool``)."""

    POOL_SIZE = 8

    def __init__(self, *args: Any, zone: str = "America/New_York", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.pool = _SQLitePool(self.POOL_SIZE)
        self._writer_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                                      asyncio.Lock] = weakref.WeakKeyDictionary()

    async def get_connection(self) -> Any:
        connection = self.pool.take()
        if connection is None:
            connection = await super().get_connection()  # sets PRAGMA foreign_keys = 1
            zone = self.zone
            await connection.create_function(
                "ct_local_month", 1, lambda value: local_month(value, zone),
                deterministic=True)
            await connection.create_function("ct_fold", 1, fold, deterministic=True)
        return _PooledConnection(connection, self.pool)

    async def close_pool(self) -> None:
        await self.pool.close()

    def writer_lock(self) -> asyncio.Lock:
        """This process's lock for write transactions, one per event loop."""
        loop = asyncio.get_running_loop()
        lock = self._writer_locks.get(loop)
        if lock is None:
            lock = self._writer_locks[loop] = asyncio.Lock()
        return lock

    async def _run_in_existing_connection(self, connection: Any, query: str,
                                          args: list[Any] | None = None,
                                          query_type: str = "generic",
                                          table: type[Table] | None = None) -> Any:
        # Piccolo's version sends "PRAGMA foreign_keys = 1" before every query of a
        # transaction (a round trip each); our connections set it once, when opened. And it
        # executes, fetches and closes the cursor in three hand-overs to aiosqlite's thread
        # (each wakes the thread and then the event loop): one does it all here.
        connection.row_factory = dict_factory
        if query_type == "insert" and self.get_version_sync() < 3.35:
            async with connection.execute(query, args or []) as cursor:
                await cursor.fetchall()
                assert table is not None  # no RETURNING before SQLite 3.35
                pk = await self._get_inserted_pk(cursor, table)
                return [{table._meta.primary_key._meta.db_column_name: pk}]
        return list(await connection.execute_fetchall(query, args or []))

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None,
                                     query_type: str = "generic",
                                     table: type[Table] | None = None) -> Any:
        # Piccolo's version opens the connection itself (without our functions); this is it,
        # on a connection from get_connection(), in one hand-over to aiosqlite's thread (plus
        # a commit only when the statement left a transaction open).
        connection = await self.get_connection()
        try:
            if query_type == "insert" and self.get_version_sync() < 3.35:
                async with connection.execute(query, args or []) as cursor:
                    await connection.commit()
                    assert table is not None  # no RETURNING before SQLite 3.35
                    pk = await self._get_inserted_pk(cursor, table)
                    return [{table._meta.primary_key._meta.db_column_name: pk}]
            rows = list(await connection.execute_fetchall(query, args or []))
            if connection.in_transaction:
                await connection.commit()
            return rows
        finally:
            await connection.close()


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return CaseTrackerSQLiteEngine(path=str(path), timeout=30, zone=settings.timezone)
    if settings.database_url.startswith(("postgres://", "postgresql://")):
        # Every statement is planned with its own values: asyncpg prepares each statement
        # once per connection, and after five runs PostgreSQL may keep one generic plan that
        # cannot see the values. The case list's plans depend on them (a rare pair of
        # search words must read the GIN index, a common word walks the ids): a generic plan
        # once walked every document of a million cases for a rare pair (issue 17).
        return PostgresEngine(config={
            "dsn": settings.database_url,
            "server_settings": {"plan_cache_mode": "force_custom_plan"},
        })
    raise DatabaseSettingError(
        "CASETRACKER_DATABASE_URL must start with sqlite:/// or postgresql:// "
        f"(got {urlparse(settings.database_url).scheme!r})"
    )


class DatabaseSettingError(ValueError):
    """The database setting itself is wrong (its message names the setting)."""


def all_table_classes() -> list[type[Table]]:
    tables: list[type[Table]] = []
    for module_name in APP_MODULES:
        module = importlib.import_module(module_name)
        tables.extend(module.APP_CONFIG.table_classes)
    return tables


_engine: Engine | None = None


def current_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("No database engine bound; call use_engine() first")
    return _engine


def use_engine(engine: Engine) -> Engine:
    """Bind every table (and Piccolo's migration bookkeeping) to ``engine``."""
    global _engine
    from piccolo.apps.migrations.tables import Migration

    from casetracker import piccolo_conf

    piccolo_conf.DB = engine
    tables: list[type[Table]] = [*all_table_classes(), Migration]
    for table in tables:
        table._meta.db = engine
    _engine = engine
    return engine


def is_sqlite() -> bool:
    return isinstance(current_engine(), SQLiteEngine)


async def open_database(settings: Settings) -> Engine:
    engine = use_engine(make_engine(settings))
    if isinstance(engine, SQLiteEngine):
        # WAL persists in the file; it cannot be set inside a transaction, so set it here.
        await engine._run_in_new_connection("PRAGMA journal_mode=WAL")
    else:
        assert isinstance(engine, PostgresEngine)
        await engine.start_connection_pool(
            min_size=min(settings.db_pool_min, settings.db_pool_max),
            max_size=settings.db_pool_max,
            reset=_keep_session,
        )
    return engine


POOL_CLOSE_SECONDS = 10


async def _keep_session(connection: Any) -> None:
    """A connection going back to the pool: asyncpg has already rolled back any open
    transaction. Its default reset also sends a query clearing session state (settings, LISTEN,
    session advisory locks, cursors): a round trip on every release, for state this app never
    sets on pooled connections (its advisory locks are transaction locks)."""


async def close_database() -> None:
    engine = _engine
    if isinstance(engine, PostgresEngine):
        pool = engine.pool
        if pool is not None:
            # asyncpg waits for every connection to come back; one never released (a task
            # cancelled between its COMMIT and the release) must not hang the shutdown.
            try:
                await asyncio.wait_for(pool.close(), timeout=POOL_CLOSE_SECONDS)
            except TimeoutError:
                pool.terminate()
            engine.pool = None
    elif isinstance(engine, CaseTrackerSQLiteEngine):
        await engine.close_pool()


# Callbacks to run once the outermost write transaction has committed (see after_commit).
_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "casetracker_after_commit", default=None)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """The one way services write: immediate on SQLite, a plain transaction on PostgreSQL.

    Nested calls join the outer transaction. Callbacks registered with ``after_commit`` run
    when the outermost one has committed (never when it rolled back).
    """
    engine = current_engine()
    if engine.current_transaction.get() is not None:
        yield engine.current_transaction.get()
        return
    callbacks: list[Callable[[], None]] = []
    token = _after_commit.set(callbacks)
    try:
        if isinstance(engine, CaseTrackerSQLiteEngine):
            # Writers of this process queue here and are handed the write lock as soon as it
            # is free; waiting inside SQLite instead sleeps in its busy handler (up to 100 ms
            # a try), which made filings under load wait far longer than they worked. Other
            # processes on the same file still meet at SQLite's lock (busy_timeout).
            async with engine.writer_lock():
                async with engine.transaction(
                        transaction_type=TransactionType.immediate) as txn:
                    yield txn
        elif isinstance(engine, SQLiteEngine):
            async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
                yield txn
        else:
            async with engine.transaction() as txn:
                yield txn
    finally:
        _after_commit.reset(token)
    for callback in callbacks:
        callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` (plain, quick, no I/O: e.g. wake a worker) after the current write
    transaction commits; at once when there is none."""
    pending = _after_commit.get()
    if pending is None or current_engine().current_transaction.get() is None:
        callback()
    else:
        pending.append(callback)


# Namespaces (first key) of the two-key advisory transaction locks, one per kind of work, kept
# here so that two features never share one by accident.
LOCK_RATE_LIMIT = 287_002  # a public rate-limit counter (bucket + address)
LOCK_EVIDENCE_FILE = 287_003  # one stored evidence file
LOCK_LOGIN = 287_004  # one account's sign-in counter
LOCK_JOBS = 287_005  # claiming background jobs
LOCK_SUBMISSION = 287_006  # one public submission key (complaint draft, Idempotency-Key)


class Statement:
    """One SQL statement for a hot path, with ``{}`` for its arguments, translated once per
    engine (``?`` for SQLite, ``$1, $2...`` for PostgreSQL) and sent straight to the current
    transaction's connection: the ORM's query strings are parsed and bundled again on every
    call, which cost more than running these statements. The text is ours, never input.
    Rows come back as mappings (``row["id"]``). Outside a transaction it runs as a raw query."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        parts = sql.split("{}")
        self._texts = {
            "sqlite": "?".join(parts),
            "postgres": "".join(part + (f"${n}" if n < len(parts) else "")
                                for n, part in enumerate(parts, start=1)),
        }

    async def fetch(self, *args: Any) -> list[Any]:
        engine = current_engine()
        transaction = engine.current_transaction.get()
        if transaction is None:
            from piccolo.querystring import QueryString

            return list(await engine.run_querystring(QueryString(self.sql, *args)))
        text = self._texts[engine.engine_type]
        if isinstance(engine, SQLiteEngine):
            return list(await engine._run_in_existing_connection(
                transaction.connection, text, list(args)))
        return list(await transaction.connection.fetch(text, *args))


# Values the drivers take as they are; anything else (a Table row for a foreign key, an Enum,
# a dict for a JSON column, a list) goes through the ORM's conversion.
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None), datetime, date, time, bytes})


class FastInsert:
    """``INSERT ... RETURNING id`` of one row of ``table`` for a hot path (a complaint being
    filed), in plain SQL built once (a ``Statement``). The table's Python defaults and value
    conversions (JSON, foreign keys, enums) are applied exactly as the ORM applies them, so the
    row is the one ``save()`` would write. Columns are the table's own, never names from input.

    With ``skip_on_conflict`` (a unique column), a row whose value is already taken is not
    written and the call returns None: one statement instead of a look-up and an insert."""

    def __init__(self, table: type[Table], *, skip_on_conflict: str | None = None) -> None:
        self.table = table
        self.columns = [c for c in table._meta.columns if not c._meta.primary_key]
        self.names = [c._meta.name for c in self.columns]
        self.name_set = frozenset(self.names)
        # Each column's default, read once (Piccolo's attribute access on a foreign key column
        # is slow); a callable default (now(), a new dict) is called for each row.
        self.defaults: list[tuple[Any, bool]] = []
        for column in self.columns:
            default = getattr(column, "default", None)
            if isinstance(default, Enum):
                default = default.value
            self.defaults.append((default, callable(default)))
        names = ", ".join(f'"{c._meta.db_column_name}"' for c in self.columns)
        marks = ", ".join("{}" for _ in self.columns)
        conflict = ""
        if skip_on_conflict is not None:
            column = table._meta.get_column_by_name(skip_on_conflict)
            conflict = f' ON CONFLICT ("{column._meta.db_column_name}") DO NOTHING'
        self.statement = Statement(
            f'INSERT INTO "{table._meta.tablename}" ({names}) '  # noqa: S608
            f'VALUES ({marks}){conflict} RETURNING "id"')

    async def __call__(self, **values: Any) -> int:
        row_id = await self.insert(**values)
        if row_id is None:  # only with skip_on_conflict; callers of __call__ never pass it
            raise RuntimeError(f"{self.table.__name__}: the row was not written")
        return row_id

    async def insert(self, **values: Any) -> int | None:
        from piccolo.utils.sql_values import convert_to_sql_value

        if not self.name_set.issuperset(values):
            unknown = sorted(set(values) - self.name_set)
            raise TypeError(f"{self.table.__name__} has no column {unknown}")
        args = []
        for name, column, (default, call) in zip(self.names, self.columns, self.defaults,
                                                 strict=True):
            if name in values:
                value = values[name]
            else:
                value = default() if call else default
            args.append(value if type(value) in _PLAIN_VALUES
                        else convert_to_sql_value(value, column))
        rows = await self.statement.fetch(*args)
        return int(rows[0]["id"]) if rows else None


async def lock_in_transaction(namespace: int, name: str) -> None:
    """Inside a write transaction: serialise work on ``name`` across processes until the
    transaction ends. PostgreSQL: an advisory transaction lock (two names sharing a hash only
    wait for each other); SQLite: nothing to do, its immediate write transaction already
    serialises every writer."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return
    from piccolo.querystring import QueryString

    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
    await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock({}, {})",
                                             namespace, key))


def connection_problem(exc: BaseException, settings: Settings) -> str | None:
    """One sentence naming why the database cannot be used and the setting to fix, for errors
    that mean "wrong address, role, password, port or database"; None for anything else."""
    url = settings.database_url
    where = "CASETRACKER_DATABASE_URL"
    if settings.is_sqlite:
        if isinstance(exc, sqlite3.OperationalError | OSError):
            return (f"Cannot open the SQLite database {settings.sqlite_path} ({exc}). Fix "
                    f"{where} or CASETRACKER_VAR_DIR, or the folder's permissions.")
        return None
    parsed = urlparse(url)
    try:
        host = f"{parsed.hostname or 'localhost'}:{parsed.port or 5432}"
    except ValueError:
        return f"The port in {where} is not a number ({parsed.netloc.rsplit(':', 1)[-1]!r})."
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return None
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"PostgreSQL at {host} says: {exc}. Create the database, or fix {where}."
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return f"PostgreSQL at {host} says: {exc}. Fix the password in {where}."
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return (f"PostgreSQL at {host} says: {exc}. Fix the user (role) in {where}, or create "
                "the role.")
    if isinstance(exc, asyncpg.PostgresError):
        return f"PostgreSQL at {host} refused the connection: {exc}. Check {where}."
    if isinstance(exc, TimeoutError | OSError):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (
            str(exc) or type(exc).__name__)
        return (f"Cannot reach PostgreSQL at {host} ({reason}). Check the host and port in "
                f"{where}, and that the server is running.")
    return None


def is_unique_violation(exc: BaseException) -> bool:
    """Unique violations differ by driver; catch them in one place."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc).upper()
    try:
        import asyncpg

        return isinstance(exc, asyncpg.UniqueViolationError)
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False


async def migrate(quiet: bool = True) -> None:
    """Apply every pending migration of every app, in dependency order."""
    import warnings

    from piccolo.apps.migrations.commands.forwards import run_forwards

    # SQLite has no column lengths; Piccolo warns on every length change it skips there (the
    # column works as before), which only alarms a newcomer on the first `make run`.
    warnings.filterwarnings("ignore", message=".*SQLITE doesn't support changes in length")
    if quiet:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            result = await run_forwards(app_name="all")
    else:
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"Migrations failed: {result.message}")


async def migrate_with_lock() -> None:
    """Migrate under an advisory lock on PostgreSQL so parallel starts never race."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        # A session-level advisory lock on a dedicated connection around the migration run.
        import asyncpg

        conn = await asyncpg.connect(engine.config["dsn"])
        try:
            await conn.execute("SELECT pg_advisory_lock(287287)")
            await migrate()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(287287)")
            await conn.close()
    else:
        await migrate()

