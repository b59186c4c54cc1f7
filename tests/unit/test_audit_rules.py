from datetime import UTC, datetime, timedelta

from casetracker.audit.rules import GENESIS_HASH, chain_key, event_hash, find_first_break

KEY = chain_key("unit-test-secret")


def _chain(n: int) -> list[dict]:
    rows, prev = [], GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        row = {"id": i, "seq": i, "occurred_at": start + timedelta(minutes=i), "actor_id": 1,
               "actor_label": "a@example.org", "action": "case.update", "object_type": "case",
               "object_id": str(i), "case_id": i, "ip_address": "192.0.2.1", "details": "{}",
               "prev_hash": prev}
        row["hash"] = event_hash(prev, row, KEY)
        prev = row["hash"]
        rows.append(row)
    return rows


def test_intact_chain_has_no_break() -> None:
    assert find_first_break(_chain(5), KEY) is None


def test_edited_row_is_named() -> None:
    rows = _chain(5)
    rows[2]["action"] = "case.delete"
    broken = find_first_break(rows, KEY)
    assert broken is not None and broken.seq == 3 and "hash" in broken.reason


def test_deleted_row_is_named() -> None:
    rows = _chain(5)
    del rows[1]
    broken = find_first_break(rows, KEY)
    assert broken is not None and broken.seq == 2 and "missing" in broken.reason


def test_rehashed_edit_breaks_the_next_link() -> None:
    rows = _chain(4)
    rows[1]["action"] = "forged"
    rows[1]["hash"] = event_hash(rows[1]["prev_hash"], rows[1], KEY)
    broken = find_first_break(rows, KEY)
    assert broken is not None and broken.seq == 3
