"""An index for "my cases" (the dashboard and the list filtered by investigator, ordered by
resolution due date): without it PostgreSQL walked the whole due-date index looking for one
investigator's rows."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index for an investigator's cases by resolution due date"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS ct_case_lead_resolution_due "
            "ON ct_case (lead_investigator, resolution_due_at, id)")

    manager.add_raw(run_raw)
    return manager
