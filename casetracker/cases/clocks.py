"""The 287(g) clocks: a business-day calendar and the deadlines it gives. Pure; no I/O.

- ICE notification: 48 weekday hours after receipt when a designated officer is involved
  (MOA Appendix B: "within 48 hours, excluding weekends"); federal holidays are skipped too.
- Triage: 5 business days after receipt.
- Resolution: 90 calendar days after receipt.
- Results to ICE: 30 calendar days after resolution.
Every figure is configurable through settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@cache
def us_federal_holidays(year: int) -> frozenset[date]:
    """The eleven U.S. federal holidays (5 U.S.C. 6103) as observed that year."""
    mon, thu = 0, 3
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11),
             date(year, 12, 25)]
    floating = [
        _nth_weekday(year, 1, mon, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, mon, 3),  # Washington's Birthday
        _last_weekday(year, 5, mon),  # Memorial Day
        _nth_weekday(year, 9, mon, 1),  # Labor Day
        _nth_weekday(year, 10, mon, 2),  # Columbus Day
        _nth_weekday(year, 11, thu, 4),  # Thanksgiving Day
    ]
    days = {_observed(d) for d in fixed} | set(floating)
    # New Year's Day of the next year can be observed on Dec 31 of this one.
    if _observed(date(year + 1, 1, 1)).year == year:
        days.add(_observed(date(year + 1, 1, 1)))
    return frozenset(days)


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekdays that are not holidays. ``extra_holidays`` adds local days off;
    ``federal_holidays=False`` counts federal holidays as business days."""

    zone: str = "America/New_York"
    extra_holidays: frozenset[date] = frozenset()
    federal_holidays: bool = True

    @classmethod
    def from_settings(cls, settings: object) -> BusinessCalendar:
        extra = frozenset(date.fromisoformat(d) for d in getattr(settings, "holidays", ()))
        return cls(zone=getattr(settings, "timezone", "America/New_York"), extra_holidays=extra)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.extra_holidays:
            return False
        return not (self.federal_holidays and day in us_federal_holidays(day.year))

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """Count ``hours`` of clock time that falls on business days (local time)."""
        local = start.astimezone(self.tz)
        remaining = timedelta(hours=hours)
        cursor = local.replace(tzinfo=None)
        while True:
            day_end = datetime.combine(cursor.date() + timedelta(days=1), time())
            if self.is_business_day(cursor.date()):
                available = day_end - cursor
                if remaining <= available:
                    result = cursor + remaining
                    return result.replace(tzinfo=self.tz).astimezone(UTC)
                remaining -= available
            cursor = day_end

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The same local time ``days`` business days later."""
        local = start.astimezone(self.tz)
        current = local.date()
        counted = 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_business_day(current):
                counted += 1
        result = datetime.combine(current, local.time().replace(tzinfo=None))
        return result.replace(tzinfo=self.tz).astimezone(UTC)

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """Business-day hours from ``start`` to ``end`` (negative when end is earlier)."""
        if end < start:
            return -self.business_hours_between(end, start)
        cursor = start.astimezone(self.tz).replace(tzinfo=None)
        stop = end.astimezone(self.tz).replace(tzinfo=None)
        total = timedelta()
        while cursor < stop:
            day_end = min(datetime.combine(cursor.date() + timedelta(days=1), time()), stop)
            if self.is_business_day(cursor.date()):
                total += day_end - cursor
            cursor = day_end
        return total.total_seconds() / 3600


@dataclass(frozen=True)
class ClockRules:
    ice_notice_business_hours: int = 48
    triage_due_business_days: int = 5
    resolution_due_days: int = 90
    results_due_days: int = 30

    @classmethod
    def from_settings(cls, settings: object) -> ClockRules:
        return cls(
            ice_notice_business_hours=getattr(settings, "ice_notice_business_hours", 48),
            triage_due_business_days=getattr(settings, "triage_due_business_days", 5),
            resolution_due_days=getattr(settings, "resolution_due_days", 90),
            results_due_days=getattr(settings, "results_due_days", 30),
        )


def intake_deadlines(
    received_at: datetime,
    *,
    ice_notice_required: bool,
    calendar: BusinessCalendar,
    rules: ClockRules,
) -> dict[str, datetime | None]:
    """Deadlines fixed when a complaint is received (column names of cases.tables.Case)."""
    return {
        "triage_due_at": calendar.add_business_days(received_at, rules.triage_due_business_days),
        "ice_notification_due_at": (
            calendar.add_business_hours(received_at, rules.ice_notice_business_hours)
            if ice_notice_required else None
        ),
        "resolution_due_at": received_at + timedelta(days=rules.resolution_due_days),
    }


def results_due(resolved_at: datetime, rules: ClockRules) -> datetime:
    return resolved_at + timedelta(days=rules.results_due_days)


@dataclass(frozen=True)
class ClockState:
    """How a deadline stands: met | missed (done late) | due | overdue | none."""

    state: str
    due_at: datetime | None
    done_at: datetime | None
    days: int = 0  # whole days left (due) or late (overdue, missed)
    hours: int = 0  # the same in hours, for deadlines under two days

    @property
    def label(self) -> str:
        if self.state == "met":
            return "met"
        if self.state == "missed":
            return f"met late by {self._amount()}"
        if self.state == "due":
            return f"due in {self._amount()}"
        if self.state == "overdue":
            return f"overdue by {self._amount()}"
        return "not applicable"

    def _amount(self) -> str:
        if self.days >= 2:
            return f"{self.days} days"
        if self.hours == 1:
            return "1 hour"
        return f"{self.hours} hours"


def clock_state(due_at: datetime | None, done_at: datetime | None, now: datetime) -> ClockState:
    if due_at is None:
        return ClockState("none", None, done_at)
    if done_at is not None:
        late = done_at - due_at
        if late <= timedelta(0):
            return ClockState("met", due_at, done_at)
        return ClockState("missed", due_at, done_at, days=late.days,
                          hours=int(late.total_seconds() // 3600))
    delta = due_at - now
    if delta >= timedelta(0):
        return ClockState("due", due_at, None, days=delta.days,
                          hours=int(delta.total_seconds() // 3600))
    late = -delta
    return ClockState("overdue", due_at, None, days=late.days,
                      hours=int(late.total_seconds() // 3600))


def is_late_filing(
    incident_date: date | None, received_at: datetime, limit_days: int = 180
) -> bool:
    """Title VI complaints are usually due within 180 days: later ones are flagged, not refused."""
    if incident_date is None:
        return False
    return (received_at.date() - incident_date).days > limit_days

