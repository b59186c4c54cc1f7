"""Staff pages for lists: the dashboard, the case list (filters, search, keyset pages) and the
streaming CSV export. The JSON API lives in cases/api.py."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Stream

from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.guards import actor_from_connection, requires
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import case_visibility_filter
from casetracker.cases import listing, queues, saved_filters
from casetracker.cases.api import API_ROUTE_HANDLERS
from casetracker.cases.controllers import requires_case_access
from casetracker.errors import ValidationFailed
from casetracker.web.csv_safety import safe_cell
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _actor(request: Request[Any, Any, Any]) -> Actor:
    actor = actor_from_connection(request)
    assert actor is not None  # the session guard let the request through
    return actor


def labels() -> dict[str, dict[str, str]]:
    """Human labels for the list's codes (the workflow's own, when its rules module exists)."""
    try:
        from casetracker.cases import rules

        status = {k: str(v) for k, v in rules.STATUS_LABELS.items()}
        allegation = {k: str(v) for k, v in rules.ALLEGATION_LABELS.items()}
        characteristic = {k: str(v) for k, v in rules.PROTECTED_CHARACTERISTICS.items()}
    except (ImportError, AttributeError):  # pragma: no cover - rules.py is the workflow's
        status = {s: s.replace("_", " ").capitalize() for s in listing.STATES}
        allegation = {a: a.replace("_", " ").capitalize() for a in listing.ALLEGATION_TYPES}
        characteristic = {c: c.replace("_", " ").capitalize() for c in listing.CHARACTERISTICS}
    return {"status": status, "allegation": allegation, "characteristic": characteristic,
            "sort": {"received_desc": _("Newest first"), "received_asc": _("Oldest first"),
                     "due_asc": _("Resolution due, soonest first"),
                     "relevance": _("Best match (when searching)")}}


@get("/dashboard", name="dashboard", include_in_schema=False)
async def dashboard(request: Request[Any, Any, Any]) -> Template:
    actor = _actor(request)
    case_visibility_filter(actor)  # staff without any case access get 403 here
    board = await listing.build_dashboard(actor)
    waiting = await queues.queues_for(actor)
    await audit.record("case.list", actor=actor, object_type="case",
                       details={"view": "dashboard", "shown": len(board.my_cases)
                                + len(board.unassigned) + len(board.overdue)
                                + len(board.due_soon)})
    return Template("dashboard/index.html.j2",
                    context={"board": board, "labels": labels(), "actor": actor,
                             "queues": waiting})


@get("/tasks", name="tasks.mine", include_in_schema=False, guards=[requires_case_access])
async def my_tasks(request: Request[Any, Any, Any]) -> Template:
    """The open tasks assigned to me, soonest due first, each with its case."""
    actor = _actor(request)
    tasks = await queues.open_tasks_for(actor)
    await audit.record("case.list", actor=actor, object_type="case",
                       details={"view": "my_tasks", "shown": len(tasks)})
    return Template("tasks/mine.html.j2", context={"tasks": tasks})


@get("/cases", name="cases.list", include_in_schema=False, guards=[requires_case_access])
async def case_list(request: Request[Any, Any, Any]) -> Template | Redirect:
    actor = _actor(request)
    filters, errors = listing.parse_filters(request.query_params)
    page_size = listing.parse_page_size(request.query_params.get("per_page"))
    cursor = request.query_params.get("cursor") or None
    if filters.q and not cursor:
        # A tracking number (or a legacy reference) goes straight to its case.
        case_id = await listing.find_by_reference(actor, filters.q)
        if case_id is not None:
            return Redirect(path=f"/cases/{case_id}", status_code=303)
    try:
        page = await listing.fetch_page(actor, filters, cursor=cursor, page_size=page_size,
                                        with_count=True)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        page = await listing.fetch_page(actor, filters, page_size=page_size, with_count=True)
        cursor = None
    direction = ("previous" if _cursor_goes_back(cursor) else "next") if cursor else "first"
    await audit.record("case.list", actor=actor, object_type="case",
                       details={"view": "list", "filters": filters.active, "sort": filters.sort,
                                "page": direction, "shown": len(page.rows)})
    params = filters.query_params()
    if page_size != listing.DEFAULT_PAGE_SIZE:
        params.append(("per_page", str(page_size)))
    next_url = ("/cases?" + urlencode([*params, ("cursor", page.next_cursor)])
                if page.next_cursor else None)
    prev_url = ("/cases?" + urlencode([*params, ("cursor", page.prev_cursor)])
                if page.prev_cursor else None)
    first_url = "/cases?" + urlencode(params) if page.prev_cursor else None
    choices = await listing.filter_choices()
    officer = await listing.chosen_officer(filters)
    if officer is not None:
        officer["clear_url"] = "/cases?" + urlencode(
            [(k, v) for k, v in filters.query_params() if k != "officer_id"])
    return Template(
        "cases/list.html.j2",
        context={"page": page, "filters": filters, "errors": errors, "labels": labels(),
                 "choices": choices, "officer": officer, "next_url": next_url,
                 "first_url": first_url, "prev_url": prev_url,
                 "saved_query": urlencode(filters.query_params()),
                 "export_url": "/cases/export.csv" + ("?" + urlencode(filters.query_params())
                                                      if filters.query_params() else ""),
                 "states": listing.STATES, "models": listing.MODELS,
                 "allegation_types": listing.ALLEGATION_TYPES,
                 "characteristics": listing.CHARACTERISTICS, "sorts": listing.SORTS,
                 "page_size": page_size,
                 "queue_label": queues.queue_labels().get(filters.queue, "")},
        status_code=422 if errors else 200,
    )


def _cursor_goes_back(cursor: str) -> bool:
    try:
        return listing.decode_cursor_direction(cursor) == "before"
    except ValidationFailed:
        return False


@post("/cases/saved", name="cases.saved.create", include_in_schema=False,
      guards=[requires_case_access])
async def save_filter(request: Request[Any, Any, Any], data: FormBody) -> Redirect:
    actor = _actor(request)
    query = str(data.get("query", ""))[:2000]
    back = "/cases" + ("?" + saved_filters.canonical_query(query) if query else "")
    try:
        saved = await saved_filters.save(actor, str(data.get("name", ""))[:500], query)
    except ValidationFailed as exc:
        flash(request, next(iter(exc.errors.values())), "error")
        return Redirect(path=back, status_code=303)
    flash(request, _("Saved as \u201c%(name)s\u201d: it is in your navigation.")
          % {"name": saved.name})
    return Redirect(path=back, status_code=303)


@post("/cases/saved/{saved_id:int}/remove", name="cases.saved.remove", include_in_schema=False,
      guards=[requires_case_access])
async def remove_filter(request: Request[Any, Any, Any], saved_id: FromPath[int]) -> Redirect:
    name = await saved_filters.remove(_actor(request), saved_id)
    flash(request, _("Removed the saved list \u201c%(name)s\u201d.") % {"name": name})
    return Redirect(path="/cases", status_code=303)


EXPORT_COLUMNS = (
    "tracking_number", "status", "received_at", "channel", "language", "agency", "agency_state",
    "model", "lead_investigator", "incident_date", "incident_city", "incident_state",
    "incident_setting", "context_287g", "officers", "allegation_types",
    "protected_characteristics", "final_findings", "outcome", "referred_to",
    "triage_due_at", "triaged_at", "ice_notification_required", "ice_notification_due_at",
    "ice_notified_at", "resolution_due_at", "resolved_at", "results_due_at",
    "results_reported_at", "closed_at", "overdue_clocks",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    return safe_cell(str(value))


def export_record(row: dict[str, Any]) -> list[str]:
    """One CSV line. Complainant identity and contact details are never part of a case row
    (they live in intake.ComplainantContact, which this module never reads); narratives are
    left out too, as complainants write names and addresses into them."""
    officers = "; ".join(
        (o["registry_name"] or o["name"] or "?") + (f" #{o['registry_badge'] or o['badge_number']}"
                                                     if (o["registry_badge"] or o["badge_number"])
                                                     else "")
        for o in row["officers"])
    characteristics = sorted({*row["protected_characteristics"],
                              *(a["protected_characteristic"] for a in row["allegations"]
                                if a["protected_characteristic"])})
    values = {
        **row,
        "agency": row["agency_name"], "model": row["agreement_model"],
        "lead_investigator": row["lead_investigator_name"],
        "officers": officers,
        "allegation_types": "; ".join(a["allegation_type"] for a in row["allegations"]),
        "protected_characteristics": "; ".join(characteristics),
        "final_findings": "; ".join(a["final_finding"] for a in row["allegations"]
                                    if a["final_finding"]),
        "overdue_clocks": "; ".join(c["key"] for c in row["clocks"] if c["state"] == "overdue"),
    }
    return [_cell(values.get(column)) for column in EXPORT_COLUMNS]


async def csv_lines(actor: Actor, filters: listing.CaseFilters) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so spreadsheet programs read the accents as UTF-8
    writer.writerow(EXPORT_COLUMNS)
    rows_in_chunk = 0
    async for row in listing.iter_rows(actor, filters):
        writer.writerow(export_record(row))
        rows_in_chunk += 1
        if rows_in_chunk >= 200:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            rows_in_chunk = 0
    yield buffer.getvalue().encode()


@get("/cases/export.csv", name="cases.export", include_in_schema=False,
     guards=[requires(Permission.CASE_EXPORT)])
async def case_export(request: Request[Any, Any, Any]) -> Stream:
    actor = _actor(request)
    filters, errors = listing.parse_filters(request.query_params)
    case_visibility_filter(actor)
    await audit.record("case.export", actor=actor, object_type="case",
                       details={"filters": filters.active, "sort": filters.sort,
                                "ignored": sorted(errors)})
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Stream(
        csv_lines(actor, filters),
        media_type="text/csv",  # Litestar adds the one charset
        headers={"Content-Disposition": f'attachment; filename="cases-{stamp}.csv"',
                 "Cache-Control": "no-store"},
    )


LISTING_ROUTE_HANDLERS = [dashboard, my_tasks, case_list, save_filter, remove_filter,
                          case_export, *API_ROUTE_HANDLERS]
