"""Saving over a project writes only the layers that changed: a table the file already holds
exactly is left as it is (a save rewrote every layer's table), and nothing that changed
is ever left unwritten."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from citydesk.layers import gpkg
from citydesk.layers.layer import VectorLayer
from citydesk.layers.project import Project
from citydesk.layers.project_store import load_project, save_project


def _project(path):
    blocks = gpd.GeoDataFrame(
        {"use": ["home", "shop", "park"], "value": [1.0, 2.0, 3.0]},
        geometry=[box(i, 0, i + 1, 1) for i in range(3)],
        crs="EPSG:3857",
    )
    stops = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[Point(0.5, 0.5), Point(2.5, 0.5)], crs="EPSG:3857"
    )
    project = Project("Saves", crs="EPSG:3857")
    project.add_layer(VectorLayer(name="Blocks", id="blocks", data=blocks))
    project.add_layer(VectorLayer(name="Stops", id="stops", data=stops))
    return save_project(project, path)


@pytest.fixture
def writes(monkeypatch):
    """The tables each save writes."""
    written: list[str] = []
    real = gpkg.write_features

    def counting(con, table, frame, description=""):
        written.append(table)
        return real(con, table, frame, description=description)

    monkeypatch.setattr(gpkg, "write_features", counting)
    return written


def _values(path, table, column):
    with sqlite3.connect(path) as con:
        return [r[0] for r in con.execute(f'SELECT "{column}" FROM "{table}" ORDER BY fid')]


def test_an_unchanged_project_writes_no_table(tmp_path, writes):
    path = _project(tmp_path / "p.gpkg")
    writes.clear()
    project = load_project(path)
    project.name = "Renamed"
    save_project(project, path)
    assert writes == []
    assert load_project(path).name == "Renamed"
    assert _values(path, "blocks", "use") == ["home", "shop", "park"]


def test_an_edited_layer_is_written_and_the_edit_kept(tmp_path, writes):
    """An edit made in place on the layer's frame (what the attribute table does) leaves no
    trace on the layer: building that frame is what marks the layer as possibly changed."""
    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    project.layers["blocks"].data.loc[3, "use"] = "school"  # fid 3, edited in place
    writes.clear()
    save_project(project, path)
    assert writes == ["blocks"]
    assert _values(path, "blocks", "use") == ["home", "shop", "school"]
    writes.clear()
    save_project(project, path)  # the frame may be edited again at any time: written again
    assert writes == ["blocks"]


def test_replaced_and_relabelled_layers_are_written(tmp_path, writes):
    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    stops = project.layers["stops"]
    stops.label_crs(stops.crs)
    blocks = project.layers["blocks"]
    blocks.set_data(blocks.data.iloc[:2])
    writes.clear()
    save_project(project, path)
    assert sorted(writes) == ["blocks", "stops"]
    assert _values(path, "blocks", "use") == ["home", "shop"]


def test_a_renamed_layer_keeps_its_table_with_the_new_description(tmp_path, writes):
    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    project.layers["stops"].name = "Bus stops"
    writes.clear()
    save_project(project, path)
    assert writes == []
    with sqlite3.connect(path) as con:
        row = con.execute("SELECT description FROM gpkg_contents WHERE table_name = 'stops'")
        assert row.fetchone()[0] == "Bus stops"
    assert load_project(path).layers["stops"].name == "Bus stops"


def test_another_programs_edit_to_an_unchanged_layer_survives_a_save(tmp_path, writes):
    """QGIS edits the stops while the project is open here; saving a change to the blocks
    does not put the stops back as they were read (the save rewrote every table)."""
    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    with gpkg.open_file(path) as con, gpkg.write_transaction(con):
        con.execute("UPDATE stops SET name = 'edited in QGIS' WHERE fid = 1")
    project.layers["blocks"].set_data(project.layers["blocks"].data.assign(value=0.0))
    save_project(project, path)
    assert _values(path, "stops", "name") == ["edited in QGIS", "b"]
    assert _values(path, "blocks", "value") == [0.0, 0.0, 0.0]


def test_a_table_gone_from_the_file_is_written_again(tmp_path, writes):
    """Another program dropped a table this project holds whole: the save writes it back
    (a layer whose attributes were still to be read from that table cannot be, and the
    save stops with nothing changed, as before)."""
    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    project.layers["stops"].read_attributes()
    with gpkg.open_file(path) as con, gpkg.write_transaction(con):
        gpkg.drop_features(con, "stops")
    writes.clear()
    save_project(project, path)
    assert writes == ["stops"]
    assert _values(path, "stops", "name") == ["a", "b"]


def test_save_as_then_save_writes_each_table_once(tmp_path, writes):
    """Saved under a new name every table is written; saved there again, none is, and the
    first file is not taken for the second."""
    first = _project(tmp_path / "p.gpkg")
    project = load_project(first)
    writes.clear()
    second = save_project(project, tmp_path / "copy.gpkg")
    assert sorted(writes) == ["blocks", "stops"]
    writes.clear()
    save_project(project, second)
    assert writes == []
    save_project(project, first)  # the tables of p.gpkg are not known to hold them now
    assert sorted(writes) == ["blocks", "stops"]
    assert _values(second, "blocks", "use") == _values(first, "blocks", "use")


def test_an_analysis_result_joined_to_the_project_is_not_written_again(tmp_path, writes):
    """What an analysis wrote into the file and the workbench then added to the open
    project (layers_written_since) is already in the file: the next save leaves it be."""
    from citydesk.layers.project_store import layers_written_since, put_layers

    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    result = gpd.GeoDataFrame({"score": [0.5]}, geometry=[box(0, 0, 2, 2)], crs="EPSG:3857")
    put_layers(path, [VectorLayer(name="Result", id="result", data=result)], group="Results")
    for layer, group in layers_written_since(path, "1970-01-01").layers:
        project.add_layer(layer, group=group)
    writes.clear()
    save_project(project, path)
    assert writes == []
    assert load_project(path).layers["result"].data["score"].tolist() == [0.5]


def test_a_result_read_in_an_analysis_process_arrives_as_it_was_read(tmp_path, writes):
    """The workbench reads an analysis' layers in the analysis process and gets them
    pickled: they arrive as the arrays they were read into, the same features, still
    knowing their table, so the window's next save does not write them again."""
    import pickle

    from geopandas.testing import assert_geodataframe_equal

    from citydesk.layers.project_store import layers_written_since, put_layers

    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    result = gpd.GeoDataFrame(
        {"score": [0.5, None], "name": ["a", "街"]},
        geometry=[box(0, 0, 2, 2), None],
        crs="EPSG:3857",
    )
    put_layers(path, [VectorLayer(name="Result", id="result", data=result)], group="Results")
    written = pickle.loads(pickle.dumps(layers_written_since(path, "1970-01-01")))
    ((layer, group),) = written.layers
    assert layer.compact and group == "Results"
    assert_geodataframe_equal(layer.data, load_project(path).layers["result"].data)
    ((layer, group),) = pickle.loads(pickle.dumps(layers_written_since(path, "1970-01-01"))).layers
    project.add_layer(layer, group=group)
    writes.clear()
    save_project(project, path)
    assert writes == []


def test_a_project_file_replaced_by_another_is_written_whole(tmp_path, writes):
    """Another file moved over the project's path (a restore from a backup, a copy put
    in its place) is not the file the layers were read from: every table is written."""
    import os
    import shutil

    path = _project(tmp_path / "p.gpkg")
    project = load_project(path)
    for layer in project.layers.values():  # every column in memory (else read when asked)
        layer.read_attributes()
    other = tmp_path / "other.gpkg"
    shutil.copy(path, other)
    with gpkg.open_file(other) as con, gpkg.write_transaction(con):
        con.execute("UPDATE stops SET name = 'from the other file' WHERE fid = 1")
    os.replace(other, path)
    writes.clear()
    save_project(project, path)
    assert sorted(writes) == ["blocks", "stops"]
    assert _values(path, "stops", "name") == ["a", "b"]
