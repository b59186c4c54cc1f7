"""Oversight measures (DOMAIN.md §6) as pure functions over plain rows. No I/O.

Rows are dicts. Aggregated rows carry a weight ``n`` (how many cases or allegations the row
stands for), so the same functions work on one row per case (tests, small sets) and on the
GROUP BY buckets services.py reads from the database (100k cases).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

MERITS = frozenset({"sustained", "not_sustained", "unfounded", "exonerated"})
PROFILING = "racial_profiling"


def _n(row: Mapping[str, Any]) -> int:
    return int(row.get("n", 1) or 0)


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage rounded to 1 decimal, None when whole is 0."""
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


# --- periods -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def months(self) -> list[str]:
        out: list[str] = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


@dataclass(frozen=True)
class Scope:
    state: str = ""
    model: str = ""
    agency_id: int | None = None
    # "my agencies": the agencies of the viewer's portfolio (None: no such filter)
    agency_ids: tuple[int, ...] | None = None
    # which date puts a complaint in the period: "received" (default) or "incident"
    basis: str = "received"

    @property
    def is_all(self) -> bool:
        return not (self.state or self.model or self.agency_id) and self.agency_ids is None


def agency_list_sql(column: str, agency_ids: tuple[int, ...]) -> str:
    """``column IN (1, 2, 3)`` for a portfolio (integers only), or a false condition."""
    if not agency_ids:
        return "1=0"
    return f"{column} IN ({', '.join(str(int(i)) for i in agency_ids)})"


# --- complaints ----------------------------------------------------------------------------

def monthly_trend(rows: Iterable[Mapping[str, Any]], period: Period) -> list[dict[str, Any]]:
    """Complaints received per month ("YYYY-MM" in ``month``), every month of the period.

    Periods longer than 36 months are shown by year instead (``year`` buckets)."""
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[str(row["month"])[:7]] += _n(row)
    months = period.months()
    if len(months) > 36:
        years: dict[str, int] = defaultdict(int)
        for key, value in counts.items():
            years[key[:4]] += value
        return [{"label": str(y), "count": years.get(str(y), 0)}
                for y in range(period.start.year, period.end.year + 1)]
    return [{"label": m, "count": counts.get(m, 0)} for m in months]


def yearly_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    years: dict[str, int] = defaultdict(int)
    for row in rows:
        years[str(row["month"])[:4]] += _n(row)
    return dict(sorted(years.items()))


def total(rows: Iterable[Mapping[str, Any]]) -> int:
    return sum(_n(r) for r in rows)


# --- allegations and findings --------------------------------------------------------------

