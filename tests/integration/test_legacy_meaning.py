"""Legacy records that keep their meaning: pending stays open, several types and dispositions
per row are all kept, patterns in the mapping, every unmapped value and every conflict
reported before anything is written, and the dashboard by incident date. Real Buffalo file,
both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from casetracker.cases.tables import Allegation, Case
from casetracker.oversight import services
from casetracker.oversight.legacy import load_mapping, run_import
from casetracker.oversight.metrics import Period, Scope
from casetracker.oversight.tables import LegacyAllegationDetail
from tests.conftest import SHARED_DATA

BUFFALO = SHARED_DATA / "complaints" / "buffalo" / "allegations.csv"
MAPPING = Path(__file__).resolve().parents[2] / "docs" / "legacy-mapping-buffalo.toml"

pytestmark = pytest.mark.shared_data("complaints/buffalo/allegations.csv")


async def test_the_buffalo_mapping_imports_295_complaints_and_338_allegations(
        settings: Any) -> None:
    mapping = load_mapping(MAPPING)
    dry = await run_import(mapping, BUFFALO, BUFFALO, dry_run=True)
    assert (dry.complaints, dry.allegations) == (295, 338)
    assert dry.report.unmapped_findings == {} and dry.report.default_categories == {}
    assert {(c["id"], c["kept"], c["other"]) for c in dry.report.conflicts} == {
        ("EC2017-004", "2017-03-21", "2017-01-02"), ("EC2016-019", "2016-05-25", "2016-03-28")}
    assert dry.report.pending_complaints == 20
    assert await Case.count() == 0  # a dry run writes nothing

    result = await run_import(mapping, BUFFALO, BUFFALO, actor_label="test")
    assert result.loaded["complaints"] == 295 and result.loaded["accused"] == 338
    assert await Case.count() == 295 and await Allegation.count() == 338
    # PENDING: "open, legacy", no closing date and no clock
    open_cases = await Case.select().where(Case.status == "open")
    assert len(open_cases) == 20
    assert all(c["channel"] == "legacy" and c["closed_at"] is None
               and c["resolution_due_at"] is None for c in open_cases)
    assert await Case.count().where((Case.status == "closed") & (Case.channel == "legacy")) == 275
    # several complaint types and dispositions in one row: all kept
    row = await LegacyAllegationDetail.select().where(
        LegacyAllegationDetail.original_category == "USE OF FORCE; SHOTS FIRED").first()
    assert row is not None
    allegation = await Allegation.select().where(Allegation.id == row["allegation"]).first()
    assert allegation["allegation_type"] == "force"
    assert allegation["description"] == "USE OF FORCE; SHOTS FIRED"
    both = await LegacyAllegationDetail.select(LegacyAllegationDetail.original_finding).where(
        LegacyAllegationDetail.original_finding.like("%; %"))
    assert len(both) == 95  # rows with several dispositions keep each
    # not counted as overdue: outside the clocks
    metrics = await services.load_metrics(Period(date(2009, 1, 1), date(2020, 12, 31)),
                                          Scope(), now=datetime(2026, 1, 1, tzinfo=UTC))
    assert metrics["received"] >= 200
    assert metrics["timeliness"]["resolution"]["overdue"] == 0


async def test_unmapped_values_are_reported_with_their_counts(settings: Any,
                                                              tmp_path: Path) -> None:
    text = MAPPING.read_text()
    text = text.replace('"NOT SUSTAINED" = "not_sustained"\n', "")
    text = text.replace('pattern = "."\ntype = "other"\n', 'pattern = "^$"\ntype = "other"\n')
    partial = tmp_path / "partial.toml"
    partial.write_text(text)
    dry = await run_import(load_mapping(partial), BUFFALO, BUFFALO, dry_run=True)
    assert dry.report.unmapped_findings == {"NOT SUSTAINED": 162}
    assert dry.report.default_categories["CONDUCT"] == 128
    assert dry.report.default_categories["PROCEDURES"] == 99
    assert await Case.count() == 0


async def test_the_dashboard_counts_by_incident_date_or_by_received_date(settings: Any) -> None:
    def at(day: str) -> datetime:
        return datetime.fromisoformat(f"{day}T12:00:00+00:00")

    for received, incident in (("2007-01-10", "2006-11-02"), ("2007-02-01", "2006-12-30"),
                               ("2006-05-01", "2006-04-30"), ("2006-06-01", None)):
        await Case(tracking_number=f"T-{received}", received_at=at(received),
                   incident_date=date.fromisoformat(incident) if incident else None,
                   status="closed", channel="legacy").save()
    year = Period(date(2006, 1, 1), date(2006, 12, 31))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    by_received = await services.load_metrics(year, Scope(), now=now)
    by_incident = await services.load_metrics(year, Scope(basis="incident"), now=now)
    assert by_received["received"] == 2 and by_incident["received"] == 3
    assert by_incident["by_year"] == {"2006": 3}


async def test_conflicts_between_rows_of_one_complaint(settings: Any, tmp_path: Path) -> None:
    from casetracker.oversight.legacy import parse_mapping

    rows = tmp_path / "rows.csv"
    rows.write_text("id,received,incident,finding\n"
                    "A1,2010-01-05,,NOT SUSTAINED\n"
                    "A1,2010-01-05,2009-12-30,SUSTAINED\n"  # fills the missing date: fine
                    "A1,2010-02-01,2009-12-30,PENDING\n")  # another received date: conflict
    mapping = parse_mapping({
        "source": "t", "agency": {"name": "Test Police Department", "state": "NY"},
        "complaints": {"id": "id", "received_date": "received", "incident_date": "incident"},
        "accused": {"complaint_id": "id", "finding": "finding"},
        "findings": {"NOT SUSTAINED": "not_sustained", "SUSTAINED": "sustained"},
        "pending": {"patterns": ["^PENDING$"]}})
    dry = await run_import(mapping, rows, rows, dry_run=True)
    assert [(c["field"], c["kept"], c["other"], c["line"]) for c in dry.report.conflicts] == [
        ("received", "2010-01-05", "2010-02-01", 4)]
    assert dry.report.pending_complaints == 1 and dry.report.unmapped_findings == {}
    await run_import(mapping, rows, rows, actor_label="test")
    case = await Case.select().first()
    assert case["status"] == "open" and str(case["incident_date"]) == "2009-12-30"
    findings = sorted(a["final_finding"] for a in await Allegation.select())
    assert findings == ["", "not_sustained", "sustained"]
