"""Counts, Gi* hotspots and early warning on the real Cambridge crash history, each checked
against an independent computation (geopandas sjoin, numpy Gi* formula, scipy Poisson)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import CRASHES_GPKG

from citydesk.incidents.grid_index import GridIndex
from citydesk.incidents.hotspots import counts_per_cell, getis_ord

pytestmark = pytest.mark.shared_data
TZ = "America/New_York"


@pytest.fixture(scope="module")
def grid(cambridge_grid):
    return cambridge_grid


@pytest.fixture(scope="module")
def crashes():
    frame = gpd.read_file(CRASHES_GPKG)
    frame["when"] = pd.to_datetime(frame["datetime"]).dt.tz_localize(
        TZ, ambiguous=True, nonexistent="shift_forward"
    )
    return frame


@pytest.fixture(scope="module")
def cases(grid, crashes):
    codes = GridIndex(grid).codes_at(crashes.geometry.x.values, crashes.geometry.y.values)
    return pd.DataFrame(
        {"grid_code": codes, "reported_at": crashes["when"].map(lambda t: t.isoformat())}
    )


def test_top_cells_match_a_geopandas_spatial_join(grid, crashes, cases):
    ours = counts_per_cell(cases, grid["code"])
    joined = gpd.sjoin(crashes.to_crs(grid.crs), grid[["code", "geometry"]], predicate="within")
    theirs = joined.groupby("code").size()
    top = ours.sort_values(ascending=False).head(10)
    assert list(top.index) == list(
        theirs.reindex(top.index).sort_values(ascending=False, kind="stable").index
    )
    assert (theirs.reindex(top.index) == top).all()
    assert top.iloc[0] == 85 and top.index[0] == "25017001200176"
    # points on a shared cell edge: sjoin 'within' drops them, we give them to one cell
    assert ours.sum() >= len(joined)


def test_gi_star_equals_the_textbook_formula(grid, cases):
    counts = counts_per_cell(cases, grid["code"])
    result = getis_ord(grid, counts, permutations=99)
    geoms = grid.geometry.values
    n = len(grid)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    w = np.zeros((n, n))
    w[a, b] = 1.0  # queen contiguity, the cell itself included (Gi*)
    x = counts.reindex(grid["code"]).to_numpy(float)
    mean, sd = x.mean(), x.std()
    sw = w.sum(axis=1)
    z = (w @ x - mean * sw) / (sd * np.sqrt((n * (w**2).sum(axis=1) - sw**2) / (n - 1)))
    np.testing.assert_allclose(result["gi_z"].to_numpy(), z, atol=1e-9)
    hottest = result.sort_values("gi_z").iloc[-1]
    assert hottest["hotspot"] == "hot 99%"


def test_sparse_counts_do_not_make_quiet_cells_cold(grid):
    """Three cases in a whole city: every all-zero neighbourhood ties with all its
    permutations, which esda reports as p_sim = 0.01; such cells are not cold spots."""
    counts = pd.Series(0, index=grid["code"])
    counts.iloc[[10, 500, 1000]] = 1
    result = getis_ord(grid, counts, permutations=99)
    quiet = result[result["count"] == 0]
    assert (quiet["p_sim"] <= 0.01).mean() > 0.5  # the tie artefact is there ...
    assert not quiet["hotspot"].str.startswith("cold").any()  # ... and is not reported


def test_no_intersection_of_the_real_crash_history_is_taken_for_a_placeholder(crashes):
    """Crashes are geocoded to intersections: many stack up, none is a fallback point; a
    city-hall point holding 1,573 cases among them would be."""
    from citydesk.incidents.placeholders import find_placeholders

    xy = pd.DataFrame({"lon": crashes.geometry.x.round(7), "lat": crashes.geometry.y.round(7)})
    stacks = xy.value_counts().rename("cases").reset_index()
    stacks = stacks[stacks["cases"] >= 2]
    assert stacks["cases"].max() == 50
    assert find_placeholders(stacks, len(crashes)) == []
    hall = pd.DataFrame({"lon": [-71.1], "lat": [42.37], "cases": [1573]})
    found = find_placeholders(pd.concat([hall, stacks]), len(crashes) + 1573)
    assert [p.cases for p in found] == [1573]


def test_cli_hotspots_on_the_demo(demo_copy, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).parent / "citydesk")
    from conftest import CRASHES_CSV, cambridge_grid_cli_args

    build = [exe, *cambridge_grid_cli_args(demo_copy)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    subprocess.run(
        [
            exe,
            "cases",
            "import",
            str(CRASHES_CSV),
            "--mapping",
            "cambridge_crashes",
            "--project",
            str(demo_copy),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = subprocess.run(
        [
            exe,
            "cases",
            "hotspots",
            "--project",
            str(demo_copy),
            "--from",
            "2014-09-01",
            "--to",
            "2014-10-01",
            "--out",
            str(tmp_path / "h.gpkg"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    # September 2014 against the forecast fitted on 2010-August 2014: the busiest cell saw
    # 6 crashes where 0.6 were expected, which among 1,942 cells tested at once is not
    # beyond chance (FDR 5 %): no warning, and no "hot spot" from a handful of crashes
    assert "0 hot cells (95%), 0 early warnings" in out.stdout
    layer = gpd.read_file(tmp_path / "h.gpkg")
    assert len(layer) == 1942
    assert {"gi_z", "q", "hotspot", "expected", "upper", "warning", "reason"} <= set(layer.columns)
    assert (layer["expected"] > 0).all()  # never a zero baseline


def test_fast_grid_lookup_agrees_with_point_in_polygon(grid, crashes):
    """The arithmetic lookup for whole squares gives the same cell as a covers() test."""
    index = GridIndex(grid)
    codes = index.codes_at(crashes.geometry.x.values, crashes.geometry.y.values)
    assert index._lookup is not None
    pts = crashes.to_crs(grid.crs).geometry.values
    by_code = dict(zip(grid["code"], grid.geometry.values, strict=True))
    for code, pt in zip(codes, pts, strict=True):
        if code is not None:
            assert by_code[code].covers(pt)
    outside = index.codes_at(np.array([-71.3, 0.0]), np.array([42.5, 0.0]))
    assert list(outside) == [None, None]
