"""The workbench window, driven offscreen through pytest-qt, with screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from PyQt5.QtCore import QPointF, QSettings, Qt

from citydesk.workbench.gui.main_window import MainWindow

pytestmark = pytest.mark.gui
SHOTS = Path(os.environ.get("CITYDESK_SCREENSHOTS", "/tmp/citydesk-screenshots"))


def open_window(qtbot, settings_file, project=None, size=(1280, 820)) -> MainWindow:
    """A shown main window with its own settings file, the project loaded and drawn."""
    win = MainWindow(QSettings(str(settings_file), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    if project is not None:
        win.open_project(str(project))
        qtbot.waitUntil(lambda: win.project is not None, timeout=30_000)
        qtbot.waitUntil(lambda: not win.canvas.is_rendering(), timeout=30_000)
    return win


@pytest.fixture()
def window(qtbot, tmp_path, demo_copy):
    return open_window(qtbot, tmp_path / "settings.ini", demo_copy)


def _shot(widget, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    assert widget.grab().save(str(path))
    return path


def test_opens_the_demo_and_draws_it(window):
    assert window.project.name.startswith("Cambridge")
    assert window.layer_tree.topLevelItemCount() == 6  # the six groups
    image = window.canvas.grab_map()
    assert not image.isNull()
    # the map is not blank: plenty of non-white pixels
    colors = {
        image.pixel(x, y) for x in range(0, image.width(), 23) for y in range(0, image.height(), 23)
    }
    assert len(colors) > 20
    assert "2249" in window.crs_label.text()
    # the first map read only the columns it draws with (issue 22): the parcels' land-use
    # style field, none of their other 19 columns
    parcels = window.project.layers["parcels"]
    held = parcels.held_features
    assert held is not None and list(held.table.columns) == [parcels.style.field]
    assert len(parcels.fields) > 10
    _shot(window, "main_window_demo.png")


def test_toggle_visibility_and_reorder(window, qtbot):
    item = window.layer_tree.layer_item("parcels")
    item.setCheckState(0, Qt.Unchecked)
    assert not window.project.layers["parcels"].visible
    assert "parcels" not in [lyr.id for lyr in window.project.drawing_order()]
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    item.setCheckState(0, Qt.Checked)
    group = item.parent()
    zoning = window.layer_tree.layer_item("zoning_districts")
    group.removeChild(zoning)
    group.insertChild(0, zoning)
    window.layer_tree.sync_project_from_widget()
    order = window.project.layer_order()
    assert order.index("zoning_districts") < order.index("parcels")


def test_pan_and_zoom_move_the_view(window, qtbot):
    canvas = window.canvas
    before = canvas.current_view().extent
    canvas.zoom_by(2.0, QPointF(canvas.width() / 2, canvas.height() / 2))
    after = canvas.current_view().extent
    assert (after[2] - after[0]) == pytest.approx((before[2] - before[0]) / 2)
    canvas.pan_pixels(100, 0)
    moved = canvas.current_view().extent
    assert moved[0] < after[0]
    qtbot.waitUntil(lambda: not canvas.is_rendering(), timeout=30_000)
    _shot(window, "main_window_zoomed.png")


def test_recent_projects_persist(window, demo_copy):
    assert window.recent_projects()[0] == str(demo_copy)


def test_chinese_interface(qtbot, tmp_path, demo_copy):
    from PyQt5.QtWidgets import QApplication

    from citydesk.workbench.gui.i18n import install_translator

    install_translator(QApplication.instance(), "zh_CN")
    try:
        settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
        win = MainWindow(settings)
        qtbot.addWidget(win)
        assert win.layers_dock.windowTitle() == "图层"
    finally:
        install_translator(QApplication.instance(), "en")


def test_create_window_opens_the_users_demo_copy(qtbot):
    from citydesk.workbench.gui.app import create_window

    win = create_window(None, lang="en")
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.project is not None, timeout=30_000)
    assert "parcels" in win.project.layers
    assert win.project.path.endswith("cambridge_demo.gpkg")


def test_gui_stays_responsive_while_a_project_loads(qtbot, tmp_path, demo_copy):
    """The event loop keeps running (timers fire) while the project loads in a worker."""
    from PyQt5.QtCore import QTimer

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    win.open_project(str(demo_copy))
    qtbot.waitUntil(lambda: win.project is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not win.canvas.is_rendering(), timeout=30_000)
    timer.stop()
    assert len(ticks) >= 5


def test_bad_files_show_in_the_message_bar_and_the_app_keeps_running(window, qtbot, tmp_path):
    import broken_inputs as bi

    window.add_layer(str(bi.truncated_gpkg(tmp_path)))
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=30_000)
    assert "re-export" in window.message_bar.label.text()
    window.message_bar.hide()
    layers_before = len(window.project.layers)
    window.add_layer(str(bi.mixed_geometry_geojson(tmp_path)))
    qtbot.waitUntil(lambda: len(window.project.layers) == layers_before + 1, timeout=30_000)
    assert window.message_bar.isVisible()
    assert "data problems found" in window.message_bar.label.text()
    _shot(window, "message_bar.png")


def _plain_gpkg(tmp_path):
    """A GeoPackage with two of the demo's layers that is not a CityDesk project (as a
    department's export would be)."""
    import pyogrio
    from broken_inputs import demo_layer

    out = tmp_path / "boundaries.gpkg"
    pyogrio.write_dataframe(demo_layer("city_boundary"), out, layer="city_boundary")
    pyogrio.write_dataframe(demo_layer("neighborhoods"), out, layer="hoods_export", append=True)
    return out


