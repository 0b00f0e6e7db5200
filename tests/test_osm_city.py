"""A city from an OpenStreetMap extract (issue 18): tags, splitting ways at shared nodes, the
walk and drive networks, and ``citydesk city from-osm`` on the real Helsinki extract."""

from __future__ import annotations

import logging
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import ROOT, SHARED

from citydesk.layers.city_profile import parse_profile, project_profile
from citydesk.layers.osm_city import (
    city_from_osm,
    parse_maxspeed,
    parse_oneway,
    split_at_shared_nodes,
)
from citydesk.layers.project_store import load_project
from citydesk.layers.readers.osm import parse_tags
from citydesk.layers.road_network import build_network, network_spec

HELSINKI = SHARED / "helsinki_osm" / "Helsinki.osm.pbf"


def test_other_tags_text_is_parsed_with_escaped_quotes():
    text = '"oneway"=>"yes","maxspeed"=>"30","name:fi"=>"Katu \\"A\\""'
    assert parse_tags(text) == {"oneway": "yes", "maxspeed": "30", "name:fi": 'Katu "A"'}
    assert parse_tags(None) == {} and parse_tags(float("nan")) == {}


@pytest.mark.parametrize(
    ("value", "kmh"),
    [("30", 30.0), ("30 mph", 48.28032), ("50 km/h", 50.0), ("40;30", 40.0), ("FI:urban", None)],
)
def test_maxspeed_values(value, kmh):
    got = parse_maxspeed(value)
    assert (np.isnan(got) and kmh is None) or got == pytest.approx(kmh)


def test_oneway_values_and_implied_oneway():
    assert [parse_oneway(v, False) for v in ("yes", "-1", "no", None)] == [1, -1, 0, 0]
    assert parse_oneway(None, True) == 1 and parse_oneway("no", True) == 0


def test_ways_split_at_shared_nodes_but_not_at_bridges():
    """Two ways sharing a node in their middles make four segments; a third way that
    crosses both without a shared node (a bridge) stays whole and splits nothing."""
    a = shapely.LineString([(0, 0), (1, 0), (2, 0)])
    b = shapely.LineString([(1, -1), (1, 0), (1, 1)])
    bridge = shapely.LineString([(0.5, -1), (0.5, 1)])
    segments, source = split_at_shared_nodes(np.array([a, b, bridge], dtype=object))
    assert sorted(source.tolist()) == [0, 0, 1, 1, 2]
    assert sum(s.length for s in segments) == pytest.approx(a.length + b.length + bridge.length)


def test_walking_ignores_one_way_and_uses_only_walkable_segments():
    streets = gpd.GeoDataFrame(
        {
            "highway": ["primary", "footway"],
            "oneway": [1, 0],
            "walk": [True, True],
            "drive": [True, False],
        },
        geometry=[
            shapely.LineString([(385000, 6671000), (385100, 6671000)]),
            shapely.LineString([(385100, 6671000), (385200, 6671000)]),
        ],
        crs="EPSG:3067",
    )
    profile = parse_profile(
        'schema = 1\nname = "T"\ntimezone = "UTC"\ncrs = "EPSG:3067"\n[streets]\n'
        'road_class = "highway"\ndirection = "oneway"\ndrive_field = "drive"\n'
        'walk_field = "walk"\nspeeds_kmh = { "primary" = 50 }\n'
    )
    drive = build_network(streets, network_spec(profile, "drive"))
    walk = build_network(streets, network_spec(profile, "walk"))
    assert drive.report.segments == 1 and drive.graph.number_of_edges() == 1  # one way
    assert walk.report.segments == 2 and walk.graph.number_of_edges() == 4  # both ways
    edge = next(iter(drive.graph.edges(data=True)))[2]
    assert edge["travel_s"] == pytest.approx(100 / (50 / 3.6), rel=1e-3)


@pytest.fixture(scope="module")
def helsinki():
    if not HELSINKI.exists():
        pytest.skip("needs ../shared/data/helsinki_osm")
    return city_from_osm(HELSINKI, name="Helsinki", timezone="Europe/Helsinki", currency="EUR")


@pytest.mark.shared_data
def test_helsinki_extract_survives_broken_rings_and_reports_them(helsinki):
    assert any("multipolygons: 11 features with broken geometry" in n for n in helsinki.notes)
    assert len(helsinki.layers["buildings"]) > 400
    stations = helsinki.layers["facilities"].query("kind == 'fire_station'")
    assert len(stations) >= 1
    assert "OpenStreetMap" in parse_profile(helsinki.profile_text).credits


@pytest.mark.shared_data
def test_helsinki_landuse_areas_have_a_known_use(helsinki):
    """30 of the 237 landuse areas had values the OSM table did not know (street space
    tagged as landuse: lane, steps, bus_stop; pond), a use any plan could change; one is left,
    'lane;parking', two values in one tag."""
    from citydesk.layers.land_use import classify_codes, load_system

    landuse = helsinki.layers["landuse"]["landuse"]
    classes = classify_codes(landuse, load_system("osm_landuse"))
    assert len(landuse) == 237
    assert sorted(landuse[classes == "unknown"]) == ["lane;parking"]


