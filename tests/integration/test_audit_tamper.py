"""The audit log tested as an attacker with write access to the database (but not the secret key,
nor the checkpoint store) would attack it.

A real database is built once per engine through the app (partner filings, sign-ins, failed
sign-ins, administration, case lists), a signed checkpoint is written, and then each tampering
is applied to a fresh copy of that database (a file copy on SQLite, CREATE DATABASE ... TEMPLATE
on PostgreSQL) with plain SQL. ``casetracker audit verify`` (the click command itself) must exit
with status 1 and name the first bad event's sequence number.

These tests are synchronous: the command runs its own event loop, as it does on a server.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from piccolo.querystring import QueryString

from casetracker import db
from casetracker.audit.checkpoints import Head, make_checkpoint
from casetracker.audit.cli import audit_group
from casetracker.audit.rules import GENESIS_HASH, chain_key, event_hash
from casetracker.settings import Settings, configure, load_settings
from tests import conftest

API_BODY = {
    "narrative": "Stopped and asked for papers because I spoke Spanish.",
    "incident_date": "2026-11-02", "incident_state": "TX", "incident_setting": "traffic_stop",
    "officers": [{"name": "J. Doe", "badge": "77"}], "protected": ["language"],
    "checklist": ["stopped"], "name": "Partner Client", "email": "client@example.org",
    "language": "es",
}
MIN_EVENTS = 70


# --- running things against one database, in their own event loop --------------------------

def _run(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        configure(settings)
        await db.open_database(settings)
        try:
            return await work()
        finally:
            await db.close_database()

    return asyncio.run(main())


async def _sql(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await db.current_engine().run_querystring(QueryString(sql, *args))


def _settings_for(engine: str, base_dir: Path, name: str) -> Settings:
    var_dir = base_dir / name
    var_dir.mkdir(parents=True, exist_ok=True)
    base = load_settings().replace(
        var_dir=var_dir, evidence_dir=var_dir / "evidence", outbox_dir=var_dir / "outbox",
        session_dir=var_dir / "sessions", audit_checkpoint_dir=var_dir / "audit-checkpoints",
        pdf_workers=0)
    if engine == "sqlite":
        return base.replace(database_url=f"sqlite:///{var_dir / 'casetracker.sqlite3'}")
    return base.replace(database_url=conftest._dsn_for(name), db_pool_min=1, db_pool_max=2)


# --- the real database ----------------------------------------------------------------------

async def _populate(settings: Settings) -> None:
    """Activity through the app as people cause it."""
    from casetracker.app import create_app, run_feature_hooks
    from casetracker.audit.services import write_checkpoint
    from tests.factories import DEFAULT_PASSWORD, make_user

    app = create_app(settings, manage_database=False)
    await run_feature_hooks(app, "ON_STARTUP")
    try:
        def browser(ip: str) -> conftest.Browser:
            transport = httpx.ASGITransport(app=app, client=(ip, 50000))
            return conftest.Browser(httpx.AsyncClient(transport=transport,
                                                      base_url="http://testserver"))

        admin = await make_user("administrator", name="Ada Admin")
        staff = browser("198.51.100.2")
        await staff.login(admin.email, DEFAULT_PASSWORD)
        partner = browser("198.51.100.3")
        for n in range(4):
            filed = await partner.client.post("/api/v1/complaints",
                                              json={**API_BODY, "name": f"Client {n}"})
            assert filed.status_code == 201, filed.text
        await staff.submit("/admin/users/new", data={
            "name": "Ivan Investigator", "email": "ivan@example.org", "role": "investigator"})
        stranger = browser("203.0.113.50")
        for _ in range(3):
            await stranger.submit("/login", data={"email": admin.email, "password": "guess"})
        while (await _sql("SELECT COUNT(*) AS n FROM audit_event"))[0]["n"] < MIN_EVENTS:
            assert (await staff.get("/cases")).status_code == 200
        await staff.post("/logout")
    finally:
        await run_feature_hooks(app, "ON_SHUTDOWN")
    # After the app (and any job it runs) has stopped: the checkpoint covers the last event.
    await write_checkpoint()


@pytest.fixture(scope="module")
def real_database(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The source database of this engine, populated and checkpointed (built once)."""
    if engine_name == "postgres":
        reason = asyncio.run(conftest._postgres_available())
        if reason:
            if conftest.REQUIRE_ALL:
                pytest.fail(reason)
            pytest.skip(reason)
    base_dir = tmp_path_factory.mktemp(f"tamper-{engine_name}")
    name = f"ct_{conftest.RUN_ID}_src_{uuid.uuid4().hex[:6]}"
    settings = _settings_for(engine_name, base_dir, name)
    template = asyncio.run(conftest._template_for(engine_name))
    if engine_name == "sqlite":
        shutil.copyfile(template, settings.sqlite_path)
    else:
        asyncio.run(conftest._pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    _run(settings, lambda: _populate(settings))
    if engine_name == "sqlite":
        with sqlite3.connect(settings.sqlite_path) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield engine_name, base_dir, name, settings
    if engine_name == "postgres":
        asyncio.run(conftest._pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _copy(real: Any) -> Settings:
    engine, base_dir, source_name, source = real
    name = f"ct_{conftest.RUN_ID}_cp_{uuid.uuid4().hex[:8]}"
    settings = _settings_for(engine, base_dir, name)
    shutil.copytree(source.audit_checkpoint_dir, settings.audit_checkpoint_dir)
    if engine == "sqlite":
        shutil.copyfile(source.sqlite_path, settings.sqlite_path)
    else:
        asyncio.run(conftest._pg_admin(
            f'CREATE DATABASE "{name}" TEMPLATE "{source_name}"'))
    return settings


def _drop(settings: Settings) -> None:
    if not settings.is_sqlite:
        name = settings.database_url.rsplit("/", 1)[1]
        asyncio.run(conftest._pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def verify(settings: Settings, *args: str) -> Any:
    configure(settings)
    return CliRunner().invoke(audit_group, ["verify", *args], catch_exceptions=False)


# --- the tamperings: each changes the copy and returns the first bad seq --------------------

COLUMNS = ("seq", "occurred_at", "actor_id", "actor_label", "action", "object_type",
           "object_id", "case_id", "ip_address", "details", "prev_hash", "hash")


_INSERT = (f"INSERT INTO audit_event ({', '.join(COLUMNS)}) "  # noqa: S608 - constants
           f"VALUES ({', '.join('{}' for _ in COLUMNS)})")


async def _insert(row: dict[str, Any]) -> None:
    await _sql(_INSERT, *[row[c] for c in COLUMNS])


async def _rows() -> list[dict[str, Any]]:
    return await _sql("SELECT * FROM audit_event ORDER BY seq")


async def _rewrite(rows: list[dict[str, Any]], key: bytes | None = None, *,
                   from_seq: int = 1) -> None:
    """Replace the rows from ``from_seq`` on with ``rows[from_seq - 1:]``, renumbered and
    chained on from the row before with hashes recomputed (plain SHA-256 as before the key, or
    HMAC under the attacker's own ``key``)."""
    await _sql("DELETE FROM audit_event WHERE seq >= {}", from_seq)
    prev = rows[from_seq - 2]["hash"] if from_seq > 1 else GENESIS_HASH
    for seq, row in enumerate(rows[from_seq - 1:], start=from_seq):
        row = {**row, "seq": seq, "prev_hash": prev}
        row["hash"] = event_hash(prev, row, key)
        prev = row["hash"]
        await _insert(row)


async def edit_a_row(rows: list[dict[str, Any]]) -> int:
    await _sql("UPDATE audit_event SET details = {} WHERE seq = 10", '{"note": "nothing"}')
    return 10


async def edit_a_row_and_rehash_it(rows: list[dict[str, Any]]) -> int:
    row = {**rows[9], "action": "case.list.quiet"}
    await _sql("UPDATE audit_event SET action = {}, hash = {} WHERE seq = 10", row["action"],
               event_hash(row["prev_hash"], row))
    return 10


async def edit_a_row_and_recompute_the_hashes_after_it(rows: list[dict[str, Any]]) -> int:
    rows[19] = {**rows[19], "ip_address": "10.0.0.1"}
    await _rewrite(rows, from_seq=20)
    return 20


async def delete_a_row(rows: list[dict[str, Any]]) -> int:
    await _sql("DELETE FROM audit_event WHERE seq = 30")
    return 30


async def delete_a_row_and_renumber(rows: list[dict[str, Any]]) -> int:
    del rows[29]
    await _rewrite(rows, from_seq=30)
    return 30


async def cut_the_last_row(rows: list[dict[str, Any]]) -> int:
    await _sql("DELETE FROM audit_event WHERE seq = {}", len(rows))
    return len(rows)


async def cut_the_last_50_rows(rows: list[dict[str, Any]]) -> int:
    await _sql("DELETE FROM audit_event WHERE seq > {}", len(rows) - 50)
    return len(rows) - 49


async def delete_every_row(rows: list[dict[str, Any]]) -> int:
    await _sql("DELETE FROM audit_event")
    return 1


async def append_a_forged_row_with_a_correct_hash(rows: list[dict[str, Any]]) -> int:
    last = rows[-1]
    forged = {**last, "seq": last["seq"] + 1, "action": "user.password_reset",
              "prev_hash": last["hash"], "occurred_at": last["occurred_at"] + timedelta(1)}
    forged["hash"] = event_hash(last["hash"], forged)
    await _insert(forged)
    return forged["seq"]


async def insert_a_row_and_renumber(rows: list[dict[str, Any]]) -> int:
    forged = {**rows[39], "action": "login", "details": "{}"}
    await _rewrite([*rows[:40], forged, *rows[40:]], from_seq=41)
    return 41


async def swap_two_rows_and_recompute(rows: list[dict[str, Any]]) -> int:
    rows[14], rows[15] = rows[15], rows[14]
    await _rewrite(rows, from_seq=15)
    return 15


async def replace_the_log_with_a_recomputed_one(rows: list[dict[str, Any]]) -> int:
    await _rewrite([r for r in rows if not str(r["action"]).startswith("login.failed")])
    return 1


async def backdate_a_row_and_recompute(rows: list[dict[str, Any]]) -> int:
    rows[24] = {**rows[24], "occurred_at": rows[24]["occurred_at"] - timedelta(days=30)}
    await _rewrite(rows, from_seq=25)
    return 25


async def swap_two_sequence_numbers(rows: list[dict[str, Any]]) -> int:
    await _sql("UPDATE audit_event SET seq = -1 WHERE seq = 20")
    await _sql("UPDATE audit_event SET seq = 20 WHERE seq = 21")
    await _sql("UPDATE audit_event SET seq = 21 WHERE seq = -1")
    return 20


async def recompute_the_chain_under_the_attackers_own_key(rows: list[dict[str, Any]]) -> int:
    rows[5] = {**rows[5], "actor_label": "someone.else@example.org"}
    await _rewrite(rows, chain_key("the attacker's own secret key"), from_seq=6)
    return 6


TAMPERINGS = [
    edit_a_row, edit_a_row_and_rehash_it, edit_a_row_and_recompute_the_hashes_after_it,
    delete_a_row, delete_a_row_and_renumber, cut_the_last_row, cut_the_last_50_rows,
    delete_every_row, append_a_forged_row_with_a_correct_hash, insert_a_row_and_renumber,
    swap_two_rows_and_recompute, replace_the_log_with_a_recomputed_one,
    backdate_a_row_and_recompute, swap_two_sequence_numbers,
    recompute_the_chain_under_the_attackers_own_key,
]


def test_the_untouched_copy_is_intact(real_database: Any) -> None:
    copy = _copy(real_database)
    try:
        result = verify(copy)
        assert result.exit_code == 0, result.output
        # One checkpoint at least (a second one when the build crossed a checkpoint slot).
        assert "intact (" in result.output
        assert re.search(r"held to [1-9]\d* signed checkpoints?\b", result.output), result.output
        count = int(result.output.split("(")[1].split(" ")[0])
        assert count >= MIN_EVENTS
    finally:
        _drop(copy)


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda t: t.__name__)
def test_each_tampering_is_detected(real_database: Any, tamper: Any) -> None:
    copy = _copy(real_database)
    try:
        async def apply() -> int:
            async with db.write_transaction():
                return await tamper(await _rows())

        first_bad = _run(copy, apply)
        result = verify(copy)
        assert result.exit_code == 1, result.output
        assert f"BROKEN at event seq {first_bad}" in result.output, result.output
    finally:
        _drop(copy)


def test_a_forged_checkpoint_is_detected(real_database: Any) -> None:
    """Someone who can write where checkpoints are kept, but has not the secret key, plants
    one that blesses a shorter log."""
    copy = _copy(real_database)
    try:
        async def head() -> Head:
            last = (await _sql("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"))[0]
            return Head(seq=last["seq"] - 5, hash=last["hash"], count=last["seq"] - 5,
                        legacy_until=0)

        fake = make_checkpoint(_run(copy, head), "not this server's secret key")
        forged = copy.audit_checkpoint_dir / "audit-checkpoint-999999999999-forged.json"
        forged.write_bytes(fake)
        result = verify(copy)
        assert result.exit_code == 1, result.output
        assert "BROKEN at event seq" in result.output and "signature" in result.output
        # A checkpoint altered by hand is refused the same way.
        forged.unlink()
        genuine = next(copy.audit_checkpoint_dir.glob("*.json"))
        document = json.loads(genuine.read_text())
        document["count"] -= 1
        genuine.chmod(0o644)
        genuine.write_text(json.dumps(document))
        result = verify(copy)
        assert result.exit_code == 1 and f"BROKEN at event seq {document['seq']}" in result.output
    finally:
        _drop(copy)
