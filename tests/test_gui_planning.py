"""The planning dock (pytest-qt, offscreen): demo scenarios added, one edited through the
form (a bad value is refused with the field named), scenarios run through the task runner
into styled plan layers, compared, a preference recorded, and the report written."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from test_gui_workbench import _shot, open_window

pytestmark = pytest.mark.gui


@pytest.mark.slow
def test_planning_dock_end_to_end(qtbot, tmp_path, demo_copy):
    from citydesk.planning.scenario_store import decisions, load_scenario, scenario_history

    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy, size=(1600, 1000))
    panel = window.open_planning()
    panel.add_demo()
    assert panel.names() == ["baseline", "housing_first", "balanced"]

    # edit housing_first through the form: a bad TOML edit is refused, a good one stored
    panel.list.setCurrentRow(1)
    form = panel.edit(load_scenario(demo_copy, "housing_first"), exec_dialog=False)
    qtbot.addWidget(form)
    form.show()
    _shot(form, "scenario_form.png")
    form.toml.setPlainText(form.toml.toPlainText().replace('layer = "open_space"', 'layr = "x"'))
    form.accept()
    assert "facilities.park.layr" in form.error.text() and form.isVisible()
    form.toml.setPlainText(form.toml.toPlainText().replace('layr = "x"', 'layer = "open_space"'))
    form.housing.setValue(2500)
    assert form.homes_by_period.text() == "800, 2000, 3000"
    form.homes_by_period.setText("800, 2000, 2500")
    form.changed.setValue(20)
    form.accept()
    assert form.error.text() == "" or not form.isVisible()
    assert panel.save_form(form) == 2
    edited = load_scenario(demo_copy, "housing_first")
    assert edited.targets.housing_units == 2500 and edited.constraints.max_changed_share == 0.2
    assert edited.facilities["park"].layer == "open_space"  # the TOML tab kept the rest
    assert edited.phasing.housing_units == [800, 2000, 2500]
    assert len(scenario_history(demo_copy, "housing_first")) == 2

    # run all three (ticked by default); results come back as layers and a comparison
    panel.last_results = None
    panel.run_checked()
    qtbot.waitUntil(lambda: getattr(panel, "last_results", None) is not None, timeout=240_000)
    qtbot.waitUntil(lambda: "scenario_balanced" in window.project.layers, timeout=60_000)
    panel = window.open_planning()  # the project was reopened with the result layers
    layer = window.project.layers["scenario_balanced"]
    assert layer.style.kind == "categorized" and layer.style.field == "use"
    panel.comparison = None
    panel.compare(["baseline", "housing_first", "balanced"])  # made off the GUI thread
    qtbot.waitUntil(lambda: panel.comparison is not None, timeout=60_000)
    assert panel.model.rowCount() >= 10
    assert list(panel.comparison.columns[-3:]) == ["baseline", "housing_first", "balanced"]
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "planning_dock.png")
    panel.tabs.setCurrentIndex(1)
    _shot(panel, "planning_chart.png")

    # the optimizer's Pareto plans join the comparison (a plan layer written into the project)
    from citydesk.planning.landuse_front import save_plans

    balanced_plan = panel.last_results[2].plan
    save_plans(demo_copy, {"p1": balanced_plan, "p2": balanced_plan * 0}, "front")
    panel = window.open_planning()  # the combo lists the plan layers found in the project
    assert panel.front.findData("front_plan") >= 0
    panel.front.setCurrentIndex(panel.front.findData("front_plan"))
    panel.comparison = None
    panel.compare_checked()
    qtbot.waitUntil(lambda: getattr(panel, "comparison", None) is not None, timeout=120_000)
    assert {"front_plan:p1", "front_plan:p2"} <= set(panel.comparison.columns)
    assert panel.comparison.loc["parcels_changed", "front_plan:p2"] == 0
    panel.front.setCurrentIndex(0)

    panel.list.setCurrentRow(2)
    panel.prefer_selected("meets the targets with the fewest parcels changed")
    assert decisions(demo_copy)[-1].preferred == "balanced"
    assert "fewest parcels" in panel.decision.text()

    panel.list.setCurrentRow(2)
    panel.last_suitability = None
    panel.suitability_selected()
    qtbot.waitUntil(lambda: getattr(panel, "last_suitability", None) is not None, timeout=120_000)
    qtbot.waitUntil(lambda: "suitability_balanced" in window.project.layers, timeout=60_000)
    panel = window.open_planning()
    panel.list.setCurrentRow(2)
    panel.last_service_areas = None
    panel.service_areas("school", [400.0, 800.0])
    qtbot.waitUntil(lambda: getattr(panel, "last_service_areas", None) is not None, timeout=120_000)
    qtbot.waitUntil(lambda: "service_areas_school" in window.project.layers, timeout=60_000)
    assert len(window.project.layers["service_areas_school"].data) == 2
    panel = window.open_planning()
    panel.list.setCurrentRow(2)
    panel.check_only(["balanced"])  # the report runs what is ticked (three: the headless demo)
    panel.last_report = None
    panel.report(str(tmp_path / "report"))
    qtbot.waitUntil(lambda: getattr(panel, "last_report", None) is not None, timeout=240_000)
    assert (tmp_path / "report" / "report.pdf").exists()
    assert "Planning report written" in window.statusBar().currentMessage()
    assert window.message_bar.level == "done" and window.message_bar.isVisible()
    assert window.message_bar.folder == str(tmp_path / "report")
    assert "fewest parcels" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
