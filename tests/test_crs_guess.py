"""Files without a CRS (a shapefile without its .prj, x/y columns in a local grid): the CRS is
guessed from where the coordinates would land near the project, assigned, and said; a
GeoPackage of several layers is validated whole and never added by its first layer alone."""

from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import CRS
from shapely.geometry import box

from citydesk.layers.crs_guess import guess_crs
from citydesk.layers.project_store import load_project
from citydesk.workbench.cli.main import main

# a block of Cambridge, MA and one of central Helsinki, in lon/lat
CAMBRIDGE = (-71.12, 42.36, -71.10, 42.38)
HELSINKI = (24.93, 60.16, 24.95, 60.17)


def _bounds(lonlat, epsg):
    frame = gpd.GeoDataFrame(geometry=[box(*lonlat)], crs=4326).to_crs(epsg)
    return tuple(frame.total_bounds)


def _codes(found):
    return [c.to_epsg() for c in found]


def test_the_project_crs_then_its_datum_then_lon_lat():
    feet, metres = CRS.from_epsg(2249), CRS.from_epsg(26986)
    # state plane in feet, in a project in feet: the project's own CRS
    assert _codes(guess_crs(_bounds(CAMBRIDGE, 2249), near=CAMBRIDGE, preferred=[feet]))[0] == 2249
    # the same place in metres: not the project's CRS (that puts it 2,000 km away) but the
    # metre state plane on the project's datum, ahead of its HARN and NAD83(2011) twins
    found = _codes(guess_crs(_bounds(CAMBRIDGE, 26986), near=CAMBRIDGE, preferred=[feet]))
    assert found[0] == 26986 and 2249 not in found
    # lon/lat numbers: WGS 84, whatever the project's CRS
    assert _codes(guess_crs(CAMBRIDGE, near=CAMBRIDGE, preferred=[metres])) == [4326]
    # Helsinki's TM35FIN in a Helsinki project; the same numbers are no CRS near Cambridge
    tm35 = _bounds(HELSINKI, 3067)
    assert _codes(guess_crs(tm35, near=HELSINKI, preferred=[CRS.from_epsg(3067)]))[0] == 3067
    assert guess_crs(tm35, near=CAMBRIDGE, preferred=[feet]) == []
    # Chinese data in a CGCS2000 zone (with its zone prefix) in a WGS 84 project: CGCS2000
    # (the same ellipsoid size) ahead of Xian 1980 and Beijing 1954, which place it alike
    beijing = (116.39, 39.905, 116.41, 39.925)
    wgs84 = CRS.from_epsg(4326)
    assert _codes(guess_crs(_bounds(beijing, 4527), near=beijing, preferred=[wgs84]))[0] == 4527
    # the city profile's CRS counts as the project's: a CGCS2000 zone before WGS 84's UTM
    with_profile = guess_crs(
        _bounds(beijing, 4548), near=beijing, preferred=[wgs84, CRS.from_epsg(4544)]
    )
    assert with_profile[0].geodetic_crs.name == "China Geodetic Coordinate System 2000"
    # without a place, only the preferred CRS inside its area of use, or lon/lat
    assert _codes(guess_crs(tm35, preferred=[CRS.from_epsg(3067)])) == [3067]
    assert guess_crs(tm35) == []
    assert guess_crs((float("nan"), 0.0, 1.0, 1.0), near=CAMBRIDGE) == []


def _without_prj(tmp_path, name, lonlat, epsg):
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[box(*lonlat)], crs=4326).to_crs(epsg)
    path = tmp_path / f"{name}.shp"
    frame.to_file(path)
    path.with_suffix(".prj").unlink()
    return path


def test_project_add_gives_a_file_without_crs_the_one_it_fits(demo_copy, tmp_path, capsys):
    metres = _without_prj(tmp_path, "hydrants", CAMBRIDGE, 26986)
    lonlat = _without_prj(tmp_path, "benches", CAMBRIDGE, 4326)
    elsewhere = _without_prj(tmp_path, "kiosks", HELSINKI, 3067)
    assert main(["project", "add", str(demo_copy), str(metres)]) == 0
    err = capsys.readouterr().err
    assert "has no CRS: its coordinates fit EPSG:26986" in err and "--assign-crs" in err
    assert main(["project", "add", str(demo_copy), str(lonlat)]) == 0
    assert "fit EPSG:4326" in capsys.readouterr().err
    assert main(["project", "add", str(demo_copy), str(elsewhere)]) == 0
    assert "fit none near the project" in capsys.readouterr().err
    project = load_project(demo_copy)
    assert project.layers["hydrants"].crs.to_epsg() == 26986
    assert project.layers["benches"].crs.to_epsg() == 4326
    assert project.layers["kiosks"].crs is None  # drawn as if in the project's CRS, as said


