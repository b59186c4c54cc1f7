"""Loading the rows behind the oversight measures: a handful of GROUP BY queries per page,
whatever the number of cases, then the pure functions of metrics.py.

The period selects cases *received* in it (a cohort): their allegations, findings, clocks and
days to disposition are measured, so every figure links to the case list filtered by
``received_from``/``received_to``. Officer figures are a snapshot as of the period's end date
(or today when that is earlier). Agencies count as active in the period when a complaint about
them was received or closed, or a finding was recorded, in it.
"""

from __future__ import annotations

import time as _clock
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casetracker import db
from casetracker.cases.clocks import BusinessCalendar
from casetracker.cases.tables import Case
from casetracker.oversight import metrics as m
from casetracker.oversight.metrics import Period, Scope
from casetracker.settings import get_settings

MERITS_SQL = "('sustained', 'not_sustained', 'unfounded', 'exonerated')"


def _sqlite() -> bool:
    return db.is_sqlite()


def month_expr(column: str) -> str:
    """The "YYYY-MM" of a timestamp column in the configured time zone (a complaint received at
    23:30 on 31 January, local time, counts in January, as the period bounds do)."""
    if _sqlite():
        return f"ct_local_month({column})"  # registered on each connection (casetracker.db)
    zone = get_settings().timezone
    ZoneInfo(zone)  # a real zone name, so it is safe to quote into the statement
    if "'" in zone:
        raise ValueError(f"bad time zone {zone!r}")
    return f"to_char({column} AT TIME ZONE '{zone}', 'YYYY-MM')"


def incident_month_expr(column: str) -> str:
    """The "YYYY-MM" of a date column (incident dates have no time or zone)."""
    if _sqlite():
        return f"substr({column}, 1, 7)"
    return f"to_char({column}, 'YYYY-MM')"


