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


class ChainChecker:
    """Checks events one at a time, in seq order, so a log of any size streams through."""

    def __init__(self) -> None:
        self.expected_prev = GENESIS_HASH
        self.expected_seq = 1
        self.checked = 0

    def feed(self, event: Mapping[str, Any]) -> ChainBreak | None:
        seq = int(event["seq"])
        if seq != self.expected_seq:
            return ChainBreak(self.expected_seq, int(event["id"]),
                              f"row with seq {self.expected_seq} is missing "
                              f"(next present is {seq})")
        if event["prev_hash"] != self.expected_prev:
            return ChainBreak(seq, int(event["id"]),
                              "prev_hash does not match the previous row's hash")
        if event_hash(event["prev_hash"], event) != event["hash"]:
            return ChainBreak(seq, int(event["id"]), "row contents do not match its hash")
        self.expected_prev = event["hash"]
        self.expected_seq = seq + 1
        self.checked += 1
        return None


def find_first_break(events: Iterable[Mapping[str, Any]]) -> ChainBreak | None:
    """Walk events in seq order; return the first row that does not chain, or None."""
    checker = ChainChecker()
    for event in events:
        broken = checker.feed(event)
        if broken is not None:
            return broken
    return None
