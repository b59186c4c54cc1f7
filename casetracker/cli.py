"""casetracker's commands, added to Litestar's CLI through the app's CLI plugin.

Feature packages contribute commands in ``<package>/cli.py`` as a list ``CLI_COMMANDS`` of
click commands or groups; a group whose name already exists is merged into it.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click

from casetracker import db
from casetracker.settings import configure, get_settings, load_settings

FEATURE_CLI_MODULES = (
    "casetracker.accounts.cli",
    "casetracker.audit.cli",
    "casetracker.registry.cli",
    "casetracker.intake.cli",
    "casetracker.cases.cli",
    "casetracker.evidence.cli",
    "casetracker.reports.cli",
    "casetracker.oversight.cli",
    "casetracker.jobs.cli",
    "casetracker.backup.cli",
)

T = TypeVar("T")


def with_database(func: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async command body with the database open (and closed afterwards)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        async def main() -> T:
            settings = get_settings()
            try:
                await db.open_database(settings)
            except Exception as exc:
                _exit_if_unreachable(exc, settings)
                raise
            try:
                return await func(*args, **kwargs)
            except Exception as exc:
                # SQLite opens its file, and PostgreSQL may connect, only at the first query.
                _exit_if_unreachable(exc, settings)
                raise
            finally:
                from casetracker.storage import close_stores

                await close_stores()
                await db.close_database()

        return asyncio.run(main())

    return wrapper


def _exit_if_unreachable(exc: BaseException, settings: Any) -> None:
    """A wrong database address, role, password or port: one line saying which setting to fix,
    exit status 1 (not a traceback)."""
    if isinstance(exc, db.DatabaseSettingError):
        problem: str | None = str(exc)
    else:
        problem = db.connection_problem(exc, settings)
    if problem:
        click.echo(f"Error: {problem}", err=True)
        sys.exit(1)


@click.command("migrate", help="Apply every pending database migration (safe to run twice).")
def migrate_command() -> None:
    @with_database
    async def run() -> None:
        await db.migrate_with_lock()

    run()
    click.echo("Database is up to date.")
    _checkpoint_audit_log()


def _checkpoint_audit_log() -> None:
    """Anchor the audit log outside the database after migrating and before serving (the
    periodic job does it on a schedule). A log that does not verify is not signed, and said
    loudly, but does not stop the app."""
    from casetracker.audit.services import CheckpointRefused, write_checkpoint

    @with_database
    async def run() -> None:
        await write_checkpoint()

    try:
        run()
    except CheckpointRefused as exc:
        click.echo(f"WARNING: the audit log does not verify ({exc}); no checkpoint was "
                   "written. Run `casetracker audit verify`.", err=True)
    except (OSError, ValueError) as exc:
        click.echo(f"WARNING: no audit checkpoint written: {exc}", err=True)


async def _prepare_to_serve() -> None:
    from casetracker.accounts.services import bootstrap_admin

    await db.migrate_with_lock()
    created = await bootstrap_admin()
    if created is not None:
        banner = "=" * 68
        click.echo(banner, err=True)
        click.echo("No user existed, so an administrator was created:", err=True)
        click.echo(f"  e-mail:             {created.email}", err=True)
        click.echo(f"  one-time password:  {created.password}", err=True)
        click.echo(f"Sign in at {get_settings().base_url}/login ; you will be asked to",
                   err=True)
        click.echo("choose a new password and to set up two-factor sign-in.", err=True)
        click.echo(banner, err=True)


def _serve_where_asked(host: str | None, port: int | None) -> None:
    """``run --host/--port`` become the settings of this process and of its workers (they
    read the environment), so the banner, e-mails and links name the address the server
    listens on when ``CASETRACKER_BASE_URL`` is not set."""
    if host:
        os.environ["CASETRACKER_HOST"] = host
    if port:
        os.environ["CASETRACKER_PORT"] = str(port)
    configure(load_settings())


def _share_metrics_across_workers() -> None:
    """Each server process counts its own requests; Prometheus's multiprocess mode lets
    /metrics on any of them report the sum. It must be set before prometheus_client is first
    imported (the app is loaded to build this CLI), and emptied: the counts of a previous run
    are not this run's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    import shutil

    folder = get_settings().var_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def _wrap_run_command(litestar_run: click.Command) -> click.Command:
    """Litestar's ``run``, preceded by migrations and the first-administrator bootstrap, run
    once here before any worker starts (several workers must never migrate at once)."""
    original_callback = litestar_run.callback
    assert original_callback is not None

    @wraps(original_callback)
    def callback(*args: Any, **kwargs: Any) -> Any:
        _serve_where_asked(kwargs.get("host"), kwargs.get("port"))

        @with_database
        async def prepare() -> None:
            await _prepare_to_serve()

        prepare()
        _checkpoint_audit_log()
        return original_callback(*args, **kwargs)

    litestar_run.callback = callback
    litestar_run.help = ("Migrate, create the first administrator if none exists, and serve "
                         "the app (--workers N for several processes).")
    settings = get_settings()
    for param in litestar_run.params:
        if param.name == "host":
            param.default = settings.host
        if param.name == "port":
            param.default = settings.port
        if param.name == "wc" and isinstance(param, click.Option) and "--workers" not in param.opts:
            param.opts.append("--workers")
    return litestar_run


