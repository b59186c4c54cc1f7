"""View-models shared by the dashboard page and the PDF report: labels, links to the case
list behind each figure, charts (SVG) and their tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from casetracker.oversight import svg
from casetracker.oversight.metrics import Period, Scope
from casetracker.settings import local_today
from casetracker.web.i18n import gettext as _
from casetracker.web.i18n import lazy_gettext as L

TYPE_LABELS: dict[str, Any] = {
    "racial_profiling": L("Racial profiling / bias"),
    "unlawful_stop": L("Unlawful stop"),
    "unlawful_detention": L("Unlawful detention or detainer"),
    "search": L("Unlawful search"),
    "force": L("Force"),
    "language_access": L("Language access"),
    "discourtesy": L("Discourtesy"),
    "other": L("Other"),
}
CHARACTERISTIC_LABELS: dict[str, Any] = {
    "race": L("Race or color"),
    "ethnicity": L("Ethnicity"),
    "national_origin": L("National origin"),
    "language": L("Language / limited English"),
    "immigration_status": L("Immigration or citizenship status"),
    "religion": L("Religion"),
    "sex": L("Sex"),
    "other": L("Other"),
}
FINDING_LABELS: dict[str, Any] = {
    "sustained": L("Sustained"),
    "not_sustained": L("Not sustained"),
    "unfounded": L("Unfounded"),
    "exonerated": L("Exonerated"),
    "policy_failure": L("Policy failure"),
    "training_failure": L("Training failure"),
    "withdrawn": L("Withdrawn"),
    "mediated": L("Mediated"),
    "officer_unidentified": L("Officer unidentified"),
    "complainant_unavailable": L("Complainant unavailable"),
    "administratively_closed": L("Administratively closed"),
    "referred": L("Referred"),
    "pending_litigation": L("Pending litigation"),
    "pending": L("No final finding yet"),
}
FINDING_ORDER = list(FINDING_LABELS)
MODEL_LABELS: dict[str, Any] = {
    "JEM": L("Jail Enforcement Model"),
    "WSO": L("Warrant Service Officer"),
    "TFM": L("Task Force Model"),
}


def label(mapping: dict[str, Any], key: str) -> str:
    return str(mapping.get(key, key.replace("_", " ").capitalize() if key else "—"))


def case_link(period: Period, scope: Scope, **extra: Any) -> str:
    """The case list (/cases) filtered to the cases behind a figure. Parameters: received_from,
    received_to, agency, model, state (the case's workflow status), allegation_type,
    characteristic, officer, overdue."""
    params: list[tuple[str, str]] = [("received_from", period.start.isoformat()),
                                     ("received_to", period.end.isoformat())]
    if scope.agency_id:
        params.append(("agency", str(scope.agency_id)))
    if scope.model:
        params.append(("model", scope.model))
    if scope.state:
        params.append(("agency_state", scope.state))
    for key, value in extra.items():
        if value not in (None, ""):
            params.append((key, str(value)))
    return "/cases?" + urlencode(params)


def filter_query(period: Period, scope: Scope) -> str:
    params = [("from", period.start.isoformat()), ("to", period.end.isoformat())]
    if scope.state:
        params.append(("state", scope.state))
    if scope.model:
        params.append(("model", scope.model))
    if scope.agency_id:
        params.append(("agency", str(scope.agency_id)))
    if scope.agency_ids is not None:
        params.append(("mine", "1"))
    if scope.basis == "incident":
        params.append(("by", "incident"))
    return urlencode(params)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def build_dashboard(metrics: dict[str, Any]) -> dict[str, Any]:
    """Everything the dashboard and the report show, ready for the templates."""
    period: Period = metrics["period"]
    scope: Scope = metrics["scope"]

    def link(**extra: Any) -> str:
        return case_link(period, scope, **extra)

    trend = [dict(t) for t in metrics["trend"]]
    by_month = len(trend) and len(trend[0]["label"]) == 7
    for t in trend:
        start, end = bucket_dates(t["label"])
        t["link"] = case_link(Period(max(start, period.start), min(end, period.end)), scope)
    trend_chart = svg.bar_chart(
        _("Complaints received per month") if by_month else _("Complaints received per year"),
        [t["label"] for t in trend], [t["count"] for t in trend])

    alleg = metrics["allegations"]
    types = list(alleg["by_type"].items())
    type_rows = [{"key": k, "label": label(TYPE_LABELS, k), "count": v,
                  "link": link(allegation_type=k)} for k, v in types]
    char_rows = [{"key": k, "label": label(CHARACTERISTIC_LABELS, k), "count": v,
                  "link": link(characteristic=k)}
                 for k, v in alleg["by_characteristic"].items()]
    findings_present = [f for f in FINDING_ORDER
                        if any(f in row for row in alleg["findings_by_type"].values())]
    findings_present += sorted({f for row in alleg["findings_by_type"].values() for f in row}
                               - set(findings_present))
    finding_rows = []
    for kind, _count in types:
        row = alleg["findings_by_type"].get(kind, {})
        finding_rows.append({"key": kind, "label": label(TYPE_LABELS, kind),
                             "cells": [row.get(f, 0) for f in findings_present],
                             "total": sum(row.values()), "link": link(allegation_type=kind)})
    findings_chart = svg.stacked_bars(
        _("Findings by allegation type"), [r["label"] for r in finding_rows],
        [label(FINDING_LABELS, f) for f in findings_present], [r["cells"] for r in finding_rows])
    char_finding_rows = []
    for char, row in alleg["findings_by_characteristic"].items():
        char_finding_rows.append({"label": label(CHARACTERISTIC_LABELS, char),
                                  "cells": [row.get(f, 0) for f in findings_present],
                                  "total": sum(row.values()),
                                  "link": link(characteristic=char)})

    t = metrics["timeliness"]
    limits = metrics["limits"]
    timeliness_rows = [
        {"label": _("ICE notified within %(h)s weekday hours", h=limits["ice_hours"]),
         **t["ice_notice"], "link": link()},
        {"label": _("Results reported within %(d)s days of resolution", d=limits["results_days"]),
         **t["results"], "link": link()},
        {"label": _("Resolved within %(d)s days", d=limits["resolution_days"]),
         **t["resolution"], "link": link()},
    ]
    timeliness_chart = svg.hbar_chart(
        _("Timeliness (% on time)"), [r["label"] for r in timeliness_rows],
        [r["share"] for r in timeliness_rows], max_value=100, value_suffix="%",
        empty_text=_("nothing to measure"))
    for row in timeliness_rows:
        row["overdue_link"] = link(overdue=1)

    officers = metrics["officers"]
    officer_rows = [
        {"label": _("Suspended pending adjudication"), "count": officers["suspended"]},
        {"label": _("Authority revoked"), "count": officers["revoked"]},
        {"label": _("Active, authorisation past its term"), "count": officers["expired"]},
        {"label": _("Active, training stale or missing"), "count": officers["stale_training"]},
    ]
    legacy = metrics["legacy"]
    # pre-formatted: the table can hold hundreds of categories
    legacy_rows = [{"category": cat or "—",
                    "cells": [f"{row.get(f, 0):,}" for f in legacy["findings"]],
                    "counts": [row.get(f, 0) for f in legacy["findings"]],
                    "total": f"{legacy['totals'][cat]:,}"}
                   for cat, row in legacy["by_category"].items()]
    closed = metrics["closed"]
    return {
        "period": period,
        "scope": scope,
        "filter_query": filter_query(period, scope),
        "received": metrics["received"],
        "received_link": link(),
        "by_year": metrics["by_year"],
        "trend": trend,
        "trend_by_month": by_month,
        "trend_chart": trend_chart,
        "allegations_total": alleg["total"],
        "type_rows": type_rows,
        "char_rows": char_rows,
        "findings": [label(FINDING_LABELS, f) for f in findings_present],
        "finding_rows": finding_rows,
        "char_finding_rows": char_finding_rows,
        "findings_chart": findings_chart,
        "sustained": alleg["sustained"],
        "merits": alleg["merits"],
        "sustained_rate": alleg["sustained_rate"],
        "profiling_link": link(allegation_type="racial_profiling"),
        "closed": closed,
        "closed_link": link(state="closed"),
        "timeliness_rows": timeliness_rows,
        "timeliness_chart": timeliness_chart,
        "disposition": t["disposition"],
        "officers": officers,
        "officer_rows": officer_rows,
        "inactive_agencies": metrics["inactive_agencies"],
        "inactive_by_model": inactive_by_model(metrics["inactive_agencies"]),
        "inactive_states": len({a["state"] for a in metrics["inactive_agencies"]}),
        "recommendations": metrics["recommendations"],
        "legacy": legacy,
        "legacy_findings": [f or "—" for f in legacy["findings"]],
        "legacy_rows": legacy_rows,
        "as_of": metrics["as_of"],
        "pct": pct,
        "finding_label": lambda f: label(FINDING_LABELS, f),
        "type_label": lambda k: label(TYPE_LABELS, k),
        "model_label": lambda k: label(MODEL_LABELS, k),
        "generated_at": datetime.now(UTC),
    }


def bucket_dates(label: str) -> tuple[date, date]:
    """First and last day of a "YYYY" or "YYYY-MM" bucket."""
    if len(label) == 4:
        return date(int(label), 1, 1), date(int(label), 12, 31)
    year, month = int(label[:4]), int(label[5:7])
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, 1), following - timedelta(days=1)


def default_period(today: date | None = None) -> Period:
    today = today or local_today()
    return Period(date(today.year, 1, 1), today)


def inactive_by_model(agencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The agencies without activity counted by 287(g) model, for print (a short table in
    place of one line per agency: hundreds of them filled dozens of pages). An agency with
    agreements of two models counts under each."""
    counts: dict[str, int] = {}
    for agency in agencies:
        for model in sorted(set(agency.get("models") or ())):
            counts[model] = counts.get(model, 0) + 1
    return [{"model": model, "label": f"{label(MODEL_LABELS, model)} ({model})",
             "agencies": count}
            for model, count in sorted(counts.items(), key=lambda kv: (kv[0] != "WSO", kv[0]))]
