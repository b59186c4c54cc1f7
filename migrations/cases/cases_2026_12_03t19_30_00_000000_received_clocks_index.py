"""SQLite: the overdue filter in the list's order reads an index that holds every clock.

"Overdue" is a condition on the four clocks; the list walks its order (received, newest
first) and tests each case. The newest cases are rarely overdue, so the walk passes many
before the first overdue one, and with ``ct_case_received_id`` SQLite read each case's row to
test it (rows hold the narrative: 66-130 ms with 1,000,000 cases). This index carries the
clock columns, so the test is made on the index entry and only the page's rows are read
(3 ms). ``cases.listing`` names it (``INDEXED BY``) for an overdue list in received order.
PostgreSQL reads narrow heap rows (its narratives are stored apart) and is not given it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-03T19:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "SQLite: index of received order with every clock column (overdue filter)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        engine = engine_finder()
        if isinstance(engine, SQLiteEngine):
            await engine.run_ddl(
                "CREATE INDEX IF NOT EXISTS ct_case_received_clocks ON ct_case (received_at, "
                "id, status, triage_due_at, triaged_at, ice_notification_required, "
                "ice_notification_due_at, ice_notified_at, resolution_due_at, resolved_at, "
                "results_due_at, results_reported_at)")

    manager.add_raw(run_raw)
    return manager
