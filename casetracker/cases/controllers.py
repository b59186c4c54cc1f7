"""The case page and its workflow actions (each a form posting to /cases/{id}/<action>).

Thin: parse the form (forms.py), call one CaseService verb, then flash + 303 back to the case.
A rule broken by the input re-renders the page with the errors (422); a step not possible in
the case's state re-renders it with the sentence saying why (409). Policies decide 404/403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath
from litestar.response import Redirect

from casetracker.auth.guards import actor_from_connection, requires_any
from casetracker.auth.permissions import Permission as P
from casetracker.auth.policies import has_permission
from casetracker.cases import forms, rules
from casetracker.cases.case_page import case_page_context
from casetracker.cases.proposed_officers import ProposedOfficers
from casetracker.cases.services import CaseService
from casetracker.errors import InvalidTransition, ValidationFailed
from casetracker.registry import pickers
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

CASE_READ = (P.CASE_READ_ALL, P.CASE_READ_ASSIGNED, P.CASE_READ_TRIAGE)


# Route guard: some case-reading permission; which cases is the policies' business.
requires_case_access = requires_any(*CASE_READ)


def _service(request: Request[Any, Any, Any]) -> CaseService:
    actor = actor_from_connection(request)
    assert actor is not None  # the guard ran
    return CaseService(actor, settings=request.app.state.get("settings"))


async def render_case(request: Request[Any, Any, Any], case_id: FromPath[int], *,
                      errors: dict[str, str] | None = None,
                      values: dict[str, Any] | None = None, form: str = "",
                      status_code: int = 200) -> Template:
    context = await case_page_context(_service(request), case_id)
    context.update({"errors": errors or {}, "values": values or {}, "failed_form": form})
    context["pickers"] = await _case_pickers(context, values or {}, form)
    return Template("cases/detail.html.j2", context=context, status_code=status_code)


async def _case_pickers(context: dict[str, Any], values: dict[str, Any],
                        form: str) -> dict[str, pickers.Picked]:
    """The pickers on the case page: the agency (triage) and, per described officer, the
    registry officer. Only the form that was sent reads what was typed."""
    found: dict[str, pickers.Picked] = {}
    if context["may"]["set_agency"]:
        found["set_agency"] = await pickers.read_picker(
            values if form == "set_agency" else {}, "agency_id", "agency",
            current_id=context["case"]["agency"])
    if context["may"]["link_officer"]:
        for officer in context["case_officers"]:
            name = f"link_officer_{officer['id']}"
            found[name] = await pickers.read_picker(values if form == name else {},
                                                    "officer_pick", "officer")
            name = f"propose_officer_{officer['id']}"
            found[name] = await pickers.read_picker(
                values if form == name else {}, "propose_agency", "agency",
                current_id=officer["agency"] or context["case"]["agency"])
    return found


async def _picker_step(request: Request[Any, Any, Any], case_id: int, data: dict[str, Any],
                       form: str, picked: pickers.Picked) -> Template | None:
    """The no-JavaScript "Find" (the page again with the matches), or words typed that are
    not yet a choice (the page again, asking to choose); None when the form can go on."""
    if pickers.finding(data):
        return await render_case(request, case_id, values=data, form=form)
    if picked.needs_choice:
        return await render_case(request, case_id, errors=pickers.picker_errors(picked),
                                 values=data, form=form, status_code=422)
    return None


async def _run(request: Request[Any, Any, Any], case_id: FromPath[int], data: dict[str, Any],
               action: Callable[[CaseService], Awaitable[Any]], success: str,
               form: str, anchor: str = "") -> Any:
    service = _service(request)
    try:
        await action(service)
    except ValidationFailed as exc:
        return await render_case(request, case_id, errors=exc.errors, values=data, form=form,
                                 status_code=422)
    except InvalidTransition as exc:
        return await render_case(request, case_id, errors={"form": exc.message}, values=data,
                                 form=form, status_code=409)
    flash(request, success)
    return Redirect(path=await landing_after(service, case_id, anchor), status_code=303)


async def landing_after(service: CaseService, case_id: int, anchor: str = "") -> str:
    """Where a staff member lands after changing a case: the case when they may still see it,
    else the list of the cases they may see (for intake: the triage queue). A success message
    is never shown above a "no such case" page."""
    from casetracker.auth import policies
    from casetracker.cases.tables import Case

    head = await Case.select(Case.status, Case.lead_investigator).where(
        Case.id == case_id).first()
    if head is not None and policies.may_view_case(service.actor, head):
        return f"/cases/{case_id}{anchor}"
    return "/cases"


class CaseController(Controller):
    path = "/cases"
    guards = [requires_case_access]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/{case_id:int}", name="cases.detail")
    async def detail(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template:
        return await render_case(request, case_id)

    # --- triage ----------------------------------------------------------------------------

    @post("/{case_id:int}/start-triage", name="cases.start_triage")
    async def start_triage(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                           data: FormBody) -> Any:
        return await _run(request, case_id, data, lambda s: s.start_triage(case_id),
                          _("Triage started."), "start_triage")

    @post("/{case_id:int}/officers/{case_officer_id:int}/link", name="cases.link_officer")
    async def link_officer(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                           case_officer_id: FromPath[int], data: FormBody) -> Any:
        form = f"link_officer_{case_officer_id}"
        choice = forms.text(data, "officer_id", 20)
        picked = await pickers.read_picker(data, "officer_pick", "officer")
        if choice in ("", "search"):
            step = await _picker_step(request, case_id, data, form, picked)
            if step is not None:
                return step

        async def act(s: CaseService) -> None:
            unidentified = choice == "unidentified"
            officer_id = None
            if not unidentified:
                officer_id = (picked.id if choice in ("", "search")
                              else forms.optional_int(data, "officer_id"))
            await s.link_officer(case_id, case_officer_id, officer_id=officer_id,
                                 unidentified=unidentified)
        return await _run(request, case_id, data, act, _("Officer updated."),
                          f"link_officer_{case_officer_id}", "#officers")

    @post("/{case_id:int}/officers/{case_officer_id:int}/propose", name="cases.propose_officer")
    async def propose_officer(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                              case_officer_id: FromPath[int], data: FormBody) -> Any:
        form = f"propose_officer_{case_officer_id}"
        picked = await pickers.read_picker(data, "propose_agency", "agency")
        step = await _picker_step(request, case_id, data, form, picked)
        if step is not None:
            return step

        async def act(s: CaseService) -> None:
            await s.propose_officer(case_id, case_officer_id,
                                    name=forms.text(data, "propose_name", 200),
                                    badge_number=forms.text(data, "propose_badge", 40),
                                    agency_id=picked.id)
        return await _run(request, case_id, data, act,
                          _("Officer added to the registry, awaiting a supervisor's "
                            "confirmation."), form, "#officers")

    @post("/{case_id:int}/agency", name="cases.set_agency")
    async def set_agency(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                         data: FormBody) -> Any:
        picked = await pickers.read_picker(data, "agency_id", "agency")
        step = await _picker_step(request, case_id, data, "set_agency", picked)
        if step is not None:
            return step

        async def act(s: CaseService) -> None:
            await s.set_agency(case_id, picked.id, forms.optional_int(data, "agreement_id"))
        return await _run(request, case_id, data, act, _("Agency saved."), "set_agency")

    @post("/{case_id:int}/allegations", name="cases.add_allegation")
    async def add_allegation(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                             data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.add_allegation(
                case_id, allegation_type=forms.text(data, "allegation_type", 30),
                case_officer_id=forms.optional_int(data, "case_officer_id"),
                protected_characteristic=forms.text(data, "protected_characteristic", 30),
                description=forms.text(data, "description"))
        return await _run(request, case_id, data, act, _("Allegation added."),
                          "add_allegation", "#allegations")

    @post("/{case_id:int}/open", name="cases.open")
    async def open_investigation(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                                 data: FormBody) -> Any:
        return await _run(request, case_id, data, lambda s: s.open_investigation(case_id),
                          _("Investigation opened. A supervisor will assign a lead."), "open")

    @post("/{case_id:int}/refer", name="cases.refer")
    async def refer(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                    data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.refer(case_id, body=forms.text(data, "body", 20),
                          body_other=forms.text(data, "body_other", 200),
                          reason=forms.text(data, "reason"),
                          sent_on=forms.optional_date(data, "sent_on"),
                          reference_number=forms.text(data, "reference_number", 100))
        return await _run(request, case_id, data, act, _("Complaint referred."), "refer")

    @post("/{case_id:int}/decline", name="cases.decline")
    async def decline(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                      data: FormBody) -> Any:
        return await _run(request, case_id, data,
                          lambda s: s.decline(case_id, forms.text(data, "reason")),
                          _("Complaint declined."), "decline")

    # --- assignment ------------------------------------------------------------------------

    async def _assign_page(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                           errors: dict[str, str] | None = None,
                           values: dict[str, Any] | None = None,
                           status_code: int = 200) -> Template:
        service = _service(request)
        case = await service.view_case(case_id)
        from casetracker.auth import policies

        if not (policies.may_transition(service.actor, case, "assign")
                or policies.may_act_on_case(service.actor, case, "reassign")):
            if not has_permission(service.actor, P.CASE_ASSIGN):
                raise PermissionDeniedException("You do not have permission to assign cases.")
            raise InvalidTransition(_("This case cannot be assigned in its current state."))
        workloads = await service.investigator_workloads()
        return Template("cases/assign.html.j2", status_code=status_code, context={
            "case": case, "workloads": workloads, "errors": errors or {},
            "values": values or {}, "status_label": rules.status_label(case["status"]),
            "reassign": case["lead_investigator"] is not None,
        })

    @get("/{case_id:int}/assign", name="cases.assign_form")
    async def assign_form(self, request: Request[Any, Any, Any],
                          case_id: FromPath[int]) -> Template:
        return await self._assign_page(request, case_id)

    @post("/{case_id:int}/assign", name="cases.assign")
    async def assign(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                     data: FormBody) -> Any:
        service = _service(request)
        try:
            await service.assign_investigator(case_id,
                                              forms.optional_int(data, "investigator"),
                                              forms.text(data, "reason"))
        except ValidationFailed as exc:
            return await self._assign_page(request, case_id, exc.errors, data, 422)
        flash(request, _("Lead investigator assigned and notified."))
        return Redirect(path=await landing_after(service, case_id), status_code=303)

    # --- investigation ---------------------------------------------------------------------

    @post("/{case_id:int}/notes", name="cases.add_note")
    async def add_note(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                       data: FormBody) -> Any:
        return await _run(request, case_id, data,
                          lambda s: s.add_note(case_id, forms.text(data, "note_body")),
                          _("Note added."), "add_note", "#notes")

    @post("/{case_id:int}/tasks", name="cases.add_task")
    async def add_task(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                       data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.add_task(case_id, forms.text(data, "task_title", 300),
                             forms.optional_date(data, "task_due_on"),
                             forms.optional_int(data, "task_assignee"))
        return await _run(request, case_id, data, act, _("Task added."), "add_task", "#tasks")

    @post("/{case_id:int}/tasks/{task_id:int}/complete", name="cases.complete_task")
    async def complete_task(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                            task_id: FromPath[int], data: FormBody) -> Any:
        return await _run(request, case_id, data, lambda s: s.complete_task(case_id, task_id),
                          _("Task marked done."), "complete_task", "#tasks")

    @post("/{case_id:int}/interviews", name="cases.record_interview")
    async def record_interview(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                               data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.record_interview(
                case_id, interviewee=forms.text(data, "interviewee", 200),
                interviewee_role=forms.text(data, "interviewee_role", 20),
                held_at=forms.optional_local_datetime(data, "held_at"),
                language=forms.text(data, "language", 40),
                interpreter=forms.text(data, "interpreter", 200),
                summary=forms.text(data, "summary"))
        return await _run(request, case_id, data, act, _("Interview recorded."),
                          "record_interview", "#interviews")

    @post("/{case_id:int}/allegations/{allegation_id:int}/recommend",
          name="cases.recommend_finding")
    async def recommend_finding(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                                allegation_id: FromPath[int], data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.record_recommended_finding(
                case_id, allegation_id, finding=forms.text(data, "finding", 30),
                rationale=forms.text(data, "rationale"),
                standard=forms.text(data, "standard", 40) or "preponderance",
                action=forms.text(data, "recommended_action"))
        return await _run(request, case_id, data, act, _("Recommended finding saved."),
                          f"recommend_{allegation_id}", "#allegations")

    @post("/{case_id:int}/submit-findings", name="cases.submit_findings")
    async def submit_findings(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                              data: FormBody) -> Any:
        return await _run(request, case_id, data, lambda s: s.submit_findings(case_id),
                          _("Findings submitted for review."), "submit_findings")

    @post("/{case_id:int}/resume", name="cases.resume")
    async def resume(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                     data: FormBody) -> Any:
        return await _run(request, case_id, data, lambda s: s.resume_investigation(case_id),
                          _("Investigation resumed."), "resume")

    # --- review ----------------------------------------------------------------------------

    @post("/{case_id:int}/start-review", name="cases.start_review")
    async def start_review(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                           data: FormBody) -> Any:
        return await _run(request, case_id, data, lambda s: s.start_review(case_id),
                          _("Review started."), "start_review")

    @post("/{case_id:int}/allegations/{allegation_id:int}/final", name="cases.accept_finding")
    async def accept_finding(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                             allegation_id: FromPath[int], data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.accept_finding(case_id, allegation_id,
                                   finding=forms.text(data, "final_finding", 30) or None,
                                   rationale=forms.text(data, "final_rationale"))
        return await _run(request, case_id, data, act, _("Final finding recorded."),
                          f"final_{allegation_id}", "#allegations")

    @post("/{case_id:int}/return", name="cases.return")
    async def return_to_investigation(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                                      data: FormBody) -> Any:
        return await _run(request, case_id, data,
                          lambda s: s.return_to_investigation(case_id,
                                                              forms.text(data, "comments")),
                          _("Case returned to the investigator."), "return")

    @get("/{case_id:int}/close", name="cases.close_confirm")
    async def close_confirm(self, request: Request[Any, Any, Any],
                            case_id: FromPath[int]) -> Template:
        """"Close the case?": the open tasks (mark done or carry) and what comes next."""
        from casetracker.auth import policies
        from casetracker.cases import clocks
        from casetracker.cases.tables import Task

        service = _service(request)
        case = await service.view_case(case_id)
        if not policies.may_transition(service.actor, case, "close"):
            policies.ensure_may_transition(service.actor, case, "close")
        open_tasks = await Task.select().where(
            (Task.case == case_id) & Task.done_at.is_null()).order_by(Task.due_on, Task.id)
        allegations = await service._allegations(case_id)
        problem = None
        try:
            rules.require_close(allegations)
        except InvalidTransition as exc:
            problem = exc.message
        results_due = (clocks.results_due(service.now(), service.clock_rules)
                       if case["ice_notification_required"] else None)
        return Template("cases/close.html.j2", context={
            "case": case, "open_tasks": open_tasks, "problem": problem,
            "results_due": results_due, "status_label": rules.status_label(case["status"]),
            "outcome": rules.case_outcome(a["final_finding"] for a in allegations)
            if problem is None else None,
            "labels": {"findings": rules.FINDING_LABELS}})

    @post("/{case_id:int}/close", name="cases.close")
    async def close(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                    data: FormBody) -> Any:
        if forms.text(data, "confirm", 10) != "yes":
            # Closing is asked for once more, with the open tasks listed.
            return Redirect(path=f"/cases/{case_id}/close", status_code=303)
        close_task_ids = [int(v) for v in forms.values(data, "close_task") if v.isdigit()]
        response = await _run(request, case_id, data,
                              lambda s: s.close(case_id, close_task_ids=close_task_ids),
                              _("Case closed."), "close")
        if isinstance(response, Redirect):
            from casetracker.cases.tables import Case

            case = await Case.select(Case.results_due_at).where(Case.id == case_id).first()
            if case and case["results_due_at"] is not None:
                from casetracker.web.templating import long_datetime

                flash(request, _("Next step: report the results to ICE by %(date)s "
                                 "(\"Results reported to ICE\" on the case).",
                                 date=long_datetime(case["results_due_at"])))
        return response

    # --- referrals -------------------------------------------------------------------------

    @post("/{case_id:int}/referrals", name="cases.record_referral")
    async def record_referral(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                              data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.record_referral(
                case_id, body=forms.text(data, "body", 20),
                body_other=forms.text(data, "body_other", 200),
                sent_on=forms.optional_date(data, "sent_on"),
                sent_time=forms.optional_time(data, "sent_time"),
                reference_number=forms.text(data, "reference_number", 100),
                acknowledged_on=forms.optional_date(data, "acknowledged_on"),
                outcome=forms.text(data, "outcome"),
                outcome_on=forms.optional_date(data, "outcome_on"),
                is_ice_notification=forms.checkbox(data, "is_ice_notification"))
        return await _run(request, case_id, data, act, _("Referral recorded."),
                          "record_referral", "#referrals")

    @post("/{case_id:int}/referrals/{referral_id:int}", name="cases.update_referral")
    async def update_referral(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                              referral_id: FromPath[int], data: FormBody) -> Any:
        async def act(s: CaseService) -> None:
            await s.update_referral(
                case_id, referral_id,
                reference_number=forms.text(data, "reference_number", 100),
                acknowledged_on=forms.optional_date(data, "acknowledged_on"),
                outcome=forms.text(data, "outcome"),
                outcome_on=forms.optional_date(data, "outcome_on"))
        return await _run(request, case_id, data, act, _("Referral updated."),
                          f"referral_{referral_id}", "#referrals")

    @post("/{case_id:int}/results-reported", name="cases.results_reported")
    async def results_reported(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                               data: FormBody) -> Any:
        return await _run(request, case_id, data,
                          lambda s: s.record_results_reported(
                              case_id, forms.optional_date(data, "reported_on")),
                          _("Results to ICE recorded."), "results_reported")

    # --- designations ----------------------------------------------------------------------

    @post("/{case_id:int}/designations/{designation_id:int}/suspend",
          name="cases.suspend_designation")
    async def suspend_designation(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                                  designation_id: FromPath[int], data: FormBody) -> Any:
        return await _run(request, case_id, data,
                          lambda s: s.suspend_designation(case_id, designation_id,
                                                          reason=forms.text(data, "reason")),
                          _("Designation suspended pending adjudication."),
                          f"designation_{designation_id}", "#officers")

    @post("/{case_id:int}/designations/{designation_id:int}/lift",
          name="cases.lift_suspension")
    async def lift_suspension(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                              designation_id: FromPath[int], data: FormBody) -> Any:
        return await _run(request, case_id, data,
                          lambda s: s.lift_suspension(case_id, designation_id,
                                                      reason=forms.text(data, "reason")),
                          _("Suspension lifted."), f"designation_{designation_id}",
                          "#officers")



class ProposedOfficersController(Controller):
    """Officers proposed at triage: a supervisor confirms each or merges it."""

    path = "/registry/proposed-officers"
    guards = [requires_any(P.REGISTRY_EDIT, P.CASE_REVIEW)]  # noqa: RUF012 - read by Litestar

    async def _page(self, request: Request[Any, Any, Any], errors: dict[str, str] | None = None,
                    failed: int | None = None, values: dict[str, Any] | None = None,
                    status_code: int = 200) -> Template:
        service = ProposedOfficers(_actor(request))
        rows = await service.pending()
        merge_pickers = {}
        for row in rows:
            merge_pickers[row["id"]] = await pickers.read_picker(
                values if failed == row["id"] and values else {}, "into", "officer",
                agency_id=None)
        return Template("registry/proposed_officers.html.j2", status_code=status_code,
                        context={"rows": rows, "errors": errors or {}, "failed": failed,
                                 "merge_pickers": merge_pickers})

    @get("/", name="registry.proposed_officers")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        return await self._page(request)

    @post("/{officer_id:int}/confirm", name="registry.proposed_officer.confirm")
    async def confirm(self, request: Request[Any, Any, Any], officer_id: FromPath[int],
                      data: FormBody) -> Any:
        await ProposedOfficers(_actor(request)).confirm(officer_id)
        flash(request, _("Officer confirmed in the registry."))
        return Redirect(path="/registry/proposed-officers", status_code=303)

    @post("/{officer_id:int}/merge", name="registry.proposed_officer.merge")
    async def merge(self, request: Request[Any, Any, Any], officer_id: FromPath[int],
                    data: FormBody) -> Any:
        choice = forms.text(data, "into_choice", 20)
        picked = await pickers.read_picker(data, "into", "officer")
        if pickers.finding(data) or (choice in ("", "search") and picked.needs_choice):
            errors = {} if pickers.finding(data) else pickers.picker_errors(picked)
            return await self._page(request, errors, officer_id, data,
                                    422 if errors else 200)
        into = picked.id if choice in ("", "search") else forms.optional_int(data, "into_choice")
        try:
            await ProposedOfficers(_actor(request)).merge(officer_id, into)
        except ValidationFailed as exc:
            return await self._page(request, exc.errors, officer_id, data, 422)
        flash(request, _("Merged: the cases now name the registry officer."))
        return Redirect(path="/registry/proposed-officers", status_code=303)


def _actor(request: Request[Any, Any, Any]) -> Any:
    actor = actor_from_connection(request)
    assert actor is not None  # the guard ran
    return actor
