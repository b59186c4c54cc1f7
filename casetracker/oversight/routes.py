"""Oversight pages: the dashboard, the periodic report (PDF), early-intervention flags and
rules (staff), and the public statistics with their open-data downloads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from casetracker.audit import services as audit
from casetracker.auth.guards import PUBLIC, actor_from_connection, requires
from casetracker.auth.permissions import Permission as P
from casetracker.errors import NotFound, ValidationFailed
from casetracker.oversight import flag_services, portfolio, public, rates, report, services, views
from casetracker.oversight.forms import parse_filters
from casetracker.registry import pickers
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PUBLIC_OPT = {PUBLIC: True, "skip_session": True}


async def _filters(request: Request[Any, Any, Any], years: Any = None
                   ) -> tuple[Any, Any, dict[str, str], dict[str, str]]:
    years = years or await services.data_years()
    params = {key: request.query_params.get(key) for key in request.query_params}
    if "agency_q" in params:  # the agency picker: what was chosen, not a stale id
        picked = await pickers.read_picker(params, "agency", "agency")
        params["agency"] = str(picked.id) if picked.id else ""
    return parse_filters(params, data_years=years)


@get("/oversight", name="oversight.dashboard", guards=[requires(P.OVERSIGHT_METRICS)])
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    years = await services.data_years()
    period, scope, errors, values = await _filters(request, years)
    if request.query_params.get("mine") == "1":  # only the agencies of my portfolio
        scope = replace(scope, agency_ids=await portfolio.my_agency_ids(
            actor_from_connection(request).id))  # type: ignore[union-attr]
        values = {**values, "mine": "1"}
    metrics = await services.load_metrics(period, scope)
    agency_pick = await pickers.read_picker(
        request.query_params if "agency_q" in request.query_params else {}, "agency", "agency",
        current_id=scope.agency_id)
    if agency_pick.needs_choice and not pickers.finding(request.query_params):
        errors = {**errors, **pickers.picker_errors(agency_pick)}
    context = {"d": views.build_dashboard(metrics),
               "choices": await services.filter_choices(), "errors": errors, "values": values,
               "years": years, "agency_pick": agency_pick,
               "rates": await rates.load_population_rates(period, scope)}
    return Template("oversight/dashboard.html.j2", context=context,
                    status_code=422 if errors else 200)


@get("/oversight/report.pdf", name="oversight.report", guards=[requires(P.OVERSIGHT_METRICS)])
async def report_pdf(request: Request[Any, Any, Any]) -> Response[bytes]:
    period, scope, errors, _values = await _filters(request)  # noqa: RUF059
    actor = actor_from_connection(request)
    if request.query_params.get("mine") == "1" and actor is not None:
        scope = replace(scope, agency_ids=await portfolio.my_agency_ids(actor.id))
    pdf = await report.build_report_pdf(period, scope)
    if actor is not None:
        await audit.record("oversight.report.generate", actor=actor, object_type="report",
                           details={"from": period.start.isoformat(),
                                    "to": period.end.isoformat(), "state": scope.state,
                                    "model": scope.model, "agency": scope.agency_id})
    name = f"oversight-report-{period.start.isoformat()}-{period.end.isoformat()}.pdf"
    return Response(content=pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _as_of(raw: str | None) -> tuple[date, str | None]:
    today = datetime.now(UTC).date()
    if not raw:
        return today, None
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return today, _("Enter a date as YYYY-MM-DD.")


async def _flags_context(as_of: date, show: str, mine: tuple[int, ...] | None = None
                         ) -> dict[str, Any]:
    flags = await flag_services.current_flags(as_of)
    if show == "open":
        flags = [f for f in flags if not f["acknowledgement"]]
    if mine is not None:  # "my agencies": flags about them and their officers
        flags = [f for f in flags if portfolio.flag_agency_id(f) in mine]
    return {"flags": flags, "as_of": as_of, "show": show, "mine": mine is not None,
            "officer_flags": [f for f in flags if f["subject"] == "officer"],
            "agency_flags": [f for f in flags if f["subject"] == "agency"],
            "rules": await flag_services.load_rules()}


@get("/oversight/flags", name="oversight.flags", guards=[requires(P.OVERSIGHT_FLAGS)])
async def flags_page(request: Request[Any, Any, Any]) -> Template:
    as_of, error = _as_of(request.query_params.get("as_of"))
    show = "all" if request.query_params.get("show") == "all" else "open"
    mine = None
    if request.query_params.get("mine") == "1":
        mine = await portfolio.my_agency_ids(actor_from_connection(request).id)  # type: ignore[union-attr]
    context = await _flags_context(as_of, show, mine)
    context.update(errors={"as_of": error} if error else {}, notes={})
    return Template("oversight/flags.html.j2", context=context)


@post("/oversight/flags/acknowledge", name="oversight.flags.acknowledge",
      guards=[requires(P.OVERSIGHT_FLAGS)])
async def acknowledge(request: Request[Any, Any, Any], data: FormBody) -> Any:
    actor = actor_from_connection(request)
    key = str(data.get("flag_key", ""))[:200]
    note = str(data.get("note", ""))
    as_of, _error = _as_of(str(data.get("as_of", "")))
    try:
        await flag_services.FlagService(actor).acknowledge(key, note, as_of=as_of)  # type: ignore[arg-type]
    except (ValidationFailed, NotFound) as exc:
        context = await _flags_context(as_of, "all")
        message = exc.errors.get("note") if isinstance(exc, ValidationFailed) else exc.message
        context.update(errors={"form": message}, notes={key: note}, failed_key=key)
        return Template("oversight/flags.html.j2", context=context, status_code=422)
    flash(request, _("The flag was acknowledged and the intervention recorded."))
    return Redirect(path=f"/oversight/flags?as_of={as_of.isoformat()}", status_code=303)


@post("/oversight/flags/acknowledge-many", name="oversight.flags.acknowledge_many",
      guards=[requires(P.OVERSIGHT_FLAGS)])
async def acknowledge_many(request: Request[Any, Any, Any]) -> Any:
    """Several flags acknowledged with one note (each recorded and audited on its own)."""
    actor = actor_from_connection(request)
    form = await request.form()
    keys = [str(k)[:200] for k in form.getall("flag_key", [])][:500]
    note = str(form.get("note", ""))
    as_of, _error = _as_of(str(form.get("as_of", "")))
    try:
        count = await flag_services.FlagService(actor).acknowledge_many(  # type: ignore[arg-type]
            keys, note, as_of=as_of)
    except (ValidationFailed, NotFound) as exc:
        context = await _flags_context(as_of, "open")
        message = (exc.errors.get("note") or exc.errors.get("flags")
                   if isinstance(exc, ValidationFailed) else exc.message)
        context.update(errors={"form": message}, bulk_note=note, chosen=set(keys), notes={})
        return Template("oversight/flags.html.j2", context=context, status_code=422)
    flash(request, _("%(n)s flags were acknowledged with the same note.", n=count))
    return Redirect(path=f"/oversight/flags?as_of={as_of.isoformat()}", status_code=303)


@get("/oversight/flags/rules", name="oversight.rules", guards=[requires(P.OVERSIGHT_FLAGS)])
async def rules_page(request: Request[Any, Any, Any]) -> Template:
    return Template("oversight/rules.html.j2",
                    context={"rules": await flag_services.load_rules(), "errors": {},
                             "values": {}})


@post("/oversight/flags/rules", name="oversight.rules.save", guards=[requires(P.OVERSIGHT_FLAGS)])
async def save_rules(request: Request[Any, Any, Any], data: FormBody) -> Any:
    actor = actor_from_connection(request)
    rules = await flag_services.load_rules()
    errors: dict[str, str] = {}
    parsed: dict[str, dict[str, Any]] = {}
    for rule in rules:
        values: dict[str, Any] = {}
        for field in ("window_days", "warning_at", "critical_at"):
            name = f"{rule.key}__{field}"
            raw = str(data.get(name, "")).strip()
            if not raw.isdigit() or len(raw) > 5 or (field == "window_days" and int(raw) < 1):
                errors[name] = _("Enter a whole number (window: at least 1 day).")
                continue
            values[field] = int(raw)
        values["enabled"] = str(data.get(f"{rule.key}__enabled", "")) in ("1", "on", "true")
        if ("warning_at" in values and "critical_at" in values and values["warning_at"]
                and values["critical_at"] and values["warning_at"] > values["critical_at"]):
            errors[f"{rule.key}__warning_at"] = _("The warning level must not exceed the "
                                                  "critical level.")
        parsed[rule.key] = values
    if errors:
        return Template("oversight/rules.html.j2",
                        context={"rules": rules, "errors": errors, "values": dict(data)},
                        status_code=422)
    for rule in rules:
        values = parsed[rule.key]
        changed = (values["window_days"] != rule.window_days or values["warning_at"] !=
                   rule.warning_at or values["critical_at"] != rule.critical_at or
                   values["enabled"] != rule.enabled)
        if changed:
            await flag_services.save_rule(actor, rule.key, values)  # type: ignore[arg-type]
    flash(request, _("The early-intervention rules were saved."))
    return Redirect(path="/oversight/flags/rules", status_code=303)


# --- public statistics ---------------------------------------------------------------------

def _year(request: Request[Any, Any, Any]) -> int | None:
    raw = request.query_params.get("year") or ""
    return int(raw) if raw.isdigit() and len(raw) == 4 else None


@get("/statistics", name="public.statistics", opt=PUBLIC_OPT)
async def statistics_page(request: Request[Any, Any, Any]) -> Template:
    stats = await public.load_public_statistics(_year(request))
    return Template("public/statistics.html.j2", context={"stats": stats})


@get("/statistics.csv", name="public.statistics.csv", opt=PUBLIC_OPT)
async def statistics_csv(request: Request[Any, Any, Any]) -> Response[str]:
    stats = await public.load_public_statistics(_year(request))
    name = f"complaint-statistics-{stats['year'] or 'all-years'}.csv"
    return Response(content=public.to_csv(stats), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@get("/statistics.json", name="public.statistics.json", opt=PUBLIC_OPT)
async def statistics_json(request: Request[Any, Any, Any]) -> Response[str]:
    stats = await public.load_public_statistics(_year(request))
    return Response(content=json.dumps(public.to_json(stats), ensure_ascii=False, indent=1),
                    media_type="application/json")


QUEUE_LIMIT = 2000


@get("/oversight/ice-responses", name="oversight.ice_responses",
     guards=[requires(P.OVERSIGHT_METRICS)])
async def ice_responses(request: Request[Any, Any, Any]) -> Template:
    """The queue of issued recommendations ICE has not answered, overdue first."""
    from casetracker.reports.responses import overdue_queue
    from casetracker.reports.tables import Recommendation

    rows = await overdue_queue(limit=QUEUE_LIMIT)
    issued = await Recommendation.count().where(Recommendation.status == "issued")
    mine = request.query_params.get("mine") == "1"
    if mine:  # only the agencies of my portfolio
        mine_ids = set(await portfolio.my_agency_ids(
            actor_from_connection(request).id))  # type: ignore[union-attr]
        ids = [r["id"] for r in rows]
        agency_of = {r["id"]: r["agency"] for r in await Recommendation.select(
            Recommendation.id, Recommendation.agency).where(
            Recommendation.id.is_in(ids))} if ids else {}
        rows = [r for r in rows if agency_of.get(r["id"]) in mine_ids]
    return Template("oversight/ice_responses.html.j2", context={
        "rows": rows, "overdue": sum(1 for r in rows if r["state"] == "overdue"),
        "limit": QUEUE_LIMIT, "limited": issued > QUEUE_LIMIT, "mine": mine})


@post("/oversight/portfolio/{agency_id:int}", name="oversight.portfolio",
      guards=[requires(P.OVERSIGHT_FLAGS)])
async def portfolio_change(request: Request[Any, Any, Any], agency_id: int,
                           data: FormBody) -> Any:
    """Add an agency to my agencies, or remove it; back to the agency's page."""
    service = portfolio.PortfolioService(actor_from_connection(request))  # type: ignore[arg-type]
    if data.get("action") == "remove":
        await service.remove(agency_id)
        flash(request, _("Removed from your agencies."))
    else:
        await service.add(agency_id)
        flash(request, _("Added to your agencies: its early-intervention flags will notify "
                         "you, and dashboards and flags can show only your agencies."))
    return Redirect(path=request.app.route_reverse("registry.agency", agency_id=agency_id),
                    status_code=303)


ROUTE_HANDLERS = [dashboard, portfolio_change, report_pdf, ice_responses, flags_page,
                  acknowledge, acknowledge_many, rules_page, save_rules,
                  statistics_page, statistics_csv, statistics_json]
