"""``casetracker cases seed``: synthetic cases for benchmarks and demonstrations."""

from __future__ import annotations

import click

from casetracker.cli import with_database


@click.group("cases", help="Case data commands.")
def cases_group() -> None:
    pass


@cases_group.command("seed", help="Add realistic synthetic cases (agencies, officers and "
                     "investigators too when there are none). Never run it on real data.")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(1, 5_000_000),
              help="How many cases to add.")
@click.option("--seed", "seed_value", default=1, show_default=True, type=int,
              help="Random seed: the same seed gives the same data.")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(100, 20000),
              help="Cases written per transaction.")
def seed_command(count: int, seed_value: int, batch_size: int) -> None:
    from casetracker.cases.seed import seed_cases

    def progress(done: int, total: int) -> None:
        if done == total or done % (batch_size * 10) == 0:
            click.echo(f"  {done:,} / {total:,} cases", err=True)

    def step(message: str) -> None:
        click.echo(f"  {message}", err=True)

    @with_database
    async def run() -> object:
        from casetracker import db

        await db.migrate_with_lock()
        return await seed_cases(count, seed_value, batch_size=batch_size, progress=progress,
                                steps=step)

    report = run()
    click.echo(
        f"Added {report.cases:,} cases, {report.case_officers:,} officers named on them, "  # type: ignore[attr-defined]
        f"{report.allegations:,} allegations and {report.notes:,} notes "  # type: ignore[attr-defined]
        f"in {report.seconds:.1f} s."  # type: ignore[attr-defined]
    )
    if report.agencies_created:  # type: ignore[attr-defined]
        click.echo(f"Created {report.agencies_created} agencies and "  # type: ignore[attr-defined]
                   f"{report.officers_created:,} officers in the empty registry.")  # type: ignore[attr-defined]
    if report.investigators_created:  # type: ignore[attr-defined]
        click.echo(f"Created {report.investigators_created} investigators (they cannot sign "  # type: ignore[attr-defined]
                   "in).")


CLI_COMMANDS = [cases_group]
