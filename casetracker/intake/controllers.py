"""The public complaint form: form → "Check your answers" → "Send my complaint" → confirmation.

Every POST answers with a redirect (303) except a form with mistakes (422, everything kept) or
an error page. What the person types and the files they choose are kept in a draft bound to
their browser (``intake.drafts``), so "Change" on the review page, "Add another officer", "Find
agency" and a form with mistakes never lose anything. Only "Send my complaint" on the review
page files, once: its token is the draft's own, so a double click, a reload, the back button or
a retry after a timeout shows the first complaint's confirmation and files nothing.

The form POST is multipart and excluded from the CSRF middleware (it would read the whole upload
first); ``public.read_form`` checks the token before any file is stored.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from casetracker.auth.actor import Actor
from casetracker.errors import RateLimited
from casetracker.evidence import ingest
from casetracker.intake import drafts, forms, once
from casetracker.intake.public import (
    FORM_BODY_LIMIT,
    FORM_OPT,
    MB,
    PUBLIC_EXCEPTION_HANDLERS,
    PUBLIC_OPT,
    UPLOAD_BODY_LIMIT,
    UPLOAD_OPT,
    address,
    discard_files,
    lang_query,
    limits,
    no_store,
    public_error,
    read_form,
)
from casetracker.intake.receipt import (
    case_id_from_token,
    receipt_download,
    receipt_token,
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
from casetracker.web.templating import CachedPage
from casetracker.web.templating import HTMLTemplate as Template

log = logging.getLogger("casetracker.intake")

# Fields of the form that are instructions, not answers.
_NOT_ANSWERS = ("action", "_csrf_token", "remove_file")


def _draft_token(request: Request[Any, Any, Any]) -> str | None:
    return drafts.token_from_cookie(request.cookies.get(drafts.COOKIE))


def _with_draft_cookie(response: Response[Any], token: str) -> Response[Any]:
    settings = get_settings()
    # No max-age: the cookie ends with the browser (a shared computer keeps no draft); the
    # value itself expires with the draft.
    response.set_cookie(drafts.COOKIE, drafts.cookie_value(token, settings), path="/complaint",
                        httponly=True, samesite="lax", secure=settings.secure_cookies)
    return response


def _see(path: str, anchor: str = "", *, query: str = "") -> Redirect:
    """303 to a public page, in the reader's language (``query`` adds parameters)."""
    extra = f"&{query}" if query else ""
    return Redirect(path=f"{path}{lang_query()}{extra}{anchor}", status_code=303)


def _empty_form_context() -> dict[str, Any]:
    return _form_context(forms.ComplaintInput(language=get_language()), {}, None, {})


async def _form_page(data: forms.ComplaintInput, errors: dict[str, str], draft: drafts.Draft | None,
                     *, status_code: int = 200, notice: str = "",
                     files_refused: bool = False) -> Template:
    suggestions: dict[int, list[dict[str, Any]]] = {}
    if draft is not None and draft.find_agency is not None:
        index = draft.find_agency
        if 0 <= index < len(data.officers) and data.officers[index].agency_id is None:
            suggestions[index] = await search_agencies(data.officers[index].agency, 8)
    return Template("public/complaint.html.j2", status_code=status_code, context={
        **_form_context(data, errors, draft, suggestions),
        "files_refused": files_refused,
        "notice": notice,
    })


