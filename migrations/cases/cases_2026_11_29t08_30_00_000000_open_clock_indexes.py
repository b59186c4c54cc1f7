"""Partial indexes over the *running* 287(g) clocks and the unassigned queue (both engines).

The dashboard asks "which clocks are due before X and not yet done": with 100,000 cases most
deadlines are long met, so an index over all due times made it read most of the table. These
indexes hold only the rows whose clock still runs (``<done column> IS NULL``) and carry the
columns the dashboard and the visibility rule test (status, lead investigator), so the
dashboard reads a few thousand index entries instead of the table. Queries must repeat the
index's condition literally (``ct_case.triaged_at IS NULL`` ...) for the planner to use it;
cases/listing.py does.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Partial indexes for running clocks and the unassigned queue"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS ct_case_triage_running ON ct_case "
    "(triage_due_at, status, lead_investigator, id) WHERE triaged_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ct_case_ice_running ON ct_case "
    "(ice_notification_due_at, ice_notification_required, status, lead_investigator, id) "
    "WHERE ice_notified_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ct_case_resolution_running ON ct_case "
    "(resolution_due_at, status, lead_investigator, id) WHERE resolved_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ct_case_results_running ON ct_case "
    "(results_due_at, status, lead_investigator, id) WHERE results_reported_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ct_case_unassigned ON ct_case "
    "(received_at, id, status) WHERE lead_investigator IS NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run_raw():
        engine = engine_finder()
        for sql in STATEMENTS:
            await engine.run_ddl(sql)

    manager.add_raw(run_raw)
    return manager
