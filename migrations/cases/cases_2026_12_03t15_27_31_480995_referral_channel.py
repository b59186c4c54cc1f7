from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-03T15:27:31:480995"
VERSION = "1.38.0"
DESCRIPTION = "True"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cases", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Case",
        tablename="ct_case",
        column_name="channel",
        db_column_name="channel",
        params={
            "choices": Enum(
                "Channel",
                {
                    "web": "web",
                    "api": "api",
                    "phone": "phone",
                    "mail": "mail",
                    "email": "email",
                    "in_person": "in_person",
                    "referral": "referral",
                    "legacy": "legacy",
                },
            )
        },
        old_params={
            "choices": Enum(
                "Channel",
                {
                    "web": "web",
                    "api": "api",
                    "phone": "phone",
                    "mail": "mail",
                    "email": "email",
                    "in_person": "in_person",
                    "legacy": "legacy",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
