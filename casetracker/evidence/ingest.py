"""Streaming ingest: a multipart request body goes straight to the store's staging area.

``parse_streaming_form`` reads ``request.stream()`` through ``multipart.PushMultipartParser`` and
writes each file part once, hashing it (SHA-256) and counting its size as it goes, so memory
stays flat whatever the size. The type is sniffed from the first bytes (rules.sniff), images are
proved with Pillow, active content (HTML, SVG, scripts, executables) is refused whatever its name.

The route using it must be excluded from Litestar's CSRF middleware (``opt={"exclude_from_csrf":
True}``): that middleware reads the whole form before the handler runs. This module checks the
token itself, exactly as the middleware does (see ``verify_csrf_token``).

After parsing, the caller stores the files with ``EvidenceService.attach`` inside
``ingest_transaction()`` (see docs/evidence.md): when anything fails, neither a record nor a
stray file is left behind.
"""

from __future__ import annotations

import contextvars
import hmac
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import anyio.to_thread
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.utils.scope.state import ScopeState
from multipart import MultipartError, MultipartSegment, PushMultipartParser

from casetracker.evidence.rules import (
    ALL_KINDS,
    PREVIEW_FORMATS,
    SNIFF_BYTES,
    RefusedFile,
    Sniffed,
    clean_original_name,
    sniff,
)
from casetracker.evidence.storage import StagingWriter, get_store
from casetracker.settings import get_settings
from casetracker.web.i18n import gettext as _

log = logging.getLogger("casetracker.evidence")

CSRF_FIELD = "_csrf_token"
KIND_LABELS = {
    "image": "photos", "video": "video", "audio": "audio recordings", "pdf": "PDF",
    "document": "office documents", "text": "text files", "other": "other files",
}


@dataclass
class StagedFile:
    original_name: str
    size_bytes: int
    sha256: str
    content_type: str
    kind: str  # image|video|audio|pdf|document|text|other
    # Where the bytes wait in the store: the staging key ("staging/<time>-<random>.part"),
    # on every backend. (The name is kept from when it was a local path; store methods accept
    # either.)
    staging_path: str
    image_verified: bool = False  # a PNG/JPEG/GIF/WebP that Pillow opened: may show inline
    storage_key: str | None = None  # set by promote()
    created_new: bool = False  # promote() stored new bytes (rather than finding them stored)

    @property
    def staging_key(self) -> str:
        return str(self.staging_path)


