"""Esri File Geodatabases (a folder: how US city portals offer downloads, often zipped) and
MapInfo TAB/MIF files (common in Chinese and European city departments) were refused as
"not a format CityDesk reads". They are read like a GeoPackage: each layer by name, every
layer checked, every layer taken by `project new --from` and `city init`."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import box

from citydesk.layers.io import layers_to_choose, read_layer
from citydesk.layers.project_store import load_project
from citydesk.workbench.cli.main import main

HELSINKI_TM35 = (385000, 6672000, 385200, 6672200)


def _frame(n: int = 3):
    x0, y0, _x1, _y1 = HELSINKI_TM35
    shapes = [box(x0 + 60 * i, y0, x0 + 60 * i + 50, y0 + 50) for i in range(n)]
    return gpd.GeoDataFrame({"name": [f"p{i}" for i in range(n)]}, geometry=shapes, crs=3067)


@pytest.fixture()
def gdb(tmp_path):
    path = tmp_path / "city.gdb"
    _frame(3).to_file(path, layer="parcels", driver="OpenFileGDB")
    _frame(2).to_file(path, layer="roads", driver="OpenFileGDB")
    return path


def _zip_folder(folder, target):
    with zipfile.ZipFile(target, "w") as z:
        for file in sorted(folder.rglob("*")):
            z.write(file, f"download/{folder.name}/{file.relative_to(folder)}")
    return target


def test_a_file_geodatabase_reads_by_layer(gdb, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert layers_to_choose(gdb) == ["parcels", "roads"]
    assert read_layer(gdb, "roads").feature_count == 2
    assert read_layer(gdb / "gdb", "parcels").feature_count == 3  # a file in it: the folder
    assert main(["layers", "validate", str(gdb)]) == 0
    out = capsys.readouterr().out
    assert "city.gdb [parcels]" in out and "city.gdb [roads]" in out
    zipped = _zip_folder(gdb, tmp_path / "city_gdb.zip")  # the portal's download
    assert layers_to_choose(zipped) == ["parcels", "roads"]
    assert read_layer(zipped, "roads").feature_count == 2
    project = tmp_path / "p.gpkg"
    assert main(["project", "new", str(project), "--crs", "EPSG:3067"]) == 0
    assert main(["project", "add", str(project), str(zipped)]) == 2
    assert "holds 2 layers: parcels, roads" in capsys.readouterr().err
    assert main(["project", "add", str(project), str(zipped), "--layer", "roads"]) == 0
    whole = tmp_path / "whole.gpkg"
    assert main(["project", "new", str(whole), "--from", str(gdb), "--crs", "EPSG:3067"]) == 0
    assert set(load_project(whole).layers) == {"parcels", "roads"}


def test_a_zipped_folder_cannot_write_outside_its_place(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    gdb = tmp_path / "city.gdb"
    _frame(1).to_file(gdb, layer="parcels", driver="OpenFileGDB")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        for file in sorted(gdb.rglob("*")):
            z.write(file, f"city.gdb/{file.relative_to(gdb)}")
        z.writestr("city.gdb/../../../escaped.txt", "no")
    assert read_layer(evil, "parcels").feature_count == 1
    landed = list(tmp_path.rglob("escaped.txt"))
    assert landed and all(p.parent.name == "city.gdb" for p in landed)  # kept inside it
    assert all((tmp_path / "cache") in p.parents for p in landed)


def test_mapinfo_tab_and_mif(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _frame(3).to_file(tmp_path / "zones.tab", driver="MapInfo File")
    _frame(2).to_file(tmp_path / "wards.mif", driver="MapInfo File")
    zones = read_layer(tmp_path / "zones.tab")
    assert zones.feature_count == 3 and zones.crs is not None and zones.crs.is_projected
    assert read_layer(tmp_path / "wards.mif").feature_count == 2
    parts = sorted(tmp_path.glob("zones.*"))  # listed before the ZIP exists
    with zipfile.ZipFile(tmp_path / "zones.zip", "w") as z:  # the .tab and its sidecars
        for part in parts:
            z.write(part, part.name)
    assert read_layer(tmp_path / "zones.zip").feature_count == 3


def test_city_init_takes_every_layer_of_a_delivery_folder(gdb, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "delivery"
    folder.mkdir()
    gdb.rename(folder / "city.gdb")
    _zip_folder(folder / "city.gdb", folder / "again.zip")
    _frame(1).to_file(folder / "zones.tab", driver="MapInfo File")
    project = tmp_path / "city.gpkg"
    argv = ["city", "init", str(folder), "--project", str(project), "--name", "T"]
    assert main([*argv, "--timezone", "Europe/Helsinki", "--out", str(tmp_path / "p.toml")]) == 0
    counts = sorted(layer.feature_count for layer in load_project(project).layers.values())
    assert counts == [1, 2, 2, 3, 3]  # both layers of the folder and of the zipped copy


def test_a_google_earth_kmz_is_read_and_added(tmp_path, capsys):
    """A KMZ (zipped KML, as Google Earth saves places) was "not a format CityDesk reads"."""
    points = gpd.GeoDataFrame(
        {"Name": ["kioski", "puisto"]},
        geometry=gpd.points_from_xy([24.941, 24.945], [60.171, 60.168]),
        crs=4326,
    )
    kml = tmp_path / "doc.kml"
    points.to_file(kml, driver="KML")
    kmz = tmp_path / "places.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.write(kml, "doc.kml")
    layer = read_layer(kmz)
    assert sorted(layer.data["Name"]) == ["kioski", "puisto"] and layer.crs.to_epsg() == 4326
    project = tmp_path / "p.gpkg"
    assert main(["project", "new", str(project), "--crs", "EPSG:3067"]) == 0
    assert main(["project", "add", str(project), str(kmz)]) == 0
    assert len(load_project(project).layers) == 1