def test_validate_says_lon_lat_or_projected_without_naming_a_city(tmp_path, capsys):
    lonlat = _without_prj(tmp_path, "benches", HELSINKI, 4326)
    projected = _without_prj(tmp_path, "kiosks", HELSINKI, 3067)
    assert main(["layers", "validate", str(lonlat)]) == 1
    out = capsys.readouterr().out
    assert "missing_crs" in out and "look like longitude/latitude" in out and "EPSG:4326" in out
    assert main(["layers", "validate", str(projected)]) == 1
    out = capsys.readouterr().out
    assert "the coordinates are projected" in out and "Massachusetts" not in out
    # converting to another CRS needs the one it is in: lon/lat numbers are said so
    to = str(tmp_path / "out.gpkg")
    assert main(["layers", "convert", str(lonlat), to, "--to-crs", "EPSG:3067"]) == 2
    assert "look like longitude/latitude: give --assign-crs EPSG:4326" in capsys.readouterr().err
    assert main(["layers", "convert", str(projected), to, "--to-crs", "EPSG:4326"]) == 2
    assert "give --assign-crs with the CRS the data was made in" in capsys.readouterr().err


@pytest.fixture()
def two_layer_gpkg(tmp_path):
    path = tmp_path / "delivery.gpkg"
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[box(*CAMBRIDGE)], crs=4326)
    frame.to_file(path, layer="roads")
    lines = frame.copy()
    lines["geometry"] = [box(*CAMBRIDGE).union(box(-71.11, 42.37, -71.09, 42.39)).boundary]
    lines.to_file(path, layer="zones")
    return path


def test_a_file_of_several_layers_is_validated_whole_and_added_by_name(
    two_layer_gpkg, demo_copy, capsys
):
    assert main(["layers", "validate", str(two_layer_gpkg)]) == 0
    captured = capsys.readouterr()
    assert "delivery.gpkg [roads]" in captured.out and "delivery.gpkg [zones]" in captured.out
    assert "More than one layer" not in captured.err  # pyogrio's warning no longer leaks
    assert main(["project", "add", str(demo_copy), str(two_layer_gpkg)]) == 2
    err = capsys.readouterr().err
    assert "holds 2 layers: roads, zones" in err and "--layer" in err
    assert "delivery" not in load_project(demo_copy).layers  # refused: nothing added
    assert main(["project", "add", str(demo_copy), str(two_layer_gpkg), "--layer", "zones"]) == 0
    assert "zones" in load_project(demo_copy).layers


def test_city_init_from_a_folder_with_shapefiles_without_prj(tmp_path, capsys):
    """A city's delivery folder: one layer with a CRS and one without gets the first's
    area's CRS; a folder of none is refused before anything is written, unless --crs."""
    with_crs = tmp_path / "delivery"
    with_crs.mkdir()
    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[box(*HELSINKI)], crs=4326).to_crs(3067)
    frame.to_file(with_crs / "roads.gpkg")
    _without_prj(with_crs, "kiosks", HELSINKI, 3067)
    argv = ["city", "init", "--name", "Test", "--timezone", "Europe/Helsinki"]
    assert main([*argv, str(with_crs), "--project", str(tmp_path / "a.gpkg")]) == 0
    layers = load_project(tmp_path / "a.gpkg").layers
    # the roads' own CRS (GDAL's EPSG database may name 3067's datum EUREF-FIN, pyproj's
    # ETRS89: the same CRS by two names, so compared as CRSs, not codes)
    assert layers["kiosks"].crs is not None and layers["kiosks"].crs == layers["roads"].crs
    bare = tmp_path / "bare"
    bare.mkdir()
    _without_prj(bare, "kiosks", HELSINKI, 3067)
    capsys.readouterr()
    assert main([*argv, str(bare), "--project", str(tmp_path / "b.gpkg")]) == 2
    assert "'kiosks' has no CRS" in capsys.readouterr().err
    assert not (tmp_path / "b.gpkg").exists()
    given = [*argv, str(bare), "--project", str(tmp_path / "b.gpkg"), "--crs", "EPSG:3067"]
    assert main(given) == 0
    assert load_project(tmp_path / "b.gpkg").layers["kiosks"].crs.to_epsg() == 3067
