"""More of the 287(g) clocks: states and labels, triage and results deadlines, daylight-saving
changes, holidays around the ICE notice, and the clocks a case page shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from casetracker.cases.case_page import case_clocks
from casetracker.cases.clocks import (
    BusinessCalendar,
    ClockRules,
    clock_state,
    intake_deadlines,
    is_late_filing,
    results_due,
)

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar(zone="America/New_York")
RULES = ClockRules()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_friday_16h_complaint_notice_due_tuesday_16h_through_intake_deadlines() -> None:
    deadlines = intake_deadlines(local(2026, 3, 6, 16, 0), ice_notice_required=True,
                                 calendar=CAL, rules=RULES)
    assert deadlines["ice_notification_due_at"].astimezone(NY) == local(2026, 3, 10, 16, 0)
    # triage: 5 business days, same local time (Friday -> next Friday)
    assert deadlines["triage_due_at"].astimezone(NY) == local(2026, 3, 13, 16, 0)
    assert deadlines["resolution_due_at"] - local(2026, 3, 6, 16, 0) == timedelta(days=90)


def test_no_ice_deadline_when_no_designated_officer() -> None:
    deadlines = intake_deadlines(local(2026, 3, 6, 16, 0), ice_notice_required=False,
                                 calendar=CAL, rules=RULES)
    assert deadlines["ice_notification_due_at"] is None


def test_notice_across_the_spring_daylight_saving_change() -> None:
    # Friday 2026-03-06 is before DST starts (Sunday 2026-03-08): wall-clock time is kept.
    due = CAL.add_business_hours(local(2026, 3, 6, 9, 0), 48)
    assert due.astimezone(NY) == local(2026, 3, 10, 9, 0)


def test_notice_over_thanksgiving_and_the_weekend() -> None:
    # Wednesday before Thanksgiving 2026 (Thu 26 Nov): Thursday, Sat and Sun do not count.
    due = CAL.add_business_hours(local(2026, 11, 25, 12, 0), 48)
    assert due.astimezone(NY) == local(2026, 11, 30, 12, 0)


def test_triage_skips_holidays_and_configurable_figures() -> None:
    rules = ClockRules(ice_notice_business_hours=24, triage_due_business_days=2,
                       resolution_due_days=60, results_due_days=15)
    deadlines = intake_deadlines(local(2026, 12, 24, 10, 0), ice_notice_required=True,
                                 calendar=CAL, rules=rules)
    # Christmas Friday, then the weekend: Mon 28 and Tue 29 are the two business days
    assert deadlines["triage_due_at"].astimezone(NY) == local(2026, 12, 29, 10, 0)
    assert deadlines["ice_notification_due_at"].astimezone(NY) == local(2026, 12, 28, 10, 0)
    assert results_due(local(2026, 1, 1), rules) == local(2026, 1, 16)


def test_business_hours_between_counts_only_business_days() -> None:
    assert CAL.business_hours_between(local(2026, 3, 6, 16, 0), local(2026, 3, 10, 16, 0)) == 48
    assert CAL.business_hours_between(local(2026, 3, 10, 16, 0), local(2026, 3, 6, 16, 0)) == -48


def test_from_settings_reads_the_configured_days() -> None:
    class S:
        timezone = "America/Chicago"
        holidays = ("2026-03-09",)
        ice_notice_business_hours = 48
        triage_due_business_days = 5
        resolution_due_days = 90
        results_due_days = 30

    calendar = BusinessCalendar.from_settings(S())
    assert calendar.zone == "America/Chicago"
    assert not calendar.is_business_day(date(2026, 3, 9))
    assert ClockRules.from_settings(S()) == ClockRules()


NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("due", "done", "state", "label"), [
    (None, None, "none", "not applicable"),
    (NOW + timedelta(days=3, hours=1), None, "due", "due in 3 days"),
    (NOW + timedelta(hours=30), None, "due", "due in 30 hours"),
    (NOW + timedelta(minutes=90), None, "due", "due in 1 hour"),
    (NOW - timedelta(days=5), None, "overdue", "overdue by 5 days"),
    (NOW - timedelta(hours=3), None, "overdue", "overdue by 3 hours"),
    (NOW, NOW - timedelta(hours=1), "met", "met"),
    (NOW, NOW, "met", "met"),
    (NOW, NOW + timedelta(days=2, hours=2), "missed", "met late by 2 days"),
])
def test_clock_states_and_labels(due: datetime | None, done: datetime | None, state: str,
                                 label: str) -> None:
    result = clock_state(due, done, NOW)
    assert result.state == state
    assert result.label == label


def test_a_recorded_notice_stops_the_clock_whatever_the_time_now() -> None:
    due, done = local(2026, 3, 10, 16, 0), local(2026, 3, 9, 10, 0)
    for now in (local(2026, 3, 9, 11), local(2026, 3, 20), local(2027, 1, 1)):
        assert clock_state(due, done, now).state == "met"


def _case(**values: object) -> dict[str, object]:
    base = {"triage_due_at": NOW + timedelta(days=2), "triaged_at": None,
            "ice_notification_required": False, "ice_notification_due_at": None,
            "ice_notified_at": None, "resolution_due_at": NOW + timedelta(days=80),
            "resolved_at": None, "results_due_at": None, "results_reported_at": None}
    return {**base, **values}


def test_case_page_shows_the_ice_clock_only_when_required() -> None:
    keys = [c.key for c in case_clocks(_case(), NOW)]
    assert keys == ["triage", "resolution"]
    required = _case(ice_notification_required=True,
                     ice_notification_due_at=NOW - timedelta(hours=5))
    clocks = {c.key: c.state for c in case_clocks(required, NOW)}
    assert clocks["ice_notification"].state == "overdue"
    closed = _case(resolved_at=NOW, results_due_at=NOW + timedelta(days=30),
                   triaged_at=NOW - timedelta(days=60))
    clocks = {c.key: c.state for c in case_clocks(closed, NOW)}
    assert clocks["results"].state == "due"
    assert clocks["resolution"].state == "met" and clocks["triage"].state == "met"


def test_late_filing_is_flagged_after_the_limit() -> None:
    assert is_late_filing(date(2025, 9, 1), local(2026, 3, 6), 180)
    assert not is_late_filing(date(2025, 9, 20), local(2026, 3, 6), 180)
    assert not is_late_filing(None, local(2026, 3, 6), 180)
