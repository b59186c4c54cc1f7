"""The index of received order carrying every clock column, on PostgreSQL too.

The migration before this one (``…19_30_00…_received_clocks_index``) built it for SQLite only;
on PostgreSQL the overdue list's walk also read each case's row to test its clocks
(~100 ms with 1,000,000 cases, 10,000 cases passed before the first overdue one). With this
index it finds the page's ids by an index-only scan and then reads those rows (2 ms).
``IF NOT EXISTS``: SQLite has it already.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T19:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index of received order with every clock column, on every engine"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS ct_case_received_clocks ON ct_case (received_at, "
            "id, status, triage_due_at, triaged_at, ice_notification_required, "
            "ice_notification_due_at, ice_notified_at, resolution_due_at, resolved_at, "
            "results_due_at, results_reported_at)")

    manager.add_raw(run_raw)
    return manager
