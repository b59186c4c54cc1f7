"""Oversight commands: ``casetracker import legacy-complaints`` and
``casetracker reports oversight`` (the "reports" group is merged with the reports package's)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from casetracker.cli import with_database


@click.group("import", help="Import data from files.")
def import_group() -> None:
    pass


@import_group.command("legacy-complaints")
@click.option("--mapping", "mapping_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The column mapping (TOML or JSON), e.g. docs/legacy-mapping-chicago.toml.")
@click.option("--accused", "accused_path", type=click.Path(exists=True, dir_okay=False,
                                                           path_type=Path),
              help="CSV (or .csv.gz) of officer-allegation rows with final findings.")
@click.option("--complainants", "complainants_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV (or .csv.gz) of complainants (race, gender, birth year).")
@click.option("--batch-size", default=500, show_default=True, help="Complaints per transaction.")
@click.option("--show-rejected", default=10, show_default=True,
              help="How many rejected rows to list (with their reasons).")
@click.option("--dry-run", is_flag=True, default=False,
              help="Print what the mapping leaves unmapped, the conflicts and the counts it "
                   "would load, and write nothing.")
@click.argument("complaints_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def legacy_complaints(mapping_path: Path, accused_path: Path | None,
                      complainants_path: Path | None, batch_size: int, show_rejected: int,
                      dry_run: bool, complaints_path: Path) -> None:
    """Load historical complaint records (channel "legacy"; closed, or "open, legacy" when a
    finding matches the mapping's [pending] patterns) from COMPLAINTS_PATH. The same file may
    be given as --accused when it has one row per allegation.

    Every original finding the mapping does not cover and every category no rule matches is
    listed with its count, and every conflict between rows of one complaint, before anything
    is written. Running it again skips complaints already imported from the same source."""
    from casetracker.oversight.legacy import MappingError, load_mapping, run_import

    try:
        mapping = load_mapping(mapping_path)
    except MappingError as exc:
        raise click.ClickException(f"The mapping file is not usable: {exc}") from exc

    @with_database
    async def run() -> object:
        bar_holder: dict[str, object] = {}

        def on_parsed(total: int) -> None:
            click.echo(f"Read the files; {total:,} new complaints to load.", err=True)
            bar = click.progressbar(length=total, label="Importing complaints", file=None,
                                    show_pos=True, show_eta=True)
            bar.__enter__()
            bar_holder["bar"] = bar

        def progress(n: int) -> None:
            bar_holder["bar"].update(n)  # type: ignore[attr-defined]

        click.echo("Reading the files…", err=True)
        try:
            return await run_import(mapping, complaints_path, accused_path, complainants_path,
                                    actor_label="cli:import legacy-complaints",
                                    batch_size=batch_size, progress=progress,
                                    on_parsed=on_parsed, on_report=print_mapping_report,
                                    dry_run=dry_run)
        finally:
            if "bar" in bar_holder:
                bar_holder["bar"].__exit__(None, None, None)  # type: ignore[attr-defined]

    result = run()
    r = result
    if dry_run:
        click.echo(f"Dry run: nothing was written. The files hold {r.complaints:,} complaints "  # type: ignore[attr-defined]
                   f"and {r.allegations:,} allegations "  # type: ignore[attr-defined]
                   f"({r.report.pending_complaints:,} complaints would stay open, legacy).")  # type: ignore[attr-defined]
        return
    click.echo(f"Import run {r.run_id} finished in {r.seconds:.1f} s.")  # type: ignore[attr-defined]
    for kind in ("complaints", "accused", "complainants"):
        click.echo(f"  {kind:13} read {r.read[kind]:>8,}  loaded {r.loaded[kind]:>8,}  "  # type: ignore[attr-defined]
                   f"rejected {r.rejects.counts[kind]:>8,}")  # type: ignore[attr-defined]
    click.echo(f"  duplicate complaint rows merged (same id): {r.duplicates:,}")  # type: ignore[attr-defined]
    click.echo(f"  complaints already imported, skipped: {r.skipped_existing:,}")  # type: ignore[attr-defined]
    click.echo(f"  registry officers created: {r.officers_created:,}")  # type: ignore[attr-defined]
    sample = r.rejects.sample[:show_rejected]  # type: ignore[attr-defined]
    if sample:
        click.echo(f"First {len(sample)} rejected rows:")
        for item in sample:
            click.echo(f"  {item['file']} line {item['line']}: {item['reason']}")


def print_mapping_report(parsed: object, *, listed: int = 100) -> None:
    """What the mapping does not say, before anything is written."""
    report = parsed.report  # type: ignore[attr-defined]
    for title, values in (("Original findings the mapping does not cover (counted with no "
                           "final finding)", report.unmapped_findings),
                          ("Categories no rule matches (given the default type)",
                           report.default_categories)):
        click.echo(f"{title}: {len(values) or 'none'}")
        for value, count in list(values.items())[:listed]:
            click.echo(f"  {count:>7,}  {value or '(empty)'}")
    click.echo(f"Rows of one complaint that disagree: {len(report.conflicts) or 'none'}")
    for c in report.conflicts[:listed]:
        click.echo(f"  complaint {c['id']}: {c['field']} {c['kept']!r} (line {c['first_line']}, "
                   f"kept) but {c['other']!r} on line {c['line']}")
    click.echo(f"Complaints kept open (pending): {report.pending_complaints:,}")


@click.group("reports", help="Generate reports.")
def reports_group() -> None:
    pass


@reports_group.command("oversight")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day of the period (YYYY-MM-DD).")
@click.option("--state", default="", help="Two-letter state code.")
@click.option("--model", default="", type=click.Choice(["", "JEM", "WSO", "TFM"]),
              help="287(g) model.")
@click.option("--agency", "agency_id", type=int, default=None, help="Agency id.")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def oversight_report(date_from: object, date_to: object, state: str, model: str,
                     agency_id: int | None, out: Path) -> None:
    """Write the periodic oversight report (PDF) for a period and scope to OUT."""
    from casetracker.oversight.metrics import Period, Scope
    from casetracker.oversight.report import build_report_pdf

    start: date = date_from.date()  # type: ignore[attr-defined]
    end: date = date_to.date()  # type: ignore[attr-defined]
    if end < start:
        raise click.BadParameter("--to is before --from")
    period = Period(start, end)
    scope = Scope(state=state.upper(), model=model, agency_id=agency_id)
    steps = ["metrics", "flags", "appendix", "render"]

    @with_database
    async def run() -> bytes:
        with click.progressbar(length=len(steps), label="Oversight report",
                               item_show_func=lambda s: s or "") as bar:
            def step(name: str) -> None:
                bar.update(1, name)

            pdf = await build_report_pdf(period, scope, progress=step)
        from casetracker.audit import services as audit
        from casetracker.auth.actor import Actor

        await audit.record("oversight.report.generate", actor=Actor.system("cli:reports oversight"),
                           object_type="report",
                           details={"from": start.isoformat(), "to": end.isoformat(),
                                    "state": scope.state, "model": scope.model,
                                    "agency": scope.agency_id, "out": str(out)})
        return pdf

    pdf = run()
    out.write_bytes(pdf)
    click.echo(f"Wrote {out} ({len(pdf):,} bytes).")


CLI_COMMANDS = [import_group, reports_group]
