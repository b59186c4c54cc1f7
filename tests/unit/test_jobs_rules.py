"""The pure rules of background jobs: back-off, giving up, periodic slots, keys."""

from datetime import UTC, datetime, timedelta

import pytest

from casetracker.jobs import rules


def test_backoff_doubles_from_ten_seconds_and_stops_at_an_hour() -> None:
    assert [rules.backoff(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 80, 160]
    assert rules.backoff(30) == timedelta(hours=1)
    assert rules.backoff(0) == timedelta(0)


def test_a_failure_is_retried_until_the_last_allowed_try() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    again = rules.after_failure(3, 8, now)
    assert again.status == "pending" and again.run_after == now + timedelta(seconds=40)
    last = rules.after_failure(8, 8, now)
    assert last.status == "failed"


def test_lease_expiry() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert rules.lease_expired(now - timedelta(seconds=1), now)
    assert not rules.lease_expired(now + timedelta(seconds=1), now)
    assert not rules.lease_expired(None, now)


def test_periodic_slots_are_the_same_in_every_process() -> None:
    every = timedelta(hours=6)
    a = datetime(2026, 12, 3, 7, 59, tzinfo=UTC)
    b = datetime(2026, 12, 3, 11, 0, 30, tzinfo=UTC)
    assert rules.periodic_slot(every, a) == datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    assert rules.periodic_key("x", every, a) == rules.periodic_key("x", every, b)
    assert rules.periodic_key("x", every, a) != rules.periodic_key(
        "x", every, datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="positive"):
        rules.periodic_slot(timedelta(0), a)


def test_long_keys_are_hashed_to_fit_and_stay_distinct() -> None:
    short = "receipt:12"
    assert rules.normalise_key(short) == short
    long_a, long_b = "k" * 300 + "a", "k" * 300 + "b"
    assert len(rules.normalise_key(long_a)) <= rules.MAX_KEY_LENGTH
    assert rules.normalise_key(long_a) != rules.normalise_key(long_b)


def test_errors_are_described_by_type_and_message_only() -> None:
    assert rules.describe_error(ConnectionRefusedError("mail server down")) == (
        "ConnectionRefusedError: mail server down")
    assert len(rules.describe_error(ValueError("x" * 10_000))) == 4000
