"""``casetracker backup DEST``, ``casetracker backup verify SRC``, ``casetracker restore SRC``."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from casetracker.settings import get_settings


class TerminalProgress:
    """Steps as lines and byte counts as bars, on stderr (stdout keeps the results)."""

    def say(self, message: str) -> None:
        click.echo(message, err=True)

    @contextlib.contextmanager
    def bar(self, label: str, total: int) -> Iterator[Any]:
        with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=False,
                               show_percent=True) as bar:
            yield bar


class _BackupGroup(click.Group):
    """``backup DEST`` is ``backup create DEST``; ``backup verify SRC`` checks one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group("backup", cls=_BackupGroup,
             help="A consistent, point-in-time backup while the app runs: `casetracker backup "
                  "DEST` (same as `backup create DEST`); `casetracker backup verify SRC` "
                  "checks one without restoring it.")
def backup_group() -> None:
    pass


@backup_group.command("create", help="Back up the database, the evidence and issued documents "
                      "it refers to, the latest audit checkpoint and a manifest into a new "
                      "folder DEST/backup-<UTC time>; files already in DEST are not copied "
                      "again.")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--copy-objects/--no-copy-objects", default=None,
              help="Copy evidence and documents into the backup (default: yes on the local "
                   "disk, no with object storage, which keeps its own versions).")
def create_command(dest: Path, copy_objects: bool | None) -> None:
    from casetracker.backup.services import BackupRefused, create_backup
    from casetracker.storage import close_stores

    async def run() -> Any:
        try:
            return await create_backup(dest, get_settings(), copy_objects=copy_objects,
                                       progress=TerminalProgress())
        finally:
            await close_stores()

    try:
        result = asyncio.run(run())
    except BackupRefused as exc:
        click.echo(f"Backup FAILED: {exc}", err=True)
        sys.exit(1)
    manifest = result.manifest
    click.echo(f"Backup written to {result.path}: {sum(manifest['counts'].values())} rows in "
               f"{len(manifest['counts'])} tables, {manifest['audit']['count']} audit events, "
               f"{len(manifest['objects'])} stored object(s).")
    for problem in result.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if result.problems:
        sys.exit(1)


@backup_group.command("verify", help="Check a backup without restoring it: every file's "
                      "SHA-256, the database's integrity, counts and migrations against the "
                      "manifest, and the audit chain against the backed-up checkpoint. SRC is "
                      "a backup folder or a DEST holding them (the newest is checked). Exit "
                      "code 1 when anything is wrong.")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_command(src: Path) -> None:
    from casetracker.backup.services import BackupRefused, verify_backup

    try:
        folder, manifest, problems = asyncio.run(
            verify_backup(src, get_settings(), TerminalProgress()))
    except BackupRefused as exc:
        click.echo(f"REFUSED: {exc}", err=True)
        sys.exit(1)
    if problems:
        for problem in problems:
            click.echo(f"PROBLEM: {problem}")
        click.echo(f"REFUSED: {folder} does not verify ({len(problems)} problem(s)).")
        sys.exit(1)
    click.echo(f"OK: {folder} verifies ({manifest['audit']['count']} audit events, "
               f"{len(manifest['objects'])} stored object(s)).")


@click.command("restore", help="Restore a backup into an empty var folder and an empty "
               "database (never overwrites), then check it: the manifest's counts, `audit "
               "verify` against the backed-up checkpoint, `evidence verify`. SRC is a backup "
               "folder or a DEST holding them (the newest is restored).")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(src: Path) -> None:
    from casetracker import db
    from casetracker.backup.services import BackupRefused, check_restored, restore_backup
    from casetracker.storage import close_stores

    progress = TerminalProgress()

    async def run() -> Any:
        try:
            return await restore_backup(src, get_settings(), progress)
        finally:
            await close_stores()

    try:
        restored = asyncio.run(run())
    except BackupRefused as exc:
        click.echo(f"Restore REFUSED: {exc}", err=True)
        sys.exit(1)
    settings = get_settings()

    async def check() -> list[str]:
        await db.open_database(settings)
        try:
            return await check_restored(restored, settings, progress)
        finally:
            await close_stores()
            await db.close_database()

    problems = asyncio.run(check())
    if problems:
        for problem in problems:
            click.echo(f"PROBLEM: {problem}")
        click.echo("Restored, but the checks FAILED: do not serve this copy before you know "
                   "why.")
        sys.exit(1)
    click.echo(f"Restored {restored.folder.name}: counts match the manifest, the audit log is "
               "intact, evidence verifies. Run `casetracker migrate` if this version has newer "
               "migrations, then start the app.")


CLI_COMMANDS = [backup_group, restore_command]
