"""Telling the complainant what happened: letters at each step and the contact log
(docs/intake.md, "Letters to the complainant").

A letter is due when its step happened on the case (the audit trail says so) and none was
drafted yet. Staff prepare it (the words come from ``intake.letters`` in the complainant's
language), read and edit it, then send it: by e-mail (a durable job), as a printed letter
queued for staff to mark as mailed, as a phone task, or only on the status page (anonymous
complaints, or nobody to reach). Each change is one transaction with its audit event; the
contact log gets a line for each letter that reached the complainant and each call or e-mail
staff record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from casetracker import db, mail
from casetracker.audit import services as audit
from casetracker.audit.tables import AuditEvent
from casetracker.auth import policies
from casetracker.auth.actor import Actor
from casetracker.cases.tables import Allegation, Case, Referral, Task
from casetracker.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from casetracker.intake import letters
from casetracker.intake.tables import ComplainantContact, ComplainantLetter, ContactLogEntry
from casetracker.web.i18n import gettext as _

# The step on the case (audit action) that makes each letter due.
STEP_EVENTS = {
    "received": ("complaint.filed", "case.filed"),
    "opened": ("case.opened",),
    "referred": ("case.referred",),
    "declined": ("case.declined",),
    "closed": ("case.closed",),
}
CONTACT_CHANNELS = ("phone", "email", "mail", "in_person")
SENT_STATES = ("sent", "to_print", "mailed", "to_call", "called", "shown")


def letter_language(case: dict[str, Any], contact: dict[str, Any] | None) -> str:
    preferred = (contact or {}).get("preferred_language") or case.get("language") or "en"
    return "es" if preferred == "es" else "en"


def delivery_channel(case: dict[str, Any], contact: dict[str, Any] | None) -> str:
    """How this complainant hears from us: their preferred contact when we have its detail,
    else the status page only."""
    if case["anonymous"] or contact is None:
        return "status_page"
    preferred = contact.get("preferred_contact") or ""
    if preferred == "email" and contact.get("email"):
        return "email"
    if preferred == "mail" and contact.get("address"):
        return "mail"
    if preferred == "phone" and contact.get("phone"):
        return "phone"
    if not preferred and contact.get("email"):
        return "email"
    return "status_page"


class CorrespondenceService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def _case(self, case_id: int, *, lock: bool = False) -> dict[str, Any]:
        case = await Case.select().where(Case.id == case_id).first()
        if case is None or not policies.may_view_case(self.actor, case):
            raise NotFound(_("There is no such case."))
        if not policies.may_write_to_complainant(self.actor, case):
            raise Forbidden(_("You may not write to this complainant."))
        return case

    async def _contact(self, case_id: int) -> dict[str, Any] | None:
        return await ComplainantContact.select().where(
            ComplainantContact.case == case_id).first()

    # --- reading ---------------------------------------------------------------------------

    async def due_kinds(self, case_id: int) -> list[str]:
        """The steps that happened on the case and have no letter yet, in order."""
        actions = {row["action"] for row in await AuditEvent.select(AuditEvent.action).where(
            AuditEvent.case_id == case_id)}
        drafted = {row["kind"] for row in await ComplainantLetter.select(
            ComplainantLetter.kind).where(ComplainantLetter.case == case_id)}
        # Every case was received, whatever recorded it (imported cases have no event).
        return [kind for kind in letters.LETTER_KINDS
                if kind not in drafted and (kind == "received"
                                            or actions & set(STEP_EVENTS[kind]))]

    # --- drafting and editing --------------------------------------------------------------

    async def prepare(self, case_id: int, kind: str) -> int:
        """Draft the letter for a step, in the complainant's language (once per step)."""
        if kind not in letters.LETTER_KINDS:
            raise NotFound(_("There is no such letter."))
        async with db.write_transaction():
            case = await self._case(case_id)
            existing = await ComplainantLetter.select(ComplainantLetter.id).where(
                (ComplainantLetter.case == case_id) & (ComplainantLetter.kind == kind)).first()
            if existing is not None:
                return existing["id"]
            contact = await self._contact(case_id)
            facts = await self._facts(case, contact, kind)
            subject, body = letters.letter_text(facts)
            row = ComplainantLetter(case=case_id, kind=kind, language=facts.language,
                                    subject=subject, body=body, status="draft",
                                    created_by=self.actor.id,
                                    channel=delivery_channel(case, contact))
            await row.save()
            await audit.record("letter.drafted", actor=self.actor, object_type="letter",
                               object_id=row.id, case_id=case_id,
                               details={"kind": kind, "language": facts.language})
        return row.id

    async def _facts(self, case: dict[str, Any], contact: dict[str, Any] | None,
                     kind: str) -> letters.LetterFacts:
        referral = await Referral.select().where(
            (Referral.case == case["id"]) & (Referral.is_ice_notification == False)  # noqa: E712
        ).order_by(Referral.id, ascending=False).first()
        allegations = await Allegation.select(Allegation.allegation_type,
                                              Allegation.final_finding).where(
            Allegation.case == case["id"]).order_by(Allegation.id)
        return letters.LetterFacts(
            kind=kind, language=letter_language(case, contact),
            tracking_number=case["tracking_number"], received_at=case["received_at"],
            resolution_due_at=case["resolution_due_at"],
            referred_to=case.get("referred_to") or (referral or {}).get("body") or "",
            referred_to_other=(referral or {}).get("body_other") or "",
            referral_reference=(referral or {}).get("reference_number") or "",
            decision_reason=case.get("decision_reason") or "",
            findings=tuple((a["allegation_type"], a["final_finding"] or "")
                           for a in allegations),
            results_to_ice=bool(case["ice_notification_required"]),
            anonymous=bool(case["anonymous"]))

    async def _letter(self, letter_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        letter = await ComplainantLetter.select().where(
            ComplainantLetter.id == letter_id).first()
        if letter is None:
            raise NotFound(_("There is no such letter."))
        case = await self._case(letter["case"])
        return letter, case

    async def view(self, letter_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        return await self._letter(letter_id)

    async def edit(self, letter_id: int, *, subject: str, body: str) -> None:
        subject, body = (subject or "").strip(), (body or "").replace("\r\n", "\n").strip()
        errors = {}
        if not subject:
            errors["subject"] = _("Give the letter a subject.")
        if not body:
            errors["body"] = _("Write the letter.")
        if len(subject) > 300:
            errors["subject"] = _("Shorten this to %(n)s characters or fewer.", n=300)
        if len(body) > 20_000:
            errors["body"] = _("Shorten this to %(n)s characters or fewer.", n=20_000)
        if errors:
            raise ValidationFailed(errors)
        async with db.write_transaction():
            letter, case = await self._letter(letter_id)
            if letter["status"] != "draft":
                raise InvalidTransition(_("This letter was already sent: it cannot change."))
            await ComplainantLetter.update({ComplainantLetter.subject: subject,
                                            ComplainantLetter.body: body,
                                            ComplainantLetter.edited_by: self.actor.id}).where(
                ComplainantLetter.id == letter_id)
            await audit.record("letter.edited", actor=self.actor, object_type="letter",
                               object_id=letter_id, case_id=case["id"],
                               details={"kind": letter["kind"]})

    # --- sending ---------------------------------------------------------------------------

    async def send(self, letter_id: int) -> str:
        """Send the letter as it stands, by the complainant's preferred contact (decided now).
        Returns the channel. One transaction: the letter's state, the e-mail job or the phone
        task, the contact log line, the audit event."""
        now = datetime.now(UTC)
        async with db.write_transaction():
            letter, case = await self._letter(letter_id)
            if letter["status"] != "draft":
                return str(letter["channel"])  # sent before (a double click): nothing more
            contact = await self._contact(case["id"])
            channel = delivery_channel(case, contact)
            status = {"email": "sent", "mail": "to_print", "phone": "to_call",
                      "status_page": "shown"}[channel]
            if channel == "email":
                assert contact is not None
                await mail.queue_mail(contact["email"], letter["subject"], letter["body"],
                                      key=f"letter:{letter_id}")
            elif channel == "phone":
                await Task.insert(Task(
                    case=case["id"], title=_("Call the complainant and read them the letter: "
                                             "%(subject)s", subject=letter["subject"])[:300],
                    due_on=now.date(), assignee=case["lead_investigator"],
                    created_by=self.actor.id, created_at=now))
            await ComplainantLetter.update({
                ComplainantLetter.status: status, ComplainantLetter.channel: channel,
                ComplainantLetter.sent_at: now, ComplainantLetter.sent_by: self.actor.id,
            }).where(ComplainantLetter.id == letter_id)
            if channel in ("email", "status_page"):
                await ContactLogEntry.insert(ContactLogEntry(
                    case=case["id"], at=now, channel=channel, direction="out",
                    summary=letter["subject"], letter=letter_id, recorded_by=self.actor.id))
            await audit.record("letter.sent", actor=self.actor, object_type="letter",
                               object_id=letter_id, case_id=case["id"],
                               details={"kind": letter["kind"], "channel": channel,
                                        "language": letter["language"]})
        return channel

    async def mark_done(self, letter_id: int) -> None:
        """A printed letter was mailed, or a phone letter was read to the complainant."""
        now = datetime.now(UTC)
        async with db.write_transaction():
            letter, case = await self._letter(letter_id)
            if letter["status"] not in ("to_print", "to_call"):
                return
            done = "mailed" if letter["status"] == "to_print" else "called"
            await ComplainantLetter.update({ComplainantLetter.status: done,
                                            ComplainantLetter.done_at: now,
                                            ComplainantLetter.done_by: self.actor.id}).where(
                ComplainantLetter.id == letter_id)
            await ContactLogEntry.insert(ContactLogEntry(
                case=case["id"], at=now, channel="mail" if done == "mailed" else "phone",
                direction="out", summary=letter["subject"], letter=letter_id,
                recorded_by=self.actor.id))
            await audit.record(f"letter.{done}", actor=self.actor, object_type="letter",
                               object_id=letter_id, case_id=case["id"],
                               details={"kind": letter["kind"]})

    async def record_contact(self, case_id: int, *, channel: str, direction: str,
                             summary: str, at: datetime | None = None) -> None:
        """A call or e-mail with the complainant, for the contact log."""
        errors = {}
        if channel not in CONTACT_CHANNELS:
            errors["contact_channel"] = _("Choose how you were in contact.")
        if direction not in ("out", "in"):
            errors["contact_direction"] = _("Say who contacted whom.")
        if not (summary or "").strip():
            errors["contact_summary"] = _("Say briefly what was said.")
        if at is not None and at > datetime.now(UTC):
            errors["contact_at"] = _("The contact cannot be in the future.")
        if errors:
            raise ValidationFailed(errors)
        async with db.write_transaction():
            case = await self._case(case_id)
            await ContactLogEntry.insert(ContactLogEntry(
                case=case["id"], at=at or datetime.now(UTC), channel=channel,
                direction=direction, summary=summary.strip()[:5000],
                recorded_by=self.actor.id))
            await audit.record("case.contact_logged", actor=self.actor, object_type="case",
                               object_id=case_id, case_id=case_id,
                               details={"channel": channel, "direction": direction})


async def letters_for_case(case_id: int) -> list[dict[str, Any]]:
    return await ComplainantLetter.select().where(ComplainantLetter.case == case_id).order_by(
        ComplainantLetter.created_at, ComplainantLetter.id)


async def contact_log(case_id: int) -> list[dict[str, Any]]:
    return await ContactLogEntry.select(
        *ContactLogEntry.all_columns(),
        ContactLogEntry.recorded_by.name.as_alias("recorded_by_name")).where(
        ContactLogEntry.case == case_id).order_by(ContactLogEntry.at, ContactLogEntry.id)


async def public_letters(case_id: int) -> list[dict[str, Any]]:
    """What the status page shows: every letter sent, as sent (title, date, body)."""
    rows = await ComplainantLetter.select(
        ComplainantLetter.subject, ComplainantLetter.body, ComplainantLetter.sent_at).where(
        (ComplainantLetter.case == case_id)
        & ComplainantLetter.status.is_in(list(SENT_STATES))).order_by(ComplainantLetter.sent_at)
    return [{"title": r["subject"], "body": r["body"], "sent_at": r["sent_at"]} for r in rows]
