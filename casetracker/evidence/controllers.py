"""Staff evidence pages: upload, list, item, download (ranges), preview, withdraw, verify."""

from __future__ import annotations

import io
import logging
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio.to_thread
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Stream

from casetracker.audit.services import record as audit
from casetracker.auth.actor import Actor
from casetracker.auth.guards import actor_from_connection, requires
from casetracker.auth.permissions import Permission
from casetracker.auth.policies import ensure_may_view_case, has_permission
from casetracker.errors import NotFound, ValidationFailed
from casetracker.evidence.forms import validate_upload
from casetracker.evidence.ingest import human_size, ingest_transaction, parse_streaming_form
from casetracker.evidence.rules import (
    PREVIEW_FORMATS,
    RangeNotSatisfiable,
    content_disposition,
    generated_filename,
    parse_range,
    safe_content_type,
)
from casetracker.evidence.services import (
    SOURCES,
    EvidenceService,
    custody_history,
    verify_items,
)
from casetracker.evidence.storage import get_store
from casetracker.evidence.tables import EvidenceAllegation, EvidenceItem
from casetracker.settings import get_settings
from casetracker.web.flash import flash
from casetracker.web.i18n import gettext as _
from casetracker.web.templating import HTMLTemplate as Template

log = logging.getLogger("casetracker.evidence")

FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
GB = 1_000_000_000
STAFF_MAX_FILES = 50
# Evidence responses run nothing: a sandboxed, script-less document if ever opened.
DOWNLOAD_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


def staff_max_file_bytes() -> int:
    return get_settings().evidence_max_file_gb * GB


def staff_max_total_bytes() -> int:
    # several large files at once: up to two maximum-size files in one request
    return 2 * staff_max_file_bytes()


def _actor(request: Request[Any, Any, Any]) -> Actor:
    actor = actor_from_connection(request)
    assert actor is not None  # the session guard ran
    return actor


async def load_case(actor: Actor, case_id: int) -> Any:
    from casetracker.cases.tables import Case

    case = await Case.objects().where(Case.id == case_id).first()
    if case is None:
        raise NotFound("There is no such case.")
    ensure_may_view_case(actor, case)
    return case


async def load_item(actor: Actor, item_id: int) -> tuple[dict[str, Any], Any]:
    item = await EvidenceItem.select().where(EvidenceItem.id == item_id).first()
    if item is None:
        raise NotFound("There is no such evidence item.")
    case = await load_case(actor, item["case"])
    return item, case


async def case_allegations(case_id: int) -> list[dict[str, Any]]:
    from casetracker.cases.tables import Allegation

    return await Allegation.select(Allegation.id, Allegation.allegation_type,
                                   Allegation.description).where(
        Allegation.case == case_id).order_by(Allegation.id)


def source_labels() -> dict[str, str]:
    return {"complainant": _("Complainant"), "agency": _("Agency"), "ice": _("ICE"),
            "investigator": _("Investigator"), "other": _("Other")}


def kind_labels() -> dict[str, str]:
    return {"image": _("Image"), "video": _("Video"), "audio": _("Audio"), "pdf": _("PDF"),
            "document": _("Document"), "text": _("Text"), "other": _("Other")}


def action_labels() -> dict[str, str]:
    return {"received": _("Received"), "viewed": _("Viewed"), "downloaded": _("Downloaded"),
            "exported": _("Exported into a report"), "verified": _("Verified"),
            "verify_failed": _("Verification failed"), "withdrawn": _("Withdrawn")}


def _common() -> dict[str, Any]:
    return {"source_labels": source_labels(), "kind_labels": kind_labels(),
            "action_labels": action_labels(), "human_size": human_size}


