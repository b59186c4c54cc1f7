"""Public statistics (open data): aggregate figures by period, agency and 287(g) model, with
small-cell suppression applied once here, so the page, the CSV and the JSON publish exactly
the same (suppressed) figures.

Suppression rule (documented in docs/oversight.md):
- primary: every count from 1 to 4 is withheld (shown "<5", null in JSON, empty in CSV with
  suppressed=1);
- complementary: each published table has a published total; if only one cell of it is
  withheld, the next smallest non-zero cell is withheld too, so the total minus the others
  cannot give the withheld one back; a total of 1–4 is withheld with all its cells;
- rates (sustained %) are published only when both their counts are published;
- no names: agencies are named, never complainants or officers.
"""

from __future__ import annotations

import csv
import io
import time as _clock
from datetime import UTC, date, datetime
from typing import Any

from casetracker.cases.tables import Case
from casetracker.oversight import metrics as m
from casetracker.oversight.services import (
    CACHE_ENTRIES,
    CACHE_SECONDS,
    _cache,
    _data_version,
    _read_session,
    month_expr,
    period_bounds,
)
from casetracker.oversight.views import FINDING_LABELS, MODEL_LABELS, TYPE_LABELS, label
from casetracker.settings import get_settings
from casetracker.web import i18n
from casetracker.web.i18n import gettext as _


def _table(name: str, title: str, dimension: str, cells: list[tuple[str, str, int]],
           total: int) -> dict[str, Any]:
    values, shown_total = m.suppress_table({k: v for k, _, v in cells}, total)
    return {
        "name": name, "title": title, "dimension": dimension,
        "rows": [{"key": k, "label": lab, "value": values[k], "suppressed": values[k] is None}
                 for k, lab, _ in cells],
        "total": shown_total, "total_suppressed": shown_total is None,
    }


async def load_public_statistics(year: int | None = None) -> dict[str, Any]:
    """The public figures (suppressed), cached like the dashboard's: a public page must not
    let anyone make the server aggregate the whole database on every request."""
    async with _read_session():
        key = ("public", get_settings().database_url, year, i18n.get_language(),
               datetime.now(UTC).date(), await _data_version())
        hit = _cache.get(key)
        if hit is not None and hit[0] > _clock.monotonic():
            return hit[1]
        result = await _load_public_statistics(year)
    _cache[key] = (_clock.monotonic() + CACHE_SECONDS, result)
    while len(_cache) > CACHE_ENTRIES:
        _cache.pop(next(iter(_cache)))
    return result