def days_expr(later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later`` (floor)."""
    if _sqlite():
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period's first and after-last instants, as local days (settings.timezone), the
    same boundaries the case list uses for received_from/received_to."""
    tz = BusinessCalendar.from_settings(get_settings()).tz
    start = datetime.combine(period.start, time(), tz).astimezone(UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


@dataclass
class Where:
    """A WHERE clause over ``ct_case c`` (and the joins it needs), with its arguments."""

    parts: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    joins: str = ""

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "1=1"


def case_where(period: Period | None, scope: Scope, *, alias: str = "c",
               data_range: tuple[datetime, datetime] | None = None) -> Where:
    """``data_range`` (first and last received_at in the database): when the period covers it
    the period condition is left out, so "all years" reads the tables without a join."""
    where = Where()
    if period is not None and data_range is not None and scope.basis == "received":
        start, end = period_bounds(period)
        if start <= data_range[0] and data_range[1] < end:
            period = None
    if period is not None and scope.basis == "incident":
        # by incident date (a day, no time zone): complaints without one are left out
        where.parts.append(f"{alias}.incident_date >= {{}} AND {alias}.incident_date <= {{}}")
        where.args += [period.start, period.end]
    elif period is not None:
        start, end = period_bounds(period)
        where.parts.append(f"{alias}.received_at >= {{}} AND {alias}.received_at < {{}}")
        where.args += [start, end]
    if scope.agency_id:
        where.parts.append(f"{alias}.agency = {{}}")
        where.args.append(int(scope.agency_id))
    if scope.agency_ids is not None:
        where.parts.append(m.agency_list_sql(f"{alias}.agency", scope.agency_ids))
    if scope.state:
        where.joins += f" LEFT JOIN agency sa ON sa.id = {alias}.agency"
        where.parts.append(
            f"(sa.state = {{}} OR ({alias}.agency IS NULL AND {alias}.incident_state = {{}}))")
        where.args += [scope.state, scope.state]
    if scope.model:
        where.joins += f" LEFT JOIN agreement sg ON sg.id = {alias}.agreement"
        where.parts.append(
            f"(sg.model = {{}} OR ({alias}.agreement IS NULL AND EXISTS (SELECT 1 FROM agreement"  # noqa: S608
            f" xg WHERE xg.agency = {alias}.agency AND xg.model = {{}})))")
        where.args += [scope.model, scope.model]
    return where


async def _raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await Case.raw(sql, *args)


# --- the dashboard -------------------------------------------------------------------------

async def load_metrics(period: Period, scope: Scope, *, now: datetime | None = None
                       ) -> dict[str, Any]:
    """Every figure of the dashboard and the periodic report for ``period`` and ``scope``."""
    if now is not None:  # an explicit clock (tests, reports for a past date): no cache
        async with _read_session():
            return await _load_metrics(period, scope, now=now)
    async with _read_session():
        key = (get_settings().database_url, period, scope, datetime.now(UTC).date(),
               await _data_version())
        hit = _cache.get(key)
        if hit is not None and hit[0] > _clock.monotonic():
            return hit[1]
        result = await _load_metrics(period, scope)
    _cache[key] = (_clock.monotonic() + CACHE_SECONDS, result)
    while len(_cache) > CACHE_ENTRIES:
        _cache.pop(next(iter(_cache)))
    return result


# Figures are cached per period and scope for CACHE_SECONDS, and only while the data has not
# changed: the key holds the newest audit event (every change is audited in the same
# transaction) and the newest case and allegation ids, all read from primary-key indexes.
CACHE_SECONDS = 60
CACHE_ENTRIES = 32
_cache: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}


async def _data_version() -> tuple[Any, ...]:
    rows = await _raw("SELECT (SELECT MAX(seq) FROM audit_event) AS audit, (SELECT MAX(id) "
                      "FROM ct_case) AS cases, (SELECT MAX(id) FROM allegation) AS allegations")
    row = rows[0] if rows else {}
    return (row.get("audit"), row.get("cases"), row.get("allegations"))


def clear_cache() -> None:
    _cache.clear()


@asynccontextmanager
async def _read_session() -> AsyncIterator[None]:
    """Run a page's queries on one connection (SQLite: with a larger page cache), instead of
    one new connection per query."""
    engine = db.current_engine()
    if engine.current_transaction.get() is not None:
        yield
        return
    async with engine.transaction():
        if _sqlite():
            await Case.raw("PRAGMA cache_size = -65536")
        yield


async def data_range() -> tuple[datetime, datetime] | None:
    rows = await _raw("SELECT MIN(received_at) AS lo, MAX(received_at) AS hi FROM ct_case")
    if not rows or rows[0]["lo"] is None:
        return None
    return _as_dt(rows[0]["lo"]), _as_dt(rows[0]["hi"])  # type: ignore[return-value]


def _alleg_from(w: Where, table: str = "allegation", alias: str = "al") -> str:
    """FROM clause for allegation-level queries: joined to the case only when needed."""
    if not w.parts:
        return f"FROM {table} {alias} WHERE 1=1"
    return (f"FROM {table} {alias} JOIN ct_case c ON c.id = {alias}.\"case\"{w.joins} "
            f"WHERE {w.sql()}")


async def _load_metrics(period: Period, scope: Scope, *, now: datetime | None = None
                        ) -> dict[str, Any]:
    settings = get_settings()
    now = now or datetime.now(UTC)
    w = case_where(period, scope, data_range=await data_range())
    base = f"FROM ct_case c{w.joins} WHERE {w.sql()}"

    res_limit = settings.resolution_due_days
    results_limit = settings.results_due_days
    results_clock = "(c.results_due_at IS NOT NULL OR c.ice_notification_required = {})"
    if _sqlite():  # a correlated EXISTS, evaluated only for closed cases (short-circuit)
        merits_join = ""
        merits_test = ("EXISTS (SELECT 1 FROM allegation ma WHERE ma.\"case\" = c.id AND "  # noqa: S608
                       f"ma.final_finding IN {MERITS_SQL})")
    else:  # PostgreSQL: one hash join against the cases with a merits finding
        merits_join = (" LEFT JOIN (SELECT DISTINCT ma.\"case\" AS case_id FROM allegation ma "  # noqa: S608
                       f"WHERE ma.final_finding IN {MERITS_SQL}) mc ON mc.case_id = c.id")
        merits_test = "mc.case_id IS NOT NULL"
    # One scan of the cases for every per-month count (received, closed, closed with a merits
    # finding, overdue on each clock, needing the ICE notice) ...
    month = (month_expr("c.received_at") if scope.basis != "incident"
             else incident_month_expr("c.incident_date"))
    by_month = await _raw(
        f"SELECT {month} AS month, COUNT(*) AS n, "  # noqa: S608
        "SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END) AS closed, "
        f"SUM(CASE WHEN c.status = 'closed' AND (c.outcome IN {MERITS_SQL} OR {merits_test}) "
        "THEN 1 ELSE 0 END) AS closed_merits, "
        "SUM(CASE WHEN c.resolved_at IS NULL AND c.closed_at IS NULL AND c.status NOT IN "
        "('closed', 'declined', 'referred') AND c.received_at < {} "
        # "open, legacy" records (a pending disposition in imported history) run no clock
        "AND c.channel <> 'legacy' THEN 1 ELSE 0 END) AS resolution_overdue, "
        "SUM(CASE WHEN c.resolved_at IS NOT NULL AND c.results_reported_at IS NULL AND "
        f"{results_clock} AND c.resolved_at < {{}} THEN 1 ELSE 0 END) AS results_overdue, "
        "SUM(CASE WHEN c.ice_notification_required = {} THEN 1 ELSE 0 END) AS ice_required "
        f"FROM ct_case c{w.joins}{merits_join} WHERE {w.sql()} GROUP BY 1",
        now - timedelta(days=res_limit), True, now - timedelta(days=results_limit), True,
        *w.args)
    # ... and one for the durations (days to disposition, to resolution, to the results).
    resolved_col = "COALESCE(c.resolved_at, c.closed_at)"
    results_days = (f"CASE WHEN c.resolved_at IS NOT NULL AND {results_clock} THEN "
                    f"{days_expr('c.results_reported_at', 'c.resolved_at')} END")
    durations = await _raw(
        f"SELECT {days_expr('c.closed_at', 'c.received_at')} AS disposition, "
        f"{days_expr(resolved_col, 'c.received_at')} AS resolution, {results_days} AS results, "
        f"COUNT(*) AS n {base} AND (c.closed_at IS NOT NULL OR c.resolved_at IS NOT NULL) "
        "GROUP BY 1, 2, 3", True, *w.args)
    allegations = await _raw(
        "SELECT al.allegation_type AS allegation_type, al.protected_characteristic AS "
        "protected_characteristic, al.final_finding AS final_finding, COUNT(*) AS n "
        f"{_alleg_from(w)} GROUP BY 1, 2, 3", *w.args)
    ice_rows: list[dict[str, Any]] = []
    if any(int(r["ice_required"] or 0) for r in by_month):
        ice_rows = await _raw(
            f"SELECT c.received_at AS received_at, c.ice_notified_at AS ice_notified_at {base} "
            "AND c.ice_notification_required = {}", *w.args, True)

    months = [{"month": r["month"], "n": r["n"]} for r in by_month]
    closed = [{"has_merits": 1, "n": int(r["closed_merits"] or 0)} for r in by_month] + \
        [{"has_merits": 0, "n": int(r["closed"] or 0) - int(r["closed_merits"] or 0)}
         for r in by_month]

    def histogram(key: str) -> list[dict[str, Any]]:
        return [{"days": r[key], "n": r["n"]} for r in durations if r[key] is not None]

    disposition = histogram("disposition")
    calendar = BusinessCalendar.from_settings(settings)
    ice = _ice_timeliness(ice_rows, calendar, settings.ice_notice_business_hours, now)
    res = _add_overdue(m.within(histogram("resolution"), res_limit),
                       sum(int(r["resolution_overdue"] or 0) for r in by_month))
    rep = _add_overdue(m.within(histogram("results"), results_limit),
                       sum(int(r["results_overdue"] or 0) for r in by_month))

    breakdown = m.allegation_breakdown(allegations)
    trend = m.monthly_trend(months, period)
    legacy = await load_legacy_breakdown(w)
    as_of = min(period.end, now.date())
    return {
        "period": period,
        "scope": scope,
        "received": m.total(months),
        "trend": trend,
        "by_year": m.yearly_counts(months),
        "allegations": breakdown,
        "closed": m.closed_without_merits(closed),
        "timeliness": {
            "ice_notice": ice,
            "results": rep,
            "resolution": res,
            "disposition": m.disposition_summary(disposition),
        },
        "limits": {"ice_hours": settings.ice_notice_business_hours,
                   "results_days": results_limit, "resolution_days": res_limit},
        "officers": await load_officer_status(scope, as_of, settings.training_cycle_days),
        "inactive_agencies": await load_inactive_agencies(period, scope),
        "recommendations": await load_recommendation_counts(period, scope),
        "legacy": legacy,
        "as_of": as_of,
    }


def _add_overdue(result: dict[str, Any], overdue: int) -> dict[str, Any]:
    measured = result["measured"] + overdue
    return {**result, "overdue": overdue, "measured": measured,
            "share": m.share(result["on_time"], measured)}


def _ice_timeliness(rows: list[dict[str, Any]], calendar: BusinessCalendar, hours: int,
                    now: datetime) -> dict[str, Any]:
    quick_on_time = 0
    slow: list[dict[str, Any]] = []
    for row in rows:
        received = _as_dt(row["received_at"])
        notified = _as_dt(row["ice_notified_at"])
        # Clock hours bound weekday hours: notified within ``hours`` clock hours is on time.
        if (notified is not None and received is not None
                and notified - received <= timedelta(hours=hours)):
            quick_on_time += 1
            continue
        slow.append({"received_at": received, "ice_notified_at": notified})
    result = m.ice_notice_timeliness(slow, calendar, hours, now)
    result["on_time"] += quick_on_time
    result["measured"] += quick_on_time
    result["share"] = m.share(result["on_time"], result["measured"])
    return result


async def load_legacy_breakdown(w: Where) -> dict[str, Any]:
    """Imported records: allegations by original category and original final finding."""
    rows = await _raw(
        "SELECT ld.original_category AS category, ld.original_finding AS finding, COUNT(*) AS n "
        f"{_alleg_from(w, 'oversight_legacy_allegation', 'ld')} GROUP BY 1, 2", *w.args)
    by_category: dict[str, dict[str, int]] = {}
    findings: set[str] = set()
    for row in rows:
        by_category.setdefault(row["category"] or "", {})[row["finding"] or ""] = int(row["n"])
        findings.add(row["finding"] or "")
    totals = {k: sum(v.values()) for k, v in by_category.items()}
    ordered = dict(sorted(by_category.items(), key=lambda kv: (-totals[kv[0]], kv[0])))
    return {"by_category": ordered, "totals": totals,
            "findings": sorted(findings, key=lambda f: (f == "", f)),
            "total": sum(totals.values())}


def scope_clauses(scope: Scope, parts: list[str], args: list[Any], *, agency: str = "a.id",
                  model: str = "g.model = {}") -> None:
    """Append the scope's conditions (agency, state, model) for a query over agency ``a`` and
    agreement ``g``; ``agency`` and ``model`` name the column/condition where a query differs."""
    if scope.agency_id:
        parts.append(f"{agency} = {{}}")
        args.append(int(scope.agency_id))
    if scope.agency_ids is not None:
        parts.append(m.agency_list_sql(agency, scope.agency_ids))
    if scope.state:
        parts.append("a.state = {}")
        args.append(scope.state)
    if scope.model:
        parts.append(model)
        args.append(scope.model)


async def load_officer_status(scope: Scope, as_of: date, cycle_days: int) -> dict[str, Any]:
    parts: list[str] = ["1=1"]
    args: list[Any] = []
    scope_clauses(scope, parts, args)
    rows = await _raw(
        "SELECT d.officer AS officer_id, d.status AS status, d.authorisation_expires_on AS "  # noqa: S608
        "authorisation_expires_on, d.training_completed_on AS training_completed_on, "
        "d.last_refresher_on AS last_refresher_on, d.authorised_on AS authorised_on, "
        "d.suspended_on AS suspended_on, d.suspension_lifted_on AS suspension_lifted_on, "
        "d.revoked_on AS revoked_on FROM designation d JOIN agreement g ON "
        f"g.id = d.agreement JOIN agency a ON a.id = g.agency WHERE {' AND '.join(parts)}",
        *args)
    for row in rows:
        for key in ("authorisation_expires_on", "training_completed_on", "last_refresher_on",
                    "authorised_on", "suspended_on", "suspension_lifted_on", "revoked_on"):
            row[key] = _as_date(row[key])
    return m.officer_status(rows, as_of, cycle_days)


async def load_inactive_agencies(period: Period, scope: Scope) -> list[dict[str, Any]]:
    # an agreement folded into another by an agency merge is that other agreement
    parts: list[str] = ["g.status IN ('active', 'suspended')", "g.merged_into IS NULL"]
    args: list[Any] = []
    scope_clauses(scope, parts, args)
    rows = await _raw(
        "SELECT a.id AS id, a.name AS name, a.state AS state, g.model AS model FROM agency a "  # noqa: S608
        f"JOIN agreement g ON g.agency = a.id WHERE {' AND '.join(parts)}", *args)
    agencies: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = agencies.setdefault(row["id"], {"id": row["id"], "name": row["name"],
                                                "state": row["state"], "models": []})
        entry["models"].append(row["model"])
    if not agencies:
        return []
    start, end = period_bounds(period)
    active = await _raw(
        "SELECT DISTINCT c.agency AS id FROM ct_case c WHERE c.agency IS NOT NULL AND "
        "((c.received_at >= {} AND c.received_at < {}) OR (c.closed_at >= {} AND c.closed_at "
        "< {})) UNION SELECT DISTINCT c.agency AS id FROM allegation al JOIN ct_case c ON c.id "
        "= al.\"case\" WHERE c.agency IS NOT NULL AND al.final_at >= {} AND al.final_at < {}",
        start, end, start, end, start, end)
    return m.inactive_agencies(agencies.values(), [r["id"] for r in active])


async def _recommendation_rows(period: Period, scope: Scope) -> list[dict[str, Any]] | None:
    """Recommendations (reports package) written or issued in the period, in scope; each
    issued one with what ICE did as the office recorded it (reports.responses): its state
    (acted | declined | overdue | awaiting), the days from issue to ICE's first action, and the
    outcome in words. None when the reports tables are not there."""
    start, end = period_bounds(period)
    parts = ["((r.created_at >= {} AND r.created_at < {}) OR (r.issued_at >= {} AND "
             "r.issued_at < {}))"]
    args: list[Any] = [start, end, start, end]
    scope_clauses(scope, parts, args, agency="r.agency")
    try:
        rows = await _raw(
            "SELECT r.id AS id, r.number AS number, r.kind AS kind, r.action AS action, "  # noqa: S608
            "r.status AS status, r.subject AS subject, r.created_at AS created_at, "
            "r.issued_at AS issued_at, r.follow_up_on AS follow_up_on, "
            "r.viii_process AS viii_process, r.agreement AS agreement, a.name AS agency, "
            "a.state AS state, g.model AS model FROM recommendation r JOIN agency a ON a.id = "
            f"r.agency LEFT JOIN agreement g ON g.id = r.agreement WHERE {' AND '.join(parts)} "
            "ORDER BY r.id", *args)
    except Exception:
        return None
    from casetracker.reports import responses

    for row in rows:
        row["issued_at"], row["follow_up_on"] = _as_dt(row["issued_at"]), _as_date(
            row["follow_up_on"])
    summaries = await responses.outcomes_for(rows)
    for row in rows:
        created, issued = _as_dt(row["created_at"]), row["issued_at"]
        row["drafted"] = created is not None and start <= created < end
        row["issued"] = issued is not None and start <= issued < end
        summary = summaries.get(row["id"])
        row["state"] = summary["state"] if summary else ""
        row["days_to_action"] = summary["days_to_action"] if summary else None
        row["outcome"] = responses.outcome_words(row, summary) if summary else ""
    return rows


async def load_recommendation_counts(period: Period, scope: Scope) -> dict[str, Any]:
    """Recommendations drafted in the period, issued in it, and the outcomes of those issued."""
    rows = await _recommendation_rows(period, scope)
    if rows is None:
        return {**m.recommendation_counts([]), "available": False}
    return {**m.recommendation_counts(rows), "available": True}


async def issued_recommendations(period: Period, scope: Scope) -> list[dict[str, Any]]:
    """The recommendations issued in the period (for the periodic report)."""
    rows = await _recommendation_rows(period, scope) or []
    from casetracker.reports.viewmodels import local_date, long_date
    from casetracker.settings import get_settings

    zone = get_settings().timezone
    return [{"number": r["number"] or f"#{r['id']}", "agency": f"{r['agency']} ({r['state']})",
             "kind": r["kind"], "action": r["action"], "subject": r["subject"],
             "issued": long_date(local_date(r["issued_at"], zone)) if r["issued_at"] else "",
             "outcome": r["outcome"]}
            for r in rows if r["issued"]]


# --- filter choices ------------------------------------------------------------------------

async def filter_choices() -> dict[str, Any]:
    agencies = await _raw("SELECT id, name, state FROM agency WHERE merged_into IS NULL "
                          "ORDER BY state, name, id")
    states = sorted({a["state"] for a in agencies if a["state"]})
    return {"agencies": agencies, "states": states, "models": ["JEM", "WSO", "TFM"]}


async def data_years() -> tuple[int, int] | None:
    rows = await _raw("SELECT MIN(received_at) AS lo, MAX(received_at) AS hi FROM ct_case")
    if not rows or rows[0]["lo"] is None:
        return None
    return _as_dt(rows[0]["lo"]).year, _as_dt(rows[0]["hi"]).year  # type: ignore[union-attr]


async def agency_appendix(period: Period, scope: Scope) -> list[dict[str, Any]]:
    """Per agency in scope: models, complaints received in the period, allegations, sustained,
    designated officers (active)."""
    w = case_where(period, scope)
    cases = await _raw(f"SELECT c.agency AS id, COUNT(*) AS n FROM ct_case c{w.joins} WHERE "  # noqa: S608
                       f"{w.sql()} GROUP BY 1", *w.args)
    alleg = await _raw(
        "SELECT c.agency AS id, COUNT(*) AS n, SUM(CASE WHEN al.final_finding = 'sustained' "  # noqa: S608
        "THEN 1 ELSE 0 END) AS sustained, SUM(CASE WHEN al.allegation_type = 'racial_profiling' "
        f"THEN 1 ELSE 0 END) AS profiling FROM allegation al JOIN ct_case c ON c.id = "
        f"al.\"case\"{w.joins} WHERE {w.sql()} GROUP BY 1", *w.args)
    parts: list[str] = ["1=1"]
    args: list[Any] = []
    scope_clauses(scope, parts, args,
                  model="EXISTS (SELECT 1 FROM agreement mg WHERE mg.agency = a.id AND "
                        "mg.model = {})")
    agencies = await _raw(f"SELECT a.id AS id, a.name AS name, a.state AS state FROM agency a "  # noqa: S608
                          f"WHERE {' AND '.join(parts)} ORDER BY a.state, a.name, a.id", *args)
    agreements = await _raw("SELECT agency AS id, model, status FROM agreement")
    officers = await _raw(
        "SELECT g.agency AS id, COUNT(DISTINCT d.officer) AS n FROM designation d JOIN agreement"
        " g ON g.id = d.agreement WHERE d.status = 'active' GROUP BY 1")
    by_case = {r["id"]: int(r["n"]) for r in cases}
    by_alleg = {r["id"]: r for r in alleg}
    by_off = {r["id"]: int(r["n"]) for r in officers}
    models: dict[int, list[str]] = {}
    for row in agreements:
        models.setdefault(row["id"], []).append(f"{row['model']} ({row['status']})")
    out = []
    for a in agencies:
        al = by_alleg.get(a["id"], {})
        out.append({**a, "models": sorted(models.get(a["id"], [])),
                    "complaints": by_case.get(a["id"], 0),
                    "allegations": int(al.get("n") or 0),
                    "profiling": int(al.get("profiling") or 0),
                    "sustained": int(al.get("sustained") or 0),
                    "designated_officers": by_off.get(a["id"], 0)})
    return out