@dataclass
class ParsedUpload:
    fields: dict[str, list[str]]
    files: list[tuple[str, StagedFile]]
    errors: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getall(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def files_for(self, name: str) -> list[StagedFile]:
        return [staged for field_name, staged in self.files if field_name == name]

    async def discard_all(self) -> None:
        for _name, staged in self.files:
            await discard(staged)
        self.files = []


# --- CSRF -------------------------------------------------------------------------------------

def _decode_csrf_token(token: str, secret: str) -> str | None:
    if len(token) < CSRF_SECRET_LENGTH + 1:
        return None
    token_secret = token[:CSRF_SECRET_LENGTH]
    existing_hash = token[CSRF_SECRET_LENGTH:]
    expected_hash = generate_csrf_hash(token=token_secret, secret=secret)
    return token_secret if hmac.compare_digest(existing_hash, expected_hash) else None


def verify_csrf_token(request: Any, token: str | None) -> None:
    """Compare ``token`` with the CSRF cookie as litestar.middleware.csrf does; raise
    PermissionDeniedException ("CSRF ...") when they do not match."""
    config = request.app.csrf_config
    cookie = request.cookies.get(config.cookie_name)
    ok = False
    if token and cookie:
        a = _decode_csrf_token(token, config.secret)
        b = _decode_csrf_token(cookie, config.secret)
        ok = a is not None and b is not None and hmac.compare_digest(a, b)
    if not ok:
        raise PermissionDeniedException("CSRF token verification failed")
    # Templates re-rendered by this request (422) get the token for their forms.
    ScopeState.from_scope(request.scope).csrf_token = token


# --- parsing ----------------------------------------------------------------------------------

def _kinds_text(allowed: frozenset[str]) -> str:
    return ", ".join(_(KIND_LABELS[k]) for k in sorted(allowed) if k in KIND_LABELS)


def _prove_image(store: Any, key: str) -> str | None:
    """Pillow's format name when the staged file really is a previewable raster image.
    Runs in a worker thread (the store's file may read from the object store)."""
    from PIL import Image

    try:
        with store.open_file(key) as handle, Image.open(handle) as image:
            fmt = image.format
            width, height = image.size
            image.verify()
        if fmt not in PREVIEW_FORMATS or width * height > 60_000_000:
            return None
        # verify() leaves the image unusable: decode for real
        with store.open_file(key) as handle, Image.open(handle) as image:
            if image.format == "JPEG":
                image.draft("RGB", (2048, 2048))  # decode scaled down: bounded memory
            image.load()
        return fmt
    except Exception:  # anything Pillow cannot open is not a previewable image
        return None


class _FilePart:
    def __init__(self, field_name: str, original_name: str, declared_type: str,
                 writer: StagingWriter) -> None:
        self.field_name = field_name
        self.original_name = original_name
        self.declared_type = declared_type
        self.writer = writer
        self.head = bytearray()
        self.sniffed: Sniffed | None = None


async def parse_streaming_form(
    request: Any,
    *,
    max_file_bytes: int,
    max_files: int,
    max_total_bytes: int,
    max_field_bytes: int = 64_000,
    allowed_kinds: frozenset[str] | None = None,
    check_csrf: bool = True,
) -> ParsedUpload:
    """Parse a multipart form, staging its files. See the module docstring and docs/evidence.md.

    When ``errors`` is not empty, no file stays staged (``files`` is empty): the caller
    re-renders the form with the fields kept. Raises PermissionDeniedException on a CSRF
    failure and ClientException on a malformed body; staged files are removed in every case.
    """
    allowed = frozenset(allowed_kinds) if allowed_kinds is not None else ALL_KINDS
    settings = get_settings()
    store = get_store(settings)
    media_type, options = request.content_type
    boundary = options.get("boundary")
    if media_type != "multipart/form-data" or not boundary:
        raise ClientException("Expected a multipart/form-data form.")

    csrf_ok = not check_csrf
    if check_csrf:
        header_token = request.headers.get(request.app.csrf_config.header_name)
        if header_token:
            verify_csrf_token(request, header_token)
            csrf_ok = True

    result = ParsedUpload(fields={}, files=[], errors={})
    staged_keys: list[str] = []
    current_file: _FilePart | None = None
    current_field: tuple[str, bytearray] | None = None
    skipping = False  # the current file part is being drained without storing it
    file_count = 0
    total_bytes = 0
    field_bytes_total = 0
    max_fields_total = max(max_field_bytes * 50, 1_000_000)

    def error(name: str, message: str) -> None:
        result.errors.setdefault(name or "form", message)

    async def refuse_current(message: str) -> None:
        nonlocal current_file, skipping
        if current_file is not None:
            await current_file.writer.abort()
            error(current_file.field_name, message)
        current_file = None
        skipping = True

    async def decide_type(part: _FilePart) -> bool:
        try:
            part.sniffed = sniff(bytes(part.head), part.original_name, part.declared_type)
        except RefusedFile as exc:
            # Not the file name: complainants name files after themselves.
            log.info("refused an upload declared as %r: %s", part.declared_type[:100], exc.reason)
            await refuse_current(
                _("“{name}” was refused: it looks like {what}. Allowed: {kinds}.").format(
                    name=part.original_name, what=_(exc.reason), kinds=_kinds_text(allowed)))
            return False
        if part.sniffed.kind not in allowed:
            await refuse_current(
                _("“{name}” is not a type we accept. Allowed: {kinds}.").format(
                    name=part.original_name, kinds=_kinds_text(allowed)))
            return False
        return True

    async def on_segment(segment: MultipartSegment) -> None:
        nonlocal current_file, current_field, skipping, file_count
        skipping = False
        name = segment.name or ""
        if segment.filename is None:
            current_field = (name, bytearray())
            return
        if not csrf_ok:
            # The token must come before any file, so nothing is stored for a forged form.
            raise PermissionDeniedException("CSRF token verification failed (token missing "
                                            "before the first file)")
        original = clean_original_name(segment.filename)
        if not original:
            skipping = True  # an empty <input type=file>
            return
        if result.errors:
            skipping = True  # the form comes back anyway: store nothing more
            return
        if file_count >= max_files:
            error(name, _("Please send at most {n} files at a time.").format(n=max_files))
            skipping = True
            return
        file_count += 1
        writer = await store.open_staging()
        staged_keys.append(writer.key)
        current_file = _FilePart(name, original, segment.content_type or "", writer)

    async def on_data(chunk: bytes) -> None:
        nonlocal total_bytes, field_bytes_total
        if current_field is not None:
            name, buffer = current_field
            field_bytes_total += len(chunk)
            if field_bytes_total > max_fields_total:
                raise ClientException("The form is too large.")
            if len(buffer) + len(chunk) > max_field_bytes:
                error(name, _("This field is too long."))
                buffer += chunk[: max(0, max_field_bytes - len(buffer))]
            else:
                buffer += chunk
            return
        if skipping or current_file is None:
            return
        part = current_file
        if part.writer.size + len(chunk) > max_file_bytes:
            await refuse_current(_("“{name}” is too large: the limit is {limit}.").format(
                name=part.original_name, limit=human_size(max_file_bytes)))
            return
        if total_bytes + len(chunk) > max_total_bytes:
            await refuse_current(_("The files together are too large: the limit is {limit}."
                                   ).format(limit=human_size(max_total_bytes)))
            return
        total_bytes += len(chunk)
        if part.sniffed is None:
            part.head += chunk
            if len(part.head) < SNIFF_BYTES:
                return
            if not await decide_type(part):
                return
            data, part.head = bytes(part.head), bytearray()
            await part.writer.write(data)
            return
        await part.writer.write(chunk)

    async def on_end() -> None:
        nonlocal current_file, current_field, csrf_ok, skipping
        if current_field is not None:
            name, buffer = current_field
            current_field = None
            value = buffer.decode("utf-8", errors="replace")
            if name == CSRF_FIELD and check_csrf:
                if not csrf_ok:
                    verify_csrf_token(request, value)
                    csrf_ok = True
                return
            result.fields.setdefault(name, []).append(value)
            return
        part = current_file
        current_file = None
        if skipping or part is None:
            skipping = False
            return
        if part.sniffed is None:
            if not part.head:
                await part.writer.abort()
                error(part.field_name, _("“{name}” is empty.").format(name=part.original_name))
                return
            current_file = part
            ok = await decide_type(part)
            current_file = None
            if not ok:
                skipping = False
                return
            await part.writer.write(bytes(part.head))
        sha256 = await part.writer.close()
        sniffed = part.sniffed
        assert sniffed is not None
        kind, content_type, verified = sniffed.kind, sniffed.content_type, False
        if sniffed.pil_candidate:
            fmt = await anyio.to_thread.run_sync(_prove_image, store, part.writer.key)
            if fmt is not None:
                verified = True
                content_type = PREVIEW_FORMATS[fmt]
            elif content_type in PREVIEW_FORMATS.values():
                # claims to be a web image but Pillow cannot open it: keep it, never show it
                kind, content_type = "other", "application/octet-stream"
                if kind not in allowed:
                    await store.discard_staging([part.writer.key])
                    error(part.field_name, _("“{name}” is not a readable image.").format(
                        name=part.original_name))
                    return
        result.files.append((part.field_name, StagedFile(
            original_name=part.original_name, size_bytes=part.writer.size, sha256=sha256,
            content_type=content_type, kind=kind, staging_path=part.writer.key,
            image_verified=verified)))

    content_length = request.content_length
    parser = PushMultipartParser(
        boundary, content_length=content_length if content_length is not None else -1,
        max_header_size=4096 + 128, max_header_count=8,
        max_segment_count=max_files + 1000,
    )
    try:
        try:
            async for chunk in request.stream():
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        await on_segment(event)
                    elif event is None:
                        await on_end()
                    else:
                        await on_data(event)
            for event in parser.parse(b""):
                if event is None:
                    await on_end()
        except MultipartError as exc:
            raise ClientException(f"Malformed multipart body: {exc}") from exc
        if not parser.closed or parser.error is not None:
            raise ClientException("The upload was incomplete.")
        if check_csrf and not csrf_ok:
            raise PermissionDeniedException("CSRF token verification failed")
    except BaseException:
        # Disconnects, CSRF failures, parser errors, cancellation: nothing stays staged.
        # discard_staging completes in a cancelled task too (local: no await; object store:
        # shielded); the writer's own abort also ends an unfinished multipart upload.
        if current_file is not None:
            await current_file.writer.abort()
        await store.discard_staging(staged_keys)
        raise
    if result.errors:
        await store.discard_staging(staged_keys)
        result.files = []
    return result


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}".replace(
                ".0 ", " ")
        value /= 1000
    return f"{n} bytes"