def test_opening_a_non_project_reports_it(window, qtbot, tmp_path):
    window.open_project(str(_plain_gpkg(tmp_path)))
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=30_000)
    assert "not a CityDesk project" in window.message_bar.label.text()
    assert window.project.name.startswith("Cambridge")  # the open project is untouched


def _click(qtbot, canvas, x: float, y: float, modifier=Qt.NoModifier):
    from PyQt5.QtCore import QPoint

    p = canvas.to_pixel(QPointF(x, y))
    qtbot.mouseClick(canvas, Qt.LeftButton, modifier, QPoint(round(p.x()), round(p.y())))


def test_identify_a_known_cambridge_parcel(window, qtbot):
    parcels = window.project.layers["parcels"]
    row = parcels.data[parcels.data["ML"] == "127-123"].iloc[0]  # 23 Rockwell St
    pt = parcels.in_crs(window.project.crs).loc[row.name].geometry.representative_point()
    window.canvas.zoom_to_extent(pt.buffer(300).bounds)
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    window.set_active_layer("parcels")
    window.tool_actions["identify"].trigger()
    _click(qtbot, window.canvas, pt.x, pt.y)
    _layer_name, fid, attrs = window.identify_panel.results[0]
    assert attrs["address"] == "23 ROCKWELL ST" and attrs["ML"] == "127-123"
    assert fid == row.name
    assert window.selection.ids("parcels") == {row.name}
    assert window.canvas.highlight  # drawn on the map
    _shot(window, "identify.png")


def test_box_select_matches_geopandas_and_the_table_follows(window, qtbot):
    import shapely
    from PyQt5.QtCore import QPoint

    canvas = window.canvas
    window.set_active_layer("parcels")
    window.tool_actions["select"].trigger()
    w, h = canvas.width(), canvas.height()
    a, b = QPoint(int(w * 0.45), int(h * 0.45)), QPoint(int(w * 0.55), int(h * 0.55))
    qtbot.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, b)
    pa, pb = canvas.to_map(QPointF(a)), canvas.to_map(QPointF(b))
    box = shapely.box(
        min(pa.x(), pb.x()), min(pa.y(), pb.y()), max(pa.x(), pb.x()), max(pa.y(), pb.y())
    )
    frame = window.project.layers["parcels"].in_crs(window.project.crs)
    expected = set(frame.index[frame.intersects(box)])
    assert window.selection.ids("parcels") == expected and len(expected) > 20
    table = window.open_attribute_table("parcels")
    selected_rows = {i.row() for i in table.view.selectionModel().selectedRows()}
    assert len(selected_rows) == len(expected)
    # Shift adds a second box
    c, d = QPoint(int(w * 0.2), int(h * 0.2)), QPoint(int(w * 0.25), int(h * 0.25))
    qtbot.mousePress(canvas, Qt.LeftButton, Qt.ShiftModifier, c)
    qtbot.mouseMove(canvas, d)
    qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.ShiftModifier, d)
    assert window.selection.ids("parcels") > expected
    _shot(window, "box_select_table.png")


def test_attribute_table_filter_selected_only_and_export(window, qtbot, tmp_path):
    import geopandas as gpd

    table = window.open_attribute_table("parcels")
    table.filter_edit.setText("land_use = 'vacant' AND land_value_usd > 500000")
    table.apply_filter()
    data = window.project.layers["parcels"].data
    expected = data[(data.land_use == "vacant") & (data.land_value_usd > 500000)]
    assert table.model.rowCount() == len(expected) > 0
    table.filter_edit.setText("land_value_usd >")  # malformed: a message, not a crash
    table.apply_filter()
    assert "expected a field" in table.status.text()
    table.filter_edit.setText("")
    table.apply_filter()
    # select through the selection model: QTableView.selectRow honours keyboard modifiers,
    # and an earlier test's synthetic Shift can linger in QApplication's modifier state
    from PyQt5.QtCore import QItemSelectionModel

    table.view.selectionModel().select(
        table.model.index(0, 0), QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows
    )
    assert window.selection.count("parcels") == 1  # table -> map
    assert window.canvas.highlight
    table.selected_only.setChecked(True)
    assert table.model.rowCount() == 1
    out = table.export_selection(str(tmp_path / "sel.gpkg"))
    assert len(gpd.read_file(out)) == 1
    csv = table.export_selection(str(tmp_path / "sel.csv"))
    assert "wkt" in csv.read_text().splitlines()[0]
    import openpyxl  # a workbook for the clerk: the feature id and the shape as WKT too

    book = openpyxl.load_workbook(table.export_selection(str(tmp_path / "sel.xlsx")))
    rows = list(book.active.values)
    assert len(rows) == 2 and "wkt" in rows[0] and str(rows[1][-1]).startswith(("POLYGON", "MULTI"))


