"""The city profile drives the working calendar: the time zone, the working periods, the
holidays and make-up working days (调休) of the city, for due times in both case stores.

The Chinese case is the one the issue reports: a Chengdu case must never fall due at 02:00
Beijing time, and Spring Festival and its make-up Saturdays must count as they do there."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from citydesk.incidents.calendar import calendar_from_profile, project_calendar
from citydesk.layers.city_profile import (
    ProfileError,
    parse_profile,
    profile_text,
    project_profile,
    read_profile,
    shipped_profiles,
    store_profile,
)
from citydesk.workbench.cli.main import main

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_every_shipped_profile_is_valid():
    assert {"cambridge", "helsinki", "chengdu"} <= set(shipped_profiles())
    for name in shipped_profiles():
        profile = read_profile(name)
        assert profile.timezone and profile.crs and profile.credits


def test_chengdu_spring_festival_2026_and_its_make_up_saturdays():
    cal = calendar_from_profile(read_profile("chengdu"))
    assert cal.hours_per_day == 7.0  # 09:00-12:00 and 13:30-17:30
    assert cal.is_holiday(dt.date(2026, 2, 17))  # 春节
    assert cal.is_workday(dt.date(2026, 2, 14))  # Saturday, a make-up working day (调休)
    assert cal.is_workday(dt.date(2026, 2, 28))
    assert not cal.is_workday(dt.date(2026, 2, 21))  # an ordinary Saturday
    assert not cal.is_workday(dt.date(2026, 2, 23))  # Monday, a day off in lieu
    # Friday 13 Feb 16:00 + 4 working hours: 1.5 h on Friday, then Saturday's make-up day
    due = cal.due(dt.datetime(2026, 2, 13, 16, 0, tzinfo=SHANGHAI), 4, "working_hours")
    assert due == dt.datetime(2026, 2, 14, 11, 30, tzinfo=SHANGHAI)
    # reported on the Saturday before the holiday: the next working time is 24 Feb
    due = cal.due(dt.datetime(2026, 2, 14, 17, 0, tzinfo=SHANGHAI), 2, "working_hours")
    assert due == dt.datetime(2026, 2, 24, 10, 30, tzinfo=SHANGHAI)


def test_due_times_stay_in_office_hours_of_the_city():
    """Never 02:00 Beijing time: every due time falls inside a working period."""
    cal = calendar_from_profile(read_profile("chengdu"))
    start = dt.datetime(2026, 9, 25, 8, 0, tzinfo=SHANGHAI)
    for k in range(0, 24 * 14, 5):
        reported = start + dt.timedelta(hours=k)
        for hours in (0.5, 2, 7, 16):
            due = cal.due(reported, hours, "working_hours").astimezone(SHANGHAI)
            assert dt.time(9) <= due.time() <= dt.time(12) or (
                dt.time(13, 30) <= due.time() <= dt.time(17, 30)
            ), (reported, hours, due)
            assert cal.is_workday(due.date())


def test_helsinki_and_cambridge_holidays_come_from_their_countries():
    fi = calendar_from_profile(read_profile("helsinki"))
    assert fi.is_holiday(dt.date(2026, 12, 24))  # jouluaatto
    assert fi.tz == "Europe/Helsinki" and fi.hours_per_day == 8
    us = calendar_from_profile(read_profile("cambridge"))
    assert us.is_holiday(dt.date(2026, 4, 20))  # Patriots' Day, Massachusetts only
    assert not fi.is_holiday(dt.date(2026, 4, 20))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("timezone = ", "timezon = "), "did you mean 'timezone'"),
        (('"Asia/Shanghai"', '"Asia/Chengdu"'), "is not a time zone"),
        (('"EPSG:4544"', '"EPSG:3857"'), "cannot measure distances"),
        (('"EPSG:4544"', '"EPSG:4490"'), "cannot measure distances"),
        (('["13:30", "17:30"]', '["17:30", "13:30"]'), "calendar.periods[1]"),
        (('"saturday", "sunday"', '"saturday", "sunnday"'), "did you mean 'sunday'"),
        (('country = "CN"', 'country = "XX"'), "no holiday data"),
        (('admin_code = "510104"', 'admin_code = "5101"'), "6-digit"),
    ],
)
def test_a_bad_profile_names_the_key_and_the_fix(edit, message):
    old, new = edit
    text = profile_text("chengdu").replace(old, new, 1)
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "city.toml")
    assert message in err.value.message


def test_the_profile_lives_in_the_project(demo_copy, capsys):
    store_profile(demo_copy, profile_text("chengdu"))
    assert project_profile(demo_copy).name == "成都市锦江区（示例）"
    assert project_calendar(demo_copy).tz == "Asia/Shanghai"
    assert main(["city", "show", str(demo_copy)]) == 0
    assert "Asia/Shanghai" in capsys.readouterr().out
    assert main(["city", "due", str(demo_copy), "--at", "2026-02-13 16:00", "--limit", "4"]) == 0
    assert capsys.readouterr().out.strip() == "2026-02-14T11:30:00+08:00"
    assert (
        main(["city", "calendar", str(demo_copy), "--from", "2026-02-14", "--to", "2026-02-14"])
        == 0
    )
    assert "make-up working day" in capsys.readouterr().out


def test_case_due_times_follow_the_project_profile(store_target, demo_copy):
    """Both case stores give a new case its due time on the project's own calendar."""
    from citydesk.incidents.new_cases import NewCase
    from citydesk.incidents.stores import open_project_store

    store_profile(demo_copy, profile_text("chengdu"))
    if store_target.backend == "postgis":
        assert main(["cases", "connect", str(demo_copy), store_target.place]) == 0
    with open_project_store(demo_copy) as store:
        assert store.calendar.tz == "Asia/Shanghai"
        reported = dt.datetime(2026, 2, 13, 16, 0, tzinfo=SHANGHAI)
        new = NewCase(kind="event", category_code="0104", reported_at=reported)
        case = store.report(new, actor="clerk")
        category = store.catalogue.get("event", "0104")
    chengdu = calendar_from_profile(read_profile("chengdu"))
    expected = chengdu.due(reported, category.limit, category.unit)
    assert case.due_at == expected
    assert case.due_at.astimezone(SHANGHAI).date() != dt.date(2026, 2, 13) or (
        category.limit <= 1.5
    )


