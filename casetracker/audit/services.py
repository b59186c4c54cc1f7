"""Appending to and verifying the audit log.

``record`` must run inside the same write transaction as the change it describes, so the
change and its audit row commit together or not at all; it opens one when none is open.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from casetracker import db
from casetracker.audit.rules import GENESIS_HASH, ChainBreak, ChainChecker, event_hash
from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor

_ADVISORY_LOCK_KEY = 287_001


async def record(
    action: str,
    *,
    actor: Actor,
    object_type: str = "",
    object_id: object = "",
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    async with db.write_transaction():
        if isinstance(db.current_engine(), PostgresEngine):
            # Serialise appends so two transactions never chain to the same previous row.
            await AuditEvent.raw("SELECT pg_advisory_xact_lock({})", _ADVISORY_LOCK_KEY)
        last = await (
            AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
            .order_by(AuditEvent.seq, ascending=False)
            .first()
        )
        prev_hash = last["hash"] if last else GENESIS_HASH
        event = {
            "seq": (last["seq"] + 1) if last else 1,
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
        await AuditEvent.insert(
            AuditEvent(**event, prev_hash=prev_hash, hash=event_hash(prev_hash, event))
        )


async def _iter_events(batch_size: int = 2000) -> AsyncIterator[dict[str, Any]]:
    last_seq = 0
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


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


async def verify_chain() -> VerifyResult:
    """Stream the log in batches (memory stays flat however long it grows)."""
    checker = ChainChecker()
    async for row in _iter_events():
        broken = checker.feed(row)
        if broken is not None:
            return VerifyResult(checked=checker.checked, first_break=broken)
    return VerifyResult(checked=checker.checked, first_break=None)


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