def test_measure_in_metres_on_a_feet_crs(window, qtbot):
    from PyQt5.QtCore import QPoint

    canvas = window.canvas
    window.tool_actions["measure"].trigger()
    a, b = QPoint(100, 300), QPoint(500, 300)
    qtbot.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, b)
    qtbot.mouseClick(canvas, Qt.RightButton, Qt.NoModifier, b)
    length, _area = window.last_measure
    pa, pb = canvas.to_map(QPointF(a)), canvas.to_map(QPointF(b))
    feet = abs(pb.x() - pa.x())
    assert length == pytest.approx(feet * 0.3048006096, rel=1e-6)


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_export_pdf_has_one_page_with_title_and_credits(window, qtbot, tmp_path):
    out = tmp_path / "map.pdf"
    window.export_map(str(out), dpi=150)
    qtbot.waitUntil(lambda: out.exists() and window.tasks.active() == 0, timeout=60_000)
    assert out.read_bytes().startswith(b"%PDF")
    assert _pdf_pages(out) == 1


def _pdf_pages(path) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_style_graduated_by_land_value(window, qtbot, tmp_path):
    from citydesk.layers.project_store import load_project, save_project

    dialog = window.style_dialog("parcels", run=False)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("graduated"))
    dialog.field.setCurrentText("land_value_usd")
    dialog.method.setCurrentIndex(dialog.method.findData("jenks"))
    dialog.classes.setValue(6)
    dialog.label_field.setCurrentIndex(dialog.label_field.findData("address"))
    # the classes are built off the GUI thread; the newest request's answer is shown
    qtbot.waitUntil(lambda: dialog.classes_list.count() == 6, timeout=30_000)
    style = dialog.current_style()
    assert style is dialog.style  # already built: OK does not compute again
    assert style.kind == "graduated" and len(style.classes) == 6
    assert style.label_field == "address" and style.method == "jenks"
    assert dialog.classes_list.count() == 6
    assert dialog.figure.axes, "the histogram of the breaks is drawn"
    dialog.grab().save(str(SHOTS / "style_dialog.png"))
    window.apply_style(dialog)
    layer = window.project.layers["parcels"]
    assert layer.style.field == "land_value_usd" and layer.style.method == "jenks"
    assert layer.style.label_field == "address"
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    legend_items = window.legend.findItems("Parcels", Qt.MatchExactly)
    assert legend_items and legend_items[0].childCount() == 6
    _shot(window, "graduated_land_value.png")
    path = tmp_path / "styled.gpkg"
    save_project(window.project, path)
    again = load_project(path).layers["parcels"].style
    assert again.to_dict() == layer.style.to_dict()


def test_style_dialog_rejects_a_text_field_for_graduated(window, qtbot):
    dialog = window.style_dialog("parcels", run=False)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("graduated"))
    assert "address" not in [dialog.field.itemText(i) for i in range(dialog.field.count())]


def test_zoom_box_zoom_to_selection_and_opacity(window, qtbot):
    from PyQt5.QtCore import QPoint

    canvas = window.canvas
    before = canvas.current_view().extent
    window.tool_actions["zoom_box"].trigger()
    a, b = QPoint(300, 200), QPoint(500, 330)
    qtbot.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, b)
    after = canvas.current_view().extent
    assert (after[2] - after[0]) < (before[2] - before[0]) / 3
    parcels = window.project.layers["parcels"]
    some = list(parcels.data.index[:3])
    window.selection.set("parcels", some)
    window.zoom_to_selection()
    x0, y0, x1, y1 = canvas.current_view().extent
    sel = parcels.in_crs(window.project.crs).loc[some].total_bounds
    assert x0 <= sel[0] and y0 <= sel[1] and x1 >= sel[2] and y1 >= sel[3]
    window.layer_tree.set_opacity("parcels", 40)
    assert parcels.opacity == pytest.approx(0.4)


def test_labels_and_hillshade_are_drawn(qtbot, tmp_path, demo_copy):
    import numpy as np

    from citydesk.layers.demo import SHIPPED_SF_DEM
    from citydesk.layers.project_store import load_project
    from citydesk.workbench.gui.geometry_cache import build_cache
    from citydesk.workbench.gui.renderer import CancelToken, View, feature_colors, render_raster
    from citydesk.workbench.gui.renderer import render_vector as rv

    project = load_project(demo_copy)
    hoods = project.layers["neighborhoods"]
    assert hoods.style.label_field == "NAME"
    frame = hoods.in_crs(project.crs)
    cache = build_cache(frame.geometry.values, "polygon")
    view = View(frame.total_bounds, 800, 600)
    with_labels = rv(hoods, cache, feature_colors(hoods, frame), view, CancelToken())
    hoods.style.label_field = None
    without = rv(hoods, cache, feature_colors(hoods, frame), view, CancelToken())
    assert with_labels != without  # the text changes pixels
    dem = load_project(SHIPPED_SF_DEM).layers["sf_dem"]
    assert dem.style.hillshade
    image = render_raster(dem, View(dem.extent, 373, 928), CancelToken())
    ptr = image.bits()
    ptr.setsize(image.sizeInBytes())
    px = np.frombuffer(ptr, dtype=np.uint32)
    alpha = px >> 24
    assert (alpha == 0).any(), "nodata is transparent"
    assert len(np.unique(px[alpha > 0])) > 500  # shaded relief, not flat colour classes


