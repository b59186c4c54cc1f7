"""The embedded default: files on the local disk, written once and made read-only.

Streamed writes go to ``<root>/staging/<time>-<random>.part`` and are promoted with ``link()``
(which fails when the key exists: an existing file is never overwritten); small objects are
written to a temporary file and linked (write-once) or renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anyio
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

WRITE_BUFFER = 1024 * 1024


class LocalStagingWriter:
    """Buffers up to 1 MiB, then hashes and writes it off the event loop."""

    def __init__(self, key: str, path: Path, handle: Any) -> None:
        self.key = key
        self.path = path
        self.size = 0
        self._handle = handle
        self._hasher = hashlib.sha256()
        self._buffer = bytearray()
        self._closed = False

    def _flush_sync(self, data: bytes) -> None:
        self._hasher.update(data)
        self._handle.write(data)

    async def _flush(self) -> None:
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            await anyio.to_thread.run_sync(self._flush_sync, data)

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        self.size += len(chunk)
        if len(self._buffer) >= WRITE_BUFFER:
            await self._flush()

    async def close(self) -> str:
        await self._flush()
        if not self._closed:
            self._closed = True

            def finish() -> None:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()

            await anyio.to_thread.run_sync(finish)
        return self._hasher.hexdigest()

    def abort_now(self) -> None:
        self._buffer.clear()
        if not self._closed:
            self._closed = True
            try:
                self._handle.close()
            except OSError:
                pass
        self.path.unlink(missing_ok=True)

    async def abort(self) -> None:
        self.abort_now()


@dataclass
class LocalStore:
    """Objects as files under ``root``; content-addressed ones at ``root/sha256/ab/cd/<sha>``."""

    root: Path
    area: str = "evidence"
    backend: str = field(default="local", init=False)
    supports_write_once: bool = field(default=True, init=False)

    @property
    def staging_dir(self) -> Path:
        return self.root / STAGING_PREFIX.rstrip("/")

    def path_for(self, key: str) -> Path:
        return self.root / check_key(key)

    # --- streamed, content-addressed -----------------------------------------------------

    async def open_staging(self) -> LocalStagingWriter:
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        key = f"{STAGING_PREFIX}{int(time.time())}-{secrets.token_hex(16)}.part"
        path = self.root / key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return LocalStagingWriter(key, path, os.fdopen(fd, "wb", buffering=0))

    async def promote(self, staging_key: str, sha256: str) -> tuple[str, bool]:
        key = content_key(sha256)
        final = self.path_for(key)
        staging_path = self.path_for(check_staging_key(staging_key))

        def move() -> bool:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(staging_path, 0o440)
            try:
                # link() fails when the key exists: two promotions of the same content race
                # safely and an existing file is never overwritten.
                os.link(staging_path, final)
                created = True
            except FileExistsError:
                created = False
            staging_path.unlink(missing_ok=True)
            return created

        created = await anyio.to_thread.run_sync(move)
        return key, created

    async def open_reader(self, key: str, start: int = 0, end: int | None = None
                          ) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        async with await anyio.open_file(path, "rb") as handle:
            await handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                want = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await handle.read(want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    @contextmanager
    def open_file(self, key: str) -> Iterator[IO[bytes]]:
        try:
            handle = open(self.path_for(key), "rb")  # closed by the with below
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc
        with handle:
            yield handle

    async def hash(self, key: str, progress: Callable[[int], Any] | None = None
                   ) -> tuple[str, int] | None:
        path = self.path_for(key)

        def run() -> tuple[str, int] | None:
            hasher = hashlib.sha256()
            size = 0
            try:
                with open(path, "rb") as handle:
                    while chunk := handle.read(READ_CHUNK):
                        hasher.update(chunk)
                        size += len(chunk)
                        if progress is not None:
                            progress(len(chunk))
            except FileNotFoundError:
                return None
            return hasher.hexdigest(), size

        return await anyio.to_thread.run_sync(run)

    async def remove_staging(self, staging_key: str) -> None:
        self.path_for(check_staging_key(staging_key)).unlink(missing_ok=True)

    async def discard_staging(self, staging_keys: list[str]) -> None:
        # No await: finishes even when the calling task is being cancelled.
        for key in staging_keys:
            try:
                self.path_for(check_staging_key(key)).unlink(missing_ok=True)
            except OSError:
                pass

    async def staging_leftovers(self, older_than_seconds: float) -> list[str]:
        if not self.staging_dir.is_dir():
            return []
        limit = time.time() - older_than_seconds
        found = []
        for path in self.staging_dir.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    found.append(f"{STAGING_PREFIX}{path.name}")
            except FileNotFoundError:
                continue
        return sorted(found)

    async def abort_incomplete_uploads(self, older_than_seconds: float,
                                       dry_run: bool = False) -> list[str]:
        return []  # a local file has no upload state beyond its staging file

    async def iter_keys(self, prefix: str = CONTENT_PREFIX) -> AsyncIterator[str]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(STAGING_PREFIX) or key.endswith(".tmp") or not path.is_file():
                continue
            yield key

    # --- any object ----------------------------------------------------------------------

    async def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    async def size(self, key: str) -> int | None:
        try:
            return self.path_for(key).stat().st_size
        except FileNotFoundError:
            return None

    async def modified_at(self, key: str) -> float | None:
        try:
            return self.path_for(key).stat().st_mtime
        except FileNotFoundError:
            return None

    async def remove(self, key: str) -> bool:
        try:
            self.path_for(key).unlink()
            return True
        except FileNotFoundError:
            return False

    async def put_bytes(self, key: str, data: bytes, *, write_once: bool = False) -> bool:
        path = self.path_for(key)

        def write() -> bool:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, 0o440)
                if write_once:
                    try:
                        os.link(tmp, path)  # fails when the key exists
                    except FileExistsError:
                        return False
                else:
                    os.replace(tmp, path)
                return True
            finally:
                tmp.unlink(missing_ok=True)

        return await anyio.to_thread.run_sync(write)

    async def get_bytes(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError as exc:
            raise ObjectMissing(key) from exc

    async def ready(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.root}: {exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"{self.root} is not writable")
