"""Where stored bytes live: one interface, a local-disk backend and an S3 backend.

Evidence, issued documents and any other stored object go through :func:`get_store`, which
returns the store of one *area* (``"evidence"``, ``"documents"``, ...) for the configured
backend (``CASETRACKER_STORAGE_BACKEND``: ``local``, the embedded default, or ``s3``):

- local: files under ``evidence_dir`` (evidence) or ``var_dir/<area>`` (any other area);
- s3: objects under ``<CASETRACKER_S3_PREFIX>/<area>/`` in ``CASETRACKER_S3_BUCKET``.

Two ways to use a store:

- **Large, streamed, content-addressed** (evidence): ``open_staging()`` gives a writer that
  streams chunks to the store while it computes SHA-256 (multipart upload on S3); ``promote``
  moves the staged bytes to ``sha256/ab/cd/<sha256>``; ``open_reader(key, start, end)`` streams
  them back (ranges included); ``hash`` re-reads them for verification.
- **Small named objects** (issued documents, audit checkpoints): ``put_bytes(key, data,
  write_once=...)`` and ``get_bytes(key)``.

Keys are relative to the area, made of ``[A-Za-z0-9._-]`` segments separated by ``/``; never
built from user input. See docs/evidence.md ("Storage").
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from pathlib import PurePosixPath
from typing import IO, Any, Protocol, runtime_checkable

STAGING_PREFIX = "staging/"
CONTENT_PREFIX = "sha256/"
CONTENT_KEY = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}"
SAFE_KEY = re.compile(rf"^{_SEGMENT}(/{_SEGMENT}){{0,15}}$")
READ_CHUNK = 1024 * 1024
BACKENDS = ("local", "s3")


class StorageError(Exception):
    """The store could not be reached or refused an operation (details in the message)."""


class ObjectMissing(StorageError, FileNotFoundError):
    """No object under this key."""


def content_key(sha256: str) -> str:
    """The content-addressed key of bytes with this SHA-256: ``sha256/ab/cd/<sha256>``."""
    sha256 = sha256.lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return f"{CONTENT_PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not SAFE_KEY.match(key) or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


STAGING_NAME = re.compile(r"^[0-9]{1,12}-[0-9a-f]{32}\.part$")


def check_staging_key(ref: str | os.PathLike[str]) -> str:
    """The staging key (``staging/<time>-<random>.part``) of a staged object's reference.

    Staged objects are known by their generated name, so a key, a bare name or a local path
    of the staging file (as the local backend used to hand out) all name the same object;
    only the generated-name pattern is accepted, so nothing outside staging can be named."""
    name = PurePosixPath(os.fspath(ref)).name
    if not STAGING_NAME.match(name):
        raise ValueError("not a staging key")
    return STAGING_PREFIX + name


class StagingWriter(Protocol):
    """Bytes being received: ``write`` chunks, then ``close`` (keep) or ``abort`` (remove)."""

    key: str  # the staging key ("staging/<time>-<random>.part")
    size: int

    async def write(self, chunk: bytes) -> None: ...

    async def close(self) -> str:
        """Finish writing; return the SHA-256 hex digest of everything written."""
        ...

    async def abort(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    """One area of the configured backend. Every method takes keys relative to the area."""

    backend: str
    area: str
    supports_write_once: bool

    # --- streamed, content-addressed -----------------------------------------------------
    async def open_staging(self) -> StagingWriter: ...

    async def promote(self, staging_key: str, sha256: str) -> tuple[str, bool]:
        """Move staged bytes to their content-addressed key; return (key, created_new).

        When the same content is already stored the staged copy is dropped and
        ``created_new`` is False (idempotent)."""
        ...

    def open_reader(self, key: str, start: int = 0, end: int | None = None
                    ) -> AsyncIterator[bytes]:
        """Yield the bytes of ``key`` from ``start`` to ``end`` inclusive (None: to the end)."""
        ...

    def open_file(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """A seekable binary file of the stored (or staged) object, for libraries that need
        one (Pillow). Call it from a worker thread (``anyio.to_thread.run_sync``), never on
        the event loop: reads may block."""
        ...

    async def hash(self, key: str, progress: Callable[[int], Any] | None = None
                   ) -> tuple[str, int] | None:
        """Re-read stored bytes: (sha256, size), or None when missing."""
        ...

    async def remove_staging(self, staging_key: str) -> None: ...

    async def discard_staging(self, staging_keys: list[str]) -> None:
        """Remove staged objects after a failure, completing even in a cancelled task."""
        ...

    async def staging_leftovers(self, older_than_seconds: float) -> list[str]:
        """Staging keys older than this (uploads that never finished or were never promoted)."""
        ...

    async def abort_incomplete_uploads(self, older_than_seconds: float,
                                       dry_run: bool = False) -> list[str]:
        """Abort multipart uploads started longer ago than this (S3); the keys they were for."""
        ...

    def iter_keys(self, prefix: str = CONTENT_PREFIX) -> AsyncIterator[str]: ...

    # --- any object ----------------------------------------------------------------------
    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int | None: ...

    async def modified_at(self, key: str) -> float | None:
        """When the stored bytes were written (epoch seconds); None when missing."""
        ...

    async def remove(self, key: str) -> bool:
        """Remove an object nothing refers to (never call for recorded evidence)."""
        ...

    async def put_bytes(self, key: str, data: bytes, *, write_once: bool = False) -> bool:
        """Store a small object whole. ``write_once``: never replace an existing object (the
        backend refuses atomically); returns False when one was already there. Without it,
        replaces. Returns True when written."""
        ...

    async def get_bytes(self, key: str) -> bytes:
        """A small object's bytes; raises ObjectMissing."""
        ...

    async def ready(self) -> None:
        """Raise StorageError when the store cannot be reached or written."""
        ...


def get_store(settings: Any = None, area: str = "evidence") -> Store:
    """The store of ``area`` for the configured backend (cheap: call it where needed)."""
    if settings is None:
        from casetracker.settings import get_settings

        settings = get_settings()
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,40}", area):
        raise ValueError(f"invalid storage area {area!r}")
    backend = (getattr(settings, "storage_backend", "local") or "local").lower()
    if backend == "local":
        from pathlib import Path

        from casetracker.storage.local import LocalStore

        root = Path(settings.evidence_dir) if area == "evidence" else Path(
            settings.var_dir) / area
        return LocalStore(root, area=area)
    if backend == "s3":
        from casetracker.storage.s3 import S3Store

        return S3Store.from_settings(settings, area)
    raise ValueError(f"Unknown storage backend {backend!r} (CASETRACKER_STORAGE_BACKEND); "
                     f"known: {', '.join(BACKENDS)}")


async def storage_ready() -> None:
    """For the readiness check: raises when the configured store is unreachable. Cheap: one
    request to the object store (or a directory check on the local backend)."""
    await get_store(None, "evidence").ready()


async def open_stores() -> None:
    """At start-up: make the object-store client now. Making it loads the S3 service model
    (a second or more of blocking work); on a first request it would stall every request of
    the process for that long (a readiness check timed out on all its parts)."""
    store = get_store(None, "evidence")
    client = getattr(store, "client", None)
    if client is not None:
        await client()


async def close_stores() -> None:
    """Close the object-store clients of the running event loop (app shutdown, CLI exit)."""
    import sys

    s3 = sys.modules.get("casetracker.storage.s3")
    if s3 is not None:
        await s3.close_clients()
