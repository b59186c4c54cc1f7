"""Signed checkpoints of the audit log, kept outside the database.

A checkpoint says "at this time the log held ``count`` events, the last one ``seq`` with hash
``hash``", signed with an Ed25519 key derived from the secret key (so anyone holding the public
key, ``casetracker audit public-key``, can check a checkpoint, and nobody without the secret key
can make one). ``casetracker audit verify`` holds the log to every checkpoint it can read: a log
cut short, emptied or replaced no longer matches them.

Where checkpoints go is a list of *sinks* (``CASETRACKER_AUDIT_CHECKPOINT_SINKS``, default
``file``):

- ``file``: one write-once file per checkpoint under ``CASETRACKER_AUDIT_CHECKPOINT_DIR``
  (created exclusively, read-only, never rewritten); also read back by ``verify``.
- ``email``: the checkpoint as an attachment to ``CASETRACKER_AUDIT_CHECKPOINT_EMAIL`` (kept by
  a person outside the system; check one with ``casetracker audit verify --checkpoint FILE``).

Another place (an object store, say) is a class with ``name`` and ``async write(filename,
data) -> location`` (and ``async read_all() -> [(location, data)]`` if it can be read back),
registered with :func:`register_sink`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casetracker.audit.rules import Anchor
from casetracker.settings import Settings, get_settings

log = logging.getLogger("casetracker.audit")

FORMAT = "casetracker-audit-checkpoint/1"
_SIGNING_KEY_INFO = b"casetracker audit checkpoint signing v1"


# --- signing -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def signing_key(secret_key: str) -> Ed25519PrivateKey:
    if not secret_key:
        raise ValueError("the secret key is empty")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_SIGNING_KEY_INFO).derive(secret_key.encode("utf-8"))
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(secret_key: str) -> bytes:
    return signing_key(secret_key).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_pem(secret_key: str) -> str:
    return signing_key(secret_key).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Head:
    """The log as it stands: ``count`` events, the last ``seq`` with ``hash``."""
    seq: int
    hash: str
    count: int
    legacy_until: int


def make_checkpoint(head: Head, secret_key: str, at: datetime | None = None) -> bytes:
    """The signed checkpoint file's bytes."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    body = {
        "format": FORMAT,
        "seq": head.seq,
        "hash": head.hash,
        "count": head.count,
        "legacy_until": head.legacy_until,
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "key_id": key_id(public_key_bytes(secret_key)),
    }
    signature = signing_key(secret_key).sign(_canonical(body))
    document = {**body, "signature": base64.b64encode(signature).decode("ascii")}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def checkpoint_filename(head: Head, at: datetime) -> str:
    return f"audit-checkpoint-{head.seq:012d}-{at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.json"


class InvalidCheckpoint(Exception):
    def __init__(self, location: str, reason: str, seq: int | None = None) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason
        self.seq = seq


@dataclass(frozen=True)
class Checkpoint:
    location: str
    at: datetime
    anchor: Anchor


def read_checkpoint(location: str, data: bytes, public_key: bytes) -> Checkpoint:
    """A checkpoint whose signature holds under ``public_key``; else InvalidCheckpoint."""
    try:
        document = json.loads(data.decode("utf-8"))
        signature = base64.b64decode(document.pop("signature"), validate=True)
        body = document
        seq, count = int(body["seq"]), int(body["count"])
        legacy_until = int(body.get("legacy_until", 0))
        chain_hash = str(body["hash"])
        at = datetime.strptime(body["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        if body.get("format") != FORMAT:
            raise ValueError("unknown format")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error,
            UnicodeDecodeError) as exc:
        raise InvalidCheckpoint(location, f"not a readable checkpoint ({exc})") from None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _canonical(body))
    except InvalidSignature:
        raise InvalidCheckpoint(
            location, "its signature is not this server's (forged, altered, or signed under "
            "another secret key)", seq) from None
    label = f"the checkpoint of {at:%Y-%m-%d %H:%M} UTC ({location})"
    return Checkpoint(location, at, Anchor(seq=seq, hash=chain_hash, count=count,
                                           legacy_until=legacy_until, label=label))


# --- sinks ---------------------------------------------------------------------------------

@runtime_checkable
class CheckpointSink(Protocol):
    name: str

    async def write(self, filename: str, data: bytes) -> str:
        """Store the checkpoint; return where (a path, an address, a URL)."""


