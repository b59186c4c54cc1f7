"""``casetracker audit verify | checkpoint | public-key``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from casetracker.cli import with_database


@click.group("audit", help="The audit log.")
def audit_group() -> None:
    pass


@audit_group.command(
    "verify",
    help="Check the keyed hash chain and hold it to every signed checkpoint (those in the "
         "checkpoint store, and any FILE given): says 'intact' or names the first bad event. "
         "Exit code 1 when anything is wrong.")
@click.option("--checkpoint", "checkpoint_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A checkpoint file kept elsewhere (e.g. from an e-mail); may be repeated.")
def verify_command(checkpoint_files: tuple[Path, ...]) -> None:
    from casetracker.audit.services import verify_chain

    extra = [(str(path), path.read_bytes()) for path in checkpoint_files]

    @with_database
    async def run() -> object:
        return await verify_chain(extra)

    result = run()
    broken = result.first_break  # type: ignore[attr-defined]
    used = result.checkpoints_used  # type: ignore[attr-defined]
    if broken is None:
        latest = result.latest_checkpoint  # type: ignore[attr-defined]
        against = (f"; held to {used} signed checkpoint{'s' if used != 1 else ''}, the latest "
                   f"at event {latest.anchor.seq} of {latest.at:%Y-%m-%d %H:%M} UTC"
                   if latest else "; no checkpoint found: run `casetracker audit checkpoint`")
        click.echo(f"intact ({result.checked} events checked{against})")  # type: ignore[attr-defined]
        return
    where = f" (row id {broken.event_id})" if broken.event_id is not None else ""
    click.echo(f"BROKEN at event seq {broken.seq}{where}: {broken.reason}")
    sys.exit(1)


@audit_group.command(
    "checkpoint",
    help="Sign the log's current head and write it to the checkpoint sinks "
         "(CASETRACKER_AUDIT_CHECKPOINT_SINKS). Refuses, with exit code 1, when the events since "
         "the last checkpoint do not verify.")
@click.option("--force", is_flag=True, help="Write one even if the log has not moved.")
def checkpoint_command(force: bool) -> None:
    from casetracker.audit.services import CheckpointRefused, write_checkpoint

    @with_database
    async def run() -> object:
        return await write_checkpoint(force=force)

    try:
        written = run()
    except CheckpointRefused as exc:
        click.echo(f"No checkpoint written: the log does not verify ({exc}). "
                   "Run `casetracker audit verify`.", err=True)
        sys.exit(1)
    except ValueError as exc:  # a misconfigured sink
        click.echo(f"No checkpoint written: {exc}", err=True)
        sys.exit(1)
    if written is None:
        click.echo("Nothing to do: the log is empty or has not changed since the latest "
                   "checkpoint (--force writes one anyway).")
        return
    head = written.head  # type: ignore[attr-defined]
    for location in written.locations:  # type: ignore[attr-defined]
        click.echo(f"checkpoint at event {head.seq} ({head.count} events) written to {location}")
    for error in written.errors:  # type: ignore[attr-defined]
        click.echo(f"checkpoint NOT written to {error}", err=True)
    if written.errors:  # type: ignore[attr-defined]
        sys.exit(1)


@audit_group.command(
    "public-key",
    help="Print the public key that checks checkpoint signatures (give it to whoever keeps "
         "e-mailed checkpoints).")
def public_key_command() -> None:
    from casetracker.audit.checkpoints import key_id, public_key_bytes, public_key_pem
    from casetracker.settings import get_settings

    secret = get_settings().secret_key
    click.echo(f"key id {key_id(public_key_bytes(secret))}")
    click.echo(public_key_pem(secret), nl=False)


CLI_COMMANDS = [audit_group]
