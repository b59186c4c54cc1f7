"""The complainant's receipt: exactly what they submitted, as a PDF (and by e-mail).

The view-model holds only what the person gave us plus the tracking number and dates they were
told; no internal data (no status notes, no staff, no registry links, no access-code hash).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from casetracker.cases.tables import Case, CaseOfficer, Witness
from casetracker.intake import forms
from casetracker.intake.tables import ComplainantContact
from casetracker.settings import get_settings
from casetracker.web.i18n import get_language, using_language
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import long_date

log = logging.getLogger("casetracker.intake")


@dataclass
class ReceiptView:
    tracking_number: str
    received_at: str  # ISO, UTC
    language: str
    incident_date: str
    incident_date_precision: str
    incident_time: str
    incident_location: str
    incident_city: str
    incident_state: str
    incident_setting: str
    context_287g: str
    narrative: str
    checklist: list[str]
    protected: list[str]
    protected_other: str
    harm: str
    complainant_role: str
    anonymous: bool
    consent_share_agency: bool
    consent_share_ice: bool
    triage_due_at: str
    resolution_due_at: str
    officers: list[dict[str, str]] = field(default_factory=list)
    witnesses: list[dict[str, str]] = field(default_factory=list)
    contact: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


async def build_receipt(case_id: int) -> ReceiptView:
    case = await Case.select().where(Case.id == case_id).first()
    assert case is not None
    officers = await CaseOfficer.select(
        CaseOfficer.name, CaseOfficer.badge_number, CaseOfficer.agency_text, CaseOfficer.rank,
        CaseOfficer.description, CaseOfficer.vehicle,
    ).where(CaseOfficer.case == case_id).order_by(CaseOfficer.position)
    witnesses = await Witness.select(Witness.name, Witness.contact, Witness.statement).where(
        Witness.case == case_id).order_by(Witness.position)
    contact = await ComplainantContact.select(
        ComplainantContact.name, ComplainantContact.email, ComplainantContact.phone,
        ComplainantContact.address, ComplainantContact.preferred_language,
        ComplainantContact.preferred_contact, ComplainantContact.safety_notes,
        ComplainantContact.interpreter_needed, ComplainantContact.relationship,
        ComplainantContact.victim_name,
    ).where(ComplainantContact.case == case_id).first()
    files = await _files_for(case_id)
    checklist = case["checklist"]
    protected = case["protected_characteristics"]
    if isinstance(checklist, str):
        import json

        checklist = json.loads(checklist or "[]")
        protected = json.loads(protected or "[]") if isinstance(protected, str) else protected

    def iso(value: Any) -> str:
        return value.isoformat() if value else ""

    return ReceiptView(
        tracking_number=case["tracking_number"],
        received_at=iso(case["received_at"]),
        language=case["language"],
        incident_date=iso(case["incident_date"]),
        incident_date_precision=case["incident_date_precision"],
        incident_time=case["incident_time"],
        incident_location=case["incident_location"],
        incident_city=case["incident_city"],
        incident_state=case["incident_state"],
        incident_setting=case["incident_setting"],
        context_287g=case["context_287g"],
        narrative=case["narrative"],
        checklist=list(checklist or []),
        protected=list(protected or []),
        protected_other=case["protected_other"],
        harm=case["harm"],
        complainant_role=case["complainant_role"],
        anonymous=case["anonymous"],
        consent_share_agency=case["consent_share_agency"],
        consent_share_ice=case["consent_share_ice"],
        triage_due_at=iso(case["triage_due_at"]),
        resolution_due_at=iso(case["resolution_due_at"]),
        officers=[{"name": o["name"], "badge": o["badge_number"], "agency": o["agency_text"],
                   "rank": o["rank"], "description": o["description"], "vehicle": o["vehicle"]}
                  for o in officers],
        witnesses=[dict(w) for w in witnesses],
        contact=dict(contact) if contact else None,
        files=files,
    )


async def _files_for(case_id: int) -> list[dict[str, Any]]:
    from casetracker.evidence.tables import EvidenceItem

    rows = await EvidenceItem.select(
        EvidenceItem.original_name, EvidenceItem.size_bytes, EvidenceItem.sha256,
        EvidenceItem.follow_up,
    ).where((EvidenceItem.case == case_id) & (EvidenceItem.source == "complainant")).order_by(
        EvidenceItem.id)
    return [{"name": r["original_name"], "size_bytes": r["size_bytes"], "sha256": r["sha256"]}
            for r in rows if r["follow_up"] is None]


def receipt_filename(tracking_number: str) -> str:
    """The PDF's file name, in the current language ("recibo-CT-….pdf")."""
    return _("receipt-%(number)s.pdf", number=tracking_number)


