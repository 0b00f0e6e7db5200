"""Working calendars: time limits are counted in working hours or days, not wall-clock time.

A case reported on Friday at 17:00 with a 4-working-hour limit on a 9:00-18:00 calendar is due
on Monday at 12:00: one hour on Friday, three on Monday. Holidays are skipped like weekends.
Everything is timezone-aware: naive datetimes are read in the calendar's timezone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class WorkingCalendar:
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    tz: str = "America/New_York"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def hours_per_day(self) -> float:
        return (
            dt.datetime.combine(dt.date.min, self.end)
            - dt.datetime.combine(dt.date.min, self.start)
        ).total_seconds() / 3600

    def localize(self, when: dt.datetime) -> dt.datetime:
        return when.replace(tzinfo=self.zone) if when.tzinfo is None else when.astimezone(self.zone)

    def is_workday(self, day: dt.date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def _day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        return (
            dt.datetime.combine(day, self.start, tzinfo=self.zone),
            dt.datetime.combine(day, self.end, tzinfo=self.zone),
        )

    def next_working_moment(self, when: dt.datetime) -> dt.datetime:
        """``when`` if it is inside working time, else the start of the next working period."""
        when = self.localize(when)
        day = when.date()
        for _ in range(3660):
            if self.is_workday(day):
                open_, close = self._day_bounds(day)
                if when < open_:
                    return open_
                if when < close:
                    return when
            day += dt.timedelta(days=1)
            when = dt.datetime.combine(day, dt.time(0, 0), tzinfo=self.zone)
        raise ValueError("the calendar has no working time in the next ten years")

    def add_working_hours(self, when: dt.datetime, hours: float) -> dt.datetime:
        """The moment ``hours`` of working time after ``when``."""
        remaining = dt.timedelta(hours=hours)
        current = self.next_working_moment(when)
        while True:
            _open, close = self._day_bounds(current.date())
            available = close - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self.next_working_moment(close + dt.timedelta(microseconds=1))

    def add_working_days(self, when: dt.datetime, days: float) -> dt.datetime:
        """Working days are counted as days' worth of working hours (1 day = 9 h here)."""
        return self.add_working_hours(when, days * self.hours_per_day)

    def due(self, when: dt.datetime, limit: float, unit: str) -> dt.datetime:
        if unit == "working_hours":
            return self.add_working_hours(when, limit)
        if unit == "working_days":
            return self.add_working_days(when, limit)
        raise ValueError(f"unknown time-limit unit {unit!r}")

    def working_hours_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working hours from ``a`` to ``b`` (negative when ``b`` is earlier)."""
        a, b = self.localize(a), self.localize(b)
        if b < a:
            return -self.working_hours_between(b, a)
        total = dt.timedelta(0)
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                open_, close = self._day_bounds(day)
                lo, hi = max(open_, a), min(close, b)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600
