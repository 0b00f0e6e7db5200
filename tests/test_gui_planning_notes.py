"""The planning dock shows what a run said: the notes the command line prints (what the
city's data leaves out, costs in the wrong currency, a plan far past its target) were not
shown anywhere in the workbench. On the Madrid-style test city without its land values,
so it runs on a fresh clone; screenshot of the dock."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from moved_city import init_city
from spanish_city import SPEC
from test_gui_workbench import _shot, open_window

from citydesk.layers.city_init import profile_to_toml
from citydesk.layers.city_profile import parse_profile, store_profile

pytestmark = pytest.mark.gui

SCENARIO = """name = "viviendas"
schema = 2
kind = "allocate"
[targets]
housing_units = 150.0
[constraints]
max_changed_share = 0.3
"""


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_the_planning_dock_shows_the_runs_notes(qtbot, tmp_path):
    from citydesk.planning.scenario_store import save_scenario

    project, proposal = init_city(
        tmp_path, SPEC, "Madrid (ejemplo)", "--timezone", "Europe/Madrid", "--admin-code", "280796"
    )
    profile = parse_profile(proposal.read_text(encoding="utf-8"))
    profile.layers.parcels.land_value = None  # as an OSM city: no land values
    store_profile(project, profile_to_toml(profile))
    save_scenario(project, SCENARIO)
    window = open_window(qtbot, tmp_path / "settings.ini", project, size=(1400, 900))
    panel = window.open_planning()
    assert not panel.notes.isVisible()
    panel.check_only(["viviendas"])
    panel.last_results = None
    panel.run_checked()
    qtbot.waitUntil(lambda: getattr(panel, "last_results", None) is not None, timeout=120_000)
    text = panel.notes.toPlainText()
    assert panel.notes.isVisible()
    assert "homes for a target of 150: targets are floors" in text
    assert "set [planning] cost_per_m2 in EUR" in text
    assert "no land value ([layers.parcels] land_value)" in text
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "planning_notes.png")