def allegation_breakdown(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows: allegation_type, protected_characteristic, final_finding, n.

    Returns counts by type, by characteristic, findings by type, and the sustained rate
    (sustained / allegations with a merits finding) for profiling and for the rest."""
    by_type: dict[str, int] = defaultdict(int)
    by_char: dict[str, int] = defaultdict(int)
    findings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    findings_by_char: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sustained = {"profiling": 0, "other": 0}
    merits = {"profiling": 0, "other": 0}
    all_findings: dict[str, int] = defaultdict(int)
    total_n = 0
    for row in rows:
        n = _n(row)
        kind = row.get("allegation_type") or "other"
        char = row.get("protected_characteristic") or ""
        finding = row.get("final_finding") or ""
        total_n += n
        by_type[kind] += n
        if char:
            by_char[char] += n
        findings[kind][finding or "pending"] += n
        if char:
            findings_by_char[char][finding or "pending"] += n
        all_findings[finding or "pending"] += n
        group = "profiling" if kind == PROFILING else "other"
        if finding in MERITS:
            merits[group] += n
            if finding == "sustained":
                sustained[group] += n
    return {
        "total": total_n,
        "by_type": dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_characteristic": dict(sorted(by_char.items(), key=lambda kv: (-kv[1], kv[0]))),
        "findings_by_type": {k: dict(v) for k, v in sorted(findings.items())},
        "findings_by_characteristic": {k: dict(v) for k, v in sorted(findings_by_char.items())},
        "findings": dict(sorted(all_findings.items(), key=lambda kv: (-kv[1], kv[0]))),
        "sustained": sustained,
        "merits": merits,
        "sustained_rate": {g: share(sustained[g], merits[g]) for g in ("profiling", "other")},
    }


def closed_without_merits(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows: one per closed case (or bucket) with ``has_merits`` (bool) and ``n``.

    A case closed without a merits finding is one where no allegation received a sustained,
    not sustained, unfounded or exonerated final finding."""
    closed = 0
    without = 0
    for row in rows:
        n = _n(row)
        closed += n
        if not row.get("has_merits"):
            without += n
    return {"closed": closed, "without_merits": without, "share": share(without, closed)}


# --- durations and clocks ------------------------------------------------------------------

def percentile(histogram: Iterable[Mapping[str, Any]], q: float) -> int | None:
    """Nearest-rank percentile of a histogram of whole days (rows: days, n). None if empty."""
    pairs = sorted((int(r["days"]), _n(r)) for r in histogram if r.get("days") is not None)
    count = sum(n for _, n in pairs)
    if count == 0:
        return None
    rank = max(1, math.ceil(q / 100.0 * count))
    seen = 0
    for days, n in pairs:
        seen += n
        if seen >= rank:
            return days
    return pairs[-1][0]


def within(histogram: Iterable[Mapping[str, Any]], limit_days: int) -> dict[str, Any]:
    """How many of the durations (rows: days, n) are at most ``limit_days``."""
    done = 0
    on_time = 0
    for row in histogram:
        if row.get("days") is None:
            continue
        n = _n(row)
        done += n
        if int(row["days"]) <= limit_days:
            on_time += n
    return {"measured": done, "on_time": on_time, "late": done - on_time,
            "share": share(on_time, done)}


def clock_timeliness(rows: Iterable[Mapping[str, Any]], limit: timedelta, now: datetime
                     ) -> dict[str, Any]:
    """Rows: start, done (or None) per case. A case counts once it is done or overdue:
    on time when done within ``limit`` of start; late when done later, or not done and the
    limit has passed (``overdue``). Cases still within their time and not done are
    ``pending`` and left out of the share."""
    on_time = late = overdue = pending = 0
    for row in rows:
        start, done = row["start"], row.get("done")
        n = _n(row)
        if start is None:
            continue
        if done is not None:
            if done - start <= limit:
                on_time += n
            else:
                late += n
        elif now - start > limit:
            overdue += n
        else:
            pending += n
    measured = on_time + late + overdue
    return {"measured": measured, "on_time": on_time, "late": late, "overdue": overdue,
            "pending": pending, "share": share(on_time, measured)}


def ice_notice_timeliness(rows: Iterable[Mapping[str, Any]], calendar: Any, hours: float,
                          now: datetime) -> dict[str, Any]:
    """Rows: received_at, ice_notified_at (or None) for cases needing the ICE notice.
    On time when notified within ``hours`` weekday hours (clocks.BusinessCalendar)."""
    on_time = late = overdue = pending = 0
    for row in rows:
        received = row["received_at"]
        notified = row.get("ice_notified_at")
        n = _n(row)
        if notified is not None:
            if calendar.business_hours_between(received, notified) <= hours:
                on_time += n
            else:
                late += n
        elif calendar.business_hours_between(received, now) > hours:
            overdue += n
        else:
            pending += n
    measured = on_time + late + overdue
    return {"measured": measured, "on_time": on_time, "late": late, "overdue": overdue,
            "pending": pending, "share": share(on_time, measured)}


def disposition_summary(histogram: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"count": total(histogram), "median": percentile(histogram, 50),
            "p90": percentile(histogram, 90)}


# --- officers and agencies -----------------------------------------------------------------

def designation_status_on(row: Mapping[str, Any], day: date) -> str | None:
    """A designation's status on ``day`` from its dated events (revoked_on, suspended_on,
    suspension_lifted_on), so a past period shows the officers as they stood then; the current
    status where a date is missing. None when the designation was authorised after ``day``.
    (Only the latest suspension is dated: an earlier, lifted one is not seen.)"""
    authorised = row.get("authorised_on")
    if authorised is not None and authorised > day:
        return None
    current = row.get("status") or "active"
    revoked_on = row.get("revoked_on")
    if revoked_on is not None and revoked_on <= day:
        return "revoked"
    if current == "revoked" and revoked_on is None:
        return "revoked"
    suspended_on, lifted_on = row.get("suspended_on"), row.get("suspension_lifted_on")
    if suspended_on is not None:
        if suspended_on <= day and (lifted_on is None or lifted_on > day):
            return "suspended"
        return "active"
    return "suspended" if current == "suspended" else "active"


def officer_status(rows: Iterable[Mapping[str, Any]], today: date, training_cycle_days: int
                   ) -> dict[str, Any]:
    """Rows: one per designation: officer_id, status, authorisation_expires_on,
    training_completed_on, last_refresher_on, and when known authorised_on, suspended_on,
    suspension_lifted_on, revoked_on.

    Counts officers (not designations) as they stood on ``today`` (the period's end, or today):
    suspended pending adjudication, revoked, past their authorisation term (an active
    designation whose term ended before ``today``), stale on training (an active designation
    whose last training — refresher or initial — is older than the cycle, or missing), and the
    share of active officers current on training."""
    suspended: set[int] = set()
    revoked: set[int] = set()
    expired: set[int] = set()
    stale: set[int] = set()
    active: set[int] = set()
    cutoff = today - timedelta(days=training_cycle_days)
    for row in rows:
        officer = int(row["officer_id"])
        status = designation_status_on(row, today)
        if status is None:
            continue
        if status == "suspended":
            suspended.add(officer)
        elif status == "revoked":
            revoked.add(officer)
        else:
            active.add(officer)
            expires = row.get("authorisation_expires_on")
            if expires is not None and expires < today:
                expired.add(officer)
            trained = max([d for d in (row.get("last_refresher_on"),
                                       row.get("training_completed_on")) if d is not None],
                          default=None)
            if trained is None or trained < cutoff:
                stale.add(officer)
    return {
        "active": len(active),
        "suspended": len(suspended),
        "revoked": len(revoked),
        "expired": len(expired),
        "stale_training": len(stale),
        "current_training_share": share(len(active - stale), len(active)),
        "ids": {"suspended": sorted(suspended), "revoked": sorted(revoked),
                "expired": sorted(expired), "stale_training": sorted(stale)},
    }


def inactive_agencies(agencies: Iterable[Mapping[str, Any]], active_ids: Iterable[int]
                      ) -> list[dict[str, Any]]:
    """Agencies (rows: id, name, state, models) with no oversight activity (no complaint
    received, closed or finding recorded) in the period; WSO agencies flagged."""
    seen = set(active_ids)
    out = []
    for row in agencies:
        if row["id"] in seen:
            continue
        models = sorted(set(row.get("models") or []))
        out.append({"id": row["id"], "name": row["name"], "state": row.get("state", ""),
                    "models": models, "wso": "WSO" in models})
    out.sort(key=lambda r: (not r["wso"], r["state"], r["name"]))
    return out


# --- recommendations -----------------------------------------------------------------------

def median(values: list[int]) -> float | None:
    """The median, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


RECOMMENDATION_STATES = ("acted", "declined", "overdue", "awaiting")


def recommendation_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows: drafted and issued (in the period), status, state (what ICE did about an issued
    one: acted | declined | overdue | awaiting), days_to_action (issue to ICE's first action),
    n. ``drafted`` counts every recommendation written in the period; ``issued`` those issued
    in it, split by what ICE did since: ``acted`` on (any target), ``declined`` (every target),
    ``unanswered`` (the rest; ``overdue`` of them past the office's follow-up date); and the
    median days from issue to ICE's action, over those acted on."""
    drafted = issued = 0
    by_status: dict[str, int] = defaultdict(int)
    states: dict[str, int] = dict.fromkeys(RECOMMENDATION_STATES, 0)
    days: list[int] = []
    for row in rows:
        n = _n(row)
        status = row.get("status") or ""
        if row.get("drafted", True):
            drafted += n
            by_status[status] += n
        if row.get("issued"):
            issued += n
            state = str(row.get("state")) if row.get("state") in states else "awaiting"
            states[state] += n
            if state == "acted" and row.get("days_to_action") is not None:
                days += [int(row["days_to_action"])] * n
    return {"drafted": drafted, "issued": issued, "by_status": dict(by_status),
            "acted": states["acted"], "declined": states["declined"],
            "unanswered": states["overdue"] + states["awaiting"], "overdue": states["overdue"],
            "median_days_to_action": median(days)}


# --- public statistics: small-cell suppression -------------------------------------------

SUPPRESS_BELOW = 5


def is_small(value: int | None) -> bool:
    return value is not None and 0 < value < SUPPRESS_BELOW


def suppress_table(cells: Mapping[str, int], total_value: int | None = None
                   ) -> tuple[dict[str, int | None], int | None]:
    """Suppress counts of 1–4 in one row of a table and protect them from being recomputed.

    Primary suppression: every count from 1 to 4 becomes None. Complementary suppression:
    when exactly one cell of the row is suppressed and a total is published, the next
    smallest non-zero cell is suppressed as well (otherwise total minus the others gives it
    away); when the total itself is 1–4 it is suppressed with every cell. The total is
    published only when it is 0 or at least 5.
    """
    out: dict[str, int | None] = {k: (None if is_small(v) else v) for k, v in cells.items()}
    if total_value is not None and is_small(total_value):
        return {k: (None if v else v) for k, v in cells.items()}, None
    suppressed = [k for k, v in out.items() if v is None]
    if len(suppressed) == 1 and total_value is not None:
        candidates = sorted((v, k) for k, v in out.items() if v)
        if candidates:
            out[candidates[0][1]] = None
        else:
            # the suppressed cell is the only non-zero one: the total would reveal it
            total_value = None
    return out, total_value


def suppressed_value(value: int | None) -> int | None:
    return None if is_small(value) else value


# --- rates per population policed ----------------------------------------------------------

def per_100k(count: int, population: int | None) -> float | None:
    """Complaints (or findings) per 100,000 people policed; None when the population is not
    known (never a rate over an unknown or zero denominator)."""
    if not population or population <= 0:
        return None
    return count * 100_000 / population


def population_rates(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Rows: one per agency with id, name, state, population (or None), complaints,
    sustained. Returns per-agency rates (agencies whose population is known and that have a
    complaint, highest complaint rate first) and per-state rates over the agencies of the state
    whose population is known; ``unknown`` counts complaints at agencies of unknown
    population (left out of every rate)."""
    agencies: list[dict[str, Any]] = []
    states: dict[str, dict[str, int]] = defaultdict(lambda: {"population": 0, "complaints": 0,
                                                             "sustained": 0, "agencies": 0})
    unknown = 0
    for row in rows:
        complaints, sustained = int(row.get("complaints") or 0), int(row.get("sustained") or 0)
        population = row.get("population")
        if not population:
            unknown += complaints
            continue
        state = states[row["state"]]
        state["population"] += int(population)
        state["complaints"] += complaints
        state["sustained"] += sustained
        state["agencies"] += 1
        if complaints or sustained:
            agencies.append({**row, "complaints": complaints, "sustained": sustained,
                             "complaint_rate": per_100k(complaints, population),
                             "sustained_rate": per_100k(sustained, population)})
    agencies.sort(key=lambda a: (-(a["complaint_rate"] or 0), a["state"], a["name"]))
    by_state = [{"state": code, **v,
                 "complaint_rate": per_100k(v["complaints"], v["population"]),
                 "sustained_rate": per_100k(v["sustained"], v["population"])}
                for code, v in sorted(states.items()) if v["complaints"] or v["sustained"]]
    return {"agencies": agencies, "states": by_state, "unknown_population_complaints": unknown}
