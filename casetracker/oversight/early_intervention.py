"""Early intervention: rules with warning and critical levels over a rolling window. Pure.

An *event* is one thing counted for a subject (an officer or an agency):
- ``complaints``: a complaint (case) naming the subject, dated when received; one per case;
- ``profiling``: a racial-profiling allegation, dated when the case was received;
- ``sustained_profiling``: a racial-profiling allegation with a sustained final finding, dated
  when the finding was made (or the case received when that date is missing).

A rule fires at a level when the number of events in the window ending on the evaluation date
(``as_of - window_days`` exclusive .. ``as_of`` inclusive) reaches that level's threshold.
Agency rules with ``scale_by_officers`` multiply the thresholds by the agency's number of
designated officers (at least 1), so a large program is compared per officer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

MEASURES = ("complaints", "profiling", "sustained_profiling")
SUBJECTS = ("officer", "agency")


@dataclass(frozen=True)
class Rule:
    key: str
    subject: str  # officer | agency
    measure: str  # complaints | profiling | sustained_profiling
    window_days: int = 365
    warning_at: int = 0  # 0 = level not used
    critical_at: int = 0
    scale_by_officers: bool = False
    enabled: bool = True

    def thresholds(self, designated_officers: int = 1) -> tuple[int, int]:
        factor = max(1, designated_officers) if self.scale_by_officers else 1
        return (self.warning_at * factor, self.critical_at * factor)


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("officer_complaints", "officer", "complaints", 365, warning_at=3, critical_at=5),
    Rule("officer_profiling", "officer", "profiling", 365, warning_at=2, critical_at=3),
    Rule("officer_sustained_profiling", "officer", "sustained_profiling", 365, warning_at=0,
         critical_at=1),
    Rule("agency_complaints", "agency", "complaints", 365, warning_at=3, critical_at=5,
         scale_by_officers=True),
    Rule("agency_profiling", "agency", "profiling", 365, warning_at=2, critical_at=3,
         scale_by_officers=True),
    Rule("agency_sustained_profiling", "agency", "sustained_profiling", 365, warning_at=0,
         critical_at=1),
)


@dataclass(frozen=True)
class Event:
    subject: str  # officer | agency
    subject_id: int
    measure: str
    on: date
    case_id: int


@dataclass
class Flag:
    subject: str
    subject_id: int
    rule: Rule
    level: str  # warning | critical
    count: int
    threshold: int
    case_ids: list[int] = field(default_factory=list)
    last_on: date | None = None

    @property
    def key(self) -> str:
        """Identity of the flag as it stands: a newer case makes it a new flag."""
        newest = max(self.case_ids) if self.case_ids else 0
        return f"{self.subject}:{self.subject_id}:{self.rule.key}:{self.level}:{newest}"


def merge_rules(overrides: Iterable[Mapping[str, Any]]) -> list[Rule]:
    """The default rules with stored settings (rows of EarlyInterventionRule) applied."""
    by_key = {r.key: r for r in DEFAULT_RULES}
    for row in overrides:
        base = by_key.get(row["key"])
        fields = {k: row[k] for k in ("subject", "measure", "window_days", "warning_at",
                                      "critical_at", "scale_by_officers", "enabled")
                  if k in row and row[k] is not None}
        if base is None:
            by_key[row["key"]] = Rule(key=row["key"], **fields)
        else:
            by_key[row["key"]] = Rule(**{**base.__dict__, **fields})
    return list(by_key.values())


def evaluate(rules: Iterable[Rule], events: Iterable[Event], as_of: date,
             designated: Mapping[int, int] | None = None) -> list[Flag]:
    """Flags as of ``as_of``: for each enabled rule and subject, the highest level reached."""
    designated = designated or {}
    grouped: dict[tuple[str, str, int], list[Event]] = defaultdict(list)
    for event in events:
        grouped[(event.subject, event.measure, event.subject_id)].append(event)
    flags: list[Flag] = []
    for rule in rules:
        if not rule.enabled:
            continue
        start = as_of - timedelta(days=rule.window_days)
        for (subject, measure, subject_id), items in grouped.items():
            if subject != rule.subject or measure != rule.measure:
                continue
            inside = [e for e in items if start < e.on <= as_of]
            if not inside:
                continue
            count = len(inside) if measure != "complaints" else len({e.case_id for e in inside})
            officers = designated.get(subject_id, 1) if subject == "agency" else 1
            warning, critical = rule.thresholds(officers)
            level = threshold = None
            if critical and count >= critical:
                level, threshold = "critical", critical
            elif warning and count >= warning:
                level, threshold = "warning", warning
            if level is None:
                continue
            flags.append(Flag(subject=subject, subject_id=subject_id, rule=rule, level=level,
                              count=count, threshold=threshold or 0,
                              case_ids=sorted({e.case_id for e in inside}),
                              last_on=max(e.on for e in inside)))
    flags.sort(key=lambda f: (f.level != "critical", f.subject, -f.count, f.subject_id,
                              f.rule.key))
    return flags


def max_in_any_window(dates: Iterable[date], window_days: int) -> int:
    """The most events within any window of ``window_days`` days (e.g. to ask how many
    officers ever reached 3 complaints in 365 days)."""
    ordered = sorted(dates)
    best = 0
    lo = 0
    for hi, day in enumerate(ordered):
        while ordered[lo] <= day - timedelta(days=window_days):
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def ever_reached(events_by_subject: Mapping[int, Iterable[date]], threshold: int,
                 window_days: int) -> int:
    return sum(1 for dates in events_by_subject.values()
               if max_in_any_window(dates, window_days) >= threshold)


def ceil_div(a: int, b: int) -> int:
    return math.ceil(a / b)
