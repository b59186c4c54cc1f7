from piccolo.conf.apps import AppConfig, table_finder

from casetracker.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "accounts"),
    table_classes=table_finder(modules=["casetracker.accounts.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
