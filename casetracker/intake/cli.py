"""``casetracker intake sweep``: remove abandoned complaint drafts and their staged files."""

from __future__ import annotations

import click

from casetracker.cli import with_database


@click.group("intake", help="Public intake: clean-up of complaint drafts.")
def intake_group() -> None:
    pass


@intake_group.command("sweep", help="Remove complaint drafts past their time (the form was "
                                    "abandoned) with their staged files, and forget expired "
                                    "one-time submission keys. Safe to run at any time; run it "
                                    "hourly (cron or a systemd timer).")
def sweep_command() -> None:
    @with_database
    async def run() -> dict[str, int]:
        from casetracker.intake import drafts

        total = {"drafts": 0, "files": 0, "keys": 0}
        while True:  # in batches, until nothing is left
            result = await drafts.sweep()
            for name in total:
                total[name] += result[name]
            if result["drafts"] == 0:
                return total

    total = run()
    click.echo(f"{total['drafts']} abandoned draft(s) removed with {total['files']} staged "
               f"file(s); {total['keys']} expired submission key(s) forgotten.")


CLI_COMMANDS = [intake_group]
