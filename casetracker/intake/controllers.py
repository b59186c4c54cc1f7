"""The public site: landing page, complaint form, confirmation, receipt, status and follow-ups.

Every route here is public and keeps no session. The two multipart routes (filing, follow-up)
are excluded from the CSRF middleware because it would read the whole upload first; they check
the token themselves, before any file is stored (evidence.ingest.parse_streaming_form).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.exceptions import ClientException, HTTPException, PermissionDeniedException
from litestar.params import FromPath, FromQuery

from casetracker.auth.actor import Actor
from casetracker.auth.guards import PUBLIC
from casetracker.errors import CaseTrackerError
from casetracker.intake import forms
from casetracker.intake.receipt import (
    build_receipt,
    case_id_from_token,
    receipt_filename,
    receipt_token,
    render_receipt_pdf,
)
from casetracker.intake.services import (
    IntakeService,
    rate_limit_allows,
    resolve_officer_agencies,
    search_agencies,
)
from casetracker.settings import get_settings
from casetracker.web.i18n import get_language
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

log = logging.getLogger("casetracker.intake")

MB = 1024 * 1024
PUBLIC_OPT = {PUBLIC: True, "skip_session": True}
UPLOAD_OPT = {PUBLIC: True, "skip_session": True, "exclude_from_csrf": True}
# Litestar refuses bodies over this before reading them (413); the settings' own limits are
# checked while streaming. Read at import: a restart picks up a new setting.
_BOOT = get_settings()
UPLOAD_BODY_LIMIT = (_BOOT.upload_max_complaint_mb + 2) * MB
FORM_BODY_LIMIT = 1 * MB  # forms without files (status look-up, "add another officer")


# --- errors on public pages: the public layout, in the chosen language ----------------------

def N_(message: str) -> str:
    return message


_TITLES = {
    400: N_("The request could not be understood"),
    403: N_("Your form expired"),
    404: N_("Page not found"),
    405: N_("That action is not allowed here"),
    413: N_("What you sent is too large"),
    422: N_("Please check what you entered"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
}


def public_error(request: Request[Any, Any, Any], status: int, message: str = "",
                 title: str = "") -> Response[Any]:
    settings = get_settings()
    if not message:
        message = {
            403: _("Your form expired or was sent from another page. Please go back, reload "
                   "the page and send it again. Nothing was stored."),
            413: _("What you sent is larger than we can accept. Each file may be up to "
                   "%(file_mb)s MB, and all files together up to %(total_mb)s MB. Please send "
                   "smaller or fewer files. Nothing was stored.",
                   file_mb=settings.upload_max_file_mb,
                   total_mb=settings.upload_max_complaint_mb),
            429: _("You have sent many requests from this connection in the last hour. To "
                   "protect people's complaints we pause for a while. Please try again in an "
                   "hour. Nothing you sent before was lost."),
            500: _("The error has been noted. Please try again in a moment. If it keeps "
                   "happening, you can also complain by phone or post (see the start page)."),
        }.get(status, _("Please go back, check what you entered and try again."))
    title = title or _(_TITLES.get(status, _TITLES[400]))
    if request.url.path.startswith("/api/"):
        return Response({"status_code": status, "detail": message}, status_code=status,
                        media_type=MediaType.JSON)
    return Template("public/error.html.j2",
                    context={"status_code": status, "title": title, "message": message},
                    status_code=status)


def _handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 400:
        log.info("400 on %s: %s", request.url.path, exc.detail)
    if status == 403 and "CSRF" not in str(exc.detail):
        return public_error(request, 403, _("That is not allowed."), _("Not allowed"))
    return public_error(request, status)


def _handle_domain(request: Request[Any, Any, Any], exc: CaseTrackerError) -> Response[Any]:
    return public_error(request, exc.status_code, exc.message)


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("Unhandled error on %s %s", request.method, request.url.path)
    return public_error(request, 500)


PUBLIC_EXCEPTION_HANDLERS: dict[Any, Any] = {
    HTTPException: _handle_http,
    CaseTrackerError: _handle_domain,
    Exception: _handle_unexpected,
}


# --- helpers --------------------------------------------------------------------------------

def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _limits() -> dict[str, Any]:
    settings = get_settings()
    return {"file_mb": settings.upload_max_file_mb, "max_files": settings.upload_max_files,
            "total_mb": settings.upload_max_complaint_mb}


async def _read_form(request: Request[Any, Any, Any], *, with_files: bool,
                     ) -> tuple[dict[str, list[str]], list[Any], dict[str, str]]:
    """The submitted fields, the staged files and file errors. Checks the CSRF token.

    Multipart bodies stream to the evidence staging area; url-encoded bodies ("add another
    officer" buttons send no files) are read in memory (small) and checked the same way."""
    from casetracker.evidence.ingest import parse_streaming_form, verify_csrf_token

    media_type, _options = request.content_type
    if media_type == "multipart/form-data":
        settings = get_settings()
        parsed = await parse_streaming_form(
            request,
            max_file_bytes=settings.upload_max_file_mb * MB,
            max_files=settings.upload_max_files if with_files else 0,
            max_total_bytes=settings.upload_max_complaint_mb * MB,
            max_field_bytes=64_000,
        )
        files = [staged for _name, staged in parsed.files]
        return parsed.fields, files, dict(parsed.errors)
    if media_type != "application/x-www-form-urlencoded":
        raise ClientException("Expected a form.")
    # The route accepts large (multipart) bodies; a form without files is read with a small cap.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_BODY_LIMIT:
        raise HTTPException(status_code=413, detail="form too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_BODY_LIMIT:
            raise HTTPException(status_code=413, detail="form too large")
    from urllib.parse import parse_qs

    fields = parse_qs(bytes(body).decode("utf-8", errors="replace"), keep_blank_values=True,
                      max_num_fields=2000)
    token = (fields.pop("_csrf_token", None) or [""])[0]
    verify_csrf_token(request, request.headers.get("x-csrftoken") or token)
    return fields, [], {}


async def _discard(files: list[Any]) -> None:
    from casetracker.evidence.ingest import discard

    for staged in files:
        await discard(staged)


def _attach(files: list[Any], actor: Actor) -> Any:
    """The service's hook that stores the staged files inside its transaction."""
    if not files:
        return None

    async def attach(case_id: int, follow_up_id: int | None) -> int:
        from casetracker.evidence.ingest import EvidenceService

        items = await EvidenceService(actor).attach(
            case_id, files, source="complainant", follow_up_id=follow_up_id)
        return len(items)

    return attach


def _lang_query() -> str:
    return f"?lang={get_language()}"


def _status_text(case: dict[str, Any]) -> str:
    try:
        from casetracker.cases.rules import public_status_text
    except ImportError:  # pragma: no cover - the cases package provides it
        return _("Your complaint is being handled.")
    return public_status_text(case["status"], case.get("outcome") or "",
                              case.get("referred_to") or "")


def _next_step_text(case: dict[str, Any]) -> str:
    status = case["status"]
    if status in ("received", "in_triage"):
        return _("Staff read every complaint. Within about a week they decide whether to "
                 "investigate it, send it to the office responsible, or both. If you gave "
                 "contact details and allowed contact, they may get in touch.")
    if status in ("open", "under_investigation", "returned", "findings_submitted",
                  "under_review"):
        return _("An investigator gathers evidence and may talk to you, witnesses and the "
                 "officers. You can add information or files below at any time.")
    if status == "referred":
        return _("The office it was sent to decides what happens next. You can still add "
                 "information here; we pass it on.")
    return _("No further steps are planned. You can still add information below; staff "
             "will read it.")


def _form_context(data: forms.ComplaintInput, errors: dict[str, str], *,
                  add_officer: bool = False, add_witness: bool = False,
                  suggestions: dict[int, list[dict[str, Any]]] | None = None,
                  files_dropped: bool = False) -> dict[str, Any]:
    values = forms.form_values(data, add_officer=add_officer, add_witness=add_witness)
    return {
        **values,
        "errors": errors,
        "forms": forms,
        "limits": _limits(),
        "suggestions": suggestions or {},
        "files_dropped": files_dropped,
        "lang_query": _lang_query(),
    }


# --- pages ------------------------------------------------------------------------------------

class PublicController(Controller):
    path = "/"
    exception_handlers = PUBLIC_EXCEPTION_HANDLERS
    include_in_schema = False

    @get("/", name="public.home", opt=PUBLIC_OPT)
    async def home(self) -> Template:
        return Template("public/home.html.j2", context={"lang_query": _lang_query()})

    @get("/complaint", name="intake.form", opt=PUBLIC_OPT)
    async def complaint_form(self) -> Template:
        data = forms.ComplaintInput(language=get_language())
        return Template("public/complaint.html.j2", context=_form_context(data, {}))

    @get("/complaint/agencies", name="intake.agencies", opt=PUBLIC_OPT)
    async def agency_suggestions(self, q: FromQuery[str] = "") -> Response[Any]:
        rows = await search_agencies(q[:100], 12) if len(q.strip()) >= 2 else []
        return Response([{"id": r["id"], "label": f"{r['name']}, {r['state']}"} for r in rows],
                        media_type=MediaType.JSON)

    @post("/complaint", name="intake.submit", opt=UPLOAD_OPT,
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def submit_complaint(self, request: Request[Any, Any, Any]) -> Response[Any]:
        fields, files, file_errors = await _read_form(request, with_files=True)
        try:
            return await self._submit(request, fields, files, file_errors)
        finally:
            # Files are promoted (kept) only by a successful filing; anything else is removed.
            await _discard(files)

    async def _submit(self, request: Request[Any, Any, Any], fields: dict[str, list[str]],
                      files: list[Any], file_errors: dict[str, str]) -> Response[Any]:
        language = get_language()
        data, errors = forms.parse_complaint(fields, language=language)
        action = (fields.get("action") or ["submit"])[0]
        await resolve_officer_agencies(data.officers)
        if data.honeypot_filled:
            log.info("honeypot field filled; complaint not stored")
            return public_error(request, 400, _(
                "We could not accept this form. If you are a person, please reload the page "
                "and try again, leaving every field you cannot see empty."))
        if action != "submit":
            # "Add another officer/witness" or "look up the agency": show the form again,
            # everything kept, no errors yet.
            suggestions: dict[int, list[dict[str, Any]]] = {}
            if action.startswith("find_agency-"):
                index_text = action.rsplit("-", 1)[1]
                if index_text.isdigit() and int(index_text) < len(data.officers):
                    officer = data.officers[int(index_text)]
                    suggestions[int(index_text)] = await search_agencies(officer.agency, 8)
            return Template("public/complaint.html.j2", context=_form_context(
                data, {}, add_officer=action == "add_officer",
                add_witness=action == "add_witness", suggestions=suggestions,
                files_dropped=bool(files)), status_code=200)
        errors = {**errors, **{k: v for k, v in file_errors.items() if k not in errors}}
        if errors:
            return Template("public/complaint.html.j2", context=_form_context(
                data, errors, files_dropped=bool(files) or "files" in errors or bool(
                    fields.get("had_files"))), status_code=422)
        if not await rate_limit_allows("file", _address(request)):
            # Nothing typed is lost: the form comes back with a sentence saying to wait.
            return Template("public/complaint.html.j2", context=_form_context(data, {
                "form": _("Too many complaints were sent from this connection in the last "
                          "hour. Everything you typed is still below: please wait an hour and "
                          "send it again (files must be attached again).")},
                files_dropped=bool(files)), status_code=429)
        actor = Actor.public(ip_address=None)
        try:
            filed = await IntakeService(actor).file_complaint(
                data, channel="web", attach_files=_attach(files, actor))
        except Exception:
            log.exception("filing a complaint failed; nothing was stored")
            errors = {"form": _(
                "We could not store your complaint because of a problem on our side. Nothing "
                "was stored. Everything you typed is still below: please send it again in a "
                "moment (files must be attached again).")}
            return Template("public/complaint.html.j2", context=_form_context(
                data, errors, files_dropped=bool(files)), status_code=422)
        # The e-mailed receipt is a job promised by the filing (rendered and sent by a worker).
        return Template("public/confirmation.html.j2", context={
            "filed": filed, "receipt_token": receipt_token(filed.case_id),
            "lang_query": _lang_query(), "email_sent": bool(data.email),
        }, status_code=201)

    @get("/complaint/receipt/{token:str}", name="intake.receipt", opt=PUBLIC_OPT)
    async def receipt_download(self, request: Request[Any, Any, Any], token: FromPath[str]
                               ) -> Response[Any]:
        case_id = case_id_from_token(token)
        if case_id is None:
            return public_error(request, 404, _(
                "This receipt link has expired. You can still download your receipt from the "
                "status page with your tracking number and access code."), _("Link expired"))
        return await _receipt_response(case_id)

    # --- status --------------------------------------------------------------------------

    @get("/status", name="intake.status", opt=PUBLIC_OPT)
    async def status_form(self) -> Template:
        return Template("public/status_lookup.html.j2", context={
            "errors": {}, "tracking_number": "", "lang_query": _lang_query()})

    @post("/status", name="intake.status.lookup", opt=PUBLIC_OPT,
          request_max_body_size=FORM_BODY_LIMIT)
    async def status_lookup(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        number = str(form.get("tracking_number", ""))[:40]
        code = str(form.get("access_code", ""))[:80]
        case = await _checked_lookup(request, number, code)
        if isinstance(case, Response):
            return case
        return await _status_page(case, code)

    @post("/status/receipt", name="intake.status.receipt", opt=PUBLIC_OPT,
          request_max_body_size=FORM_BODY_LIMIT)
    async def status_receipt(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        case = await _checked_lookup(request, str(form.get("tracking_number", ""))[:40],
                                     str(form.get("access_code", ""))[:80])
        if isinstance(case, Response):
            return case
        return await _receipt_response(case["id"])

    @post("/status/add", name="intake.follow_up", opt=UPLOAD_OPT,
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def add_follow_up(self, request: Request[Any, Any, Any]) -> Response[Any]:
        fields, files, file_errors = await _read_form(request, with_files=True)
        try:
            number = (fields.get("tracking_number") or [""])[0][:40]
            code = (fields.get("access_code") or [""])[0][:80]
            message, errors = forms.parse_follow_up(fields)
            if not await rate_limit_allows("lookup", _address(request)):
                # Nothing typed is lost: the message comes back, ready to send again later.
                return Template("public/follow_up_wait.html.j2", context={
                    "errors": {"form": _(
                        "You have sent many requests from this connection in the last hour. "
                        "For your safety, please wait an hour before trying again.")},
                    "tracking_number": number, "access_code": code,
                    "message": (fields.get("message") or [""])[0][:7000],
                    "files_dropped": bool(files), "lang_query": _lang_query()},
                    status_code=429)
            case = await _checked_lookup(request, number, code, limited=False)
            if isinstance(case, Response):
                return case
            errors = {**errors, **file_errors}
            if not errors and not message and not files:
                errors["message"] = _("Write something, or attach a file, before sending.")
            if errors:
                return await _status_page(case, code, errors=errors, message=message,
                                          files_dropped=bool(files) or "files" in errors,
                                          status_code=422)
            actor = Actor.public(ip_address=None)
            try:
                added = await IntakeService(actor).add_follow_up(
                    case["id"], message, language=get_language(),
                    attach_files=_attach(files, actor))
            except Exception:
                log.exception("adding a follow-up failed; nothing was stored")
                return await _status_page(case, code, errors={"form": _(
                    "We could not store this because of a problem on our side. Nothing was "
                    "stored. Please send it again in a moment (files must be attached again)."
                )}, message=message, files_dropped=bool(files), status_code=422)
            return await _status_page(case, code, added=added)
        finally:
            await _discard(files)


async def _checked_lookup(request: Request[Any, Any, Any], number: str,
                          code: str, *, limited: bool = True) -> dict[str, Any] | Response[Any]:
    """The case, or the response to give: 429 when over the limit (unless the caller counted
    this request already: ``limited=False``), and one generic answer for any wrong number or
    code."""
    if limited and not await rate_limit_allows("lookup", _address(request)):
        return public_error(request, 429)
    case = await IntakeService(Actor.public(None)).find_case(number, code)
    if case is None:
        return Template("public/status_lookup.html.j2", context={
            "errors": {"form": _(
                "We could not find a complaint with that tracking number and access code. "
                "Check both and try again. Letters and numbers that look alike (such as O "
                "and 0) are never used, and dashes and spaces do not matter.")},
            "tracking_number": number, "lang_query": _lang_query()}, status_code=422)
    return case


async def _status_page(case: dict[str, Any], code: str, *, errors: dict[str, str] | None = None,
                       message: str = "", files_dropped: bool = False,
                       added: dict[str, Any] | None = None, status_code: int = 200) -> Template:
    from casetracker.intake.tables import FollowUp

    follow_ups = await FollowUp.select(FollowUp.received_at).where(
        FollowUp.case == case["id"]).order_by(FollowUp.received_at)
    return Template("public/status.html.j2", context={
        "case": case, "access_code": code, "status_text": _status_text(case),
        "next_text": _next_step_text(case), "follow_ups": follow_ups,
        "errors": errors or {}, "message": message, "files_dropped": files_dropped,
        "added": added, "limits": _limits(), "lang_query": _lang_query(),
    }, status_code=status_code)


async def _receipt_response(case_id: int) -> Response[bytes]:
    view = await build_receipt(case_id)
    pdf = await render_receipt_pdf(view)
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="{receipt_filename(view.tracking_number)}"',
        "cache-control": "no-store",
    })


def now_utc() -> datetime:
    return datetime.now(UTC)


__all__ = ["PUBLIC_EXCEPTION_HANDLERS", "PermissionDeniedException", "PublicController",
           "public_error"]
