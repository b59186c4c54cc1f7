"""Every error mapped to HTTP in one place: pages for browsers, JSON for the API.

No traceback ever reaches a browser; details go to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from casetracker.errors import CaseTrackerError, ValidationFailed
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

log = logging.getLogger("casetracker.errors")


class LoginRequired(NotAuthorizedException):
    """Raised by the session guard; browsers are sent to the login page."""


class RedirectRequired(HTTPException):
    """Raised by guards that must send the user somewhere first (password change, 2FA)."""

    status_code = 303

    def __init__(self, location: str) -> None:
        super().__init__(detail="redirect")
        self.location = location


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


_TITLES = {
    400: "The request could not be understood",
    401: "Please sign in",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "That change cannot be made now",
    413: "What you sent is too large",
    422: "Please check what you entered",
    429: "Too many requests",
    500: "Something went wrong on our side",
}

_MESSAGES = {
    400: "Please go back, check what you entered and try again.",
    401: "Please sign in to continue.",
    403: "If you think you should have access, ask an administrator.",
    404: "The page you asked for does not exist, or you may not see it.",
    405: "Please go back and use the buttons on the page.",
    409: "The record changed or is not in a state that allows this. Reload it and try again.",
    413: "Please send smaller files, or fewer at a time.",
    429: "Please wait a few minutes and try again.",
    500: "The error has been logged. Please try again in a moment.",
}


def error_response(
    request: Request[Any, Any, Any], status_code: int, message: str | None = None
) -> Response[Any]:
    title = _(_TITLES.get(status_code, _TITLES[400]))
    text = message or _(_MESSAGES.get(status_code, _MESSAGES[400]))
    if wants_json(request):
        return Response({"status_code": status_code, "detail": text}, status_code=status_code,
                        media_type=MediaType.JSON)
    return Template(
        template_name="errors/error.html.j2",
        context={"status_code": status_code, "title": title, "message": text},
        status_code=status_code,
    )


def handle_domain_error(request: Request[Any, Any, Any], exc: CaseTrackerError) -> Response[Any]:
    if isinstance(exc, ValidationFailed) and wants_json(request):
        return Response({"status_code": 422, "detail": exc.message, "errors": exc.errors},
                        status_code=422)
    return error_response(request, exc.status_code, exc.message or None)


def handle_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, RedirectRequired):
        return Redirect(path=exc.location, status_code=303)
    if isinstance(exc, NotAuthorizedException) and not wants_json(request):
        from urllib.parse import quote

        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return Redirect(path=f"/login?next={quote(target, safe='')}", status_code=303)
    status = exc.status_code
    message: str | None = None
    if isinstance(exc, (NotFoundException, PermissionDeniedException)):
        message = None
    if status == 403 and "CSRF" in str(exc.detail):
        message = _("Your form expired or was sent from another page. "
                    "Please go back, reload the page and send it again.")
    elif status == 400 and wants_json(request):
        message = str(exc.detail)
    if status == 400 and not wants_json(request):
        log.info("400 on %s: %s", request.url.path, exc.detail)
    response = error_response(request, status, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("Unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR)


def _is_text_too_long(exc: Exception) -> bool:
    try:
        from asyncpg.exceptions import StringDataRightTruncationError
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(exc, StringDataRightTruncationError)


def _is_id_out_of_range(exc: Exception) -> bool:
    """A number in the address or a filter too large for the database's integer columns
    (SQLite: 64-bit; PostgreSQL: 32-bit ids). No row can have such an id."""
    text = str(exc)
    return "SQLite INTEGER" in text or "out of int32 range" in text or (
        "out of int64 range" in text)


def handle_out_of_range(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Absurd input (an id of 99999999999, the year 1 or 9999 in a date filter) is the
    visitor's mistake, never a 500: an id no row can have is "not found", the rest a 400."""
    if _is_text_too_long(exc):
        # A safety net: forms check lengths first, so this means one of them forgot to.
        log.warning("over-long text reached the database on %s %s", request.method,
                    request.url.path)
        return error_response(request, 422, _(
            "One of the fields is longer than allowed. Please go back, shorten it and "
            "send the form again."))
    if not isinstance(exc, OverflowError) and not _is_id_out_of_range(exc):
        return handle_unexpected(request, exc)
    log.info("out-of-range input on %s %s: %s", request.method, request.url.path, exc)
    return error_response(request, 404 if _is_id_out_of_range(exc) else 400)


def _database_data_errors() -> dict[Any, Any]:
    try:
        from asyncpg.exceptions import DataError
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return {}
    return {DataError: handle_out_of_range}


EXCEPTION_HANDLERS: dict[Any, Any] = {
    CaseTrackerError: handle_domain_error,
    HTTPException: handle_http_error,
    OverflowError: handle_out_of_range,
    **_database_data_errors(),
    Exception: handle_unexpected,
}
