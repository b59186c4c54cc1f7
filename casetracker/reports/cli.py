"""``casetracker reports verify FILE``: check an issued recommendation.
``casetracker reports check-clauses DIR``: check the clause library against the agreement texts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from casetracker.settings import Settings

# Exit codes of ``reports verify`` (documented in its help and in docs/reports.md).
EXIT_OK = 0  # the file checks out
EXIT_FAILED = 1  # changed after signing, an invalid signature, or a file nobody issued
EXIT_UNREADABLE = 2  # not a PDF, or a trust certificate that cannot be read (and usage errors)
EXIT_SIGNER_UNCONFIRMED = 3  # signed and intact, but no trust root, or the signer not trusted
EXIT_NO_RECORDS = 4  # the issued records could not be read (database unreachable)

VERIFY_HELP = """Check a recommendation PDF: a signed one by its signature; any one by its SHA-256
against the issued records (both the sensitive and the redacted version of each).

\b
Exit codes:
  0  it checks out (issued here; if signed: intact, valid, signer trusted)
  1  it does not: changed after signing, an invalid signature, or no issued
     recommendation has this SHA-256 (and it is not signed)
  2  the file is not a readable PDF, or the trust certificate cannot be read
  3  signed and intact, but the signer cannot be confirmed: no trust root
     (neither --trust-cert nor CASETRACKER_SIGNING_CERT), or the certificate is
     not trusted by it; --allow-untrusted accepts that (exit 0, with a warning)
  4  the issued records could not be read (the database did not answer)
"""


@click.group("reports", help="Printed documents and rescission recommendations.")
def reports_group() -> None:
    pass


def _lookup(sha: str) -> tuple[dict[str, Any] | None, str]:
    """The issued recommendation with this SHA-256, or the reason the records could not be
    read (the database did not answer): one sentence, no traceback."""
    import asyncio

    from casetracker import db
    from casetracker.reports.services import find_by_sha256
    from casetracker.settings import get_settings

    def problem(exc: Exception, settings: Settings) -> str:
        if isinstance(exc, db.DatabaseSettingError):
            return str(exc)
        found = db.connection_problem(exc, settings)
        return found or f"{type(exc).__name__}: {exc}".splitlines()[0][:300]

    async def lookup() -> tuple[dict[str, object] | None, str]:
        settings = get_settings()
        try:
            await db.open_database(settings)
        except Exception as exc:
            return None, problem(exc, settings)
        try:
            return await find_by_sha256(sha), ""
        except Exception as exc:
            return None, problem(exc, settings)
        finally:
            await db.close_database()

    return asyncio.run(lookup())


@reports_group.command("verify", help=VERIFY_HELP)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust-cert", default="", help="PEM certificate to trust as the signer "
              "(default: CASETRACKER_SIGNING_CERT).")
@click.option("--allow-untrusted", is_flag=True, help="Accept a signature whose signer cannot "
              "be confirmed (exit 0 instead of 3); the output still says so.")
def verify_command(file: Path, trust_cert: str, allow_untrusted: bool) -> None:
    import logging

    from casetracker.reports import rendering, signing
    from casetracker.settings import get_settings

    # pyHanko logs what it finds wrong with a tampered file as tracebacks; the findings are
    # reported below in sentences instead
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    data = file.read_bytes()
    if not data.startswith(b"%PDF-"):
        click.echo(f"{file} is not a PDF file.")
        sys.exit(EXIT_UNREADABLE)
    trust = trust_cert or get_settings().signing_cert
    if trust and not Path(trust).is_file():
        click.echo(f"Cannot read the trust certificate {trust}: no such file.")
        sys.exit(EXIT_UNREADABLE)
    try:
        check = signing.verify_pdf(data, trust)
    except signing.TrustRootError as exc:
        click.echo(f"Cannot read the trust certificate {trust}: {exc}")
        sys.exit(EXIT_UNREADABLE)
    except Exception as exc:
        click.echo(f"{file} is not a readable PDF ({type(exc).__name__}).")
        sys.exit(EXIT_UNREADABLE)

    status = EXIT_OK
    for line in check.lines:
        click.echo(line)
    if check.signed and not check.intact_and_valid:
        status = EXIT_FAILED
    elif check.signed and not check.trusted:
        status = EXIT_OK if allow_untrusted else EXIT_SIGNER_UNCONFIRMED
        if allow_untrusted:
            click.echo("Accepted without confirming the signer (--allow-untrusted).")

    sha = rendering.sha256_hex(data)
    record, problem = _lookup(sha)
    if problem:
        click.echo(f"The issued records could not be read ({problem}); the SHA-256 {sha} was "
                   "not looked up.")
        sys.exit(status if status != EXIT_OK else EXIT_NO_RECORDS)
    if record:
        issued = record["issued_at"]
        variant = {"redacted": "the redacted version of ", "sensitive": "the sensitive version of "
                   }.get(str(record.get("variant")), "")
        click.echo(f"SHA-256 {sha} is {variant}{record['number']}, issued "
                   f"{issued:%B} {issued.day}, {issued:%Y} at {issued:%H:%M} UTC.")
    else:
        click.echo(f"SHA-256 {sha} matches no issued recommendation.")
        if not check.signed:
            status = EXIT_FAILED
    sys.exit(status)


@reports_group.command("check-clauses", help="Check every quotation of the clause library "
                       "against the agreement texts in DIR (shared/reference/moa): each must be "
                       "found, in its section, after undoing PDF-extraction artefacts. Exit code "
                       "1 when one is not.")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check_clauses_command(directory: Path) -> None:
    from casetracker.reports.clauses import CLAUSES
    from casetracker.reports.reference_texts import verify_library

    try:
        problems = verify_library(directory)
    except FileNotFoundError as exc:
        click.echo(f"A reference text is missing: {exc.filename}")
        sys.exit(2)
    for problem in problems:
        click.echo(str(problem))
    checked = sum(len(c.texts) for c in CLAUSES.values())
    click.echo(f"{checked - len(problems)} of {checked} quotations found in their sections.")
    sys.exit(1 if problems else 0)


CLI_COMMANDS = [reports_group]
