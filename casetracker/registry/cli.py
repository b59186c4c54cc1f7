"""``casetracker registry import-ice FILE [--pending]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from casetracker.cli import with_database


@click.group("registry", help="The 287(g) registry of agencies, agreements and officers.")
def registry_group() -> None:
    pass


def print_summary(summary: Any, *, max_listed: int = 50) -> None:
    published = f", published {summary.published}" if summary.published else ""
    click.echo(f"{summary.source}: {summary.sheet_kind} sheet{published}, {summary.rows} rows")
    click.echo(f"  added:            {summary.added}")
    click.echo(f"  updated:          {summary.updated}")
    click.echo(f"  unchanged:        {summary.unchanged}")
    click.echo(f"  no longer listed: {summary.no_longer_listed}")
    click.echo(f"  rejected:         {len(summary.rejected)}")
    click.echo(f"  agencies added:   {summary.agencies_added}, updated: {summary.agencies_updated}")
    if summary.blank_rows:
        click.echo(f"  blank rows skipped: {summary.blank_rows}")
    for title, problems in (("Rejected rows", summary.rejected), ("Warnings", summary.warnings)):
        if not problems:
            continue
        click.echo(f"{title}:")
        for problem in problems[:max_listed]:
            row = f"row {problem['row']}: " if problem.get("row") else ""
            click.echo(f"  {row}{problem['reason']}")
        if len(problems) > max_listed:
            click.echo(f"  ... and {len(problems) - max_listed} more (all are in the audit log)")


@registry_group.command(
    "import-ice",
    help="Import ICE's 287(g) participating-agencies sheet (or the pending-agencies sheet, "
         "detected by its columns or forced with --pending). Re-importing changes nothing; "
         "agreements missing from a newer participating sheet become 'no longer listed'. "
         "Exit code 1 when the file cannot be read.",
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--pending", is_flag=True, default=False,
              help="Treat the sheet as ICE's pending-agencies sheet.")
def import_ice_command(file: Path, pending: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from casetracker.auth.actor import Actor
    from casetracker.registry.ice_sheet import SheetError
    from casetracker.registry.services import RegistryService

    @with_database
    async def run() -> Any:
        with Progress(TextColumn("Importing {task.description}"), BarColumn(),
                      MofNCompleteColumn(), transient=True) as bar:
            task = bar.add_task(file.name, total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await RegistryService(Actor.system("cli")).import_ice_sheet(
                file, pending=True if pending else None, progress=progress)

    try:
        summary = run()
    except SheetError as exc:
        click.echo(f"Cannot import {file}: {exc}", err=True)
        sys.exit(1)
    print_summary(summary)


CLI_COMMANDS = [registry_group]
