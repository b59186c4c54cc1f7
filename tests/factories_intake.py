"""Helpers for intake tests: complaint form data as a person would type it, and file bytes."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.pdf import pdf_layout_text as pdf_text  # noqa: F401 - intake tests import it from here

TRACKING = re.compile(r'id="tracking-number">(CT-[0-9A-Z]{4}-[0-9A-Z]{4})<')
ACCESS = re.compile(r'id="access-code">([0-9A-Z-]{24})<')
RECEIPT_LINK = re.compile(r'href="(/complaint/receipt/[^"?]+)')


def complaint_fields(**overrides: Any) -> dict[str, Any]:
    """A complete complaint: two officers, two witnesses, named complainant. The incident was
    12 days ago by the app's clock (UTC), so it is never in the future nor a late filing."""
    recent = datetime.now(UTC).date() - timedelta(days=12)
    fields: dict[str, Any] = {
        "incident_day": str(recent.day), "incident_month": str(recent.month),
        "incident_year": str(recent.year),
        "incident_time": "21:40", "incident_location": "Route 9 near the Shell station",
        "incident_city": "Harlow", "incident_state": "FL", "incident_setting": "traffic_stop",
        "context_287g": "field",
        "officer_count": "2",
        "officer-0-name": "Daniel Reyes", "officer-0-badge": "4471",
        "officer-0-agency": "", "officer-0-rank": "Deputy",
        "officer-0-description": "Tall, grey moustache", "officer-0-vehicle": "White SUV 212",
        "officer-1-name": "", "officer-1-badge": "", "officer-1-agency": "",
        "officer-1-description": "Second deputy, short, glasses",
        "narrative": "They stopped me for no reason and asked for my papers in front of my kids.",
        "checklist": ["stopped", "questioned_status", "searched"],
        "protected": ["ethnicity", "language"],
        "harm": "I missed work and my children were frightened.",
        "witness_count": "2",
        "witness-0-name": "Ana Flores", "witness-0-contact": "555-0100",
        "witness-0-statement": "I saw the stop from my porch.",
        "witness-1-name": "Luis Ortega", "witness-1-contact": "", "witness-1-statement": "",
        "complainant_role": "victim", "name": "María López", "email": "maria@example.org",
        "phone": "555 0199", "preferred_language": "es", "preferred_contact": "email",
        "safety_notes": "Do not call before 6 pm.",
        "consent_share_agency": "1",
        "action": "submit",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def incident_date_of(fields: dict[str, Any]) -> date:
    """The incident date typed into ``fields`` (as complaint_fields filled it in)."""
    return date(int(fields["incident_year"]), int(fields["incident_month"]),
                int(fields["incident_day"]))


def png_bytes(colour: str = "red") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 300


def stored_files(evidence_dir: Path) -> list[Path]:
    """Every file under the evidence store, staging included."""
    if not evidence_dir.exists():
        return []
    return [p for p in evidence_dir.rglob("*") if p.is_file()]



# --- the form as a person goes through it: form → check your answers → send → confirmation ---

NO_FILE = [("files", ("", b"", "application/octet-stream"))]  # an empty <input type=file>
REVIEW_TOKEN = re.compile(r'name="review_token" value="([^"]+)"')


async def save_form(browser: Any, fields: dict[str, Any], files: Any = None,
                    lang: str = "en") -> Any:
    """Post the form (multipart, with the page's CSRF token); the answer is not followed."""
    token = await browser.csrf_for(f"/complaint?lang={lang}")
    return await browser.client.post(f"/complaint?lang={lang}",
                                     data={"_csrf_token": token, **fields},
                                     files=files or NO_FILE)


async def review_and_send(browser: Any, lang: str = "en") -> Any:
    """Open "Check your answers", press "Send my complaint"; returns the send's answer (303)."""
    review = await browser.get(f"/complaint/review?lang={lang}")
    assert review.status_code == 200, review.text[:3000]
    token = REVIEW_TOKEN.search(review.text).group(1)
    return await browser.client.post(f"/complaint/send?lang={lang}", data={
        "_csrf_token": browser.last_csrf, "review_token": token})


async def send_complaint(browser: Any, fields: dict[str, Any], files: Any = None,
                         lang: str = "en") -> Any:
    """Fill in, continue, check, send: the confirmation page (after the redirects)."""
    saved = await save_form(browser, {**fields, "action": "review"}, files, lang)
    assert saved.status_code == 303, saved.text[:3000]
    assert saved.headers["location"].startswith("/complaint/review")
    sent = await review_and_send(browser, lang)
    assert sent.status_code == 303, sent.text[:3000]
    assert sent.headers["location"].startswith("/complaint/sent")
    return await browser.get(sent.headers["location"])


ONCE_TOKEN = re.compile(r'name="once" value="([^"]+)"')


async def look_up(browser: Any, number: str, code: str, lang: str = "en") -> Any:
    """The status look-up as a person does it: the form, then the page it leads to (the
    complaint's page after the redirect, or the look-up form with its error)."""
    response = await browser.submit(f"/status?lang={lang}", f"/status?lang={lang}",
                                    data={"tracking_number": number, "access_code": code})
    if response.status_code == 303:
        return await browser.get(response.headers["location"])
    return response


async def post_follow_up(browser: Any, message: str, files: Any = None, lang: str = "en",
                         page: Any = None) -> Any:
    """"Add information or files" on the status page last shown (``page``, else the current
    one); returns the POST's answer (a 303 on success)."""
    page = page or await browser.get(f"/status/complaint?lang={lang}")
    once = ONCE_TOKEN.search(page.text).group(1)
    return await browser.client.post(f"/status/add?lang={lang}", data={
        "_csrf_token": browser.last_csrf, "once": once, "message": message},
        files=files or NO_FILE)
