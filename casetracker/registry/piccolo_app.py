from piccolo.conf.apps import AppConfig, table_finder

from casetracker.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "registry"),
    table_classes=table_finder(modules=["casetracker.registry.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
