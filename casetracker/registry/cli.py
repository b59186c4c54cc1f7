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


def print_history_report(report: Any, *, max_listed: int = 200) -> None:
    counts = report.counts()
    first, last = (report.snapshots[0], report.snapshots[-1]) if report.snapshots else ("", "")
    click.echo(f"{report.source}: {report.rows} rows, {len(report.snapshots)} lists "
               f"({first} to {last}), {report.agreements_in_file} agreements of "
               f"{report.agencies_in_file} agency names")
    click.echo("Agency names matched to the registry:")
    for status, words in (("matched", "matched by state and name"),
                          ("mapped", "matched by the mapping file"),
                          ("new", "added as new agencies by the mapping file"),
                          ("skipped", "skipped by the mapping file"),
                          ("ambiguous", "ambiguous (several agencies; not loaded)"),
                          ("unmatched", "unmatched (not loaded)")):
        if counts.get(status) or status in ("matched", "ambiguous", "unmatched"):
            click.echo(f"  {words + ':':45} {counts.get(status, 0)}")
    for status in ("ambiguous", "unmatched"):
        listed = [m for m in report.matches if m.status == status]
        if not listed:
            continue
        click.echo(f"{status.capitalize()}:")
        for match in listed[:max_listed]:
            closest = "; ".join(f"{name} [{agency_id}]" for agency_id, name, _ in
                                match.candidates) or "no close name"
            label = "candidates" if status == "ambiguous" else "closest"
            click.echo(f"  {match.state} {match.name!r} ({', '.join(match.models)}): "
                       f"{label}: {closest}")
    for problem in report.rejected[:max_listed]:
        click.echo(f"  rejected row {problem['row']}: {problem['reason']}")
    if report.dry_run:
        click.echo(f"Dry run: nothing was written ({report.agreements_not_loaded} agreements "
                   "would not be loaded).")
        return
    click.echo(f"Agreements with history: {report.agreements_with_history} "
               f"(added as no longer listed or active: {report.agreements_added}); "
               f"not loaded: {report.agreements_not_loaded}")
    click.echo(f"Listings added: {report.listings_added}, already known: "
               f"{report.listings_already_known}")
    click.echo(f"Agencies updated (ORI, type, population, budget): {report.agencies_updated}, "
               f"added: {report.agencies_added}")


def write_mapping_template(report: Any, path: Path) -> int:
    """The ambiguous and unmatched names as a mapping file to review: fill in agency_id (an
    agency number, 'new' or 'skip')."""
    import csv

    rows = [m for m in report.matches if m.status in ("ambiguous", "unmatched")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["state", "name", "agency_id", "status", "models", "candidates"])
        for match in rows:
            writer.writerow([match.state, match.name, "", match.status, " ".join(match.models),
                             "; ".join(f"{agency_id}={name}" for agency_id, name, _ in
                                       match.candidates)])
    return len(rows)


@registry_group.command(
    "import-history",
    help="Load ICE's list over time from the agreement snapshot file (date, state, county, "
         "agency, type, ori, population_policed, operating_budget, agency_type): every listing "
         "of every agreement, and each agency's ORI, type, population and budget. Agency names "
         "are matched by state and folded name; ambiguous and unmatched names are reported "
         "and not loaded unless --mapping says which agency (a number), 'new' or 'skip'.",
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--mapping", "mapping", type=click.Path(path_type=Path), default=None,
              help="Reviewed mapping CSV: state,name,agency_id (number, new or skip).")
@click.option("--write-mapping", "write_mapping", type=click.Path(path_type=Path),
              default=None, help="Write the ambiguous and unmatched names to this CSV to review.")
@click.option("--dry-run", is_flag=True, default=False,
              help="Print the match report and change nothing.")
def import_history_command(file: Path, mapping: Path | None, write_mapping: Path | None,
                           dry_run: bool) -> None:
    from casetracker.auth.actor import Actor
    from casetracker.errors import ValidationFailed
    from casetracker.registry.history import HistoryService
    from casetracker.registry.snapshots import MappingFileError, SnapshotFileError

    @with_database
    async def run() -> Any:
        return await HistoryService(Actor.system("cli")).import_history(
            file, mapping_path=mapping, dry_run=dry_run)

    try:
        report = run()
    except (SnapshotFileError, MappingFileError) as exc:
        click.echo(f"Cannot import {file}: {exc}", err=True)
        sys.exit(1)
    except ValidationFailed as exc:
        click.echo(f"Cannot import {file}: {'; '.join(map(str, exc.errors.values()))}",
                   err=True)
        sys.exit(1)
    print_history_report(report)
    if write_mapping:
        count = write_mapping_template(report, write_mapping)
        click.echo(f"Wrote {count} names to review to {write_mapping}")


CLI_COMMANDS = [registry_group]
