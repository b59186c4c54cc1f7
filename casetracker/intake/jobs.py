"""Intake's background jobs: the receipt e-mailed to the complainant, and the sweep of
abandoned complaint drafts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from casetracker import jobs
from casetracker.cases.tables import Case
from casetracker.intake.receipt import receipt_filename, receipt_pdf
from casetracker.intake.tables import ComplainantContact
from casetracker.mail import Attachment, deliver_now
from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _
from casetracker.web.i18n import using_language
from casetracker.web.templating import long_date


def N_(message: str) -> str:
    return message


def receipt_key(case_id: int) -> str:
    return f"receipt:{case_id}"


@jobs.handler("intake.send_receipt", label=N_("E-mail a complainant the receipt of their "
                                               "complaint"))
async def send_receipt(payload: dict[str, Any]) -> None:
    """The receipt PDF by e-mail, in the complaint's language. The address is read now (not
    kept in the job), so an address removed meanwhile is not written to."""
    case_id = int(payload["case_id"])
    language = str(payload.get("language") or "en")
    contact = await ComplainantContact.select(ComplainantContact.email).where(
        ComplainantContact.case == case_id).first()
    case = await Case.select(Case.tracking_number, Case.received_at).where(
        Case.id == case_id).first()
    if not contact or not contact["email"] or case is None:
        return
    with using_language(language):
        pdf = await receipt_pdf(case_id, language)
        body = _(
            "Thank you. We received your complaint on %(date)s.\n\n"
            "Your tracking number is %(number)s.\n\n"
            "Your access code is NOT in this e-mail, for your safety. You need it, with the "
            "tracking number, to check the status or add information at %(url)s.\n\n"
            "A copy of what you sent is attached (PDF).",
            date=long_date(case["received_at"]), number=case["tracking_number"],
            # the status page opens in the language they filed in
            url=f"{get_settings().base_url}/status?lang={language}")
        subject = _("Your complaint %(number)s", number=case["tracking_number"])
        filename = receipt_filename(case["tracking_number"])
    await deliver_now(contact["email"], subject, body, (Attachment(filename, pdf),),
                      key=receipt_key(case_id))
    await _record_receipt_letter(case_id, language, subject, body)


async def _record_receipt_letter(case_id: int, language: str, subject: str, body: str) -> None:
    """The receipt is the "received" letter of a complaint filed with an e-mail address: on
    the case (letters and contact log) and on the status page, once (a retried job adds
    nothing)."""
    from datetime import UTC, datetime

    from casetracker import db
    from casetracker.intake.tables import ComplainantLetter, ContactLogEntry

    async with db.write_transaction():
        if await ComplainantLetter.exists().where(
                (ComplainantLetter.case == case_id) & (ComplainantLetter.kind == "received")):
            return
        now = datetime.now(UTC)
        letter = ComplainantLetter(case=case_id, kind="received", language=language,
                                   channel="email", subject=subject, body=body, status="sent",
                                   created_at=now, sent_at=now)
        await letter.save()
        await ContactLogEntry.insert(ContactLogEntry(
            case=case_id, at=now, channel="email", direction="out", summary=subject,
            letter=letter.id))


@jobs.periodic("intake.sweep_drafts", label=N_("Remove abandoned complaint drafts and their "
                                                "files"), every=timedelta(minutes=15))
async def sweep_drafts(payload: dict[str, Any]) -> None:
    """Drafts past their time go with their staged files; expired one-time keys are
    forgotten and access codes kept for the confirmation page blanked after their hour."""
    from casetracker.intake import drafts

    while (await drafts.sweep())["drafts"]:
        pass


@jobs.periodic("intake.prune_rate_hits", label=N_("Forget the hashed addresses of public "
                                                   "requests after an hour"),
               every=timedelta(minutes=10))
async def prune_rate_hits(payload: dict[str, Any]) -> None:
    from casetracker.intake.services import prune_rate_hits as prune

    await prune()
