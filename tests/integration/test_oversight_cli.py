"""The oversight commands end to end (SQLite): import legacy complaints, then write the report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from click.testing import CliRunner

from casetracker import db
from casetracker.cli import register_commands
from casetracker.settings import configure, load_settings
from tests.pdf import pdf_layout_text

MAPPING = Path(__file__).resolve().parents[2] / "docs" / "legacy-mapping-chicago.toml"


def test_import_then_report_from_the_command_line(tmp_path: Path) -> None:
    settings = configure(load_settings().replace(
        database_url=f"sqlite:///{tmp_path / 'cli.sqlite3'}", var_dir=tmp_path, pdf_workers=0))

    async def migrate() -> None:
        await db.open_database(settings)
        await db.migrate()
        await db.close_database()

    asyncio.run(migrate())
    complaints = tmp_path / "complaints.csv"
    complaints.write_text(
        "cr_id,complaint_date,closed_date,current_complaint_category\n"
        + "".join(f"{i},2015-0{1 + i % 9}-1{i % 10},2015-12-01,X\n" for i in range(1, 13))
        + "13,someday,,X\n")
    accused = tmp_path / "accused.csv"
    accused.write_text("cr_id,allegation_category,final_finding,UID\n"
                       + "".join(f"{i},RACIAL PROFILING,SUSTAINED,7\n" for i in range(1, 7))
                       + "".join(f"{i},USE OF PROFANITY,UNFOUNDED,8\n" for i in range(7, 13)))
    cli = click.Group()
    register_commands(cli)
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "legacy-complaints", "--mapping", str(MAPPING),
                                 "--accused", str(accused), str(complaints)])
    assert result.exit_code == 0, result.output
    assert "loaded       12" in result.output and "rejected        1" in result.output
    assert "line 14: received date 'someday' is not a date" in result.output
    out = tmp_path / "report.pdf"
    result = runner.invoke(cli, ["reports", "oversight", "--from", "2015-01-01", "--to",
                                 "2015-12-31", str(out)])
    assert result.exit_code == 0, result.output
    text = pdf_layout_text(out.read_bytes())
    assert "12 complaints received from 2015-01-01 to 2015-12-31" in text
    assert "USE OF PROFANITY: 6" in text  # original categories kept