@pytest.mark.slow
def test_event_loop_keeps_running_while_500k_features_render(qtbot, tmp_path):
    """The GUI thread never blocks on rendering: timers fire while 500k polygons draw."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from broken_inputs import demo_layer
    from PyQt5.QtCore import QTimer

    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.project import Project

    base = demo_layer("parcels").to_crs(2249)
    base = base[~base.geometry.is_empty]
    geoms = base.geometry.values
    w = base.total_bounds[2] - base.total_bounds[0]
    offsets = [np.array([i * w * 1.05, 0.0]) for i in range(int(np.ceil(500_000 / len(geoms))))]
    tiles = [shapely.transform(geoms, lambda c, off=off: c + off) for off in offsets]
    big = gpd.GeoDataFrame(
        {"v": np.arange(500_000) % 7}, geometry=np.concatenate(tiles)[:500_000], crs=2249
    )
    project = Project("big", crs="EPSG:2249")
    project.add_layer(VectorLayer(name="big", data=big))
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    win.set_project(project)
    qtbot.waitUntil(
        lambda: win.canvas._composed is not None and not win.canvas.is_rendering(), timeout=120_000
    )
    timer.stop()
    assert len(ticks) >= 5, "the event loop stalled while rendering"


def test_polygon_select_and_area_measure(window, qtbot):
    import shapely
    from PyQt5.QtCore import QPoint

    canvas = window.canvas
    window.set_active_layer("parcels")
    window.tool_actions["select_polygon"].trigger()
    corners = [QPoint(400, 250), QPoint(600, 260), QPoint(560, 420), QPoint(420, 400)]
    for p in corners:
        qtbot.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, p)
        qtbot.mouseMove(canvas, p)
    qtbot.mouseClick(canvas, Qt.RightButton, Qt.NoModifier, corners[-1])
    ring = [canvas.to_map(QPointF(p)) for p in corners]
    poly = shapely.Polygon([(p.x(), p.y()) for p in ring])
    frame = window.project.layers["parcels"].in_crs(window.project.crs)
    expected = set(frame.index[frame.intersects(poly)])
    assert window.selection.ids("parcels") == expected and expected
    window.tool_actions["measure"].trigger()
    for p in corners:
        qtbot.mouseClick(canvas, Qt.LeftButton, Qt.NoModifier, p)
        qtbot.mouseMove(canvas, p)
    qtbot.mouseClick(canvas, Qt.RightButton, Qt.NoModifier, corners[-1])
    _length, area = window.last_measure
    assert area == pytest.approx(poly.area * 0.3048006096**2, rel=1e-6)


def test_long_task_can_be_canceled(window, qtbot):
    import time

    from citydesk.layers.feedback import check_canceled

    outcome = []

    def slow(feedback):
        for i in range(500):
            feedback.set_progress(i / 5)
            check_canceled(feedback)
            time.sleep(0.01)
        return "finished"

    task = window.tasks.start(
        "slow job", slow, on_done=outcome.append, on_canceled=lambda: outcome.append("canceled")
    )
    qtbot.waitUntil(lambda: window.tasks_dock.isVisible(), timeout=5_000)
    row = window.tasks._running[id(task)][1]
    qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=5_000)
    _shot(window, "task_dock.png")
    row.cancel_button.click()
    # acknowledged at once, before the task has stopped
    assert not row.cancel_button.isEnabled() and "cancelling" in row.label.text()
    qtbot.waitUntil(lambda: bool(outcome), timeout=10_000)
    assert outcome == ["canceled"] and window.tasks.active() == 0


def test_a_new_view_cancels_the_render_in_progress(window, qtbot):
    canvas = window.canvas
    canvas.zoom_by(1.5)
    canvas.refresh()
    first = list(canvas._tokens)
    canvas.zoom_by(1.5)
    canvas.refresh()
    assert first and all(token.canceled for token in first)
    qtbot.waitUntil(lambda: not canvas.is_rendering(), timeout=30_000)


def test_layout_persists_between_sessions(qtbot, tmp_path, demo_copy):
    ini = str(tmp_path / "layout.ini")
    win = MainWindow(QSettings(ini, QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    win.legend_dock.hide()
    win.close()
    again = MainWindow(QSettings(ini, QSettings.IniFormat))
    qtbot.addWidget(again)
    again.show()
    assert again.size().width() == 1000
    assert not again.legend_dock.isVisible()


def test_chinese_main_window_screenshot(qtbot, tmp_path, demo_copy):
    from PyQt5.QtWidgets import QApplication

    from citydesk.workbench.gui.i18n import install_translator

    install_translator(QApplication.instance(), "zh_CN")
    try:
        win = open_window(qtbot, tmp_path / "zh.ini", demo_copy)
        assert win.tool_actions["identify"].text() == "识别"
        assert win.menuBar().actions()[0].text() == "项目(&P)"
        _shot(win, "main_window_zh_CN.png")
    finally:
        install_translator(QApplication.instance(), "en")


def test_save_runs_as_a_task_and_adds_a_chosen_sublayer(window, qtbot, tmp_path):
    from citydesk.layers.project_store import load_project

    window.add_layer(str(_plain_gpkg(tmp_path)), "hoods_export")
    qtbot.waitUntil(lambda: "hoods_export" in window.project.layers, timeout=30_000)
    target = tmp_path / "saved.gpkg"
    window.project.path = str(target)
    window.save_project()
    qtbot.waitUntil(lambda: target.exists() and window.tasks.active() == 0, timeout=30_000)
    assert load_project(target).layers["hoods_export"].feature_count == 13
    assert window.recent_projects()[0] == str(target)


def test_the_log_panel_shows_what_the_loggers_say(window, qtbot):
    """View > Log: opening the project was logged by the domain (no print anywhere), and a
    warning from a worker thread arrives on the GUI thread."""
    import logging
    import threading

    window.log_dock.show()
    qtbot.waitUntil(lambda: "opened project" in window.log_panel.text(), timeout=10000)
    worker = threading.Thread(
        target=lambda: logging.getLogger("citydesk.tests").warning("from a worker thread")
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "from a worker thread" in window.log_panel.text(), timeout=5000)
    assert window.log_dock.toggleViewAction().text()
    _shot(window.log_dock, "log_panel.png")


def test_unsaved_changes_are_asked_about_and_save_as_writes_a_new_file(
    qtbot, tmp_path, demo_copy, monkeypatch
):
    """Closing with unsaved changes asks (Cancel keeps the window), Save as writes the
    project to a new file and counts as saved, New and Close leave an empty project."""
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    assert not window.is_modified()  # just opened and drawn
    window.project.layers["parcels"].opacity = 0.4
    assert window.is_modified()
    monkeypatch.setattr(window, "ask_unsaved", lambda: "cancel")
    window.close()
    assert window.isVisible()  # Cancel: still open, changes kept
    copy = tmp_path / "copy.gpkg"
    window.save_project(str(copy))
    qtbot.waitUntil(lambda: not window.is_modified(), timeout=30_000)
    assert window.project.path == str(copy)
    from citydesk.layers.project_store import load_project

    assert load_project(copy).layers["parcels"].opacity == 0.4
    window.project.layers["parcels"].opacity = 0.5
    monkeypatch.setattr(window, "ask_unsaved", lambda: "discard")
    window.close_project()
    assert not window.project.layers and not window.is_modified()
    assert load_project(copy).layers["parcels"].opacity == 0.4  # discarded, not saved


def test_style_dialog_ok_without_a_change_keeps_every_shipped_style(qtbot, demo_copy):
    """OK with no change once replaced the curated land-use palette and its bilingual labels
    with defaults: every layer of the shipped demo keeps its style through the dialog."""
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.project_store import load_project
    from citydesk.workbench.gui.style_dialog import StyleDialog

    project = load_project(demo_copy)
    checked = 0
    for layer in project.layers.values():
        if not isinstance(layer, VectorLayer):
            continue
        before, opacity = layer.style.to_dict(), layer.opacity
        dialog = StyleDialog(layer)
        qtbot.addWidget(dialog)
        shown = [dialog.classes_list.item(i).text() for i in range(dialog.classes_list.count())]
        entries = layer.style.classes or layer.style.categories
        assert shown == [e.label for e in entries], layer.id
        dialog.apply_to_layer()
        assert layer.style.to_dict() == before and layer.opacity == opacity, layer.id
        checked += 1
    assert checked >= 8
    parcels = project.layers["parcels"]
    dialog = StyleDialog(parcels)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("single"))  # a real change applies
    assert dialog.apply_to_layer().kind == "single" and parcels.style.kind == "single"


def _painted(image):
    """The colours (premultiplication undone) and alphas of an image's painted pixels."""
    import numpy as np

    ptr = image.bits()
    ptr.setsize(image.sizeInBytes())
    px = np.frombuffer(ptr, dtype=np.uint32)
    px = px[(px >> 24) > 0]
    alpha = (px >> 24) & 0xFF
    rgb = np.stack([(px >> k) & 0xFF for k in (16, 8, 0)], axis=1) * 255.0 / alpha[:, None]
    return rgb, alpha


