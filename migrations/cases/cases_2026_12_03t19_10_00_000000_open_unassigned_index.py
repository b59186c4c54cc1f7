"""The dashboard's unassigned queue: open cases with no lead investigator, oldest first.

``ct_case_unassigned`` holds every case without a lead, closed, declined and referred ones
too; the queue walked it oldest first and skipped those, which on PostgreSQL meant a heap
read for each (27,000 of them with 250,000 cases, growing with the archive). This partial
index holds only the open ones; the dashboard's query repeats its condition literally
(``listing.OPEN_UNASSIGNED``) so that both engines use it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T19:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Partial index of open unassigned cases (the dashboard's queue)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS ct_case_open_unassigned ON ct_case (received_at, id) "
            "WHERE lead_investigator IS NULL AND status IN ('received', 'in_triage', 'open', "
            "'under_investigation', 'findings_submitted', 'under_review', 'returned')")

    manager.add_raw(run_raw)
    return manager