class EvidenceController(Controller):
    path = "/"

    # --- upload -------------------------------------------------------------------------

    @get("/cases/{case_id:int}/evidence/new", name="evidence.new",
         guards=[requires(Permission.EVIDENCE_READ, Permission.EVIDENCE_UPLOAD)])
    async def new(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template:
        case = await load_case(_actor(request), case_id)
        return Template("evidence/new.html.j2", context={
            **_common(), "case": case, "allegations": await case_allegations(case_id),
            "form": {"description": "", "source": "", "obtained_on": "", "allegations": []},
            "errors": {}, "sources": SOURCES, "max_file": human_size(staff_max_file_bytes()),
        })

    @post("/cases/{case_id:int}/evidence/new", name="evidence.upload",
          guards=[requires(Permission.EVIDENCE_READ, Permission.EVIDENCE_UPLOAD)],
          # Streamed: Litestar's CSRF middleware would read the whole body first, so the
          # token is checked by parse_streaming_form (first form field or x-csrftoken header).
          opt={"exclude_from_csrf": True},
          request_max_body_size=2 * get_settings().evidence_max_file_gb * GB + 10_000_000)
    async def upload(self, request: Request[Any, Any, Any], case_id: FromPath[int]) -> Any:
        actor = _actor(request)
        # Authorise before reading a byte of the body.
        case = await load_case(actor, case_id)
        length = request.content_length
        if length is not None and length > staff_max_total_bytes() + 10_000_000:
            raise HTTPException(status_code=413, detail="Request body too large")
        parsed = await parse_streaming_form(
            request, max_file_bytes=staff_max_file_bytes(), max_files=STAFF_MAX_FILES,
            max_total_bytes=staff_max_total_bytes(), max_field_bytes=16_000)
        try:
            return await self._store_upload(request, actor, case, parsed)
        finally:
            await parsed.discard_all()  # whatever was not promoted (no-op for stored files)

    async def _store_upload(self, request: Request[Any, Any, Any], actor: Actor, case: Any,
                            parsed: Any) -> Any:
        case_id = case.id
        allegations = await case_allegations(case_id)
        today = datetime.now(ZoneInfo(get_settings().timezone)).date()
        form = validate_upload(parsed, {a["id"] for a in allegations}, today)
        if not form.valid:
            # Files are never kept from a refused form: say so by the file field.
            form.errors.setdefault("files", _("Please choose the files again."))
            return Template("evidence/new.html.j2", status_code=422, context={
                **_common(), "case": case, "allegations": allegations,
                "form": {"description": form.description, "source": form.source,
                         "obtained_on": form.obtained_on, "allegations": form.allegations},
                "errors": form.errors, "sources": SOURCES,
                "max_file": human_size(staff_max_file_bytes()),
            })
        async with ingest_transaction():
            items = await EvidenceService(actor).attach(
                case_id, parsed.files_for("files"), source=form.source,
                description=form.description, obtained_on=form.obtained_date,
                allegation_ids=form.allegation_ids)
        duplicates = [i for i in items if i.duplicate_of]
        flash(request, _("{n} file(s) received and recorded with their SHA-256.").format(
            n=len(items)))
        for item in duplicates:
            flash(request, _("“{name}” is identical to item {other} already on this case; "
                             "it was recorded as a duplicate.").format(
                name=item.original_name, other=item.duplicate_of), "warning")
        return Redirect(path=f"/cases/{case_id}/evidence", status_code=303)

    # --- list and item ------------------------------------------------------------------

    @get("/cases/{case_id:int}/evidence", name="evidence.list",
         guards=[requires(Permission.EVIDENCE_READ)])
    async def list_items(self, request: Request[Any, Any, Any],
                         case_id: FromPath[int]) -> Template:
        actor = _actor(request)
        case = await load_case(actor, case_id)
        show_withdrawn = request.query_params.get("withdrawn") == "1"
        query = EvidenceItem.select().where(EvidenceItem.case == case_id).order_by(
            EvidenceItem.id)
        if not show_withdrawn:
            query = query.where(EvidenceItem.withdrawn_at.is_null())
        items = await query
        withdrawn_count = await EvidenceItem.count().where(
            (EvidenceItem.case == case_id) & EvidenceItem.withdrawn_at.is_not_null())
        await audit("evidence.view_list", actor=actor, object_type="case", object_id=case_id,
                    case_id=case_id, details={"withdrawn_shown": show_withdrawn})
        return Template("evidence/list.html.j2", context={
            **_common(), "case": case, "items": items, "show_withdrawn": show_withdrawn,
            "withdrawn_count": withdrawn_count,
            "may_upload": has_permission(actor, Permission.EVIDENCE_UPLOAD),
        })

    @get("/evidence/{item_id:int}", name="evidence.item",
         guards=[requires(Permission.EVIDENCE_READ)])
    async def item(self, request: Request[Any, Any, Any], item_id: FromPath[int]) -> Template:
        actor = _actor(request)
        item, case = await load_item(actor, item_id)
        await EvidenceService(actor).record_access(item, "viewed", purpose="item page")
        from casetracker.cases.tables import Allegation

        links = await EvidenceAllegation.select(EvidenceAllegation.allegation).where(
            EvidenceAllegation.item == item_id)
        allegations = []
        if links:
            allegations = await Allegation.select(
                Allegation.id, Allegation.allegation_type, Allegation.description).where(
                Allegation.id.is_in([row["allegation"] for row in links]))
        return Template("evidence/item.html.j2", context={
            **_common(), "case": case, "item": item, "events": await custody_history(item_id),
            "allegations": allegations,
            "may_withdraw": has_permission(actor, Permission.EVIDENCE_WITHDRAW),
            "may_verify": has_permission(actor, Permission.EVIDENCE_VERIFY),
            "errors": {}, "reason": "",
        })

    # --- bytes ----------------------------------------------------------------------------

    @get("/evidence/{item_id:int}/download", name="evidence.download",
         guards=[requires(Permission.EVIDENCE_READ)])
    async def download(self, request: Request[Any, Any, Any],
                       item_id: FromPath[int]) -> Response[Any]:
        actor = _actor(request)
        item, _case = await load_item(actor, item_id)
        store = get_store(get_settings())
        size = await store.size(item["storage_key"])
        if size is None:
            log.error("evidence item %s: stored file %s is missing", item_id,
                      item["storage_key"])
            raise NotFound(_("The stored file for this item is missing. Please tell an "
                             "administrator (run `casetracker evidence verify`)."))
        headers = {
            "content-disposition": content_disposition(
                "attachment", generated_filename(item_id, item["content_type"]),
                item["original_name"]),
            "x-content-type-options": "nosniff",
            "content-security-policy": DOWNLOAD_CSP,
            "cache-control": "private, no-store",
            "accept-ranges": "bytes",
            "cross-origin-resource-policy": "same-origin",
        }
        try:
            byte_range = parse_range(request.headers.get("range"), size)
        except RangeNotSatisfiable:
            return Response(b"", status_code=416,
                            headers={**headers, "content-range": f"bytes */{size}"},
                            media_type="application/octet-stream")
        purpose = (request.query_params.get("purpose") or "").strip()[:500]
        # A player's follow-up range requests (seeking) continue one access: record the
        # access once, when it starts at the beginning.
        if byte_range is None or byte_range[0] == 0:
            await EvidenceService(actor).record_access(item, "downloaded", purpose=purpose)
        status = 200
        start, end = 0, size - 1
        if byte_range is not None:
            start, end = byte_range
            status = 206
            headers["content-range"] = f"bytes {start}-{end}/{size}"
        headers["content-length"] = str(end - start + 1 if size else 0)
        return Stream(store.open_reader(item["storage_key"], start, end),
                      status_code=status, headers=headers,
                      media_type=safe_content_type(item["content_type"], item["kind"]))

    @get("/evidence/{item_id:int}/preview", name="evidence.preview",
         guards=[requires(Permission.EVIDENCE_READ)])
    async def preview(self, request: Request[Any, Any, Any],
                      item_id: FromPath[int]) -> Response[Any]:
        """A re-encoded PNG of a real raster image (never the uploaded bytes themselves)."""
        actor = _actor(request)
        item, _case = await load_item(actor, item_id)
        if not item["image_verified"] or item["content_type"] not in PREVIEW_FORMATS.values():
            raise NotFound("No preview for this item.")
        store = get_store(get_settings())
        try:
            png = await anyio.to_thread.run_sync(_render_preview, store, item["storage_key"])
        except Exception as exc:  # a file Pillow no longer opens gets no preview
            log.warning("preview of evidence item %s failed: %s", item_id, exc)
            raise NotFound("No preview for this item.") from exc
        await EvidenceService(actor).record_access(item, "viewed", purpose="preview image")
        return Response(png, media_type="image/png", headers={
            "content-disposition": f'inline; filename="evidence-{item_id}-preview.png"',
            "x-content-type-options": "nosniff",
            "content-security-policy": DOWNLOAD_CSP,
            "cache-control": "private, no-store",
        })

    # --- withdraw and verify --------------------------------------------------------------

    @post("/evidence/{item_id:int}/withdraw", name="evidence.withdraw",
          guards=[requires(Permission.EVIDENCE_READ, Permission.EVIDENCE_WITHDRAW)])
    async def withdraw(self, request: Request[Any, Any, Any], item_id: FromPath[int],
                       data: FormBody) -> Any:
        actor = _actor(request)
        item, case = await load_item(actor, item_id)
        reason = str(data.get("reason", ""))[:4000].strip()
        try:
            await EvidenceService(actor).withdraw(item_id, reason)
        except ValidationFailed as exc:
            errors = {"reason": _(exc.errors.get("reason", "Say why the item is withdrawn."))}
            return Template("evidence/item.html.j2", status_code=422, context={
                **_common(), "case": case, "item": item,
                "events": await custody_history(item_id), "allegations": [],
                "may_withdraw": True,
                "may_verify": has_permission(actor, Permission.EVIDENCE_VERIFY),
                "errors": errors, "reason": reason,
            })
        flash(request, _("The item was withdrawn. It stays in the store and in the custody "
                         "log, hidden from the default list."))
        return Redirect(path=f"/evidence/{item_id}", status_code=303)

    @post("/evidence/{item_id:int}/verify", name="evidence.verify",
          guards=[requires(Permission.EVIDENCE_READ, Permission.EVIDENCE_VERIFY)])
    async def verify(self, request: Request[Any, Any, Any], item_id: FromPath[int]) -> Redirect:
        actor = _actor(request)
        await load_item(actor, item_id)
        outcomes = await verify_items(actor, item_id=item_id)
        if outcomes and outcomes[0].ok:
            flash(request, _("Verified: the stored file matches its SHA-256."))
        else:
            flash(request, _("Verification FAILED: the stored file is missing or altered. "
                             "Tell an administrator."), "error")
        return Redirect(path=f"/evidence/{item_id}", status_code=303)


def _render_preview(store: Any, key: str) -> bytes:
    """In a worker thread: the store's file may read from the object store."""
    from PIL import Image, ImageOps

    with store.open_file(key) as handle, Image.open(handle) as image:
        if image.format not in PREVIEW_FORMATS:
            raise ValueError("not a previewable format")
        image.seek(0)
        if image.format == "JPEG":
            image.draft("RGB", (2048, 2048))
        frame = ImageOps.exif_transpose(image)
        frame = frame.convert("RGBA" if frame.mode in ("RGBA", "LA", "P") else "RGB")
        frame.thumbnail((1024, 1024))
        out = io.BytesIO()
        frame.save(out, "PNG", optimize=False)
        return out.getvalue()

