"""Working calendars: time limits are counted in working hours or days, not wall-clock time.

A case reported on Friday at 17:00 with a 4-working-hour limit on a 9:00-18:00 calendar is due
on Monday at 12:00: one hour on Friday, three on Monday. Holidays are skipped like weekends.
Everything is timezone-aware: naive datetimes are read in the calendar's timezone.

Nothing here is any city's: the time zone, the working periods of a day (one, or a morning and
an afternoon), the rest days, the public holidays (the ``holidays`` library for a country and
subdivision, plus explicit dates) and the make-up working days (China's 调休: the library's
``weekend_workdays``, plus explicit dates) come from the city profile
(:func:`calendar_from_profile`).

The arithmetic runs on a *working-time axis*: the calendar's working periods between two
dates, as UTC nanoseconds, with the working time accumulated before each one. The working
time at a moment is a binary search on that axis, and a due time is the inverse, so a million
due times are a few array operations instead of a million day-by-day walks (the import of a
city's history is dominated by this otherwise). One implementation serves a single case and
a million, so they can never disagree.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .timestamps import utc_ns

_NS_PER_HOUR = 3_600_000_000_000
#: the longest time limit a calendar counts, in years of working time: a longer one is a
#: typing slip (1e7 hours) or work to suspend (挂账) until it can start, and the axis for it
#: would run past the years a timestamp holds (an "internal error" before)
MAX_LIMIT_YEARS = 5


if TYPE_CHECKING:
    from citydesk.layers.city_profile import CityProfile

log = logging.getLogger(__name__)


class CalendarError(CityDeskError):
    """A working calendar that cannot give due times (no working time at all, a bad unit)."""


@dataclass(frozen=True)
class WorkingTimeAxis:
    """Working periods ``[starts[i], ends[i])`` (UTC ns) and the working ns before each."""

    starts: np.ndarray
    ends: np.ndarray
    before: np.ndarray

    @property
    def total(self) -> int:
        return int(self.before[-1] + self.ends[-1] - self.starts[-1]) if len(self.starts) else 0

    def position(self, t: np.ndarray) -> np.ndarray:
        """Working ns from the axis start to each moment ``t`` (UTC ns)."""
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = i >= 0
        j = np.clip(i, 0, None)
        length = self.ends[j] - self.starts[j]
        return np.where(inside, self.before[j] + np.clip(t - self.starts[j], 0, length), 0)

    def moment(self, w: np.ndarray) -> np.ndarray:
        """The first moment at which ``w`` working ns have passed (inverse of ``position``)."""
        j = np.searchsorted(self.before + (self.ends - self.starts), w, side="left")
        j = np.clip(j, 0, len(self.starts) - 1)
        return self.starts[j] + (w - self.before[j])

    def next_start(self, t: np.ndarray) -> np.ndarray:
        """``t`` if it is inside a working period, else the start of the next one."""
        i = np.searchsorted(self.ends, t, side="right")
        i = np.clip(i, 0, len(self.starts) - 1)
        return np.maximum(t, self.starts[i])


@dataclass(frozen=True)
class WorkingCalendar:
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    tz: str = "UTC"
    #: several working periods a day (a morning and an afternoon); empty: start to end
    periods: tuple[tuple[dt.time, dt.time], ...] = ()
    #: rest days that are working days (make-up days, 调休)
    extra_workdays: frozenset[dt.date] = field(default_factory=frozenset)
    #: public holidays of a country (``holidays`` library), e.g. ("CN", None), ("US", "MA")
    holiday_country: tuple[str, str | None] | None = None
    #: library holidays the city works anyway
    not_holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def day_periods(self) -> tuple[tuple[dt.time, dt.time], ...]:
        return self.periods or ((self.start, self.end),)

    @property
    def hours_per_day(self) -> float:
        return (
            sum(
                (
                    dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)
                ).total_seconds()
                for a, b in self.day_periods
            )
            / 3600
        )

    @cached_property
    def _country(self):
        """The library's holidays, filled year by year as days are asked about."""
        if self.holiday_country is None:
            return None
        import holidays

        country, subdivision = self.holiday_country
        return holidays.country_holidays(country, subdiv=subdivision)

    def localize(self, when: dt.datetime) -> dt.datetime:
        return when.replace(tzinfo=self.zone) if when.tzinfo is None else when.astimezone(self.zone)

    def is_holiday(self, day: dt.date) -> bool:
        if day in self.holidays:
            return True
        lib = self._country
        return lib is not None and day in lib and day not in self.not_holidays

    def is_workday(self, day: dt.date) -> bool:
        if self.is_holiday(day):
            return False
        if day.weekday() in self.workdays or day in self.extra_workdays:
            return True
        lib = self._country
        return lib is not None and day in lib.weekend_workdays  # 调休: a rest day worked

    # --- the axis ------------------------------------------------------------------------
    def axis(self, first: dt.date, last: dt.date) -> WorkingTimeAxis:
        """Working periods of the days ``first`` to ``last`` inclusive. Built in local time,
        so a day across a daylight-saving change still has its 9 working hours."""
        days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
        days = [d for d in days if self.is_workday(d)]
        if not days:
            raise CalendarError(
                _("the working calendar has no working day from {first} to {last}").format(
                    first=first, last=last
                ),
                _("Check the calendar's rest days and holidays in the city profile."),
            )
        ns = lambda d, t: pd.Timestamp(dt.datetime.combine(d, t, tzinfo=self.zone)).value  # noqa: E731
        periods = self.day_periods
        starts = np.array([ns(d, a) for d in days for a, _b in periods], dtype=np.int64)
        ends = np.array([ns(d, b) for d in days for _a, b in periods], dtype=np.int64)
        before = np.concatenate([[0], np.cumsum(ends - starts)[:-1]]).astype(np.int64)
        return WorkingTimeAxis(starts, ends, before)

    def _axis_for(self, t: np.ndarray, hours: float) -> WorkingTimeAxis:
        """An axis from the day before the earliest moment to far enough after the latest
        for ``hours`` of working time, widened until it is (long holidays need more)."""
        first = pd.Timestamp(int(t.min()), tz=self.zone).date() - dt.timedelta(days=1)
        last = pd.Timestamp(int(t.max()), tz=self.zone).date()
        span = int(hours / max(self.hours_per_day, 1e-9) * 7 / max(len(self.workdays), 1)) + 14
        for _attempt in range(12):
            axis = self.axis(first, last + dt.timedelta(days=span))
            latest = axis.position(np.array([int(t.max())]))[0]
            if axis.total - latest >= hours * _NS_PER_HOUR:
                return axis
            span *= 2
        raise CalendarError(
            _("the working calendar has no working time in the years after that moment"),
            _("Check the calendar's rest days and holidays in the city profile."),
        )

    # --- many at once ----------------------------------------------------------------------
    def due_many(self, reported: pd.Series | np.ndarray, hours: np.ndarray | float) -> np.ndarray:
        """Due times (UTC ns) ``hours`` working hours after each report time (UTC ns or
        tz-aware datetimes)."""
        t = utc_ns(reported)
        hours = np.broadcast_to(np.asarray(hours, dtype=float), t.shape)
        if len(t) == 0:
            return t
        longest = float(hours.max())
        self._check_limit(longest)
        axis = self._axis_for(t, longest)
        # whole microseconds, the resolution of a Python datetime
        limit = np.round(hours * 3.6e9).astype(np.int64) * 1000
        due = axis.moment(axis.position(t) + limit)
        return np.where(limit == 0, axis.next_start(t), due)

    def _check_limit(self, hours: float) -> None:
        """Refuse a limit that is not a number or longer than :data:`MAX_LIMIT_YEARS`."""
        year = self.hours_per_day * len(self.workdays) * 52
        if np.isfinite(hours) and (year <= 0 or hours <= year * MAX_LIMIT_YEARS):
            return  # (a calendar without working time says so when its axis is built)
        raise CalendarError(
            _(
                "a time limit of {hours:g} working hours is more than {years} years of the "
                "city's working time"
            ).format(hours=hours, years=MAX_LIMIT_YEARS),
            _(
                "Give a shorter limit; work that must wait longer is suspended (挂账) and "
                "resumed when it can start."
            ),
        )

    def working_hours_many(self, a, b) -> np.ndarray:
        """Working hours from each ``a`` to each ``b`` (UTC ns; negative when ``b`` is
        earlier): the time left on many cases at once."""
        a, b = utc_ns(a), utc_ns(b)
        if len(a) == 0:
            return np.zeros(0)
        both = np.concatenate([a, b])
        axis = self._axis_for(np.array([both.min(), both.max()]), 0)
        return (axis.position(b) - axis.position(a)) / _NS_PER_HOUR

    def limit_hours(self, limit: float, unit: str) -> float:
        """A category's time limit in working hours (a working day is one day's hours)."""
        if unit == "working_hours":
            return float(limit)
        if unit == "working_days":
            return float(limit) * self.hours_per_day
        raise CalendarError(
            _("unknown time-limit unit '{unit}'").format(unit=unit),
            _("Use working_hours or working_days."),
        )

    # --- one at a time (same arithmetic) ---------------------------------------------------
    def _one(self, ns: int) -> dt.datetime:
        return pd.Timestamp(int(ns), tz="UTC").to_pydatetime().astimezone(self.zone)

    def add_working_hours(self, when: dt.datetime, hours: float) -> dt.datetime:
        """The moment ``hours`` of working time after ``when``."""
        return self._one(self.due_many([self.localize(when)], hours)[0])

    def add_working_days(self, when: dt.datetime, days: float) -> dt.datetime:
        """Working days are counted as days' worth of working hours (1 day = 9 h here)."""
        return self.add_working_hours(when, self.limit_hours(days, "working_days"))

    def due(self, when: dt.datetime, limit: float, unit: str) -> dt.datetime:
        return self.add_working_hours(when, self.limit_hours(limit, unit))

    def next_working_moment(self, when: dt.datetime) -> dt.datetime:
        """``when`` if it is inside working time, else the start of the next working period."""
        return self.add_working_hours(when, 0)

    def working_hours_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working hours from ``a`` to ``b`` (negative when ``b`` is earlier)."""
        t = utc_ns([self.localize(a), self.localize(b)])
        return float(self.working_hours_many(t[:1], t[1:])[0])


def calendar_from_profile(profile: CityProfile) -> WorkingCalendar:
    """The working calendar a city profile describes (see :mod:`citydesk.layers.city_profile`)."""
    from citydesk.layers.city_profile import WEEKDAYS

    spec = profile.calendar
    periods = tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in spec.periods)
    rest = {WEEKDAYS.index(d) for d in spec.rest_days}
    source = spec.holidays
    return WorkingCalendar(
        start=periods[0][0],
        end=periods[-1][1],
        workdays=frozenset(set(range(7)) - rest),
        holidays=frozenset(dt.date.fromisoformat(d) for d in spec.extra_holidays),
        tz=profile.timezone,
        periods=periods,
        extra_workdays=frozenset(dt.date.fromisoformat(d) for d in spec.make_up_workdays),
        holiday_country=(source.country, source.subdivision) if source else None,
        not_holidays=frozenset(dt.date.fromisoformat(d) for d in spec.not_holidays),
    )


def file_calendar(path: str | Path) -> WorkingCalendar:
    """The calendar for a case store in a GeoPackage: the project's profile when the file is a
    CityDesk project that has one, else the default (a store-only file, a backup)."""
    from citydesk.layers.city_profile import project_profile

    path = Path(path)
    try:
        profile = project_profile(path) if path.exists() else None
    except CityDeskError:
        profile = None  # not a project: a store of its own
    return calendar_from_profile(profile) if profile is not None else WorkingCalendar()


_READ: Any = object()  # "read the project's profile"


def project_calendar(project: str | Path, profile: Any = _READ) -> WorkingCalendar:
    """The working calendar of a project's city profile; a project without a profile gets
    office hours 9-18, Monday to Friday, in UTC, and a warning that says how to set one.
    ``profile``: the project's, when the caller has read it already (None: it has none)."""
    from citydesk.layers.city_profile import project_profile

    if profile is _READ:
        profile = project_profile(project)
    if profile is None:
        if str(project) not in _WARNED:  # once per project and process, not per store opened
            _WARNED.add(str(project))
            log.warning(
                "%s has no city profile: due times use 09:00-18:00 UTC, Monday to Friday, no "
                "holidays. Set one with: citydesk city set %s PROFILE.toml",
                project,
                project,
            )
        return WorkingCalendar()
    return calendar_from_profile(profile)


_WARNED: set[str] = set()
