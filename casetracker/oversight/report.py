"""The periodic oversight report: the dashboard's figures and charts, the early-intervention
flags, the recommendations issued and an appendix of agencies, rendered to PDF by the reports
package (reports/rendering.render_pdf, template templates/reports/pdf/oversight_report.html.j2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from casetracker.oversight import flag_services, services, views
from casetracker.oversight.metrics import Period, Scope
from casetracker.settings import get_settings

TEMPLATE = "oversight_report.html.j2"


async def build_report_context(period: Period, scope: Scope,
                               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    def step(name: str) -> None:
        if progress:
            progress(name)

    metrics = await services.load_metrics(period, scope)
    step("metrics")
    dashboard = views.build_dashboard(metrics)
    as_of = min(period.end, datetime.now(UTC).date())
    flags = await flag_services.current_flags(as_of)
    if scope.agency_id or scope.state:
        flags = [f for f in flags if _flag_in_scope(f, scope)]
    step("flags")
    appendix = await services.agency_appendix(period, scope)
    recommendations = await services.issued_recommendations(period, scope)
    step("appendix")
    scope_label = describe_scope(scope, await services.filter_choices())
    return {
        "d": dashboard,
        "flags": flags,
        "flags_as_of": as_of,
        "appendix": appendix,
        "issued_recommendations": recommendations,
        "scope_label": scope_label,
        "organisation": get_settings().organisation_name,
        "doc": {
            "title": f"Oversight report {period.start.isoformat()} – {period.end.isoformat()}",
            "organisation": get_settings().organisation_name,
            "subtitle": "Periodic oversight report · " + scope_label,
            "running_header": f"Oversight report {period.start.isoformat()} – "
                              f"{period.end.isoformat()}",
            "classification": "Internal — aggregate figures and staff flags",
            "classification_public": False,
            "number": "",
            "date_label": datetime.now(UTC).date().isoformat(),
        },
    }


def _flag_in_scope(flag: dict[str, Any], scope: Scope) -> bool:
    detail = flag.get("subject_detail") or {}
    if flag["subject"] == "agency":
        if scope.agency_id and flag["subject_id"] != scope.agency_id:
            return False
        return not scope.state or detail.get("state") == scope.state
    return True


def describe_scope(scope: Scope, choices: dict[str, Any]) -> str:
    parts = []
    if scope.agency_id:
        names = {a["id"]: f"{a['name']} ({a['state']})" for a in choices["agencies"]}
        parts.append(names.get(scope.agency_id, f"agency #{scope.agency_id}"))
    if scope.state:
        parts.append(scope.state)
    if scope.model:
        parts.append(str(views.MODEL_LABELS.get(scope.model, scope.model)))
    return ", ".join(parts) or "All agencies"


def report_json(context: dict[str, Any]) -> dict[str, Any]:
    """The figures embedded in the PDF as data.json."""
    period: Period = context["d"]["period"]
    d = context["d"]
    return {
        "document": "oversight report",
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "scope": context["scope_label"],
        "complaints_received": d["received"],
        "by_year": d["by_year"],
        "allegations": {r["key"]: r["count"] for r in d["type_rows"]},
        "sustained_rate": d["sustained_rate"],
        "closed": d["closed"],
        "timeliness": [{k: r[k] for k in ("label", "measured", "on_time", "share")}
                       for r in d["timeliness_rows"]],
        "disposition_days": d["disposition"],
        "officers": {k: v for k, v in d["officers"].items() if k != "ids"},
        "flags": [{"subject_type": f["subject"], "subject": f["subject_label"],
                   "rule": f["rule"].key,
                   "level": f["level"], "count": f["count"]} for f in context["flags"]],
    }


async def build_report_pdf(period: Period, scope: Scope,
                           progress: Callable[[str], None] | None = None) -> bytes:
    from casetracker.reports.rendering import render_pdf

    context = await build_report_context(period, scope, progress)
    title = f"Oversight report {period.start.isoformat()} to {period.end.isoformat()}"
    pdf = await render_pdf(TEMPLATE, context, title=title, attachment_json=report_json(context))
    if progress:
        progress("render")
    return pdf
