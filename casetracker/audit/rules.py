"""Pure chain arithmetic for the audit log: the keyed hash of each event, and the checker that
walks the log (and compares it with signed checkpoints kept outside the database).

Every event's ``hash`` is HMAC-SHA256, under a key derived from the app's secret key, over the
previous event's hash and a canonical JSON of the event's fields. The key is never stored in the
database, so someone who can write to the database cannot recompute the hashes after changing,
adding, removing or reordering rows.

Databases created before the chain was keyed hold a prefix of events hashed with plain SHA-256
("legacy" events). They are kept as they were (never rehashed); the migration that introduced
the key appended one keyed ``audit.chain_keyed`` event whose ``prev_hash`` is the last legacy
hash, so the legacy prefix is pinned by that keyed event (see docs/security.md).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GENESIS_HASH = "0" * 64
KEYED_MARKER_ACTION = "audit.chain_keyed"
_CHAIN_KEY_INFO = b"casetracker audit chain v1"


@functools.lru_cache(maxsize=4)
def chain_key(secret_key: str) -> bytes:
    """The 256-bit HMAC key of the chain, derived from the app's secret key (HKDF-SHA256 under
    its own context, so it is no key that signs or encrypts anything else)."""
    if not secret_key:
        raise ValueError("the secret key is empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=_CHAIN_KEY_INFO).derive(secret_key.encode("utf-8"))


def canonical_event(event: Mapping[str, Any]) -> str:
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
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, event: Mapping[str, Any], key: bytes | None = None) -> str:
    """HMAC-SHA256 under ``key`` over the previous hash and the canonical event; with no key,
    the legacy plain SHA-256 (only ever used to check events written before the key)."""
    message = (prev_hash + canonical_event(event)).encode("utf-8")
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _utc_iso(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int | None
    reason: str


@dataclass(frozen=True)
class Anchor:
    """What a valid checkpoint says the log held: ``count`` events, the last one ``seq`` with
    ``hash``, the legacy prefix ending at ``legacy_until``; ``label`` names the checkpoint."""
    seq: int
    hash: str
    count: int
    legacy_until: int
    label: str


class ChainChecker:
    """Checks events one at a time, in seq order, so a log of any size streams through.

    ``legacy_until``: the seq of the last event hashed with plain SHA-256 (0 when none); the
    event after it must be the keyed marker. ``anchors``: checkpoints to hold the log to.
    """

    def __init__(self, key: bytes, *, legacy_until: int = 0,
                 anchors: Iterable[Anchor] = ()) -> None:
        self.key = key
        self.legacy_until = legacy_until
        self.expected_prev = GENESIS_HASH
        self.expected_seq = 1
        self.checked = 0
        self.anchors: dict[int, list[Anchor]] = {}
        for anchor in anchors:
            self.anchors.setdefault(anchor.seq, []).append(anchor)

    def resume_after(self, anchor: Anchor) -> None:
        """Check only the events after a checkpoint (the log up to it was checked when it was
        signed, and its hash pins everything before)."""
        self.expected_prev = anchor.hash
        self.expected_seq = anchor.seq + 1
        self.checked = anchor.count

    def feed(self, event: Mapping[str, Any]) -> ChainBreak | None:
        seq = int(event["seq"])
        event_id = int(event["id"]) if event.get("id") is not None else None
        if seq != self.expected_seq:
            return ChainBreak(self.expected_seq, event_id,
                              f"event {self.expected_seq} is missing (next present is {seq})")
        if event["prev_hash"] != self.expected_prev:
            return ChainBreak(seq, event_id, "prev_hash does not match the previous event's hash")
        legacy = seq <= self.legacy_until
        if event_hash(event["prev_hash"], event, None if legacy else self.key) != event["hash"]:
            why = ("contents do not match its hash" if legacy else
                   "contents do not match its keyed hash (changed, forged, or written under "
                   "another secret key)")
            return ChainBreak(seq, event_id, why)
        if self.legacy_until and seq == self.legacy_until + 1 and (
                event["action"] != KEYED_MARKER_ACTION):
            return ChainBreak(seq, event_id, "the legacy events are not closed by the keyed "
                                             "marker event")
        self.checked += 1
        for anchor in self.anchors.get(seq, ()):
            if event["hash"] != anchor.hash:
                return ChainBreak(seq, event_id, f"does not match {anchor.label}, which "
                                                 "recorded another event at this position")
            if anchor.count != self.checked:
                return ChainBreak(seq, event_id, f"{anchor.label} counted {anchor.count} "
                                                 f"events up to here, the log {self.checked}")
        self.expected_prev = event["hash"]
        self.expected_seq = seq + 1
        return None

    def finish(self) -> ChainBreak | None:
        """After the last event: every checkpoint must lie within the log (or the log lost
        its tail)."""
        last_seq = self.expected_seq - 1
        beyond = [a for seq, group in self.anchors.items() for a in group if seq > last_seq]
        if beyond:
            latest = max(beyond, key=lambda a: a.seq)
            return ChainBreak(last_seq + 1, None,
                              f"the log ends at event {last_seq}, but {latest.label} recorded "
                              f"{latest.count} events up to event {latest.seq}: events were "
                              "removed")
        return None


def find_first_break(events: Iterable[Mapping[str, Any]], key: bytes, *,
                     legacy_until: int = 0, anchors: Iterable[Anchor] = ()) -> ChainBreak | None:
    """Walk events in seq order; return the first that does not chain, or None."""
    checker = ChainChecker(key, legacy_until=legacy_until, anchors=anchors)
    for event in events:
        broken = checker.feed(event)
        if broken is not None:
            return broken
    return checker.finish()