def register_commands(cli: click.Group) -> None:
    if "run" in cli.commands:
        cli.add_command(_wrap_run_command(cli.commands["run"]), "run")
    cli.add_command(migrate_command)
    for module_name in FEATURE_CLI_MODULES:
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        for command in getattr(module, "CLI_COMMANDS", ()):
            existing = cli.commands.get(command.name)
            if isinstance(existing, click.Group) and isinstance(command, click.Group):
                for sub in command.commands.values():
                    existing.add_command(sub)
            else:
                cli.add_command(command)


class CaseTrackerCLIPlugin:
    """A Litestar CLIPluginProtocol plugin (duck-typed so importing stays cheap)."""

    def on_cli_init(self, cli: click.Group) -> None:
        register_commands(cli)


def main() -> None:
    os.environ.setdefault("LITESTAR_APP", "casetracker.app:create_app")
    os.environ.setdefault("PICCOLO_CONF", "casetracker.piccolo_conf")
    from casetracker.settings import SettingError

    # Piccolo announces the server version on every connection and warns when it cannot fetch
    # it; a wrong database setting is reported once, in one line, by with_database.
    logging.getLogger("piccolo").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore",
                            message=".*Unable to (fetch server version|connect to database)")
    try:
        get_settings()  # a malformed setting is named here, before anything else starts
    except SettingError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    if sys.argv[1:2] == ["run"]:
        _share_metrics_across_workers()
    from litestar.cli.main import litestar_group

    if _is_own_command(litestar_group, sys.argv[1:2]):
        _prepare_without_the_app(litestar_group)
    sys.exit(litestar_group(prog_name="casetracker"))


# Litestar's own commands (and ``run``, which serves the app) load the app as Litestar's CLI
# does; casetracker's other commands never use it.
_LITESTAR_COMMANDS = frozenset({"run", "info", "routes", "version", "sessions", "schema"})


def _is_own_command(cli: click.Group, first: list[str]) -> bool:
    if not first or first[0].startswith("-") or first[0] in _LITESTAR_COMMANDS:
        return False
    if first[0] in cli.commands:  # an entry-point extension of Litestar's CLI
        return False
    return first[0] in _own_command_names()


def _own_command_names() -> set[str]:
    group = click.Group()
    register_commands(group)
    return set(group.commands)


def _prepare_without_the_app(cli: click.Group) -> None:
    """Set Litestar's CLI group up for one of casetracker's own commands without building the
    app: Litestar builds it (every route, every template, about a second of CPU) only to ask
    its CLI plugin for the commands, which ``register_commands`` adds here directly. What
    building the app does besides routes is done here too: ``.env`` read, settings checked,
    the same logging. A command that asks for the app (``app`` or ``env`` argument) still gets
    it, built when asked."""
    import contextlib

    with contextlib.suppress(ImportError):
        import dotenv

        dotenv.load_dotenv()
    from casetracker.app import check_settings, logging_config

    settings = get_settings()
    check_settings(settings)
    logging_config(settings).configure()
    register_commands(cli)
    cli._prepare_done = True  # type: ignore[attr-defined]  # Litestar's "plugins asked" flag