@runtime_checkable
class CheckpointSource(Protocol):
    async def read_all(self) -> list[tuple[str, bytes]]:
        """Every checkpoint kept here, as (location, bytes)."""


class FileCheckpointStore:
    """One write-once file per checkpoint: created exclusively (an existing file is never
    replaced), flushed to disk, and made read-only."""

    name = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _write(self, filename: str, data: bytes) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / filename
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:  # pragma: no cover - some file systems refuse fsync on a directory
            pass
        return str(path)

    async def write(self, filename: str, data: bytes) -> str:
        return await asyncio.to_thread(self._write, filename, data)

    def _read_all(self) -> list[tuple[str, bytes]]:
        if not self.directory.is_dir():
            return []
        return [(str(path), path.read_bytes())
                for path in sorted(self.directory.glob("audit-checkpoint-*.json"))]

    async def read_all(self) -> list[tuple[str, bytes]]:
        return await asyncio.to_thread(self._read_all)


class EmailCheckpointSink:
    """Sends each checkpoint to a set address (someone outside the system keeps them)."""

    name = "email"

    def __init__(self, address: str, settings: Settings) -> None:
        self.address = address
        self.settings = settings

    async def write(self, filename: str, data: bytes) -> str:
        from casetracker.mail import Attachment, build_message, deliver

        body = ("This is a signed checkpoint of the audit log of "
                f"{self.settings.organisation_name}. Keep it: `casetracker audit verify "
                "--checkpoint FILE` checks the log against it.\n\n" + data.decode("utf-8"))
        message = build_message(self.settings, self.address, "Audit log checkpoint", body,
                                (Attachment(filename, data, "application/json"),))
        await asyncio.to_thread(deliver, self.settings, message)  # raises when it fails
        return f"e-mail to {self.address}"


SinkFactory = Callable[[Settings], CheckpointSink]


def _file_sink(settings: Settings) -> CheckpointSink:
    return FileCheckpointStore(settings.audit_checkpoint_dir)


def _email_sink(settings: Settings) -> CheckpointSink:
    if not settings.audit_checkpoint_email:
        raise ValueError("the 'email' checkpoint sink needs CASETRACKER_AUDIT_CHECKPOINT_EMAIL")
    return EmailCheckpointSink(settings.audit_checkpoint_email, settings)


_SINK_FACTORIES: dict[str, SinkFactory] = {"file": _file_sink, "email": _email_sink}


def register_sink(name: str, factory: SinkFactory) -> None:
    """Add a place checkpoints can go, named in CASETRACKER_AUDIT_CHECKPOINT_SINKS."""
    _SINK_FACTORIES[name] = factory


def configured_sinks(settings: Settings | None = None) -> list[CheckpointSink]:
    settings = settings or get_settings()
    sinks = []
    for name in settings.audit_checkpoint_sinks:
        factory = _SINK_FACTORIES.get(name)
        if factory is None:
            raise ValueError(f"unknown audit checkpoint sink {name!r} in "
                             "CASETRACKER_AUDIT_CHECKPOINT_SINKS (known: "
                             f"{', '.join(sorted(_SINK_FACTORIES))})")
        sinks.append(factory(settings))
    return sinks


@dataclass(frozen=True)
class LoadedCheckpoints:
    valid: list[Checkpoint]
    invalid: list[InvalidCheckpoint]

    @property
    def latest(self) -> Checkpoint | None:
        return max(self.valid, key=lambda c: (c.anchor.seq, c.at), default=None)


async def load_checkpoints(extra: list[tuple[str, bytes]] | None = None,
                           settings: Settings | None = None) -> LoadedCheckpoints:
    """Every checkpoint the configured sinks can give back, plus ``extra`` ones (files a person
    kept), sorted into valid and invalid."""
    settings = settings or get_settings()
    public_key = public_key_bytes(settings.secret_key)
    found: list[tuple[str, bytes]] = []
    for sink in configured_sinks(settings):
        if isinstance(sink, CheckpointSource):
            found.extend(await sink.read_all())
    found.extend(extra or [])
    valid: list[Checkpoint] = []
    invalid: list[InvalidCheckpoint] = []
    for location, data in found:
        try:
            valid.append(read_checkpoint(location, data, public_key))
        except InvalidCheckpoint as exc:
            invalid.append(exc)
    return LoadedCheckpoints(valid, invalid)