def _form_context(data: forms.ComplaintInput, errors: dict[str, str], draft: drafts.Draft | None,
                  suggestions: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    settings = get_settings()
    files = draft.files if draft is not None else []
    return {
        **forms.form_values(data),
        "errors": errors,
        "forms": forms,
        "limits": limits(),
        "suggestions": suggestions,
        "kept_files": files,
        "files_left": max(0, settings.upload_max_files - len(files)),
        "files_refused": False,
        "notice": "",
        "has_draft": draft is not None and draft.exists,
        "draft_hours": settings.complaint_draft_hours,
        "lang_query": lang_query(),
    }


async def _draft_input(draft: drafts.Draft) -> tuple[forms.ComplaintInput, dict[str, str]]:
    data, errors = forms.parse_complaint(draft.fields, language=get_language())
    await resolve_officer_agencies(data.officers)
    return data, errors


class PublicController(Controller):
    path = "/"
    exception_handlers = PUBLIC_EXCEPTION_HANDLERS
    include_in_schema = False

    @get("/", name="public.home", opt=PUBLIC_OPT)
    async def home(self) -> Template:
        return Template("public/home.html.j2", context={"lang_query": lang_query()})

    # --- the form ------------------------------------------------------------------------

    @get("/complaint", name="intake.form", opt=PUBLIC_OPT)
    async def complaint_form(self, request: Request[Any, Any, Any],
                             expired: FromQuery[str] = "") -> Response[Any]:
        draft = await drafts.load(_draft_token(request))
        notice = ""
        if expired and draft is None:
            notice = _("Your answers were no longer kept: a complaint not sent is removed "
                       "%(hours)s hours after the last change, or when the browser was closed. "
                       "Nothing was sent. Please fill in the form again.",
                       hours=get_settings().complaint_draft_hours)
        if draft is None and not notice and not request.scope.get("session"):
            # A first visit: the same empty form for everyone in this language (no draft, no
            # signed-in user, no message), rendered once and served with this visitor's token.
            return no_store(CachedPage("public/complaint.html.j2", key=(lang_query(),),
                                       context=_empty_form_context))
        if draft is None:
            data = forms.ComplaintInput(language=get_language())
            return no_store(await _form_page(data, {}, None, notice=notice))
        data, _errors = await _draft_input(draft)
        return no_store(await _form_page(data, {}, draft))

    @get("/complaint/agencies", name="intake.agencies", opt=PUBLIC_OPT)
    async def agency_suggestions(self, q: FromQuery[str] = "") -> Response[Any]:
        rows = await search_agencies(q[:100], 12) if len(q.strip()) >= 2 else []
        return Response([{"id": r["id"], "label": r["label"]} for r in rows],
                        media_type=MediaType.JSON)

    @post("/complaint", name="intake.submit", opt=UPLOAD_OPT,
          request_max_body_size=UPLOAD_BODY_LIMIT)
    async def save_complaint(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Keep what was posted in the draft, then: the review page (Continue, Enter), the form
        again (Add another, Find agency, Remove a file), or the form with its mistakes (422)."""
        settings = get_settings()
        token = _draft_token(request)
        draft = await drafts.load(token)
        kept = draft.files if draft is not None else []
        fields, files, file_errors = await read_form(
            request, max_files=settings.upload_max_files - len(kept),
            max_total_bytes=settings.upload_max_complaint_mb * MB - sum(
                int(f["size_bytes"]) for f in kept))
        try:
            return await self._save(request, draft, fields, files, file_errors)
        except BaseException:
            await discard_files(files)  # not in a saved draft: nothing else keeps them
            raise

    async def _save(self, request: Request[Any, Any, Any], draft: drafts.Draft | None,
                    fields: dict[str, list[str]], files: list[Any],
                    file_errors: dict[str, str]) -> Response[Any]:
        settings = get_settings()
        action = (fields.get("action") or ["review"])[0]
        if (fields.get(forms.HONEYPOT) or [""])[0].strip():
            log.info("honeypot field filled; complaint not stored")
            await discard_files(files)
            return public_error(request, 400, _(
                "We could not accept this form. If you are a person, please reload the page "
                "and try again, leaving every field you cannot see empty."))
        if action == "discard":
            await discard_files(files)
            await drafts.discard(draft.token if draft else None)
            response = _see("/complaint")
            response.delete_cookie(drafts.COOKIE, path="/complaint")
            return response
        if draft is None:
            # A new draft counts against the address's hourly limit: each may hold files.
            if not await rate_limit_allows("draft", address(request)):
                await discard_files(files)
                data, _errors = forms.parse_complaint(fields, language=get_language())
                return await _form_page(data, {"form": _(
                    "Too many complaints were started from this connection in the last hour. "
                    "Everything you typed is still below: please wait an hour and continue "
                    "(files must be attached again).")}, None, status_code=429)
            draft = drafts.Draft(token=drafts.new_token())
        if file_errors.get("files") and len(draft.files) >= settings.upload_max_files:
            file_errors["files"] = _(
                "You have already attached %(count)s files, the most we accept. Remove one to "
                "attach another.", count=len(draft.files))
        answers = {k: v for k, v in fields.items() if k not in _NOT_ANSWERS}
        removed: list[dict[str, Any]] = []
        if action.startswith("remove_file-"):
            name = action.split("-", 1)[1]
            removed = [f for f in draft.files if ingest.staged_name(f) == name]
        draft.files = [f for f in draft.files if f not in removed]
        draft.files += [ingest.staged_record(f) for f in files]
        draft.fields = answers
        draft.find_agency = None
        anchor = ""
        if action in ("add_officer", "add_witness"):
            kind = "officer" if action == "add_officer" else "witness"
            count = forms.form_count(answers, f"{kind}_count")
            if count < (forms.MAX_OFFICERS if kind == "officer" else forms.MAX_WITNESSES):
                answers[f"{kind}_count"] = [str(count + 1)]
                anchor = f"#{kind}-{count}"
        elif action.startswith("find_agency-"):
            index = action.rsplit("-", 1)[1]
            if index.isdigit():
                draft.find_agency = int(index)
                anchor = f"#officer-{index}-agency"
        elif action.startswith("remove_file-"):
            anchor = "#s-evidence"
        if action in ("add_officer", "add_witness") and not anchor:  # already at the most
            anchor = "#s-officers" if action == "add_officer" else "#s-witnesses"
        await drafts.save(draft)
        await drafts.remove_files(removed)
        response: Response[Any]
        if anchor or removed:
            response = _see("/complaint", anchor)
        else:
            # "Continue", Enter in any field, or anything else: check the answers.
            data, errors = await _draft_input(draft)
            errors = {**errors, **{k: v for k, v in file_errors.items() if k not in errors}}
            if errors:
                response = no_store(await _form_page(data, errors, draft, status_code=422,
                                                     files_refused="files" in file_errors))
            else:
                response = _see("/complaint/review")
        return _with_draft_cookie(response, draft.token)

    # --- check your answers, send ----------------------------------------------------------

    @get("/complaint/review", name="intake.review", opt=PUBLIC_OPT)
    async def review(self, request: Request[Any, Any, Any], changed: FromQuery[str] = ""
                     ) -> Response[Any]:
        token = _draft_token(request)
        draft = await drafts.load(token)
        if draft is None:
            if token and await once.previous(drafts.form_key(token)) is not None:
                return _see("/complaint/sent")
            return _see("/complaint", query="" if token is None else "expired=1")
        data, errors = await _draft_input(draft)
        if errors:
            return no_store(await _form_page(data, errors, draft, status_code=422))
        return no_store(self._review_page(data, draft, changed=bool(changed)))

    @staticmethod
    def _review_page(data: forms.ComplaintInput, draft: drafts.Draft, *, changed: bool = False,
                     errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
        return Template("public/review.html.j2", status_code=status_code, context={
            "data": data, "forms": forms, "files": draft.files,
            "review_token": draft.review_token, "changed": changed, "errors": errors or {},
            "lang_query": lang_query(), "human_size": ingest.human_size,
        })

    @post("/complaint/send", name="intake.send", opt=FORM_OPT,
          request_max_body_size=FORM_BODY_LIMIT)
    async def send(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        review_token = str(form.get("review_token", ""))[:100]
        token = _draft_token(request)
        if token is None:
            return _see("/complaint", query="expired=1")
        # The draft first, then the send record: filing removes the draft and records the send
        # in one transaction, so a draft found gone was either sent (a double click, a retry
        # whose first request won) or has expired. Asked the other way round, a send committing
        # between the two reads would look like an expired form.
        draft = await drafts.load(token)
        if draft is None:
            if await once.previous(drafts.form_key(token)) is not None:
                return _see("/complaint/sent")  # sent already: show that confirmation again
            return _see("/complaint", query="expired=1")
        data, errors = await _draft_input(draft)
        if errors:
            return no_store(await _form_page(data, errors, draft, status_code=422))
        if review_token != draft.review_token:
            # The answers changed since this page was shown (another tab): check them again.
            return _see("/complaint/review", query="changed=1")
        staged = draft.staged_files()
        try:
            filed = await IntakeService(Actor.public(ip_address=None)).file_draft(
                data, token=token, review_token=review_token, files=staged,
                rate_limit=("file", address(request)))
        except RateLimited:
            return no_store(self._review_page(data, draft, status_code=429, errors={"form": _(
                "Too many complaints were sent from this connection in the last hour. Your "
                "answers are kept: please wait an hour and send them again.")}))
        except Exception:
            log.exception("filing a complaint failed; nothing was stored")
            # Files promoted before the failure were removed with the rest: say which.
            lost = [s for s in staged if s.storage_key is not None]
            if lost:
                draft.files = [ingest.staged_record(s) for s in staged if s.storage_key is None]
                await drafts.save(draft)
            message = _("We could not store your complaint because of a problem on our side. "
                        "Nothing was stored. Your answers are kept: please send them again in "
                        "a moment.")
            if lost:
                message += " " + _("Please attach your files again: %(names)s.",
                                   names=", ".join(s.original_name for s in lost))
            return no_store(self._review_page(data, draft, status_code=422,
                                              errors={"form": message}))
        if filed is None:  # the draft changed under this request: check again
            return _see("/complaint/review", query="changed=1")
        # The e-mailed receipt is a job promised by the filing (a worker sends it).
        return _see("/complaint/sent")

    @get("/complaint/sent", name="intake.sent", opt=PUBLIC_OPT)
    async def sent(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The confirmation, as often as it is asked for within an hour of sending (reload,
        back and forward): the access code is shown again only to this browser."""
        token = _draft_token(request)
        previous = await once.previous(drafts.form_key(token)) if token else None
        if previous is None or previous.case_id is None:
            return _see("/complaint")
        filed = await IntakeService(Actor.public(None)).filed_complaint(previous)
        if filed is None:
            return _see("/complaint")
        return no_store(Template("public/confirmation.html.j2", context={
            "filed": filed, "receipt_token": receipt_token(filed.case_id),
            "lang_query": lang_query(), "email_sent": filed.email_given,
            "draft_hours": get_settings().complaint_draft_hours,
        }))

    @get("/complaint/receipt/{token:str}", name="intake.receipt", opt=PUBLIC_OPT)
    async def receipt_download(self, request: Request[Any, Any, Any], token: FromPath[str]
                               ) -> Response[Any]:
        case_id = case_id_from_token(token)
        if case_id is None:
            return public_error(request, 404, _(
                "This receipt link has expired. You can still download your receipt from the "
                "status page with your tracking number and access code."), _("Link expired"))
        return await receipt_response(case_id)


async def receipt_response(case_id: int) -> Response[bytes]:
    filename, pdf = await receipt_download(case_id)
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": "no-store",
    })


__all__ = ["PUBLIC_EXCEPTION_HANDLERS", "PublicController", "public_error"]
