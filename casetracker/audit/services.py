"""Appending to and verifying the audit log, and writing its checkpoints.

``record`` must run inside the same write transaction as the change it describes, so the
change and its audit row commit together or not at all; it opens one when none is open.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from casetracker import db
from casetracker.audit.checkpoints import (
    Checkpoint,
    Head,
    checkpoint_filename,
    configured_sinks,
    load_checkpoints,
    make_checkpoint,
)
from casetracker.audit.rules import (
    GENESIS_HASH,
    KEYED_MARKER_ACTION,
    ChainBreak,
    ChainChecker,
    chain_key,
    event_hash,
)
from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.settings import get_settings

log = logging.getLogger("casetracker.audit")


def _key() -> bytes:
    return chain_key(get_settings().secret_key)

_ADVISORY_LOCK_KEY = 287_001


async def _lock_appends() -> None:
    """Inside a write transaction: serialise appends (and head reads) so two transactions never
    chain to the same previous row. SQLite's immediate transactions already do."""
    if isinstance(db.current_engine(), PostgresEngine):
        await _LOCK.fetch(_ADVISORY_LOCK_KEY)


_LOCK = db.Statement("SELECT pg_advisory_xact_lock({})")


_HEAD = db.Statement("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")
_INSERT_COLUMNS = ("seq", "occurred_at", "actor_id", "actor_label", "action", "object_type",
                   "object_id", "case_id", "ip_address", "details", "prev_hash", "hash")
_COLUMN_LIST = ", ".join(_INSERT_COLUMNS)
_MARKS = ", ".join("{}" for _ in _INSERT_COLUMNS)
_INSERT = db.Statement(f"INSERT INTO audit_event ({_COLUMN_LIST}) VALUES ({_MARKS})")  # noqa: S608
# The same row, written only if the head is still the one this process last appended (seq and
# hash): one statement instead of a head read and an insert. Another process's append, or a
# rolled-back one of ours, leaves it unwritten and the head is read again.
_INSERT_AFTER = db.Statement(
    f"INSERT INTO audit_event ({_COLUMN_LIST}) SELECT {_MARKS} "  # noqa: S608
    "WHERE EXISTS (SELECT 1 FROM audit_event WHERE seq = {} AND hash = {}) "
    "AND NOT EXISTS (SELECT 1 FROM audit_event WHERE seq > {}) RETURNING seq")
# (engine, seq, hash) of this process's last append; a guess, never trusted without the check.
_last_append: tuple[object, int, str] | None = None


async def record(
    action: str,
    *,
    actor: Actor,
    object_type: str = "",
    object_id: object = "",
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    global _last_append
    async with db.write_transaction():
        await _lock_appends()
        # Plain SQL on this path: every request that reads or changes a case appends here,
        # and building the ORM's query objects cost more than running the statements.
        event = {
            "occurred_at": datetime.now(UTC),
            "actor_id": actor.id,
            "actor_label": actor.label,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id) if object_id not in (None, "") else "",
            "case_id": case_id,
            "ip_address": actor.ip_address,
            "details": json.dumps(details or {}, sort_keys=True, default=str,
                                  ensure_ascii=False),
        }
        key = _key()
        engine = db.current_engine()
        guess = _last_append
        if guess is not None and guess[0] is engine:
            _, seq, prev_hash = guess
            row = _chained(event, seq + 1, prev_hash, key)
            if await _INSERT_AFTER.fetch(*(row[name] for name in _INSERT_COLUMNS),
                                         seq, prev_hash, seq):
                _last_append = (engine, row["seq"], row["hash"])
                return
        rows = await _HEAD.fetch()
        last = rows[0] if rows else None
        row = _chained(event, (last["seq"] + 1) if last else 1,
                       last["hash"] if last else GENESIS_HASH, key)
        await _INSERT.fetch(*(row[name] for name in _INSERT_COLUMNS))
        _last_append = (engine, row["seq"], row["hash"])


def _chained(event: dict[str, Any], seq: int, prev_hash: str, key: bytes) -> dict[str, Any]:
    full = {"seq": seq, **event}
    return {**full, "prev_hash": prev_hash, "hash": event_hash(prev_hash, full, key)}


async def _iter_events(after_seq: int = 0, batch_size: int = 2000
                       ) -> AsyncIterator[dict[str, Any]]:
    last_seq = after_seq
    while True:
        rows = await (
            AuditEvent.select()
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch_size)
        )
        if not rows:
            return
        for row in rows:
            yield row
        last_seq = rows[-1]["seq"]


async def legacy_until() -> int:
    """The seq of the last event hashed without the key (0 when the log began keyed)."""
    marker = await (AuditEvent.select(AuditEvent.seq)
                    .where(AuditEvent.action == KEYED_MARKER_ACTION)
                    .order_by(AuditEvent.seq).first())
    return int(marker["seq"]) - 1 if marker else 0


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_break: ChainBreak | None
    checkpoints_used: int = 0
    latest_checkpoint: Checkpoint | None = None

    @property
    def intact(self) -> bool:
        return self.first_break is None


