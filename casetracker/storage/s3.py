"""S3-compatible object storage (AWS S3, SeaweedFS, MinIO, Ceph, ...) through aiobotocore.

Why aiobotocore and not obstore: see docs/evidence.md ("Storage backends"). In short, the
evidence store needs three S3 operations obstore does not expose: listing and aborting
incomplete multipart uploads (the sweep), UploadPartCopy (promoting a staged object over 5 GB
to its content-addressed key without moving the bytes through the app) and conditional puts
(If-None-Match, for write-once objects).

Streaming: a staged upload is a multipart upload of ``s3_part_mb`` parts (default 8 MiB), the
SHA-256 computed on the way; at most ``PARTS_IN_FLIGHT`` parts are on the wire while the next
one fills, so memory stays flat (about 4 parts) whatever the size and nothing touches the
local disk. Reads are ranged GETs
streamed in 1 MiB chunks.

One client per event loop (aiobotocore clients belong to the loop that made them), created on
first use and closed by :func:`close_clients` (app shutdown, end of a CLI command).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, Any

import anyio
import anyio.from_thread
import anyio.to_thread

from casetracker.storage import (
    CONTENT_PREFIX,
    READ_CHUNK,
    STAGING_PREFIX,
    ObjectMissing,
    StorageError,
    check_key,
    check_staging_key,
    content_key,
)

log = logging.getLogger("casetracker.storage")

MIN_PART = 5 * 1024 * 1024  # S3's smallest part (all but the last)
COPY_LIMIT = 5 * 1024**3  # CopyObject's limit; larger objects are copied part by part
COPY_PART = 1024**3
PARTS_IN_FLIGHT = 3  # hides the store's latency per part; bounds memory to ~4 parts
MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
EXISTS_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint: str = ""
    region: str = "us-east-1"
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    addressing_style: str = "auto"

    @property
    def style(self) -> str:
        if self.addressing_style in ("path", "virtual"):
            return self.addressing_style
        return "path" if self.endpoint else "virtual"  # S3-compatible servers: path style


@dataclass
class _Client:
    loop: asyncio.AbstractEventLoop
    context: Any
    client: Any


_clients: dict[tuple[int, S3Config], _Client] = {}


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return code or status


def _is_missing(exc: BaseException) -> bool:
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return _error_code(exc) in MISSING_CODES or status == 404


async def get_client(config: S3Config) -> Any:
    loop = asyncio.get_running_loop()
    for key in [k for k, entry in _clients.items() if entry.loop.is_closed()]:
        del _clients[key]  # its loop is gone (a finished asyncio.run): nothing left to close
    entry = _clients.get((id(loop), config))
    if entry is not None and entry.loop is loop:
        return entry.client
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    context = get_session().create_client(
        "s3",
        region_name=config.region or "us-east-1",
        endpoint_url=config.endpoint or None,
        aws_access_key_id=config.access_key_id or None,
        aws_secret_access_key=config.secret_access_key or None,
        config=AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": config.style},
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=5,
            read_timeout=120,
            max_pool_connections=32,
            # S3-compatible servers do not all speak the newer default checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    client = await context.__aenter__()
    current = _clients.get((id(loop), config))
    if current is not None and current.loop is loop:  # made meanwhile by another task
        await context.__aexit__(None, None, None)
        return current.client
    _clients[(id(loop), config)] = _Client(loop, context, client)
    return client


async def close_clients() -> None:
    """Close the clients of the running loop."""
    loop = asyncio.get_running_loop()
    for key, entry in list(_clients.items()):
        if entry.loop is loop:
            del _clients[key]
            with suppress(Exception):
                await entry.context.__aexit__(None, None, None)


class S3StagingWriter:
    """A multipart upload fed chunk by chunk; small files become one PUT at ``close``."""

    def __init__(self, store: S3Store, key: str) -> None:
        self.store = store
        self.key = key
        self.size = 0
        self._hasher = hashlib.sha256()
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._next_part = 1
        self._in_flight: list[asyncio.Future[None]] = []
        self._finished = False  # the object exists
        self._aborted = False

    @property
    def _full(self) -> str:
        return self.store.full_key(self.key)

    async def write(self, chunk: bytes) -> None:
        if self._aborted:
            raise StorageError("write after abort")
        self._buffer += chunk
        self.size += len(chunk)
        if len(self._buffer) >= self.store.part_size:
            await self._send_part()

    async def _send_part(self) -> None:
        data = bytes(self._buffer)
        self._buffer.clear()
        await anyio.to_thread.run_sync(self._hasher.update, data)
        client = await self.store.client()
        if self._upload_id is None:
            response = await client.create_multipart_upload(
                Bucket=self.store.bucket, Key=self._full)
            self._upload_id = response["UploadId"]
        while len(self._in_flight) >= PARTS_IN_FLIGHT:  # wait for the oldest part
            await self._in_flight.pop(0)
        number = self._next_part
        self._next_part += 1
        self._in_flight.append(asyncio.ensure_future(self._upload_part(client, number, data)))

    async def _upload_part(self, client: Any, number: int, data: bytes) -> None:
        response = await client.upload_part(
            Bucket=self.store.bucket, Key=self._full, UploadId=self._upload_id,
            PartNumber=number, Body=data)
        self._parts.append({"ETag": response["ETag"], "PartNumber": number})

    async def _wait_in_flight(self) -> None:
        while self._in_flight:
            await self._in_flight.pop(0)

    async def close(self) -> str:
        client = await self.store.client()
        if self._upload_id is None:
            data = bytes(self._buffer)
            self._buffer.clear()
            await anyio.to_thread.run_sync(self._hasher.update, data)
            await client.put_object(Bucket=self.store.bucket, Key=self._full, Body=data)
        else:
            if self._buffer:
                await self._send_part()
            await self._wait_in_flight()
            await client.complete_multipart_upload(
                Bucket=self.store.bucket, Key=self._full, UploadId=self._upload_id,
                MultipartUpload={"Parts": sorted(self._parts, key=lambda p: p["PartNumber"])})
        self._finished = True
        return self._hasher.hexdigest()

    async def abort(self) -> None:
        """Abort the upload (or remove the finished object). Shielded from cancellation: it
        runs while a request is being torn down. What a dying process leaves, the sweep
        removes."""
        self._aborted = True
        self._buffer.clear()
        with anyio.CancelScope(shield=True):
            tasks, self._in_flight = self._in_flight, []
            for task in tasks:
                task.cancel()
                with suppress(BaseException):
                    await task
            try:
                client = await self.store.client()
                if self._finished:
                    await client.delete_object(Bucket=self.store.bucket, Key=self._full)
                elif self._upload_id is not None:
                    await client.abort_multipart_upload(
                        Bucket=self.store.bucket, Key=self._full, UploadId=self._upload_id)
            except Exception as exc:
                log.warning("could not abort the staged upload %s: %s", self.key, exc)


class _RangeReader(io.RawIOBase):
    """A seekable file over ranged GETs, used from a worker thread (Pillow needs seek)."""

    def __init__(self, store: S3Store, key: str) -> None:
        self.store = store
        self.key = key
        self.position = 0
        size = anyio.from_thread.run(store.size, key)
        if size is None:
            raise ObjectMissing(key)
        self.length = size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.length - self.position)
        if want <= 0:
            return 0
        data = anyio.from_thread.run(self.store.read_range, self.key, self.position,
                                     self.position + want - 1)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


@dataclass
class S3Store:
    """One area of a bucket: objects under ``<prefix>`` (``[<s3_prefix>/]<area>/``)."""

    config: S3Config
    prefix: str
    area: str = "evidence"
    part_size: int = 8 * 1024 * 1024
    backend: str = field(default="s3", init=False)
    supports_write_once: bool = field(default=True, init=False)

    @classmethod
    def from_settings(cls, settings: Any, area: str) -> S3Store:
        if not settings.s3_bucket:
            raise ValueError("CASETRACKER_STORAGE_BACKEND=s3 needs CASETRACKER_S3_BUCKET")
        config = S3Config(
            bucket=settings.s3_bucket, endpoint=settings.s3_endpoint,
            region=settings.s3_region, access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            addressing_style=settings.s3_addressing_style)
        base = settings.s3_prefix.strip("/")
        prefix = f"{base}/{area}/" if base else f"{area}/"
        part = max(MIN_PART, int(settings.s3_part_mb) * 1024 * 1024)
        return cls(config, prefix, area=area, part_size=part)

    @property
    def bucket(self) -> str:
        return self.config.bucket

    def full_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    async def client(self) -> Any:
        return await get_client(self.config)

    async def _head(self, key: str) -> dict[str, Any] | None:
        client = await self.client()
        try:
            return await client.head_object(Bucket=self.bucket, Key=self.full_key(key))
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise

    # --- streamed, content-addressed -----------------------------------------------------

    async def open_staging(self) -> S3StagingWriter:
        key = f"{STAGING_PREFIX}{int(time.time())}-{secrets.token_hex(16)}.part"
        return S3StagingWriter(self, key)

    async def promote(self, staging_key: str, sha256: str) -> tuple[str, bool]:
        key = content_key(sha256)
        staging_key = check_staging_key(staging_key)
        client = await self.client()
        # The caller holds the key's lock (evidence: lock_storage_key) from here to commit,
        # so no other promotion of the same bytes runs between this check and the copy; and
        # an object under a content key only ever holds those bytes.
        if await self._head(key) is not None:
            await self.remove_staging(staging_key)
            return key, False
        staged = await self._head(staging_key)
        if staged is None:
            raise ObjectMissing(staging_key)
        source = {"Bucket": self.bucket, "Key": self.full_key(staging_key)}
        size = int(staged["ContentLength"])
        if size <= COPY_LIMIT:
            await client.copy_object(Bucket=self.bucket, Key=self.full_key(key),
                                     CopySource=source)
        else:
            await self._copy_in_parts(client, source, key, size)
        await self.remove_staging(staging_key)
        return key, True

    async def _copy_in_parts(self, client: Any, source: dict[str, str], key: str,
                             size: int) -> None:
        """Server-side copy of an object over CopyObject's 5 GB limit (UploadPartCopy)."""
        target = self.full_key(key)
        upload = await client.create_multipart_upload(Bucket=self.bucket, Key=target)
        upload_id = upload["UploadId"]
        parts = []
        try:
            for number, start in enumerate(range(0, size, COPY_PART), start=1):
                end = min(start + COPY_PART, size) - 1
                response = await client.upload_part_copy(
                    Bucket=self.bucket, Key=target, UploadId=upload_id, PartNumber=number,
                    CopySource=source, CopySourceRange=f"bytes={start}-{end}")
                parts.append({"ETag": response["CopyPartResult"]["ETag"],
                              "PartNumber": number})
            await client.complete_multipart_upload(
                Bucket=self.bucket, Key=target, UploadId=upload_id,
                MultipartUpload={"Parts": parts})
        except BaseException:
            with anyio.CancelScope(shield=True), suppress(Exception):
                await client.abort_multipart_upload(Bucket=self.bucket, Key=target,
                                                    UploadId=upload_id)
            raise

    async def open_reader(self, key: str, start: int = 0, end: int | None = None
                          ) -> AsyncIterator[bytes]:
        if end is not None and end < start:
            return  # an empty range (a zero-byte object)
        client = await self.client()
        extra: dict[str, str] = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            response = await client.get_object(Bucket=self.bucket, Key=self.full_key(key),
                                               **extra)
        except Exception as exc:
            if _is_missing(exc):
                raise ObjectMissing(key) from exc
            raise
        body = response["Body"]
        try:
            async for chunk in body.iter_chunks(READ_CHUNK):
                yield chunk
        finally:
            body.close()

    async def read_range(self, key: str, start: int, end: int) -> bytes:
        parts = [chunk async for chunk in self.open_reader(key, start, end)]
        return b"".join(parts)

    @contextmanager
    def open_file(self, key: str) -> Iterator[IO[bytes]]:
        with io.BufferedReader(_RangeReader(self, key), buffer_size=READ_CHUNK) as handle:
            yield handle

    async def hash(self, key: str, progress: Callable[[int], Any] | None = None
                   ) -> tuple[str, int] | None:
        hasher = hashlib.sha256()
        size = 0
        try:
            async for chunk in self.open_reader(key):
                await anyio.to_thread.run_sync(hasher.update, chunk)
                size += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        except ObjectMissing:
            return None
        return hasher.hexdigest(), size

    async def remove_staging(self, staging_key: str) -> None:
        client = await self.client()
        await client.delete_object(Bucket=self.bucket,
                                   Key=self.full_key(check_staging_key(staging_key)))

    async def discard_staging(self, staging_keys: list[str]) -> None:
        with anyio.CancelScope(shield=True):
            for key in staging_keys:
                try:
                    await self.remove_staging(key)
                except Exception as exc:  # the sweep removes what is left
                    log.warning("could not remove staged object %s: %s", key, exc)

    async def _list(self, prefix: str) -> AsyncIterator[dict[str, Any]]:
        client = await self.client()
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for entry in page.get("Contents", []) or []:
                yield entry

    async def staging_leftovers(self, older_than_seconds: float) -> list[str]:
        limit = time.time() - older_than_seconds
        found = []
        async for entry in self._list(STAGING_PREFIX):
            if entry["LastModified"].timestamp() < limit:
                found.append(entry["Key"][len(self.prefix):])
        return sorted(found)

    async def abort_incomplete_uploads(self, older_than_seconds: float,
                                       dry_run: bool = False) -> list[str]:
        limit = time.time() - older_than_seconds
        client = await self.client()
        stale = []
        paginator = client.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []) or []:
                if upload["Initiated"].timestamp() < limit:
                    stale.append((upload["Key"], upload["UploadId"]))
        aborted = []
        for full, upload_id in stale:
            if not dry_run:
                try:
                    await client.abort_multipart_upload(Bucket=self.bucket, Key=full,
                                                        UploadId=upload_id)
                except Exception as exc:
                    if not _is_missing(exc):
                        raise
            aborted.append(full[len(self.prefix):])
        return sorted(aborted)

    async def iter_keys(self, prefix: str = CONTENT_PREFIX) -> AsyncIterator[str]:
        async for entry in self._list(prefix):
            key = entry["Key"][len(self.prefix):]
            if not key.startswith(STAGING_PREFIX):
                yield key

    # --- any object ----------------------------------------------------------------------

    async def exists(self, key: str) -> bool:
        return await self._head(key) is not None

    async def size(self, key: str) -> int | None:
        head = await self._head(key)
        return None if head is None else int(head["ContentLength"])

    async def modified_at(self, key: str) -> float | None:
        head = await self._head(key)
        return None if head is None else head["LastModified"].timestamp()

    async def remove(self, key: str) -> bool:
        if await self._head(key) is None:
            return False
        client = await self.client()
        await client.delete_object(Bucket=self.bucket, Key=self.full_key(key))
        return True

    async def put_bytes(self, key: str, data: bytes, *, write_once: bool = False) -> bool:
        client = await self.client()
        extra = {"IfNoneMatch": "*"} if write_once else {}
        try:
            await client.put_object(Bucket=self.bucket, Key=self.full_key(key), Body=data,
                                    **extra)
        except Exception as exc:
            if write_once and _error_code(exc) in EXISTS_CODES:
                return False
            raise
        return True

    async def get_bytes(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.open_reader(key)])

    async def ready(self) -> None:
        try:
            client = await self.client()
            await client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise StorageError(f"object store bucket {self.bucket!r} not reachable: "
                               f"{_error_code(exc) or type(exc).__name__}") from exc
