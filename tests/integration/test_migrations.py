"""Migrations apply from empty on each engine and leave the schema the table classes describe."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from casetracker import db


@pytest.mark.parametrize("app_module", db.APP_MODULES)
async def test_no_model_change_lacks_a_migration(app_module: str) -> None:
    app_config = importlib.import_module(app_module).APP_CONFIG
    alter = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config)
    pending = [s for group in alter for s in group.statements]
    assert pending == [], f"{app_config.app_name}: run `piccolo migrations new "\
        f"{app_config.app_name} --auto`; pending: {pending}"


async def _database_columns(table: str) -> set[str]:
    engine = db.current_engine()
    if db.is_sqlite():
        rows = await engine._run_in_new_connection(f'PRAGMA table_info("{table}")')
        return {row["name"] for row in rows}
    rows = await engine._run_in_new_connection(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table]
    )
    return {row["column_name"] for row in rows}


async def test_migrated_database_matches_the_table_classes(settings: Any) -> None:
    for table in db.all_table_classes():
        expected = {column._meta.db_column_name for column in table._meta.columns}
        actual = await _database_columns(table._meta.tablename)
        assert actual == expected, f"{table._meta.tablename}: database {sorted(actual)} " \
            f"!= code {sorted(expected)}"


async def test_migrating_twice_changes_nothing(settings: Any) -> None:
    await db.migrate()
    await db.migrate()


async def test_engine_is_set_up_for_concurrent_writers(settings: Any) -> None:
    engine = db.current_engine()
    if db.is_sqlite():
        rows = await engine._run_in_new_connection("PRAGMA journal_mode")
        assert rows[0]["journal_mode"] == "wal"
        assert engine.connection_kwargs["timeout"] >= 30
    else:
        assert engine.pool is not None  # a pool opened at start, not a connection per query


async def test_agency_identity_migration_gives_old_keys_their_apostrophe_back(settings: Any
                                                                            ) -> None:
    """Databases from before the identity change hold keys with "’" folded to "'"; the data
    migration recomputes them, so a re-import finds each ICE spelling's own agency."""
    from piccolo.apps.migrations.tables import Migration

    from casetracker.registry.rules import agency_match_key
    from casetracker.registry.tables import Agency

    curly = "Calhoun  County Sheriff\u2019s Office"
    await Agency.insert(Agency(name=curly, state="TX", kind="county",
                               match_key="TX|calhoun county sheriff's office"))
    await Agency.insert(Agency(name="Lee County Sheriff's Office", state="FL", kind="county",
                               match_key="FL|lee county sheriff's office"))
    await Migration.delete().where(Migration.name == "2026-11-29T11:00:00:000000")
    await db.migrate()
    keys = {r["name"]: r["match_key"] for r in await Agency.select(Agency.name, Agency.match_key)}
    assert keys == {curly: "TX|calhoun county sheriff\u2019s office",
                    "Lee County Sheriff's Office": "FL|lee county sheriff's office"}
    assert keys[curly] == agency_match_key("TX", curly)
