"""A calendar's days as the person setting up a city checks them: holidays by name in the
interface language, make-up working days (调休), library holidays the city works, the
working days of a year; the working-hours and date lines of the City setup dialog; and
``citydesk city calendar`` printing the same."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from citydesk.incidents.calendar import WorkingCalendar, calendar_from_profile
from citydesk.incidents.calendar_days import (
    calendar_days,
    day_kind,
    holiday_name,
    notable_days,
    weekday_names,
    working_time,
)
from citydesk.layers import i18n
from citydesk.layers.city_profile import (
    CalendarSpec,
    ProfileError,
    check_calendar,
    dates_from_text,
    periods_from_text,
    periods_text,
    read_profile,
)
from citydesk.workbench.cli.main import main

D = dt.date


def test_holidays_are_named_in_the_interface_language():
    us = WorkingCalendar(holiday_country=("US", "MA"))
    assert holiday_name(us, D(2026, 12, 25), "en") == "Christmas Day"
    assert holiday_name(us, D(2026, 4, 20), "en") == "Patriots' Day"  # the subdivision's
    assert holiday_name(us, D(2026, 12, 24), "en") == ""
    cn = WorkingCalendar(holiday_country=("CN", None))
    assert holiday_name(cn, D(2026, 10, 1), "zh_CN") == "国庆节"
    assert holiday_name(cn, D(2026, 10, 1), "en") == "National Day"
    # a country the library does not name in Chinese: English, not its own language
    fi = WorkingCalendar(holiday_country=("FI", None))
    assert holiday_name(fi, D(2026, 12, 6), "zh_CN") == "Independence Day"
    assert holiday_name(fi, D(2026, 12, 6), "fi_FI") == "Itsenäisyyspäivä"


def test_a_chinese_year_lists_its_holidays_and_every_make_up_day():
    cal = WorkingCalendar(holiday_country=("CN", None))
    days = notable_days(cal, 2026, "en")
    make_up = {d.day for d in days if d.kind == "make_up"}
    library = holidays.country_holidays("CN", years=2026)
    assert make_up == {d for d in library.weekend_workdays if d.year == 2026}
    assert make_up and all(d.weekday() >= 5 for d in make_up)  # rest days, worked
    named = {d.day: d.name for d in days if d.kind == "holiday"}
    assert named[D(2026, 10, 1)] == "National Day"
    assert set(named) == {d for d in library if d.year == 2026}
    assert next(d for d in days if d.day == D(2026, 10, 1)).label() == "holiday: National Day"
    assert next(d for d in days if d.kind == "make_up").label() == "make-up working day"


def test_the_citys_own_days_and_the_holidays_it_works():
    cal = WorkingCalendar(
        holiday_country=("US", "MA"),
        holidays=frozenset({D(2026, 6, 30)}),
        not_holidays=frozenset({D(2026, 4, 20)}),
        extra_workdays=frozenset({D(2026, 6, 27)}),
    )
    by_day = {d.day: d for d in notable_days(cal, 2026, "en")}
    assert by_day[D(2026, 6, 30)].label() == "holiday: the city's own holiday"
    worked = by_day[D(2026, 4, 20)]
    assert worked.kind == "working" and worked.worked_holiday
    assert worked.label() == "working day (Patriots' Day, worked by the city)"
    assert by_day[D(2026, 6, 27)].kind == "make_up"  # a Saturday worked
    assert day_kind(cal, D(2026, 6, 28)) == "rest"


def test_working_time_of_a_year():
    plain = WorkingCalendar()  # 09:00-18:00, Monday to Friday, no holidays
    assert working_time(plain, 2026) == (261, 261 * 9.0)
    us = WorkingCalendar(holiday_country=("US", None))
    weekday_holidays = sum(
        1 for d in holidays.country_holidays("US", years=2026) if d.weekday() < 5
    )
    assert working_time(us, 2026)[0] == 261 - weekday_holidays
    assert len(calendar_days(plain, D(2026, 1, 1), D(2026, 12, 31))) == 365


def test_weekday_names_follow_the_language():
    assert weekday_names("en")[0] == "Monday"
    assert weekday_names("zh_CN", "abbreviated")[4] == "周五"
    assert weekday_names("xx_nowhere")[6] == "Sunday"


@pytest.mark.parametrize(
    "text, periods",
    [
        ("09:00-18:00", [["09:00", "18:00"]]),
        ("9:00-12:00, 13:30-17:30", [["09:00", "12:00"], ["13:30", "17:30"]]),
        ("9：00至12：00；13:30 - 17:30", [["09:00", "12:00"], ["13:30", "17:30"]]),
        ("8-16", [["08:00", "16:00"]]),
    ],
)
def test_working_hours_typed_as_a_line(text, periods):
    assert periods_from_text(text) == periods
    spec = CalendarSpec(periods=periods)
    check_calendar(spec)
    assert periods_from_text(periods_text(periods)) == periods


@pytest.mark.parametrize(
    "spec, where",
    [
        (CalendarSpec(periods=periods_from_text("08:00-")), "calendar.periods[0]"),
        (CalendarSpec(periods=periods_from_text("17:00-09:00")), "calendar.periods[0]"),
        (CalendarSpec(periods=periods_from_text("")), "calendar.periods"),
        (CalendarSpec(extra_holidays=dates_from_text("2026-06-30 30.6.2026")), "[1]"),
        (
            CalendarSpec(
                rest_days=[
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                ]
            ),
            "calendar.rest_days",
        ),
    ],
)
def test_a_calendar_typed_wrong_is_named(spec, where):
    with pytest.raises(ProfileError) as err:
        check_calendar(spec)
    assert where in err.value.message


def test_city_calendar_prints_each_days_name(capsys):
    assert (
        main(["city", "calendar", "cambridge", "--from", "2026-12-24", "--to", "2026-12-27"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "2026-12-24 Thu  working day",
        "2026-12-25 Fri  holiday: Christmas Day",
        "2026-12-26 Sat  rest day",
        "2026-12-27 Sun  rest day",
    ]
    helsinki = calendar_from_profile(read_profile("helsinki"))
    assert holiday_name(helsinki, D(2026, 12, 6), "en") == "Independence Day"


def test_city_calendar_in_chinese(capsys):
    try:
        assert (
            main(
                [
                    "--lang",
                    "zh_CN",
                    "city",
                    "calendar",
                    "cambridge",
                    "--from",
                    "2026-12-25",
                    "--to",
                    "2026-12-25",
                ]
            )
            == 0
        )
    finally:
        i18n.set_language("en")
    out = capsys.readouterr().out.strip()
    assert out.startswith("2026-12-25 周五") and "Christmas Day" in out
    assert "holiday" not in out  # the kind is translated
