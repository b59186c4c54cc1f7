"""Rows for the evidence tests: cases (inserted directly), allegations, file bytes."""

from __future__ import annotations

import io
import itertools
import random
import uuid
from typing import Any

from casetracker.cases.tables import Allegation, Case

_counter = itertools.count(1)


async def make_case(*, status: str = "under_investigation", lead_investigator: Any = None,
                    **fields: Any) -> Case:
    n = next(_counter)
    case = Case(
        tracking_number=fields.pop("tracking_number",
                                   f"CT-EV{n:02d}-{uuid.uuid4().hex[:4].upper()}"),
        status=status,
        lead_investigator=getattr(lead_investigator, "id", lead_investigator),
        narrative=fields.pop("narrative", "Stopped and asked for papers."),
        **fields,
    )
    await case.save()
    return case


async def make_allegation(case: Case, allegation_type: str = "racial_profiling",
                          description: str = "Stopped because of ethnicity") -> Allegation:
    allegation = Allegation(case=case.id, allegation_type=allegation_type,
                            description=description)
    await allegation.save()
    return allegation


def png_bytes(colour: str = "red", size: tuple[int, int] = (32, 24)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(colour: str = "blue") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def noise(size: int, seed: str) -> bytes:
    """Incompressible bytes that are the same on every run. ``os.urandom`` is not: about one
    random file in 30,000 starts like a program ("MZ", a Mach-O header) or a bitmap and is
    refused by the type sniffing, which made upload tests fail now and then."""
    return random.Random(seed).randbytes(size)


ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
PE_BYTES = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
            + b"PE\x00\x00")
HTML_BYTES = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_BYTES = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
             b'<script>alert(document.domain)</script></svg>')
