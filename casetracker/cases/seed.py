"""Realistic synthetic cases in bulk, for benchmarks and demonstrations.

``casetracker cases seed --count 100000 --seed 1`` adds cases across every state, with the
officers the complainants described (most linked to the registry), typed allegations, findings
on closed cases, notes, English and Spanish narratives (with accents), and the 287(g)
deadlines computed by ``cases.clocks``. When the registry is empty it first creates agencies,
agreements (JEM/WSO/TFM), officers and designations; when there is no investigator it creates
some (they cannot sign in: their password hash is unusable).

Speed: rows are generated in Python with a seeded ``random.Random`` (the same seed gives the
same data), in a worker thread while the previous batch is written, one transaction per batch,
with the driver itself: ``executemany`` on SQLite, ``COPY`` on PostgreSQL. Ids are assigned
here so related rows need no round trip; PostgreSQL sequences are moved past them at the end.
The search triggers are suspended during the load and the new cases' search documents are
filled once at the end (by the statement the triggers run, or the app's own PostgreSQL
function); a load at least as large as the table also drops the secondary indexes of the
tables it fills and builds them once at the end. Then statistics (ANALYZE) and the
dashboard's stored figures. Times: docs/cases-lists.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.columns import JSON, Date, Timestamp, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.cases import search
from casetracker.cases.clocks import BusinessCalendar, ClockRules, intake_deadlines, results_due
from casetracker.cases.tables import Allegation, Case, CaseNote, CaseOfficer
from casetracker.registry.rules import agency_match_key
from casetracker.registry.tables import Agency, Agreement, Designation, Officer
from casetracker.settings import get_settings

STATE_WEIGHTS = {
    "received": 4, "in_triage": 6, "declined": 6, "referred": 7, "open": 4,
    "under_investigation": 30, "findings_submitted": 4, "under_review": 4, "returned": 2,
    "closed": 33,
}
ALLEGATION_WEIGHTS = {
    "racial_profiling": 30, "unlawful_stop": 18, "unlawful_detention": 14, "search": 10,
    "force": 8, "language_access": 10, "discourtesy": 7, "other": 3,
}
CHARACTERISTICS = ("race", "ethnicity", "national_origin", "language", "immigration_status",
                   "religion", "sex")
FINDINGS = {"sustained": 14, "not_sustained": 30, "unfounded": 18, "exonerated": 16,
            "policy_failure": 2, "training_failure": 2, "withdrawn": 6, "mediated": 3,
            "officer_unidentified": 5, "complainant_unavailable": 4}
SETTINGS_ = ("traffic_stop", "street", "jail_booking", "home", "workplace", "other")
CONTEXTS = ("unknown", "jail_screening", "warrant_service", "field")
CHECKLIST = ("stopped", "questioned_status", "searched", "arrested", "detainer", "force",
             "slurs", "interpreter_denied", "property_taken")
STATES_US = ("TX", "FL", "GA", "NC", "AZ", "TN", "AL", "SC", "OK", "LA", "VA", "MO")
PLACES = {
    "TX": ["Harris", "Bexar", "Tarrant", "El Paso", "Hidalgo"],
    "FL": ["Miami-Dade", "Collier", "Polk", "Hillsborough", "Lee"],
    "GA": ["Cobb", "Gwinnett", "Hall", "Whitfield"],
    "NC": ["Mecklenburg", "Wake", "Alamance", "Gaston"],
    "AZ": ["Maricopa", "Pinal", "Yuma"],
    "TN": ["Davidson", "Knox", "Rutherford"],
    "AL": ["Etowah", "Madison"],
    "SC": ["Charleston", "Lexington", "York"],
    "OK": ["Tulsa", "Oklahoma"],
    "LA": ["Jefferson", "Lafourche"],
    "VA": ["Prince William", "Culpeper"],
    "MO": ["Jackson", "Greene"],
}
FIRST = ("José", "María", "Andrés", "Lucía", "Raúl", "Sofía", "Ramón", "Inés", "Jesús",
         "Mónica", "Héctor", "Begoña", "Nuño", "Ángel", "James", "Linda", "Kevin", "Grace",
         "Thanh", "Amina", "Olusegun", "Priya", "Wei", "Fátima")
LAST = ("Pérez", "González", "Rodríguez", "Hernández", "Muñoz", "López", "Martínez", "Núñez",
        "Ibáñez", "Gutiérrez", "Smith", "Johnson", "Nguyen", "Okafor", "Ali", "Patel", "Chen",
        "Castañeda", "Peña", "Álvarez")
OFFICER_FIRST = ("Dale", "Randy", "Cody", "Brandon", "Tammy", "Wade", "Travis", "Kyle",
                 "Shane", "Misty", "Luis", "Ray", "Derek", "Heather", "Billy")
OFFICER_LAST = ("Walker", "Hughes", "Tucker", "Barnes", "Reed", "Bishop", "Mason", "Porter",
                "Cole", "Wade", "Garza", "Lawson", "Floyd", "Pruitt", "Hale", "Dunn")

EN_OPENINGS = (
    "I was driving home from work on {road} when a deputy pulled me over.",
    "Two officers stopped me outside the {store} on {road}.",
    "My husband {name} was booked at the county jail after a traffic stop.",
    "I was waiting for the bus near {road} when a patrol car stopped next to me.",
    "Deputies came to our apartment early in the morning looking for my cousin {name}.",
    "At the checkpoint on {road} the officer only asked the Latino drivers for papers.",
)
EN_MIDDLES = (
    "He did not say why I was stopped and asked where I was born.",
    "The officer asked for my papers and said I looked like I was not from here.",
    "They searched the car without asking and threw my things on the ground.",
    "I asked for an interpreter and they laughed and said to speak English.",
    "He grabbed my arm and pushed me against the truck in front of my children.",
    "At the jail they asked me about my immigration status before anything else.",
    "They held me for two days after the judge said I could go, because of an ICE hold.",
    "He called me names and said people like me should go back.",
)
EN_ENDINGS = (
    "I want this investigated. I have the receipt from the store with the time.",
    "My neighbor saw everything and can be a witness.",
    "I am afraid to drive now. Nobody told me how to complain.",
    "I recorded part of it on my phone.",
    "I was never given a ticket, so I do not understand why I was stopped.",
)
ES_OPENINGS = (
    "Iba manejando a mi trabajo por {road} cuando un policía me detuvo.",
    "Dos oficiales me pararon afuera de la tienda {store} en {road}.",
    "A mi esposo {name} lo llevaron a la cárcel del condado después de una parada de tráfico.",
    "Estaba esperando el camión cerca de {road} cuando una patrulla se paró a mi lado.",
    "Los agentes llegaron a nuestro apartamento muy temprano buscando a mi primo {name}.",
    "En el retén de {road} el oficial sólo le pedía papeles a los conductores latinos.",
)
ES_MIDDLES = (
    "No me dijo por qué me paró y me preguntó dónde nací.",
    "El oficial me pidió mis papeles y dijo que yo no parecía de aquí.",
    "Revisaron el carro sin pedir permiso y tiraron mis cosas al suelo.",
    "Pedí un intérprete y se rieron; me dijeron que hablara inglés.",
    "Me agarró del brazo y me empujó contra la camioneta enfrente de mis hijos.",
    "En la cárcel me preguntaron por mi situación migratoria antes que nada.",
    "Me detuvieron dos días después de que el juez dijo que podía salir, por una orden de ICE.",
    "Me insultó y dijo que la gente como yo debería regresarse a su país.",
)
ES_ENDINGS = (
    "Quiero que esto se investigue. Tengo el recibo de la tienda con la hora.",
    "Mi vecina vio todo y puede ser testigo.",
    "Ahora tengo miedo de manejar. Nadie me explicó cómo poner una queja.",
    "Grabé una parte con mi teléfono.",
    "Nunca me dieron una multa, así que no entiendo por qué me detuvieron.",
)
ROADS = ("Highway 59", "Calle Real", "Main Street", "Peñasco Road", "Farm Road 1431",
         "Avenida Juárez", "Route 9", "Old Spanish Trail", "Buford Highway", "Bellaire Blvd")
STORES = ("Fiesta Mart", "La Michoacana", "Dollar General", "Walmart", "El Súper",
          "Carnicería Jalisco")
NOTES_EN = (
    "Called the complainant; interview set for next week with a Spanish interpreter.",
    "Requested body-worn camera footage from the agency.",
    "Dispatch log received: stop reason recorded as 'suspicious vehicle'.",
    "Witness confirmed the officer asked about immigration status.",
    "Agency internal affairs acknowledged the referral.",
    "Reviewed booking records; detainer lodged before the 287(g) screening.",
)
NOTES_ES = (
    "Hablé con la denunciante; la entrevista será en español con intérprete.",
    "El testigo confirmó que el oficial preguntó por el estatus migratorio.",
    "Se pidió el video de la cámara corporal a la agencia.",
    "La denunciante pidió que no la llamen al trabajo.",
)

QUARTERS = ("00", "15", "30", "45")
# The tables a seed fills (their secondary indexes are built once at the end of a bulk load).
BULK_TABLES = ("ct_case", "case_officer", "allegation", "case_note")
SQLITE_CACHE_KIB = 512 * 1024  # the seeding connection's page cache
PG_MAINTENANCE_MEM = "512MB"  # for building the indexes again
PG_DOCS_CHUNK = 25_000  # cases per call of the search documents' function
# Not a password: a value no password hash can equal, so seeded users cannot sign in.
UNUSABLE_PASSWORD = "!seeded-user-cannot-sign-in"  # noqa: S105


@dataclass
class SeedReport:
    cases: int = 0
    case_officers: int = 0
    allegations: int = 0
    notes: int = 0
    agencies_created: int = 0
    officers_created: int = 0
    investigators_created: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _weighted(rng: random.Random, weights: dict[str, int]) -> Callable[[], str]:
    keys = list(weights)
    cumulative = []
    total = 0
    for key in keys:
        total += weights[key]
        cumulative.append(total)

    def pick() -> str:
        return rng.choices(keys, cum_weights=cumulative, k=1)[0]

    return pick


def _python_default(column: Any, now: datetime) -> Any:
    default = column.default
    if isinstance(default, TimestamptzNow):
        return now
    if isinstance(column, JSON):
        return "[]"
    if callable(default):
        return default()
    if hasattr(default, "value"):
        return default.value
    return default


class _Writer:
    """Bulk writes on one driver connection, one transaction per batch.

    A large load (``bulk``: at least as many new cases as there are already) first drops the
    secondary indexes of the tables it fills and builds them again once at the end (sorting
    once is far cheaper than keeping ~40 indexes up to date row by row); the search
    triggers are suspended for any load. ``finish`` puts back exactly the statements it
    took away (read from the database's own catalogue), so the schema after seeding is the
    schema before, and then fills the search documents of the new cases.
    """

    def __init__(self) -> None:
        self.engine = db.current_engine()
        self.sqlite = isinstance(self.engine, SQLiteEngine)
        self.conn: Any = None
        self.suspended: list[tuple[str, str]] = []
        self.dropped_indexes: list[tuple[str, str, str]] = []  # (table, index, its SQL)
        self.sqlite_lock = threading.Lock()

    async def __aenter__(self) -> _Writer:
        if self.sqlite:
            # one connection used from worker threads in turn (asyncio.to_thread)
            self.conn = sqlite3.connect(self.engine.connection_kwargs["database"], timeout=60,
                                        isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA foreign_keys = ON")
            # This connection only: a bulk load of synthetic data need not wait for the disk
            # at each commit (the file's WAL mode is untouched), and a large page cache keeps
            # the indexes being filled in memory.
            self.conn.execute("PRAGMA synchronous = OFF")
            self.conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            self.conn.execute("PRAGMA temp_store = MEMORY")
        else:
            import asyncpg

            self.conn = await asyncpg.connect(self.engine.config["dsn"])
            await self.conn.execute("SET synchronous_commit = off")
            await self.conn.execute(f"SET maintenance_work_mem = '{PG_MAINTENANCE_MEM}'")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.sqlite:
            self.conn.close()
        else:
            await self.conn.close()

    async def next_id(self, table: type[Table]) -> int:
        name = table._meta.tablename
        if self.sqlite:
            row = self.conn.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{name}"').fetchone()  # noqa: S608
            return int(row[0]) + 1
        return int(await self.conn.fetchval(f'SELECT COALESCE(MAX(id), 0) FROM "{name}"')) + 1  # noqa: S608

    async def write(self, batches: list[tuple[type[Table], list[str], list[tuple[Any, ...]]]]
                    ) -> None:
        """Several tables' rows in one transaction (parents first)."""
        if self.sqlite:
            await asyncio.to_thread(self._write_sqlite, batches)
            return
        async with self.conn.transaction():
            for table, columns, rows in batches:
                if rows:
                    await self.conn.copy_records_to_table(table._meta.tablename, records=rows,
                                                          columns=columns)

    def _sqlite_transaction(self, work: Callable[[], None]) -> None:
        """``work`` in one write transaction, alone on the connection (even when a batch's
        thread outlives its cancelled task, on Ctrl-C, and ``finish`` runs meanwhile)."""
        with self.sqlite_lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                work()
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def _write_sqlite(self, batches: list[tuple[type[Table], list[str], list[tuple[Any, ...]]]]
                      ) -> None:
        def insert() -> None:
            for table, columns, rows in batches:
                if not rows:
                    continue
                names = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join("?" for _ in columns)
                # rows from _rows(..., sqlite=True): values ready for the driver
                self.conn.executemany(
                    f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({marks})',  # noqa: S608
                    rows)

        self._sqlite_transaction(insert)

    async def prepare(self, *, bulk: bool) -> None:
        """Suspend the search triggers; for a bulk load, drop the secondary indexes too."""
        if self.sqlite:
            self.suspended = self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'case_search_%'").fetchall()
            if bulk:
                marks = ", ".join("?" for _ in BULK_TABLES)
                # Explicit, non-unique indexes only: unique ones keep checking as rows arrive.
                self.dropped_indexes = self.conn.execute(
                    "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
                    f"AND tbl_name IN ({marks}) AND sql IS NOT NULL "
                    "AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name", BULK_TABLES).fetchall()

            def drop() -> None:
                for name, _sql in self.suspended:
                    self.conn.execute(f'DROP TRIGGER "{name}"')
                for _table, name, _sql in self.dropped_indexes:
                    self.conn.execute(f'DROP INDEX "{name}"')

            self._sqlite_transaction(drop)
            return
        async with self.conn.transaction():
            for table in search.PG_TRIGGER_TABLES:
                await self.conn.execute(
                    f"ALTER TABLE {table} DISABLE TRIGGER case_search_doc_sync")
            if bulk:
                # Neither unique nor behind a constraint (primary keys, unique columns), and
                # plain columns only: pg_get_indexdef gives back a partial index's predicate
                # or an expression rewritten (same meaning, other text), so those stay.
                self.dropped_indexes = [tuple(r) for r in await self.conn.fetch(
                    "SELECT t.relname, ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class ic ON ic.oid = i.indexrelid "
                    "JOIN pg_class t ON t.oid = i.indrelid "
                    "WHERE t.relname = ANY($1::text[]) "
                    "AND t.relnamespace = current_schema()::regnamespace "
                    "AND NOT i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL "
                    "AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                    "ORDER BY t.relname = 'case_search_doc', ic.relname",
                    [*BULK_TABLES, "case_search_doc"])]
                for _table, name, _sql in self.dropped_indexes:
                    await self.conn.execute(f'DROP INDEX "{name}"')

    async def finish(self, first_case_id: int,
                     progress: Callable[[str], None] | None = None) -> None:
        """Indexes back, the new cases' search documents, the triggers back, statistics."""
        say = progress or (lambda _message: None)
        if self.sqlite:
            def rebuild() -> None:
                for _table, _name, sql in self.dropped_indexes:
                    self.conn.execute(sql)

            def fill() -> None:
                self.conn.execute("DELETE FROM case_search_fts WHERE rowid >= ?",
                                  (first_case_id,))
                self.conn.execute(search.SQLITE_FILL.format(
                    ids="SELECT id FROM ct_case WHERE id >= ?"), (first_case_id,))
                for _name, sql in self.suspended:
                    self.conn.execute(sql)

            def analyze() -> None:
                self.conn.execute("ANALYZE")

            if self.dropped_indexes:
                started = time.perf_counter()
                await asyncio.to_thread(self._sqlite_transaction, rebuild)
                say(f"{len(self.dropped_indexes)} indexes built again in "
                    f"{time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            await asyncio.to_thread(self._sqlite_transaction, fill)
            say(f"search documents filled in {time.perf_counter() - started:.0f} s")
            started = time.perf_counter()
            await asyncio.to_thread(self._sqlite_transaction, analyze)
            say(f"statistics (ANALYZE) in {time.perf_counter() - started:.0f} s")
            return
        case_indexes = [sql for table, _name, sql in self.dropped_indexes
                        if table != "case_search_doc"]
        doc_indexes = [sql for table, _name, sql in self.dropped_indexes
                       if table == "case_search_doc"]
        started = time.perf_counter()
        for sql in case_indexes:
            await self.conn.execute(sql)
        if case_indexes:
            say(f"{len(case_indexes)} indexes built again in "
                f"{time.perf_counter() - started:.0f} s")
        # The app's own function fills the documents (the one its triggers call), by ranges
        # of ids so that no statement holds a million-element array, on two connections at
        # once (to_tsvector is the cost; nothing else runs meanwhile).
        started = time.perf_counter()
        last = int(await self.conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM ct_case"))
        ranges = list(range(first_case_id, last + 1, PG_DOCS_CHUNK))

        async def fill(conn: Any) -> None:
            while ranges:
                low = ranges.pop(0)
                await conn.execute(
                    "SELECT casetracker_refresh_search_docs(ARRAY(SELECT id FROM ct_case "
                    "WHERE id >= $1 AND id < $2))", low, low + PG_DOCS_CHUNK)

        import asyncpg

        second = await asyncpg.connect(self.engine.config["dsn"])
        try:
            await second.execute("SET synchronous_commit = off")
            await asyncio.gather(fill(self.conn), fill(second))
        finally:
            await second.close()
        for sql in doc_indexes:
            await self.conn.execute(sql)
        say(f"search documents filled in {time.perf_counter() - started:.0f} s")
        async with self.conn.transaction():
            for table in search.PG_TRIGGER_TABLES:
                await self.conn.execute(
                    f"ALTER TABLE {table} ENABLE TRIGGER case_search_doc_sync")
        # After a bulk load: planner statistics, and the visibility map that lets
        # PostgreSQL answer counts from (partial) indexes alone. Autovacuum would get
        # there too, later.
        started = time.perf_counter()
        for table in (*BULK_TABLES, "case_search_doc"):
            await self.conn.execute(f"VACUUM ANALYZE {table}")
        say(f"VACUUM ANALYZE in {time.perf_counter() - started:.0f} s")

    async def fix_sequences(self, tables: list[type[Table]]) -> None:
        if self.sqlite:
            return
        for table in tables:
            name = table._meta.tablename
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # noqa: S608
                f'(SELECT COALESCE(MAX(id), 1) FROM "{name}"))')


def _sqlite_value(value: Any) -> Any:
    # The same text Piccolo writes (sqlite3 adapters registered by piccolo.engine.sqlite).
    if isinstance(value, datetime):
        return str(value.astimezone(UTC))
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(table: type[Table], values: list[dict[str, Any]], now: datetime, *,
          sqlite: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows as tuples in the table's column order, defaults filled in; ``sqlite``: dates
    and times as the text Piccolo writes there."""
    columns = [c for c in table._meta.columns]
    names = [c._meta.db_column_name for c in columns]
    defaults = [None if name == "id" else _python_default(c, now)
                for c, name in zip(columns, names, strict=True)]
    spec = list(zip(names, defaults, strict=True))  # every row carries its own "id"
    if not sqlite:
        return names, [tuple([row.get(name, default) for name, default in spec])
                       for row in values]
    dated = [n for n, c in enumerate(columns) if isinstance(c, (Timestamptz, Timestamp, Date))]
    out = []
    for row in values:
        cells = [row.get(name, default) for name, default in spec]
        for n in dated:
            cells[n] = _sqlite_value(cells[n])
        out.append(tuple(cells))
    return names, out


async def _ensure_registry(rng: random.Random, writer: _Writer, now: datetime,
                           report: SeedReport) -> tuple[list[dict[str, Any]],
                                                        dict[int, list[dict[str, Any]]],
                                                        dict[int, list[dict[str, Any]]]]:
    """Agencies, their agreements and officers (created when the registry is empty)."""
    if await Agency.count() == 0:
        agencies, agreements, officers, designations = [], [], [], []
        agency_id, agreement_id, officer_id = (await writer.next_id(Agency),
                                               await writer.next_id(Agreement),
                                               await writer.next_id(Officer))
        designation_id = await writer.next_id(Designation)
        for state in STATES_US:
            for county in PLACES[state]:
                for kind, suffix in (("county", f"{county} County Sheriff's Office"),
                                     ("municipality", f"{county} Police Department")):
                    if kind == "municipality" and rng.random() < 0.5:
                        continue
                    agencies.append({"id": agency_id, "name": suffix, "state": state,
                                     "county": county, "kind": kind,
                                     "match_key": agency_match_key(state, suffix),
                                     "created_at": now, "updated_at": now})
                    models = rng.sample(["JEM", "WSO", "TFM"], k=rng.choice((1, 1, 2, 3)))
                    agency_agreements = []
                    for model in models:
                        agreements.append({
                            "id": agreement_id, "agency": agency_id, "model": model,
                            "signed_on": date(rng.choice((2019, 2020, 2023, 2025)),
                                              rng.randint(1, 12), rng.randint(1, 28)),
                            "status": rng.choice(("active", "active", "active", "pending",
                                                  "suspended")),
                            "created_at": now, "updated_at": now})
                        agency_agreements.append(agreement_id)
                        agreement_id += 1
                    for _ in range(rng.randint(8, 40)):
                        officers.append({
                            "id": officer_id, "agency": agency_id,
                            "name": f"{rng.choice(OFFICER_FIRST)} {rng.choice(OFFICER_LAST)}",
                            "badge_number": f"{rng.randint(100, 99999)}",
                            "rank": rng.choice(("Deputy", "Deputy", "Sergeant", "Corporal",
                                                "Detention Officer", "Lieutenant")),
                            "active": rng.random() < 0.93, "created_at": now,
                            "updated_at": now})
                        if rng.random() < 0.6:
                            designations.append({
                                "id": designation_id, "officer": officer_id,
                                "agreement": rng.choice(agency_agreements),
                                "authorised_on": date(2025, rng.randint(1, 9), 1),
                                "authorisation_expires_on": date(2027, rng.randint(1, 9), 1),
                                "training_completed_on": date(2025, 1, rng.randint(1, 28)),
                                "status": "active", "created_at": now, "updated_at": now})
                            designation_id += 1
                        officer_id += 1
                    agency_id += 1
        sqlite = writer.sqlite
        await writer.write([(Agency, *_rows(Agency, agencies, now, sqlite=sqlite)),
                            (Agreement, *_rows(Agreement, agreements, now, sqlite=sqlite)),
                            (Officer, *_rows(Officer, officers, now, sqlite=sqlite)),
                            (Designation, *_rows(Designation, designations, now, sqlite=sqlite))])
        await writer.fix_sequences([Agency, Agreement, Officer, Designation])
        report.agencies_created = len(agencies)
        report.officers_created = len(officers)
    # In id order, on both engines alike (SQLite may read from a covering index in another
    # order): the same seed then gives the same cases on either engine.
    agencies = await Agency.select(Agency.id, Agency.state, Agency.county).order_by(Agency.id)
    agreements: dict[int, list[dict[str, Any]]] = {}
    for row in await Agreement.select(Agreement.id, Agreement.agency, Agreement.model
                                      ).order_by(Agreement.id):
        agreements.setdefault(row["agency"], []).append(row)
    officers: dict[int, list[dict[str, Any]]] = {}
    designated = {row["officer"] for row in await Designation.select(Designation.officer)}
    for row in await Officer.select(Officer.id, Officer.agency, Officer.name,
                                    Officer.badge_number).order_by(Officer.id):
        row["designated"] = row["id"] in designated
        officers.setdefault(row["agency"], []).append(row)
    return agencies, agreements, officers


async def _ensure_staff(rng: random.Random, writer: _Writer, now: datetime,
                        report: SeedReport) -> tuple[list[int], list[int]]:
    investigators = [r["id"] for r in await User.select(User.id).where(
        User.role == "investigator").order_by(User.id)]
    supervisors = [r["id"] for r in await User.select(User.id).where(
        User.role == "supervisor").order_by(User.id)]
    if not investigators:
        next_id = await writer.next_id(User)
        rows = []
        for n in range(40):
            rows.append({"id": next_id + n, "email": f"seed-investigator-{next_id + n}@example.org",
                         "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} (seed)",
                         "role": "investigator", "password_hash": UNUSABLE_PASSWORD,
                         "active": True, "created_at": now})
        if not supervisors:
            rows.append({"id": next_id + 40, "email": f"seed-supervisor-{next_id + 40}@example.org",
                         "name": "Seed Supervisor", "role": "supervisor",
                         "password_hash": UNUSABLE_PASSWORD, "active": True, "created_at": now})
        await writer.write([(User, *_rows(User, rows, now, sqlite=writer.sqlite))])
        await writer.fix_sequences([User])
        report.investigators_created = 40
        investigators = [r["id"] for r in rows if r["role"] == "investigator"]
        supervisors = supervisors or [rows[-1]["id"]]
    return investigators, supervisors or investigators[:1]


def _narrative(rng: random.Random, spanish: bool) -> str:
    openings, middles, endings = ((ES_OPENINGS, ES_MIDDLES, ES_ENDINGS) if spanish else
                                  (EN_OPENINGS, EN_MIDDLES, EN_ENDINGS))
    fill = {"road": rng.choice(ROADS), "store": rng.choice(STORES),
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}"}
    parts = [rng.choice(openings).format(**fill)]
    parts += rng.sample(middles, k=rng.randint(2, 4))
    parts.append(rng.choice(endings))
    return " ".join(parts)


@dataclass
class _Batch:
    cases: list[dict[str, Any]] = field(default_factory=list)
    case_officers: list[dict[str, Any]] = field(default_factory=list)
    allegations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


class _CaseGenerator:
    """The synthetic cases, batch after batch, from one seeded ``random.Random`` (so the same
    seed and the same registry give the same rows, whatever the batch size)."""

    def __init__(self, rng: random.Random, seed: int, now: datetime,
                 registry: tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]],
                                 dict[int, list[dict[str, Any]]]],
                 staff: tuple[list[int], list[int]], first_ids: tuple[int, int, int, int],
                 *, sqlite: bool) -> None:
        settings = get_settings()
        self.rng, self.seed, self.now, self.sqlite = rng, seed, now, sqlite
        self.calendar = BusinessCalendar.from_settings(settings)
        self.rules = ClockRules.from_settings(settings)
        self.pick_state = _weighted(rng, STATE_WEIGHTS)
        self.pick_allegation = _weighted(rng, ALLEGATION_WEIGHTS)
        self.pick_finding = _weighted(rng, FINDINGS)
        self.span = timedelta(days=3 * 365)
        self.agencies, self.agreements, self.officers = registry
        self.investigators, self.supervisors = staff
        self.case_id, self.officer_row_id, self.allegation_id, self.note_id = first_ids

    def rows(self, count: int) -> list[tuple[type[Table], list[str], list[tuple[Any, ...]]]]:
        """The next ``count`` cases and their officers, allegations and notes, as rows."""
        batch = self.batch(count)
        sqlite = self.sqlite
        return [(Case, *_rows(Case, batch.cases, self.now, sqlite=sqlite)),
                (CaseOfficer, *_rows(CaseOfficer, batch.case_officers, self.now, sqlite=sqlite)),
                (Allegation, *_rows(Allegation, batch.allegations, self.now, sqlite=sqlite)),
                (CaseNote, *_rows(CaseNote, batch.notes, self.now, sqlite=sqlite))]

    def batch(self, count: int) -> _Batch:
        batch = _Batch()
        cases, case_officers = batch.cases, batch.case_officers
        allegations, notes = batch.allegations, batch.notes
        for _ in range(count):
            state = self.pick_state()
            # recent cases are the ones still in the early states
            if state in ("received", "in_triage"):
                received = self.now - timedelta(seconds=self.rng.randint(0, 20 * 86400))
            elif state in ("open", "under_investigation", "findings_submitted",
                           "under_review", "returned"):
                received = self.now - timedelta(seconds=self.rng.randint(5 * 86400, 200 * 86400))
            else:
                received = self.now - timedelta(seconds=self.rng.randint(10 * 86400,
                                                               int(self.span.total_seconds())))
            received = received.replace(microsecond=0)
            agency = self.rng.choice(self.agencies) if self.rng.random() < 0.93 else None
            agency_agreements = self.agreements.get(agency["id"], []) if agency else []
            agreement = self.rng.choice(agency_agreements) if agency_agreements and \
                state not in ("received", "in_triage") and self.rng.random() < 0.8 else None
            spanish = self.rng.random() < 0.45
            pool = self.officers.get(agency["id"], []) if agency else []
            named = [self.rng.choice(pool) for _ in range(self.rng.choice((0, 1, 1, 1, 2, 2, 3)))
                     ] if pool else []
            ice_required = any(o["designated"] for o in named) and \
                state not in ("received",)
            deadlines = intake_deadlines(received, ice_notice_required=ice_required,
                                         calendar=self.calendar, rules=self.rules)
            past_triage = state not in ("received", "in_triage")
            triaged_at = (received + timedelta(hours=self.rng.randint(2, 9 * 24))
                          if past_triage else None)
            resolved_at = None
            if state in ("declined", "referred"):
                resolved_at = triaged_at
            elif state == "closed":
                resolved_at = received + timedelta(days=self.rng.randint(20, 160))
            if resolved_at and resolved_at > self.now:
                resolved_at = self.now - timedelta(hours=1)
            ice_notified_at = None
            if ice_required and self.rng.random() < 0.85:
                ice_notified_at = received + timedelta(hours=self.rng.randint(4, 110))
                if ice_notified_at > self.now:
                    ice_notified_at = None
            results_due_at = results_due(resolved_at, self.rules) if (
                resolved_at and ice_required) else None
            results_reported_at = None
            if results_due_at and self.rng.random() < 0.8:
                results_reported_at = min(self.now, resolved_at + timedelta(
                    days=self.rng.randint(1, 45)))
            lead = self.rng.choice(self.investigators) if state in (
                "under_investigation", "findings_submitted", "under_review", "returned",
                "closed") else None
            characteristics = sorted(set(self.rng.sample(CHARACTERISTICS,
                                                    k=self.rng.choice((0, 1, 1, 2, 3)))))
            county = agency["county"] if agency else self.rng.choice(PLACES["TX"])
            incident = (received - timedelta(days=self.rng.randint(0, 240))).date()
            outcome = {"declined": "administratively_closed", "referred": "referred"}.get(
                state, "")
            row: dict[str, Any] = {
                "id": self.case_id, "tracking_number": f"SD-{self.case_id:08d}",
                "status": state,
                "channel": self.rng.choice(("web", "web", "web", "phone", "mail", "email",
                                       "in_person")),
                "language": "es" if spanish else "en", "received_at": received,
                "incident_date": incident,
                "incident_time": f"{self.rng.randint(0, 23):02d}:{self.rng.choice(QUARTERS)}",
                "incident_location": self.rng.choice(ROADS), "incident_city": county,
                "incident_state": agency["state"] if agency else "TX",
                "incident_setting": self.rng.choice(SETTINGS_),
                "context_287g": self.rng.choice(CONTEXTS),
                "narrative": _narrative(self.rng, spanish),
                "checklist": json.dumps(sorted(self.rng.sample(CHECKLIST,
                                                               k=self.rng.randint(1, 4)))),
                "protected_characteristics": json.dumps(characteristics),
                "harm": ("Perdí un día de trabajo." if spanish else
                         "I missed a day of work.") if self.rng.random() < 0.3 else "",
                "complainant_role": "victim" if self.rng.random() < 0.8 else "third_party",
                "anonymous": self.rng.random() < 0.15,
                "consent_share_agency": self.rng.random() < 0.6,
                "consent_share_ice": self.rng.random() < 0.4,
                "late_filing": (received.date() - incident).days > 180,
                "agency": agency["id"] if agency else None,
                "agreement": agreement["id"] if agreement else None,
                "lead_investigator": lead,
                "officer_unidentified": not named and past_triage,
                "decision_reason": ("Outside our jurisdiction." if state == "declined"
                                    else ""),
                "referred_to": "doj_crt" if state == "referred" else "",
                "outcome": outcome,
                "triage_due_at": deadlines["triage_due_at"], "triaged_at": triaged_at,
                "ice_notification_required": ice_required,
                "ice_notification_due_at": deadlines["ice_notification_due_at"],
                "ice_notified_at": ice_notified_at,
                "resolution_due_at": deadlines["resolution_due_at"],
                "resolved_at": resolved_at, "results_due_at": results_due_at,
                "results_reported_at": results_reported_at,
                "closed_at": resolved_at if state in ("closed", "declined", "referred")
                else None,
                "legacy_source": "seed", "legacy_id": f"{self.seed}:{self.case_id}",
                "updated_at": resolved_at or triaged_at or received,
            }
            cases.append(row)
            officer_rows = []
            for position, officer in enumerate(named):
                linked = past_triage and self.rng.random() < 0.85
                officer_rows.append({
                    "id": self.officer_row_id, "case": self.case_id, "position": position,
                    "name": officer["name"] if self.rng.random() < 0.7 else "",
                    "badge_number": officer["badge_number"] if self.rng.random() < 0.5 else "",
                    "agency": agency["id"] if agency else None,
                    "officer": officer["id"] if linked else None,
                    "description": "Alto, uniforme verde." if spanish else
                    "Tall, green uniform.",
                })
                self.officer_row_id += 1
            case_officers.extend(officer_rows)
            finals: list[str] = []
            if past_triage or (state == "in_triage" and self.rng.random() < 0.5):
                targets = officer_rows or [None]
                for target in targets:
                    for _ in range(self.rng.choice((1, 1, 2))):
                        kind = self.pick_allegation()
                        allegation: dict[str, Any] = {
                            "id": self.allegation_id, "case": self.case_id,
                            "case_officer": target["id"] if target else None,
                            "officer": target["officer"] if target else None,
                            "allegation_type": kind,
                            "protected_characteristic": (
                                (characteristics[0] if characteristics else
                                 self.rng.choice(CHARACTERISTICS))
                                if kind == "racial_profiling" else ""),
                            "description": "", "created_at": triaged_at or received,
                        }
                        if state in ("findings_submitted", "under_review", "closed"):
                            finding = self.pick_finding()
                            allegation.update({
                                "recommended_finding": finding,
                                "recommended_rationale": "Based on the interviews and video.",
                                "recommended_at": (resolved_at or self.now) - timedelta(days=5),
                                "recommended_by": lead})
                            if state == "closed":
                                allegation.update({
                                    "final_finding": finding,
                                    "final_rationale": "Accepted.",
                                    "final_at": resolved_at,
                                    "final_by": self.rng.choice(self.supervisors)})
                                finals.append(finding)
                        allegations.append(allegation)
                        self.allegation_id += 1
            if state == "closed" and finals:
                row["outcome"] = "sustained" if "sustained" in finals else finals[0]
            if state not in ("received",):
                for _ in range(self.rng.choice((0, 1, 1, 2, 3))):
                    notes.append({
                        "id": self.note_id, "case": self.case_id, "author": lead,
                        "body": self.rng.choice(NOTES_ES if spanish else NOTES_EN),
                        "created_at": (triaged_at or received) + timedelta(
                            hours=self.rng.randint(1, 500))})
                    self.note_id += 1
            self.case_id += 1
        return batch


async def seed_cases(count: int, seed: int = 1, *, batch_size: int = 5000,
                     now: datetime | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     steps: Callable[[str], None] | None = None) -> SeedReport:
    """Add ``count`` synthetic cases to the bound database (see the module docstring).

    ``progress(done, count)`` is called after each batch, ``steps(message)`` after each of the
    closing steps (indexes, search documents, statistics). Run it on a database nobody is
    using: while it runs the search documents (and, for a bulk load, the secondary indexes)
    of the tables it fills are not kept.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    report = SeedReport()
    async with _Writer() as writer:
        registry = await _ensure_registry(rng, writer, now, report)
        staff = await _ensure_staff(rng, writer, now, report)
        first_case_id = await writer.next_id(Case)
        generator = _CaseGenerator(rng, seed, now, registry, staff, (
            first_case_id, await writer.next_id(CaseOfficer),
            await writer.next_id(Allegation), await writer.next_id(CaseNote)),
            sqlite=writer.sqlite)
        # Adding at least as many cases as there are: indexes built once at the end.
        bulk = count >= first_case_id - 1
        # Generating a batch (Python, a worker thread) overlaps writing the previous one (the
        # database's own work: SQLite's C code, or the PostgreSQL server).
        writing: asyncio.Future[None] | None = None
        written: list[tuple[type[Table], list[str], list[tuple[Any, ...]]]] = []
        await writer.prepare(bulk=bulk)
        try:
            done = 0
            while done < count:
                size = min(batch_size, count - done)
                rows = await asyncio.to_thread(generator.rows, size)
                if writing is not None:
                    await writing
                    _count(report, written)
                    if progress:
                        progress(report.cases, count)
                writing = asyncio.ensure_future(writer.write(rows))
                written = rows
                done += size
            if writing is not None:
                await writing
                _count(report, written)
                if progress:
                    progress(report.cases, count)
        finally:
            if writing is not None and not writing.done():
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing
            await writer.fix_sequences([Case, CaseOfficer, Allegation, CaseNote])
            await writer.finish(first_case_id, steps)
    # The dashboard's stored figures (counted by a periodic job on large tables) would
    # otherwise lag behind the new cases until the job's next run.
    from casetracker.cases import listing

    if await listing.store_figures():
        if steps:
            steps("dashboard figures counted")
    report.seconds = time.perf_counter() - started
    return report


def _count(report: SeedReport,
           written: list[tuple[type[Table], list[str], list[tuple[Any, ...]]]]) -> None:
    sizes = {table: len(rows) for table, _columns, rows in written}
    report.cases += sizes[Case]
    report.case_officers += sizes[CaseOfficer]
    report.allegations += sizes[Allegation]
    report.notes += sizes[CaseNote]