# --- promotion and clean-up -------------------------------------------------------------------

_promoted_in_txn: contextvars.ContextVar[list[StagedFile] | None] = contextvars.ContextVar(
    "evidence_promoted", default=None)
# Keys promoted by ingest transactions still open in this process (key -> count). A failing
# transaction never removes a file another open transaction has just promoted: when that one
# commits, its record points to the file.
_in_flight: dict[str, int] = {}


async def promote(staged: StagedFile, settings: Any = None) -> str:
    """Move a staged file to its content-addressed key and return the key (idempotent: when the
    same bytes are already stored, the staged copy is dropped and ``created_new`` stays False)."""
    if staged.storage_key is not None:
        return staged.storage_key
    store = get_store(settings or get_settings())
    key, created = await store.promote(staged.staging_key, staged.sha256)
    staged.storage_key = key
    staged.created_new = created
    tracker = _promoted_in_txn.get()
    if tracker is not None:
        tracker.append(staged)
        _in_flight[key] = _in_flight.get(key, 0) + 1
    return key


async def discard(staged: StagedFile) -> None:
    """Remove a staged file that will not be stored (no effect once promoted)."""
    if staged.storage_key is None:
        await get_store(get_settings()).discard_staging([staged.staging_key])


async def cleanup_promoted(keys: Iterable[str | StagedFile], settings: Any = None) -> list[str]:
    """After a failed transaction: remove files that promotion stored *new* and that no
    record points to. A StagedFile whose bytes were already stored is left alone; a plain key is
    removed only when no EvidenceItem row refers to it. Returns the keys removed."""
    from casetracker.evidence.tables import EvidenceItem

    store = get_store(settings or get_settings())
    removed = []
    for entry in keys:
        if isinstance(entry, StagedFile):
            if not entry.created_new or entry.storage_key is None:
                continue
            key = entry.storage_key
        else:
            key = entry
        if _in_flight.get(key, 0) > 0:
            continue  # another open transaction in this process uses the same bytes
        from casetracker import db

        # Under the write lock (SQLite) and the key's advisory lock (PostgreSQL), which every
        # attach holds from promotion to commit: a transaction of another process that
        # promoted the same bytes has either committed its record (seen here) or not started.
        async with db.write_transaction():
            await lock_storage_key(key)
            if await EvidenceItem.exists().where(EvidenceItem.storage_key == key):
                continue
            if await store.remove(key):
                removed.append(key)
                log.info("removed evidence file %s left by a failed request", key)
    return removed


