"""Reading ICE's 287(g) agency sheets into typed rows. Pure: no database, no web.

ICE publishes two sheets: participating agencies (STATE, LAW ENFORCEMENT AGENCY, TYPE, COUNTY,
SUPPORT TYPE, SIGNED, MOA and, since mid-2025, ADDENDUM) and pending agencies (the first five
columns only). Columns are found by their header, so order and the optional ADDENDUM column do
not matter; a sheet without SIGNED and MOA is a pending sheet.

Decisions about the real sheets' quirks (see docs/registry.md):

- SIGNED is normally a date (calamine converts the Excel serial day number); a bare number is
  read as a serial day number. Text like ``05/082025`` or ``7/72025`` is read when it can mean
  only one date (month, day, then a four-digit year: 2025-05-08, 2025-07-07); the typed text is
  kept in ``signed_raw`` and the row is reported as a warning. A date outside 1996 (the 287(g)
  law) .. next year, such as 5025-07-07, is never stored as a date: ``signed_on`` stays empty,
  the text goes to ``signed_raw``, and the row is reported as a warning.
- Names, TYPE and SUPPORT TYPE are cleaned (NFKC, so non-breaking spaces become spaces;
  whitespace collapsed and trimmed).
- MOA/ADDENDUM: the cell text is usually the word "link" with the document behind a hyperlink,
  which is read from the workbook itself (Outlook "safelinks" wrappers are unwrapped). "link
  pending" means the MOA is not published yet. A raw URL typed in the cell is taken as is.
- A row that cannot be imported (no agency name, a state or support type we do not know, the
  same agency and model twice) is *rejected* with its sheet row number and the reason; a row
  that imports with something odd about it gets a *warning*. Blank rows are counted.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.etree import ElementTree

from casetracker.registry.rules import (
    agency_kind,
    agency_match_key,
    clean_text,
    model_code,
    similar_agency_key,
    state_code,
)

EARLIEST_PLAUSIBLE_YEAR = 1996  # IIRIRA created 287(g) in 1996
EXCEL_EPOCH = date(1899, 12, 30)  # serial day 1 = 1900-01-01, with Excel's 1900 leap-year bug

COLUMN_ALIASES = {
    "STATE": "state",
    "LAW ENFORCEMENT AGENCY": "agency",
    "AGENCY": "agency",
    "TYPE": "type",
    "COUNTY": "county",
    "SUPPORT TYPE": "support_type",
    "MODEL": "support_type",
    "SIGNED": "signed",
    "MOA": "moa",
    "ADDENDUM": "addendum",
}
REQUIRED_COLUMNS = ("state", "agency", "support_type")
MAX_NAME_LENGTH = 200  # Agency.name
MAX_COUNTY_LENGTH = 100  # Agency.county


class SheetError(Exception):
    """The file cannot be read as an ICE agency sheet at all."""


@dataclass(frozen=True)
class IceRow:
    row_number: int  # as Excel shows it (the header is usually row 1)
    state: str  # two-letter code
    agency_name: str
    match_key: str
    kind: str
    county: str
    model: str  # JEM / WSO / TFM
    signed_on: date | None = None
    signed_raw: str = ""
    moa_url: str = ""
    moa_pending: bool = False
    addendum_url: str = ""


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row_number, "reason": self.reason}


@dataclass
class ParsedSheet:
    source: str
    sheet_name: str
    kind: str  # "participating" or "pending"
    columns: list[str]
    rows: list[IceRow] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    blank_rows: int = 0
    published: date | None = None

    @property
    def is_pending(self) -> bool:
        return self.kind == "pending"


# --- cells -----------------------------------------------------------------------------------

_TYPO_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-]?(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def _plausible(value: date, today: date) -> bool:
    return EARLIEST_PLAUSIBLE_YEAR <= value.year <= today.year + 1


def parse_signed(value: Any, *, today: date | None = None) -> tuple[date | None, str, str | None]:
    """A SIGNED cell -> (date or None, raw text kept for the record, warning or None)."""
    today = today or date.today()
    if value is None or (isinstance(value, str) and not clean_text(value)):
        return None, "", None
    if isinstance(value, bool):
        return None, str(value), f"SIGNED {value!r} is not a date; left empty"
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, (int, float)):
        try:
            value = EXCEL_EPOCH + timedelta(days=int(value))
        except OverflowError:
            return None, str(value), f"SIGNED {value!r} is not a date; left empty"
    if isinstance(value, date):
        if _plausible(value, today):
            return value, "", None
        raw = value.isoformat()
        return None, raw, (f"SIGNED reads as {raw}, which cannot be right; "
                           "the date is left empty and the text kept")
    text = clean_text(value)
    if text.isdigit() and len(text) <= 6:
        parsed, _, warning = parse_signed(int(text), today=today)
        return parsed, (text if parsed is None else ""), warning
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _TYPO_DATE.match(text)
        if not match:
            return None, text, f"SIGNED {text!r} is not a date; the date is left empty"
        month, day, year = (int(g) for g in match.groups())
    try:
        parsed = date(year, month, day)
    except ValueError:
        return None, text, f"SIGNED {text!r} is not a real date; the date is left empty"
    if not _plausible(parsed, today):
        return None, text, (f"SIGNED {text!r} reads as {parsed.isoformat()}, which cannot be "
                            "right; the date is left empty and the text kept")
    canonical = f"{month}/{day}/{year}"
    if text in (canonical, f"{month:02d}/{day:02d}/{year}", parsed.isoformat()):
        return parsed, "", None
    return parsed, text, f"SIGNED {text!r} was typed wrongly; read as {parsed.isoformat()}"


def unwrap_url(url: str) -> str:
    """Outlook 'safelinks' wrap the real address in ?url=; take the real one."""
    url = clean_text(url)
    parsed = urlparse(url)
    if parsed.hostname and parsed.hostname.endswith("safelinks.protection.outlook.com"):
        inner = parse_qs(parsed.query).get("url")
        if inner:
            return inner[0]
    return url


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def parse_link_cell(value: Any, hyperlink: str | None, column: str
                    ) -> tuple[str, bool, str | None]:
    """An MOA or ADDENDUM cell -> (url, pending, warning or None)."""
    text = clean_text(value)
    folded = text.casefold()
    if hyperlink:
        return unwrap_url(hyperlink), False, None
    if not text:
        return "", False, None
    if _is_url(text):
        return unwrap_url(text), False, None
    if "pending" in folded:
        return "", True, None
    if folded.startswith("link"):
        return "", False, f"{column} says {text!r} but the cell holds no link"
    return "", False, f"{column} {text!r} is not a link; ignored"


# --- rows ------------------------------------------------------------------------------------

def _header_map(cells: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = COLUMN_ALIASES.get(clean_text(cell).upper())
        if name and name not in found:
            found[name] = index
    return found


def _is_blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not clean_text(cell)) for cell in cells)


def parse_table(
    table: list[list[Any]],
    *,
    hyperlinks: dict[tuple[int, int], str] | None = None,
    pending: bool | None = None,
    source: str = "",
    sheet_name: str = "",
    today: date | None = None,
) -> ParsedSheet:
    """Rows of cells (index 0 = sheet row 1) -> a ParsedSheet. ``hyperlinks`` maps
    (0-based row, 0-based column) to the cell's hyperlink target. ``pending`` forces the
    sheet kind; None detects it from the columns."""
    hyperlinks = hyperlinks or {}
    header_index = None
    columns: dict[str, int] = {}
    for index, cells in enumerate(table[:20]):
        columns = _header_map(cells)
        if all(name in columns for name in REQUIRED_COLUMNS):
            header_index = index
            break
    if header_index is None:
        raise SheetError("No header row with STATE, LAW ENFORCEMENT AGENCY and SUPPORT TYPE "
                         "was found in the first 20 rows; is this an ICE 287(g) agency sheet?")
    if pending is None:
        pending = "signed" not in columns and "moa" not in columns
    sheet = ParsedSheet(source=source, sheet_name=sheet_name,
                        kind="pending" if pending else "participating",
                        columns=sorted(columns, key=columns.__getitem__),
                        published=published_from_name(source))
    seen: dict[tuple[str, str], int] = {}
    first_agency_row: dict[str, tuple[int, str, str]] = {}
    # similar key -> {identity key: (first row, name as spelled)}: spellings that differ only in
    # their apostrophe are kept apart (ICE lists them apart) but said out loud.
    spellings: dict[str, dict[str, tuple[int, str]]] = {}

    def cell(cells: list[Any], name: str) -> Any:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    for index in range(header_index + 1, len(table)):
        cells = table[index]
        row_number = index + 1
        if _is_blank(cells):
            sheet.blank_rows += 1
            continue
        warnings: list[str] = []
        state_text = clean_text(cell(cells, "state"))
        name = clean_text(cell(cells, "agency"))
        support_text = clean_text(cell(cells, "support_type"))
        state = state_code(state_text)
        model = model_code(support_text)
        if not name:
            sheet.rejected.append(RowProblem(row_number, "LAW ENFORCEMENT AGENCY is empty"))
            continue
        if len(name) > MAX_NAME_LENGTH:
            sheet.rejected.append(RowProblem(
                row_number, f"LAW ENFORCEMENT AGENCY is longer than {MAX_NAME_LENGTH} "
                            f"characters ({name[:60]}...)"))
            continue
        if state is None:
            sheet.rejected.append(RowProblem(
                row_number, f"STATE {state_text!r} is not a U.S. state or territory ({name})"))
            continue
        if model is None:
            sheet.rejected.append(RowProblem(
                row_number, f"SUPPORT TYPE {support_text!r} is not Jail Enforcement Model, "
                            f"Warrant Service Officer or Task Force Model ({name})"))
            continue
        key = agency_match_key(state, name)
        if (key, model) in seen:
            sheet.rejected.append(RowProblem(
                row_number, f"{name} ({state}) {model} already appears in row "
                            f"{seen[(key, model)]}; this row is ignored"))
            continue
        seen[(key, model)] = row_number
        type_text = clean_text(cell(cells, "type"))
        kind = agency_kind(type_text)
        if type_text and kind == "other":
            warnings.append(f"TYPE {type_text!r} is not County, Municipality or State Agency; "
                            "recorded as other")
        county = clean_text(cell(cells, "county"))
        if len(county) > MAX_COUNTY_LENGTH:
            warnings.append(f"COUNTY is longer than {MAX_COUNTY_LENGTH} characters; shortened")
            county = county[:MAX_COUNTY_LENGTH]
        if key in first_agency_row:
            first_row, first_kind, first_county = first_agency_row[key]
            if (kind, county) != (first_kind, first_county):
                warnings.append(f"TYPE/COUNTY ({type_text!r}, {county!r}) differ from row "
                                f"{first_row} for the same agency; row {first_row} is kept")
            kind, county = first_kind, first_county
        else:
            first_agency_row[key] = (row_number, kind, county)
        variants = spellings.setdefault(similar_agency_key(state, name), {})
        others = [(r, n) for k, (r, n) in variants.items() if k != key]
        variants.setdefault(key, (row_number, name))
        if others:
            other_row, other_name = others[0]
            warnings.append(f"also spelled {other_name!r} (row {other_row}); the two spellings "
                            "differ only in the apostrophe and are kept as two agencies, as the "
                            "sheet lists them: check whether they are the same office")
        signed_on, signed_raw, moa_url, moa_pending, addendum_url = None, "", "", False, ""
        if not pending:
            signed_on, signed_raw, warning = parse_signed(cell(cells, "signed"), today=today)
            if warning:
                warnings.append(warning)
            moa_col = columns.get("moa", -1)
            moa_url, moa_pending, warning = parse_link_cell(
                cell(cells, "moa"), hyperlinks.get((index, moa_col)), "MOA")
            if warning:
                warnings.append(warning)
            add_col = columns.get("addendum", -1)
            addendum_url, _, warning = parse_link_cell(
                cell(cells, "addendum"), hyperlinks.get((index, add_col)), "ADDENDUM")
            if warning:
                warnings.append(warning)
        sheet.rows.append(IceRow(
            row_number=row_number, state=state, agency_name=name, match_key=key, kind=kind,
            county=county, model=model, signed_on=signed_on, signed_raw=signed_raw[:40],
            moa_url=moa_url[:500], moa_pending=moa_pending, addendum_url=addendum_url[:500],
        ))
        for warning in warnings:
            sheet.warnings.append(RowProblem(row_number, f"{name} ({state}) {model}: {warning}"))
    return sheet


_PUBLISHED = re.compile(r"(\d{2})(\d{2})(\d{4})(am|pm)?", re.IGNORECASE)


def published_from_name(source: str) -> date | None:
    """ICE names its files like participatingAgencies07182025pm.xlsx."""
    match = _PUBLISHED.search(Path(source).name) if source else None
    if not match:
        return None
    month, day, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- files -----------------------------------------------------------------------------------

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _cell_index(ref: str) -> tuple[int, int] | None:
    match = _CELL_REF.match(ref.replace("$", "").upper())
    if not match:
        return None
    column = 0
    for letter in match.group(1):
        column = column * 26 + (ord(letter) - 64)
    return int(match.group(2)) - 1, column - 1


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if rels_path not in archive.namelist():
        return {}
    root = ElementTree.fromstring(archive.read(rels_path))  # noqa: S314 - expat; no DTDs here
    return {rel.get("Id", ""): rel.get("Target", "") for rel in root.iter(f"{_NS_PKG}Relationship")}


def read_hyperlinks(path: str | Path, sheet_index: int = 0) -> dict[tuple[int, int], str]:
    """Hyperlink targets of one worksheet of an .xlsx, by (0-based row, 0-based column).
    calamine reads values only, and the MOA cells' value is just the word "link"."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return {}  # not an .xlsx (e.g. .xls): the links are simply not available
    with archive:
        try:
            workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
            sheets = list(workbook.iter(f"{_NS_MAIN}sheet"))
            rel_id = sheets[sheet_index].get(f"{_NS_REL}id", "")
            target = _rels(archive, "xl/workbook.xml").get(rel_id, "")
            part = posixpath.normpath(posixpath.join("xl", target)) if not target.startswith(
                "/") else target.lstrip("/")
            sheet_xml = ElementTree.fromstring(archive.read(part))  # noqa: S314
        except (KeyError, IndexError, ElementTree.ParseError):
            return {}
        targets = _rels(archive, part)
    links: dict[tuple[int, int], str] = {}
    for link in sheet_xml.iter(f"{_NS_MAIN}hyperlink"):
        url = targets.get(link.get(f"{_NS_REL}id", ""), "")
        if not url:
            continue
        first, _, last = (link.get("ref") or "").partition(":")
        start, end = _cell_index(first), _cell_index(last or first)
        if start is None or end is None:
            continue
        for row in range(start[0], end[0] + 1):
            for column in range(start[1], end[1] + 1):
                links[(row, column)] = url
    return links


def read_ice_sheet(path: str | Path, *, pending: bool | None = None,
                   today: date | None = None) -> ParsedSheet:
    """Read an ICE agency workbook (.xlsx; calamine also reads .xls and .ods). Raises
    SheetError when the file cannot be read at all."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    if not path.is_file():
        raise SheetError(f"{path} does not exist or is not a file.")
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise SheetError(f"{path.name} is not a readable spreadsheet ({exc}).") from exc
    last_error: SheetError | None = None
    for index, sheet_name in enumerate(workbook.sheet_names):
        try:
            table = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except Exception as exc:
            last_error = SheetError(f"Sheet {sheet_name!r} cannot be read ({exc}).")
            continue
        try:
            return parse_table(table, hyperlinks=read_hyperlinks(path, index), pending=pending,
                               source=path.name, sheet_name=sheet_name, today=today)
        except SheetError as exc:
            last_error = exc
    raise last_error or SheetError(f"{path.name} has no sheets.")
