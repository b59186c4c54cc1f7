from piccolo.conf.apps import AppConfig, table_finder

from casetracker.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="evidence",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "evidence"),
    table_classes=table_finder(modules=["casetracker.evidence.tables"], exclude_imported=True),
    migration_dependencies=["casetracker.cases.piccolo_app", "casetracker.intake.piccolo_app"],
    commands=[],
)
