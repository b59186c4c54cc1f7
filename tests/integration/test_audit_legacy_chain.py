"""Databases whose audit events were hashed with plain SHA-256 before the chain was keyed: the
migration keeps those events as they are and pins them with one keyed ``audit.chain_keyed``
event; the log then verifies, and changing a legacy event is still detected."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker.audit import services as audit
from casetracker.audit.rules import GENESIS_HASH, KEYED_MARKER_ACTION, event_hash
from casetracker.audit.tables import AuditEvent
from casetracker.auth.actor import Actor
from casetracker.settings import PROJECT_ROOT

MIGRATION = (PROJECT_ROOT / "migrations" / "audit"
             / "audit_2026_12_03t12_00_00_000000_keyed_chain.py")


async def run_migration() -> None:
    spec = importlib.util.spec_from_file_location("keyed_chain_migration", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    manager = await module.forwards()
    await manager.run()


async def write_legacy_events(count: int) -> list[dict[str, Any]]:
    """Events as the code before the key wrote them (plain SHA-256 chain)."""
    prev, rows = GENESIS_HASH, []
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    for seq in range(1, count + 1):
        row = {"seq": seq, "occurred_at": start + timedelta(minutes=seq), "actor_id": None,
               "actor_label": "sup@example.org", "action": "case.update", "object_type": "case",
               "object_id": str(seq), "case_id": None, "ip_address": "192.0.2.9",
               "details": json.dumps({"n": seq}), "prev_hash": prev}
        row["hash"] = event_hash(prev, row)  # no key: the legacy scheme
        prev = row["hash"]
        await AuditEvent.insert(AuditEvent(**row))
        rows.append(row)
    return rows


async def test_legacy_events_are_anchored_not_rewritten(settings: Any) -> None:
    legacy = await write_legacy_events(6)
    await run_migration()
    await run_migration()  # a second run changes nothing
    rows = await AuditEvent.select().order_by(AuditEvent.seq)
    assert [r["hash"] for r in rows[:6]] == [r["hash"] for r in legacy]  # never rehashed
    marker = rows[6]
    assert len(rows) == 7 and marker["action"] == KEYED_MARKER_ACTION
    assert marker["prev_hash"] == legacy[-1]["hash"]
    details = json.loads(marker["details"])
    assert details["legacy_events"] == 6 and details["legacy_chain"] == "intact"
    assert details["legacy_head_hash"] == legacy[-1]["hash"]

    await audit.record("login", actor=Actor.system())  # new events are keyed
    result = await audit.verify_chain()
    assert result.intact and result.checked == 8
    written = await audit.write_checkpoint()
    assert written is not None and written.head.legacy_until == 6
    assert (await audit.verify_chain()).intact


async def test_a_changed_legacy_event_is_still_detected(settings: Any) -> None:
    await write_legacy_events(5)
    await run_migration()
    await audit.record("login", actor=Actor.system())
    await audit.write_checkpoint()

    # Edited without recomputing: the event itself is named.
    await AuditEvent.update({AuditEvent.actor_label: "nobody"}).where(AuditEvent.seq == 3)
    result = await audit.verify_chain()
    assert result.first_break is not None and result.first_break.seq == 3

    # Edited with the whole legacy SHA-256 chain recomputed: the keyed marker no longer links.
    rows = await AuditEvent.select().where(AuditEvent.seq <= 5).order_by(AuditEvent.seq)
    prev = GENESIS_HASH
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = event_hash(prev, row)
        prev = row["hash"]
        await AuditEvent.update({AuditEvent.prev_hash: row["prev_hash"],
                                 AuditEvent.hash: row["hash"]}).where(AuditEvent.id == row["id"])
    result = await audit.verify_chain()
    assert result.first_break is not None and result.first_break.seq == 6


async def test_removing_the_marker_to_pass_keyed_events_off_as_legacy_fails(settings: Any
                                                                           ) -> None:
    await write_legacy_events(3)
    await run_migration()
    for _ in range(3):
        await audit.record("login", actor=Actor.system())
    # The attacker turns the whole log into a plain SHA-256 chain without the marker.
    rows = [r for r in await AuditEvent.select().order_by(AuditEvent.seq)
            if r["action"] != KEYED_MARKER_ACTION]
    await AuditEvent.delete().where(AuditEvent.seq > 0)
    prev = GENESIS_HASH
    for seq, row in enumerate(rows, start=1):
        row.update(seq=seq, prev_hash=prev)
        row["hash"] = event_hash(prev, row)
        prev = row["hash"]
        row.pop("id")
        await AuditEvent.insert(AuditEvent(**row))
    result = await audit.verify_chain()
    assert result.first_break is not None and result.first_break.seq == 1
