"""A project is one GeoPackage: full round trip, format versioning, safety, atomic saves."""

from __future__ import annotations

import json
import sqlite3

import pyogrio
import pytest
from conftest import BOUNDARIES, PARCELS, SF_DEM_TIF

from citydesk.layers import (
    LayerRole,
    Project,
    ProjectFormatError,
    gpkg,
    load_project,
    read_layer,
    save_project,
)
from citydesk.layers.project_store import META_TABLE
from citydesk.layers.style import Symbol, categorized, graduated
from citydesk.layers.version import PROJECT_FORMAT_VERSION

pytestmark = pytest.mark.shared_data


def _project() -> Project:
    project = Project("Round trip", crs="EPSG:2249")
    project.metadata = {"author": "planning dept", "中文": "城市规划"}
    parcels = read_layer(PARCELS, name="Parcels")
    parcels.style = graduated(
        parcels.data["land_value_usd"],
        "land_value_usd",
        "quantile",
        7,
        "magma",
        Symbol(stroke="#101010", stroke_width=0.05),
    )
    parcels.opacity = 0.8
    project.add_layer(parcels, group="Land")
    hoods = read_layer(BOUNDARIES, "neighborhoods", name="Neighborhoods 街区")
    hoods.style = categorized(hoods.data["NAME"], "NAME", "tab20")
    hoods.style.label_field = "NAME"
    hoods.visible = False
    hoods.role = LayerRole.BOUNDARY
    project.add_layer(hoods, group="Boundaries")
    dem = read_layer(SF_DEM_TIF, name="SF DEM")
    dem.style.hillshade = True
    project.add_layer(dem, group="Rasters")
    project.group("Rasters").visible = False
    project.move_layer("sf_dem", 0, group="Land")
    return project


def test_round_trip_keeps_every_layer_style_and_tree_setting(tmp_path):
    original = _project()
    path = save_project(original, tmp_path / "p.gpkg")
    loaded = load_project(path)
    assert loaded.name == original.name
    assert loaded.crs == original.crs
    assert loaded.metadata == original.metadata
    assert loaded.root.to_dict() == original.root.to_dict()
    assert loaded.layer_order() == original.layer_order()
    for lid, layer in original.layers.items():
        back = loaded.layers[lid]
        assert back.name == layer.name
        assert back.role == layer.role
        assert back.visible == layer.visible
        assert back.opacity == layer.opacity
        assert back.style.to_dict() == layer.style.to_dict()
        assert back.describe()["extent"] == pytest.approx(layer.describe()["extent"])
    parcels = loaded.layers["parcels"]
    assert parcels.feature_count == 13116
    assert list(parcels.data.columns) == list(original.layers["parcels"].data.columns)
    assert loaded.layers["sf_dem"].units == "m"
    assert (loaded.layers["sf_dem"].array == original.layers["sf_dem"].array).all()
    assert loaded.extent == pytest.approx(original.extent)


def test_visibility_follows_groups(tmp_path):
    project = load_project(save_project(_project(), tmp_path / "p.gpkg"))
    assert "neighborhoods" in project.layers
    assert not project.is_visible("neighborhoods")  # the layer is hidden
    # the DEM sits in the visible Land group now
    assert project.is_visible("sf_dem")
    project.group("Land").visible = False
    assert not project.is_visible("sf_dem") and not project.is_visible("parcels")


def test_the_file_is_a_standard_geopackage_with_qgis_styles(tmp_path):
    path = save_project(_project(), tmp_path / "p.gpkg")
    names = dict(pyogrio.list_layers(path))
    assert "parcels" in names and names["parcels"] == "MultiPolygon"
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT f_table_name, useAsDefault, styleQML FROM layer_styles ORDER BY f_table_name"
    ).fetchall()
    mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    con.close()
    assert mode == "wal"
    tables = {r[0]: r for r in rows}
    assert set(tables) == {"parcels", "neighborhoods"}
    assert 'type="graduatedSymbol"' in tables["parcels"][2]
    assert 'attr="land_value_usd"' in tables["parcels"][2]
    assert 'type="categorizedSymbol"' in tables["neighborhoods"][2]
    assert 'fieldName="NAME"' in tables["neighborhoods"][2]


def test_newer_format_is_refused_with_a_clear_message(tmp_path):
    path = save_project(_project(), tmp_path / "p.gpkg")
    con = sqlite3.connect(path)
    with con:
        con.execute(
            f"UPDATE {META_TABLE} SET value=? WHERE key='format_version'",
            (json.dumps(PROJECT_FORMAT_VERSION + 1),),
        )
    con.close()
    with pytest.raises(ProjectFormatError, match="Upgrade CityDesk"):
        load_project(path)


def test_plain_geopackage_and_non_sqlite_files_are_refused(tmp_path):
    with pytest.raises(ProjectFormatError, match="not a CityDesk project"):
        load_project(BOUNDARIES)
    bogus = tmp_path / "x.gpkg"
    bogus.write_text("not sqlite")
    with pytest.raises(ProjectFormatError, match="not a GeoPackage"):
        load_project(bogus)


def test_project_content_is_data_never_code(tmp_path, monkeypatch):
    """Strings that would run if a loader used eval or pickle stay inert strings."""
    project = _project()
    evil = "__import__('os').system('touch PWNED')"
    project.metadata["note"] = evil
    project.layers["parcels"].metadata["x"] = evil
    path = save_project(project, tmp_path / "p.gpkg")
    monkeypatch.chdir(tmp_path)
    con = sqlite3.connect(path)
    with con:
        con.execute(f"UPDATE {META_TABLE} SET value=? WHERE key='name'", (json.dumps(evil),))
    con.close()
    loaded = load_project(path)
    assert loaded.name == evil and loaded.metadata["note"] == evil
    assert not (tmp_path / "PWNED").exists()


def test_damaged_settings_are_reported(tmp_path):
    path = save_project(_project(), tmp_path / "p.gpkg")
    con = sqlite3.connect(path)
    with con:
        con.execute(f"UPDATE {META_TABLE} SET value='{{not json' WHERE key='tree'")
    con.close()
    with pytest.raises(ProjectFormatError, match="damaged"):
        load_project(path)


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = save_project(_project(), tmp_path / "p.gpkg")
    before = path.read_bytes()
    project = load_project(path)
    project.name = "changed"
    for layer in project.layers.values():  # edited: each table is written again
        if layer.kind == "vector":
            layer.set_data(layer.data.assign(note="edited"))
    calls = {"n": 0}
    real = gpkg.write_features

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(gpkg, "write_features", failing)
    with pytest.raises(OSError, match="disk full"):
        save_project(project, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gpkg"]  # no temp files left
    assert load_project(path).name == "Round trip"


def test_tree_operations():
    project = Project("t", crs="EPSG:4326")
    a = project.add_layer(read_layer(BOUNDARIES, "neighborhoods"))
    b = project.add_layer(read_layer(BOUNDARIES, "city_boundary"))
    assert project.layer_order() == [b.id, a.id]  # new layers go on top
    project.move_layer(b.id, 1)
    assert project.layer_order() == [a.id, b.id]
    assert [lyr.id for lyr in project.drawing_order()] == [b.id, a.id]
    project.add_group("Admin")
    project.move_layer(a.id, 0, group="Admin")
    assert project.root.to_dict()["children"][-1]["children"][0]["id"] == a.id
    project.remove_layer(a.id)
    assert project.layer_order() == [b.id]
    again = project.add_layer(read_layer(BOUNDARIES, "city_boundary"))
    assert again.id != b.id  # ids stay unique
