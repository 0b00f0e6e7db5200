"""The unit of a city's floor areas in a proposed profile (``area_unit``).

A US open-data portal's parcels (Socrata GeoJSON: ``gross_bldg_area_sqft``, every value a
string) came out of ``city init`` as ``area_unit = "m2"``, so their floor areas, and the jobs
derived from them, would have been read 10.76 times too large. The proposal now takes the
unit from the floor-area field's name, else from the country (square feet in the US), and
marks a guess to check."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from citydesk.layers.city_init import LayerSample, profile_toml, propose
from citydesk.layers.city_profile import parse_profile


def _parcels(floor_field: str | None) -> LayerSample:
    values = {"parcel_id": ["1", "2"], "use_code": ["101", "340"]}
    if floor_field:
        values[floor_field] = ["4247.0", "1200.5"]  # strings, as a Socrata export has them
    return LayerSample("parcels", "parcels", "polygon", pd.DataFrame(values))


def _unit_line(floor_field: str | None, timezone: str, given: str = "") -> str:
    proposal = propose([_parcels(floor_field)])
    text = profile_toml(proposal, name="X", timezone=timezone, crs="EPSG:32619", area_unit=given)
    profile = parse_profile(text)  # the proposal is a valid profile
    line = next(line for line in text.splitlines() if line.startswith("area_unit"))
    assert line.startswith(f'area_unit = "{profile.area_unit}"')
    return line


@pytest.mark.parametrize(
    ("field", "zone", "unit"),
    [
        ("gross_bldg_area_sqft", "America/New_York", "sqft"),
        ("BLDG_AREA_SQ_FT", "Europe/London", "sqft"),  # the name wins over the country
        ("floor_area_m2", "America/Chicago", "m2"),
        ("m2_construidos", "America/Santiago", "m2"),
        ("建筑面积_平方米", "Asia/Shanghai", "m2"),
    ],
)
def test_the_floor_area_fields_name_says_the_unit(field, zone, unit):
    proposal = propose([_parcels(field)])
    assert proposal.area_unit == unit
    assert any(r.startswith(f"area_unit: {unit}") and field in r for r in proposal.reasons)
    said = f'area_unit = "{unit}"  # the floor-area field\'s name says so'
    assert _unit_line(field, zone) == said


def test_a_name_without_a_unit_takes_the_countrys_and_says_to_check_it():
    line = _unit_line("gfa", "America/Denver")
    assert line.startswith('area_unit = "sqft"') and "US's floor areas: check it" in line
    line = _unit_line("gfa", "Europe/Madrid")
    assert line.startswith('area_unit = "m2"') and "check it" in line
    assert _unit_line(None, "Europe/Madrid") == 'area_unit = "m2"'  # no floor area: no guess


def test_the_given_unit_wins():
    assert _unit_line("gross_bldg_area_sqft", "America/New_York", given="m2") == 'area_unit = "m2"'


def test_city_init_on_a_portals_geojson_with_string_numbers(tmp_path):
    folder = tmp_path / "portal"
    folder.mkdir()
    ring = [[-71.10, 42.37], [-71.099, 42.37], [-71.099, 42.371], [-71.10, 42.371], [-71.10, 42.37]]
    features = [
        {
            "type": "Feature",
            "properties": {"ml": f"1-{k}", "use_code": "101", "gross_bldg_area_sqft": "2400.0"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for k in range(3)
    ]
    (folder / "parcels.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    out = tmp_path / "proposal.toml"
    done = subprocess.run(
        [sys.executable, "-m", "citydesk", "city", "init", str(folder), "--project",
         str(tmp_path / "city.gpkg"), "--name", "Somerville", "--timezone", "America/New_York",
         "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    profile = parse_profile(out.read_text(encoding="utf-8"))
    assert profile.area_unit == "sqft"
    assert profile.layers.parcels.floor_area == "gross_bldg_area_sqft"
