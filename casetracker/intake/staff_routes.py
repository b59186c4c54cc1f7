"""Staff pages for complaints received by other channels: the entry form (the public form's
fields and checks, plus how and when it was received), then the page with the tracking number,
the access code and the printable letter in the complainant's language.

The form is URL-encoded (files are added afterwards on the case's evidence page). "Add another
officer/witness" and "Find agency" show the form again with everything kept; "File the
complaint" files once per form (a one-time token) and redirects (303)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from casetracker.auth.guards import actor_from_connection, requires
from casetracker.intake import forms
from casetracker.intake.letters import access_letter, letter_filename, render_letter_pdf
from casetracker.intake.public import limits
from casetracker.intake.services import resolve_officer_agencies, search_agencies
from casetracker.intake.staff import (
    ENTER_PERMISSION,
    StaffIntakeService,
    staff_choices,
)
from casetracker.intake.staff_forms import (
    CHANNELS,
    REFERRING_BODIES,
    HowReceived,
    letter_language,
    parse_how_received,
)
from casetracker.settings import get_settings
from casetracker.web.flash import flash
from casetracker.web.i18n import get_language
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

SESSION_KEY = "intake_entered"  # the last entry form's token, to show its letter


def _fields(form: Any) -> dict[str, list[str]]:
    return {key: [str(v) for v in form.getall(key)] for key in form.keys()}


async def _page(request: Request[Any, Any, Any], data: forms.ComplaintInput,
                how: HowReceived, errors: dict[str, str], token: str, *,
                find_agency: int | None = None, add: str = "",
                status_code: int = 200) -> Template:
    suggestions: dict[int, list[dict[str, Any]]] = {}
    if find_agency is not None and 0 <= find_agency < len(data.officers) and \
            data.officers[find_agency].agency_id is None:
        suggestions[find_agency] = await search_agencies(data.officers[find_agency].agency, 8)
    values = forms.form_values(data, add_officer=add == "officer", add_witness=add == "witness")
    actor = actor_from_connection(request)
    return Template("intake/enter.html.j2", status_code=status_code, context={
        **values, "errors": errors, "forms": forms, "limits": limits(),
        "suggestions": suggestions, "how": how, "token": token, "channels": CHANNELS,
        "referring_bodies": REFERRING_BODIES, "staff": await staff_choices(),
        "me": actor.id if actor else None, "with_files": False,
    })


class StaffIntakeController(Controller):
    path = "/intake"
    guards = [requires(ENTER_PERMISSION)]  # noqa: RUF012 - Litestar reads this class attribute
    include_in_schema = False

    @get("/new", name="intake.staff.form")
    async def form(self, request: Request[Any, Any, Any]) -> Template:
        actor = actor_from_connection(request)
        now = datetime.now(UTC).astimezone(ZoneInfo(get_settings().timezone))
        how = HowReceived(received_on=now.date().isoformat(),
                          received_time=now.strftime("%H:%M"),
                          taken_by=actor.id if actor else None)
        return await _page(request, forms.ComplaintInput(language=get_language()), how, {},
                           secrets.token_urlsafe(24))

    @post("/new", name="intake.staff.enter")
    async def enter(self, request: Request[Any, Any, Any]) -> Response[Any] | Template:
        fields = _fields(await request.form())
        action = (fields.get("action") or ["file"])[0]
        token = (fields.get("once") or [""])[0][:100] or secrets.token_urlsafe(24)
        if action in ("add_officer", "add_witness"):
            data, _errors = forms.parse_complaint(fields, language=get_language())
            how, _how_errors = parse_how_received(fields, zone=get_settings().timezone)
            await resolve_officer_agencies(data.officers)
            return await _page(request, data, how, {}, token,
                               add="officer" if action == "add_officer" else "witness")
        if action.startswith("find_agency-"):
            data, _errors = forms.parse_complaint(fields, language=get_language())
            how, _how_errors = parse_how_received(fields, zone=get_settings().timezone)
            await resolve_officer_agencies(data.officers)
            index = action.rsplit("-", 1)[1]
            return await _page(request, data, how, {}, token,
                               find_agency=int(index) if index.isdigit() else None)
        data, errors = forms.parse_complaint(fields, language=get_language())
        await resolve_officer_agencies(data.officers)
        staff_ids = {row["id"] for row in await staff_choices()}
        how, how_errors = parse_how_received(fields, zone=get_settings().timezone,
                                             staff_ids=staff_ids)
        errors = {**how_errors, **errors}
        if errors:
            return await _page(request, data, how, errors, token, status_code=422)
        language = letter_language(data)
        data.language = language
        actor = actor_from_connection(request)
        assert actor is not None  # the guard ran
        filed = await StaffIntakeService(actor).enter_complaint(
            data, how, token=token, letter_language=language)
        request.session[SESSION_KEY] = token
        flash(request, _("Complaint %(number)s filed on behalf of the complainant.",
                         number=filed.tracking_number))
        return Redirect(path="/intake/entered", status_code=303)

    async def _entered(self, request: Request[Any, Any, Any]) -> Any:
        token = request.session.get(SESSION_KEY) if "session" in request.scope else None
        if not token:
            return None
        actor = actor_from_connection(request)
        assert actor is not None
        return await StaffIntakeService(actor).entered(str(token))

    @get("/entered", name="intake.staff.entered")
    async def entered(self, request: Request[Any, Any, Any]) -> Response[Any] | Template:
        filed = await self._entered(request)
        if filed is None:
            return Redirect(path="/intake/new", status_code=303)
        response = Template("intake/entered.html.j2", context={"filed": filed})
        response.headers["Cache-Control"] = "no-store"
        return response

    @get("/entered/letter.pdf", name="intake.staff.letter")
    async def letter(self, request: Request[Any, Any, Any],
                     lang: FromQuery[str] = "") -> Response[Any]:
        filed = await self._entered(request)
        if filed is None or not filed.access_code:
            return Redirect(path="/intake/entered", status_code=303)
        language = lang if lang in ("en", "es") else filed.language
        letter = access_letter(language=language, tracking_number=filed.tracking_number,
                               access_code=filed.access_code, received_at=filed.received_at,
                               resolution_due_at=filed.resolution_due_at,
                               today=datetime.now(UTC))
        pdf = await render_letter_pdf(letter)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{letter_filename(letter)}"',
            "Cache-Control": "no-store"})
