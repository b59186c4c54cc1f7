"""How every test reads a PDF: with Python packages only, so a fresh clone needs no system
tools (no poppler-utils, no qpdf).

- ``pdf_text(data)``: the text in reading order (pypdf's plain extraction), pages joined by a
  newline. A table cell's wrapped lines follow each other, so a hash that wraps inside its cell
  reads whole once whitespace is removed (see ``squeezed``).
- ``pdf_layout_text(data)``: the text laid out as on the page (pypdf's layout mode, like
  ``pdftotext -layout``): a label and its value, or a table row, share one line.
- ``squeezed(text)``: without whitespace, hyphens and quotation marks of any style, to compare
  text that may wrap or be hyphenated across lines.
- ``check_structure(data)``: the structural check ``qpdf --check`` does, through pikepdf (which
  bundles libqpdf): every object parses, every stream decodes, every page's content parses, no
  repair was needed. Returns the problems found (an empty list for a sound file).
- ``page_texts(data)``: the reading-order text of each page, for per-page assertions.
"""

from __future__ import annotations

import io
import re

__all__ = ["check_structure", "page_texts", "pdf_layout_text", "pdf_text", "squeezed"]


def _reader(data: bytes) -> object:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(data), strict=False)


def page_texts(data: bytes) -> list[str]:
    """The reading-order text of each page."""
    return [page.extract_text() for page in _reader(data).pages]  # type: ignore[attr-defined]


def pdf_text(data: bytes) -> str:
    """The whole document's text in reading order."""
    return "\n".join(page_texts(data))


def pdf_layout_text(data: bytes) -> str:
    """The whole document's text laid out as on the page (columns kept apart by spaces)."""
    pages = _reader(data).pages  # type: ignore[attr-defined]
    return "\n".join(page.extract_text(extraction_mode="layout") for page in pages)


def squeezed(text: str) -> str:
    """Without whitespace, hyphens and quotation marks of any style: to compare text that
    wraps across lines."""
    return re.sub(r"[\s\-\u2010\u201c\u201d\"]+", "", text).replace("\u2019", "'")


def check_structure(data: bytes) -> list[str]:
    """Problems ``qpdf --check`` would report, found with pikepdf; ``[]`` when sound."""
    import pikepdf

    problems: list[str] = []
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            # decodes every stream and parses every page's content, as qpdf --check does
            problems += pdf.check_pdf_syntax()  # (it also takes the warnings so far)
            if pdf.is_linearized:
                report = io.StringIO()
                if not pdf.check_linearization(report):
                    problems.append(f"linearization: {report.getvalue()}")
            # writing the file out again touches every object reachable from the trailer
            pdf.save(io.BytesIO())
            problems += [f"WARNING: {warning}" for warning in pdf.get_warnings()]
    except pikepdf.PdfError as exc:
        problems.append(f"ERROR: {exc}")
    return problems
