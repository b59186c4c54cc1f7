"""The dashboard's queue counts cases with an unread follow-up: an index of only the unread
rows (a partial index; both engines support it)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T15:26:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index of unread follow-ups by case"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="intake", description=DESCRIPTION)

    async def run_raw():
        await engine_finder().run_ddl(
            'CREATE INDEX IF NOT EXISTS follow_up_unread ON follow_up ("case") '
            "WHERE read_at IS NULL")

    manager.add_raw(run_raw)
    return manager
