"""Recommendation pages (list, new, detail with its workflow actions, download) and the case
report PDF. Thin: parse, call one service verb, flash + 303, or re-render with errors."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from casetracker.auth.guards import actor_from_connection, requires, requires_any
from casetracker.auth.permissions import Permission as P
from casetracker.auth.policies import has_permission, may_see_complainant_identity
from casetracker.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
    found,
)
from casetracker.registry import pickers
from casetracker.registry.tables import Designation
from casetracker.reports import forms, responses, rules
from casetracker.reports.rendering import RenderError
from casetracker.reports.responses import IceResponseService
from casetracker.reports.services import (
    DraftValues,
    RecommendationService,
    candidate_cases,
    load_determinations,
    offered_determinations,
    plan_for_record,
)
from casetracker.reports.tables import Recommendation
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

STATUSES = ("draft", "submitted", "approved", "issued")
READERS = (P.RECOMMENDATION_DRAFT, P.RECOMMENDATION_APPROVE, P.RECOMMENDATION_ISSUE)


may_read_recommendations = requires_any(*READERS)


def _actor(request: Request[Any, Any, Any]) -> Any:
    actor = actor_from_connection(request)
    assert actor is not None  # guarded
    return actor


def _pdf(data: bytes, filename: str) -> Response[bytes]:
    return Response(content=data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
    })


async def _new_context(values: dict[str, Any]) -> dict[str, Any]:
    agreement_id = values.get("agreement_id")
    designations: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    if agreement_id:
        rows = await Designation.select(Designation.id, Designation.status, Designation.officer,
                                        Designation.officer.name, Designation.officer.badge_number
                                        ).where(Designation.agreement == agreement_id).order_by(
            Designation.officer.name, Designation.id)
        designations = [{"id": r["id"], "officer": r["officer"], "status": r["status"],
                         "label": f"{r['officer.name']} (badge {r['officer.badge_number'] or '—'})"}
                        for r in rows]
        kind = values.get("kind") or "officers"
        chosen = set(values.get("designation_ids") or ())
        officer_ids = [d["officer"] for d in designations if d["id"] in chosen] if chosen else [
            d["officer"] for d in designations]
        cases = await candidate_cases(kind=kind, officer_ids=officer_ids,
                                      agreement_id=agreement_id)
    return {"values": values,
            "designations": designations, "cases": cases,
            "actions_by_kind": rules.ACTIONS_BY_KIND}


async def _detail_context(request: Request[Any, Any, Any], rec_id: int) -> dict[str, Any]:
    actor = _actor(request)
    service = RecommendationService(actor)
    document = await service.document_view(rec_id)
    rec = found(await Recommendation.select().where(Recommendation.id == rec_id).first(),
                "There is no such recommendation.")
    author_id = rec["author"]
    supersedes = None
    if rec.get("supersedes"):
        supersedes = await Recommendation.select(Recommendation.id, Recommendation.number).where(
            Recommendation.id == rec["supersedes"]).first()
    superseded_by = await Recommendation.select(Recommendation.id, Recommendation.number,
                                                Recommendation.status).where(
        Recommendation.supersedes == rec_id)
    status = rec["status"]
    identity = may_see_complainant_identity(actor)
    locked = rec["classification"] == "sensitive" and not identity
    allowed = {
        "edit": status == "draft" and has_permission(actor, P.RECOMMENDATION_DRAFT) and not locked,
        "approve": status == "submitted" and has_permission(actor, P.RECOMMENDATION_APPROVE)
        and actor.id != author_id,
        "return": status in ("submitted", "approved")
        and has_permission(actor, P.RECOMMENDATION_APPROVE),
        "issue": status == "approved" and has_permission(actor, P.RECOMMENDATION_ISSUE),
        "correct": status == "issued" and has_permission(actor, P.RECOMMENDATION_DRAFT),
    }
    allowed["respond"] = status == "issued" and has_permission(actor, P.RECOMMENDATION_ISSUE)
    ice = await responses.response_view(rec) if status == "issued" else None
    plan = await plan_for_record(rec)
    offered = await offered_determinations(rec)
    stored = await load_determinations(rec_id)
    determinations = [{
        "key": key, "prompt": _(rules.DETERMINATIONS[key].prompt),
        "statement": rules.determination_statement(key, plan.agreement_action or rec["action"]),
        "needed": key in plan.determinations,
        "made": key in stored, "reason": (stored.get(key) or {}).get("reason", ""),
        "when": _determination_hint(key),
    } for key in offered]
    return {"rec": rec, "doc": document, "allowed": allowed, "is_author": actor.id == author_id,
            "supersedes": supersedes, "superseded_by": superseded_by, "plan": plan,
            "determinations": determinations, "may_choose_sensitive": identity,
            "locked_sensitive": locked and status == "draft", "ice": ice,
            "response_values": {},
            "errors": {}, "values": {k: rec.get(k) for k in forms.EDITABLE}}


def _determination_hint(key: str) -> str:
    return {
        "serious_misconduct": _("Needed for a suspension pending investigation."),
        "unresolvable": _("Needed for a termination."),
        "termination_before_suspension": _("Needed for a termination while the agreement is "
                                           "not suspended."),
        "exigent_public_safety": _("Needed only if it should take effect sooner than 90 days "
                                   "after ICE's notice is received."),
    }.get(key, "")


def _with_typed(context: dict[str, Any], form: Any) -> dict[str, Any]:
    """Show what was typed again (values and determinations) next to the errors."""
    context["values"] = {**context["values"], **forms.raw_values(form)}
    typed = forms.parse_determinations(form)
    for item in context["determinations"]:
        if item["key"] in typed:
            item["made"] = typed[item["key"]].made
            item["reason"] = typed[item["key"]].reason
    return context


class RecommendationController(Controller):
    path = "/recommendations"
    guards = [may_read_recommendations]  # noqa: RUF012 - Litestar's Controller attribute

    @get("/", name="reports.recommendations")
    async def index(self, request: Request[Any, Any, Any],
                    status: FromQuery[str | None] = None,
                    queue: FromQuery[str | None] = None) -> Template:
        query = Recommendation.select(
            Recommendation.id, Recommendation.number, Recommendation.kind, Recommendation.action,
            Recommendation.status, Recommendation.subject, Recommendation.version,
            Recommendation.created_at, Recommendation.issued_at, Recommendation.agency.name,
            Recommendation.agreement.model, Recommendation.author.name,
        ).order_by(Recommendation.id, ascending=False).limit(200)
        if status in STATUSES:
            query = query.where(Recommendation.status == status)
        awaiting_me = queue == "approval" and has_permission(_actor(request),
                                                             P.RECOMMENDATION_APPROVE)
        if awaiting_me:
            # the dashboard's queue: submitted by others, for me to approve or return
            query = query.where((Recommendation.status == "submitted")
                                & (Recommendation.author != _actor(request).id))
        return Template("reports/list.html.j2", context={
            "rows": await query, "status": status if status in STATUSES else "",
            "statuses": STATUSES, "awaiting_me": awaiting_me})

    @get("/new", name="reports.new", guards=[requires(P.RECOMMENDATION_DRAFT)])
    async def new(self, request: Request[Any, Any, Any]) -> Template:
        params = request.query_params
        picked = await pickers.read_picker(params, "agreement_id", "agreement")
        if params.get("agreement_id") and "agreement_id_q" not in params and picked.id is None:
            raise NotFound("There is no such agreement.")  # a link to an agreement gone
        values = {"kind": params.get("kind") or "officers", "action": params.get("action") or "",
                  "agreement_id": picked.id, "designation_ids": (), "case_ids": ()}
        errors = {} if pickers.finding(params) else pickers.picker_errors(picked)
        return Template("reports/new.html.j2", status_code=422 if errors else 200, context={
            **await _new_context(values), "errors": errors, "agreement_pick": picked})

    @post("/new", name="reports.create", guards=[requires(P.RECOMMENDATION_DRAFT)])
    async def create(self, request: Request[Any, Any, Any]) -> Any:
        form = await request.form()
        values = forms.parse_new(form)
        try:
            rec_id = await RecommendationService(_actor(request)).draft(DraftValues(
                values["kind"], values["action"], values["agreement_id"],
                values["designation_ids"], values["case_ids"]))
        except ValidationFailed as exc:
            picked = await pickers.read_picker({}, "agreement_id", "agreement",
                                               current_id=values["agreement_id"])
            return Template("reports/new.html.j2", status_code=422, context={
                **await _new_context(values), "errors": exc.errors, "agreement_pick": picked})
        flash(request, _("Draft created. The system proposed the text below: check and edit it."))
        return Redirect(path=f"/recommendations/{rec_id}", status_code=303)

    @get("/{rec_id:int}", name="reports.detail")
    async def detail(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Template:
        return Template("reports/detail.html.j2", context=await _detail_context(request, rec_id))

    @post("/{rec_id:int}/edit", name="reports.edit", guards=[requires(P.RECOMMENDATION_DRAFT)])
    async def edit(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        """Save the draft; with ``then=submit``, save it and submit it for approval in one
        step (nothing typed is lost, nothing is saved when submitting is refused)."""
        form = await request.form()
        return await self._save(request, rec_id, form, submit=form.get("then") == "submit")

    async def _save(self, request: Request[Any, Any, Any], rec_id: int, form: Any, *,
                    submit: bool) -> Any:
        values, errors = forms.parse_text(form)
        determinations = forms.parse_determinations(form)
        service = RecommendationService(_actor(request))
        try:
            if errors:
                raise ValidationFailed(errors)
            if submit:
                await service.save_and_submit(rec_id, values, determinations)
            else:
                await service.update(rec_id, values, determinations)
        except ValidationFailed as exc:
            context = _with_typed(await _detail_context(request, rec_id), form)
            context["errors"] = exc.errors
            return Template("reports/detail.html.j2", context=context, status_code=422)
        except InvalidTransition as exc:
            return await self._refuse(request, rec_id, exc.message)
        except Forbidden as exc:
            return await self._refuse(request, rec_id, exc.message, 403)
        flash(request, _("Saved and submitted for approval.") if submit else _("Changes saved."))
        return Redirect(path=f"/recommendations/{rec_id}", status_code=303)

    async def _refuse(self, request: Request[Any, Any, Any], rec_id: int, message: str,
                      status_code: int = 409) -> Template:
        context = await _detail_context(request, rec_id)
        context["errors"] = {"form": message}
        return Template("reports/detail.html.j2", context=context, status_code=status_code)

    async def _step(self, request: Request[Any, Any, Any], rec_id: int, verb: str,
                    success: str) -> Any:
        form = await request.form()
        service = RecommendationService(_actor(request))
        try:
            if verb == "submit":
                await service.submit(rec_id)
            elif verb == "approve":
                await service.approve(rec_id, (form.get("comment") or "").strip())
            elif verb == "return":
                await service.return_to_draft(rec_id, (form.get("comment") or "").strip())
            elif verb == "issue":
                number = await service.issue(rec_id)
                success = _("Issued as %(number)s. The document is frozen.", number=number)
            elif verb == "correct":
                new_id = await service.correct(rec_id, form.get("correction_reason") or "")
                flash(request, success)
                return Redirect(path=f"/recommendations/{new_id}", status_code=303)
        except ValidationFailed as exc:
            context = await _detail_context(request, rec_id)
            context["errors"] = exc.errors
            return Template("reports/detail.html.j2", context=context, status_code=422)
        except (InvalidTransition, Conflict) as exc:
            return await self._refuse(request, rec_id, exc.message)
        except Forbidden as exc:
            return await self._refuse(request, rec_id, exc.message, 403)
        except RenderError:
            return await self._refuse(request, rec_id, _(
                "The document could not be rendered. Nothing was issued; try again, and tell "
                "the administrator if it keeps failing."), 503)
        flash(request, success)
        return Redirect(path=f"/recommendations/{rec_id}", status_code=303)

    @post("/{rec_id:int}/submit", name="reports.submit",
          guards=[requires(P.RECOMMENDATION_DRAFT)])
    async def submit(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        form = await request.form()
        if "subject" in form:  # the draft's form: save what is on it, then submit
            return await self._save(request, rec_id, form, submit=True)
        return await self._step(request, rec_id, "submit", _("Submitted for approval."))

    @post("/{rec_id:int}/approve", name="reports.approve",
          guards=[requires(P.RECOMMENDATION_APPROVE)])
    async def approve(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        return await self._step(request, rec_id, "approve", _("Approved."))

    @post("/{rec_id:int}/return", name="reports.return",
          guards=[requires(P.RECOMMENDATION_APPROVE)])
    async def send_back(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        return await self._step(request, rec_id, "return", _("Returned to draft."))

    @post("/{rec_id:int}/issue", name="reports.issue", guards=[requires(P.RECOMMENDATION_ISSUE)])
    async def issue(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        return await self._step(request, rec_id, "issue", _("Issued."))

    @post("/{rec_id:int}/correct", name="reports.correct",
          guards=[requires(P.RECOMMENDATION_DRAFT)])
    async def correct(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        return await self._step(request, rec_id, "correct",
                                _("Correction drafted: it will supersede the issued version."))

    @post("/{rec_id:int}/follow-up", name="reports.follow_up",
          guards=[requires(P.RECOMMENDATION_ISSUE)])
    async def follow_up(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        form = await request.form()
        value, problem = forms.parse_date(form.get("follow_up_on") or "")
        try:
            if problem:
                raise ValidationFailed({"follow_up_on": problem})
            await IceResponseService(_actor(request)).set_follow_up(rec_id, value)
        except ValidationFailed as exc:
            return await self._response_error(request, rec_id, exc.errors, form)
        flash(request, _("Follow-up date saved.") if value else _("Follow-up date removed."))
        return Redirect(path=f"/recommendations/{rec_id}#ice-response", status_code=303)

    @post("/{rec_id:int}/responses", name="reports.respond",
          guards=[requires(P.RECOMMENDATION_ISSUE)])
    async def respond(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        """Record what ICE did about one target; the registry follows."""
        form = await request.form()
        kind, _sep, raw_id = (form.get("target") or "").partition(":")
        acted_on, problem = forms.parse_date(form.get("acted_on") or "")
        try:
            if problem:
                raise ValidationFailed({"acted_on": problem})
            change = await IceResponseService(_actor(request)).record(
                rec_id, target=kind, target_id=forms._optional_int(raw_id),
                outcome=form.get("outcome") or "", acted_on=acted_on,
                reason=form.get("reason") or "", ice_reference=form.get("ice_reference") or "")
        except ValidationFailed as exc:
            return await self._response_error(request, rec_id, exc.errors, form)
        flash(request, _("ICE's response is recorded.") + (" " + _(
            "The registry now shows it.") if change else ""))
        return Redirect(path=f"/recommendations/{rec_id}#ice-response", status_code=303)

    async def _response_error(self, request: Request[Any, Any, Any], rec_id: int,
                              errors: dict[str, str], form: Any) -> Template:
        context = await _detail_context(request, rec_id)
        context["errors"] = errors
        context["response_values"] = {k: form.get(k) or "" for k in (
            "follow_up_on", "target", "outcome", "acted_on", "reason", "ice_reference")}
        return Template("reports/detail.html.j2", context=context, status_code=422)

    @get("/{rec_id:int}/document.pdf", name="reports.download")
    async def download(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        rec, data = await RecommendationService(_actor(request)).issued_document(rec_id)
        return _pdf(data, f"{rec['number']}.pdf")

    @get("/{rec_id:int}/preview.pdf", name="reports.preview")
    async def preview(self, request: Request[Any, Any, Any], rec_id: FromPath[int]) -> Any:
        data = await RecommendationService(_actor(request)).preview(rec_id)
        return _pdf(data, f"draft-recommendation-{rec_id}.pdf")


@get("/cases/{case_id:int}/report.pdf", name="reports.case_report",
     guards=[requires(P.REPORT_CASE)])
async def case_report(request: Request[Any, Any, Any], case_id: FromPath[int]) -> Any:
    from casetracker.reports.case_report import CaseReportService

    # ?access=all adds every access-log row as an appendix (the file itself summarises them)
    appendix = request.query_params.get("access") == "all"
    tracking, data = await CaseReportService(_actor(request)).render(
        case_id, with_access_rows=appendix)
    return _pdf(data, f"case-{tracking}.pdf")

