from piccolo.conf.apps import AppConfig, table_finder

from casetracker.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "audit"),
    table_classes=table_finder(modules=["casetracker.audit.tables"], exclude_imported=True),
    migration_dependencies=["casetracker.accounts.piccolo_app"],
    commands=[],
)