def template_context(view: ReceiptView) -> dict[str, Any]:
    """Labels for the stored keys, in the current language."""
    return {
        "r": view,
        "setting_label": forms.label_for(forms.SETTINGS, view.incident_setting),
        "context_label": forms.label_for(forms.CONTEXTS_287G, view.context_287g),
        "checklist_labels": [forms.label_for(forms.CHECKLIST, k) for k in view.checklist],
        "protected_labels": [forms.label_for(forms.PROTECTED, k) for k in view.protected],
        "role_label": forms.label_for(forms.ROLES, view.complainant_role),
        "contact_method_label": forms.label_for(
            forms.CONTACT_METHODS, (view.contact or {}).get("preferred_contact", "")),
        "language_label": forms.label_for(
            forms.LANGUAGES, (view.contact or {}).get("preferred_language", "")),
        "organisation": get_settings().organisation_name,
        "doc": {
            "title": _("Receipt for your complaint"),
            "number": view.tracking_number,
            "organisation": get_settings().organisation_name,
            "subtitle": _("Complaint about a 287(g) officer or agency"),
            "date_label": long_date(view.received_at),
            "classification": _("Your copy"),
            "classification_public": True,
            "running_header": view.tracking_number,
        },
    }


def receipt_store_key(case_id: int, language: str) -> str:
    """Where a complaint's receipt in one language is kept in the document store."""
    if not language.isalpha():
        raise ValueError(f"invalid language {language!r}")
    return f"receipts/{int(case_id)}/{language}.pdf"


async def receipt_pdf(case_id: int, language: str | None = None) -> bytes:
    """The receipt of a complaint in ``language`` (default: the asker's), rendered once and
    kept in the document store: the e-mail, the confirmation page and the status page all
    serve the stored copy afterwards, so a complainant who downloads it again costs no render.

    The receipt records what was filed, so the stored copy stays as it was rendered. Two
    renders racing for one key keep the first written (write-once) and both serve it."""
    from casetracker.storage import ObjectMissing, get_store

    language = language or get_language()
    store = get_store(None, "documents")
    key = receipt_store_key(case_id, language)
    try:
        return await store.get_bytes(key)
    except ObjectMissing:
        pass
    pdf = await render_receipt_pdf(await build_receipt(case_id), language)
    if not await store.put_bytes(key, pdf, write_once=True):
        return await store.get_bytes(key)
    return pdf


async def receipt_download(case_id: int) -> tuple[str, bytes]:
    """The receipt's file name and bytes, in the asker's language, for a download."""
    pdf = await receipt_pdf(case_id)
    row = await Case.select(Case.tracking_number).where(Case.id == case_id).first()
    assert row is not None
    return receipt_filename(row["tracking_number"]), pdf


async def render_receipt_pdf(view: ReceiptView, language: str | None = None) -> bytes:
    """The receipt as PDF, through the reports engineer's renderer (its fetcher serves only
    packaged assets). If that module is missing, a WeasyPrint fallback with a fetcher that
    refuses everything except data: URIs.

    The whole document (headings, the labels of chosen answers, dates) is in ``language``:
    by default the language of the person asking for it, the one their page is shown in."""
    language = language or get_language()
    with using_language(language):
        title = _("Complaint receipt %(number)s", number=view.tracking_number)
        context = template_context(view)
    try:
        from casetracker.reports.rendering import render_pdf as renderer
    except ImportError:
        renderer = None  # type: ignore[assignment]  # a build without the reports package
    if renderer is not None:
        return await renderer("receipt.html.j2", context, title=title,
                              attachment_json=view.as_json(), lang=language)
    with using_language(language):  # pragma: no cover - only without reports
        return await _fallback_render(context, title)


async def _fallback_render(context: dict[str, Any], title: str) -> bytes:  # pragma: no cover
    from casetracker.web.templating import render_string

    html = render_string("reports/pdf/receipt.html.j2", **context)

    def run() -> bytes:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols={"data"})
        return HTML(string=html, url_fetcher=fetcher).write_pdf()

    return await asyncio.to_thread(run)


# --- a short-lived signed link for the confirmation page --------------------------------------

TOKEN_SECONDS = 3600


def receipt_token(case_id: int, *, now: float | None = None) -> str:
    expires = int((now or time.time()) + TOKEN_SECONDS)
    payload = f"{case_id}.{expires}"
    signature = hmac.new(get_settings().secret_key.encode(), f"receipt:{payload}".encode(),
                         hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def case_id_from_token(token: str, *, now: float | None = None) -> int | None:
    parts = (token or "")[:200].split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    payload = f"{parts[0]}.{parts[1]}"
    expected = hmac.new(get_settings().secret_key.encode(), f"receipt:{payload}".encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts[2]):
        return None
    if int(parts[1]) < (now or time.time()):
        return None
    return int(parts[0])
