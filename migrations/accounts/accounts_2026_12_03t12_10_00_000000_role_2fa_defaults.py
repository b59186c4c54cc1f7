"""Two-factor sign-in becomes the default for every role that can see complainants' identity or
evidence; ``role_setting`` now holds only administrators' departures from that default.

Before, a row with ``require_2fa = false`` only meant "not ticked" (saving the page wrote one for
every unticked role), not a decision to relax anything; kept, it would read as a deliberate
relaxation. Those rows are deleted, so the new default applies; rows that required 2FA stay.
Administrators who want to relax a role do it at /admin/roles, which is audited.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-03T12:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Two-factor sign-in by default: drop role_setting rows that only meant 'not ticked'"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def run_raw():
        await engine_finder().run_querystring(
            QueryString("DELETE FROM role_setting WHERE require_2fa = {}", False))

    manager.add_raw(run_raw)
    return manager
