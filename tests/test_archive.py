"""Zipped data sets, as city portals publish them: a zipped GBK shapefile reads its Chinese
names, a member is chosen by name, a broken or hostile archive is refused in one line, and
the archive is unpacked once."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import broken_inputs as bi
import geopandas as gpd
import pytest
import shapely

from citydesk.layers.errors import LayerReadError, NeedsReadOptions
from citydesk.layers.io import read_layer
from citydesk.layers.readers import archive
from citydesk.layers.validation import validate_path


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "citydesk" / "archives"


def _zip(path, files, names=None):
    with zipfile.ZipFile(path, "w") as z:
        for k, f in enumerate(files):
            z.write(f, names[k] if names else f.name)
    return path


def _points(tmp_path, name):
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=shapely.points([24.9, 24.95], [60.1, 60.2]), crs=4326
    )
    out = tmp_path / f"{name}.geojson"
    frame.to_file(out)
    return out


def test_a_zipped_gbk_shapefile_reads_its_chinese_names(tmp_path, cache):
    shp = bi.gbk_shapefile_without_cpg(tmp_path)
    parts = sorted(shp.parent.glob(shp.stem + ".*"))
    zipped = _zip(tmp_path / "download.zip", parts, [f"data/{p.name}" for p in parts])
    layer = read_layer(zipped)
    assert layer.name == shp.stem
    assert "剑桥港" in set(layer.data["name_zh"])  # the .dbf came along for the detection
    assert layer.metadata["read"]["encoding_source"] == "detected"
    unpacked = list(cache.glob("*/*"))
    read_layer(zipped)
    assert list(cache.glob("*/*")) == unpacked  # the second open reads what is there
    report = validate_path(zipped)
    assert report.path == str(zipped) and report.ok


def test_a_member_is_chosen_by_name(tmp_path):
    zipped = _zip(tmp_path / "two.zip", [_points(tmp_path, "wells"), _points(tmp_path, "pumps")])
    with pytest.raises(NeedsReadOptions) as err:
        read_layer(zipped)
    assert "wells.geojson, pumps.geojson" in err.value.problem and "--layer" in err.value.fix
    assert read_layer(zipped, "pumps").name == "pumps"
    assert len(read_layer(zipped, "wells.geojson").data) == 2
    with pytest.raises(NeedsReadOptions, match="no data set 'tanks'"):
        read_layer(zipped, "tanks")


def test_broken_and_hostile_archives_are_refused(tmp_path, monkeypatch, cache):
    good = _zip(tmp_path / "good.zip", [_points(tmp_path, "wells")])
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(LayerReadError, match="not a readable ZIP"):
        read_layer(cut)
    empty = _zip(tmp_path / "notes.zip", [tmp_path / "wells.geojson"], ["readme.txt.bak"])
    with pytest.raises(LayerReadError, match="no data set CityDesk reads"):
        read_layer(empty)
    escape = _zip(tmp_path / "escape.zip", [tmp_path / "wells.geojson"], ["../../up.geojson"])
    assert len(read_layer(escape).data) == 2
    assert not (tmp_path / "up.geojson").exists() and list(cache.glob("*/up.geojson"))
    monkeypatch.setattr(archive, "MAX_UNPACKED", 100)
    big = _zip(tmp_path / "big.zip", [_points(tmp_path, "tanks")])
    with pytest.raises(LayerReadError, match="would unpack to more than"):
        read_layer(big)


def test_the_command_line_adds_a_zipped_layer_to_a_project(tmp_path):
    from citydesk.layers.project import Project
    from citydesk.layers.project_store import load_project, save_project

    project = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), project)
    zipped = _zip(tmp_path / "wells.zip", [_points(tmp_path, "wells")])
    run = [sys.executable, "-m", "citydesk"]
    done = subprocess.run([*run, "project", "add", str(project), str(zipped)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert "wells" in load_project(project).layers
    cut = tmp_path / "cut.zip"
    cut.write_bytes(zipped.read_bytes()[:100])
    bad = subprocess.run([*run, "layers", "info", str(cut)], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_a_problem_inside_names_the_archive_not_the_cache(tmp_path):
    table = tmp_path / "stations.csv"
    table.write_text("名称,东经,北纬\n站,116.31,39.98\n", encoding="utf-8")
    readme = tmp_path / "README.txt"
    readme.write_text("not a table", encoding="utf-8")
    zipped = _zip(tmp_path / "stations.zip", [table, readme])  # a README is not a data set
    with pytest.raises(NeedsReadOptions) as err:
        read_layer(zipped)
    assert err.value.message.startswith(f"{zipped} (stations.csv): no coordinate columns")
    assert str(err.value) == err.value.message
    layer = read_layer(zipped, x_field="东经", y_field="北纬")
    assert layer.data.geometry.x.iloc[0] == pytest.approx(116.31)


def test_city_init_takes_the_zips_of_a_download_folder(tmp_path):
    """A Chinese city's folder as it arrives: its parcels a GBK shapefile zipped without a
    .cpg (field names and values in GBK), the other layers GeoPackages."""
    from chinese_city import build

    from citydesk.layers.city_init import project_from_folder
    from citydesk.layers.project_store import read_project_layer, read_project_meta

    data = build(tmp_path / "data")
    parcels = gpd.read_file(data / "地块.gpkg")
    shp = tmp_path / "shp"
    shp.mkdir()
    parcels.to_file(shp / "地块.shp", encoding="gbk")
    (data / "地块.gpkg").unlink()
    parts = [p for p in shp.iterdir() if p.suffix != ".cpg"]
    _zip(data / "地块_2024.zip", parts, [f"地块/{p.name}" for p in parts])
    project = project_from_folder(data, tmp_path / "city.gpkg")
    names = {r["id"]: r["name"] for r in read_project_meta(project)["layers"]}
    assert names["di_kuai"] == "地块" and "dao_lu_zhong_xin_xian" in names
    back = read_project_layer(project, "di_kuai")
    assert len(back) == len(parcels)
    assert set(back["用地代码"]) == set(parcels["用地代码"])  # GBK read, not mojibake


def test_archives_unused_for_a_month_are_removed_from_the_cache(tmp_path, cache):
    import os
    import time

    first = _zip(tmp_path / "a.zip", [_points(tmp_path, "wells")])
    read_layer(first)
    (old,) = list(cache.iterdir())
    month_ago = time.time() - archive.KEEP_UNUSED_S - 60
    os.utime(old, (month_ago, month_ago))
    read_layer(_zip(tmp_path / "b.zip", [_points(tmp_path, "pumps")]))
    assert not old.exists() and len(list(cache.iterdir())) == 1
