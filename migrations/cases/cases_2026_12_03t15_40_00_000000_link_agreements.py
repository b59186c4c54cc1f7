"""Data: cases whose agency holds exactly one 287(g) agreement are linked to it (before triage
chose agreements, none was ever linked, so every figure by model read "not linked"). Cases
with an agreement already, without an agency, or whose agency holds several or none are left
alone: those need a person (the case page offers the agency's agreements). The same SQL runs
on SQLite and PostgreSQL; running it again changes nothing."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Link cases to their agency's only agreement"

LINK_SQL = (
    "UPDATE ct_case SET agreement = "
    "(SELECT MIN(g.id) FROM agreement g WHERE g.agency = ct_case.agency) "
    "WHERE agreement IS NULL AND agency IS NOT NULL "
    "AND (SELECT COUNT(*) FROM agreement g WHERE g.agency = ct_case.agency) = 1"
)


async def link_single_agreements() -> None:
    await engine_finder().run_ddl(LINK_SQL)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_raw(link_single_agreements)
    return manager
