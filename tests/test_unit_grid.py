"""Unit grid on real Cambridge boundaries: count, area, codes and numbering order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import BOUNDARIES, cambridge_grid_cli_args

from citydesk.incidents.grid import GridError, GridSpec, build_unit_grid

pytestmark = pytest.mark.shared_data
SPEC = dict(
    county_code="250170",
    street_code_field="N_HOOD",
    street_name_field="NAME",
    community_id_field="GEOID20",
)


@pytest.fixture(scope="module")
def inputs():
    return (
        gpd.read_file(BOUNDARIES, layer="city_boundary"),
        gpd.read_file(BOUNDARIES, layer="neighborhoods"),
        gpd.read_file(BOUNDARIES, layer="census2020_tracts"),
    )


@pytest.fixture(scope="module")
def grid(inputs):
    city, hoods, tracts = inputs
    return build_unit_grid(city, hoods, GridSpec(**SPEC), tracts)


def test_total_area_equals_the_city(grid, inputs):
    city_area = inputs[0].to_crs(grid.crs).area.sum()
    assert grid.crs.to_epsg() == 32619  # UTM 19N chosen automatically for Cambridge
    assert grid["area_m2"].sum() == pytest.approx(city_area, rel=1e-3)
    assert shapely.union_all(grid.geometry.values).area == pytest.approx(city_area, rel=1e-3)


def test_cell_count_matches_an_independent_computation(grid, inputs):
    """Squares of 100 m aligned to the UTM grid, clipped to the city: every piece of at least
    10% of a cell is a cell; smaller pieces are merged into a neighbour (none is isolated)."""
    city = inputs[0].to_crs(32619).geometry.union_all()
    x0, y0, x1, y1 = city.bounds
    xs = np.arange(np.floor(x0 / 100) * 100, x1, 100)
    ys = np.arange(np.floor(y0 / 100) * 100, y1, 100)
    squares = gpd.GeoSeries(
        [shapely.box(x, y, x + 100, y + 100) for x in xs for y in ys], crs=32619
    )
    pieces = squares.intersection(city)
    pieces = pieces[~pieces.is_empty & (pieces.area > 0)]
    assert len(grid) == int((pieces.area >= 1000).sum()) == 1942
    assert grid["area_m2"].min() >= 1000


def test_codes_are_cjt213_shaped_and_unique(grid):
    codes = grid["code"]
    assert codes.is_unique and codes.str.fullmatch(r"\d{14}").all()
    assert codes.str[:6].eq("250170").all()
    assert set(codes.str[6:9]) == {f"{n:03d}" for n in range(1, 14)}  # the 13 neighborhoods
    assert (codes.str[6:9] == grid["street_code"]).all()
    assert (codes.str[9:12] == grid["community_code"]).all()
    per_community = grid.groupby(["street_code", "community_code"])["seq"]
    assert per_community.max().max() <= 99
    # sequences run 1..n without gaps inside each community
    assert (per_community.apply(lambda s: sorted(s) == list(range(1, len(s) + 1)))).all()


def test_cells_are_numbered_west_to_east_then_north_to_south(grid):
    for _key, group in grid.groupby(["street_code", "community_code"]):
        ordered = group.sort_values("seq")
        keys = list(zip(ordered["row"], ordered["col"], strict=True))
        assert keys == sorted(keys)  # row 0 is the northernmost


def test_east_cambridge_cell_sits_where_its_code_says(grid, inputs):
    hoods = inputs[1].to_crs(grid.crs)
    east = hoods[hoods["NAME"] == "East Cambridge"].geometry.iloc[0]
    cells = grid[grid["street_code"] == "001"]
    assert (cells["street_name"] == "East Cambridge").all()
    inside = cells.geometry.representative_point().within(east.buffer(100))
    assert inside.mean() > 0.95


def test_bad_inputs_are_explained(inputs):
    city, hoods, tracts = inputs
    with pytest.raises(GridError, match="6 digits"):
        build_unit_grid(city, hoods, GridSpec("1234", street_code_field="N_HOOD"))
    with pytest.raises(GridError, match="cell size"):
        build_unit_grid(city, hoods, GridSpec("250170", cell_size_m=5))
    fixed = {gid: "001" for gid in tracts["GEOID20"]}
    with pytest.raises(GridError, match="allows 99"):
        build_unit_grid(city, hoods, GridSpec(**SPEC, community_codes=fixed), tracts)
    no_crs = city.set_crs(None, allow_override=True)
    with pytest.raises(GridError, match="no CRS"):
        build_unit_grid(no_crs, hoods, GridSpec(**SPEC), tracts)


def test_other_cell_sizes_and_a_feet_crs(inputs):
    city, hoods, tracts = inputs
    g200 = build_unit_grid(city, hoods, GridSpec(**{**SPEC, "cell_size_m": 200.0}), tracts)
    assert 450 < len(g200) < 560
    feet = build_unit_grid(city, hoods, GridSpec(**{**SPEC, "crs": "EPSG:2249"}), tracts)
    # interior cells are 100 m squares (10,000 m2), not 100 ft squares (929 m2)
    assert float(feet["area_m2"].median()) == pytest.approx(10_000, rel=1e-6)
    assert (feet["area_m2"].round(2) == 10_000).sum() > 1000


def test_cli_grid_build_into_a_project(tmp_path, demo_copy):
    exe = str(Path(sys.executable).parent / "citydesk")
    out = subprocess.run(
        [exe, *cambridge_grid_cli_args(demo_copy)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "1942 cells" in out.stdout
    info = subprocess.run(
        [exe, "project", "info", str(demo_copy), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    layers = {lyr["id"]: lyr for lyr in json.loads(info.stdout)["layers"]}
    assert layers["unit_grid"]["features"] == 1942
    bad = subprocess.run(
        [
            exe,
            "grid",
            "build",
            "--boundary",
            str(BOUNDARIES),
            "--streets",
            str(BOUNDARIES),
            "--county",
            "12",
            "--out",
            str(tmp_path / "g.gpkg"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "6 digits" in bad.stderr
