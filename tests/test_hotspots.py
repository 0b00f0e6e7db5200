"""Counts, Gi* hotspots and early warning on the real Cambridge crash history, each checked
against an independent computation (geopandas sjoin, numpy Gi* formula, scipy Poisson)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import CRASHES_GPKG
from scipy.stats import poisson

from citydesk.incidents.grid_index import GridIndex
from citydesk.incidents.hotspots import counts_per_cell, early_warning, getis_ord

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


def test_early_warning_matches_an_independent_poisson_computation(grid, cases, crashes):
    start = pd.Timestamp("2014-09-01", tz=TZ)
    end = pd.Timestamp("2014-10-01", tz=TZ)
    ours = early_warning(cases, grid["code"], start, end).set_index("code")
    df = cases.assign(when=pd.to_datetime(cases["reported_at"], utc=True, format="ISO8601"))
    df = df[df["grid_code"].notna()]

    def window(year_back: int) -> pd.Series:
        s, e = start - pd.DateOffset(years=year_back), end - pd.DateOffset(years=year_back)
        sel = df[(df["when"] >= s) & (df["when"] < e)]
        return sel.groupby("grid_code").size().reindex(grid["code"], fill_value=0)

    current = window(0)
    baseline = pd.concat([window(1), window(2), window(3)], axis=1).mean(axis=1)
    expected = np.where(baseline > 0, baseline, 0.5)
    flags = (poisson.sf(current.to_numpy() - 1, expected) < 0.01) & (current.to_numpy() >= 3)
    assert flags.sum() == 3
    assert set(grid["code"][flags]) == set(ours.index[ours["warning"]])


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
    assert "3 early warnings" in out.stdout
    layer = gpd.read_file(tmp_path / "h.gpkg")
    assert len(layer) == 1942 and {"gi_z", "hotspot", "warning"} <= set(layer.columns)


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
