"""Registry pages: lists and details for staff with registry:read; forms for registry:edit."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from casetracker.auth import policies
from casetracker.auth.guards import actor_from_connection, requires
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import has_permission
from casetracker.errors import InvalidTransition, NotFound, ValidationFailed
from casetracker.oversight import portfolio
from casetracker.registry import forms, merge, pickers, program_managers, queries, rules
from casetracker.registry.merge import MergeService
from casetracker.registry.services import RegistryService, last_import
from casetracker.registry.tables import (
    MODEL_LABELS,
    AgencyKind,
    AgencyMerge,
    AgreementStatus,
    DesignationStatus,
    Officer,
)
from casetracker.settings import get_settings, local_today
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
READ = [requires(Permission.REGISTRY_READ)]
EDIT = [requires(Permission.REGISTRY_EDIT)]
SUSPEND = [requires(Permission.DESIGNATION_SUSPEND)]


def _cycle() -> int:
    return get_settings().training_cycle_days


def _actor(request: Request[Any, Any, Any]) -> Any:
    actor = actor_from_connection(request)
    assert actor is not None  # the session guard ran first
    return actor


async def _agency_page(request: Request[Any, Any, Any], agency_id: int, *,
                       status_code: int = 200, **context: Any) -> Template:
    agency = await queries.agency_detail(agency_id, today=local_today(), cycle_days=_cycle())
    merges = await merge.merges_of(agency_id)
    candidates: list[Any] = []
    if agency.get("merged_into") is None and has_permission(_actor(request),
                                                             Permission.REGISTRY_EDIT):
        candidates = await merge.merge_candidates(agency)
    actor = _actor(request)
    in_portfolio = None  # None: the viewer keeps no portfolio
    if has_permission(actor, Permission.OVERSIGHT_FLAGS):
        in_portfolio = agency_id in await portfolio.my_agency_ids(actor.id)
    return _form("registry/agency.html.j2", status_code, agency=agency, merges=merges,
                 merge_candidates=candidates, in_portfolio=in_portfolio,
                 case_history=await _case_history(request, "agency", agency_id), **context)


async def _program_manager_page(program_manager_id: int, status_code: int = 200,
                                **context: Any) -> Template:
    manager = await program_managers.program_manager_detail(program_manager_id)
    context.setdefault("values", manager)
    context.setdefault("errors", {})
    return _form("registry/program_manager.html.j2", status_code, manager=manager,
                 agreements=await queries.agreement_choices(), **context)


async def _case_id_for(tracking_number: str) -> int | None:
    from casetracker.cases.tables import Case

    row = await Case.select(Case.id).where(Case.tracking_number == tracking_number).first()
    return row["id"] if row else None


async def _tracking_numbers(case_ids: list[int | None]) -> dict[int, str]:
    from casetracker.cases.tables import Case

    wanted = sorted({i for i in case_ids if i})
    if not wanted:
        return {}
    return {r["id"]: r["tracking_number"] for r in await Case.select(
        Case.id, Case.tracking_number).where(Case.id.is_in(wanted))}


async def _case_history(request: Request[Any, Any, Any], subject: str, subject_id: int
                        ) -> dict[str, Any]:
    """Complaint history, flags and recommendations (cases package; each part only for those
    who may read it)."""
    from casetracker.cases import registry_history as history

    actor = actor_from_connection(request)
    target = {f"{subject}_id": subject_id}
    recommendations = await history.recommendations_for(actor, **target)
    return {
        "subject": subject,
        "complaints": await history.complaint_history(actor, **target),
        "flags": await history.flags_for(actor, subject, subject_id),
        "recommendations": recommendations,
        "issued": [r for r in recommendations if r["status"] == "issued"],
    }


def _service(request: Request[Any, Any, Any]) -> RegistryService:
    actor = actor_from_connection(request)
    assert actor is not None  # the session guard ran first
    return RegistryService(actor)


def _choices() -> dict[str, Any]:
    return {
        "states": sorted(rules.STATE_NAMES.items(), key=lambda item: item[1]),
        "models": [(code, _(label)) for code, label in MODEL_LABELS.items()],
        "agreement_statuses": [s.value for s in AgreementStatus],
        "designation_statuses": [s.value for s in DesignationStatus],
        "kinds": [k.value for k in AgencyKind],
    }


def _q(request: Request[Any, Any, Any], name: str, allowed: set[str] | None = None) -> str:
    value = (request.query_params.get(name) or "").strip()[:200]
    if allowed is not None and value not in allowed:
        return ""
    return value


def _int_q(request: Request[Any, Any, Any], name: str) -> int | None:
    value = request.query_params.get(name) or ""
    return int(value) if value.isdigit() and len(value) < 12 else None


async def _agency_pick(data: dict[str, Any] | None, current_id: int | None = None
                       ) -> pickers.Picked:
    return await pickers.read_picker(data or {}, "agency_id", "agency", current_id=current_id)


def _picker_page(template: str, data: dict[str, Any], picked: pickers.Picked,
                 **context: Any) -> Template | None:
    """The no-JavaScript "Find" step of the agency picker, or words not yet a choice."""
    if pickers.finding(data):
        return _form(template, 200, agency_pick=picked, values=forms.raw_values(data), **context)
    if picked.needs_choice:
        return _form(template, 422, agency_pick=picked, values=forms.raw_values(data),
                     errors=pickers.picker_errors(picked), **context)
    return None


def _form(template: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    return Template(template, context={**_choices(), **context}, status_code=status_code)


class RegistryController(Controller):
    path = "/registry"

    # --- pickers (suggestions while typing; see registry/pickers.py) -----------------------

    @get("/pick/{kind:str}", name="registry.pick", guards=READ)
    async def pick(self, request: Request[Any, Any, Any],
                   kind: FromPath[str]) -> list[dict[str, Any]]:
        """Suggestions for a picker as JSON: ``[{"id", "label", "hint"}]`` (at most 12)."""
        if kind not in pickers.KINDS:
            raise NotFound("There is no such list.")
        return await pickers.search(kind, _q(request, "q"),
                                    agency_id=_int_q(request, "agency_id"))

    # --- agencies --------------------------------------------------------------------------

    @get("/agencies", name="registry.agencies", guards=READ)
    async def agencies(self, request: Request[Any, Any, Any]) -> Template:
        filters = {
            "q": _q(request, "q"),
            "state": _q(request, "state", set(rules.STATE_NAMES)),
            "model": _q(request, "model", set(MODEL_LABELS)),
            "status": _q(request, "status", {s.value for s in AgreementStatus}),
        }
        page = await queries.list_agencies(**filters, after=_int_q(request, "after"))
        return _form("registry/agencies.html.j2", page=page, filters=filters,
                     last_import=await last_import())

    @get("/agencies/new", name="registry.agency.new", guards=EDIT)
    async def agency_new(self) -> Template:
        return _form("registry/agency_form.html.j2", agency=None, values={"kind": "county"})

    @post("/agencies/new", name="registry.agency.create", guards=EDIT)
    async def agency_create(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        values, errors = forms.validate_agency(data)
        if not errors:
            try:
                agency_id = await _service(request).create_agency(**values)
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                flash(request, _("Agency created."))
                return Redirect(path=request.app.route_reverse("registry.agency",
                                                               agency_id=agency_id),
                                status_code=303)
        return _form("registry/agency_form.html.j2", 422, agency=None,
                     values=forms.raw_values(data), errors=errors)

    @get("/agencies/{agency_id:int}", name="registry.agency", guards=READ)
    async def agency(self, request: Request[Any, Any, Any], agency_id: FromPath[int]
                     ) -> Template:
        return await _agency_page(request, agency_id)

    @post("/agencies/{agency_id:int}/merge", name="registry.agency.merge", guards=EDIT)
    async def agency_merge(self, request: Request[Any, Any, Any], agency_id: FromPath[int],
                           data: FormBody) -> Any:
        """Merge the chosen agency into this one (this one is kept)."""
        merged_id = str(data.get("merged_id", "")).strip()
        reason = str(data.get("reason", ""))
        errors: dict[str, str] = {}
        if not merged_id.isdigit():
            errors["merged_id"] = _("Choose the agency to merge into this one.")
        else:
            try:
                await MergeService(_actor(request)).merge_agencies(
                    kept_id=agency_id, merged_id=int(merged_id), reason=reason)
            except ValidationFailed as exc:
                errors = exc.errors
            except NotFound:
                errors = {"merged_id": _("Choose the agency to merge into this one.")}
            else:
                flash(request, _("Agencies merged. The other record is kept as another name "
                                 "of this agency; the merge can be undone below."))
                return Redirect(path=request.app.route_reverse("registry.agency",
                                                               agency_id=agency_id),
                                status_code=303)
        return await _agency_page(request, agency_id, status_code=422, errors=errors,
                                  values={"merged_id": merged_id, "reason": reason})

    # --- ICE program managers ---------------------------------------------------------------

    @get("/program-managers", name="registry.program_managers", guards=READ)
    async def program_managers(self) -> Template:
        return _form("registry/program_managers.html.j2",
                     managers=await program_managers.list_program_managers(), values={},
                     errors={})

    @post("/program-managers", name="registry.program_manager.create", guards=EDIT)
    async def program_manager_create(self, request: Request[Any, Any, Any],
                                     data: FormBody) -> Any:
        try:
            pm_id = await program_managers.ProgramManagerService(_actor(request)).save(
                None, {**data, "active": "1"})
        except ValidationFailed as exc:
            return _form("registry/program_managers.html.j2", 422,
                         managers=await program_managers.list_program_managers(),
                         values=forms.raw_values(data), errors=exc.errors)
        flash(request, _("Program manager added."))
        return Redirect(path=request.app.route_reverse("registry.program_manager",
                                                       program_manager_id=pm_id),
                        status_code=303)

    @get("/program-managers/{program_manager_id:int}", name="registry.program_manager",
         guards=READ)
    async def program_manager(self, program_manager_id: FromPath[int]) -> Template:
        return await _program_manager_page(program_manager_id)

    @post("/program-managers/{program_manager_id:int}", name="registry.program_manager.update",
          guards=EDIT)
    async def program_manager_update(self, request: Request[Any, Any, Any],
                                     program_manager_id: FromPath[int], data: FormBody) -> Any:
        try:
            await program_managers.ProgramManagerService(_actor(request)).save(
                program_manager_id, data)
        except ValidationFailed as exc:
            return await _program_manager_page(program_manager_id, 422,
                                               values=forms.raw_values(data), errors=exc.errors)
        flash(request, _("Program manager saved."))
        return Redirect(path=request.app.route_reverse(
            "registry.program_manager", program_manager_id=program_manager_id), status_code=303)

    @post("/program-managers/{program_manager_id:int}/agreements",
          name="registry.program_manager.monitor", guards=EDIT)
    async def program_manager_monitor(self, request: Request[Any, Any, Any],
                                      program_manager_id: FromPath[int], data: FormBody) -> Any:
        service = program_managers.ProgramManagerService(_actor(request))
        raw = str(data.get("agreement_id", "")).strip()
        if data.get("remove") and raw.isdigit():
            await service.stop_monitoring(program_manager_id, int(raw))
            flash(request, _("The program manager no longer monitors that agreement."))
        else:
            try:
                if not raw.isdigit():
                    raise ValidationFailed({"agreement_id": _("Choose an agreement.")})
                added = await service.monitor(program_manager_id, int(raw))
            except ValidationFailed as exc:
                return await _program_manager_page(program_manager_id, 422,
                                                   monitor_errors=exc.errors,
                                                   monitor_value=raw)
            flash(request, _("Agreement added to those the program manager monitors.")
                  if added else _("The program manager already monitors that agreement."))
        return Redirect(path=request.app.route_reverse(
            "registry.program_manager", program_manager_id=program_manager_id), status_code=303)

    @post("/merges/{merge_id:int}/undo", name="registry.merge.undo", guards=EDIT)
    async def merge_undo(self, request: Request[Any, Any, Any], merge_id: FromPath[int]) -> Any:
        record = await queries.get_row(AgencyMerge, merge_id, "merge")
        try:
            await MergeService(_actor(request)).undo_merge(merge_id)
        except InvalidTransition as exc:
            flash(request, str(exc), "error")
        else:
            flash(request, _("Merge undone: both agencies are separate records again."))
        return Redirect(path=request.app.route_reverse("registry.agency",
                                                       agency_id=record["kept"]),
                        status_code=303)

    @get("/agencies/{agency_id:int}/edit", name="registry.agency.edit", guards=EDIT)
    async def agency_edit(self, agency_id: FromPath[int]) -> Template:
        agency = await queries.get_row(queries.Agency, agency_id, "agency")
        return _form("registry/agency_form.html.j2", agency=agency, values=agency)

    @post("/agencies/{agency_id:int}/edit", name="registry.agency.update", guards=EDIT)
    async def agency_update(self, request: Request[Any, Any, Any], agency_id: FromPath[int],
                            data: FormBody) -> Any:
        agency = await queries.get_row(queries.Agency, agency_id, "agency")
        values, errors = forms.validate_agency(data)
        if not errors:
            try:
                changed = await _service(request).update_agency(agency_id, **values)
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                flash(request, _("Agency saved.") if changed else _("Nothing was changed."))
                return Redirect(path=request.app.route_reverse("registry.agency",
                                                               agency_id=agency_id),
                                status_code=303)
        return _form("registry/agency_form.html.j2", 422, agency=agency,
                     values=forms.raw_values(data), errors=errors)

    # --- agreements ------------------------------------------------------------------------

    @get("/agreements", name="registry.agreements", guards=READ)
    async def agreements(self, request: Request[Any, Any, Any]) -> Template:
        filters = {
            "state": _q(request, "state", set(rules.STATE_NAMES)),
            "model": _q(request, "model", set(MODEL_LABELS)),
            "status": _q(request, "status", {s.value for s in AgreementStatus}),
        }
        page = await queries.list_agreements(**filters, after=_int_q(request, "after"))
        return _form("registry/agreements.html.j2", page=page, filters=filters)

    @get("/agreements/new", name="registry.agreement.new", guards=EDIT)
    async def agreement_new(self, request: Request[Any, Any, Any]) -> Template:
        agency_id = _int_q(request, "agency_id")
        return _form("registry/agreement_form.html.j2", agreement=None,
                     agency_pick=await _agency_pick(None, agency_id),
                     values={"agency_id": agency_id, "status": "active"})

    @post("/agreements/new", name="registry.agreement.create", guards=EDIT)
    async def agreement_create(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        picked = await _agency_pick(data)
        step = _picker_page("registry/agreement_form.html.j2", data, picked, agreement=None)
        if step is not None:
            return step
        data = {**data, "agency_id": str(picked.id or "")}
        values, errors = forms.validate_agreement(data, with_agency=True)
        if not errors:
            try:
                agreement_id = await _service(request).create_agreement(**values)
            except ValidationFailed as exc:
                errors = exc.errors
            except NotFound:
                errors = {"agency_id": _("Choose the agency.")}
            else:
                flash(request, _("Agreement created."))
                return Redirect(path=request.app.route_reverse(
                    "registry.agreement", agreement_id=agreement_id), status_code=303)
        raw = forms.raw_values(data)
        raw["agency_id"] = int(raw["agency_id"]) if str(raw.get("agency_id", "")).isdigit() \
            else None
        return _form("registry/agreement_form.html.j2", 422, agreement=None,
                     agency_pick=picked, values=raw, errors=errors)

    @get("/agreements/{agreement_id:int}", name="registry.agreement", guards=READ)
    async def agreement(self, request: Request[Any, Any, Any],
                        agreement_id: FromPath[int]) -> Template:
        agreement = await queries.agreement_detail(agreement_id, today=local_today(),
                                                   cycle_days=_cycle())
        return _form("registry/agreement.html.j2", agreement=agreement,
                     recommendations=await _recommendations(request, agreement_id=agreement_id))

    @get("/agreements/{agreement_id:int}/edit", name="registry.agreement.edit", guards=EDIT)
    async def agreement_edit(self, agreement_id: FromPath[int]) -> Template:
        agreement = await queries.agreement_detail(agreement_id, today=local_today(),
                                                   cycle_days=_cycle())
        return _form("registry/agreement_form.html.j2", agreement=agreement, values=agreement)

    @post("/agreements/{agreement_id:int}/edit", name="registry.agreement.update", guards=EDIT)
    async def agreement_update(self, request: Request[Any, Any, Any], agreement_id: FromPath[int],
                               data: FormBody) -> Any:
        agreement = await queries.agreement_detail(agreement_id, today=local_today(),
                                                   cycle_days=_cycle())
        values, errors = forms.validate_agreement(data, with_agency=False)
        if not errors:
            try:
                changed = await _service(request).update_agreement(agreement_id, **values)
            except ValidationFailed as exc:
                errors = exc.errors
            else:
                flash(request, _("Agreement saved.") if changed else _("Nothing was changed."))
                return Redirect(path=request.app.route_reverse(
                    "registry.agreement", agreement_id=agreement_id), status_code=303)
        return _form("registry/agreement_form.html.j2", 422, agreement=agreement,
                     values=forms.raw_values(data), errors=errors)

    # --- officers --------------------------------------------------------------------------

    @get("/officers", name="registry.officers", guards=READ)
    async def officers(self, request: Request[Any, Any, Any]) -> Template:
        filters = {
            "q": _q(request, "q"),
            "status": _q(request, "status", {s.value for s in DesignationStatus}),
        }
        agency_id = _int_q(request, "agency_id")
        filters["flagged"] = "1" if request.query_params.get("flagged") == "1" else ""
        page = await queries.list_officers(
            q=filters["q"], status=filters["status"], flagged=bool(filters["flagged"]),
            agency_id=agency_id, today=local_today(), cycle_days=_cycle(),
            after=_int_q(request, "after"))
        proposed = 0
        if policies.may_confirm_proposed_officers(actor_from_connection(request)):
            proposed = await Officer.count().where(Officer.awaiting_confirmation.eq(True))
        return _form("registry/officers.html.j2", page=page, filters=filters,
                     agency_id=agency_id, proposed_count=proposed)

    @get("/officers/new", name="registry.officer.new", guards=EDIT)
    async def officer_new(self, request: Request[Any, Any, Any]) -> Template:
        return _form("registry/officer_form.html.j2", officer=None,
                     agency_pick=await _agency_pick(None, _int_q(request, "agency_id")),
                     values={"agency_id": _int_q(request, "agency_id"), "active": True})

    @post("/officers/new", name="registry.officer.create", guards=EDIT)
    async def officer_create(self, request: Request[Any, Any, Any], data: FormBody) -> Any:
        picked = await _agency_pick(data)
        step = _picker_page("registry/officer_form.html.j2", data, picked, officer=None)
        if step is not None:
            return step
        data = {**data, "agency_id": str(picked.id or "")}
        values, errors = forms.validate_officer(data)
        if not errors:
            try:
                officer_id = await _service(request).create_officer(**values)
            except ValidationFailed as exc:
                errors = exc.errors
            except NotFound:
                errors = {"agency_id": _("Choose the officer's agency.")}
            else:
                flash(request, _("Officer added."))
                return Redirect(path=request.app.route_reverse(
                    "registry.officer", officer_id=officer_id), status_code=303)
        return _form("registry/officer_form.html.j2", 422, officer=None,
                     agency_pick=picked, values=_officer_raw(data), errors=errors)

    @get("/officers/{officer_id:int}", name="registry.officer", guards=READ)
    async def officer(self, request: Request[Any, Any, Any], officer_id: FromPath[int]
                      ) -> Template:
        officer = await queries.officer_detail(officer_id, today=local_today(), cycle_days=_cycle())
        return _form("registry/officer.html.j2", officer=officer, today=local_today(),
                     case_refs=await _tracking_numbers(
                         [d["status_case_id"] for d in officer["designations"]]),
                     recommendations=await _recommendations(request, officer_id=officer_id),
                     case_history=await _case_history(request, "officer", officer_id))

    @get("/officers/{officer_id:int}/edit", name="registry.officer.edit", guards=EDIT)
    async def officer_edit(self, officer_id: FromPath[int]) -> Template:
        officer = await queries.officer_detail(officer_id, today=local_today(), cycle_days=_cycle())
        return _form("registry/officer_form.html.j2", officer=officer,
                     agency_pick=await _agency_pick(None, officer["agency"]),
                     values={**officer, "agency_id": officer["agency"]})

    @post("/officers/{officer_id:int}/edit", name="registry.officer.update", guards=EDIT)
    async def officer_update(self, request: Request[Any, Any, Any], officer_id: FromPath[int],
                             data: FormBody) -> Any:
        officer = await queries.officer_detail(officer_id, today=local_today(), cycle_days=_cycle())
        picked = await _agency_pick(data)
        step = _picker_page("registry/officer_form.html.j2", data, picked, officer=officer)
        if step is not None:
            return step
        data = {**data, "agency_id": str(picked.id or "")}
        values, errors = forms.validate_officer(data)
        if not errors:
            values["agency"] = values.pop("agency_id")
            try:
                changed = await _service(request).update_officer(officer_id, **values)
            except ValidationFailed as exc:
                errors = exc.errors
            except NotFound:
                errors = {"agency_id": _("Choose the officer's agency.")}
            else:
                flash(request, _("Officer saved.") if changed else _("Nothing was changed."))
                return Redirect(path=request.app.route_reverse(
                    "registry.officer", officer_id=officer_id), status_code=303)
        return _form("registry/officer_form.html.j2", 422, officer=officer,
                     agency_pick=picked, values=_officer_raw(data), errors=errors)

    # --- designations ----------------------------------------------------------------------

    @get("/officers/{officer_id:int}/designations/new", name="registry.designation.new",
         guards=EDIT)
    async def designation_new(self, officer_id: FromPath[int]) -> Template:
        officer = await queries.get_row(Officer, officer_id, "officer")
        return _form("registry/designation_form.html.j2", officer=officer, designation=None,
                     agreements=await queries.agreements_of(officer["agency"]), values={})

    @post("/officers/{officer_id:int}/designations/new", name="registry.designation.create",
          guards=EDIT)
    async def designation_create(self, request: Request[Any, Any, Any], officer_id: FromPath[int],
                                 data: FormBody) -> Any:
        officer = await queries.get_row(Officer, officer_id, "officer")
        values, errors = forms.validate_designation(data, with_agreement=True)
        if not errors:
            try:
                await _service(request).create_designation(officer_id=officer_id, **values)
            except ValidationFailed as exc:
                errors = exc.errors
            except NotFound:
                errors = {"agreement_id": _("Choose the agreement the officer is designated "
                                            "under.")}
            else:
                flash(request, _("Designation added."))
                return Redirect(path=request.app.route_reverse(
                    "registry.officer", officer_id=officer_id), status_code=303)
        raw = forms.raw_values(data)
        raw["agreement_id"] = int(raw["agreement_id"]) if str(
            raw.get("agreement_id", "")).isdigit() else None
        return _form("registry/designation_form.html.j2", 422, officer=officer,
                     designation=None, agreements=await queries.agreements_of(officer["agency"]),
                     values=raw, errors=errors)

    @get("/designations/{designation_id:int}/edit", name="registry.designation.edit",
         guards=EDIT)
    async def designation_edit(self, designation_id: FromPath[int]) -> Template:
        designation = await queries.designation_with_context(designation_id)
        officer = await queries.get_row(Officer, designation["officer"], "officer")
        return _form("registry/designation_form.html.j2", officer=officer,
                     designation=designation, agreements=[], values=designation)

    @post("/designations/{designation_id:int}/edit", name="registry.designation.update",
          guards=EDIT)
    async def designation_update(self, request: Request[Any, Any, Any],
                                 designation_id: FromPath[int], data: FormBody) -> Any:
        designation = await queries.designation_with_context(designation_id)
        officer = await queries.get_row(Officer, designation["officer"], "officer")
        values, errors = forms.validate_designation(data, with_agreement=False)
        if not errors:
            changed = await _service(request).update_designation(designation_id, **values)
            flash(request, _("Designation saved.") if changed else _("Nothing was changed."))
            return Redirect(path=request.app.route_reverse(
                "registry.officer", officer_id=officer["id"]), status_code=303)
        return _form("registry/designation_form.html.j2", 422, officer=officer,
                     designation=designation, agreements=[], values=forms.raw_values(data),
                     errors=errors)

    @post("/designations/{designation_id:int}/status", name="registry.designation.status",
          guards=SUSPEND)
    async def designation_status(self, request: Request[Any, Any, Any],
                                 designation_id: FromPath[int], data: FormBody) -> Any:
        designation = await queries.designation_with_context(designation_id)
        officer_id = designation["officer"]
        # The case is named by its tracking number, never by an internal id.
        case_ref = str(data.get("case_ref", "") or "").strip().upper()[:40]
        case_id = await _case_id_for(case_ref) if case_ref else None
        data = {**data, "case_id": str(case_id) if case_id else ""}
        values, errors = forms.validate_status_change(data)
        if case_ref and case_id is None:
            errors["case_id"] = _("No case has the tracking number %(ref)s.", ref=case_ref)
        if not errors:
            service = _service(request)
            verb = {"suspend": service.suspend_designation, "lift": service.lift_suspension,
                    "revoke": service.revoke_designation}[values["verb"]]
            try:
                await verb(designation_id, on=values["on"], reason=values["reason"],
                           case_id=values["case_id"])
            except ValidationFailed as exc:
                errors = exc.errors
            except InvalidTransition as exc:
                errors = {"verb": exc.message}
            else:
                flash(request, {"suspend": _("Designation suspended pending adjudication."),
                                "lift": _("Suspension lifted."),
                                "revoke": _("Designation revoked.")}[values["verb"]])
                return Redirect(path=request.app.route_reverse(
                    "registry.officer", officer_id=officer_id), status_code=303)
        officer = await queries.officer_detail(officer_id, today=local_today(), cycle_days=_cycle())
        return _form("registry/officer.html.j2", 422, officer=officer, today=local_today(),
                     status_form={"designation_id": designation_id,
                                  **forms.raw_values(data)},
                     errors=errors)


async def _recommendations(request: Request[Any, Any, Any], **target: int) -> list[Any]:
    """Issued rescission recommendations about this officer or agreement, with ICE's response
    (reports package; empty for those who may not read recommendations)."""
    from casetracker.reports.responses import for_registry_page

    return await for_registry_page(actor_from_connection(request), **target)


def _officer_raw(data: dict[str, Any]) -> dict[str, Any]:
    raw = forms.raw_values(data)
    raw["agency_id"] = int(raw["agency_id"]) if str(raw.get("agency_id", "")).isdigit() else None
    raw["active"] = raw.get("active") in ("1", "on", "true", "yes")
    return raw

