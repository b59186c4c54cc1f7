"""The parts of the case file the case page shows beyond the complaint itself: officers with
their designations and agreement, findings (recommended and final, with rationale), interviews,
notes, tasks, the review history with the supervisor's comments, assignments, the timeline of
changes, and the access log summarised (who looked, how often, first and last), with every
access row only as an optional appendix. Everything in words, every time local with its zone.

``load_case_file(case_id, with_access_rows=...)`` reads the rows; ``CaseFile`` is what the PDF
template prints (a plain, frozen view-model)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from casetracker.accounts.tables import User
from casetracker.audit.tables import AuditEvent
from casetracker.cases import rules as case_rules
from casetracker.cases.designations import designations_for
from casetracker.cases.tables import (
    Allegation,
    CaseAssignment,
    CaseNote,
    CaseOfficer,
    Interview,
    Task,
)
from casetracker.registry.tables import MODEL_LABELS, Agreement
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import long_date, long_datetime

Pairs = tuple[tuple[str, str], ...]

REVIEW_ACTIONS = ("case.findings_submitted", "case.review_started", "case.finding_accepted",
                  "case.returned", "case.resumed", "case.closed")
DESIGNATION_WORDS = {"active": "active", "suspended": "suspended pending adjudication",
                     "revoked": "revoked"}
LETTER_CHANNELS = {"email": "By e-mail", "mail": "By post", "phone": "Read by phone",
                   "status_page": "On the status page"}
LETTER_STATES = {"sent": "E-mail sent", "to_print": "To print and post", "mailed": "Posted",
                 "to_call": "To read by phone", "called": "Read by phone",
                 "shown": "Shown on the status page"}
ROLE_WORDS = {"complainant": "Complainant", "witness": "Witness", "officer": "Officer",
              "other": "Other"}


@dataclass(frozen=True)
class Entry:
    title: str
    lines: Pairs


@dataclass(frozen=True)
class CaseFile:
    officers: tuple[Entry, ...]
    findings: tuple[Entry, ...]
    interviews: tuple[Entry, ...]
    notes: tuple[tuple[str, str, str], ...]  # when, who, text
    tasks: tuple[tuple[str, str, str, str], ...]  # task, assigned to, due, done
    assignments: tuple[tuple[str, str, str, str], ...]  # when, investigator, by, reason
    review: tuple[tuple[str, str, str, str], ...]  # when, who, what, comments
    timeline: tuple[tuple[str, str, str], ...]  # when, who, what
    access_summary: tuple[tuple[str, str, str, str, str], ...]  # who, what, times, first, last
    access_total: int
    access_rows: tuple[tuple[str, str, str], ...]  # when, who, what (appendix, optional)
    access_appendix: bool
    letters: tuple[tuple[str, str, str, str], ...] = ()  # sent, how, subject, state


def _when(value: Any) -> str:
    return long_datetime(value) if value else "—"


def _word(mapping: dict[str, Any], key: str | None) -> str:
    if not key:
        return ""
    label = mapping.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


def _details(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("details")
    if isinstance(value, str):
        try:
            return json.loads(value or "{}")
        except ValueError:
            return {}
    return value or {}


async def _names(ids: set[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    return {r["id"]: r["name"] for r in await User.select(User.id, User.name).where(
        User.id.is_in(wanted))}


async def _officers(case_id: int, case_agreement: int | None) -> tuple[Entry, ...]:
    rows = await CaseOfficer.select(
        *CaseOfficer.all_columns(), CaseOfficer.officer.name.as_alias("registry_name"),
        CaseOfficer.officer.badge_number.as_alias("registry_badge"),
        CaseOfficer.officer.rank.as_alias("registry_rank"),
        CaseOfficer.officer._.agency._.name.as_alias("registry_agency"),
        CaseOfficer.officer._.agency._.state.as_alias("registry_state"),
        CaseOfficer.officer.awaiting_confirmation.as_alias("awaiting"),
    ).where(CaseOfficer.case == case_id).order_by(CaseOfficer.position, CaseOfficer.id)
    designations = await designations_for([r["officer"] for r in rows if r["officer"]])
    agreement_ids = {d["agreement"] for ds in designations.values() for d in ds}
    agreements = {a["id"]: a for a in await Agreement.select(
        Agreement.id, Agreement.model, Agreement.status).where(
        Agreement.id.is_in(sorted(agreement_ids)))} if agreement_ids else {}
    entries = []
    for index, row in enumerate(rows, start=1):
        described = [(label, row[key]) for label, key in (
            (_("Name (as described)"), "name"), (_("Badge (as described)"), "badge_number"),
            (_("Rank"), "rank"), (_("Agency (as described)"), "agency_text"),
            (_("Description"), "description"), (_("Vehicle"), "vehicle")) if row[key]]
        lines: list[tuple[str, str]] = list(described)
        if row["officer"]:
            registry = row["registry_name"] + (
                f", {_('badge')} {row['registry_badge']}" if row["registry_badge"] else "")
            registry += f" · {row['registry_agency']} ({row['registry_state']})"
            if row["awaiting"]:
                registry += " · " + _("proposed at triage, awaiting a supervisor's confirmation")
            lines.append((_("Registry officer"), registry))
            for d in designations.get(row["officer"], []):
                agreement = agreements.get(d["agreement"]) or {}
                model = _(MODEL_LABELS.get(agreement.get("model", ""), d.get("model") or ""))
                text = _("%(model)s agreement: designation %(status)s", model=model,
                         status=_(DESIGNATION_WORDS.get(d["status"], d["status"])))
                if d.get("suspended_on"):
                    text += " " + _("(suspended %(day)s)", day=long_date(d["suspended_on"]))
                if d["agreement"] == case_agreement:
                    text += " · " + _("the agreement this case falls under")
                lines.append((_("287(g) designation"), text))
            if not designations.get(row["officer"]):
                lines.append((_("287(g) designation"), _("none recorded")))
        elif row["unidentified"]:
            lines.append((_("Registry officer"), _("Officer unidentified")))
        else:
            lines.append((_("Registry officer"), _("not linked yet")))
        title = row["registry_name"] or row["name"] or _("Unnamed officer")
        entries.append(Entry(f"{index}. {title}", tuple(lines)))
    return tuple(entries)


def _signed(finding: str, by: str, at: Any) -> str:
    """"Sustained — Dana Ortiz, March 27, 2026, 2:05 PM EST"."""
    return f"{finding} — " + ", ".join(part for part in (by, _when(at) if at else "") if part)


def _finding_lines(a: dict[str, Any], names: dict[int, str]) -> Pairs:
    lines: list[tuple[str, str]] = []
    if a["description"]:
        lines.append((_("What the officer did"), a["description"]))
    if a["recommended_finding"]:
        lines.append((_("Recommended finding"), _signed(
            _word(case_rules.FINDING_LABELS, a["recommended_finding"]),
            names.get(a["recommended_by"], ""), a["recommended_at"])))
        lines.append((_("Standard of proof"),
                      _word(case_rules.STANDARD_LABELS, a["recommended_standard"])))
        if a["recommended_rationale"]:
            lines.append((_("Investigator's rationale"), a["recommended_rationale"]))
        if a["recommended_action"]:
            lines.append((_("Recommended action"), a["recommended_action"]))
    else:
        lines.append((_("Recommended finding"), _("not yet recorded")))
    if a["final_finding"]:
        lines.append((_("Final finding"), _signed(
            _word(case_rules.FINDING_LABELS, a["final_finding"]), names.get(a["final_by"], ""),
            a["final_at"])))
        if a["final_rationale"]:
            lines.append((_("Reviewer's rationale"), a["final_rationale"]))
    else:
        lines.append((_("Final finding"), _("not yet recorded")))
    if a.get("review_comment"):
        lines.append((_("Supervisor's comment"), a["review_comment"]))
    return tuple(lines)


async def load_case_file(case: dict[str, Any], *, with_access_rows: bool = False) -> CaseFile:
    case_id = case["id"]
    allegations = await Allegation.select(
        *Allegation.all_columns(), Allegation.case_officer.name.as_alias("described"),
        Allegation.officer.name.as_alias("registry_name"),
    ).where(Allegation.case == case_id).order_by(Allegation.id)
    interviews = await Interview.select().where(Interview.case == case_id).order_by(
        Interview.held_at, Interview.id)
    notes = await CaseNote.select().where(CaseNote.case == case_id).order_by(CaseNote.id)
    tasks = await Task.select().where(Task.case == case_id).order_by(Task.id)
    assignments = await CaseAssignment.select().where(CaseAssignment.case == case_id).order_by(
        CaseAssignment.id)
    events = await AuditEvent.select(
        AuditEvent.occurred_at, AuditEvent.action, AuditEvent.actor_id, AuditEvent.actor_label,
        AuditEvent.details).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    names = await _names(
        {a["recommended_by"] for a in allegations} | {a["final_by"] for a in allegations}
        | {i["recorded_by"] for i in interviews} | {n["author"] for n in notes}
        | {t["assignee"] for t in tasks} | {a["investigator"] for a in assignments}
        | {a["assigned_by"] for a in assignments} | {e["actor_id"] for e in events})

    def who(event: dict[str, Any]) -> str:
        return names.get(event["actor_id"]) or event["actor_label"] or _("the system")

    findings = tuple(Entry(
        f"{n}. {_word(case_rules.ALLEGATION_LABELS, a['allegation_type'])}"
        + (f" ({_word(case_rules.PROTECTED_CHARACTERISTICS, a['protected_characteristic'])})"
           if a["protected_characteristic"] else "")
        + f" — {a['registry_name'] or a['described'] or _('officer not identified')}",
        _finding_lines(a, names)) for n, a in enumerate(allegations, start=1))
    interview_entries = tuple(Entry(
        f"{i['interviewee']} ({_(ROLE_WORDS.get(i['interviewee_role'], 'Other'))})",
        tuple(pair for pair in (
            (_("When"), _when(i["held_at"])),
            (_("Language"), i["language"]),
            (_("Interpreter"), i["interpreter"] or _("none")),
            (_("Recorded by"), names.get(i["recorded_by"], "")),
            (_("Summary"), i["summary"])) if pair[1])) for i in interviews)

    access: dict[tuple[str, str], list[Any]] = {}
    access_rows: list[tuple[str, str, str]] = []
    timeline: list[tuple[str, str, str]] = []
    review: list[tuple[str, str, str, str]] = []
    for event in events:
        action = event["action"]
        if action in case_rules.ACCESS_LABELS or action.endswith(".view"):
            key = (who(event), _word(case_rules.ACCESS_LABELS, action))
            access.setdefault(key, []).append(event["occurred_at"])
            if with_access_rows:
                access_rows.append((_when(event["occurred_at"]), key[0], key[1]))
            continue
        details = _details(event)
        label = case_rules.event_label(action)
        if label == action:
            label = action.split(".", 1)[-1].replace("_", " ").capitalize()
        timeline.append((_when(event["occurred_at"]), who(event), label))
        if action in REVIEW_ACTIONS:
            comment = details.get("comments") or ""
            if action == "case.finding_accepted":
                comment = _("%(finding)s (recommended: %(recommended)s)",
                            finding=_word(case_rules.FINDING_LABELS, details.get("finding")),
                            recommended=_word(case_rules.FINDING_LABELS,
                                              details.get("recommended")) or "—")
            elif action == "case.closed" and details.get("outcome"):
                comment = _("Outcome: %(outcome)s",
                            outcome=_word(case_rules.FINDING_LABELS, details["outcome"]))
            review.append((_when(event["occurred_at"]), who(event), label, comment))
    summary = tuple(sorted(
        ((person, what, str(len(times)), _when(min(times)), _when(max(times)))
         for (person, what), times in access.items()),
        key=lambda row: (row[0], row[1])))
    from casetracker.intake.tables import ComplainantLetter

    letters = await ComplainantLetter.select(
        ComplainantLetter.sent_at, ComplainantLetter.channel, ComplainantLetter.subject,
        ComplainantLetter.status, ComplainantLetter.language).where(
        (ComplainantLetter.case == case_id) & (ComplainantLetter.status != "draft")).order_by(
        ComplainantLetter.sent_at, ComplainantLetter.id)
    return CaseFile(
        letters=tuple((_when(row["sent_at"]),
                       _(LETTER_CHANNELS.get(row["channel"], row["channel"] or "—"))
                       + (" · " + ("Spanish" if row["language"] == "es" else "English")),
                       row["subject"], _(LETTER_STATES.get(row["status"], row["status"])))
                      for row in letters),
        officers=await _officers(case_id, case.get("agreement")),
        findings=findings,
        interviews=interview_entries,
        notes=tuple((_when(n["created_at"]), names.get(n["author"], ""), n["body"])
                    for n in notes),
        tasks=tuple((t["title"], names.get(t["assignee"], "") or "—",
                     long_date(t["due_on"]) if t["due_on"] else "—",
                     _when(t["done_at"]) if t["done_at"] else _("open")) for t in tasks),
        assignments=tuple((_when(a["assigned_at"]), names.get(a["investigator"], ""),
                           names.get(a["assigned_by"], ""), a["reason"] or "")
                          for a in assignments),
        review=tuple(review),
        timeline=tuple(timeline),
        access_summary=summary,
        access_total=sum(len(t) for t in access.values()),
        access_rows=tuple(access_rows),
        access_appendix=with_access_rows,
    )