def test_hollow_classes_never_draw_as_black_blocks(qtbot):
    """At city scale tiny features are drawn as pixel blocks; a hollow class (a Pareto plan's
    'keep', a scenario's unchanged parcels) drew them solid black (QColor('none') is
    invalid). With an outline, a tiny feature shows the outline's colour, as QGIS draws it
    (issue 22: the same picture); without one, its fill, and a hollow class nothing."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.style import Category, Style, Symbol
    from citydesk.workbench.gui.geometry_cache import build_cache
    from citydesk.workbench.gui.renderer import CancelToken, View, feature_colors
    from citydesk.workbench.gui.renderer import render_vector as rv

    boxes = [
        shapely.box(x * 100, y * 100, x * 100 + 20, y * 100 + 20)
        for x in range(40)
        for y in range(30)
    ]
    frame = gpd.GeoDataFrame({"use": ["keep", "housing"] * 600}, geometry=boxes, crs="EPSG:3857")
    categories = [
        Category("keep", "keep", Symbol(fill="none", stroke="#bbbbbb")),
        Category("housing", "housing", Symbol(fill="#e31a1c", stroke="#bbbbbb")),
    ]
    for stroke in ("#bbbbbb", "none"):
        style = Style(
            kind="categorized",
            field="use",
            categories=categories,
            symbol=Symbol(fill="none", stroke=stroke),
        )
        layer = VectorLayer(name="plan", data=frame, style=style)
        cache = build_cache(frame.geometry.values, "polygon")
        view = View(tuple(frame.total_bounds), 200, 150)  # 4,000 m on 200 px: tiny boxes
        image = rv(layer, cache, feature_colors(layer, frame), view, CancelToken())
        rgb, alpha = _painted(image)
        assert len(rgb) and (rgb.max(axis=1) > 100).all(), stroke  # no black
        if stroke == "none":  # the housing class; the hollow 'keep' draws nothing
            assert np.abs(rgb - [0xE3, 0x1A, 0x1C]).max() <= 3
        else:  # all outline at 1 px, as in QGIS
            assert np.abs(rgb - [0xBB, 0xBB, 0xBB]).max() <= 3
        assert (alpha > 0).all()


def test_a_tiny_feature_mixes_fill_and_outline_by_how_much_the_outline_covers(qtbot):
    """A 0.26 mm (1 px) outline covers most of a 2.5 px parcel: nearly the outline's
    colour, as QGIS draws it; a hairline (0.05 mm, the demo's) covers a third of it: the
    block stays nearer its fill (painting it the outline's grey made 45 % of 500,000 shared
    parcels' painted pixels differ from QGIS's picture)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.style import Style, Symbol
    from citydesk.workbench.gui.geometry_cache import build_cache
    from citydesk.workbench.gui.renderer import CancelToken, View, feature_colors
    from citydesk.workbench.gui.renderer import render_vector as rv

    boxes = [
        shapely.box(x * 100, y * 100, x * 100 + 50, y * 100 + 50)
        for x in range(40)
        for y in range(30)
    ]
    frame = gpd.GeoDataFrame({"k": range(len(boxes))}, geometry=boxes, crs="EPSG:3857")
    fill, stroke = np.array([0xF6, 0xD3, 0x6B]), np.array([0x7A, 0x7A, 0x7A])
    mean = {}
    for width in (0.26, 0.05):
        layer = VectorLayer(
            name="p",
            data=frame,
            style=Style(symbol=Symbol(fill="#f6d36b", stroke="#7a7a7a", stroke_width=width)),
        )
        cache = build_cache(frame.geometry.values, "polygon")
        view = View(tuple(frame.total_bounds), 200, 150)  # 20 m a pixel: 2.5 px boxes
        image = rv(layer, cache, feature_colors(layer, frame), view, CancelToken())
        rgb, _alpha = _painted(image)
        assert len(rgb) > 1000
        mean[width] = rgb.mean(axis=0)
    to_fill, to_stroke = (np.abs(mean[0.26] - c).sum() for c in (fill, stroke))
    assert to_stroke < to_fill / 4  # nearly all outline
    to_fill, to_stroke = (np.abs(mean[0.05] - c).sum() for c in (fill, stroke))
    assert to_fill < to_stroke  # mostly fill, some outline
    assert np.abs(mean[0.05] - fill).max() > 10  # but not the fill alone


def test_a_long_filter_error_wraps_instead_of_widening_the_window(window, qtbot):
    """A filter error once widened the window to 1962 px on a 1920 px screen."""
    width = window.width()
    table = window.open_attribute_table("parcels")
    table.filter_edit.setText(" AND ".join(f"no_such_field_{i} > {i}" for i in range(60)))
    table.apply_filter()
    qtbot.wait(50)
    assert table.status.text()  # the error is shown
    assert window.width() <= width
    assert window.minimumSizeHint().width() <= width


def test_attribute_table_shows_readable_numbers_and_whole_headers(window):
    from citydesk.workbench.gui.attribute_table import display_value

    assert display_value(3224.0001816) == "3,224.00"
    assert display_value(1500000.0) == "1,500,000" and display_value(0.000123456) == "0.0001235"
    assert display_value(250170) == "250170"  # codes keep their digits
    table = window.open_attribute_table("parcels")
    model, view = table.model, table.view
    metrics = view.fontMetrics()
    for col in range(model.columnCount()):
        header = str(model.headerData(col, 1))  # Qt.Horizontal
        assert view.columnWidth(col) >= min(320, metrics.horizontalAdvance(header)), header


def test_the_legend_follows_added_and_removed_layers(window, qtbot, tmp_path):
    import geopandas as gpd
    import shapely

    from citydesk.layers.io import write_frame

    def legend_names():
        return {
            window.legend.topLevelItem(i).text(0) for i in range(window.legend.topLevelItemCount())
        }

    path = tmp_path / "depots.gpkg"
    write_frame(
        gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(-71.1, 42.37)], crs=4326), path
    )
    window.add_layer(str(path))
    qtbot.waitUntil(lambda: "depots" in window.project.layers, timeout=30_000)
    assert "depots" in legend_names()
    window._remove_layer("depots")
    assert "depots" not in legend_names()


