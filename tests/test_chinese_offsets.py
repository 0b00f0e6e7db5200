"""GCJ-02 / BD-09 (issue 18): the formulas, their inverses, and detection against a
reference layer, on the Chinese-style fixture (real Cambridge geometry moved to Chengdu)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from chinese_city import build
from hypothesis import given, settings
from hypothesis import strategies as st

from citydesk.layers.chinese_offsets import (
    bd09_to_gcj02,
    detect_offset,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    undo_offset,
    wgs84_to_gcj02,
)
from citydesk.layers.measure import geodesic_distance_m
from citydesk.workbench.cli.main import main


def test_a_published_point():
    """Tiananmen: WGS 84 116.391349, 39.907375 is GCJ-02 116.397590, 39.908776 on AMap."""
    lon, lat = wgs84_to_gcj02(116.391349, 39.907375)
    assert lon == pytest.approx(116.397590, abs=2e-6) and lat == pytest.approx(39.908776, abs=2e-6)


def test_outside_china_nothing_moves():
    lon, lat = wgs84_to_gcj02([-71.1, 24.94], [42.37, 60.17])
    assert np.array_equal(lon, [-71.1, 24.94]) and np.array_equal(lat, [42.37, 60.17])


@settings(max_examples=200, deadline=None)
@given(st.floats(75, 134), st.floats(18, 53))
def test_inverses_undo_the_offsets(lon, lat):
    gx, gy = wgs84_to_gcj02(lon, lat)
    assert geodesic_distance_m(lon, lat, gx, gy) > 1  # there is an offset to undo
    wx, wy = gcj02_to_wgs84(gx, gy)
    assert geodesic_distance_m(lon, lat, wx, wy) < 0.01
    bx, by = gcj02_to_bd09(gx, gy)
    cx, cy = bd09_to_gcj02(bx, by)
    assert geodesic_distance_m(gx, gy, cx, cy) < 0.01


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return build(tmp_path_factory.mktemp("offsets") / "data")


def _offset_copy(frame, how: str):
    import shapely

    geo = frame.to_crs(4326)

    def shift(xy):
        x, y = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        if how == "bd09":
            x, y = gcj02_to_bd09(x, y)
        return np.column_stack([x, y])

    out = geo.copy()
    out["geometry"] = shapely.transform(np.asarray(geo.geometry.array), shift)
    return out


def _inside(city):
    """The facilities inside the district, where the streets are (the reference)."""
    import geopandas as gpd

    facilities = gpd.read_file(city / "公共服务设施.gpkg")
    district = gpd.read_file(city / "行政边界.gpkg").geometry.iloc[0]
    return facilities[facilities.within(district)].reset_index(drop=True)


def _surveyed(frame):
    """The same points as another source would have them (OSM): a few metres off each."""
    rng = np.random.default_rng(3)
    moved = frame.to_crs(4544)
    jitter = rng.normal(0, 2.0, size=(len(moved), 2))
    xs = moved.geometry.x.to_numpy() + jitter[:, 0]
    ys = moved.geometry.y.to_numpy() + jitter[:, 1]
    import geopandas as gpd

    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4544)


@pytest.mark.parametrize("how", ["gcj02", "bd09"])
def test_detected_against_the_streets_and_undone(city, how):
    import geopandas as gpd

    facilities = _inside(city)
    reference = _surveyed(facilities)
    shifted = _offset_copy(facilities, how)
    finding = detect_offset(shifted, reference)
    assert finding.offset == how, finding
    assert finding.share_near[how] > 0.9 and finding.share_near["wgs84"] < 0.2
    back = undo_offset(shifted, how)
    truth = facilities.to_crs(4326)
    gap = geodesic_distance_m(back.geometry.x, back.geometry.y, truth.geometry.x, truth.geometry.y)
    assert gap.max() < 0.1
    # the true layer is left alone; and a street grid cannot tell (says no offset)
    assert detect_offset(facilities, reference).offset is None
    streets = gpd.read_file(city / "道路中心线.gpkg")
    assert detect_offset(shifted, streets).offset is None


def test_cli_finds_and_fixes_an_amap_export(city, tmp_path, capsys):
    amap = tmp_path / "amap_poi.gpkg"
    _offset_copy(_inside(city), "gcj02").to_file(amap)
    ref = tmp_path / "osm_poi.gpkg"
    _surveyed(_inside(city)).to_file(ref)
    assert main(["layers", "offset", str(amap), "--reference", str(ref), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["offset"] == "gcj02"
    fixed = tmp_path / "fixed.gpkg"
    assert main(["layers", "convert", str(amap), str(fixed), "--from-offset", "gcj02"]) == 0
    capsys.readouterr()
    assert main(["layers", "offset", str(fixed), "--reference", str(ref), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["offset"] is None
    # without a reference only the name can hint, and the answer says so
    assert main(["layers", "offset", str(amap)]) == 0
    assert "name suggests gcj02" in capsys.readouterr().out
