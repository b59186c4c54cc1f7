"""Letters to the complainant, in their language, printed through the reports renderer.

A letter is a plain view-model (``Letter``): a title, paragraphs of plain text, a few facts
(label, value) and the office's name. This module writes the words; ``render_letter_pdf`` makes
the PDF. Letters say what happened and what comes next in plain words: they never assert a
legal determination nobody made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _
from casetracker.web.i18n import using_language
from casetracker.web.templating import long_date, long_datetime


@dataclass(frozen=True)
class Letter:
    language: str
    title: str
    tracking_number: str
    date_label: str
    paragraphs: tuple[str, ...]
    facts: tuple[tuple[str, str], ...] = ()
    greeting: str = ""
    closing: str = ""
    organisation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def status_page_url(language: str) -> str:
    base = get_settings().base_url.rstrip("/")
    return f"{base}/status" + ("?lang=es" if language == "es" else "")


def access_letter(*, language: str, tracking_number: str, access_code: str,
                  received_at: datetime, resolution_due_at: datetime | None,
                  today: datetime) -> Letter:
    """The letter that gives a complainant who did not use the web form their tracking number
    and access code, and says how to follow the case online."""
    settings = get_settings()
    with using_language(language):
        url = status_page_url(language)
        paragraphs = [
            _("We received your complaint on %(date)s. This letter gives you the tracking "
              "number and access code of your complaint.", date=long_datetime(received_at)),
            _("To follow your complaint online, go to %(url)s and enter the tracking number "
              "and the access code exactly as printed below. There you can see where your "
              "complaint stands, add information or files, and choose who may know who you "
              "are.", url=url),
            _("Keep this letter somewhere safe. Anyone who has both the tracking number and "
              "the access code can see your complaint's status. We cannot show the access code "
              "again; if you lose it, contact us and give your tracking number."),
        ]
        if resolution_due_at is not None:
            paragraphs.append(_("We aim to finish looking into your complaint by %(date)s.",
                                date=long_date(resolution_due_at)))
        paragraphs.append(_("You can also contact us by phone, by post or in person and give "
                            "your tracking number."))
        facts = (
            (_("Tracking number"), tracking_number),
            (_("Access code"), access_code),
            (_("Received"), long_datetime(received_at)),
            (_("Status page"), url),
        )
        return Letter(
            language=language, title=_("How to follow your complaint"),
            tracking_number=tracking_number, date_label=long_date(today),
            paragraphs=tuple(paragraphs), facts=facts,
            greeting=_("Dear complainant,"),
            closing=_("Sincerely, %(office)s", office=settings.organisation_name),
            organisation=settings.organisation_name)


async def render_letter_pdf(letter: Letter) -> bytes:
    """The letter as a printable PDF, in its own language."""
    from casetracker.reports.rendering import render_pdf

    with using_language(letter.language):
        doc = {"title": letter.title, "number": letter.tracking_number,
               "organisation": letter.organisation,
               "subtitle": _("Complaint about a 287(g) officer or agency"),
               "date_label": letter.date_label, "classification": _("Your copy"),
               "classification_public": True, "running_header": letter.tracking_number}
    return await render_pdf("complainant_letter.html.j2", {"doc": doc, "letter": letter},
                            title=letter.title, lang=letter.language)


def letter_filename(letter: Letter) -> str:
    with using_language(letter.language):
        return _("letter-%(number)s.pdf", number=letter.tracking_number)