def test_identify_goes_top_down_through_the_visible_layers(window):
    """With no layer chosen, a click on a parcel under the crash points identifies the first
    visible layer that has a feature there, not "Nothing here" from the topmost layer."""
    project = window.project
    window.layer_tree.setCurrentItem(None)
    window.tool_actions["identify"].trigger()
    from citydesk.layers.selection import ids_at_point

    top = window.active_layer()  # the topmost visible vector layer: what identify used to ask
    tolerance = window.canvas.pick_tolerance()
    parcels = project.layers["parcels"].in_crs(project.crs)
    points = parcels.geometry.representative_point()
    point = next(
        p for p in points if not len(ids_at_point(top.in_crs(project.crs), p.x, p.y, tolerance))
    )
    found = window.identify_at(point.x, point.y)
    assert found is not None
    first = window.identify_panel.topLevelItem(0).text(0)
    assert first.startswith(found.name) and first != "Nothing here"
    visible = [i for i in project.layer_order() if project.is_visible(i)]
    assert found.id in visible


def test_swapped_coordinates_and_missing_layers_are_said_in_the_message_bar(
    qtbot, tmp_path, demo_copy
):
    """A CSV with latitude and longitude exchanged was added without a word, and a project
    with one missing layer table would not open at all (issue 21)."""
    import sqlite3

    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    swapped = tmp_path / "hydrants.csv"
    swapped.write_text("name,latitude,longitude\na,-71.11,42.37\nb,-71.10,42.38\n")
    window.add_layer(str(swapped))
    qtbot.waitUntil(lambda: "hydrants" in window.project.layers, timeout=30_000)
    assert window.message_bar.isVisible()
    assert "look swapped" in window.message_bar.label.text()
    window.close()
    con = sqlite3.connect(demo_copy)
    con.execute("DROP TABLE water_bodies")
    con.commit()
    con.close()
    again = open_window(qtbot, tmp_path / "settings2.ini", demo_copy)
    assert "parcels" in again.project.layers
    assert "water_bodies" in again.message_bar.label.text()
    _shot(again, "missing_layer_message.png")


