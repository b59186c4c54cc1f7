"""What every public page shares: error pages in the public layout and the reader's language,
reading a public form (CSRF checked, files streamed to staging), limits and the language query.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import ClientException, HTTPException

from casetracker.auth.actor import Actor
from casetracker.auth.guards import PUBLIC
from casetracker.errors import CaseTrackerError
from casetracker.settings import get_settings
from casetracker.web.i18n import get_language
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

log = logging.getLogger("casetracker.intake")

MB = 1_000_000  # "MB" means 1,000,000 bytes everywhere: settings, hints and error messages
PUBLIC_OPT = {PUBLIC: True, "skip_session": True}
FORM_OPT = {PUBLIC: True, "skip_session": True}  # url-encoded forms: the CSRF middleware checks
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

def address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def limits() -> dict[str, Any]:
    settings = get_settings()
    return {"file_mb": settings.upload_max_file_mb, "max_files": settings.upload_max_files,
            "total_mb": settings.upload_max_complaint_mb}


async def read_form(request: Request[Any, Any, Any], *, max_files: int | None = None,
                    max_total_bytes: int | None = None,
                    ) -> tuple[dict[str, list[str]], list[Any], dict[str, str]]:
    """The submitted fields, the staged files and file errors. Checks the CSRF token.

    Multipart bodies stream to the evidence staging area (at most ``max_files`` files and
    ``max_total_bytes`` together: what is left of the limits); url-encoded bodies (forms
    without a file input, or sent without files) are read in memory (small) and checked the
    same way."""
    from casetracker.evidence.ingest import parse_streaming_form, verify_csrf_token

    media_type, _options = request.content_type
    if media_type == "multipart/form-data":
        settings = get_settings()
        parsed = await parse_streaming_form(
            request,
            max_file_bytes=settings.upload_max_file_mb * MB,
            max_files=settings.upload_max_files if max_files is None else max(0, max_files),
            max_total_bytes=(settings.upload_max_complaint_mb * MB if max_total_bytes is None
                             else max(0, max_total_bytes)),
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


async def discard_files(files: list[Any]) -> None:
    from casetracker.evidence.ingest import discard

    for staged in files:
        await discard(staged)


def attach_hook(files: list[Any], actor: Actor) -> Any:
    """The service's hook that stores the staged files inside its transaction."""
    from casetracker.intake.services import attach_staged

    return attach_staged(files, actor)


def lang_query() -> str:
    return f"?lang={get_language()}"


def status_text(case: dict[str, Any]) -> str:
    try:
        from casetracker.cases.rules import public_status_text
    except ImportError:  # pragma: no cover - the cases package provides it
        return _("Your complaint is being handled.")
    return public_status_text(case["status"], case.get("outcome") or "",
                              case.get("referred_to") or "")


def next_step_text(case: dict[str, Any]) -> str:
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




def no_store(response: Response[Any]) -> Response[Any]:
    """Pages holding a complaint's codes or content are never cached."""
    response.headers["cache-control"] = "no-store"
    return response