async def lock_storage_key(key: str) -> None:
    """Inside a write transaction: serialise work on one stored file across processes."""
    from casetracker import db

    await db.lock_in_transaction(db.LOCK_EVIDENCE_FILE, key)


@asynccontextmanager
async def ingest_transaction() -> AsyncIterator[list[StagedFile]]:
    """``db.write_transaction()`` that also undoes file promotions when it fails.

    Everything ``promote`` stores inside it (directly or through ``EvidenceService.attach``) is
    tracked; if the block raises, the transaction rolls back and then the new files are removed.
    """
    from casetracker import db

    outer = _promoted_in_txn.get()
    if outer is not None:
        # Nested: join the outer one, whose failure handling covers these files too.
        async with db.write_transaction():
            yield outer
        return
    promoted: list[StagedFile] = []
    token = _promoted_in_txn.set(promoted)

    def release() -> None:
        for staged in promoted:
            key = staged.storage_key
            if key is not None and key in _in_flight:
                _in_flight[key] -= 1
                if _in_flight[key] <= 0:
                    del _in_flight[key]

    try:
        async with db.write_transaction():
            yield promoted
    except BaseException:
        _promoted_in_txn.reset(token)
        token = None
        release()
        try:
            await cleanup_promoted(promoted)
        except Exception:
            # The original error matters more; the sweep removes what is left.
            log.exception("could not remove evidence files of a failed request")
        raise
    finally:
        if token is not None:
            _promoted_in_txn.reset(token)
            release()


