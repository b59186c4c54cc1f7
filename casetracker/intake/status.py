"""The status pages: look a complaint up, see where it stands, add information, change consents.

POST /status checks the tracking number and access code once, then gives the browser a signed
``ct_status`` cookie for this complaint (30 minutes, renewed while in use, ended by "Leave") and
redirects (303) to GET /status/complaint. Every later form on the page (add information,
consents, receipt) uses that cookie, so the access code is never put back into a page, and
each POST is answered with a redirect too. The follow-up form carries a one-time token: a
double click or a retry adds it once.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from casetracker.auth.actor import Actor
from casetracker.intake import forms, once, rules
from casetracker.intake.controllers import receipt_response
from casetracker.intake.public import (
    FORM_BODY_LIMIT,
    FORM_OPT,
    PUBLIC_EXCEPTION_HANDLERS,
    PUBLIC_OPT,
    UPLOAD_BODY_LIMIT,
    UPLOAD_OPT,
    address,
    attach_hook,
    discard_files,
    lang_query,
    limits,
    next_step_text,
    no_store,
    public_error,
    read_form,
    status_text,
)
from casetracker.intake.services import IntakeService, rate_limit_allows
from casetracker.settings import get_settings
from casetracker.web.i18n import get_language
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

log = logging.getLogger("casetracker.intake")

COOKIE = "ct_status"
IDLE = timedelta(minutes=30)


def _see(path: str, query: str = "", anchor: str = "") -> Redirect:
    joiner = "&" if query else ""
    return Redirect(path=f"{path}{lang_query()}{joiner}{query}{anchor}", status_code=303)


def _cookie_case_id(request: Request[Any, Any, Any]) -> int | None:
    token = rules.read_signed_cookie(get_settings().secret_key, COOKIE,
                                     request.cookies.get(COOKIE), datetime.now(UTC).timestamp())
    if token is None:
        return None
    case_part = token.split("x", 1)[0]
    return int(case_part) if case_part.isdigit() else None


def _with_status_cookie(response: Response[Any], case_id: int) -> Response[Any]:
    settings = get_settings()
    token = f"{case_id}x{secrets.token_hex(4)}"
    expires = int((datetime.now(UTC) + IDLE).timestamp())
    response.set_cookie(COOKIE, rules.signed_cookie_value(settings.secret_key, COOKIE, token,
                                                          expires),
                        path="/status", httponly=True, samesite="strict",
                        secure=settings.secure_cookies)
    return response


async def _case_from_cookie(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    case_id = _cookie_case_id(request)
    if case_id is None:
        return None
    return await IntakeService(Actor.public(None)).public_case(case_id)


def _lookup_page(number: str, errors: dict[str, str], status_code: int,
                 notice: str = "") -> Template:
    return Template("public/status_lookup.html.j2", status_code=status_code, context={
        "errors": errors, "tracking_number": number, "lang_query": lang_query(),
        "notice": notice})


async def _status_page(case: dict[str, Any], *, errors: dict[str, str] | None = None,
                       message: str = "", files_dropped: bool = False,
                       added: dict[str, Any] | None = None, consent_saved: bool = False,
                       status_code: int = 200) -> Response[Any]:
    service = IntakeService(Actor.public(None))
    history = await service.public_history(case["id"])
    response = Template("public/status.html.j2", status_code=status_code, context={
        "case": case, "status_text": status_text(case), "next_text": next_step_text(case),
        "follow_ups": history["follow_ups"], "letters": history["letters"],
        "errors": errors or {}, "message": message, "files_dropped": files_dropped,
        "added": added, "consent_saved": consent_saved, "limits": limits(),
        "once_token": secrets.token_urlsafe(18), "lang_query": lang_query(),
    })
    return _with_status_cookie(no_store(response), case["id"])


class StatusController(Controller):
    path = "/status"
    exception_handlers = PUBLIC_EXCEPTION_HANDLERS
    include_in_schema = False

    @get("/", name="intake.status", opt=PUBLIC_OPT)
    async def status_form(self, ended: FromQuery[str] = "") -> Template:
        notice = _("You left the page of your complaint. To see it again, enter your two "
                   "codes.") if ended else ""
        return _lookup_page("", {}, 200, notice)

    @post("/", name="intake.status.lookup", opt=FORM_OPT, request_max_body_size=FORM_BODY_LIMIT)
    async def status_lookup(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        number = str(form.get("tracking_number", ""))[:40]
        code = str(form.get("access_code", ""))[:80]
        if not await rate_limit_allows("lookup", address(request)):
            return public_error(request, 429)
        case = await IntakeService(Actor.public(None)).find_case(number, code)
        if case is None:
            return _lookup_page(number, {"form": _(
                "We could not find a complaint with that tracking number and access code. "
                "Check both and try again. Letters and numbers that look alike (such as O "
                "and 0) are never used, and dashes and spaces do not matter.")}, 422)
        return _with_status_cookie(_see("/status/complaint"), case["id"])

    @get("/complaint", name="intake.status.page", opt=PUBLIC_OPT)
    async def status_page(self, request: Request[Any, Any, Any], added: FromQuery[str] = "",
                          consent: FromQuery[str] = "") -> Response[Any]:
        case = await _case_from_cookie(request)
        if case is None:
            return _see("/status", "ended=1" if request.cookies.get(COOKIE) else "")
        shown = None
        if added.isdigit():
            shown = await IntakeService(Actor.public(None)).follow_up_summary(case["id"],
                                                                               int(added))
        return await _status_page(case, added=shown, consent_saved=bool(consent))

    @get("/complaint/receipt", name="intake.status.receipt", opt=PUBLIC_OPT)
    async def status_receipt(self, request: Request[Any, Any, Any]) -> Response[Any]:
        case = await _case_from_cookie(request)
        if case is None:
            return _see("/status", "ended=1")
        return await receipt_response(case["id"])

    @post("/add", name="intake.follow_up", opt=UPLOAD_OPT,
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def add_follow_up(self, request: Request[Any, Any, Any]) -> Response[Any]:
        fields, files, file_errors = await read_form(request)
        try:
            return await self._add(request, fields, files, file_errors)
        finally:
            await discard_files(files)  # promoted ones (stored) are not touched

    async def _add(self, request: Request[Any, Any, Any], fields: dict[str, list[str]],
                   files: list[Any], file_errors: dict[str, str]) -> Response[Any]:
        case = await _case_from_cookie(request)
        if case is None:
            return _lookup_page("", {"form": _(
                "For your safety the page of your complaint closes after 30 minutes without "
                "use. Nothing was added. Enter your two codes again, then add your information "
                "(copy your text first).")}, 422)
        message, errors = forms.parse_follow_up(fields)
        token = (fields.get("once") or [""])[0][:100]
        key = once.OnceKey(kind="follow_up", key=f"{case['id']}:{token}",
                           fingerprint=str(case["id"]), answer_for=timedelta(hours=2),
                           remember_for=timedelta(hours=2)) if token else None
        if key is not None:
            previous = await once.previous(key)
            if previous is not None:  # a double click or a retry: added once already
                follow_up_id = (previous.answer or {}).get("follow_up_id", "")
                return _see("/status/complaint", f"added={follow_up_id}", "#added")
        if not await rate_limit_allows("lookup", address(request)):
            # Nothing typed is lost: the message comes back, ready to send again later.
            return await _status_page(case, errors={"form": _(
                "You have sent many requests from this connection in the last hour. For your "
                "safety, please wait an hour before trying again. Nothing was added yet: your "
                "text is still below.")}, message=message, files_dropped=bool(files),
                status_code=429)
        errors = {**errors, **file_errors}
        if not errors and not message and not files:
            errors["message"] = _("Write something, or attach a file, before sending.")
        if errors:
            return await _status_page(case, errors=errors, message=message,
                                      files_dropped=bool(files) or "files" in errors,
                                      status_code=422)
        actor = Actor.public(ip_address=None)
        try:
            added = await IntakeService(actor).add_follow_up(
                case["id"], message, language=get_language(),
                attach_files=attach_hook(files, actor), once_key=key)
        except Exception:
            log.exception("adding a follow-up failed; nothing was stored")
            return await _status_page(case, errors={"form": _(
                "We could not store this because of a problem on our side. Nothing was "
                "stored. Please send it again in a moment (files must be attached again)."
            )}, message=message, files_dropped=bool(files), status_code=422)
        return _see("/status/complaint", f"added={added['id']}", "#added")

    @post("/consent", name="intake.status.consent", opt=FORM_OPT,
          request_max_body_size=FORM_BODY_LIMIT)
    async def change_consent(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        case = await _case_from_cookie(request)
        if case is None:
            return _see("/status", "ended=1")
        choices = {name: str(form.get(name, "")) for name in ("share_agency", "share_ice")}
        if case["anonymous"] or any(v not in ("yes", "no") for v in choices.values()):
            return await _status_page(case, errors={"consent": _(
                "Choose yes or no for each question.")}, status_code=422)
        await IntakeService(Actor.public(None)).change_consent(
            case["id"], share_agency=choices["share_agency"] == "yes",
            share_ice=choices["share_ice"] == "yes")
        return _see("/status/complaint", "consent=1", "#consent")

    @post("/leave", name="intake.status.leave", opt=FORM_OPT,
          request_max_body_size=FORM_BODY_LIMIT)
    async def leave(self) -> Response[Any]:
        response = _see("/status", "ended=1")
        response.delete_cookie(COOKIE, path="/status")
        return response
