from piccolo.conf.apps import AppConfig, table_finder

from casetracker.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="jobs",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "jobs"),
    table_classes=table_finder(modules=["casetracker.jobs.tables"], exclude_imported=True),
    migration_dependencies=["casetracker.accounts.piccolo_app"],
    commands=[],
)
