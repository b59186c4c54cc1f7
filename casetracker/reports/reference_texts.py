"""Checking the clause library against the agreement texts held in shared/reference/moa/.

The texts were extracted from PDFs, so they are compared after undoing what extraction did:
- whitespace is dropped altogether (words are split: "LEAcan pr ovide", "wi ll");
- mojibake is decoded ("ICEÂ\\x92s" is ICE's, "Â§" is §) and quotation marks and apostrophes
  of every style count as one;
- page furniture is removed (page numbers, running headers such as "Grayson County Detention
  Center 6 Revised 02/15/2025", which interrupt sentences);
- pages are put back in order where the extraction shuffled them (the 2025 WSO copy), keeping
  the first copy of a page where the file holds two (the 2025 JEM copy);
- a few OCR misreadings are corrected, each listed in ``OCR_FIXES`` for its file.

A quotation is found when every part of it (parts are joined by " … ") occurs, in order,
between its section's heading and the next section's heading (``SECTION_SPANS``).
Nothing here is used when documents are made: it is what tests (and ``casetracker reports
check-clauses``) run.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from casetracker.reports.clauses import CLAUSES, ELLIPSIS, LEA, TEMPLATE_TEXTS, Clause

# "Â" followed by a C1 control character: a Windows-1252 byte read as Latin-1 after a UTF-8 "Â".
_MOJIBAKE = re.compile("\u00c2([\u0080-\u009f])")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"',
                         "\u2010": "-", "\u2011": "-"})
_SPACE = re.compile(r"\s+")

# Page furniture per file, removed before comparing (regular expressions, multi-line mode).
FURNITURE: dict[str, tuple[str, ...]] = {
    "JEM-2020": (r"^\s*\d{1,2}\s*$", r"^Galveston County Sheriff'?s Office\s*$"),
    "WSO-2020": (r"^\s*\d{1,2}\s*$",),
    "WSO-2025": (r"Hardee County Sheriff's Office \d{1,2} Revised 02/14/2025",
                 r"\d{1,2} Revised 02/14/2025Hardee County Sheriff's Office"),
    "JEM-2025": (r"\d{1,2}\s?Revised 02/15/2025(?:GraysonCountyDetentionCenter|JailerJasonWoosley"
                 r"|JasonWoosley|Jailer)*",
                 r"^(?:GraysonCountyDetentionCenter|JasonWoosley|Jailer)+\s*$",
                 r"Grayson County Detention Center \d{1,2} Revised 02/15/2025"),
}
# Files whose pages are out of order: how a page's footer gives its number.
PAGE_FOOTERS: dict[str, str] = {
    "WSO-2025": r"(\d{1,2}) Revised 02/14/2025(?:Hardee County Sheriff's Office)?\s*$",
    "JEM-2025": r"(\d{1,2})\s?Revised 02/15/2025\S*\s*$",
}
# OCR misreadings, corrected in the whitespace-free text (what was read → what is printed).
OCR_FIXES: dict[str, dict[str, str]] = {
    "JEM-2020": {"oppo1tunity": "opportunity"},
    "WSO-2020": {"Pub.L.No.I07-296": "Pub.L.No.107-296", "Jointlntake": "JointIntake"},
}

# Where each section starts and ends in each text (whitespace-free headings, first occurrence
# after the start for the end marker).
_JEM_SPANS = {
    "§III": ("III.AUTHORITY", "IV.RESPONSIBILITIES"),
    "§IV.D": ("D.CERTIFICATIONANDAUTHORIZATION", "E.COSTSANDEXPENDITURES"),
    "§IV.I": ("I.CIVILRIGHTSSTANDARDS", "V.REPORTINGANDDOCUMENTATION"),
    "§VIII": ("VIII.EFFECTIVEDATE,SUSPENSION,ANDTERMINATIONOFTHISMOA", "APPENDIXA"),
    "Appendix B": ("APPENDIXBCOMPLAINTPROCEDURE", "APPENDIXC"),
}
_WSO_SPANS = {
    **_JEM_SPANS,
    "§VIII": ("VIII.EFFECTIVEDATEANDTERMINATIONOFTHISMOA", "APPENDIXA"),
    "Appendix B ¶3.B": ("B.InterimActionPendingComplaintResolution", "C.TimeParameters"),
    "Appendix B ¶3.C": ("C.TimeParametersforResolutionofComplaintsorAllegations",
                        "D.NotificationofResolution"),
}
SECTION_SPANS: dict[str, dict[str, tuple[str, str]]] = {
    "JEM-2020": _JEM_SPANS, "JEM-2025": _JEM_SPANS, "WSO-2020": _WSO_SPANS,
    "WSO-2025": _WSO_SPANS,
}


def squash(text: str) -> str:
    """Text as compared: mojibake decoded, NFKC, one style of quotes, no whitespace."""
    text = _MOJIBAKE.sub(lambda m: bytes([ord(m.group(1))]).decode("cp1252"), text)
    text = text.replace("\u00c2\u00a7", "\u00a7")
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub("", text)


def _in_page_order(raw: str, footer: str) -> str:
    """Blocks (separated by blank lines) sorted by the page number in their footer; a block
    without a footer belongs with the next one; the first copy of a page wins."""
    pattern = re.compile(footer)
    pages: dict[int, str] = {}
    pending = ""
    for block in raw.split("\n\n"):
        match = pattern.search(block.rstrip() + " ")
        if match is None:
            pending += block + "\n"
            continue
        number = int(match.group(1))
        pages.setdefault(number, pending + block)
        pending = ""
    return "\n\n".join(pages[n] for n in sorted(pages))


def prepared_text(text_key: str, raw: str) -> str:
    """A held text as compared: pages in order, furniture removed, squashed, OCR fixed."""
    if text_key in PAGE_FOOTERS:
        raw = _in_page_order(raw, PAGE_FOOTERS[text_key])
    for pattern in FURNITURE.get(text_key, ()):
        raw = re.sub(pattern, " ", raw, flags=re.MULTILINE)
    text = squash(raw)
    for wrong, right in OCR_FIXES.get(text_key, {}).items():
        text = text.replace(wrong, right)
    return text


def load_text(text_key: str, reference_dir: Path) -> str:
    path = reference_dir / TEMPLATE_TEXTS[text_key].reference_file
    return prepared_text(text_key, path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Problem:
    clause: str
    text: str
    message: str

    def __str__(self) -> str:
        return f"{self.clause} ({self.text}): {self.message}"


def section_span(text_key: str, prepared: str, section: str) -> tuple[int, int] | None:
    spans = SECTION_SPANS[text_key]
    if section not in spans:
        return None
    start_marker, end_marker = spans[section]
    start = prepared.find(start_marker)
    if start < 0:
        return None
    end = prepared.find(end_marker, start + len(start_marker))
    return start, (end if end >= 0 else len(prepared))


def check_clause(item: Clause, text_key: str, prepared: str) -> Problem | None:
    """None when every part of the quotation is in the section, in order."""
    words = item.quotation.replace(LEA, TEMPLATE_TEXTS[text_key].party)
    parts = [squash(p) for p in words.split(ELLIPSIS)]
    span = section_span(text_key, prepared, item.section)
    if span is None:
        return Problem(item.key, text_key, f"section {item.section} not found in the text")
    position = 0
    for part in parts:
        found = prepared.find(part, position)
        if found < 0:
            return Problem(item.key, text_key, f"not found: {part[:80]}…")
        if not span[0] <= found < span[1]:
            # the words may occur again inside the section: look there
            inside = prepared.find(part, max(position, span[0]), span[1])
            if inside < 0:
                where = _section_at(text_key, prepared, found)
                return Problem(item.key, text_key, f"found in {where}, not in {item.section}")
            found = inside
        position = found + len(part)
    return None


def _section_at(text_key: str, prepared: str, position: int) -> str:
    for section in SECTION_SPANS[text_key]:
        span = section_span(text_key, prepared, section)
        if span and span[0] <= position < span[1]:
            return section
    return "no listed section"


def verify_library(reference_dir: Path, clauses: dict[str, Clause] | None = None
                   ) -> list[Problem]:
    """Every clause checked against every text it names; the problems found."""
    texts = {key: load_text(key, reference_dir) for key in TEMPLATE_TEXTS}
    problems = []
    for item in (clauses or CLAUSES).values():
        for text_key in item.texts:
            problem = check_clause(item, text_key, texts[text_key])
            if problem:
                problems.append(problem)
    return problems
