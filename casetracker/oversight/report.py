"""The periodic oversight report: the dashboard's figures and charts, the early-intervention
flags, the recommendations issued and an appendix of agencies, rendered to PDF by the reports
package (reports/rendering.render_pdf, template templates/reports/pdf/oversight_report.html.j2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from casetracker.oversight import flag_services, services, views
from casetracker.oversight.metrics import Period, Scope
from casetracker.settings import get_settings
from casetracker.web.i18n import format_day
from casetracker.web.i18n import gettext as _

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
    active, quiet = split_appendix(appendix)
    return {
        "d": dashboard,
        "flags": flags,
        "flag_lines": [flag_line(f, as_of) for f in flags],
        "flags_as_of": as_of,
        "appendix": active,
        "quiet_agencies": quiet,
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


def split_appendix(appendix: list[dict[str, Any]]
                   ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The agencies with activity in the period (listed one by one), and those without: a count
    and a short table by 287(g) model (hundreds of quiet agencies used to fill pages)."""
    active = [a for a in appendix if a["complaints"] or a["allegations"]]
    quiet = [a for a in appendix if not (a["complaints"] or a["allegations"])]
    by_model: dict[str, int] = {}
    for agency in quiet:
        models = sorted({m.split(" ", 1)[0] for m in agency["models"]}) or [""]
        for model in models:
            by_model[model] = by_model.get(model, 0) + 1
    rows = [{"model": model, "label": _model_words(model), "agencies": count}
            for model, count in sorted(by_model.items(), key=lambda kv: (kv[0] == "", kv[0]))]
    return active, {"count": len(quiet), "rows": rows,
                    "several_models": any(len({m.split(" ", 1)[0] for m in a["models"]}) > 1
                                          for a in quiet)}


def _model_words(model: str) -> str:
    return {"JEM": _("Jail Enforcement Model (JEM)"),
            "WSO": _("Warrant Service Officer (WSO)"),
            "TFM": _("Task Force Model (TFM)"),
            "": _("No agreement on record")}.get(model, model)


def flag_line(flag: dict[str, Any], as_of: date) -> str:
    """A flag in words: "Critical: Daniel Reyes (officer, Alpha County Sheriff's Office):
    3 sustained racial-profiling allegations in the 365 days to December 31, 2024 (threshold
    2)."""
    rule = flag["rule"]
    measure = {"complaints": _("complaints"),
               "profiling": _("racial-profiling allegations"),
               "sustained_profiling": _("sustained racial-profiling allegations")}.get(
        rule.measure, rule.measure.replace("_", " "))
    detail = flag.get("subject_detail") or {}
    if flag["subject"] == "officer":
        who = _("%(name)s (officer, %(agency)s)", name=flag["subject_label"],
                agency=detail.get("agency") or _("agency unknown"))
    else:
        who = _("%(name)s (agency, %(state)s)", name=flag["subject_label"],
                state=detail.get("state") or "")
    level = _("Critical") if flag["level"] == "critical" else _("Warning")
    text = _("%(level)s: %(who)s: %(count)s %(measure)s in the %(days)s days to %(day)s "
             "(threshold %(threshold)s).", level=level, who=who, count=flag["count"],
             measure=measure, days=rule.window_days, day=format_day(as_of),
             threshold=flag["threshold"])
    ack = flag.get("acknowledgement")
    if ack:
        note = ack["note"] if len(ack["note"]) <= 120 else ack["note"][:117] + "..."
        text += " " + _("Acknowledged %(day)s by %(name)s: %(note)s",
                        day=format_day(ack["acknowledged_at"]) if ack.get("acknowledged_at")
                        else "", name=ack.get("by_name") or _("someone"), note=note)
    return text


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
