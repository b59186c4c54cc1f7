"""Indexes for workers looking for due work: pending rows by run_after, running rows by lease
(a separate migration: raw SQL runs before the table exists within one migration)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T11:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes for claiming due jobs"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jobs", description=DESCRIPTION)

    async def run_raw():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS job_status_run_after ON job (status, run_after, id)")
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS job_status_lease ON job (status, lease_until)")

    manager.add_raw(run_raw)
    return manager
