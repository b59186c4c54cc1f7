"""Officers proposed by intake at triage, awaiting a supervisor's confirmation (or a merge with
an officer already in the registry)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T15:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Officers proposed at triage"


def _params(**extra):
    return {"primary_key": False, "unique": False, "index_method": IndexMethod.btree,
            "choices": None, "db_column_name": None, "secret": False, **extra}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Officer", tablename="officer", column_name="awaiting_confirmation",
        db_column_name="awaiting_confirmation", column_class_name="Boolean",
        column_class=Boolean, params=_params(default=False, null=False, index=True),
        schema=None)
    for name in ("proposed_by_id", "proposed_case_id"):
        manager.add_column(
            table_class_name="Officer", tablename="officer", column_name=name,
            db_column_name=name, column_class_name="Integer", column_class=Integer,
            params=_params(default=None, null=True, index=False), schema=None)
    return manager
