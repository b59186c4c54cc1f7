"""Staff pages for letters to the complainant and the contact log (on the case page): prepare
a step's letter, read and edit it, send it by the complainant's preferred contact, print it,
mark it mailed or read by phone, record a call or an e-mail. Every POST redirects (303)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect

from casetracker.auth.guards import actor_from_connection, requires_any
from casetracker.auth.permissions import Permission as P
from casetracker.cases import forms as case_forms
from casetracker.errors import InvalidTransition, NotFound, ValidationFailed
from casetracker.intake.correspondence import CorrespondenceService, delivery_channel
from casetracker.intake.letters import letter_filename, render_letter_pdf, step_letter
from casetracker.intake.tables import ComplainantContact
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _service(request: Request[Any, Any, Any]) -> CorrespondenceService:
    actor = actor_from_connection(request)
    assert actor is not None  # the guard ran
    return CorrespondenceService(actor)


def channel_labels() -> dict[str, str]:
    return {"email": _("E-mail"), "mail": _("Letter by post"), "phone": _("Phone"),
            "status_page": _("Status page only"), "in_person": _("In person")}


def status_labels() -> dict[str, str]:
    return {"draft": _("Draft, not sent"), "sent": _("E-mailed"),
            "to_print": _("Waiting to be printed and mailed"), "mailed": _("Mailed"),
            "to_call": _("Waiting for the call"), "called": _("Read by phone"),
            "shown": _("On the status page")}


class LetterController(Controller):
    path = "/cases/{case_id:int}"
    guards = [requires_any(P.CASE_READ_ALL, P.CASE_READ_ASSIGNED,  # noqa: RUF012
                           P.CASE_READ_TRIAGE)]
    include_in_schema = False

    async def _letter(self, request: Request[Any, Any, Any], case_id: int,
                      letter_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        letter, case = await _service(request).view(letter_id)
        if case["id"] != case_id:
            raise NotFound(_("There is no such letter."))
        return letter, case

    async def _page(self, request: Request[Any, Any, Any], case_id: int, letter_id: int, *,
                    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
                    status_code: int = 200) -> Template:
        letter, case = await self._letter(request, case_id, letter_id)
        contact = await ComplainantContact.select().where(
            ComplainantContact.case == case_id).first()
        return Template("intake/letter.html.j2", status_code=status_code, context={
            "letter": letter, "case": case, "errors": errors or {}, "values": values or {},
            "channel": delivery_channel(case, contact) if letter["status"] == "draft"
            else letter["channel"],
            "channels": channel_labels(), "statuses": status_labels()})

    @post("/letters/prepare", name="letters.prepare")
    async def prepare(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                      data: FormBody) -> Any:
        letter_id = await _service(request).prepare(case_id, case_forms.text(data, "kind", 12))
        return Redirect(path=f"/cases/{case_id}/letters/{letter_id}", status_code=303)

    @get("/letters/{letter_id:int}", name="letters.edit")
    async def edit_form(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                        letter_id: FromPath[int]) -> Template:
        return await self._page(request, case_id, letter_id)

    @post("/letters/{letter_id:int}", name="letters.save")
    async def save(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                   letter_id: FromPath[int], data: FormBody) -> Any:
        service = _service(request)
        await self._letter(request, case_id, letter_id)
        action = case_forms.text(data, "action", 10)
        try:
            await service.edit(letter_id, subject=case_forms.text(data, "subject", 400),
                               body=case_forms.text(data, "body", 25_000))
            if action == "send":
                channel = await service.send(letter_id)
                flash(request, {
                    "email": _("The letter is being e-mailed to the complainant."),
                    "mail": _("The letter is queued for printing: print it, post it, then "
                              "mark it as mailed."),
                    "phone": _("A task to call the complainant and read the letter was "
                               "added."),
                    "status_page": _("The letter is on the complainant's status page."),
                }[channel])
                return Redirect(path=f"/cases/{case_id}#letters", status_code=303)
        except ValidationFailed as exc:
            return await self._page(request, case_id, letter_id, errors=exc.errors,
                                    values=data, status_code=422)
        except InvalidTransition as exc:
            flash(request, exc.message, "error")
            return Redirect(path=f"/cases/{case_id}#letters", status_code=303)
        flash(request, _("Letter saved."))
        return Redirect(path=f"/cases/{case_id}/letters/{letter_id}", status_code=303)

    @get("/letters/{letter_id:int}/letter.pdf", name="letters.pdf")
    async def pdf(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                  letter_id: FromPath[int]) -> Response[Any]:
        letter, case = await self._letter(request, case_id, letter_id)
        printable = step_letter(language=letter["language"], kind=letter["kind"],
                                tracking_number=case["tracking_number"],
                                subject=letter["subject"], body=letter["body"],
                                today=letter["sent_at"] or datetime.now(UTC))
        data = await render_letter_pdf(printable)
        return Response(data, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{letter_filename(printable)}"'})

    @post("/letters/{letter_id:int}/done", name="letters.done")
    async def done(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                   letter_id: FromPath[int], data: FormBody) -> Any:
        await self._letter(request, case_id, letter_id)
        await _service(request).mark_done(letter_id)
        flash(request, _("Recorded in the contact log."))
        return Redirect(path=f"/cases/{case_id}#contact-log", status_code=303)

    @post("/contact-log", name="letters.contact_log")
    async def record_contact(self, request: Request[Any, Any, Any], case_id: FromPath[int],
                             data: FormBody) -> Any:
        from casetracker.cases.controllers import render_case

        try:
            await _service(request).record_contact(
                case_id, channel=case_forms.text(data, "contact_channel", 12),
                direction=case_forms.text(data, "contact_direction", 4),
                summary=case_forms.text(data, "contact_summary", 5000),
                at=case_forms.optional_local_datetime(data, "contact_at"))
        except ValidationFailed as exc:
            return await render_case(request, case_id, errors=exc.errors, values=data,
                                     form="contact_log", status_code=422)
        flash(request, _("Contact recorded."))
        return Redirect(path=f"/cases/{case_id}#contact-log", status_code=303)