# --- files kept staged on purpose ----------------------------------------------------------
# A public complaint's files stay staged while the person checks their answers (intake drafts).
# A hold keeps them from the sweep until a time; whoever holds them discards or promotes them.

def staged_record(staged: StagedFile) -> dict[str, Any]:
    """A staged file as JSON-able values (to keep it across requests)."""
    return {"original_name": staged.original_name, "size_bytes": staged.size_bytes,
            "sha256": staged.sha256, "content_type": staged.content_type, "kind": staged.kind,
            "staging_path": str(staged.staging_path), "image_verified": staged.image_verified}


def staged_from_record(record: dict[str, Any]) -> StagedFile:
    return StagedFile(
        original_name=str(record["original_name"]), size_bytes=int(record["size_bytes"]),
        sha256=str(record["sha256"]), content_type=str(record["content_type"]),
        kind=str(record["kind"]), staging_path=str(record["staging_path"]),
        image_verified=bool(record.get("image_verified")))


def staged_name(staged: StagedFile | dict[str, Any]) -> str:
    path = staged.staging_path if isinstance(staged, StagedFile) else staged["staging_path"]
    return PurePosixPath(str(path)).name


async def hold_staged(names: Iterable[str], until: Any) -> None:
    """Keep these staged files from the sweep until ``until`` (joins the caller's write
    transaction; holding again moves the time)."""
    from casetracker import db
    from casetracker.evidence.tables import StagingHold

    names = [n for n in dict.fromkeys(names) if n]
    if not names:
        return
    async with db.write_transaction():
        held = {r["name"] for r in await StagingHold.select(StagingHold.name).where(
            StagingHold.name.is_in(names))}
        if held:
            await StagingHold.update({StagingHold.held_until: until}).where(
                StagingHold.name.is_in(list(held)))
        new = [StagingHold(name=n, held_until=until) for n in names if n not in held]
        if new:
            await StagingHold.insert(*new)


async def release_staged(names: Iterable[str]) -> None:
    """End the holds (the files themselves are promoted or discarded by the holder)."""
    from casetracker import db
    from casetracker.evidence.tables import StagingHold

    names = [n for n in names if n]
    if names:
        async with db.write_transaction():
            await StagingHold.delete().where(StagingHold.name.is_in(names))


async def held_staging_names(now: Any) -> set[str]:
    """Names of staged files still held at ``now`` (the sweep leaves them alone)."""
    from casetracker.evidence.tables import StagingHold

    rows = await StagingHold.select(StagingHold.name).where(StagingHold.held_until > now)
    return {r["name"] for r in rows}


def __getattr__(name: str) -> Any:
    # EvidenceService lives in services.py (it imports this module); re-exported lazily.
    if name == "EvidenceService":
        from casetracker.evidence.services import EvidenceService

        return EvidenceService
    raise AttributeError(name)


# EvidenceService is importable from here too (module __getattr__ above).
__all__ = [
    "ParsedUpload",
    "StagedFile",
    "cleanup_promoted",
    "discard",
    "held_staging_names",
    "hold_staged",
    "ingest_transaction",
    "parse_streaming_form",
    "promote",
    "release_staged",
    "staged_from_record",
    "staged_name",
    "staged_record",
    "verify_csrf_token",
]