def test_a_file_without_crs_gets_the_one_it_fits_and_the_bar_says_so(qtbot, tmp_path, demo_copy):
    """A shapefile without its .prj was drawn in the project's CRS without a word; in
    Massachusetts metres inside a project in feet it landed 2,000 km away."""
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame({"n": [1]}, geometry=[box(-71.12, 42.36, -71.10, 42.38)], crs=4326)
    path = tmp_path / "hydrants.shp"
    frame.to_crs(26986).to_file(path)
    path.with_suffix(".prj").unlink()
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    window.add_layer(str(path))
    qtbot.waitUntil(lambda: "hydrants" in window.project.layers, timeout=30_000)
    assert window.project.layers["hydrants"].crs.to_epsg() == 26986
    said = window.message_bar.label.text()
    assert "fit EPSG:26986" in said and "Add layer with options" in said
    assert "lies" not in said  # placed where it belongs: no far-away warning after it
    qtbot.wait(200)
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "no_crs_message.png")  # the block drawn over mid-Cambridge
    window.close()


def test_select_all_highlights_every_parcel_from_a_worker(window, qtbot):
    """Select all in the attribute table: the 13k parcels' Qt shapes are built on a worker
    (0.1 s on the GUI thread, issue 20), and the highlight arrives whole; a newer
    selection made meanwhile wins."""
    table = window.open_attribute_table("parcels")
    n = len(window.project.layers["parcels"].data)
    table.view.selectAll()
    assert window.selection.count("parcels") == n
    qtbot.waitUntil(lambda: len(window.canvas.highlight) >= n, timeout=30_000)
    first = window.project.layers["parcels"].data.index[0]
    window.selection.set("parcels", [first])
    assert 1 <= len(window.canvas.highlight) <= 3  # one parcel (its parts), at once
    qtbot.wait(300)
    assert len(window.canvas.highlight) <= 3  # the earlier, bigger answer did not land late


