"""The JSON API for cases under /api/v1/cases, authenticated with personal API tokens.

Every route: ``Authorization: Bearer <token>`` (accounts/tokens.py ``api_auth_guard`` puts the
owner's Actor in ``scope["api_actor"]``); sessions are skipped, so the session cookie alone
never authenticates, which is what makes leaving CSRF off safe here. The token owner's
permissions and the same policies as the pages apply (lists through
``case_visibility_filter``, changes through ``CaseService``). Errors answer JSON:
401 (no or bad token), 403, 404 (also for cases the owner may not see), 409 (a transition the
case's state does not allow), 422 (bad input).
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath

from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.auth.guards import API
from casetracker.auth.policies import case_visibility_filter
from casetracker.cases import listing
from casetracker.errors import NotFound, ValidationFailed
from casetracker.web import openapi as doc
from casetracker.web.i18n import gettext as _

API_OPT = {API: True, "exclude_from_csrf": True, "skip_session": True}


async def api_guard(connection: Any, handler: Any) -> None:
    """The accounts engineer's token guard, imported when first needed."""
    from casetracker.accounts.tokens import api_auth_guard

    await api_auth_guard(connection, handler)


def _actor(request: Request[Any, Any, Any]) -> Actor:
    actor = request.scope.get("api_actor")
    if actor is None:  # pragma: no cover - the guard ran first
        raise NotAuthorizedException("Send a valid personal API token.")
    return cast(Actor, actor)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def case_summary(row: dict[str, Any]) -> dict[str, Any]:
    """A case as the API shows it in lists (never the complainant's identity or contact)."""
    return {
        "id": row["id"],
        "tracking_number": row["tracking_number"],
        "status": row["status"],
        "received_at": _iso(row["received_at"]),
        "channel": row["channel"],
        "language": row["language"],
        "incident_date": _iso(row["incident_date"]),
        "incident_city": row["incident_city"],
        "incident_state": row["incident_state"],
        "incident_setting": row["incident_setting"],
        "agency": ({"id": row["agency_id"], "name": row["agency_name"],
                    "state": row["agency_state"]} if row["agency_id"] else None),
        "agreement": ({"id": row["agreement_id"], "model": row["agreement_model"]}
                      if row["agreement_id"] else None),
        "lead_investigator": ({"id": row["lead_investigator_id"],
                               "name": row["lead_investigator_name"]}
                              if row["lead_investigator_id"] else None),
        "protected_characteristics": row["protected_characteristics"],
        "officers": [{"name": o["registry_name"] or o["name"],
                      "badge_number": o["registry_badge"] or o["badge_number"],
                      "registry_officer_id": o["officer_id"],
                      "unidentified": bool(o["unidentified"])} for o in row["officers"]],
        "allegations": [{"id": a["id"], "type": a["allegation_type"],
                         "protected_characteristic": a["protected_characteristic"],
                         "officer_id": a["officer_id"],
                         "recommended_finding": a["recommended_finding"],
                         "final_finding": a["final_finding"]} for a in row["allegations"]],
        "clocks": [{"clock": c["key"], "state": c["state"], "due_at": _iso(c["due_at"]),
                    "done_at": _iso(c["done_at"])} for c in row["clocks"]],
        "outcome": row["outcome"],
    }


def _list_parameters() -> list[Any]:
    from casetracker.cases.rules import ALL_STATES

    return [
        doc.query("state", doc.string(pattern=f"^({'|'.join(ALL_STATES)})"
                                       f"(,({'|'.join(ALL_STATES)}))*$"),
                  "One state, or several separated by commas: " + ", ".join(ALL_STATES)),
        doc.query("agency", doc.integer(minimum=1, maximum=listing.MAX_ID), "Agency id"),
        doc.query("agency_state", doc.string(pattern="^[A-Za-z]{2}$"),
                  "The agency's state, two letters"),
        doc.query("model", doc.enum(listing.MODELS), "287(g) model of the agreement"),
        doc.query("officer_id", doc.integer(minimum=1, maximum=listing.MAX_ID),
                  "Registry officer id"),
        doc.query("officer", doc.string(max_length=100), "Officer name or badge, as typed"),
        doc.query("investigator", doc.string(pattern=r"^([1-9][0-9]{0,8}|none)$"),
                  "Lead investigator's user id, or `none` for unassigned cases"),
        doc.query("allegation_type", doc.enum(listing.ALLEGATION_TYPES), "Allegation type"),
        doc.query("characteristic", doc.enum(listing.CHARACTERISTICS),
                  "Protected characteristic"),
        doc.query("received_from", doc.string(format="date"), "Received on or after (YYYY-MM-DD)"),
        doc.query("received_to", doc.string(format="date"), "Received on or before (YYYY-MM-DD)"),
        doc.query("overdue", doc.enum(("1", "true", "yes", "on", "0", "false")),
                  "Only cases with an overdue clock"),
        doc.query("q", doc.string(max_length=200), "Full-text search"),
        doc.query("sort", doc.enum(listing.SORTS), "Order (default: newest first)"),
        doc.query("per_page", doc.integer(minimum=1, maximum=listing.MAX_PAGE_SIZE),
                  f"Cases per page (default {listing.DEFAULT_PAGE_SIZE})"),
        doc.query("cursor", doc.string(), "`next_cursor` of the previous page"),
    ]


