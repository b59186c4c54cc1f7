"""The ICE sheet parser on hand-made cells: every quirk of the real sheets."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from casetracker.registry.ice_sheet import (
    SheetError,
    parse_link_cell,
    parse_signed,
    parse_table,
    published_from_name,
    read_ice_sheet,
    unwrap_url,
)

TODAY = date(2025, 7, 20)
HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA",
          "ADDENDUM"]


def row(name: str = "Lee County Sheriff's Office", *, state: str = "FLORIDA",
        type_: str = "County", county: str = "Lee County", model: str = "Task Force Model",
        signed: Any = date(2025, 3, 1), moa: str = "link pending", addendum: str = ""
        ) -> list[Any]:
    return [state, name, type_, county, model, signed, moa, addendum]


# --- SIGNED ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "expected", "raw", "warns"), [
    (date(2025, 6, 25), date(2025, 6, 25), "", False),
    (datetime(2025, 6, 25, 0, 0), date(2025, 6, 25), "", False),
    (45833, date(2025, 6, 25), "", False),  # Excel serial day number
    (45833.0, date(2025, 6, 25), "", False),
    ("45833", date(2025, 6, 25), "", False),
    ("6/25/2025", date(2025, 6, 25), "", False),
    ("06/25/2025", date(2025, 6, 25), "", False),
    ("2025-06-25", date(2025, 6, 25), "", False),
    ("05/082025", date(2025, 5, 8), "05/082025", True),  # real typo, July and May sheets
    ("7/72025", date(2025, 7, 7), "7/72025", True),  # real typo, July sheet
    (" 7/72025\u00a0", date(2025, 7, 7), "7/72025", True),
    (date(5025, 7, 7), None, "5025-07-07", True),  # real: converts to the year 5025
    ("7/7/5025", None, "7/7/5025", True),
    (date(1901, 1, 1), None, "1901-01-01", True),
    ("13/45/2025", None, "13/45/2025", True),
    ("sometime in May", None, "sometime in May", True),
    ("", None, "", False),
    (None, None, "", False),
])
def test_signed_cells(cell: Any, expected: date | None, raw: str, warns: bool) -> None:
    parsed, kept, warning = parse_signed(cell, today=TODAY)
    assert parsed == expected
    assert kept == raw
    assert (warning is not None) == warns


# --- MOA / ADDENDUM --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "hyperlink", "url", "pending", "warns"), [
    ("link", "https://www.ice.gov/doclib/287gMOA/a.pdf", "https://www.ice.gov/doclib/287gMOA/a.pdf",
     False, False),
    ("link ", "https://www.ice.gov/doclib/287gMOA/a.pdf", "https://www.ice.gov/doclib/287gMOA/a.pdf",
     False, False),
    ("link\u00a0|\u00a0addendum", None, "", False, True),  # May sheet: text, no hyperlink
    ("link", None, "", False, True),
    ("link pending", None, "", True, False),
    ("link pending ", None, "", True, False),
    ("link\u00a0pending", None, "", True, False),
    ("https://www.ice.gov/doclib/287gMOA/UnivFLPDFL_TFM_MOA_04152025.pdf", None,
     "https://www.ice.gov/doclib/287gMOA/UnivFLPDFL_TFM_MOA_04152025.pdf", False, False),
    ("", None, "", False, False),
    ("see website", None, "", False, True),
])
def test_link_cells(text: str, hyperlink: str | None, url: str, pending: bool,
                    warns: bool) -> None:
    got_url, got_pending, warning = parse_link_cell(text, hyperlink, "MOA")
    assert (got_url, got_pending, warning is not None) == (url, pending, warns)


def test_outlook_safelinks_are_unwrapped() -> None:
    wrapped = ("https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov"
               "%2Fdoclib%2F287gMOA%2FMelbourneBeachPoliceDeptFL_TFM_MOA_05132025.pdf&data=05")
    assert unwrap_url(wrapped) == (
        "https://www.ice.gov/doclib/287gMOA/MelbourneBeachPoliceDeptFL_TFM_MOA_05132025.pdf")
    assert unwrap_url("https://www.ice.gov/x.pdf") == "https://www.ice.gov/x.pdf"


# --- rows ------------------------------------------------------------------------------------

def test_names_and_type_are_cleaned_and_kind_comes_from_type() -> None:
    sheet = parse_table([HEADER,
                         row("Grundy County Sheriff's Office ", type_="County "),
                         row("Miami\u00a0Police  Department", type_="Municipality",
                             model="Jail Enforcement Model "),
                         row("Florida Highway Patrol", type_="State Agency",
                             model="Warrant Service Officer"),
                         row("Port Authority", type_="Port")], today=TODAY)
    names = [(r.agency_name, r.kind, r.model) for r in sheet.rows]
    assert names == [("Grundy County Sheriff's Office", "county", "TFM"),
                     ("Miami Police Department", "municipality", "JEM"),
                     ("Florida Highway Patrol", "state", "WSO"),
                     ("Port Authority", "other", "TFM")]
    assert sheet.rows[0].state == "FL"
    assert [w.row_number for w in sheet.warnings] == [5]  # "Port" is not a known TYPE


def test_identity_ignores_case_and_spacing_but_keeps_apostrophe_style() -> None:
    sheet = parse_table([HEADER,
                         row("Galveston County Sheriff’s Office", model="Jail Enforcement Model"),
                         row("Galveston County Sheriff's Office ",
                             model="Warrant Service Officer"),
                         row("GALVESTON COUNTY SHERIFF'S OFFICE", model="Task Force Model")],
                        today=TODAY)
    # As ICE lists them: "’" and "'" are two agencies; case and spacing are not.
    assert [r.match_key for r in sheet.rows] == ["FL|galveston county sheriff’s office",
                                                 "FL|galveston county sheriff's office",
                                                 "FL|galveston county sheriff's office"]
    # ...and every row after the first spelling says the other spelling exists.
    twins = [(w.row_number, w.reason) for w in sheet.warnings]
    assert [r for r, _ in twins] == [3, 4]
    assert all("Galveston County Sheriff’s Office' (row 2)" in reason
               and "differ only in the apostrophe" in reason for _, reason in twins)


def test_unreadable_rows_are_rejected_with_row_number_and_the_rest_import() -> None:
    sheet = parse_table([
        ["ICE 287(g) participating agencies"],  # a title row above the header
        HEADER,
        row("Good One"),
        row("", model="Task Force Model"),
        row("Nowhere PD", state="ATLANTIS"),
        row("Odd Model PD", model="Border Model"),
        row("X" * 201),
        row("Good One "),  # same agency and model again
        [None] * 8,  # blank
        row("Good Two"),
    ], today=TODAY)
    assert [r.agency_name for r in sheet.rows] == ["Good One", "Good Two"]
    assert [(p.row_number, p.reason.split(" ")[0]) for p in sheet.rejected] == [
        (4, "LAW"), (5, "STATE"), (6, "SUPPORT"), (7, "LAW"), (8, "Good")]
    assert "longer than 200" in sheet.rejected[3].reason
    assert "already appears in row 3" in sheet.rejected[4].reason
    assert sheet.blank_rows == 1
    assert sheet.rows[0].row_number == 3


def test_disagreeing_rows_of_one_agency_keep_the_first_and_warn() -> None:
    sheet = parse_table([HEADER,
                         row("Franklin County Sheriff's Office", county="Franklin County",
                             model="Task Force Model"),
                         row("Franklin County Sheriff's Office", county="Frankin County",
                             model="Jail Enforcement Model")], today=TODAY)
    assert {r.county for r in sheet.rows} == {"Franklin County"}
    assert [w.row_number for w in sheet.warnings] == [3]


def test_pending_sheet_is_detected_by_its_columns() -> None:
    sheet = parse_table([HEADER[:5], row()[:5]], today=TODAY)
    assert sheet.kind == "pending"
    assert sheet.rows[0].signed_on is None and sheet.rows[0].moa_url == ""
    forced = parse_table([HEADER, row()], pending=True, today=TODAY)
    assert forced.kind == "pending" and forced.rows[0].signed_on is None


def test_may_sheet_without_addendum_and_columns_in_any_order() -> None:
    header = ["SUPPORT TYPE", "STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SIGNED",
              "MOA"]
    sheet = parse_table([header, ["Task Force Model", "TEXAS", "Rusk County SO", "County",
                                  "Rusk", date(2025, 3, 4), "link pending"]], today=TODAY)
    assert sheet.kind == "participating"
    only = sheet.rows[0]
    assert (only.state, only.model, only.moa_pending, only.addendum_url) == ("TX", "TFM", True, "")


def test_a_sheet_without_the_columns_is_unreadable() -> None:
    with pytest.raises(SheetError):
        parse_table([["Name", "Address"], ["x", "y"]])


def test_published_date_from_ice_file_names() -> None:
    assert published_from_name("participatingAgencies07182025pm.xlsx") == date(2025, 7, 18)
    assert published_from_name("pendingAgencies07182025pm.xlsx") == date(2025, 7, 18)
    assert published_from_name("agencies.xlsx") is None


# --- files -----------------------------------------------------------------------------------

def _cell(ref: str, value: Any) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def write_xlsx(path: Path, rows: list[list[Any]], links: dict[str, str]) -> Path:
    """A minimal real .xlsx (inline strings, hyperlinks) built by hand."""
    cols = "ABCDEFGH"
    sheet_rows = "".join(
        f'<row r="{i}">' + "".join(_cell(f"{cols[j]}{i}", v) for j, v in enumerate(r)
                                   if v not in (None, "")) + "</row>"
        for i, r in enumerate(rows, start=1))
    link_xml = "".join(f'<hyperlink ref="{ref}" r:id="rId{n}"/>'
                       for n, ref in enumerate(links, start=1))
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/hyperlink" Target="{escape(url)}" TargetMode="External"/>'
        for n, url in enumerate(links.values(), start=1))
    ns = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
    pkg = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships {pkg}><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns}><sheets><sheet name="Sheet1" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships {pkg}><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
            ' Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>{sheet_rows}'
            f'</sheetData>{"<hyperlinks>" + link_xml + "</hyperlinks>" if links else ""}'
            '</worksheet>'),
        "xl/worksheets/_rels/sheet1.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships {pkg}>{rels}</Relationships>'),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_a_real_xlsx_with_serial_dates_and_hyperlinks(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "participatingAgencies07182025pm.xlsx", [
        HEADER,
        ["TEXAS", "Rusk County Sheriff's Office ", "County ", "Rusk County", "Task Force Model",
         45720, "link ", "link"],
        ["TEXAS", "Rusk County Sheriff's Office", "County", "Rusk County",
         "Warrant Service Officer", "7/72025", "link pending", ""],
    ], links={
        "G2": "https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov"
              "%2Fdoclib%2F287gMOA%2FRusk_TFM.pdf&data=1",
        "H2": "https://www.ice.gov/doclib/287gMOA/Rusk_addendum.pdf",
    })
    sheet = read_ice_sheet(path, today=TODAY)
    assert sheet.published == date(2025, 7, 18)
    first, second = sheet.rows
    assert first.signed_on == date(2025, 3, 4)
    assert first.moa_url == "https://www.ice.gov/doclib/287gMOA/Rusk_TFM.pdf"
    assert first.addendum_url == "https://www.ice.gov/doclib/287gMOA/Rusk_addendum.pdf"
    assert (second.signed_on, second.signed_raw, second.moa_pending) == (
        date(2025, 7, 7), "7/72025", True)
    assert first.match_key == second.match_key


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(SheetError):
        read_ice_sheet(tmp_path / "missing.xlsx")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SheetError):
        read_ice_sheet(junk)
