"""Pure hash-chain arithmetic for the audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def event_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and a canonical JSON of the event's fields."""
    payload = {
        "seq": int(event["seq"]),
        "occurred_at": _utc_iso(event["occurred_at"]),
        "actor_id": event.get("actor_id"),
        "actor_label": event.get("actor_label") or "",
        "action": event["action"],
        "object_type": event.get("object_type") or "",
        "object_id": event.get("object_id") or "",
        "case_id": event.get("case_id"),
        "ip_address": event.get("ip_address"),
        "details": event.get("details") or "{}",
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + blob).encode("utf-8")).hexdigest()


def _utc_iso(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int
    reason: str


def find_first_break(events: Iterable[Mapping[str, Any]]) -> ChainBreak | None:
    """Walk events in seq order; return the first row that does not chain, or None."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in events:
        seq = int(event["seq"])
        if seq != expected_seq:
            return ChainBreak(expected_seq, int(event["id"]),
                              f"row with seq {expected_seq} is missing (next present is {seq})")
        if event["prev_hash"] != expected_prev:
            return ChainBreak(seq, int(event["id"]),
                              "prev_hash does not match the previous row's hash")
        recomputed = event_hash(event["prev_hash"], event)
        if recomputed != event["hash"]:
            return ChainBreak(seq, int(event["id"]), "row contents do not match its hash")
        expected_prev = event["hash"]
        expected_seq = seq + 1
    return None
