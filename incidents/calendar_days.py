"""The days of a working calendar as the person who sets it up checks them.

A city administrator who types a country's holidays, its rest days and its make-up working
days (China's 调休) into the profile needs to see what they amount to before due times run on
them: which days are worked, which are holidays and by what name, which rest days are worked
instead, which library holidays the city works anyway. ``citydesk city calendar`` prints it
and the City setup dialog's calendar tab lists a year of it; both come from here, so they
cannot disagree with each other or with the due-time arithmetic (the same
:class:`~citydesk.incidents.calendar.WorkingCalendar` answers ``is_holiday`` and
``is_workday`` for both).

Holiday names come from the ``holidays`` library in the interface language where it has
that language for the country (China's in Chinese or English, Finland's in Finnish, Swedish
or English), else in English, else in the country's own.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from citydesk.layers.i18n import N_, _, current_language

from .calendar import WorkingCalendar

DayKind = Literal["working", "make_up", "rest", "holiday"]

#: what each kind of day is called (translated when shown)
KIND_LABELS: dict[str, str] = {
    "working": N_("working day"),
    "make_up": N_("make-up working day"),
    "rest": N_("rest day"),
    "holiday": N_("holiday"),
}


@dataclass(frozen=True)
class CalendarDay:
    """One day: its kind and, for a holiday (or a library holiday the city works), the name."""

    day: dt.date
    kind: DayKind
    name: str = ""
    #: a library holiday the profile's ``not_holidays`` says the city works
    worked_holiday: bool = False

    def label(self) -> str:
        """The kind as shown, with the holiday's name: "holiday: Christmas Day"."""
        kind = _(KIND_LABELS[self.kind])
        if self.worked_holiday:
            return _("{kind} ({name}, worked by the city)").format(kind=kind, name=self.name)
        return _("{kind}: {name}").format(kind=kind, name=self.name) if self.name else kind


def _library_language(country: str, subdivision: str | None, language: str) -> str | None:
    """The language the holidays library names a country's holidays in for ``language``
    (``zh_CN`` -> ``zh_CN``, ``en`` -> ``en_US``, ``fi_FI`` -> ``fi``); None: its default."""
    supported = _library(country, subdivision, None).supported_languages
    base = language.split("_")[0]
    for candidate in (language, base, *(s for s in supported if s.split("_")[0] == base)):
        if candidate in supported:
            return candidate
    return "en_US" if "en_US" in supported else None


@functools.lru_cache(maxsize=32)
def _library(country: str, subdivision: str | None, language: str | None):
    import holidays

    return holidays.country_holidays(country, subdiv=subdivision, language=language)


def holiday_name(cal: WorkingCalendar, day: dt.date, language: str | None = None) -> str:
    """The name of the holiday on ``day`` ("" when there is none): the city's own days off
    are "the city's own holiday", a library holiday goes by the library's name."""
    if day in cal.holidays:
        return _("the city's own holiday")
    if cal.holiday_country is None:
        return ""
    country, subdivision = cal.holiday_country
    lang = _library_language(country, subdivision, language or current_language())
    return str(_library(country, subdivision, lang).get(day) or "")


def day_kind(cal: WorkingCalendar, day: dt.date) -> DayKind:
    """Holiday, working day, make-up working day (a rest day worked) or rest day."""
    if cal.is_holiday(day):
        return "holiday"
    if cal.is_workday(day):
        return "working" if day.weekday() in cal.workdays else "make_up"
    return "rest"


def calendar_days(
    cal: WorkingCalendar, first: dt.date, last: dt.date, language: str | None = None
) -> list[CalendarDay]:
    """Every day from ``first`` to ``last`` inclusive."""
    days = []
    day = first
    while day <= last:
        days.append(_describe(cal, day, language))
        day += dt.timedelta(days=1)
    return days


def notable_days(cal: WorkingCalendar, year: int, language: str | None = None) -> list[CalendarDay]:
    """A year's days that are not plain working or rest days: the holidays (with their
    names, also those on a rest day), the make-up working days, and the library holidays the
    city works anyway. What someone checks the profile's calendar against."""
    return [
        d
        for d in calendar_days(cal, dt.date(year, 1, 1), dt.date(year, 12, 31), language)
        if d.kind in ("holiday", "make_up") or d.worked_holiday
    ]


def working_time(cal: WorkingCalendar, year: int) -> tuple[int, float]:
    """The number of working days in ``year`` and the working hours they hold."""
    first = dt.date(year, 1, 1)
    days = sum(
        day_kind(cal, first + dt.timedelta(days=k)) in ("working", "make_up")
        for k in range((dt.date(year, 12, 31) - first).days + 1)
    )
    return days, days * cal.hours_per_day


def weekday_names(
    language: str | None = None, width: Literal["wide", "abbreviated"] = "wide"
) -> list[str]:
    """Monday to Sunday in the interface language (CLDR's names, through Babel); ``width``
    "abbreviated" for Mon / 周一."""
    from babel import Locale, UnknownLocaleError
    from babel.dates import get_day_names

    try:
        locale = Locale.parse(language or current_language() or "en")
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    names = get_day_names(width, locale=locale)
    return [str(names[i]) for i in range(7)]


def _describe(cal: WorkingCalendar, day: dt.date, language: str | None) -> CalendarDay:
    kind = day_kind(cal, day)
    worked = day in cal.not_holidays and cal.holiday_country is not None
    name = holiday_name(cal, day, language) if kind == "holiday" or worked else ""
    return CalendarDay(day, kind, name, worked_holiday=worked and bool(name))
