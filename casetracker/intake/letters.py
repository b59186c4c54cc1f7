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


# --- letters at each step of the case ----------------------------------------------------------

LETTER_KINDS = ("received", "opened", "referred", "declined", "closed")


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; translated where it is shown."""
    return message


# What each final finding means, in plain words for the complainant. Findings are our office's
# administrative conclusions: the words never say a court or anyone else decided something.
PUBLIC_FINDINGS: dict[str, str] = {
    "sustained": N_("Our investigation found enough evidence that this happened and that it went "
                 "against the rules the officer must follow."),
    "not_sustained": N_("There was not enough evidence to show whether this happened."),
    "unfounded": N_("Our investigation found that this did not happen as described."),
    "exonerated": N_("Our investigation found that this happened but was within the rules the "
                  "officer must follow."),
    "policy_failure": N_("Our investigation found a problem with the agency's policy."),
    "training_failure": N_("Our investigation found a problem with the officers' training."),
    "withdrawn": N_("This part of the complaint was withdrawn."),
    "mediated": N_("This part of the complaint was resolved through mediation."),
    "officer_unidentified": N_("The officer could not be identified, so no finding could be made."),
    "complainant_unavailable": N_("We could not reach you to continue, so no finding could be "
                               "made."),
}
NO_FINDING = N_("No finding was made on this part of the complaint.")

PUBLIC_ALLEGATIONS: dict[str, str] = {
    "racial_profiling": N_("Treated differently because of who you are"),
    "unlawful_stop": N_("The stop"),
    "unlawful_detention": N_("Being held or detained"),
    "search": N_("The search"),
    "force": N_("Use of force"),
    "language_access": N_("Help in your language"),
    "discourtesy": N_("How the officer spoke to or treated you"),
    "other": N_("Other conduct"),
}


SUBJECTS = {
    "received": N_("We received your complaint %(number)s"),
    "opened": N_("We opened an investigation into your complaint %(number)s"),
    "referred": N_("Your complaint %(number)s was sent to another office"),
    "declined": N_("We will not investigate your complaint %(number)s"),
    "closed": N_("The investigation of your complaint %(number)s is closed"),
}
TITLES = {
    "received": N_("Your complaint was received"),
    "opened": N_("An investigation was opened"),
    "referred": N_("Your complaint was sent to another office"),
    "declined": N_("Your complaint will not be investigated"),
    "closed": N_("The investigation is closed"),
}


@dataclass(frozen=True)
class LetterFacts:
    """What a letter may say about the case, loaded by the service."""

    kind: str
    language: str
    tracking_number: str
    received_at: datetime
    resolution_due_at: datetime | None = None
    referred_to: str = ""  # a cases.rules.PUBLIC_BODY_NAMES key
    referred_to_other: str = ""
    referral_reference: str = ""
    decision_reason: str = ""
    findings: tuple[tuple[str, str], ...] = ()  # (allegation type, final finding)
    results_to_ice: bool = False
    anonymous: bool = False


def letter_text(facts: LetterFacts) -> tuple[str, str]:
    """The subject and body of a letter, in its language, from what is recorded on the case.
    Staff edit it before it goes."""
    from casetracker.cases.rules import PUBLIC_BODY_NAMES

    kind = facts.kind
    with using_language(facts.language):
        number = facts.tracking_number
        subject = _(SUBJECTS[kind], number=number)
        paragraphs: list[str] = []
        if kind == "received":
            paragraphs.append(_("We received your complaint on %(date)s. Its tracking number is "
                                "%(number)s.", date=long_datetime(facts.received_at),
                                number=number))
            paragraphs.append(_("Staff will review it and decide what happens next: an "
                                "investigation by our office, sending it to the office "
                                "responsible for it, or no investigation. We will write to you "
                                "at each step."))
        elif kind == "opened":
            paragraphs.append(_("We have opened an investigation into your complaint %(number)s."
                                " An investigator will look into what you told us and may "
                                "contact you.", number=number))
            if facts.resolution_due_at is not None:
                paragraphs.append(_("We aim to finish by %(date)s.",
                                    date=long_date(facts.resolution_due_at)))
        elif kind == "referred":
            body = (facts.referred_to_other if facts.referred_to == "other"
                    and facts.referred_to_other else
                    _(PUBLIC_BODY_NAMES.get(facts.referred_to, PUBLIC_BODY_NAMES["other"])))
            paragraphs.append(_("We sent your complaint %(number)s to %(body)s, which is "
                                "responsible for it. That office will decide what to do with "
                                "it.", number=number, body=body))
            if facts.referral_reference:
                paragraphs.append(_("To follow up there, contact %(body)s and give them their "
                                    "reference number: %(reference)s.", body=body,
                                    reference=facts.referral_reference))
            else:
                paragraphs.append(_("To follow up there, contact %(body)s and give them our "
                                    "tracking number, %(number)s.", body=body, number=number))
        elif kind == "declined":
            paragraphs.append(_("We reviewed your complaint %(number)s and decided not to "
                                "investigate it.", number=number))
            if facts.decision_reason:
                paragraphs.append(_("Why: %(reason)s", reason=facts.decision_reason))
            paragraphs.append(_("Your complaint stays on record. If you have new information, "
                                "you can add it on the status page or contact us."))
        elif kind == "closed":
            paragraphs.append(_("The investigation of your complaint %(number)s is closed. "
                                "What we found about each part of it:", number=number))
            for allegation, finding in facts.findings:
                label = _(PUBLIC_ALLEGATIONS.get(allegation, PUBLIC_ALLEGATIONS["other"]))
                words = _(PUBLIC_FINDINGS[finding]) if finding in PUBLIC_FINDINGS \
                    else _(NO_FINDING)
                paragraphs.append(f"• {label}: {words}")
            paragraphs.append(_("These are the conclusions of our office's investigation. "
                                "They are not a court decision and do not decide anyone's legal "
                                "rights."))
            if facts.results_to_ice:
                paragraphs.append(_("What happens next: we report these results to U.S. "
                                    "Immigration and Customs Enforcement (ICE), which oversees "
                                    "the agency's 287(g) agreement."))
            if any(finding == "sustained" for _allegation, finding in facts.findings):
                paragraphs.append(_("If we recommend that ICE end an officer's or the agency's "
                                    "287(g) authority, we will tell you once that "
                                    "recommendation is issued."))
        if not facts.anonymous:
            paragraphs.append(_("You can follow your complaint online with your tracking number "
                                "and access code at %(url)s.",
                                url=status_page_url(facts.language)))
        body = "\n\n".join(paragraphs)
    return subject, body


def step_letter(*, language: str, kind: str, tracking_number: str, subject: str, body: str,
                today: datetime) -> Letter:
    """A step letter (as staff edited it) for printing."""
    settings = get_settings()
    with using_language(language):
        return Letter(
            language=language, title=_(TITLES.get(kind, TITLES["received"])),
            tracking_number=tracking_number, date_label=long_date(today),
            paragraphs=tuple(p for p in body.split("\n\n") if p.strip()),
            facts=((_("Tracking number"), tracking_number),),
            greeting=_("Dear complainant,"),
            closing=_("Sincerely, %(office)s", office=settings.organisation_name),
            organisation=settings.organisation_name, extra={"subject": subject})
