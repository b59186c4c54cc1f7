"""``casetracker reports verify FILE``: check an issued recommendation."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from casetracker.cli import with_database


@click.group("reports", help="Printed documents and rescission recommendations.")
def reports_group() -> None:
    pass


@reports_group.command("verify", help="Check a recommendation PDF: a signed one by its "
                       "signature; any one by its SHA-256 against the issued record. "
                       "Exit code 1 when it does not check out.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust-cert", default="", help="PEM certificate to trust as the signer "
              "(default: CASETRACKER_SIGNING_CERT).")
def verify_command(file: Path, trust_cert: str) -> None:
    from casetracker.reports import rendering, signing
    from casetracker.reports.services import find_by_sha256
    from casetracker.settings import get_settings

    data = file.read_bytes()
    ok = True
    try:
        check = signing.verify_pdf(data, trust_cert or get_settings().signing_cert)
    except Exception as exc:
        click.echo(f"not a readable PDF: {exc}")
        sys.exit(1)
    if check.signed:
        click.echo(check.summary)
        ok = check.intact and check.valid
    sha = rendering.sha256_hex(data)

    @with_database
    async def lookup() -> object:
        return await find_by_sha256(sha)

    record = lookup()
    if record:
        issued = record["issued_at"]  # type: ignore[index]
        click.echo(f"SHA-256 {sha} matches {record['number']} issued "  # type: ignore[index]
                   f"{issued:%Y-%m-%d %H:%M} UTC")
    else:
        click.echo(f"SHA-256 {sha} matches no issued recommendation")
        ok = False if not check.signed else ok
    sys.exit(0 if ok else 1)


CLI_COMMANDS = [reports_group]
