"""Helsinki in the workbench (issue 18): the project built from the real OSM extract opens
and draws, the City setup shows what the city has and lacks, and a housing scenario runs
from the planning dock with its comparison in euros; screenshots of each."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from conftest import SHARED
from test_city_helsinki import SCENARIO
from test_gui_workbench import _shot, open_window

pytestmark = [pytest.mark.gui, pytest.mark.shared_data]
HELSINKI = SHARED / "helsinki_osm" / "Helsinki.osm.pbf"


def test_helsinki_opens_checks_and_plans_in_the_workbench(qtbot, tmp_path):
    if not HELSINKI.exists():
        pytest.skip("needs ../shared/data/helsinki_osm")
    from citydesk.layers.city_profile import profile_text, store_profile
    from citydesk.layers.osm_city import city_from_osm, write_city_project
    from citydesk.planning.scenario_store import save_scenario

    city = city_from_osm(HELSINKI, name="Helsinki", timezone="Europe/Helsinki", crs="EPSG:3067")
    project = write_city_project(city, tmp_path / "helsinki.gpkg", "Helsinki")
    store_profile(project, profile_text("helsinki"))
    save_scenario(project, SCENARIO)
    window = open_window(qtbot, tmp_path / "settings.ini", project, size=(1500, 950))
    assert {"streets", "landuse", "facilities"} <= set(window.project.layers)
    _shot(window, "helsinki_main_window.png")

    dialog = window.city_setup()
    qtbot.waitExposed(dialog)
    lines = {dialog.checks.item(i).text() for i in range(dialog.checks.count())}
    assert "Dispatch crews: ready" in lines
    assert "Zoning constraint: missing (no [layers.zoning])" in lines
    assert dialog.combos[("parcels", "layer")].currentText() == "landuse"
    _shot(dialog, "helsinki_city_setup.png")
    dialog.reject()

    panel = window.open_planning()
    assert panel.names() == ["homes"]
    panel.last_results = None
    panel.run_checked()
    qtbot.waitUntil(lambda: getattr(panel, "last_results", None) is not None, timeout=120_000)
    qtbot.waitUntil(lambda: "scenario_homes" in window.project.layers, timeout=60_000)
    panel = window.open_planning()
    panel.comparison = None
    panel.compare(["homes"])
    qtbot.waitUntil(lambda: panel.comparison is not None, timeout=60_000)
    units = {panel.model.index(r, 1).data() for r in range(panel.model.rowCount())}
    assert "EUR" in units and "USD" not in units
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "helsinki_planning.png")
