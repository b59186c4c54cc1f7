from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from casetracker.cases.clocks import (
    BusinessCalendar,
    ClockRules,
    clock_state,
    intake_deadlines,
    is_late_filing,
    us_federal_holidays,
)

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar(zone="America/New_York")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_friday_afternoon_notice_is_due_tuesday_afternoon() -> None:
    # Friday 2026-03-06 16:00 -> Tuesday 2026-03-10 16:00 (48 weekday hours)
    due = CAL.add_business_hours(local(2026, 3, 6, 16, 0), 48)
    assert due.astimezone(NY) == local(2026, 3, 10, 16, 0)


def test_weekend_receipt_starts_counting_on_monday() -> None:
    due = CAL.add_business_hours(local(2026, 3, 7, 10, 0), 48)  # Saturday
    assert due.astimezone(NY) == local(2026, 3, 11, 0, 0)


def test_federal_holiday_is_skipped() -> None:
    # Thursday before Memorial Day 2026 (Mon May 25) -> skips Sat, Sun and Monday
    due = CAL.add_business_hours(local(2026, 5, 21, 9, 0), 48)
    assert due.astimezone(NY) == local(2026, 5, 26, 9, 0)


def test_holidays_can_be_turned_off_and_added() -> None:
    no_federal = BusinessCalendar(federal_holidays=False)
    assert no_federal.add_business_hours(local(2026, 5, 21, 9, 0), 48).astimezone(NY) == \
        local(2026, 5, 25, 9, 0)
    extra = BusinessCalendar(extra_holidays=frozenset({date(2026, 3, 9)}))
    assert extra.add_business_hours(local(2026, 3, 6, 16, 0), 48).astimezone(NY) == \
        local(2026, 3, 11, 16, 0)


def test_federal_holidays_2026_observed() -> None:
    days = us_federal_holidays(2026)
    assert date(2026, 7, 3) in days  # July 4 is a Saturday: observed Friday
    assert date(2026, 11, 26) in days  # Thanksgiving
    assert len(days) == 11


def test_intake_deadlines() -> None:
    received = local(2026, 3, 6, 16, 0).astimezone(UTC)
    deadlines = intake_deadlines(received, ice_notice_required=True, calendar=CAL,
                                 rules=ClockRules())
    assert deadlines["ice_notification_due_at"].astimezone(NY) == local(2026, 3, 10, 16, 0)
    assert deadlines["triage_due_at"].astimezone(NY) == local(2026, 3, 13, 16, 0)
    assert (deadlines["resolution_due_at"] - received).days == 90
    assert intake_deadlines(received, ice_notice_required=False, calendar=CAL,
                            rules=ClockRules())["ice_notification_due_at"] is None


def test_clock_states() -> None:
    due = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)
    assert clock_state(due, datetime(2026, 3, 10, 20, 0, tzinfo=UTC), due).label == "met"
    assert clock_state(due, None, datetime(2026, 3, 5, 21, 0, tzinfo=UTC)).label == "due in 5 days"
    assert clock_state(due, None, datetime(2026, 3, 13, 21, 0, tzinfo=UTC)).label == \
        "overdue by 3 days"
    assert clock_state(due, None, datetime(2026, 3, 10, 18, 0, tzinfo=UTC)).label == \
        "due in 3 hours"
    assert clock_state(None, None, due).state == "none"


def test_late_filing_flag() -> None:
    received = datetime(2026, 9, 1, tzinfo=UTC)
    assert is_late_filing(date(2026, 2, 1), received)
    assert not is_late_filing(date(2026, 6, 1), received)
    assert not is_late_filing(None, received)
