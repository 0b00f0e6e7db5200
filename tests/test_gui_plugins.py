"""Plugins in the workbench (pytest-qt, offscreen): a generated dialog for a plugin's
algorithm (layers filtered by geometry, fields following their layer, bad values refused),
the run through the task runner with its layer in the project, the history dock's re-run,
the plugin manager showing broken plugins, and a plugin command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from test_gui_workbench import _shot, open_window

pytestmark = pytest.mark.gui

HERE = Path(__file__).parent / "plugins"


def test_processing_dialog_run_history_and_manager(qtbot, tmp_path, demo_copy, monkeypatch):
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: HERE)
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy, size=(1400, 900))
    actions = window.plugin_actions
    menu_titles = [a.text() for a in window.menuBar().actions()]
    assert any("Processing" in t.replace("&", "") for t in menu_titles)

    dialog = actions.algorithm_dialog("noise:exposure", exec_dialog=False)
    qtbot.addWidget(dialog)
    dialog.show()
    roads = dialog.widgets["roads"]
    offered = [roads.itemData(i) for i in range(roads.count())]
    assert "street_centerlines" in offered and "parcels" not in offered  # lines only
    shown = roads.itemText(offered.index("street_centerlines"))
    name = window.project.layers["street_centerlines"].name
    assert shown.startswith(name)  # the name the user knows, the id only beside it
    parcels = dialog.widgets["parcels"]
    parcels.setCurrentIndex(parcels.findData("parcels"))
    fields = dialog.widgets["units_field"]
    assert fields.findData("res_units_est") >= 0
    assert fields.currentData() == "res_units_est"
    _shot(dialog, "algorithm_dialog.png")
    dialog.widgets["road_filter"].setText("MajorRoad = 1")
    dialog.accept()
    assert dialog.values["distance"] == 50

    actions.last_result = None
    actions.run("noise:exposure", dialog.values)
    qtbot.waitUntil(lambda: actions.last_result is not None, timeout=120_000)
    qtbot.waitUntil(lambda: "noise_exposed_parcels" in window.project.layers, timeout=60_000)
    assert actions.last_result.outputs["parcels"] > 1000
    assert "parcels within 50 m" in window.statusBar().currentMessage()

    panel = actions.open_history()
    assert list(panel.frame["algorithm"]) == ["noise:exposure"]
    panel.view.selectRow(0)
    actions.last_result = None
    panel.rerun_selected()
    qtbot.waitUntil(lambda: actions.last_result is not None, timeout=120_000)
    qtbot.waitUntil(lambda: len(actions.open_history().frame) == 2, timeout=30_000)
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "processing_history.png")

    manager = actions.open_manager()
    qtbot.addWidget(manager)
    rows = {
        manager.table.item(r, 0).text(): manager.table.item(r, 2).text()
        for r in range(manager.table.rowCount())
    }
    assert rows["too-new"] == "needs another CityDesk"
    assert rows["missing-dependency"] == "missing Python packages"
    assert rows["bad_manifest"] == "invalid manifest"
    manager.table.selectRow(list(rows).index("too-new"))
    assert "needs CityDesk >=99" in manager.details.text()
    _shot(manager, "plugin_manager.png")
    manager.table.selectRow(list(rows).index("good-plugin"))
    manager._set(False)
    titles = [
        a.text() for m in actions.processing_menu.actions() if m.menu() for a in m.menu().actions()
    ]
    assert "Count features" not in titles and "Buffer" in titles  # menus rebuilt
    from citydesk.plugins.host import PluginHost

    assert PluginHost().plugin("good-plugin").status == "disabled"
    manager._set(True)

    record, contribution = actions.host.find("panels", "good:panel")
    dock = actions.open_panel(record, contribution)
    assert dock.widget().text().endswith("layers in the project")
    assert int(dock.widget().text().split()[0]) >= 10
    actions.run_command("good:hello")
    assert window.statusBar().currentMessage() == "hello from good-plugin"
    qtbot.waitUntil(lambda: window.tasks.active() == 0, timeout=60_000)


def test_processing_dialog_asks_before_replacing_a_layer(qtbot, monkeypatch):
    """The output field offers a new id; naming an existing layer asks first, and No keeps
    the dialog open with nothing run."""
    from citydesk.plugins.algorithms import algorithm_specs
    from citydesk.plugins.host import PluginHost
    from citydesk.workbench.gui.plugins.algorithm_dialog import AlgorithmDialog

    spec = algorithm_specs(PluginHost(entry_points=False))["citydesk:buffer"]
    layers = {"parcels": ("MultiPolygon", ["ml"]), "buffer_output": ("MultiPolygon", [])}
    dialog = AlgorithmDialog(spec, layers)
    qtbot.addWidget(dialog)
    assert dialog.widgets["output"].text() == "buffer_output_2"
    dialog.widgets["output"].setText("parcels")
    asked = []
    monkeypatch.setattr(dialog, "confirm_replace", lambda layer: asked.append(layer) or False)
    dialog.accept()
    assert asked == ["parcels"] and dialog.values is None and not dialog.overwrite
    monkeypatch.setattr(dialog, "confirm_replace", lambda layer: True)
    dialog.accept()
    assert dialog.values["output"] == "parcels" and dialog.overwrite
