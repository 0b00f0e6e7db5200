"""The workbench window, driven offscreen through pytest-qt, with screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from PyQt5.QtCore import QPointF, QSettings, Qt

from workbench.gui.main_window import MainWindow

pytestmark = pytest.mark.gui
SHOTS = Path(os.environ.get("CITYDESK_SCREENSHOTS", "/tmp/citydesk-screenshots"))


@pytest.fixture()
def window(qtbot, tmp_path, demo_copy):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    win.open_project(str(demo_copy))
    qtbot.waitUntil(lambda: win.project is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not win.canvas.is_rendering(), timeout=30_000)
    return win


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

    from workbench.gui.i18n import install_translator

    install_translator(QApplication.instance(), "zh_CN")
    try:
        settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
        win = MainWindow(settings)
        qtbot.addWidget(win)
        assert win.layers_dock.windowTitle() == "图层"
    finally:
        install_translator(QApplication.instance(), "en")


def test_create_window_opens_the_users_demo_copy(qtbot):
    from workbench.gui.app import create_window

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


def test_opening_a_non_project_reports_it(window, qtbot):
    from conftest import BOUNDARIES

    window.open_project(str(BOUNDARIES))
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=30_000)
    assert "not a CityDesk project" in window.message_bar.label.text()
    assert window.project.name.startswith("Cambridge")  # the open project is untouched
