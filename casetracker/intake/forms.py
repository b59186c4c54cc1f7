"""The complaint form: its choices, limits and validation, shared by the HTML form and the API.

Input is a mapping of field name → list of submitted strings (a multi-dict, as a form gives);
the JSON API converts its body to the same shape (``fields_from_json``) so both channels run
exactly the same checks. Errors are keyed by the HTML field's id, in the request's language.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from casetracker.intake.rules import clean_text, has_control_characters
from casetracker.web.i18n import gettext as _
from casetracker.web.i18n import lazy_gettext as L

MAX_OFFICERS = 10
MAX_WITNESSES = 10
NARRATIVE_MAX = 7000
FOLLOW_UP_MAX = 7000

# field → (maximum characters, multi-line)
LIMITS: dict[str, tuple[int, bool]] = {
    "incident_location": (300, False),
    "incident_city": (100, False),
    "incident_time": (5, False),
    "narrative": (NARRATIVE_MAX, True),
    "protected_other": (200, False),
    "harm": (3000, True),
    "victim_name": (200, False),
    "relationship": (200, False),
    "name": (200, False),
    "email": (254, False),
    "phone": (40, False),
    "address": (500, True),
    "preferred_language_other": (40, False),
    "safety_notes": (1000, True),
}
OFFICER_LIMITS: dict[str, tuple[int, bool]] = {
    "name": (200, False),
    "badge": (40, False),
    "agency": (200, False),
    "rank": (60, False),
    "description": (2000, True),
    "vehicle": (200, False),
}
WITNESS_LIMITS: dict[str, tuple[int, bool]] = {
    "name": (200, False),
    "contact": (300, False),
    "statement": (3000, True),
}

SETTINGS = [
    ("traffic_stop", L("A traffic stop")),
    ("street", L("On the street or in a public place")),
    ("jail_booking", L("In a jail or at booking")),
    ("home", L("At a home")),
    ("workplace", L("At a workplace")),
    ("other", L("Somewhere else")),
]
CONTEXTS_287G = [
    ("unknown", L("I don't know")),
    ("jail_screening", L("Questions or screening inside a jail")),
    ("warrant_service", L("An immigration warrant served in a jail")),
    ("field", L("Out in the community (a task force)")),
]
CHECKLIST = [
    ("stopped", L("I was stopped or pulled over")),
    ("questioned_status", L("Asked about immigration status or papers")),
    ("searched", L("Searched (body, car, bag or home)")),
    ("arrested", L("Arrested or held")),
    ("detainer", L("Held for immigration (a detainer)")),
    ("force", L("Force was used")),
    ("slurs", L("Slurs or insults")),
    ("interpreter_denied", L("No interpreter, or an interpreter was refused")),
    ("property_taken", L("Property or documents taken")),
]
PROTECTED = [
    ("race", L("Race or color")),
    ("ethnicity", L("Ethnicity")),
    ("national_origin", L("National origin (where you or your family come from)")),
    ("language", L("Language or limited English")),
    ("immigration_status", L("Immigration or citizenship status")),
    ("religion", L("Religion")),
    ("sex", L("Sex")),
    ("other", L("Something else")),
]
ROLES = [
    ("victim", L("It happened to me")),
    ("third_party", L("It happened to someone else (I saw it, or I am helping them)")),
]
CONTACT_METHODS = [
    ("email", L("E-mail")),
    ("phone", L("Phone")),
    ("mail", L("Letter by post")),
    ("none", L("Please do not contact me")),
]
LANGUAGES = [
    ("en", L("English")),
    ("es", L("Spanish")),
    ("other", L("Another language")),
]
# States and territories. Names that Spanish writes differently are translated; the rest
# ("Texas", "Florida") are the same in both languages and stay plain strings.
US_STATES: list[tuple[str, Any]] = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"),
    ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"),
    ("DC", L("District of Columbia")), ("FL", "Florida"), ("GA", "Georgia"),
    ("HI", L("Hawaii")), ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"), ("IA", "Iowa"),
    ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", L("Louisiana")), ("ME", "Maine"),
    ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", L("Mississippi")), ("MO", L("Missouri")), ("MT", "Montana"), ("NE", "Nebraska"),
    ("NV", "Nevada"), ("NH", L("New Hampshire")), ("NJ", L("New Jersey")),
    ("NM", L("New Mexico")), ("NY", L("New York")), ("NC", L("North Carolina")),
    ("ND", L("North Dakota")), ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", L("Oregon")),
    ("PA", L("Pennsylvania")), ("PR", "Puerto Rico"), ("RI", "Rhode Island"),
    ("SC", L("South Carolina")), ("SD", L("South Dakota")), ("TN", "Tennessee"),
    ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"), ("VA", "Virginia"),
    ("VI", L("U.S. Virgin Islands")), ("WA", "Washington"), ("WV", L("West Virginia")),
    ("WI", "Wisconsin"), ("WY", "Wyoming"), ("GU", "Guam"),
    ("MP", L("Northern Mariana Islands")), ("AS", L("American Samoa")),
]
STATE_CODES = {code for code, _name in US_STATES}
MONTHS = [
    ("1", L("January")), ("2", L("February")), ("3", L("March")), ("4", L("April")),
    ("5", L("May")), ("6", L("June")), ("7", L("July")), ("8", L("August")),
    ("9", L("September")), ("10", L("October")), ("11", L("November")), ("12", L("December")),
]
_IDENTITY_FIELDS = [("name", L("Your name")), ("email", L("E-mail")), ("phone", L("Phone")),
                    ("address", L("Postal address"))]
HONEYPOT = "fax_number"  # hidden from people; bots fill it

_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^[0-9+()\-.\s/x]{5,40}$")


def choice_keys(choices: Sequence[tuple[str, Any]]) -> set[str]:
    return {key for key, _label in choices}


def state_choices() -> list[tuple[str, str]]:
    """States and territories for the form's list, named and sorted in the current language
    ("Nueva York" comes after "Nebraska" in Spanish, as a reader looks for it)."""
    named = [(code, str(name)) for code, name in US_STATES]
    return sorted(named, key=lambda pair: _sort_key(pair[1]))


def _sort_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def label_for(choices: Sequence[tuple[str, Any]], key: str) -> str:
    for k, label in choices:
        if k == key:
            return str(label)
    return key


Fields = Mapping[str, Sequence[str]]


@dataclass
class OfficerEntry:
    name: str = ""
    badge: str = ""
    agency: str = ""  # what they typed, or the chosen registry agency's "Name, ST"
    agency_id: int | None = None
    agency_chosen: bool = False  # picked from "Find agency" in this request: the link wins
    rank: str = ""
    description: str = ""
    vehicle: str = ""

    @property
    def is_blank(self) -> bool:
        return not any((self.name, self.badge, self.agency, self.rank, self.description,
                        self.vehicle))


@dataclass
class WitnessEntry:
    name: str = ""
    contact: str = ""
    statement: str = ""

    @property
    def is_blank(self) -> bool:
        return not any((self.name, self.contact, self.statement))


@dataclass
class ComplaintInput:
    """Everything a person submitted, cleaned; what the service stores."""

    language: str = "en"
    incident_day: str = ""
    incident_month: str = ""
    incident_year: str = ""
    incident_date: date | None = None
    incident_date_precision: str = "unknown"
    incident_time: str = ""
    incident_location: str = ""
    incident_city: str = ""
    incident_state: str = ""
    incident_setting: str = ""  # "" when not chosen; stored as "other"
    context_287g: str = ""  # "" when not chosen; stored as "unknown"
    officers: list[OfficerEntry] = field(default_factory=list)
    narrative: str = ""
    checklist: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    protected_other: str = ""
    harm: str = ""
    witnesses: list[WitnessEntry] = field(default_factory=list)
    complainant_role: str = "victim"
    victim_name: str = ""
    relationship: str = ""
    anonymous: bool = False
    name: str = ""
    email: str = ""
    phone: str = ""
    address: str = ""
    preferred_language: str = ""
    preferred_language_other: str = ""
    preferred_contact: str = ""
    safety_notes: str = ""
    interpreter_needed: bool = False
    consent_share_agency: bool = False
    consent_share_ice: bool = False
    honeypot_filled: bool = False

    @property
    def named_officers(self) -> list[OfficerEntry]:
        return [o for o in self.officers if not o.is_blank]

    @property
    def named_witnesses(self) -> list[WitnessEntry]:
        return [w for w in self.witnesses if not w.is_blank]

    @property
    def has_contact(self) -> bool:
        return not self.anonymous and any((self.name, self.email, self.phone, self.address))


def _first(fields: Fields, name: str) -> str:
    values = fields.get(name) or []
    return str(values[0]) if values else ""


def _count(fields: Fields, name: str, default: int, maximum: int) -> int:
    try:
        value = int(_first(fields, name) or default)
    except ValueError:
        value = default
    return max(0, min(value, maximum))


def form_count(fields: Fields, name: str) -> int:
    """How many officer or witness blocks the form shows (``officer_count``)."""
    maximum = MAX_OFFICERS if name.startswith("officer") else MAX_WITNESSES
    return _count(fields, name, 1, maximum)


class _Checker:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def text(self, field_id: str, raw: str, limit: int, multiline: bool) -> str:
        value = clean_text(raw, multiline=multiline)
        if has_control_characters(value):
            self.errors.setdefault(field_id, _(
                "This contains invisible control characters. Please retype it, or paste it "
                "as plain text."))
        elif len(value) > limit:
            self.errors.setdefault(field_id, _(
                "Please shorten this to %(limit)s characters or fewer (it has %(count)s).",
                limit=f"{limit:,}", count=f"{len(value):,}"))
        return value


def parse_complaint(fields: Fields, *, language: str = "en",
                    today: date | None = None) -> tuple[ComplaintInput, dict[str, str]]:
    """Clean and check a submitted complaint. Returns the input (always, for re-rendering
    everything typed) and the errors by field id (empty when it can be stored)."""
    today = today or datetime.now(UTC).date()
    check = _Checker()
    data = ComplaintInput(language=language)
    data.honeypot_filled = bool(_first(fields, HONEYPOT).strip())

    for name, (limit, multiline) in LIMITS.items():
        setattr(data, name, check.text(name, _first(fields, name), limit, multiline))

    # --- when -------------------------------------------------------------------------------
    data.incident_day = check.text("incident_day", _first(fields, "incident_day"), 2, False)
    data.incident_month = check.text("incident_month", _first(fields, "incident_month"), 2, False)
    data.incident_year = check.text("incident_year", _first(fields, "incident_year"), 4, False)
    _check_date(data, check, today)
    if data.incident_time and not _TIME_RE.match(data.incident_time):
        check.errors.setdefault("incident_time", _(
            "Enter the time like 14:30, or leave it empty if you are not sure."))
    elif data.incident_time:
        hours, minutes = data.incident_time.split(":")
        data.incident_time = f"{int(hours):02d}:{minutes}"

    state = _first(fields, "incident_state").strip().upper()[:2]
    if state and state not in STATE_CODES:
        check.errors["incident_state"] = _("Choose a state from the list.")
    data.incident_state = state if state in STATE_CODES else ""
    setting = _first(fields, "incident_setting")
    data.incident_setting = setting if setting in choice_keys(SETTINGS) else ""
    context = _first(fields, "context_287g")
    data.context_287g = context if context in choice_keys(CONTEXTS_287G) else ""

    # --- who --------------------------------------------------------------------------------
    officer_count = _count(fields, "officer_count", 1, MAX_OFFICERS)
    for index in range(officer_count):
        entry = OfficerEntry()
        for key, (limit, multiline) in OFFICER_LIMITS.items():
            field_id = f"officer-{index}-{key}"
            setattr(entry, key, check.text(field_id, _first(fields, field_id), limit, multiline))
        raw_id = _first(fields, f"officer-{index}-agency_id").strip()
        entry.agency_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None
        choice = _first(fields, f"officer-{index}-agency_choice").strip()
        if choice.isdigit() and len(choice) < 10:
            entry.agency_id, entry.agency_chosen = int(choice), True
        data.officers.append(entry)

    witness_count = _count(fields, "witness_count", 1, MAX_WITNESSES)
    for index in range(witness_count):
        entry_w = WitnessEntry()
        for key, (limit, multiline) in WITNESS_LIMITS.items():
            field_id = f"witness-{index}-{key}"
            setattr(entry_w, key, check.text(field_id, _first(fields, field_id), limit, multiline))
        data.witnesses.append(entry_w)

    # --- what happened ----------------------------------------------------------------------
    allowed_checks = choice_keys(CHECKLIST)
    data.checklist = [v for v in dict.fromkeys(fields.get("checklist") or [])
                      if v in allowed_checks]
    allowed_protected = choice_keys(PROTECTED)
    data.protected = [v for v in dict.fromkeys(fields.get("protected") or [])
                      if v in allowed_protected]
    if not data.narrative:
        check.errors.setdefault("narrative", _(
            "Please tell us what happened, in your own words. A few sentences are enough."))

    # --- the person filing ------------------------------------------------------------------
    role = _first(fields, "complainant_role")
    data.complainant_role = role if role in choice_keys(ROLES) else "victim"
    data.anonymous = _first(fields, "anonymous") in ("1", "yes", "on", "true")
    language_choice = _first(fields, "preferred_language")
    data.preferred_language = language_choice if language_choice in choice_keys(LANGUAGES) else ""
    contact = _first(fields, "preferred_contact")
    data.preferred_contact = contact if contact in choice_keys(CONTACT_METHODS) else ""
    data.interpreter_needed = _first(fields, "interpreter_needed") in ("1", "yes", "on", "true")
    data.consent_share_agency = _first(fields, "consent_share_agency") in ("1", "yes", "on", "true")
    data.consent_share_ice = _first(fields, "consent_share_ice") in ("1", "yes", "on", "true")
    if data.email and not _EMAIL_RE.match(data.email):
        check.errors.setdefault("email", _(
            "Enter an e-mail address like name@example.com, or leave it empty."))
    if data.phone and not _PHONE_RE.match(data.phone):
        check.errors.setdefault("phone", _(
            "Enter a phone number using digits (spaces, dashes and + are fine), or leave it "
            "empty."))
    if data.anonymous:
        # Anonymous means we keep no identity at all: say so (once, by the choice) rather than
        # silently dropping what was typed.
        filled = [str(label) for name, label in _IDENTITY_FIELDS if getattr(data, name)]
        if filled:
            check.errors.setdefault("anonymous", _(
                "You chose to file anonymously, so we cannot keep your name or contact "
                "details. Empty these fields: %(fields)s. Or untick “File anonymously”.",
                fields=", ".join(filled)))
    else:
        if data.preferred_contact == "email" and not data.email:
            check.errors.setdefault("email", _(
                "You asked us to contact you by e-mail: please add your e-mail address."))
        if data.preferred_contact == "phone" and not data.phone:
            check.errors.setdefault("phone", _(
                "You asked us to contact you by phone: please add your phone number."))
        if data.preferred_contact == "mail" and not data.address:
            check.errors.setdefault("address", _(
                "You asked us to write to you: please add your postal address."))
    return data, check.errors


def _check_date(data: ComplaintInput, check: _Checker, today: date) -> None:
    day, month, year = data.incident_day, data.incident_month, data.incident_year
    if not (day or month or year):
        data.incident_date, data.incident_date_precision = None, "unknown"
        return
    if not year.isdigit() or len(year) != 4:
        check.errors.setdefault("incident_year", _(
            "Enter the year with four digits, like %(year)s.", year=today.year))
        return
    if not month:
        check.errors.setdefault("incident_month", _(
            "Enter the month as a number from 1 to 12, or leave the whole date empty if you "
            "do not know it."))
        return
    if not month.isdigit() or not 1 <= int(month) <= 12:
        check.errors.setdefault("incident_month", _("The month must be a number from 1 to 12."))
        return
    y, m = int(year), int(month)
    if y < 1950:
        check.errors.setdefault("incident_year", _("Please check the year."))
        return
    if day:
        last = calendar.monthrange(y, m)[1]
        if not day.isdigit() or not 1 <= int(day) <= last:
            check.errors.setdefault("incident_day", _(
                "That month has %(last)s days: enter a day from 1 to %(last)s, or leave the "
                "day empty.", last=last))
            return
        value, precision = date(y, m, int(day)), "day"
    else:
        value, precision = date(y, m, 1), "month"
    if value > today or (precision == "month" and (y, m) > (today.year, today.month)):
        check.errors.setdefault("incident_day" if precision == "day" else "incident_month", _(
            "This date is in the future. Please check the day, month and year."))
        return
    data.incident_date, data.incident_date_precision = value, precision


def parse_follow_up(fields: Fields) -> tuple[str, dict[str, str]]:
    check = _Checker()
    message = check.text("message", _first(fields, "message"), FOLLOW_UP_MAX, True)
    return message, check.errors


def form_values(data: ComplaintInput, *, add_officer: bool = False,
                add_witness: bool = False) -> dict[str, Any]:
    """What the template needs to show the form again with everything typed."""
    officers = list(data.officers) or [OfficerEntry()]
    witnesses = list(data.witnesses) or [WitnessEntry()]
    if add_officer and len(officers) < MAX_OFFICERS:
        officers.append(OfficerEntry())
    if add_witness and len(witnesses) < MAX_WITNESSES:
        witnesses.append(WitnessEntry())
    return {"data": data, "officers": officers, "witnesses": witnesses}


# --- the JSON API's body ----------------------------------------------------------------------

_SCALARS = (
    "incident_day", "incident_month", "incident_year", "incident_time", "incident_location",
    "incident_city", "incident_state", "incident_setting", "context_287g", "narrative",
    "protected_other", "harm", "complainant_role", "victim_name", "relationship", "name",
    "email", "phone", "address", "preferred_language", "preferred_language_other",
    "preferred_contact", "safety_notes",
)
_FLAGS = ("anonymous", "interpreter_needed", "consent_share_agency", "consent_share_ice")


def fields_from_json(body: Mapping[str, Any]) -> Fields:
    """The API body as form fields, so both channels share one validation."""
    fields: dict[str, list[str]] = {}
    iso = str(body.get("incident_date") or "")
    match = re.match(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$", iso)
    if match:
        fields["incident_year"] = [match.group(1)]
        fields["incident_month"] = [match.group(2)]
        fields["incident_day"] = [match.group(3) or ""]
    elif iso:
        fields["incident_year"] = [iso[:8]]  # reported back as a wrong date
    for name in _SCALARS:
        value = body.get(name)
        if value is not None:
            fields[name] = [str(value)]
    for name in _FLAGS:
        if body.get(name):
            fields[name] = ["1"]
    for name in ("checklist", "protected"):
        fields[name] = [str(v) for v in (body.get(name) or [])]
    officers = list(body.get("officers") or [])[:MAX_OFFICERS]
    fields["officer_count"] = [str(len(officers))]
    for index, officer in enumerate(officers):
        for key in (*OFFICER_LIMITS, "agency_id"):
            value = (officer or {}).get(key)
            if value is not None:
                fields[f"officer-{index}-{key}"] = [str(value)]
    witnesses = list(body.get("witnesses") or [])[:MAX_WITNESSES]
    fields["witness_count"] = [str(len(witnesses))]
    for index, witness in enumerate(witnesses):
        for key in WITNESS_LIMITS:
            value = (witness or {}).get(key)
            if value is not None:
                fields[f"witness-{index}-{key}"] = [str(value)]
    return fields


def json_error_key(field_id: str) -> str:
    """``officer-0-name`` → ``officers[0].name`` for API clients."""
    match = re.match(r"^(officer|witness)-(\d+)-(\w+)$", field_id)
    if match:
        return f"{match.group(1)}s[{match.group(2)}].{match.group(3)}"
    return field_id
