"""``casetracker evidence verify [--case ID]`` and ``casetracker evidence sweep``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from casetracker.cli import with_database


@click.group("evidence", help="Evidence store: integrity checks and clean-up.")
def evidence_group() -> None:
    pass


async def run_verify(case_id: int | None, echo: Callable[..., Any] = click.echo,
                     show_progress: bool = True) -> int:
    """Re-hash stored files against their records; return the exit code (1 when any fail)."""
    from casetracker.auth.actor import Actor
    from casetracker.evidence.services import verify_items
    from casetracker.evidence.tables import EvidenceItem

    query = EvidenceItem.select(EvidenceItem.size_bytes)
    if case_id is not None:
        query = query.where(EvidenceItem.case == case_id)
    total = sum(row["size_bytes"] for row in await query)
    failures = []

    def report(outcome: Any) -> None:
        if not outcome.ok:
            failures.append(outcome)

    with click.progressbar(length=max(total, 1), label="Verifying evidence", file=sys.stderr,
                           show_pos=False, show_percent=True) as bar:
        outcomes = await verify_items(
            Actor.system("evidence verify"), case_id=case_id,
            progress=(bar.update if show_progress else None), on_item=report)
    for outcome in failures:
        if outcome.problem == "missing":
            echo(f"MISSING  item {outcome.item_id} (case {outcome.case_id}): "
                 f"{outcome.storage_key} is not in the store")
        else:
            echo(f"MISMATCH item {outcome.item_id} (case {outcome.case_id}): expected "
                 f"{outcome.expected_sha256} ({outcome.expected_size} bytes), found "
                 f"{outcome.actual_sha256} ({outcome.actual_size} bytes)")
    echo(f"{len(outcomes)} item(s) checked, {len(outcomes) - len(failures)} intact, "
         f"{len(failures)} failed.")
    return 1 if failures else 0


@evidence_group.command("verify", help="Re-hash stored evidence against its records and report "
                                       "each mismatch or missing file. Exit code 1 when any.")
@click.option("--case", "case_id", type=int, default=None, help="Only this case (its id).")
def verify_command(case_id: int | None) -> None:
    code = with_database(run_verify)(case_id)
    sys.exit(code)


@evidence_group.command("sweep", help="Remove staging leftovers older than an hour, abort "
                                      "incomplete uploads to the object store older than an "
                                      "hour, and remove stored files no record points to; "
                                      "each is logged.")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def sweep_command(dry_run: bool) -> None:
    from casetracker.evidence.services import sweep

    result = with_database(sweep)(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for name in result["staging"]:
        click.echo(f"{verb} staging leftover {name}")
    for key in result["orphans"]:
        click.echo(f"{verb} unreferenced stored file {key}")
    upload_verb = "would abort" if dry_run else "aborted"
    for key in result["uploads"]:
        click.echo(f"{upload_verb} incomplete upload to {key}")
    click.echo(f"{len(result['staging'])} staging leftover(s) and {len(result['orphans'])} "
               f"unreferenced file(s) {verb}; {len(result['uploads'])} incomplete upload(s) "
               f"{upload_verb}.")


CLI_COMMANDS = [evidence_group]
