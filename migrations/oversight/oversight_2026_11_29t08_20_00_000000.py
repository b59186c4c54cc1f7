"""Covering indexes for the oversight aggregates (GROUP BY without a sort or a join).

Raw SQL that runs on SQLite and PostgreSQL; it adds indexes only (no column changes), so the
tables' Piccolo definitions are unchanged.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T08:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "oversight aggregate indexes"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS oversight_allegation_tcf ON allegation "
    "(allegation_type, protected_characteristic, final_finding)",
    "CREATE INDEX IF NOT EXISTS oversight_legacy_cat_finding ON oversight_legacy_allegation "
    "(original_category, original_finding)",
    "CREATE INDEX IF NOT EXISTS oversight_case_status_outcome ON ct_case (status, outcome)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="oversight", description=DESCRIPTION)

    async def run():
        from piccolo.apps.migrations.tables import Migration

        for sql in INDEXES:
            await Migration.raw(sql)

    async def run_backwards():
        from piccolo.apps.migrations.tables import Migration

        for name in ("oversight_allegation_tcf", "oversight_legacy_cat_finding",
                     "oversight_case_status_outcome"):
            await Migration.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