def test_period_dates_on_the_command_line_are_the_citys_midnight():
    """--from 2026-02-14 starts at midnight in the city, not at UTC's (8 hours apart in
    Chengdu); a time with its own offset is taken as it is."""
    from types import SimpleNamespace

    from citydesk.workbench.cli.arg_types import moment
    from citydesk.workbench.cli.cases_cmd import local

    store = SimpleNamespace(calendar=calendar_from_profile(read_profile("chengdu")))
    assert local(store, moment("2026-02-14")) == dt.datetime(2026, 2, 14, tzinfo=SHANGHAI)
    given = local(store, moment("2026-02-14T00:00+00:00"))
    assert given.utcoffset() == dt.timedelta(hours=8) and given.hour == 8
    assert local(store, None) is None


def test_default_costs_in_another_currency_are_said(tmp_path):
    """CityDesk's round costs are USD per m²: a city counting in euros or yuan that gives none
    of its own is told so by the check and by every land-use run, instead of reading USD
    figures under its currency's name."""
    from citydesk.layers.city_check import check_city
    from citydesk.layers.city_profile import costs_in_other_currency
    from citydesk.planning.landuse_inputs import landuse_problem

    assert not costs_in_other_currency(read_profile("cambridge"))
    helsinki = read_profile("helsinki")
    assert costs_in_other_currency(helsinki) and costs_in_other_currency(read_profile("chengdu"))
    planning = next(c for c in check_city(helsinki, {}) if c.feature == "Planning scenarios")
    assert any("cost_per_m2 in EUR" in gap for gap in planning.missing)
    own = profile_text("helsinki").replace(
        "[layers", "[planning]\ncost_per_m2 = { park = 90 }\n\n[layers", 1
    )
    assert not costs_in_other_currency(parse_profile(own))

    import geopandas as gpd
    from shapely.geometry import box

    parcels = gpd.GeoDataFrame(
        {"osm_id": [1, 2], "landuse": ["residential", "industrial"]},
        geometry=[box(0, 0, 50, 50), box(50, 0, 100, 50)],
        crs="EPSG:3067",
    )
    notes: list[str] = []
    landuse_problem(parcels, profile=helsinki, notes=notes)
    assert any("defaults in USD" in n and "cost_per_m2 in EUR" in n for n in notes)