def test_a_big_selection_is_drawn_as_one_picture(window, qtbot):
    """All 13k parcels selected: the highlight is painted on a worker into a picture for
    the view (repainting 13k polygons on the GUI thread took 50-150 ms each time), and it
    shows where the parcels are, pan or not."""
    from citydesk.workbench.gui.map_canvas import BIG_HIGHLIGHT

    canvas = window.canvas
    table = window.open_attribute_table("parcels")
    table.view.selectAll()
    qtbot.waitUntil(lambda: len(canvas.highlight) > BIG_HIGHLIGHT, timeout=30_000)
    # the table's dock shrank the map: the picture follows the map's new view
    qtbot.waitUntil(
        lambda: (
            canvas._highlight_image is not None
            and canvas._highlight_image[0] == canvas.current_view()
        ),
        timeout=30_000,
    )
    view, picture = canvas._highlight_image
    parcels = window.project.layers["parcels"].in_crs(window.project.crs)
    point = parcels.geometry.iloc[len(parcels) // 2].representative_point()
    x0, _y0, _x1, y1 = view.extent
    px = int((point.x - x0) / view.units_per_pixel)
    py = int((y1 - point.y) / view.units_per_pixel)
    pixel = picture.pixelColor(px, py)
    assert pixel.alpha() > 0 and pixel.red() > 200 and pixel.blue() < 120  # the yellow fill
    shot = canvas.grab().toImage().pixelColor(px, py)
    assert shot.red() > 180 and shot.blue() < 160  # and the window shows it
    canvas.pan_pixels(40, 0)  # a new view: a new picture follows
    qtbot.waitUntil(
        lambda: (
            canvas._highlight_image is not None
            and canvas._highlight_image[0] == canvas.current_view()
        ),
        timeout=30_000,
    )
    _shot(window, "select_all_highlight.png")


def test_a_late_picture_of_an_older_view_does_not_replace_the_newer_one(window):
    """Two render workers: the picture asked for the view before a resize can finish after
    the one asked for the view after it (CI saw the map keep the older picture forever)."""
    from PyQt5.QtGui import QImage

    from citydesk.workbench.gui.map_canvas import BIG_HIGHLIGHT
    from citydesk.workbench.gui.renderer import View

    canvas = window.canvas
    shapes = [QPointF(i, i) for i in range(BIG_HIGHLIGHT + 1)]
    canvas.highlight = shapes
    canvas._highlight_image = None
    old = View((0.0, 0.0, 100.0, 100.0), 100, 100)
    new = View((0.0, 0.0, 80.0, 100.0), 80, 100)
    canvas._highlight_asked = new  # the newer request is the pending one
    canvas._on_highlight_done(shapes, new, QImage(80, 100, QImage.Format_ARGB32))
    canvas._on_highlight_done(shapes, old, QImage(100, 100, QImage.Format_ARGB32))
    assert canvas._highlight_image[0] == new
    # and the other order: the older picture fills in until the newer one arrives
    canvas._highlight_image, canvas._highlight_asked = None, new
    canvas._on_highlight_done(shapes, old, QImage(100, 100, QImage.Format_ARGB32))
    assert canvas._highlight_image[0] == old and canvas._highlight_asked == new
    canvas._on_highlight_done(shapes, new, QImage(80, 100, QImage.Format_ARGB32))
    assert canvas._highlight_image[0] == new and canvas._highlight_asked is None
    canvas.set_highlight([])


def test_the_projects_objects_leave_the_collectors_sight(window, qtbot):
    """Once the map has drawn, the project's objects are frozen out of full garbage
    collections (a full collection over them held the GIL 140-173 ms); opening another
    project lets them back in, so the old project can be freed."""
    import gc

    window.canvas.schedule_refresh()
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    frozen = gc.get_freeze_count()
    assert frozen > 50_000
    window.ask_unsaved = lambda: "discard"
    window.new_project()
    assert gc.get_freeze_count() < frozen


def test_an_added_file_is_checked_and_drawn_from_its_arrays(window, qtbot, tmp_path):
    """Adding a GIS file reads it into coordinate arrays, checks it and draws it without
    building its GeoDataFrame (issue 22: the 500k render's memory), in another CRS than the
    project's, and the picture is the one the GeoDataFrame gives."""
    from citydesk.layers.io import write_frame
    from citydesk.workbench.gui.renderer import CancelToken, View, prepare_vector, render_vector

    parcels = window.project.layers["parcels"].data.iloc[:3000].to_crs(4326)
    path = tmp_path / "parcels_lonlat.gpkg"
    write_frame(parcels, path)
    window.add_layer(str(path))
    qtbot.waitUntil(lambda: "parcels_lonlat" in window.project.layers, timeout=30_000)
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    layer = window.project.layers["parcels_lonlat"]
    assert layer.compact, "adding, checking and drawing the file built its GeoDataFrame"
    crs = window.project.crs
    x0, y0, x1, _y1 = layer.drawing_geometry(crs).total_bounds()
    view = View((x0, y0, x1, y0 + (x1 - x0) * 0.6), 500, 300)
    cache, colors, _labels = prepare_vector(layer, crs)
    from_arrays = render_vector(layer, cache, colors, view, CancelToken())
    assert layer.compact
    frame = layer.in_crs(crs)  # an analysis asks: now there is a GeoDataFrame
    cache, colors, _labels = prepare_vector(layer, crs, frame)
    from_frame = render_vector(layer, cache, colors, view, CancelToken())
    assert from_arrays == from_frame
    painted = {from_arrays.pixel(x, y) for x in range(0, 500, 7) for y in range(0, 300, 7)}
    assert len(painted) > 3
    _shot(window, "main_window_added_lonlat_parcels.png")
