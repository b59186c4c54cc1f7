from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-29T10:37:29:372560"
VERSION = "1.38.0"
DESCRIPTION = "TOTP secrets hold sealed tokens (83 characters)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="accounts", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="User",
        tablename="ct_user",
        column_name="totp_secret",
        db_column_name="totp_secret",
        params={"length": 128},
        old_params={"length": 64},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
