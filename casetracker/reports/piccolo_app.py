from piccolo.conf.apps import AppConfig, table_finder

from casetracker.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "reports"),
    table_classes=table_finder(modules=["casetracker.reports.tables"], exclude_imported=True),
    migration_dependencies=["casetracker.cases.piccolo_app", "casetracker.evidence.piccolo_app"],
    commands=[],
)
