"""``casetracker audit verify``."""

from __future__ import annotations

import sys

import click

from casetracker.cli import with_database


@click.group("audit", help="The audit log.")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="Check the hash chain: says 'intact' or names the first "
                                    "broken row. Exit code 1 when broken.")
def verify_command() -> None:
    from casetracker.audit.services import verify_chain

    @with_database
    async def run() -> object:
        return await verify_chain()

    result = run()
    if result.intact:  # type: ignore[attr-defined]
        click.echo(f"intact ({result.checked} events checked)")  # type: ignore[attr-defined]
        return
    broken = result.first_break  # type: ignore[attr-defined]
    click.echo(f"BROKEN at event seq {broken.seq} (row id {broken.event_id}): {broken.reason}")
    sys.exit(1)


CLI_COMMANDS = [audit_group]