@get("/api/v1/cases", name="api.cases.list", opt=API_OPT, guards=[api_guard],
     include_in_schema=True, summary="List cases", security=doc.BEARER,
     responses=doc.error_responses(401, 422),
     operation_class=doc.operation(parameters=_list_parameters()),
     description="The same filters as the case list page (state, agency, model, officer, "
     "investigator, allegation_type, characteristic, received_from, received_to, overdue, q, "
     "sort), `per_page` (1-200) and `cursor` (from `next_cursor`).")
async def api_list_cases(request: Request[Any, Any, Any]) -> dict[str, Any]:
    actor = _actor(request)
    filters, errors = listing.parse_filters(request.query_params)
    if errors:
        raise ValidationFailed(errors)
    page = await listing.fetch_page(
        actor, filters, cursor=request.query_params.get("cursor") or None,
        page_size=listing.parse_page_size(request.query_params.get("per_page")))
    await audit.record("case.list", actor=actor, object_type="case",
                       details={"view": "api", "filters": filters.active, "sort": filters.sort,
                                "page": "next" if request.query_params.get("cursor") else
                                "first", "shown": len(page.rows)})
    return {"items": [case_summary(r) for r in page.rows], "next_cursor": page.next_cursor,
            "filters": filters.active, "sort": filters.sort}


async def _detail(actor: Actor, case_id: int) -> dict[str, Any]:
    from casetracker.cases.services import CaseService

    case = await CaseService(actor).view_case(case_id)  # 404 unless visible; audited
    rows = await listing._run(listing.QueryString(
        f"SELECT {listing.LIST_COLUMNS} {listing.LIST_FROM} WHERE ct_case.id = {{}}", case_id))
    if not rows:  # pragma: no cover - view_case found it
        raise NotFound(_("There is no such case."))
    await listing.attach_related(rows, listing._now())
    detail = case_summary(rows[0])
    detail.update({"narrative": case["narrative"], "harm": case["harm"],
                   "decision_reason": case["decision_reason"],
                   "referred_to": case["referred_to"],
                   "officer_unidentified": bool(case["officer_unidentified"])})
    return detail


@get("/api/v1/cases/{case_id:int}", name="api.cases.detail", opt=API_OPT, guards=[api_guard],
     include_in_schema=True, summary="One case", security=doc.BEARER,
     responses=doc.error_responses(401, 404))
async def api_case_detail(request: Request[Any, Any, Any],
                          case_id: FromPath[int]) -> dict[str, Any]:
    actor = _actor(request)
    case_visibility_filter(actor)
    return await _detail(actor, case_id)


async def _ensure_visible(actor: Actor, case_id: int) -> None:
    from casetracker.auth.policies import ensure_may_view_case
    from casetracker.cases.tables import Case

    case = await Case.select(Case.id, Case.status, Case.lead_investigator).where(
        Case.id == case_id).first()
    if case is None:
        raise NotFound(_("There is no such case."))
    ensure_may_view_case(actor, case)


async def _json_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception as exc:  # any unreadable body is the client's mistake
        raise ValidationFailed({"body": _("Send a JSON object.")}) from exc
    if not isinstance(body, dict):
        raise ValidationFailed({"body": _("Send a JSON object.")})
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed({key: _("Send text.")})
    return value


def _int(body: dict[str, Any], key: str, required: bool = True) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed({key: _("Send a whole number.")})
    return value


def _date(body: dict[str, Any], key: str) -> date | None:
    value = body.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationFailed({key: _("Send a date as YYYY-MM-DD.")}) from exc


TRANSITION_NAMES = ("start_triage", "open", "decline", "refer", "assign", "submit_findings",
                    "start_review", "return", "resume", "close")


TRANSITION_BODY = doc.Schema(
    type=doc.OpenAPIType.OBJECT, required=["transition"], properties={
        "transition": doc.enum(TRANSITION_NAMES),
        "reason": doc.string("decline, refer, assign: why"),
        "body": doc.string("refer: to whom (e.g. ice_opr, dhs_oig, lea_internal_affairs)"),
        "body_other": doc.string("refer: the body's name when `body` is other"),
        "reference_number": doc.string("refer: their case number"),
        "sent_on": doc.string("refer: when it was sent (YYYY-MM-DD)", format="date"),
        "investigator_id": doc.integer("assign: the investigator's user id"),
        "comments": doc.string("return: what the investigator must do"),
    })


