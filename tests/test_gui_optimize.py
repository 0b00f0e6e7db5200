"""Siting fire stations from the workbench (pytest-qt, offscreen): the dialog builds the
spec, the run goes through the task runner, and the new sites come back as project layers."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from test_gui_workbench import _shot, open_window

pytestmark = pytest.mark.gui


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_site_two_stations_from_the_optimize_menu(qtbot, tmp_path, demo_with_cases):
    demo_copy = demo_with_cases  # the crash history in the case store: the demand
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy, size=(1400, 900))
    from citydesk.workbench.gui.optimize.siting_dialog import SitingDialog

    dialog = SitingDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    _shot(dialog, "siting_dialog.png")
    assert not dialog.radius.isEnabled()  # the p-median needs no service standard
    dialog.model.setCurrentIndex(dialog.model.findData("mclp"))
    assert dialog.radius.isEnabled()
    dialog.model.setCurrentIndex(dialog.model.findData("pmedian"))
    spec = dialog.spec()
    assert spec.model == "pmedian" and spec.add == 2
    dialog.close()

    window.last_siting = None
    window.site_stations(spec)
    qtbot.waitUntil(lambda: window.last_siting is not None, timeout=120_000)
    qtbot.waitUntil(lambda: "fire_stations_plus_2_sites" in window.project.layers, timeout=60_000)
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    result = window.last_siting
    assert result.after_mean_s < result.before_mean_s
    assert len(window.project.layers["fire_stations_plus_2_sites"].data) == 2
    assert "90th percentile" in window.statusBar().currentMessage()
    _shot(window, "siting_result.png")


@pytest.mark.slow
def test_landuse_front_from_the_optimize_menu(qtbot, tmp_path, demo_copy):
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy, size=(1500, 950))
    from citydesk.workbench.gui.optimize.front_dialog import FrontDialog

    dialog = FrontDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    _shot(dialog, "front_dialog.png")
    dialog.points.setValue(8)
    spec = dialog.spec()
    assert spec.objectives == ("economic", "social") and spec.budget == 3e8
    dialog.close()

    window.last_front = None
    window.landuse_front(spec)
    qtbot.waitUntil(lambda: window.last_front is not None, timeout=180_000)
    qtbot.waitUntil(lambda: "landuse_plan" in window.project.layers, timeout=60_000)
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    run = window.last_front
    assert len(run.front.points) >= 5
    view = window.front_dock.widget()
    assert view.model.rowCount() == len(run.front.points)
    metrics = view.table.fontMetrics()  # figures shown whole, not "871,286,..."
    for col in range(view.model.columnCount()):
        widest = max(
            metrics.horizontalAdvance(str(view.model.data(view.model.index(r, col))))
            for r in range(view.model.rowCount())
        )
        assert view.table.columnWidth(col) >= min(320, widest), col
    plans = window.project.layers["landuse_plan"].data
    assert {"plan_1", "plan_2"} <= set(plans.columns)
    qtbot.wait(300)
    _shot(window, "front_result.png")


@pytest.mark.slow
def test_a_front_with_neighbour_conflicts_from_the_optimize_menu(qtbot, tmp_path, demo_copy):
    """Three objectives at parcel scale (issue 25): chosen in the dialog, run within a time
    budget, shown as a chart coloured by the conflicts and a table with their column. The
    candidates are the underused parcels (the dialog's filter), as a planner narrows a front;
    the whole city's front is benchmarks/optimization.py's."""
    from dataclasses import replace

    from citydesk.optimization.solve import SolveOptions
    from citydesk.workbench.gui.optimize.front_dialog import FrontDialog

    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy, size=(1500, 950))
    dialog = FrontDialog(window)
    qtbot.addWidget(dialog)
    offered = [dialog.pair.itemData(i) for i in range(dialog.pair.count())]
    dialog.pair.setCurrentIndex(offered.index(("economic", "social", "compatibility")))
    dialog.points.setValue(4)
    dialog.where.setText("improvement_value_usd < 0.5 * land_value_usd")
    _shot(dialog, "front_dialog_filter.png")
    spec = replace(dialog.spec(), options=SolveOptions(time_limit=80))
    assert spec.objectives == ("economic", "social", "compatibility")
    assert spec.where == "improvement_value_usd < 0.5 * land_value_usd"
    dialog.close()

    window.last_front = None
    window.landuse_front(spec)
    qtbot.waitUntil(lambda: window.last_front is not None, timeout=240_000)
    run = window.last_front
    assert len(run.front.points) >= 2
    conflicts = run.table["compatibility"]
    assert conflicts.max() > conflicts.min()  # a trade-off in the conflicts too
    view = window.front_dock.widget()
    assert view.model.rowCount() == len(run.front.points)
    assert len(view.canvas.figure.axes) == 2  # the scatter and the conflicts' colour bar
    assert all(note in view.summary.text() for note in run.front.notes)  # gaps, time, data
    assert (run.table["gap"] <= 0.001).all()  # every plan proven within 0.1 %
    plans = window.project.layers["landuse_plan"].data  # every parcel, the others kept
    assert len(plans) == len(window.project.layers["parcels"].data)
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "front_conflicts.png")


def test_a_front_without_plans_is_shown_with_what_to_do(qtbot, tmp_path):
    """The time limit can end a front before any plan (a short budget on a large city): the
    view says so with the front's notes instead of failing on the empty table."""
    import pandas as pd
    from test_limit_counts_reading import _empty_front

    from citydesk.planning.landuse_front import FrontRun
    from citydesk.workbench.gui.optimize.front_view import FrontView

    view = FrontView(FrontRun(_empty_front(40.0), {}, pd.DataFrame([]), None))
    qtbot.addWidget(view)
    view.resize(700, 700)
    view.show()
    assert view.model.rowCount() == 0
    assert view.summary.text().startswith("No plan in 40 s: give the front more time.")
    assert "The time limit ended the front after 1 of 4 grid points." in view.summary.text()
    view.grab().save(str(tmp_path / "front_empty.png"))


def test_a_front_of_one_plan_says_plan_not_plans(qtbot):
    """When one plan is best for every objective the view and its chart say "1 plan"
    (they said "1 plans"); the table has its one row."""
    import numpy as np
    import pandas as pd

    from citydesk.optimization.pareto import ParetoFront, ParetoPoint
    from citydesk.optimization.solve import SolveOutcome, SolveStatus
    from citydesk.planning.landuse_front import FrontRun
    from citydesk.workbench.gui.optimize.front_view import FrontView

    outcome = SolveOutcome(SolveStatus.OPTIMAL, 5.0, 5.0, 0.2, "highs")
    point = ParetoPoint((5.0, 7.0), outcome, {"x_0_1": 1.0})
    front = ParetoFront(
        ("economic", "social"), ("max", "max"), [point], np.zeros((2, 2)), seconds=3
    )
    table = pd.DataFrame([{"plan": "plan_1", "status": "optimal", "gap": 0.0, "economic": 5.0,
                           "social": 7.0}])  # fmt: skip
    view = FrontView(FrontRun(front, {"plan_1": np.zeros(3, dtype=int)}, table, "one_plan"))
    qtbot.addWidget(view)
    view.resize(700, 700)
    view.show()
    assert view.model.rowCount() == 1
    assert view.summary.text().startswith("1 plan in 3 s, 1 proven within 0.1 %")
    assert view.canvas.figure.axes[0].get_title() == "Pareto front: 1 plan"
    _shot(view, "front_one_plan.png")


def test_the_dialogs_remember_what_was_entered_for_each_project(
    qtbot, tmp_path, demo_copy, monkeypatch
):
    import shutil

    from citydesk.workbench.gui.optimize.front_dialog import FrontDialog
    from citydesk.workbench.gui.optimize.siting_dialog import SitingDialog

    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    underused = "improvement_value_usd < 0.5 * land_value_usd"
    entries = {
        FrontDialog: lambda d: (d.points.setValue(5), d.where.setText(underused)),
        SitingDialog: lambda d: d.add.setValue(3),
    }
    answer = {"accept": True, "enter": True}

    def exec_(dialog):
        if answer["enter"]:
            entries[type(dialog)](dialog)
        return dialog.Accepted if answer["accept"] else dialog.Rejected

    monkeypatch.setattr(FrontDialog, "exec_", exec_)
    monkeypatch.setattr(SitingDialog, "exec_", exec_)
    fresh = window._ask_spec(FrontDialog)
    assert fresh.points == 5 and fresh.where == underused
    answer["enter"] = False  # opened again and accepted as it stands
    again = window._ask_spec(FrontDialog)
    assert again.points == 5 and again.where == underused and again.budget == fresh.budget
    assert window._ask_spec(SitingDialog).add == 2  # each dialog keeps its own
    answer.update(enter=True, accept=False)  # entered, then canceled: nothing is kept
    assert window._ask_spec(SitingDialog) is None
    answer.update(enter=False, accept=True)
    assert window._ask_spec(SitingDialog).add == 2

    # another project starts from the defaults (a filter names one project's fields)
    other = tmp_path / "other.gpkg"
    shutil.copyfile(demo_copy, other)
    window.open_project(str(other))
    qtbot.waitUntil(lambda: window.project is not None and window.project.path == str(other))
    spec = window._ask_spec(FrontDialog)
    assert spec.where == "" and spec.points == FrontDialog(window).points.value()
    # and a settings file edited by hand does not break the dialog: that value is the default
    for key in window.settings.allKeys():
        if key.startswith("optimize/FrontDialog/") and key.endswith("/points"):
            window.settings.setValue(key, "many")
    window.open_project(str(demo_copy))
    qtbot.waitUntil(lambda: window.project.path == str(demo_copy))
    edited = window._ask_spec(FrontDialog)
    assert edited.where == underused and edited.points == FrontDialog(window).points.value()