@pytest.mark.shared_data
def test_helsinki_networks_are_connected_once_ways_are_split(helsinki, caplog):
    """Split at shared nodes, most of the drive network is one part, and footways are walked
    but never driven. OSM's ways as they come run through the nodes they share (the first
    round's 33.5 % routable; 54.5 % now, with a warning that says what to set): with
    ``junctions = "shared"`` the network cuts them there and they route like the split ones."""
    profile = parse_profile(helsinki.profile_text)
    streets = helsinki.layers["streets"]
    drive = build_network(streets, network_spec(profile, "drive"))
    walk = build_network(streets, network_spec(profile, "walk"))
    assert drive.report.largest_share > 0.85
    assert walk.report.largest_share > 0.9
    driven = set(streets.loc[streets["drive"], "highway"])
    assert "footway" not in driven and "steps" not in driven
    assert {"footway", "steps"} <= set(streets.loc[streets["walk"], "highway"])
    assert drive.report.one_way_segments > 0 and walk.report.one_way_segments == 0
    ways = streets.dissolve(by="osm_id").reset_index()  # the ways as OSM gives them
    with caplog.at_level(logging.WARNING, logger="citydesk.layers.road_network"):
        unsplit = build_network(ways, network_spec(profile, "drive"))
    assert unsplit.report.largest_share < 0.8 and unsplit.report.cut_lines == 0
    assert "largest strongly connected part" in caplog.text
    assert 'set junctions = "shared"' in unsplit.report.hint
    cut = build_network(ways, network_spec(profile, "drive", junctions="shared"))
    assert cut.report.cut_lines > 100 and cut.report.largest_share > 0.85
    assert cut.report.hint == ""


@pytest.mark.shared_data
@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_city_from_osm_command_builds_a_project_with_its_profile(tmp_path):
    if not HELSINKI.exists():
        pytest.skip("needs ../shared/data/helsinki_osm")
    project = tmp_path / "helsinki.gpkg"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-P", "-m", "citydesk", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    made = run(
        "city", "from-osm", str(HELSINKI), str(project), "--name", "Helsinki",
        "--timezone", "Europe/Helsinki", "--currency", "EUR", "--crs", "EPSG:3067",
        "--admin-code", "091000",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "broken geometry" in made.stdout
    loaded = load_project(project)
    assert set(loaded.layers) == {
        "boundary", "landuse", "parks", "water", "buildings", "facilities", "addresses",
        "streets",
    }  # fmt: skip
    assert loaded.crs.to_epsg() == 3067
    profile = project_profile(project)
    assert profile is not None and profile.timezone == "Europe/Helsinki"
    assert profile.currency == "EUR" and profile.streets.drive_field == "drive"
    # the unit grid's code (OSM has none to propose): given at once, the grid builds
    assert profile.admin_code == "091000"
    grid = run("grid", "build", "--out", str(project))
    assert grid.returncode == 0, grid.stderr
    # Finland's public holidays from the time zone: Independence Day is not a working day
    assert profile.calendar.holidays is not None and profile.calendar.holidays.country == "FI"
    days = run("city", "calendar", str(project), "--from", "2026-12-04", "--to", "2026-12-07")
    assert "2026-12-06 Sun  holiday" in days.stdout and "2026-12-07 Mon  working" in days.stdout
    walked = run("city", "network", str(project), "--mode", "walk")
    assert walked.returncode == 0 and "of nodes routable" in walked.stdout
    # the check builds both networks: the split ways join up (88.6 % and 96.3 % routable)
    checked = run("city", "check", str(project))
    assert checked.returncode == 0, checked.stderr
    assert "Road network (driving): ready" in checked.stdout
    assert "Walking network: ready" in checked.stdout and "WARNING" not in checked.stderr
    again = run("city", "from-osm", str(HELSINKI), str(project), "--name", "X", "--timezone", "UTC")
    assert again.returncode == 2 and "already exists" in again.stderr


TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="-33.4400" lon="-70.6500" version="1"/>
  <node id="2" lat="-33.4400" lon="-70.6480" version="1"/>
  <node id="3" lat="-33.4400" lon="-70.6460" version="1"/>
  <node id="4" lat="-33.4420" lon="-70.6480" version="1"/>
  <node id="5" lat="-33.4380" lon="-70.6480" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/><tag k="name" v="Calle Uno"/></way>
  <way id="11" version="1"><nd ref="4"/><nd ref="2"/><nd ref="5"/>
    <tag k="highway" v="secondary"/><tag k="name" v="Avenida Dos"/></way>
</osm>
"""


def test_an_extract_of_streets_only_builds_and_says_what_it_lacks(tmp_path, capsys):
    """A small extract (here OSM XML, in the southern and western hemispheres) with streets
    and nothing else: reading it was an internal error (a layer with no features made an
    empty float array), and its empty layers were called ready. Runs on a fresh clone."""
    from citydesk.workbench.cli.main import main

    extract = tmp_path / "streets.osm"
    extract.write_text(TINY_OSM, encoding="utf-8")
    project = tmp_path / "tiny.gpkg"
    args = ["city", "from-osm", str(extract), str(project), "--name", "Tiny"]
    assert main([*args, "--timezone", "America/Santiago"]) == 0
    out = capsys.readouterr().out
    assert "the extract has no landuse: planning has no parcels" in out
    assert "the extract has no facilities" in out
    profile = project_profile(project)
    assert profile.crs == "EPSG:32719" and profile.currency == "CLP"  # UTM 19S; Chile's
    assert main(["city", "check", str(project)]) == 0
    checks = capsys.readouterr().out
    assert "Planning scenarios: missing ([layers.parcels] layer 'landuse' has no features" in checks
    assert "Road network (driving): ready" in checks
    assert main(["city", "network", str(project), "--mode", "drive"]) == 0
    assert main(["optimize", "landuse", str(project), "--housing", "10"]) == 2
    assert "has no features" in capsys.readouterr().err
