"""Complaints and sustained findings per 100,000 people policed, by agency and state, for the
oversight dashboard. The population policed comes from the registry (``registry
import-history``); agencies whose population is unknown are left out of every rate."""

from __future__ import annotations

from typing import Any

from casetracker.oversight import metrics
from casetracker.oversight.metrics import Period, Scope
from casetracker.oversight.services import _raw, case_where, scope_clauses


async def load_population_rates(period: Period, scope: Scope) -> dict[str, Any]:
    w = case_where(period, scope)
    complaints = await _raw(f"SELECT c.agency AS id, COUNT(*) AS n FROM ct_case c{w.joins} "  # noqa: S608
                            f"WHERE c.agency IS NOT NULL AND {w.sql()} GROUP BY 1", *w.args)
    sustained = await _raw(
        "SELECT c.agency AS id, COUNT(*) AS n FROM allegation al JOIN ct_case c ON c.id = "  # noqa: S608
        f"al.\"case\"{w.joins} WHERE c.agency IS NOT NULL AND al.final_finding = 'sustained' "
        f"AND {w.sql()} GROUP BY 1", *w.args)
    parts: list[str] = ["1=1"]
    args: list[Any] = []
    scope_clauses(scope, parts, args,
                  model="EXISTS (SELECT 1 FROM agreement mg WHERE mg.agency = a.id AND "
                        "mg.model = {})")
    agencies = await _raw(
        "SELECT a.id AS id, a.name AS name, a.state AS state, a.population_policed AS "  # noqa: S608
        f"population FROM agency a WHERE {' AND '.join(parts)}", *args)
    by_complaints = {r["id"]: int(r["n"]) for r in complaints}
    by_sustained = {r["id"]: int(r["n"]) for r in sustained}
    rows = [{**a, "complaints": by_complaints.get(a["id"], 0),
             "sustained": by_sustained.get(a["id"], 0)} for a in agencies]
    return metrics.population_rates(rows)