def test_a_role_layer_without_features_is_named_not_an_internal_error(demo_copy, capsys):
    """An OSM extract without landuse areas or amenities writes empty layers mapped to roles;
    a plan on them ended in "internal error: NaN or None values are not allowed" (the
    parcels' bounds) and `city check` called the features ready."""
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.project_store import put_layers, read_project_layer

    parcels = read_project_layer(demo_copy, "parcels")
    put_layers(demo_copy, [VectorLayer(name="no parcels", data=parcels.iloc[:0], id="none")])
    text = profile_text("cambridge").replace('layer = "parcels"', 'layer = "none"', 1)
    assert 'layer = "none"' in text
    store_profile(demo_copy, text)
    assert main(["city", "check", str(demo_copy)]) == 0
    out = capsys.readouterr().out
    assert "Planning scenarios: missing ([layers.parcels] layer 'none' has no features" in out
    assert "Facility access and siting: ready" in out  # the other roles as they were
    args = ["optimize", "landuse", str(demo_copy), "--housing", "300", "--points", "2"]
    assert main(args) == 2
    assert "the parcels layer 'none' has no features" in capsys.readouterr().err
    starter = demo_copy.parent / "first.toml"  # a scenario whose layers are the profile's
    assert main(["plan", "new", str(demo_copy), "first", "--output", str(starter)]) == 0
    assert main(["plan", "save", str(demo_copy), str(starter)]) == 0
    capsys.readouterr()
    assert main(["plan", "run", str(demo_copy), "first"]) == 2
    assert "'none': the layer has no features" in capsys.readouterr().err


def test_other_settings_round_trip_and_are_checked_like_a_profile_file():
    """What City setup's Other settings tab shows and reads back (the keys without a field
    of their own), through the profile's one validator."""
    from citydesk.layers.city_init import other_settings_toml, with_other_settings

    profile = read_profile("cambridge")
    text = other_settings_toml(profile)
    assert "routing_rules" in text and "timezone" not in text and "[calendar" not in text
    assert "categories = []" not in text  # would refuse a [[categories]] appended below
    assert with_other_settings(profile, text) == profile
    costs = with_other_settings(profile, text + "\n[planning.cost_per_m2]\npark = 250.0\n")
    assert costs.planning.cost_per_m2 == {"park": 250.0} and costs.timezone == profile.timezone
    assert with_other_settings(profile, "").routing_rules == ""  # a key left out: its default
    with pytest.raises(ProfileError, match="did you mean 'planning'"):
        with_other_settings(profile, "[planing]\n")
    with pytest.raises(ProfileError, match="timezone is set in the dialog's own fields"):
        with_other_settings(profile, 'timezone = "UTC"\n')
    with pytest.raises(ProfileError, match="not valid TOML"):
        with_other_settings(profile, "[planning\n")
    with pytest.raises(ProfileError) as err:
        with_other_settings(profile, "persons_per_household = -1\n")
    assert err.value.key == "persons_per_household"  # type: ignore[attr-defined]