async def _load_public_statistics(year: int | None) -> dict[str, Any]:
    years = await Case.raw(
        f"SELECT {month_expr('received_at')} AS month, COUNT(*) AS n FROM ct_case GROUP BY 1")  # noqa: S608
    by_year = m.yearly_counts(years)
    available = [int(y) for y in by_year]
    if year is not None and year not in available:
        year = None
    if year is not None:
        start, end = period_bounds(m.Period(date(year, 1, 1), date(year, 12, 31)))
        where, args = "c.received_at >= {} AND c.received_at < {}", [start, end]
    else:
        where, args = "1=1", []
    agencies = await Case.raw(
        "SELECT c.agency AS id, a.name AS name, a.state AS state, COUNT(*) AS n FROM ct_case c "  # noqa: S608
        f"LEFT JOIN agency a ON a.id = c.agency WHERE {where} GROUP BY 1, 2, 3 ORDER BY 3, 2",
        *args)
    models = await Case.raw(
        "SELECT g.model AS model, COUNT(*) AS n FROM ct_case c LEFT JOIN agreement g ON g.id = "  # noqa: S608
        f"c.agreement WHERE {where} GROUP BY 1", *args)
    join = ' JOIN ct_case c ON c.id = al."case"' if year is not None else ""
    allegations = await Case.raw(
        "SELECT al.allegation_type AS allegation_type, al.final_finding AS final_finding, "  # noqa: S608
        f"COUNT(*) AS n FROM allegation al{join} WHERE {where} GROUP BY 1, 2", *args)

    total_cases = sum(int(r["n"]) for r in agencies)
    tables = []
    year_cells = [(str(y), str(y), int(n)) for y, n in by_year.items()]
    tables.append(_table("complaints_by_year", _("Complaints received by year"), "year",
                         year_cells, sum(v for _, _, v in year_cells)))
    agency_cells = [(str(r["id"] or "none"),
                     f"{r['name']} ({r['state']})" if r["id"] else _("Agency not identified"),
                     int(r["n"])) for r in agencies]
    tables.append(_table("complaints_by_agency", _("Complaints received by agency"), "agency",
                         agency_cells, total_cases))
    model_counts = {str(r["model"] or "none"): int(r["n"]) for r in models}
    model_cells = [(k, str(MODEL_LABELS[k]), model_counts.get(k, 0)) for k in MODEL_LABELS]
    model_cells.append(("none", _("Not linked to an agreement"), model_counts.get("none", 0)))
    tables.append(_table("complaints_by_model", _("Complaints received by 287(g) model"),
                         "model", model_cells, total_cases))
    by_type: dict[str, int] = {}
    findings: dict[str, dict[str, int]] = {"profiling": {}, "other": {}}
    for row in allegations:
        kind = row["allegation_type"] or "other"
        n = int(row["n"])
        by_type[kind] = by_type.get(kind, 0) + n
        group = "profiling" if kind == m.PROFILING else "other"
        finding = row["final_finding"] or "pending"
        findings[group][finding] = findings[group].get(finding, 0) + n
    type_cells = [(k, label(TYPE_LABELS, k), by_type.get(k, 0)) for k in TYPE_LABELS]
    tables.append(_table("allegations_by_type", _("Allegations by type"), "allegation_type",
                         type_cells, sum(by_type.values())))
    finding_keys = ["sustained", "not_sustained", "unfounded", "exonerated"]
    group_titles = {"profiling": _("Findings on racial-profiling allegations"),
                    "other": _("Findings on all other allegations")}
    rates: dict[str, Any] = {}
    for group in ("profiling", "other"):
        row = findings[group]
        other_closures = sum(v for k, v in row.items() if k not in finding_keys and
                             k != "pending")
        cells = [(k, label(FINDING_LABELS, k), row.get(k, 0)) for k in finding_keys]
        cells.append(("other_closure", _("Closed without a merits finding"), other_closures))
        cells.append(("pending", label(FINDING_LABELS, "pending"), row.get("pending", 0)))
        table = _table(f"findings_{group}", group_titles[group], "finding", cells,
                       sum(row.values()))
        tables.append(table)
        values = {r["key"]: r["value"] for r in table["rows"]}
        merits_cells = [values[k] for k in finding_keys]
        if any(v is None for v in merits_cells) or not sum(merits_cells):
            rates[group] = None
        else:
            rates[group] = m.share(values["sustained"] or 0, sum(merits_cells))
    return {
        "year": year,
        "years": available,
        "tables": tables,
        "sustained_rate": rates,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "suppression": {
            "threshold": m.SUPPRESS_BELOW,
            "rule": "Counts of 1 to 4 are withheld (null). When one cell of a table is withheld, "
                    "the next smallest non-zero cell is withheld too so the table total cannot "
                    "reveal it; a total of 1 to 4 is withheld with its cells. Rates are published "
                    "only when every count behind them is published.",
        },
    }


def to_json(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "period": str(stats["year"]) if stats["year"] else "all years",
        "generated_at": stats["generated_at"],
        "suppression": stats["suppression"],
        "sustained_rate_percent": stats["sustained_rate"],
        "tables": [
            {"name": t["name"], "title": t["title"], "dimension": t["dimension"],
             "rows": [{"key": r["key"], "label": r["label"], "count": r["value"],
                       "suppressed": r["suppressed"]} for r in t["rows"]],
             "total": t["total"], "total_suppressed": t["total_suppressed"]}
            for t in stats["tables"]],
    }


def to_csv(stats: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", "table", "dimension", "key", "label", "count", "suppressed"])
    period = str(stats["year"]) if stats["year"] else "all"
    for t in stats["tables"]:
        for r in t["rows"]:
            writer.writerow([period, t["name"], t["dimension"], r["key"], _safe(r["label"]),
                             "" if r["value"] is None else r["value"],
                             1 if r["suppressed"] else 0])
        writer.writerow([period, t["name"], t["dimension"], "total", "Total",
                         "" if t["total"] is None else t["total"],
                         1 if t["total_suppressed"] else 0])
    return out.getvalue()


def _safe(text: str) -> str:
    """Neutralise spreadsheet formulas in a CSV cell."""
    from casetracker.web.csv_safety import safe_cell

    return safe_cell(text)
