"""The staff entry form: a complaint received by phone, mail, e-mail, in person or referred by
another body. The complaint's own fields are the public form's (``forms.parse_complaint``, the
same checks); this module adds how and when it was received, from whom, and who took it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from casetracker.intake import forms
from casetracker.web.i18n import gettext as _
from casetracker.web.i18n import lazy_gettext as L

CHANNELS = [
    ("phone", L("Phone call")),
    ("mail", L("Letter by post")),
    ("email", L("E-mail")),
    ("in_person", L("In person")),
    ("referral", L("Referred by another body")),
]
# Bodies that send complaints on to an oversight office.
REFERRING_BODIES = [
    ("ice_opr", L("ICE Office of Professional Responsibility (OPR)")),
    ("jic", L("DHS Joint Intake Center")),
    ("dhs_oig", L("DHS Office of Inspector General")),
    ("crcl", L("DHS Office for Civil Rights and Civil Liberties (CRCL)")),
    ("agency_ia", L("The agency's internal affairs")),
    ("doj", L("U.S. Department of Justice")),
    ("other", L("Another body")),
]


@dataclass
class HowReceived:
    channel: str = ""
    received_on: str = ""  # as typed (YYYY-MM-DD), kept for the form
    received_time: str = ""  # as typed (HH:MM)
    received_at: datetime | None = None  # UTC
    referring_body: str = ""
    referring_body_other: str = ""
    referring_reference: str = ""
    taken_by: int | None = None


def _first(fields: forms.Fields, name: str) -> str:
    return forms._first(fields, name).strip()


def parse_how_received(fields: forms.Fields, *, zone: str, now: datetime | None = None,
                       staff_ids: set[int] | None = None) -> tuple[HowReceived, dict[str, str]]:
    """The channel, the local date and time it was actually received (the 287(g) clocks start
    then: never in the future), the referring body and its reference, who took it."""
    now = now or datetime.now(UTC)
    errors: dict[str, str] = {}
    how = HowReceived(
        channel=_first(fields, "channel")[:20],
        received_on=_first(fields, "received_on")[:10],
        received_time=_first(fields, "received_time")[:5],
        referring_body=_first(fields, "referring_body")[:20],
        referring_body_other=_first(fields, "referring_body_other")[:200],
        referring_reference=_first(fields, "referring_reference")[:100],
    )
    if how.channel not in forms.choice_keys(CHANNELS):
        errors["channel"] = _("Choose how the complaint reached us.")
    day: date | None = None
    try:
        day = date.fromisoformat(how.received_on)
    except ValueError:
        errors["received_on"] = _("Give the date it was received, for example 2026-03-27.")
    clock: time | None = None
    try:
        clock = time.fromisoformat(how.received_time) if len(how.received_time) == 5 else None
    except ValueError:
        clock = None
    if clock is None:
        errors["received_time"] = _("Give the time it was received, for example 14:05.")
    if day is not None and clock is not None:
        local = datetime.combine(day, clock, tzinfo=ZoneInfo(zone))
        how.received_at = local.astimezone(UTC)
        if how.received_at > now:
            errors["received_on"] = _(
                "The time received is in the future. Give the date and time the complaint "
                "actually reached us.")
    if how.channel == "referral":
        if how.referring_body not in forms.choice_keys(REFERRING_BODIES):
            errors["referring_body"] = _("Choose the body that referred the complaint.")
        elif how.referring_body == "other" and not how.referring_body_other:
            errors["referring_body_other"] = _("Name the body that referred the complaint.")
    else:
        how.referring_body = how.referring_body_other = ""
    taken_by = _first(fields, "taken_by")
    if taken_by.isdigit() and (staff_ids is None or int(taken_by) in staff_ids):
        how.taken_by = int(taken_by)
    else:
        errors["taken_by"] = _("Choose the staff member who took the complaint.")
    return how, errors


def letter_language(data: forms.ComplaintInput) -> str:
    """The language the complainant's letters are written in: Spanish when they prefer it,
    else English."""
    return "es" if data.preferred_language == "es" else "en"