async def verify_chain(extra_checkpoints: list[tuple[str, bytes]] | None = None
                       ) -> VerifyResult:
    """Walk the whole log (streamed in batches: memory stays flat however long it grows) and
    hold it to every signed checkpoint the sinks give back, plus ``extra_checkpoints``.

    A checkpoint whose signature fails is itself a break (someone tried to plant one), named at
    the event it claims to cover."""
    loaded = await load_checkpoints(extra_checkpoints)
    anchors = [c.anchor for c in loaded.valid]
    # Signed checkpoints know where the legacy events end; without any, the log says so.
    boundary = next((a.legacy_until for a in anchors), None)
    if boundary is None:
        boundary = await legacy_until()
    checker = ChainChecker(_key(), legacy_until=boundary, anchors=anchors)
    broken: ChainBreak | None = None
    async for row in _iter_events():
        broken = checker.feed(row)
        if broken is not None:
            break
    else:
        broken = checker.finish()
    for bad in loaded.invalid:
        forged = ChainBreak(bad.seq if bad.seq is not None else 1, None,
                            f"checkpoint {bad.location}: {bad.reason}")
        if broken is None or forged.seq < broken.seq:
            broken = forged
    return VerifyResult(checked=checker.checked, first_break=broken,
                        checkpoints_used=len(anchors), latest_checkpoint=loaded.latest)


async def chain_head() -> Head | None:
    """The last event, the number of events and the legacy boundary, read together."""
    async with db.write_transaction():
        await _lock_appends()
        last = await (AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
                      .order_by(AuditEvent.seq, ascending=False).first())
        if last is None:
            return None
        count = await AuditEvent.count()
        boundary = await legacy_until()
    return Head(seq=int(last["seq"]), hash=last["hash"], count=count, legacy_until=boundary)


class CheckpointRefused(Exception):
    """The log since the last checkpoint does not verify: signing it would bless tampering."""


@dataclass(frozen=True)
class WrittenCheckpoint:
    head: Head
    locations: list[str]
    errors: list[str]


async def write_checkpoint(*, force: bool = False) -> WrittenCheckpoint | None:
    """Sign the log's head and hand it to every configured sink. Nothing is written when the
    log is empty or has not moved since the latest checkpoint (unless ``force``).

    The events since the latest valid checkpoint are checked first (from its hash on, so the
    cost stays small however long the log grows); when they do not chain, nothing is signed
    and ``CheckpointRefused`` says where it breaks. Safe to run from several processes at once
    (each checkpoint is a new file). A sink that fails is reported in ``errors`` after the
    others have been written."""
    settings = get_settings()
    head = await chain_head()
    if head is None:
        return None
    loaded = await load_checkpoints()
    latest = loaded.latest
    if latest is not None:
        anchor = latest.anchor
        checker = ChainChecker(_key(), legacy_until=anchor.legacy_until, anchors=[anchor])
        checker.resume_after(anchor)
        rows = AuditEvent.select().where(AuditEvent.seq == anchor.seq)
        at_anchor = await rows.first()
        problem = None
        if at_anchor is None or at_anchor["hash"] != anchor.hash:
            problem = f"event {anchor.seq} no longer matches {anchor.label}"
        else:
            async for row in _iter_events(after_seq=anchor.seq):
                broken = checker.feed(row)
                if broken is not None:
                    problem = f"event {broken.seq}: {broken.reason}"
                    break
            else:
                if checker.expected_seq - 1 < anchor.seq:
                    problem = "events were removed"
        if problem:
            raise CheckpointRefused(problem)
        if not force and anchor.seq == head.seq and anchor.hash == head.hash:
            return None
    else:
        result = await verify_chain()
        if result.first_break is not None:
            raise CheckpointRefused(f"event {result.first_break.seq}: "
                                    f"{result.first_break.reason}")
    at = datetime.now(UTC)
    data = make_checkpoint(head, settings.secret_key, at)
    filename = checkpoint_filename(head, at)
    locations: list[str] = []
    errors: list[str] = []
    for sink in configured_sinks(settings):
        try:
            locations.append(await sink.write(filename, data))
        except Exception as exc:  # one sink failing must not stop the others
            log.exception("audit checkpoint: the %s sink failed", sink.name)
            errors.append(f"{sink.name}: {exc}")
    log.info("audit checkpoint at event %s written to %s", head.seq, ", ".join(locations))
    return WrittenCheckpoint(head=head, locations=locations, errors=errors)


async def case_timeline(case_id: int) -> list[dict[str, Any]]:
    """Every recorded change on a case, oldest first (reads are left out)."""
    rows = await (
        AuditEvent.select()
        .where((AuditEvent.case_id == case_id) & (AuditEvent.action.not_like("%.view%")))
        .order_by(AuditEvent.seq)
    )
    for row in rows:
        row["details"] = json.loads(row["details"] or "{}")
    return rows