@post("/api/v1/cases/{case_id:int}/transitions", name="api.cases.transition", opt=API_OPT,
      guards=[api_guard], include_in_schema=True, status_code=200, security=doc.BEARER,
      responses=doc.error_responses(401, 403, 404, 409, 422),
      operation_class=doc.operation(body=TRANSITION_BODY),
      summary="Move a case to its next state",
      description='`{"transition": "start_triage" | "open" | "decline" (reason) | "refer" '
      '(body, body_other, reason, reference_number) | "assign" (investigator_id, reason) | '
      '"submit_findings" | "start_review" | "return" (comments) | "resume" | "close"}`. '
      "409 when the case's state does not allow it.")
async def api_transition(request: Request[Any, Any, Any],
                         case_id: FromPath[int]) -> dict[str, Any]:
    from casetracker.cases.services import CaseService

    actor = _actor(request)
    body = await _json_body(request)
    name = _text(body, "transition")
    if name not in TRANSITION_NAMES:
        raise ValidationFailed({"transition": _("Choose one of: %(names)s.")
                                % {"names": ", ".join(TRANSITION_NAMES)}})
    service = CaseService(actor)
    # Hide cases the token owner may not see before saying anything about the transition.
    await _ensure_visible(actor, case_id)
    if name == "start_triage":
        await service.start_triage(case_id)
    elif name == "open":
        await service.open_investigation(case_id)
    elif name == "decline":
        await service.decline(case_id, _text(body, "reason"))
    elif name == "refer":
        await service.refer(case_id, body=_text(body, "body"), body_other=_text(body, "body_other"),
                            reason=_text(body, "reason"), sent_on=_date(body, "sent_on"),
                            reference_number=_text(body, "reference_number"))
    elif name == "assign":
        await service.assign_investigator(case_id, _int(body, "investigator_id"),
                                          _text(body, "reason"))
    elif name == "submit_findings":
        await service.submit_findings(case_id)
    elif name == "start_review":
        await service.start_review(case_id)
    elif name == "return":
        await service.return_to_investigation(case_id, _text(body, "comments"))
    elif name == "resume":
        await service.resume_investigation(case_id)
    elif name == "close":
        await service.close(case_id)
    return await _after_change(actor, case_id)


async def _after_change(actor: Actor, case_id: int) -> dict[str, Any]:
    """The case as it now stands; only its number and state when the change took it out of
    the actor's sight (intake staff opening an investigation, for example)."""
    from casetracker.auth.policies import may_view_case
    from casetracker.cases.tables import Case

    case = await Case.select(Case.id, Case.tracking_number, Case.status,
                             Case.lead_investigator).where(Case.id == case_id).first()
    if case is not None and not may_view_case(actor, case):
        return {"id": case["id"], "tracking_number": case["tracking_number"],
                "status": case["status"]}
    return await _detail(actor, case_id)


def _finding_body() -> Any:
    from casetracker.cases.rules import FINDING_LABELS, STANDARDS_OF_PROOF

    return doc.Schema(
        type=doc.OpenAPIType.OBJECT, required=["allegation_id"], properties={
            "allegation_id": doc.integer("The allegation, from the case's `allegations`"),
            "kind": doc.enum(("recommended", "final"),
                             "recommended (the lead investigator) or final (the reviewer)"),
            "finding": doc.enum(tuple(FINDING_LABELS)),
            "rationale": doc.string(),
            "standard": doc.enum(STANDARDS_OF_PROOF),
            "action": doc.string("Recommended action"),
        })


@post("/api/v1/cases/{case_id:int}/findings", name="api.cases.finding", opt=API_OPT,
      guards=[api_guard], include_in_schema=True, status_code=200, security=doc.BEARER,
      responses=doc.error_responses(401, 403, 404, 409, 422),
      operation_class=doc.operation(body=_finding_body()),
      summary="Record a finding on an allegation",
      description='`{"allegation_id": 1, "kind": "recommended", "finding": "sustained", '
      '"rationale": "...", "standard": "preponderance", "action": "..."}` (the lead '
      'investigator) or `{"allegation_id": 1, "kind": "final", "finding": (optional: the '
      'recommendation), "rationale": ...}` (the reviewer).')
async def api_finding(request: Request[Any, Any, Any],
                      case_id: FromPath[int]) -> dict[str, Any]:
    from casetracker.cases.services import CaseService

    actor = _actor(request)
    body = await _json_body(request)
    allegation_id = _int(body, "allegation_id")
    assert allegation_id is not None
    kind = _text(body, "kind") or "recommended"
    service = CaseService(actor)
    await _ensure_visible(actor, case_id)
    if kind == "recommended":
        await service.record_recommended_finding(
            case_id, allegation_id, finding=_text(body, "finding"),
            rationale=_text(body, "rationale"),
            standard=_text(body, "standard") or "preponderance", action=_text(body, "action"))
    elif kind == "final":
        await service.accept_finding(case_id, allegation_id,
                                     finding=_text(body, "finding") or None,
                                     rationale=_text(body, "rationale"))
    else:
        raise ValidationFailed({"kind": _('Send "recommended" or "final".')})
    return await _after_change(actor, case_id)


API_ROUTE_HANDLERS = [api_list_cases, api_case_detail, api_transition, api_finding]
