"""Many cases at once: assign or reassign the cases chosen in the list to one investigator, with
a reason, in one step (each case audited on its own)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect

from casetracker.auth.guards import actor_from_connection, requires
from casetracker.auth.permissions import Permission as P
from casetracker.cases.assignment import MAX_BULK
from casetracker.cases.services import CaseService
from casetracker.errors import ValidationFailed
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.i18n import ngettext
from casetracker.web.templating import HTMLTemplate as Template


def _case_ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10][:MAX_BULK]


def _service(request: Request[Any, Any, Any]) -> CaseService:
    actor = actor_from_connection(request)
    assert actor is not None
    return CaseService(actor)


async def _page(service: CaseService, case_ids: list[int], *, errors: dict[str, str],
                values: dict[str, Any], back: str, status_code: int = 200) -> Template:
    cases = await service.bulk_candidates(case_ids)
    return Template("cases/bulk_assign.html.j2", status_code=status_code, context={
        "cases": cases, "workloads": await service.investigator_workloads(),
        "errors": errors, "values": values, "back": back,
        "needs_reason": any(c["lead_investigator"] for c in cases)})


def _back(value: str | None) -> str:
    """Only a link back into the case list (never elsewhere)."""
    return value if value and value.startswith("/cases") and "//" not in value else "/cases"


@get("/cases/bulk-assign", name="cases.bulk_assign_form", include_in_schema=False,
     guards=[requires(P.CASE_ASSIGN)])
async def bulk_assign_form(request: Request[Any, Any, Any]) -> Template:
    case_ids = _case_ids(request.query_params.getall("case", []))
    errors = {} if case_ids else {"case": _("Choose at least one case in the list first.")}
    return await _page(_service(request), case_ids, errors=errors, values={},
                       back=_back(request.query_params.get("back")),
                       status_code=200 if case_ids else 422)


@post("/cases/bulk-assign", name="cases.bulk_assign", include_in_schema=False,
      guards=[requires(P.CASE_ASSIGN)])
async def bulk_assign(request: Request[Any, Any, Any]) -> Any:
    form = await request.form()
    case_ids = _case_ids(form.getall("case", []))
    raw = str(form.get("investigator") or "")
    investigator_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    reason = str(form.get("reason") or "").strip()[:4000]
    back = _back(str(form.get("back") or ""))
    service = _service(request)
    try:
        numbers = await service.assign_many(case_ids, investigator_id, reason)
    except ValidationFailed as exc:
        return await _page(service, case_ids, errors=exc.errors, status_code=422, back=back,
                           values={"investigator": raw, "reason": reason})
    flash(request, ngettext("%(num)s case assigned: %(numbers)s.",
                            "%(num)s cases assigned: %(numbers)s.", len(numbers),
                            numbers=", ".join(numbers)) if numbers
          else _("Those cases were already assigned to that investigator."))
    return Redirect(path=back, status_code=303)


BULK_ROUTE_HANDLERS = [bulk_assign_form, bulk_assign]
