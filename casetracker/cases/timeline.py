"""The case timeline in words: what each recorded change says, for people.

The audit log keeps its details as stored values (``due_at: 2026-12-07T14:12:27+00:00``,
``allegation_type: racial_profiling``, ids); the case page shows sentences instead ("ICE
notification due Monday, December 7, 2026, 9:12 AM EST", "Racial profiling", names). Pure: no
I/O; the names of people come in from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from casetracker.cases import rules
from casetracker.web.i18n import format_full_day, format_full_moment
from casetracker.web.i18n import gettext as _

_ROLES = {"complainant": "Complainant", "witness": "Witness", "officer": "Officer",
          "other": "Other"}


def _word(mapping: Mapping[str, Any], key: Any) -> str:
    if key in (None, ""):
        return ""
    label = mapping.get(str(key))
    return str(label) if label is not None else str(key).replace("_", " ").capitalize()


def _moment(value: Any, tz: ZoneInfo) -> str:
    """An ISO timestamp or date in words ("Monday, December 7, 2026, 9:12 AM EST")."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return format_full_day(value)
    else:
        text = str(value)
        try:
            if len(text) <= 10:
                return format_full_day(date.fromisoformat(text))
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            return text
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return format_full_moment(moment.astimezone(tz))


def _quoted(text: Any) -> str:
    return f"\u201c{text}\u201d"


def describe(action: str, details: Mapping[str, Any], names: Mapping[Any, str],
             timezone: str) -> list[str]:
    """Short phrases saying what a timeline entry changed (may be empty)."""
    tz = ZoneInfo(timezone)
    d = {k: v for k, v in details.items() if v not in (None, "", [], {})}
    out: list[str] = []

    def person(key: str, name_key: str = "") -> str:
        return (d.get(name_key) if name_key else "") or names.get(d.get(key)) or ""

    if "from_status" in d and "to_status" in d:
        out.append(_("from %(before)s to %(after)s",
                     before=rules.status_label(d["from_status"]).lower(),
                     after=rules.status_label(d["to_status"]).lower()))
    if action in ("case.assigned", "case.reassigned"):
        who = person("investigator_id", "investigator")
        if who:
            out.append(_("to %(name)s", name=who))
        previous = names.get(d.get("previous_investigator_id"))
        if previous and action == "case.reassigned":
            out.append(_("from %(name)s", name=previous))
    elif action == "case.task_added":
        out.append(_quoted(d.get("title", "")))
        who = person("assignee_id", "assignee")
        if who:
            out.append(_("for %(name)s", name=who))
        if d.get("due_on"):
            out.append(_("due %(day)s", day=_moment(d["due_on"], tz)))
    elif action == "case.task_completed":
        out.append(_quoted(d.get("title", "")))
        if d.get("with_closing"):
            out.append(_("marked done when the case closed"))
    elif action == "case.interview_recorded":
        role = _ROLES.get(str(d.get("role", "")), "")
        out.append(f"{d.get('interviewee', '')}" + (f" ({_(role).lower()})" if role else ""))
        if d.get("language"):
            out.append(_("in %(language)s", language=d["language"]))
        if d.get("interpreter"):
            out.append(_("interpreter: %(name)s", name=d["interpreter"]))
    elif action == "case.finding_recommended":
        out.append(_word(rules.FINDING_LABELS, d.get("finding")))
        if d.get("standard"):
            out.append(_word(rules.STANDARD_LABELS, d["standard"]).lower())
        if d.get("action"):
            out.append(_("recommended action: %(action)s", action=d["action"]))
    elif action == "case.finding_accepted":
        out.append(_word(rules.FINDING_LABELS, d.get("finding")))
        if d.get("edited"):
            out.append(_("changed from the recommended %(finding)s",
                         finding=_word(rules.FINDING_LABELS, d.get("recommended")).lower()))
    elif action == "case.allegation_added":
        text = _word(rules.ALLEGATION_LABELS, d.get("allegation_type"))
        if d.get("protected_characteristic"):
            text += " (" + _word(rules.PROTECTED_CHARACTERISTICS,
                                 d["protected_characteristic"]).lower() + ")"
        out.append(text)
    elif action == "case.officer_linked":
        if d.get("described_as"):
            out.append(_("described as %(text)s", text=_quoted(d["described_as"])))
        out.append(_("linked to the registry") if d.get("officer_id")
                   else _("marked unidentified"))
        if d.get("ice_notification_required"):
            out.append(_("ICE must be notified"))
    elif action == "case.officer_proposed":
        out.append(", ".join(str(d[k]) for k in ("name", "badge_number", "agency") if k in d))
    elif action == "case.agency_set":
        out += [str(d[k]) for k in ("agency", "agreement") if k in d]
    elif action in ("case.referred", "case.referral_recorded", "case.referral_updated"):
        if d.get("body"):
            body = (d.get("body_other") if d["body"] == "other" else "") or \
                _word(rules.REFERRAL_BODY_LABELS, d["body"])
            out.append(_("to %(body)s", body=body))
        if d.get("sent_on"):
            out.append(_("sent %(day)s", day=_moment(d["sent_on"], tz)))
        if d.get("reference_number"):
            out.append(_("their reference %(ref)s", ref=d["reference_number"]))
        if d.get("is_ice_notification"):
            out.append(_("the ICE notification"))
    elif action == "case.ice_notified":
        if d.get("notified_at"):
            out.append(_("ICE notified %(when)s", when=_moment(d["notified_at"], tz)))
        if d.get("due_at"):
            out.append(_("ICE notification due %(when)s", when=_moment(d["due_at"], tz)))
    elif action == "case.results_reported":
        if d.get("reported_at"):
            out.append(_("reported %(when)s", when=_moment(d["reported_at"], tz)))
        if d.get("due_at"):
            out.append(_("results due %(when)s", when=_moment(d["due_at"], tz)))
    elif action == "case.closed" and d.get("outcome"):
        out.append(_("outcome: %(outcome)s",
                     outcome=_word(rules.FINDING_LABELS, d["outcome"]).lower()))
    if d.get("reason"):
        out.append(_("reason: %(reason)s", reason=d["reason"]))
    if d.get("comments"):
        out.append(_("comments: %(comments)s", comments=d["comments"]))
    return [phrase for phrase in out if phrase]
