from piccolo.conf.apps import AppConfig, table_finder

from casetracker.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="oversight",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "oversight"),
    table_classes=table_finder(modules=["casetracker.oversight.tables"], exclude_imported=True),
    migration_dependencies=["casetracker.cases.piccolo_app", "casetracker.reports.piccolo_app"],
    commands=[],
)
