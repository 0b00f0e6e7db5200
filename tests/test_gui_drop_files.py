"""Files dropped on the workbench from a file manager, as into QGIS: data files become layers
(a zipped one too), a CityDesk project opens after the unsaved-changes question."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely

pytest.importorskip("PyQt5")

from PyQt5.QtCore import QMimeData, QPoint, QSettings, Qt, QUrl
from PyQt5.QtGui import QDropEvent

from citydesk.workbench.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


def _drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)


def test_dropped_files_become_layers_and_a_project_opens(qtbot, tmp_path, monkeypatch, demo_copy):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    assert window.acceptDrops()
    wells = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=shapely.points([24.9, 24.95], [60.1, 60.2]), crs=4326
    )
    wells.to_file(tmp_path / "wells.geojson")
    with zipfile.ZipFile(tmp_path / "pumps.zip", "w") as z:
        z.write(tmp_path / "wells.geojson", "pumps.geojson")
    _drop(window, [tmp_path / "wells.geojson", tmp_path / "pumps.zip"])
    qtbot.waitUntil(
        lambda: window.project is not None and len(window.project.layers) == 2, timeout=30_000
    )
    assert {layer.name for layer in window.project.layers.values()} == {"wells", "pumps"}
    with zipfile.ZipFile(tmp_path / "both.zip", "w") as z:  # two data sets: which one?
        z.write(tmp_path / "wells.geojson", "tanks.geojson")
        z.write(tmp_path / "wells.geojson", "hydrants.geojson")
    offered = []

    def choose(_parent, _title, _label, names, *_rest):
        offered.extend(names)
        return "hydrants.geojson", True

    monkeypatch.setattr("citydesk.workbench.gui.main_window.QInputDialog.getItem", choose)
    _drop(window, [tmp_path / "both.zip"])
    qtbot.waitUntil(lambda: "hydrants" in window.project.layers, timeout=30_000)
    assert offered == ["tanks.geojson", "hydrants.geojson"]
    asked = []
    monkeypatch.setattr(window, "ask_unsaved", lambda: asked.append(1) or "discard")
    _drop(window, [demo_copy])
    qtbot.waitUntil(lambda: window.project.name.startswith("Cambridge"), timeout=60_000)
    assert asked == [1]  # the two added layers were not saved: the user was asked first


def test_a_dropped_file_geodatabase_asks_which_layer(qtbot, tmp_path, monkeypatch):
    """A .gdb folder dropped from the file manager (or a file picked inside it in Add
    layer, since a file dialog cannot pick a folder) is the geodatabase: which layer?"""
    parcels = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=shapely.points([24.9, 24.95], [60.1, 60.2]), crs=4326
    )
    gdb = tmp_path / "city.gdb"
    parcels.to_file(gdb, layer="parcels", driver="OpenFileGDB")
    parcels.to_file(gdb, layer="hydrants", driver="OpenFileGDB")
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    offered = []

    def choose(_parent, _title, _label, names, *args):
        offered.append(list(names))
        return "hydrants", True

    monkeypatch.setattr("citydesk.workbench.gui.main_window.QInputDialog.getItem", choose)
    _drop(window, [gdb])
    qtbot.waitUntil(lambda: window.project is not None and "hydrants" in window.project.layers)
    window.add_layer_asking(str(gdb / "gdb"))  # the file Add layer's dialog lets one pick
    qtbot.waitUntil(lambda: len(window.project.layers) == 2, timeout=30_000)
    assert offered == [["parcels", "hydrants"], ["parcels", "hydrants"]]


def test_a_cad_drawing_added_to_the_demo_asks_which_layer_and_lands_in_cambridge(
    qtbot, tmp_path, monkeypatch, demo_copy
):
    """A planning department's DXF added to the Cambridge project: the workbench asks which
    CAD layer, gives the drawing (which has no CRS) the project's CRS its coordinates fit,
    and draws the parcels where they are (screenshot looked at)."""
    from pathlib import Path

    from test_cad_drawings import DRAWING
    from test_gui_workbench import open_window

    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    offered = []

    def choose(_parent, _title, _label, names, *args):
        offered.append(list(names))
        return "地块 (polygons)", True

    monkeypatch.setattr("citydesk.workbench.gui.main_window.QInputDialog.getItem", choose)
    before = len(window.project.layers)
    window.add_layer_asking(str(DRAWING))
    qtbot.waitUntil(lambda: len(window.project.layers) == before + 1, timeout=30_000)
    assert offered == [["地块 (polygons)", "注记 (points)", "绿地 (polygons)", "道路 (lines)"]]
    layer = window.project.layers["di_kuai_polygons"]
    assert layer.crs is not None and layer.crs.to_epsg() == 2249
    window.canvas.zoom_to_extent(layer.extent)
    qtbot.wait(300)
    window.grab().save(str(Path(tmp_path) / "cad.png"))
