"""A proposed profile takes the public holidays' country and the currency from the time zone
when they are not given (Europe/Helsinki: FI and EUR), marked for the planner to check."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from citydesk.layers.city_locale import (
    _zone_tables,
    calendar_lines,
    country_of_timezone,
    currency_of_country,
)

pytestmark = pytest.mark.skipif(not _zone_tables(), reason="no tz database zone.tab here")


@pytest.mark.parametrize(
    ("zone", "country", "currency"),
    [
        ("Europe/Helsinki", "FI", "EUR"),
        ("Asia/Shanghai", "CN", "CNY"),
        ("Asia/Kolkata", "IN", "INR"),
        ("America/Sao_Paulo", "BR", "BRL"),
        ("UTC", None, ""),
    ],
)
def test_the_time_zone_names_its_country_and_currency(zone, country, currency):
    assert country_of_timezone(zone) == country
    assert currency_of_country(country) == currency


def test_what_is_given_wins_and_an_empty_country_means_none():
    money, lines = calendar_lines("Europe/Helsinki", None, "")
    assert money == 'currency = "EUR"  # FI\'s: check it'
    assert lines == [
        'rest_days = ["saturday", "sunday"]  # FI\'s weekend: check it',
        'holidays = { country = "FI" }  # the country of Europe/Helsinki: check it',
    ]
    assert calendar_lines("Europe/Helsinki", "SE", "SEK") == (
        'currency = "SEK"',
        [
            'rest_days = ["saturday", "sunday"]  # SE\'s weekend: check it',
            'holidays = { country = "SE" }',
        ],
    )
    # no holidays, on purpose: the weekend still from the time zone's country
    assert calendar_lines("Europe/Helsinki", "", "")[1][0].startswith("rest_days")
    assert calendar_lines("UTC", None, "") == ('currency = ""', [])


@pytest.mark.parametrize(
    ("zone", "rest"),
    [
        ("Asia/Riyadh", ["friday", "saturday"]),  # CLDR's weekends, not Saturday-Sunday
        ("Asia/Jerusalem", ["friday", "saturday"]),
        ("Asia/Tehran", ["friday"]),
        ("Asia/Kolkata", ["sunday"]),
        ("America/Santiago", ["saturday", "sunday"]),
    ],
)
def test_a_proposed_profile_rests_on_the_countrys_weekend(zone, rest, tmp_path):
    """A profile proposed for Riyadh rested on Saturday and Sunday, so a case due on a
    Sunday was due on a working day there and one on a Friday on its weekend."""
    from citydesk.incidents.calendar import calendar_from_profile
    from citydesk.layers.city_profile import parse_profile

    _money, lines = calendar_lines(zone, None, "")
    text = f'schema = 2\nname = "X"\ntimezone = "{zone}"\ncrs = "EPSG:32637"\n[calendar]\n'
    profile = parse_profile(text + "\n".join(lines) + "\n")
    assert profile.calendar.rest_days == rest
    calendar = calendar_from_profile(profile)
    week = [dt.date(2026, 11, 23) + dt.timedelta(days=k) for k in range(7)]  # Mon..Sun
    weekend = [d for d in week if not calendar.is_workday(d) and not calendar.is_holiday(d)]
    assert [day.strftime("%A").lower() for day in weekend] == rest


def test_city_init_proposes_them(tmp_path):
    from citydesk.layers.project import Project
    from citydesk.layers.project_store import save_project

    project = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), project)
    out = tmp_path / "proposal.toml"
    done = subprocess.run(
        [sys.executable, "-m", "citydesk", "city", "init", str(project), "--name", "Espoo",
         "--timezone", "Europe/Helsinki", "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert 'holidays = { country = "FI" }' in text and 'currency = "EUR"' in text
