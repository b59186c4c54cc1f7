"""Re-anchor an existing audit log under the keyed chain.

Events written before the chain was keyed were hashed with plain SHA-256, which anyone with
write access to the database can recompute. They are NOT rehashed (rewriting the evidence would
launder anything done to it before, and change hashes people may have noted): this migration
checks the SHA-256 chain as it stands, then appends one event, ``audit.chain_keyed``, hashed
with the keyed HMAC, whose ``prev_hash`` is the last legacy hash and whose details record how
many legacy events there were, the last one's hash, and whether their chain was intact. From
then on the legacy events cannot be changed without breaking that keyed event's link, which
cannot be recomputed without the key. `casetracker audit verify` checks events up to the marker
with SHA-256 and every later one with the key.

An empty log (a new database) gets no marker. Running it twice changes nothing. Plain SQL
through the migration's engine, the same on SQLite and PostgreSQL.
"""

import json
from datetime import UTC, datetime

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-03T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Anchor legacy (SHA-256) audit events under the keyed chain"

MARKER = "audit.chain_keyed"
_COLUMNS = ("id, seq, occurred_at, actor_id, actor_label, action, object_type, object_id, "
            "case_id, ip_address, details, prev_hash, hash")


async def anchor_legacy_events() -> dict | None:
    """Append the keyed marker after the legacy events; returns its details (None when there
    was nothing to anchor or it was already done)."""
    from casetracker.audit.rules import GENESIS_HASH, ChainChecker, chain_key, event_hash
    from casetracker.settings import get_settings

    engine = engine_finder()
    done = await engine.run_querystring(QueryString(
        "SELECT seq FROM audit_event WHERE action = {} LIMIT 1", MARKER))
    if done:
        return None
    key = chain_key(get_settings().secret_key)
    last = await engine.run_querystring(QueryString(
        "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1"))
    if not last:
        return None
    head_seq, head_hash = int(last[0]["seq"]), last[0]["hash"]
    # Every event so far is a legacy one: check them with SHA-256 (the marker is never reached).
    checker = ChainChecker(key, legacy_until=head_seq)
    broken = None
    after = 0
    while broken is None:
        rows = await engine.run_querystring(QueryString(
            f"SELECT {_COLUMNS} FROM audit_event WHERE seq > {{}} ORDER BY seq LIMIT 2000",
            after))
        if not rows:
            break
        for row in rows:
            broken = checker.feed(row)
            if broken is not None:
                break
        after = int(rows[-1]["seq"])
    count = await engine.run_querystring(QueryString("SELECT COUNT(*) AS n FROM audit_event"))
    details = {
        "legacy_scheme": "sha256",
        "legacy_events": int(count[0]["n"]),
        "legacy_head_seq": head_seq,
        "legacy_head_hash": head_hash,
        "legacy_chain": ("intact" if broken is None
                         else f"broken at event {broken.seq}: {broken.reason}"),
    }
    event = {
        "seq": head_seq + 1,
        "occurred_at": datetime.now(UTC),
        "actor_id": None,
        "actor_label": "migration",
        "action": MARKER,
        "object_type": "audit",
        "object_id": "",
        "case_id": None,
        "ip_address": None,
        "details": json.dumps(details, sort_keys=True, ensure_ascii=False),
    }
    prev_hash = head_hash or GENESIS_HASH
    await engine.run_querystring(QueryString(
        "INSERT INTO audit_event (seq, occurred_at, actor_id, actor_label, action, object_type, "
        "object_id, case_id, ip_address, details, prev_hash, hash) VALUES "
        "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        event["seq"], event["occurred_at"], None, event["actor_label"], MARKER,
        event["object_type"], "", None, None, event["details"], prev_hash,
        event_hash(prev_hash, event, key)))
    return details


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="audit", description=DESCRIPTION)

    async def run_raw():
        await anchor_legacy_events()

    manager.add_raw(run_raw)
    return manager
