"""A proposed profile takes the public holidays' country and the currency from the time zone
when they are not given (Europe/Helsinki: FI and EUR), marked for the planner to check."""

from __future__ import annotations

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
    assert lines == ['holidays = { country = "FI" }  # the country of Europe/Helsinki: check it']
    assert calendar_lines("Europe/Helsinki", "SE", "SEK") == (
        'currency = "SEK"',
        ['holidays = { country = "SE" }'],
    )
    assert calendar_lines("Europe/Helsinki", "", "")[1] == []  # no holidays, on purpose
    assert calendar_lines("UTC", None, "") == ('currency = ""', [])


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
