"""Where evidence bytes live: a storage interface and the local-disk backend.

Callers only ever see storage keys (``sha256/ab/cd/<sha256>``), never paths built from user
input. Files are written once into ``staging/`` under generated names while they stream in, then
promoted (linked) to their content-addressed key. The application never overwrites or deletes a
stored file that a record points to; ``remove`` exists only for files no record points to (a
failed request's own new files, and the sweep).

Another backend (object storage, say) implements :class:`EvidenceStore` and is chosen by
``settings.evidence_backend`` in :func:`get_store`; callers do not change.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anyio
import anyio.to_thread

STAGING_DIR_NAME = "staging"
KEY_PATTERN = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
READ_CHUNK = 1024 * 1024
WRITE_BUFFER = 1024 * 1024


def key_for(sha256: str) -> str:
    sha256 = sha256.lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class StagingWriter(Protocol):
    """A file being received: write chunks, then ``close`` (keep) or ``abort`` (remove)."""

    path: Path
    size: int

    async def write(self, chunk: bytes) -> None: ...

    async def close(self) -> str:
        """Flush and close; return the SHA-256 hex digest of everything written."""
        ...

    async def abort(self) -> None: ...


@runtime_checkable
class EvidenceStore(Protocol):
    async def open_staging(self) -> StagingWriter: ...

    async def promote(self, staging_path: Path, sha256: str) -> tuple[str, bool]:
        """Move a staged file to its content-addressed key; return (key, created_new).

        When the same content is already stored the staged copy is dropped and
        ``created_new`` is False (idempotent)."""
        ...

    def open_reader(self, key: str, start: int = 0, end: int | None = None
                    ) -> AsyncIterator[bytes]:
        """Yield the bytes of ``key`` from ``start`` to ``end`` inclusive (None: to the end)."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None: ...

    async def modified_at(self, key: str) -> float | None:
        """When the stored bytes were last written (epoch seconds), None when missing."""
        ...

    async def hash(self, key: str, progress: Any = None) -> tuple[str, int] | None:
        """Re-hash a stored file: (sha256, size), or None when it is missing."""
        ...

    async def remove(self, key: str) -> bool:
        """Remove a stored file no record points to. Never call for recorded keys."""
        ...

    async def remove_staging(self, staging_path: Path) -> None: ...

    def iter_keys(self) -> AsyncIterator[str]: ...

    async def staging_leftovers(self, older_than_seconds: float) -> list[Path]: ...


class LocalStagingWriter:
    """Buffers up to 1 MiB, then hashes and writes it off the event loop."""

    def __init__(self, path: Path, handle: Any) -> None:
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

    async def abort(self) -> None:
        self._buffer.clear()
        if not self._closed:
            self._closed = True
            try:
                self._handle.close()
            except OSError:
                pass
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


@dataclass
class LocalDiskStore:
    """Content-addressed files under ``root``: ``root/sha256/ab/cd/<sha256>``, read-only."""

    root: Path

    @property
    def staging_dir(self) -> Path:
        return self.root / STAGING_DIR_NAME

    def path_for(self, key: str) -> Path:
        if not KEY_PATTERN.match(key):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    async def open_staging(self) -> LocalStagingWriter:
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        name = f"{int(time.time())}-{secrets.token_hex(16)}.part"
        path = self.staging_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return LocalStagingWriter(path, os.fdopen(fd, "wb", buffering=0))

    async def promote(self, staging_path: Path, sha256: str) -> tuple[str, bool]:
        key = key_for(sha256)
        final = self.path_for(key)
        staging_path = Path(staging_path)
        if staging_path.parent.resolve() != self.staging_dir.resolve():
            raise ValueError("only files in the staging directory can be promoted")

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

    async def hash(self, key: str, progress: Any = None) -> tuple[str, int] | None:
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

    async def remove(self, key: str) -> bool:
        path = self.path_for(key)
        try:
            path.unlink()
            return True
        except FileNotFoundError:
            return False

    async def remove_staging(self, staging_path: Path) -> None:
        staging_path = Path(staging_path)
        if staging_path.parent.resolve() != self.staging_dir.resolve():
            raise ValueError("not a staging file")
        staging_path.unlink(missing_ok=True)

    async def iter_keys(self) -> AsyncIterator[str]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for path in sorted(base.glob("*/*/*")):
            key = path.relative_to(self.root).as_posix()
            if KEY_PATTERN.match(key) and path.is_file():
                yield key

    async def staging_leftovers(self, older_than_seconds: float) -> list[Path]:
        if not self.staging_dir.is_dir():
            return []
        limit = time.time() - older_than_seconds
        found = []
        for path in self.staging_dir.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    found.append(path)
            except FileNotFoundError:
                continue
        return sorted(found)


def get_store(settings: Any) -> EvidenceStore:
    backend = getattr(settings, "evidence_backend", "local") or "local"
    if backend == "local":
        return LocalDiskStore(Path(settings.evidence_dir))
    raise ValueError(f"Unknown evidence backend {backend!r} (CASETRACKER_EVIDENCE_BACKEND); "
                     "known: local")
